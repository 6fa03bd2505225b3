/**
 * The {@linkcode Response} returned by every request: the seed's members (`status_code`,
 * `reason`, `encoding`, `headers`, `content`, `json()`) decoded lazily, plus the streaming and
 * convenience members of Python `requests`.
 *
 * @module
 */

import type { ChunkReader } from "./_chunk_reader.ts";
import { blockValues } from "./_headers.ts";
import { parseLinks } from "./_links.ts";
import { responseCookies } from "./cookies/jar.ts";
import {
  clip,
  HTTPError,
  JSONDecodeError,
  type RequestErrorOptions,
  type RequestInfo,
} from "./errors.ts";
import { reasonOf, reasonPhrase } from "./_status.ts";
import type { CacheOutcome } from "./transport/_sender.ts";
import { checkSchema, validate, validateNow } from "./_validate.ts";
import type { StandardSchemaOutput, StandardSchemaV1 } from "./standard_schema.ts";

const DEFAULT_ENCODING = "utf-8";
/** The line and event-stream parsers, loaded by the first iteration that needs them. */
let lineParsing: Promise<typeof import("./_lines.ts")> | undefined;
let eventStream: Promise<typeof import("./_event_stream.ts")> | undefined;
const NO_REQUEST: SentRequest = Object.freeze({
  method: "",
  url: "",
  headers: Object.freeze(Object.create(null)),
});
const EMPTY = new Uint8Array(0);
const NON_ASCII = /[\u0080-\uffff]/;
/** A line of JSON whitespace only (CR and LF never remain in a line). */
const BLANK = /^[ \t]*$/;
const encoder = new TextEncoder();
const decoders = new Map<string, TextDecoder>();

/** A shared decoder for `label`; throws a RangeError for a label `TextDecoder` does not know. */
function decoderFor(label: string): TextDecoder {
  let decoder = decoders.get(label);
  if (decoder === undefined) {
    decoder = new TextDecoder(label);
    if (decoders.size < 64) decoders.set(label, decoder);
  }
  return decoder;
}

/** The `charset` of a Content-Type value, when `TextDecoder` knows it. */
function charsetOf(contentType: string | null): string | null {
  // A charset is a parameter: no ";", no regular expression to run.
  if (contentType === null || !contentType.includes(";")) return null;
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const label = match?.[1] ?? match?.[2];
  if (!label) return null;
  try {
    decoderFor(label);
    return label;
  } catch {
    return null;
  }
}

/** Latin-1 text (a header ByteString) back to the bytes it stands for. */
function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** One entry of {@linkcode Response.links}: the target and the parameters of a `Link` value. */
export interface Link {
  /** The target URL, as sent. */
  url: string;
  /** Every other parameter (`rel`, `title`, ...), unquoted. */
  [param: string]: string;
}

/**
 * One event of a `text/event-stream` body, as {@linkcode Response.iter_events} and `events()`
 * yield it: the fields of a `MessageEvent` that EventSource would dispatch, and the stream's
 * reconnection time.
 */
export interface ServerSentEvent {
  /** The event type: the `event` field, or `"message"` when the block had none. */
  event: string;
  /** The `data` fields of the block, joined by `"\n"`. */
  data: string;
  /** The last event ID in force (the latest `id` field, here or earlier), `""` when none. */
  id: string;
  /**
   * The reconnection time in force, in milliseconds: the latest valid `retry` field of the
   * stream up to this event (here or in an earlier block, also one that fired no event), or null
   * while the stream has set none.
   */
  retry: number | null;
}

/**
 * What was sent on the hop that produced a response, as {@linkcode Response.request} shows it.
 * Credential values are masked.
 */
