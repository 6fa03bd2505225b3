// What cli.ts prints: JSON re-indented (and colored for a terminal) token by token, so numbers
// and key order stay exactly as sent; event-stream lines; text with its control characters made
// visible for a terminal; byte sizes; and the progress bar of a download or an upload.

/** Every JSON token but strings, which `tokenize` scans itself. */
const TOKEN = /[{}[\],:]|true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;
const INDENT = "  ";
const RESET = "\x1b[0m";
const DIM = "\x1b[2m";
const COLORS = {
  key: "\x1b[34;1m",
  string: "\x1b[32m",
  number: "\x1b[36m",
  literal: "\x1b[35m",
} as const;

/**
 * What a terminal would act on rather than show: the C0 controls but tab and LF, a CR that does
 * not end a CRLF, DEL and the C1 controls (U+009B is a CSI to some terminals). ESC starts the
 * sequences that retitle a window (`ESC ] 0 ; ... BEL`) or clear it (`ESC [ 2 J`); a lone CR or
 * a backspace writes over what was shown.
 */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)/g;
/** The control characters a JSON string may hold unescaped: DEL and the C1 controls. */
const JSON_CONTROL = /[\x7f-\x9f]/g;

const hex = (char: string) => char.charCodeAt(0).toString(16).padStart(2, "0");

/**
 * `text` for a terminal: each control character (see `CONTROL`) written as a `\xNN` escape, so
 * that `ESC ] 0 ; t BEL` shows as `\x1b]0;t\x07` and does nothing. Tab, LF and CRLF stay.
 */
export function visible(text: string): string {
  return text.replace(CONTROL, (char) => `\\x${hex(char)}`);
}

/**
 * A body arriving in pieces, as text for a terminal: decoded as UTF-8 and made
 * {@linkcode visible}. A CR that ends a piece waits for the next one, which says whether it ends
 * a CRLF.
 */
export class VisibleText {
  #decoder = new TextDecoder();
  #cr = false;

  /** The text of the next bytes. */
  push(bytes: Uint8Array): string {
    return this.#show(this.#decoder.decode(bytes, { stream: true }), false);
  }

  /** The text of what is left at the end (U+FFFD for a cut-off character). */
  end(): string {
    return this.#show(this.#decoder.decode(), true);
  }

