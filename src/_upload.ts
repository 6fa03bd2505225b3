/**
 * `upload_progress`: the request body as a pull-based stream of pieces that counts what the
 * transport takes. A piece is handed over only when the transport asks for one (highWaterMark
 * 0), so the count follows the upload rather than running ahead of it.
 *
 * @module
 */

import { RUNTIME } from "./_runtime.ts";

/** Called with the bytes handed to the transport so far and the body's size when known. */
export type UploadProgress = (sent: number, total: number | null) => void;

/** A body wrapped by {@linkcode countedBody}. */
export interface CountedBody {
  /** The stream to send instead of the body (with `duplex: "half"` for fetch). */
  body: ReadableStream<Uint8Array>;
  /** The body's size in bytes, or null for a stream of unknown length. */
  total: number | null;
}

/** Options of {@linkcode countedBody}. */
export interface CountedBodyOptions {
  /**
   * The size of a stream body when the caller knows it (a Content-Length it gave); ignored for
   * bodies whose size is known anyway.
   */
  total?: number | null;
}

/** The largest piece handed over at once: the count moves at least every 64 KiB. */
export const UPLOAD_PIECE = 64 * 1024;

const encoder = new TextEncoder();

/** The next piece of a body, or null at its end. */
type Pieces = {
  next(): Uint8Array | null | Promise<Uint8Array | null>;
  cancel(reason: unknown): Promise<void>;
};

/**
 * Wraps a request body in a stream that calls `progress(sent, total)` as each piece (at most
 * 64 KiB, views of the caller's bytes, never copies) is handed to the transport, and once more
 * when the body ends unless the last piece already reported `(total, total)`: the last call is
 * always `(n, n)` with `n` the bytes sent. A throw from `progress` errors the stream, which
 * fails the upload with that error.
 *
 * @example Count an upload sent with fetch
 * ```ts ignore
 * const { body, total } = countedBody(new Uint8Array(1 << 20), (sent, of) => {
 *   console.log(`${sent} of ${of}`);
 * });
 * await fetch("http://127.0.0.1:8000/upload", {
 *   method: "POST",
 *   body,
 *   headers: total === null ? {} : { "content-length": String(total) },
 *   duplex: "half",
 * } as RequestInit);
 * ```
 *
 * @param body The body as the core sends it: a string, `ArrayBuffer`, typed array or
 * `DataView`, `Blob`, `URLSearchParams` or `ReadableStream<Uint8Array>`.
 * @param progress The `upload_progress` callback.
 * @param options The size of a stream body, when known.
 * @returns The counting stream and the body's size.
 * @throws {TypeError} For a `FormData` body (the module sends multipart bodies it built itself,
 * whose boundary it knows) or anything that is not a body.
 */
export function countedBody(
  body: BodyInit,
  progress: UploadProgress,
  options: CountedBodyOptions = {},
): CountedBody {
  if (typeof progress !== "function") {
    throw new TypeError(
      `Option 'upload_progress' must be a function, got ${typeof progress}`,
    );
  }
  let pieces: Pieces;
  let total: number | null;
  if (body instanceof ReadableStream) {
    total = options.total ?? null;
    pieces = streamPieces(
      body.getReader() as ReadableStreamDefaultReader<Uint8Array>,
    );
  } else if (body instanceof Blob) {
    total = body.size;
    pieces = streamPieces(body.stream().getReader());
  } else {
    const bytes = bytesOf(body);
    total = bytes.byteLength;
    pieces = bytePieces(bytes);
  }
  return { body: countingStream(pieces, total, progress), total };
}

function bytesOf(body: BodyInit): Uint8Array {
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof URLSearchParams) return encoder.encode(body.toString());
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) {
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }
  if (typeof FormData !== "undefined" && body instanceof FormData) {
    throw new TypeError(
      "Option 'upload_progress' cannot count a FormData body: the module sends its own " +
        "multipart bodies (option 'files')",
    );
  }
  throw new TypeError(
    "Option 'upload_progress' needs a request body of a known kind",
  );
}