export interface SentRequest extends RequestInfo {
  /** The header fields sent, lower-cased; `Authorization`, `Proxy-Authorization`, `Cookie` and
   * the `sensitive_headers` show `"***"` in place of their values. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * @internal How a response arrived: what the request machinery builds a Response around, never
 * users.
 */
export interface Arrival {
  /** The native response; null where it cannot hold the status (the sync API builds those). */
  raw: globalThis.Response | null;
  url: string;
  request: SentRequest;
  elapsed: number;
  history: Response[];
  /** The body, or null while a streamed body waits in `reader`. */
  body: Uint8Array | null;
  reader: ChunkReader | null;
  /** What a cache did for this response, or null (no cache in use). */
  cache?: CacheOutcome | null;
  /** Without `raw`: the status. */
  status?: number;
  /** Without `raw`: the header block, as the seed's constructor takes it. */
  headerBlock?: string;
  /** Without `raw`: the reason phrase. */
  reason?: string;
}

/**
 * @internal A Response around what arrived.
 *
 * @param arrival The native response, its body or reader, and how it came.
 * @returns The response.
 */
export function responseFrom(arrival: Arrival): Response {
  return new (Response as unknown as new (arrival: Arrival) => Response)(arrival);
}

/**
 * An HTTP response. Returned by every request; also constructible for tests and mocks with the
 * seed's signature.
 *
 * The header block and the body are decoded only when read, with {@linkcode Response.encoding},
 * and cached until the encoding changes.
 *
 * @example A response built by hand
 * ```ts
 * import { Response } from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const r = new Response(200, "OK", "content-type: application/json", '{"id": 1}');
 * assert.equal(r.status_code, 200);
 * assert.deepEqual(r.json(), { id: 1 });
 * ```
 */
export class Response {
  /** The HTTP status code. */
  status_code: number;
  /** The reason phrase: the server's, or the standard one for the code where none was given. */
  reason: string;
  /** The final URL, with credentials removed. `""` for a response built by hand. */
  url = "";
  /** The redirect responses that led here, oldest first. */
  history: Response[] = [];
  /** Seconds from sending the request to the arrival of the response headers. */
  elapsed = 0;
  /**
   * True when an HTTP cache (the `cache` option) produced this response: served from a stored
   * entry (fresh or stale), revalidated against one by a 304, or its own `only-if-cached` 504.
   */
  from_cache = false;
  /**
   * The cache's RFC 9211 `Cache-Status` value for this response (e.g. `"requests; hit; ttl=58"`),
   * or null when no cache was in use (and for its `only-if-cached` 504).
   */
  cache_status: string | null = null;
  #raw: globalThis.Response | null = null;
  #request: SentRequest = NO_REQUEST;
  #requestView: SentRequest | undefined;
  #headerInit: string | Uint8Array | null;
  #encoding: string | null = null;
  #body: Uint8Array | null;
  #contentInit: string | null = null;
  #reader: ChunkReader | null = null;
  #headersCache: string | null = null;
  #headersCacheEncoding = "";
  #contentCache: string | null = null;
  #contentCacheEncoding = "";

  /**
   * Builds a response by hand (for tests and mocks).
   *
   * @param code The HTTP status code.
   * @param reason The reason phrase; `""` takes the standard one for the code.
   * @param headers The header block, `name: value` lines joined by CRLF, as text or bytes.
   * @param content The body, as text (kept as given) or bytes (decoded with `encoding`).
   */
  constructor(
    code: number,
    reason: string,
    headers?: Uint8Array | string | null,
    content?: Uint8Array | string | null,
  );
  constructor(
    code: number | Arrival,
    reason?: string,
    headers: Uint8Array | string | null = null,
    content: Uint8Array | string | null = null,
  ) {
    if (typeof code === "object") {
      const raw = code.raw;
      const status = raw?.status ?? code.status ?? 0;
      this.status_code = status;
      this.reason = reasonOf(status, (raw === null ? code.reason : raw.statusText) ?? "");
      this.#headerInit = code.headerBlock ?? null;
      this.#raw = raw;
      this.#body = code.body;
      this.#reader = code.reader;
      this.#request = code.request;
      this.url = code.url;
      this.elapsed = code.elapsed;
      this.history = code.history;
      if (code.cache != null) {
        this.from_cache = code.cache.fromCache;
        this.cache_status = code.cache.status;
      }
      return;
    }
    if (!Number.isInteger(code) || code < 0 || code > 999) {
      throw new TypeError(`Invalid 'code': expected an integer status code, got ${String(code)}`);
    }
    if (typeof reason !== "string") throw new TypeError("Invalid 'reason': expected a string");
    if (headers !== null && typeof headers !== "string" && !(headers instanceof Uint8Array)) {
      throw new TypeError("Invalid 'headers': expected a string, Uint8Array or null");
    }
    if (content !== null && typeof content !== "string" && !(content instanceof Uint8Array)) {
      throw new TypeError("Invalid 'content': expected a string, Uint8Array or null");
    }
    this.status_code = code;
    this.reason = reason || reasonPhrase(code);
    this.#headerInit = headers;
    if (typeof content === "string") {
      this.#contentInit = content;
      this.#body = null;
    } else {
      this.#body = content ?? EMPTY;
    }
  }

