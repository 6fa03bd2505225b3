// The last stage of a request: reading (or, for `stream`, preparing to read) the body of the
// final response under the call's limits, and building the Response around it.

import { type BodyLimits, ChunkReader } from "./_chunk_reader.ts";
import { decodeBody, pendingCodings } from "./_decode.ts";
import type { CallGuard } from "./_guard.ts";
import { ContentTooLargeError } from "./errors.ts";
import { NO_BODY_STATUS } from "./_status.ts";
import type { BodyKeeper, CacheOutcome } from "./transport/_sender.ts";
import { concat } from "./_bytes.ts";
import { type Response, responseFrom, type SentRequest } from "./response.ts";

const EMPTY = new Uint8Array(0);
/**
 * The largest Content-Length read in one go under a read `timeout`: a body this small comes in
 * one piece (a runtime reads 64 KiB at a time), so the read timeout bounds the whole of it.
 */
const ONE_PIECE = 64 * 1024;

/** How the final response arrived, for the Response built around it. */
export interface Arrived {
  raw: globalThis.Response;
  url: string;
  request: SentRequest;
  elapsed: number;
  history: Response[];
  /** What a cache did for this hop, or null. */
  cache: CacheOutcome | null;
}

/**
 * Lets go of a body that will not be read. An empty one (a redirect's, usually) is left alone:
 * the connection is free already, and on Bun touching `raw.body` builds a stream.
 */
export function discard(raw: globalThis.Response): void {
  if (raw.headers.get("content-length") === "0") return;
  raw.body?.cancel().catch(() => {});
}

/** A redirect or challenge response kept in `history`: its body is not read. */
export function hopResponse(arrived: Arrived): Response {
  discard(arrived.raw);
  return built(arrived, EMPTY, null);
}

/** The Response around what arrived, with its body or the reader of a streamed one. */
function built(arrived: Arrived, body: Uint8Array | null, reader: ChunkReader | null): Response {
  const { raw, url, request, elapsed, history, cache } = arrived;
  return responseFrom({ raw, url, request, elapsed, history, body, reader, cache });
}

/** The whole body, by the platform's fastest means (`bytes()` where it exists). */
function bytesOf(raw: globalThis.Response): Promise<Uint8Array> {
  return typeof raw.bytes === "function"
    ? raw.bytes()
    : raw.arrayBuffer().then((buffer) => new Uint8Array(buffer));
}

/** The Content-Length of `headers` when it is a plain number. */
export function contentLength(headers: Headers): number | null {
  const value = headers.get("content-length");
  if (value === null || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}

/**
 * The Response for the final hop, its body read (or, when `streamed`, ready to be read). The
 * call's guard is handed to the body reader of a streamed body, which then finishes it
 * (`guard.handedOff`); otherwise the caller finishes it. `runtimeDecoded` is false where the transport was asked
 * not to decode (Bun's `decompress`); `aborts` that the body is the runtime's, read under the
 * guard's signal, which a failure aborts.
 */
export function readBody(
  arrived: Arrived,
  guard: CallGuard,
  { limits, stream: streamed }: { limits: BodyLimits; stream: boolean },
  runtimeDecoded: boolean,
  aborts: boolean,
): Promise<Response> | Response {
  const { raw } = arrived;
  // `raw.body` is not touched on the common path: Bun builds a JS stream when it is read.
  if (arrived.request.method === "HEAD" || NO_BODY_STATUS.has(raw.status)) {
    return hopResponse(arrived);
  }
  const encoding = raw.headers.get("content-encoding");
  const codings = encoding === null ? null : pendingCodings(encoding, guard.info, runtimeDecoded);
  const held = arrived.cache?.body;
  if (held !== undefined && !streamed && codings === null) return heldBody(arrived, held, limits);
  // The whole body in one read where nothing needs counting chunk by chunk: the runtime's
  // `bytes()` is far cheaper than a stream reader (Deno reads it in one operation).
  if (!streamed && codings === null && limits.progress === null) {
    const length = encoding === null && (limits.maxBytes !== null || limits.readMs !== null)
      ? contentLength(raw.headers)
      : null;
    const counted = limits.maxBytes === null || (length !== null && length <= limits.maxBytes);
    const timed = limits.readMs === null || (length !== null && length <= ONE_PIECE);
    if (counted && timed) {
      return guard.race(bytesOf(raw), limits.readMs, "No data received", aborts).then(
        (bytes) => {
          const keep = arrived.cache?.keep;
          if (keep !== undefined && bytes.byteLength <= keep.limit) keep.whole(bytes.slice());
          return built(arrived, bytes, null);
        },
        (error) => {
          throw guard.wrap(error, "body");
        },
      );
    }
  }
  return readPieces(arrived, guard, limits, streamed, codings);
}

/**
 * A body the cache holds whole: taken as it is (a copy: the caller never holds stored bytes)
 * under the same limits as one read from the network.
 */
function heldBody(arrived: Arrived, held: Uint8Array, limits: BodyLimits): Response {
  const size = held.byteLength;
  if (limits.maxBytes !== null && size > limits.maxBytes) {
    throw new ContentTooLargeError(
      `Response body is larger than max_bytes (${limits.maxBytes} bytes): it is ${size}`,
      { request: arrived.request, response: hopResponse(arrived) },
    );
  }
  limits.progress?.(size, size);
  return built(arrived, held.slice(), null);
}

/** `body` as it is, its bytes (copies) given to `keep` once it ended: not when cancelled. */
function kept(body: ReadableStream<Uint8Array>, keep: BodyKeeper): ReadableStream<Uint8Array> {
  let chunks: Uint8Array[] | null = [];
  let size = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (chunks !== null && size > keep.limit) chunks = null;
        chunks?.push(chunk.slice());
        controller.enqueue(chunk);
      },
      flush() {
        if (chunks !== null) keep.whole(concat(chunks, size));
      },
    }),
  );
}

/** The body read piece by piece (counted, timed per piece, decoded here) or handed out unread. */
async function readPieces(
  arrived: Arrived,
  guard: CallGuard,
  limits: BodyLimits,
  streamed: boolean,
  codings: string[] | null,
): Promise<Response> {
  const { raw } = arrived;
  const encoding = raw.headers.get("content-encoding");
  // A body the cache holds is read from a copy of it (the rebuilt Response carries none).
  const held = arrived.cache?.body;
  const body = held === undefined ? raw.body : new globalThis.Response(held.slice()).body;
  if (body === null) return built(arrived, EMPTY, null);
  const length = encoding === null ? contentLength(raw.headers) : null;
  if (limits.maxBytes !== null && length !== null && length > limits.maxBytes) {
    const response = hopResponse(arrived);
    throw new ContentTooLargeError(
      `Response body is larger than max_bytes (${limits.maxBytes} bytes): ` +
        `Content-Length is ${length}`,
      { request: guard.info, response },
    );
  }
  const keep = arrived.cache?.keep ?? null;
  // A cache keeps the body as the transport gave it: what the module decodes, it keeps coded.
  const stream = codings === null
    ? body
    : decodeBody(keep === null ? body : kept(body, keep), codings);
  const reader = new ChunkReader(stream, guard, limits, length, codings === null ? keep : null);
  if (!streamed) return built(arrived, await reader.readAll(), null);
  guard.handedOff = true;
  return built(arrived, null, reader);
}