  #show(text: string, last: boolean): string {
    if (this.#cr) text = `\r${text}`;
    this.#cr = !last && text.endsWith("\r");
    return visible(this.#cr ? text.slice(0, -1) : text);
  }
}

/** Containers nested deeper than this are printed compact, so indentation cannot grow without bound. */
const MAX_INDENTED_DEPTH = 32;
/**
 * The pretty form may be at most this many times the size of the text, plus SLACK characters;
 * beyond that the text is printed as it came. Colors cost about 9 characters a token, so a wide
 * array of one-digit numbers comes to about 8 times its size.
 */
const MAX_GROWTH = 16;
const SLACK = 4096;

/**
 * The tokens of `text`, which must be valid JSON. Strings are found with `indexOf`, not a regular
 * expression: one that matches a string character by character overflows the regex stack on a
 * string of a few megabytes (Deno) or stops matching (Bun).
 */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  for (;;) {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
    if (i >= text.length) return tokens;
    if (text[i] !== '"') {
      TOKEN.lastIndex = i;
      const token = TOKEN.exec(text)![0];
      tokens.push(token);
      i += token.length;
      continue;
    }
    let end = text.indexOf('"', i + 1);
    for (;;) {
      let backslashes = 0;
      while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
      if (backslashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    tokens.push(text.slice(i, end + 1));
    i = end + 1;
  }
}

/**
 * `text` re-indented by two spaces, with ANSI colors when `color` is true; null when it is not
 * JSON or when the pretty form would be more than 16 times its size (print it as it came).
 * Values are copied token for token, never re-serialized, but for the control characters a
 * string may hold unescaped (DEL and the C1 controls), written as JSON's `\u00NN` escapes so that
 * a terminal shows them. Containers deeper than 32 levels are printed compact.
 */
export function formatJson(text: string, color: boolean): string | null {
  try {
    JSON.parse(text);
  } catch {
    // Not JSON, or nested deeper than the runtime's parser goes.
    return null;
  }
  const tokens = tokenize(text);
  const limit = text.length * MAX_GROWTH + SLACK;
  const paint = (kind: keyof typeof COLORS, token: string) =>
    color ? `${COLORS[kind]}${token}${RESET}` : token;
  const newline = (depth: number) => depth > MAX_INDENTED_DEPTH ? "" : `\n${INDENT.repeat(depth)}`;
  let out = "";
  let depth = 0;
  for (let i = 0; i < tokens.length && out.length <= limit; i++) {
    const token = tokens[i];
    const next = tokens[i + 1];
    switch (token) {
      case "{":
      case "[":
        if (next === (token === "{" ? "}" : "]")) {
          out += token + next;
          i++;
        } else {
          depth++;
          out += token + newline(depth);
        }
        break;
      case "}":
      case "]":
        out += (depth > MAX_INDENTED_DEPTH ? "" : newline(depth - 1)) + token;
        depth--;
        break;
      case ",":
        out += `,${newline(depth)}`;
        break;
      case ":":
        out += depth > MAX_INDENTED_DEPTH ? ":" : ": ";
        break;
      case "true":
      case "false":
      case "null":
        out += paint("literal", token);
        break;
      default:
        if (token.startsWith('"')) {
          const shown = token.replace(JSON_CONTROL, (char) => `\\u00${hex(char)}`);
          out += paint(next === ":" ? "key" : "string", shown);
        } else {
          out += paint("number", token);
        }
    }
  }
  return out.length <= limit ? out : null;
}

/**
 * One line of a `text/event-stream` as received, with the field name colored when `color` is
 * true and comments (lines starting with `:`) dimmed.
 */
export function formatEventLine(line: string, color: boolean): string {
  if (!color || line === "") return line;
  if (line.startsWith(":")) return `${DIM}${line}${RESET}`;
  const colon = line.indexOf(":");
  const name = colon < 0 ? line : line.slice(0, colon);
  return `${COLORS.key}${name}${RESET}${colon < 0 ? "" : line.slice(colon)}`;
}

/** `1234567` as `1.2 MB` (powers of 1000, as download tools show). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A one-line progress bar, redrawn in place at most ten times a second. */
export class ProgressBar {
  #write: (text: string) => void;
  #width: number;
  #started = performance.now();
  #drawn = 0;
  #loaded = 0;
  #total: number | null = null;

  /**
   * @param write Writes text to the terminal.
   * @param columns The terminal width.
   */
  constructor(write: (text: string) => void, columns: number) {
    this.#write = write;
    this.#width = Math.max(10, Math.min(40, columns - 45));
  }

  /** Records progress; redraws when the last drawing is old enough. */
  update(loaded: number, total: number | null): void {
    this.#loaded = loaded;
    this.#total = total;
    const now = performance.now();
    if (now - this.#drawn >= 100) {
      this.#drawn = now;
      this.#draw(now);
    }
  }

  /** Draws the final state and ends the line. */
  done(): void {
    this.#draw(performance.now());
    this.#write("\n");
  }

  #draw(now: number): void {
    const seconds = Math.max((now - this.#started) / 1000, 0.001);
    const rate = `${formatBytes(Math.round(this.#loaded / seconds))}/s`;
    const total = this.#total;
    let line: string;
    if (total !== null && total > 0) {
      const fraction = Math.min(this.#loaded / total, 1);
      const filled = Math.round(fraction * this.#width);
      line = `${(fraction * 100).toFixed(0).padStart(3)}% [${"#".repeat(filled)}${
        "-".repeat(this.#width - filled)
      }] ${formatBytes(this.#loaded)} of ${formatBytes(total)}  ${rate}`;
    } else {
      line = `${formatBytes(this.#loaded)}  ${rate}`;
    }
    this.#write(`\r${line}\x1b[K`);
  }
}