  /**
   * What was sent on the hop that produced this response: method, URL (credentials redacted) and
   * the header fields, with the values of credentials shown as `"***"` (Python's `r.request`).
   * Empty for a response built by hand.
   */
  get request(): SentRequest {
    const sent = this.#request;
    return this.#requestView ??= sent === NO_REQUEST
      ? sent
      : Object.freeze({ method: sent.method, url: sent.url, headers: sent.headers });
  }

  /** The platform's native `Response` of the last hop, or null for one built by hand. */
  get raw(): globalThis.Response | null {
    return this.#raw;
  }

  /** True when `status_code` is below 400 (as in Python `requests`). */
  get ok(): boolean {
    return this.status_code < 400;
  }

  /**
   * The text encoding used by `headers`, `content`, `text` and `iter_lines()`. Defaults to the
   * `charset` of Content-Type when `TextDecoder` knows it, else `"utf-8"`.
   */
  get encoding(): string {
    return this.#encoding ??= charsetOf(this.#header("content-type")) ?? DEFAULT_ENCODING;
  }

  /** Sets the encoding; a label `TextDecoder` does not know throws a RangeError at once. */
  set encoding(label: string) {
    if (typeof label !== "string") {
      throw new TypeError("Invalid 'encoding': expected a string such as \"utf-8\"");
    }
    try {
      decoderFor(label);
    } catch (cause) {
      throw new RangeError(`Unknown encoding ${JSON.stringify(clip(label))}`, { cause });
    }
    this.#encoding = label;
  }

