// Content-Encoding the runtime left in place: Deno decodes only a single gzip or br, and no
// runtime decodes stacked codings such as "gzip, gzip". Python requests decodes them, so the
// module finishes the job with DecompressionStream, under a cap on the number of codings.

import { ConnectionError, type RequestInfo } from "./errors.ts";

/** What each runtime's fetch decodes by itself when the coding is the only one. */
const RUNTIME_DECODES: ReadonlySet<string> = "Deno" in globalThis
  ? new Set(["gzip", "x-gzip", "br"])
  : new Set(["gzip", "x-gzip", "deflate", "br"]);
const SUPPORTED = new Set(["gzip", "x-gzip", "deflate"]);
/** More codings than this is an attack, not a server (urllib3 caps the chain the same way). */
const MAX_CODINGS = 5;

/**
 * The codings of `header` still applied to the body the runtime hands over, outermost last;
 * null when there are none the module can undo (unknown codings are left as received).
 */
export function pendingCodings(header: string | null, request: RequestInfo): string[] | null {
  if (header === null) return null;
  const codings = header.toLowerCase().split(",").map((c) => c.trim()).filter((c) =>
    c !== "" && c !== "identity"
  );
  if (codings.length === 0 || (codings.length === 1 && RUNTIME_DECODES.has(codings[0]))) {
    return null;
  }
  if (codings.length > MAX_CODINGS) {
    throw new ConnectionError(
      `Refused a body with ${codings.length} stacked Content-Encodings (at most ${MAX_CODINGS})`,
      { request },
    );
  }
  return codings.every((c) => SUPPORTED.has(c)) ? codings : null;
}

/** A stream that inflates zlib-wrapped or raw deflate, whichever the first byte shows. */
function inflate(): TransformStream<Uint8Array, Uint8Array> {
  let inner: DecompressionStream | null = null;
  let writer: WritableStreamDefaultWriter<BufferSource> | null = null;
  let pump: Promise<void> | null = null;
  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      if (chunk.byteLength === 0) return;
      if (inner === null) {
        // A zlib header: CM = 8 in the low nibble, and the first two bytes a multiple of 31.
        const zlib = chunk.byteLength > 1 && (chunk[0] & 0x0f) === 8 &&
          ((chunk[0] << 8) | chunk[1]) % 31 === 0;
        inner = new DecompressionStream(zlib ? "deflate" : "deflate-raw");
        writer = inner.writable.getWriter();
        pump = (async () => {
          for await (const out of inner!.readable) controller.enqueue(out);
        })();
        pump.catch(() => {}); // reported by write() or flush()
      }
      await writer!.write(chunk as Uint8Array<ArrayBuffer>);
    },
    async flush() {
      await writer?.close();
      await pump;
    },
  });
}

/** `body` with `codings` undone, innermost last. */
export function decodeBody(
  body: ReadableStream<Uint8Array>,
  codings: readonly string[],
): ReadableStream<Uint8Array> {
  let stream = body;
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i];
    stream = stream.pipeThrough(
      coding === "deflate"
        ? inflate()
        : new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  return stream;
}
