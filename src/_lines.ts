// Text that arrives in pieces: decoded with one leading BOM dropped, and split into lines ended
// by CR, LF or CRLF in time linear in the text whatever the line lengths: each piece is scanned
// once with indexOf, and a line that spans pieces is kept as its parts and joined once.

const LF = 10;
const BOM = 0xfeff;
/** The encodings whose decoder drops a leading byte order mark. */
const BOM_ENCODINGS = new Set(["utf-8", "utf-16le", "utf-16be"]);

/**
 * A streaming `TextDecoder` that drops one byte order mark at the start of the stream and keeps
 * every later U+FEFF. Deno's decoder (2.x) also drops a BOM that opens a later piece of the
 * stream, so the decoder keeps every BOM and the one at the start is dropped here.
 */
export class StreamDecoder {
  #decoder: TextDecoder;
  #start: boolean;

  /** @param label The encoding; throws a RangeError for one `TextDecoder` does not know. */
  constructor(label: string) {
    this.#decoder = new TextDecoder(label, { ignoreBOM: true });
    this.#start = BOM_ENCODINGS.has(this.#decoder.encoding);
  }

  /** The text of the next bytes (a character split between pieces comes with the later one). */
  decode(bytes: Uint8Array): string {
    return this.#strip(this.#decoder.decode(bytes, { stream: true }));
  }

  /** The text of what is left at the end of the stream (U+FFFD for a cut-off character). */
  end(): string {
    return this.#strip(this.#decoder.decode());
  }

  #strip(text: string): string {
    if (!this.#start || text === "") return text;
    this.#start = false;
    return text.charCodeAt(0) === BOM ? text.slice(1) : text;
  }
}

/**
 * Lines out of text fed piece by piece. Feed a piece, then take its complete lines with
 * {@linkcode LineSplitter.next} until it returns null; {@linkcode LineSplitter.rest} gives the
 * unfinished last line at the end.
 */
export class LineSplitter {
  #text = "";
  #start = 0;
  #lf = -1;
  #cr = -1;
  /** The parts of a line that began in an earlier piece. */
  #parts: string[] = [];
  /** The last piece ended with a CR: an LF opening the next one is the rest of a CRLF. */
  #afterCr = false;

  /** Takes the next piece of text; the lines of the previous one must all have been taken. */
  feed(text: string): void {
    let start = 0;
    if (this.#afterCr && text.length > 0) {
      this.#afterCr = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    this.#text = text;
    this.#start = start;
    this.#lf = text.indexOf("\n", start);
    this.#cr = text.indexOf("\r", start);
  }

  /** The next complete line of the text fed so far, without its ending, or null. */
  next(): string | null {
    const text = this.#text;
    const start = this.#start;
    const lf = this.#lf;
    const cr = this.#cr;
    let end: number;
    if (lf !== -1 && (cr === -1 || lf < cr)) {
      end = lf;
      this.#start = lf + 1;
      this.#lf = text.indexOf("\n", lf + 1);
    } else if (cr !== -1) {
      // A CR ends its line at once; whether an LF follows is known now or with the next piece.
      end = cr;
      let after = cr + 1;
      if (after === text.length) {
        this.#afterCr = true;
      } else if (text.charCodeAt(after) === LF) {
        after++;
        this.#lf = text.indexOf("\n", after);
      }
      this.#start = after;
      this.#cr = text.indexOf("\r", after);
    } else {
      if (start < text.length) this.#parts.push(start === 0 ? text : text.slice(start));
      this.#text = "";
      this.#start = 0;
      return null;
    }
    const piece = text.slice(start, end);
    if (this.#parts.length === 0) return piece;
    this.#parts.push(piece);
    const line = this.#parts.join("");
    this.#parts.length = 0;
    return line;
  }

  /** The unfinished last line (text after the last line ending), or null when there is none. */
  rest(): string | null {
    if (this.#parts.length === 0) return null;
    const line = this.#parts.join("");
    this.#parts.length = 0;
    return line;
  }
}