  /**
   * The header block: one `name: value` line per field joined by CRLF, no status line and no
   * trailing CRLF. Each `Set-Cookie` is its own line.
   */
  get headers(): string {
    const encoding = this.encoding;
    if (this.#headersCache !== null && this.#headersCacheEncoding === encoding) {
      return this.#headersCache;
    }
    let text: string;
    if (this.#raw !== null) {
      let block = "";
      for (const [name, value] of this.#raw.headers) {
        block += block === "" ? `${name}: ${value}` : `\r\n${name}: ${value}`;
      }
      text = NON_ASCII.test(block) ? decoderFor(encoding).decode(latin1Bytes(block)) : block;
    } else if (this.#headerInit instanceof Uint8Array) {
      text = decoderFor(encoding).decode(this.#headerInit);
    } else {
      text = this.#headerInit ?? "";
    }
    this.#headersCache = text;
    this.#headersCacheEncoding = encoding;
    return text;
  }

  /** The body decoded with `encoding`; undecodable bytes become U+FFFD. */
  get content(): string {
    if (this.#contentInit !== null) return this.#contentInit;
    const encoding = this.encoding;
    if (this.#contentCache !== null && this.#contentCacheEncoding === encoding) {
      return this.#contentCache;
    }
    const text = decoderFor(encoding).decode(this.#buffered("content"));
    this.#contentCache = text;
    this.#contentCacheEncoding = encoding;
    return text;
  }

  /** The body decoded with `encoding`: the same as `content`. */
  get text(): string {
    return this.content;
  }

  /** The body as bytes, exactly as received (after transfer decompression). */
  get bytes(): Uint8Array {
    if (this.#contentInit !== null) {
      this.#body ??= encoder.encode(this.#contentInit);
      return this.#body;
    }
    return this.#buffered("bytes");
  }

  /**
   * Parses the body as JSON and, given a Standard Schema (Zod, Valibot, ArkType...), validates
   * the value with it: the result is then the schema's output, typed, with its transforms and
   * defaults applied.
   *
   * @returns The parsed value.
   * @throws {JSONDecodeError} When the body is empty or not valid JSON.
   *
   * @example Parse a JSON body
   * ```ts
   * import { Response } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const r = new Response(200, "OK", "content-type: application/json", '{"id": 1}');
   * assert.deepEqual(r.json(), { id: 1 });
   * ```
   */
  json(): unknown;
  /**
   * Parses the body as JSON and validates it with a Standard Schema.
   *
   * @param schema A Standard Schema (Zod 3.24+ or 4, Valibot 1, ArkType 2, or any object with
   * a `~standard` property) that validates synchronously.
   * @returns The schema's output for the parsed value.
   * @throws {JSONDecodeError} When the body is empty or not valid JSON.
   * @throws {SchemaValidationError} When the value does not validate; it carries the issues.
   * @throws {TypeError} When `schema` is not a Standard Schema, or validates asynchronously
   * (`json()` is synchronous: await `schema["~standard"].validate(r.json())` instead).
   *
   * @example Validate with a schema
   * ```ts
   * import { Response, type StandardSchemaV1 } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * // Zod, Valibot or ArkType schemas work the same way; this one is written by hand.
   * const User: StandardSchemaV1<unknown, { id: number }> = {
   *   "~standard": {
   *     version: 1,
   *     vendor: "example",
   *     validate: (value) =>
   *       typeof (value as { id?: unknown })?.id === "number"
   *         ? { value: value as { id: number } }
   *         : { issues: [{ message: "Expected a number", path: ["id"] }] },
   *   },
   * };
   * const user = new Response(200, "OK", null, '{"id": 7}').json(User);
   * assert.equal(user.id, 7);
   * ```
   */
  json<Schema extends StandardSchemaV1>(schema: Schema): StandardSchemaOutput<Schema>;
  json(schema?: StandardSchemaV1): unknown {
    const checked = schema === undefined || schema === null ? null : checkSchema(schema, "schema");
    const value = this.#parse();
    if (checked === null) return value;
    return validateNow(checked, value, { what: "Response body", response: this }, "json()");
  }

  /** `JSON.parse` of the body; a JSONDecodeError naming the status and the start of the body. */
  #parse(): unknown {
    const text = this.content;
    try {
      return JSON.parse(text);
    } catch (cause) {
      const type = clip(this.#header("content-type") ?? "none");
      const reason = clip(this.reason);
      const start = text.length > 80 ? `${text.slice(0, 80)}...` : text;
      throw new JSONDecodeError(
        text === ""
          ? `Response body is empty, not JSON (${this.status_code} ${reason}, content type ${
            JSON.stringify(type)
          })`
          : `Response body is not valid JSON (${this.status_code} ${reason}, content type ${
            JSON.stringify(type)
          }, body ${JSON.stringify(start)})`,
        { request: this.#request, response: this, cause, doc: text },
      );
    }
  }

  /**
   * The cookies this response sets that a cookie jar would keep, name to value: not those it
   * deletes or expires, nor those refused for {@linkcode Response.url} (another domain, a
   * `Secure` cookie over `http:`...). For a response built by hand, whose `url` is `""`, only
   * what the `Set-Cookie` lines say themselves counts.
   */
  get cookies(): Record<string, string> {
    return responseCookies(this.url, this.#headerAll("set-cookie"));
  }

  /**
   * The parsed `Link` header, keyed by `rel` (or by URL when a link has no `rel`), as in
   * Python `requests`.
   */
  get links(): Record<string, Link> {
    const header = this.#header("link");
    return header === null ? Object.create(null) : parseLinks(header);
  }

  /**
   * Throws an {@linkcode HTTPError} when the status is 4xx or 5xx.
   *
   * @returns This response, for chaining, when the status is below 400.
   * @throws {HTTPError} Carrying this response.
   */
  raise_for_status(): this {
    const code = this.status_code;
    if (code >= 400 && code < 600) {
      const kind = code < 500 ? "Client Error" : "Server Error";
      throw new HTTPError(`${code} ${kind}: ${clip(this.reason)}`, {
        request: this.#request,
        response: this,
      });
    }
    return this;
  }

  /**
   * Reads a streamed body to the end and keeps it, so `content`, `json()` and `bytes` work.
   * On a buffered response it returns the body at once.
   *
   * @returns The body bytes.
   */
  async read(): Promise<Uint8Array> {
    if (this.#reader !== null) {
      const reader = this.#reader;
      this.#reader = null;
      this.#body = await reader.readAll();
      return this.#body;
    }
    return this.#buffered("read()");
  }

  /**
   * The body in pieces, as they arrive for a streamed response (never buffered whole).
   *
   * A piece is handed over as soon as any bytes of it have arrived: `chunk_size` caps its size
   * and never holds bytes back to fill it, so a live feed is seen as it is sent.
   *
   * @param chunk_size The most bytes in one piece; absent or null, the pieces are as the runtime
   * hands them over (a buffered body comes whole).
   * @returns An async iterable of byte pieces, each of which may be kept.
   *
   * @example Read a body in pieces of at most 64 KiB
   * ```ts
   * import * as requests from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const fetch = () => new globalThis.Response(new Uint8Array(100_000));
   * const r = await requests.get("http://files.test/blob", { stream: true, fetch });
   * let total = 0;
   * for await (const piece of r.iter_content(65536)) {
   *   assert.ok(piece.byteLength <= 65536);
   *   total += piece.byteLength;
   * }
   * assert.equal(total, 100_000);
   * ```
   */
  async *iter_content(chunk_size?: number | null): AsyncGenerator<Uint8Array, void, undefined> {
    if (
      chunk_size !== undefined && chunk_size !== null &&
      (!Number.isInteger(chunk_size) || chunk_size < 1)
    ) {
      throw new TypeError("Invalid 'chunk_size': expected a positive integer");
    }
    const size = chunk_size ?? undefined;
    const limit = size ?? Infinity;
    const reader = this.#reader;
    if (reader === null) {
      // A body given as text to the constructor is iterated as its UTF-8 bytes, as `bytes` is.
      const body = this.#contentInit !== null ? this.bytes : this.#buffered("iter_content()");
      for (let at = 0; at < body.byteLength; at += limit) yield body.subarray(at, at + limit);
      return;
    }
    this.#reader = null;
    try {
      for (let chunk = await reader.next(size); chunk !== null; chunk = await reader.next(size)) {
        if (chunk.byteLength <= limit) {
          yield chunk;
          continue;
        }
        // A runtime chunk larger than `size` goes out as views of it, never copied.
        for (let at = 0; at < chunk.byteLength; at += limit) yield chunk.subarray(at, at + limit);
      }
    } finally {
      reader.cancel();
    }
  }

  /**
   * The body as lines decoded with `encoding`, without their line endings (`\n`, `\r\n` or
   * `\r`, also when a CRLF is split between two pieces), as they arrive for a streamed
   * response. A line is yielded as soon as its ending has arrived; the time taken is linear in
   * the body whatever the line lengths. The text after the last line ending, if any, is the last
   * line.
   *
   * @returns An async iterable of lines.
   *
   * @example Read a log line by line
   * ```ts
   * import * as requests from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const fetch = () => new globalThis.Response("first\r\nsecond\nthird");
   * const r = await requests.get("http://logs.test/tail", { stream: true, fetch });
   * const lines: string[] = [];
   * for await (const line of r.iter_lines()) lines.push(line);
   * assert.deepEqual(lines, ["first", "second", "third"]);
   * ```
   */
  async *iter_lines(): AsyncGenerator<string, void, undefined> {
    const { LineSplitter, StreamDecoder } = await (lineParsing ??= import("./_lines.ts"));
    const decoder = new StreamDecoder(this.encoding);
    const splitter = new LineSplitter();
    for await (const chunk of this.iter_content()) {
      splitter.feed(decoder.decode(chunk));
      for (let line = splitter.next(); line !== null; line = splitter.next()) yield line;
    }
    splitter.feed(decoder.end());
    for (let line = splitter.next(); line !== null; line = splitter.next()) yield line;
    const rest = splitter.rest();
    if (rest !== null) yield rest;
  }

  /**
   * The body as NDJSON / JSON Lines: each line (as {@linkcode Response.iter_lines} splits them)
   * parsed as JSON, as it arrives. Blank lines (empty, or only spaces and tabs) are skipped.
   *
   * @returns An async iterable of the parsed values.
   * @throws {JSONDecodeError} At the first line that is not valid JSON, naming its line number
   * (counting from 1, blank lines included).
   *
   * @example Read a stream of JSON records
   * ```ts
   * import * as requests from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const fetch = () => new globalThis.Response('{"id":1}\n\n{"id":2}\n');
   * const r = await requests.get("http://feed.test/records", { stream: true, fetch });
   * const ids: unknown[] = [];
   * for await (const record of r.iter_json()) ids.push((record as { id: number }).id);
   * assert.deepEqual(ids, [1, 2]);
   * ```
   */
  iter_json(): AsyncGenerator<unknown, void, undefined>;
  /**
   * The body as NDJSON / JSON Lines, each line's value validated with a Standard Schema (one
   * that validates asynchronously is awaited).
   *
   * @param schema A Standard Schema (Zod, Valibot, ArkType, or any object with `~standard`).
   * @returns An async iterable of the schema's outputs, one per non-blank line.
   * @throws {JSONDecodeError} At the first line that is not valid JSON, naming its line number.
   * @throws {SchemaValidationError} At the first value that does not validate, naming its line
   * number and carrying the issues.
   * @throws {TypeError} When `schema` is not a Standard Schema.
   *
   * @example Validate each record
   * ```ts
   * import * as requests from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const Record: requests.StandardSchemaV1<unknown, number> = {
   *   "~standard": {
   *     version: 1,
   *     vendor: "example",
   *     // Gives the record's id: a schema's output may differ from its input.
   *     validate: (value) => {
   *       const id = (value as { id?: unknown })?.id;
   *       return typeof id === "number" ? { value: id } : { issues: [{ message: "No id" }] };
   *     },
   *   },
   * };
   * const fetch = () => new globalThis.Response('{"id":1}\n{"id":2}\n');
   * const r = await requests.get("http://feed.test/records", { stream: true, fetch });
   * const ids: number[] = [];
   * for await (const id of r.iter_json(Record)) ids.push(id);
   * assert.deepEqual(ids, [1, 2]);
   * ```
   */
  iter_json<Schema extends StandardSchemaV1>(
    schema: Schema,
  ): AsyncGenerator<StandardSchemaOutput<Schema>, void, undefined>;
  async *iter_json(schema?: StandardSchemaV1): AsyncGenerator<unknown, void, undefined> {
    const checked = schema === undefined || schema === null ? null : checkSchema(schema, "schema");
    let number = 0;
    for await (const line of this.iter_lines()) {
      number++;
      if (line === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (cause) {
        if (BLANK.test(line)) continue;
        throw this.#lineError(line, number, cause);
      }
      if (checked !== null) {
        value = await validate(checked, value, {
          what: `Response body line ${number}`,
          response: this,
        });
      }
      yield value;
    }
  }

  /**
   * The body parsed as a `text/event-stream`, exactly as the WHATWG HTML standard's event
   * stream interpretation says (what `EventSource` dispatches), as it arrives. The body is read
   * as UTF-8 whatever `encoding` says. An event is yielded at the blank line that ends it; an
   * event left unfinished when the body ends is dropped, and a block without a `data` field
   * fires nothing (its `id` and `retry` still count). Reading does not reconnect: `events()`
   * does.
   *
   * @returns An async iterable of {@linkcode ServerSentEvent}s.
   *
   * @example Read the events of one response
   * ```ts
   * import * as requests from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const body = ": a comment\nid: 7\nevent: tick\ndata: one\ndata: two\n\ndata: last\n\n";
   * const fetch = () => new globalThis.Response(body, { headers: { "content-type": "text/event-stream" } });
   * const r = await requests.get("http://feed.test/events", { stream: true, fetch });
   * const seen: requests.ServerSentEvent[] = [];
   * for await (const event of r.iter_events()) seen.push(event);
   * assert.deepEqual(seen, [
   *   { event: "tick", data: "one\ntwo", id: "7", retry: null },
   *   { event: "message", data: "last", id: "7", retry: null },
   * ]);
   * ```
   */
  async *iter_events(): AsyncGenerator<ServerSentEvent, void, undefined> {
    const { EventStreamParser } = await (eventStream ??= import("./_event_stream.ts"));
    const parser = new EventStreamParser();
    for await (const chunk of this.iter_content()) {
      parser.feed(chunk);
      for (let event = parser.next(); event !== null; event = parser.next()) yield event;
    }
  }

  /** Releases the connection of an unread streamed body. Safe to call more than once. */
  close(): void {
    if (this.#reader !== null) {
      this.#reader.cancel();
      this.#reader = null;
    }
  }

  /** Same as {@linkcode Response.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** `<Response [200]>`, as in Python `requests`. */
  toString(): string {
    return `<Response [${this.status_code}]>`;
  }

  /**
   * How Deno.inspect and console.log in Deno show a response: as toString(). Every `history`
   * entry holds its own history, so printing them all would take minutes for a redirect loop.
   *
   * @returns The same as toString().
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /**
   * How node:util inspect, Bun.inspect and console.log in Node and Bun show a response: as
   * toString().
   *
   * @returns The same as toString().
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** The error for line `number` of the body, `line`, that is not JSON. */
  #lineError(line: string, number: number, cause: unknown): JSONDecodeError {
    const type = this.#header("content-type") ?? "none";
    const start = line.length > 80 ? `${line.slice(0, 80)}...` : line;
    // `doc` carries the whole line where JSONDecodeError keeps the text it could not parse.
    const options: RequestErrorOptions & { doc: string } = {
      request: this.#request,
      response: this,
      cause,
      doc: line,
    };
    return new JSONDecodeError(
      `Response body line ${number} is not valid JSON (${this.status_code} ${this.reason}, ` +
        `content type ${JSON.stringify(type)}, line ${JSON.stringify(start)})`,
      options,
    );
  }

  #buffered(member: string): Uint8Array {
    if (this.#body !== null) return this.#body;
    if (this.#reader !== null) {
      throw new TypeError(
        `Cannot read '${member}' of a streamed response: call 'await r.read()' first, ` +
          "or iterate it with 'r.iter_content()'",
      );
    }
    throw new TypeError(
      `Cannot read '${member}': the streamed body was already consumed or closed`,
    );
  }

  #header(name: string): string | null {
    if (this.#raw !== null) return this.#raw.headers.get(name);
    const values = this.#headerAll(name);
    return values.length === 0 ? null : values.join(", ");
  }

  #headerAll(name: string): string[] {
    if (this.#raw !== null) {
      return name === "set-cookie"
        ? this.#raw.headers.getSetCookie()
        : [this.#raw.headers.get(name) ?? ""].filter(Boolean);
    }
    const init = this.#headerInit ?? "";
    const block = typeof init === "string"
      ? init
      : decoderFor(this.#encoding ?? DEFAULT_ENCODING).decode(init);
    return blockValues(block, name);
  }
}