/** Views of `bytes`, one piece at a time. */
function bytePieces(bytes: Uint8Array): Pieces {
  let offset = 0;
  return {
    next() {
      if (offset >= bytes.byteLength) return null;
      const piece = bytes.subarray(offset, offset + UPLOAD_PIECE);
      offset += piece.byteLength;
      return piece;
    },
    cancel() {
      offset = bytes.byteLength;
      return Promise.resolve();
    },
  };
}

/** The chunks of a reader, those larger than a piece handed over in views of a piece each. */
function streamPieces(reader: ReadableStreamDefaultReader<Uint8Array>): Pieces {
  let pending: Uint8Array | null = null;
  let offset = 0;
  const split = (chunk: Uint8Array): Uint8Array => {
    if (chunk.byteLength <= UPLOAD_PIECE) return chunk;
    pending = chunk;
    offset = UPLOAD_PIECE;
    return chunk.subarray(0, UPLOAD_PIECE);
  };
  const read = async (): Promise<Uint8Array | null> => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return null;
      if (!(value instanceof Uint8Array)) {
        throw new TypeError(
          "Option 'upload_progress' needs a stream of Uint8Array chunks, got a chunk of " +
            (value === null ? "null" : typeof value),
        );
      }
      if (value.byteLength > 0) return split(value);
    }
  };
  return {
    next() {
      const rest: Uint8Array | null = pending;
      if (rest === null) return read();
      const piece = rest.subarray(offset, offset + UPLOAD_PIECE);
      offset += piece.byteLength;
      if (offset >= rest.byteLength) pending = null;
      return piece;
    },
    cancel(reason) {
      pending = null;
      return reader.cancel(reason);
    },
  };
}

function countingStream(
  pieces: Pieces,
  total: number | null,
  progress: UploadProgress,
): ReadableStream<Uint8Array> {
  let sent = 0;
  const deliver = (
    controller: ReadableStreamDefaultController<Uint8Array>,
    piece: Uint8Array | null,
  ) => {
    if (piece === null) {
      controller.close();
      // The last piece reported (total, total) already; otherwise the end tells the size.
      if (sent === 0 || sent !== total) progress(sent, sent);
      return;
    }
    sent += piece.byteLength;
    controller.enqueue(piece);
    progress(sent, total);
  };
  return new ReadableStream<Uint8Array>({
    // Synchronous when the piece is at hand: a pull that returns no promise is cheaper to call.
    pull(controller) {
      const next = pieces.next();
      if (next instanceof Promise) {
        return next.then((piece) => deliver(controller, piece));
      }
      deliver(controller, next);
    },
    cancel(reason) {
      return pieces.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

let browserStreams: boolean | undefined;

/**
 * Whether this runtime's fetch can send a `ReadableStream` body as it is produced (what
 * `upload_progress` needs). Deno, Bun, Node.js and workerd can (workerd sends it chunked, over
 * HTTP/1.1 too); a browser can when its Request takes `duplex: "half"` (Chromium 105+), and then
 * only over HTTP/2 or later, which browsers speak over https alone: for an `http:` URL it is false.
 *
 * @param url The URL the body goes to, when known.
 * @returns True when a stream body is streamed.
 */
export function canStreamUploads(url?: string | URL): boolean {
  if (RUNTIME === "deno" || RUNTIME === "bun" || RUNTIME === "node" || RUNTIME === "workerd") {
    return true;
  }
  if (RUNTIME !== "browser") return false;
  if (url !== undefined && String(url).slice(0, 5).toLowerCase() === "http:") {
    return false;
  }
  return browserStreams ??= requestTakesStreams();
}

/**
 * The feature test of Chromium's own documentation: a Request that reads `duplex` and does not
 * turn the stream into text (a `Content-Type` would show it did) streams request bodies.
 */
function requestTakesStreams(): boolean {
  let duplexRead = false;
  try {
    const request = new Request("https://localhost/", {
      method: "POST",
      body: new ReadableStream(),
      get duplex() {
        duplexRead = true;
        return "half";
      },
    } as RequestInit);
    return duplexRead && !request.headers.has("content-type");
  } catch {
    return false;
  }
}
