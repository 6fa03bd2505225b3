// Content-Encoding the runtime left in place: Deno and workerd decode only a single gzip or br,
// and neither they nor Bun decode stacked codings such as "gzip, gzip". Python requests decodes
// them, so the module finishes the job there with DecompressionStream, under a cap on the number
// of codings.

import { ConnectionError, type RequestInfo } from "./errors.ts";
import { RUNTIME } from "./_runtime.ts";

/** What each runtime's fetch decodes by itself when the coding is the only one. */
const RUNTIME_DECODES: ReadonlySet<string> = RUNTIME === "deno" || RUNTIME === "workerd"
  ? new Set(["gzip", "br"])
  : new Set(["gzip", "x-gzip", "deflate", "br"]);
/**
 * Deno and workerd decode a coding only when the header names it alone: beside an "identity" or
 * an empty member ("identity, gzip", "gzip,") they leave it to the module. Bun decodes it there.
 */
const ALONE_ONLY = RUNTIME === "deno" || RUNTIME === "workerd";
/**
 * Node's fetch (undici) and browsers decode a whole chain when they know every member of it,
 * and none of it otherwise (an "identity" or an empty member included); undici refuses more
 * than five codings.
 */
const CHAIN_DECODES: ReadonlySet<string> | null = RUNTIME === "node" || RUNTIME === "browser"
  ? new Set(["gzip", "x-gzip", "deflate", "br"])
  : null;
const SUPPORTED = new Set(["gzip", "x-gzip", "deflate"]);
/**
 * When the transport decoded nothing (Bun's `decompress: false`, node:http), the codings it
 * asked for: on Bun br too, since Bun's DecompressionStream hands brotli output over in 64 KB
 * chunks as it is read; Deno's would inflate a whole slice of a bomb at once, so there br is
 * never asked for and a br body is left as it came.
 */
const SUPPORTED_RAW = RUNTIME === "bun" ? new Set([...SUPPORTED, "br"]) : SUPPORTED;
/** More codings than this is an attack, not a server (urllib3 caps the chain the same way). */
const MAX_CODINGS = 5;

/**
 * The codings of `header` still applied to the body the runtime hands over, outermost last;
 * null when there are none the module can undo (unknown codings are left as received).
 * `runtimeDecoded` is false when fetch was asked not to decode anything (Bun's `decompress`).
 */
export function pendingCodings(
  header: string | null,
  request: RequestInfo,
  runtimeDecoded = true,
): string[] | null {
  if (header === null) return null;
  const listed = header.toLowerCase().split(",").map((c) => c.trim());
  if (runtimeDecoded && CHAIN_DECODES !== null && listed.every((c) => CHAIN_DECODES.has(c))) {
    return null;
  }
  const codings = listed.filter((c) => c !== "" && c !== "identity");
  if (
    codings.length === 0 ||
    (runtimeDecoded && CHAIN_DECODES === null && codings.length === 1 &&
      RUNTIME_DECODES.has(codings[0]) && (listed.length === 1 || !ALONE_ONLY))
  ) {
    return null;
  }
  if (codings.length > MAX_CODINGS) {
    throw new ConnectionError(
      `Refused a body with ${codings.length} stacked Content-Encodings (at most ${MAX_CODINGS})`,
      { request },
    );
  }
  const supported = runtimeDecoded ? SUPPORTED : SUPPORTED_RAW;
  return codings.every((c) => supported.has(c)) ? codings : null;
}

/**
 * The most compressed bytes handed to a decompressor at once. Deflate inflates at most about
 * 1032:1 and DecompressionStream turns each input chunk into one output chunk, so a whole
 * network chunk of a bomb would become hundreds of MB at once, whatever `max_bytes` says
 * (urllib3 CVE-2025-66471); a slice stays under 9 MB.
 */
const SLICE = 8192;

/** Cuts chunks into SLICE-byte views; the pipe behind it pulls them one at a time. */
function slices(): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (let i = 0; i < chunk.byteLength; i += SLICE) {
        controller.enqueue(chunk.subarray(i, i + SLICE));
      }
    },
  });
}

/** `stream` through a DecompressionStream, a slice at a time, only as fast as it is read. */
function decompress(stream: ReadableStream<Uint8Array>, format: CompressionFormat) {
  return stream.pipeThrough(slices()).pipeThrough(
    new DecompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
}

/** `body` inflated as zlib-wrapped or raw deflate, whichever its first two bytes show. */
function inflate(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let inflated: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (inflated === null) {
        let first = await reader.read();
        while (!first.done && first.value.byteLength === 0) first = await reader.read();
        if (first.done) return controller.close();
        const chunk = first.value;
        // A zlib header: CM = 8 in the low nibble, and the first two bytes a multiple of 31.
        const zlib = chunk.byteLength > 1 && (chunk[0] & 0x0f) === 8 &&
          ((chunk[0] << 8) | chunk[1]) % 31 === 0;
        const rest = new ReadableStream<Uint8Array>({
          start: (c) => c.enqueue(chunk),
          async pull(c) {
            const next = await reader.read();
            if (next.done) c.close();
            else c.enqueue(next.value);
          },
          cancel: (reason) => reader.cancel(reason),
        }, { highWaterMark: 0 });
        inflated = decompress(rest, zlib ? "deflate" : "deflate-raw").getReader();
      }
      const { done, value } = await inflated.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => (inflated ?? reader).cancel(reason),
  }, { highWaterMark: 0 });
}

/** `body` with `codings` undone, innermost last; nothing is inflated before it is read. */
export function decodeBody(
  body: ReadableStream<Uint8Array>,
  codings: readonly string[],
): ReadableStream<Uint8Array> {
  let stream = body;
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i];
    stream = coding === "deflate"
      ? inflate(stream)
      : decompress(stream, coding === "br" ? "brotli" as CompressionFormat : "gzip");
  }
  return stream;
}
