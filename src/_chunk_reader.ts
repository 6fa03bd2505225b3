// Reads a response body chunk by chunk under the call's limits: the per-read timeout,
// `max_bytes` (counted after decompression), `progress`, and the call's deadline.

import { concat } from "./_bytes.ts";
import type { CallGuard } from "./_guard.ts";
import { ContentTooLargeError } from "./errors.ts";
import type { BodyKeeper } from "./transport/_sender.ts";

/** The most memory set aside ahead for a body, on the word of its Content-Length. */
const PREALLOCATE_MAX = 1024 * 1024;
/** The buffer for a read of a byte stream when no size was asked for. */
const BYOB_DEFAULT = 64 * 1024;

/** The limits one body is read under. */
export interface BodyLimits {
  /** Longest wait for the next chunk, in milliseconds. */
  readMs: number | null;
  /** Most bytes accepted. */
  maxBytes: number | null;
  /** Called after every chunk. */
  progress: ((loaded: number, total: number | null) => void) | null;
}

/** A body being read. Every failure is reported as a RequestError of the call. */
export class ChunkReader {
  #stream: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader | null = null;
  #guard: CallGuard;
  #limits: BodyLimits;
  #total: number | null;
  #loaded = 0;
  #finished = false;
  /** Reading a byte stream into buffers of the size asked for. */
  #byob = false;
  /** Where the body goes once read whole (an HTTP cache's), or null. */
  #keep: BodyKeeper | null;
  /** Copies of the chunks read so far, for `#keep`; null once it is over its limit. */
  #kept: Uint8Array[] | null = [];

  /**
   * @param stream The body stream.
   * @param guard The call the body belongs to.
   * @param limits The limits to read under.
   * @param total The expected length (Content-Length of an unencoded body), or null.
   * @param keep Where the body goes once read whole (copies of its chunks), or null.
   */
  constructor(
    stream: ReadableStream<Uint8Array>,
    guard: CallGuard,
    limits: BodyLimits,
    total: number | null,
    keep: BodyKeeper | null = null,
  ) {
    this.#stream = stream;
    this.#guard = guard;
    this.#limits = limits;
    this.#total = total;
    this.#keep = keep;
  }

  /** Bytes read so far. */
  get loaded(): number {
    return this.#loaded;
  }

  /**
   * The next chunk, or null at the end of the body; a chunk is handed over as soon as it has
   * arrived, in memory the caller may keep. With `size`, a byte stream (Deno's bodies) is read
   * into a fresh buffer of `size` bytes, so the chunk is no larger; other streams hand over the
   * runtime's chunks as they are.
   */
  async next(size?: number): Promise<Uint8Array | null> {
    if (this.#finished) return null;
    if (this.#reader === null && size !== undefined) {
      try {
        this.#reader = this.#stream.getReader({ mode: "byob" });
        this.#byob = true;
      } catch {
        // Not a byte stream: the runtime's own chunks.
      }
    }
    if (this.#byob) {
      const reader = this.#reader as ReadableStreamBYOBReader;
      return this.#take(await this.#read(reader.read(new Uint8Array(size ?? BYOB_DEFAULT))));
    }
    this.#reader ??= this.#stream.getReader();
    const reader = this.#reader as ReadableStreamDefaultReader<Uint8Array>;
    return this.#take(await this.#read(reader.read()));
  }

  /** Waits for one read, under the read timeout and the call's deadline. */
  async #read<T>(read: Promise<T>): Promise<T> {
    try {
      return await this.#guard.race(read, this.#limits.readMs, "No data received");
    } catch (error) {
      this.#abandon(error);
      throw this.#guard.wrap(error, "body");
    }
  }

  /** Counts what one read brought against the limits; null at the end of the body. */
  #take(result: ReadableStreamReadResult<Uint8Array>): Uint8Array | null {
    if (result.done) {
      this.#finished = true;
      this.#guard.finish();
      if (this.#keep !== null && this.#kept !== null) {
        this.#keep.whole(concat(this.#kept, this.#loaded));
      }
      return null;
    }
    const chunk = result.value;
    this.#loaded += chunk.byteLength;
    if (this.#keep !== null && this.#kept !== null) {
      // A copy: the reader may change the chunks it is handed.
      if (this.#loaded > this.#keep.limit) this.#kept = null;
      else this.#kept.push(chunk.slice());
    }
    const max = this.#limits.maxBytes;
    if (max !== null && this.#loaded > max) {
      const error = new ContentTooLargeError(
        `Response body is larger than max_bytes (${max} bytes)`,
        { request: this.#guard.info },
      );
      this.#abandon(error);
      throw error;
    }
    const progress = this.#limits.progress;
    if (progress !== null) {
      try {
        progress(this.#loaded, this.#total);
      } catch (error) {
        // The caller's own throw, to stop the download: it ends the transfer at once and
        // reaches the caller as it is.
        this.#abandon(error);
        throw error;
      }
    }
    return chunk;
  }

  /** Reads the rest of the body into one array (sized ahead when the length is known). */
  async readAll(): Promise<Uint8Array> {
    const total = this.#total;
    // A Content-Length is a claim, not a fact: set aside at most PREALLOCATE_MAX on its word
    // and grow as the bytes arrive (Bun touches every page of a fresh buffer, so 20 liars
    // claiming 256 MB each would otherwise cost 5 GB).
    if (total !== null && this.#loaded === 0 && total <= (this.#limits.maxBytes ?? Infinity)) {
      let buffer = new Uint8Array(Math.min(total, PREALLOCATE_MAX));
      let offset = 0;
      for (let chunk = await this.next(); chunk !== null; chunk = await this.next()) {
        const need = offset + chunk.byteLength;
        if (need > buffer.byteLength) {
          const grown = new Uint8Array(
            Math.min(Math.max(buffer.byteLength * 2, need), Math.max(total, need)),
          );
          grown.set(buffer.subarray(0, offset));
          buffer = grown;
        }
        buffer.set(chunk, offset);
        offset += chunk.byteLength;
      }
      return offset === buffer.byteLength ? buffer : buffer.subarray(0, offset);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (let chunk = await this.next(); chunk !== null; chunk = await this.next()) {
      chunks.push(chunk);
      size += chunk.byteLength;
    }
    return concat(chunks, size);
  }

  /** Stops reading and releases the connection. Safe to call at any time, more than once. */
  cancel(reason?: unknown): void {
    if (this.#finished) return;
    this.#abandon(reason);
  }

  #abandon(reason: unknown): void {
    this.#finished = true;
    (this.#reader ?? this.#stream).cancel(reason).catch(() => {});
    this.#guard.finish();
  }
}
