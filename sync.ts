/**
 * The blocking variant of `requests`: the same functions without `await`, for scripts ported
 * line by line from MicroPython.
 *
 * Each call is sent by the async module in a worker thread (one, started on the first call and
 * never keeping the process alive) while the calling thread waits in `Atomics.wait`; the result
 * is the same {@linkcode Response} class, and a failure is thrown as the same error class with
 * the same message and `request`. Because the calling thread is blocked, a server in the same
 * thread can never answer: use a server in another process or thread.
 *
 * ```ts ignore
 * import * as requests from "@requests/requests/sync";
 *
 * const r = requests.get("http://127.0.0.1:8000/get"); // blocks until the body has arrived
 * console.log(r.status_code, r.reason, r.json());
 * requests.post("http://127.0.0.1:8000/post", { json: { id: 1 } }).raise_for_status();
 * ```
 *
 * Options that cannot cross to another thread are a `TypeError` naming the option: `fetch`,
 * `signal`, `progress`, `stream: true`, a `ReadableStream` body or file, and an
 * `HTTPDigestAuth`.
 *
 * @module
 */

import { HTTPDigestAuth } from "./src/digest_auth.ts";
// Only to keep the worker's module in the graph (see Channel); importing it does nothing.
import "./src/_sync_worker.ts";
import {
  ConnectionError,
  ContentTooLargeError,
  HTTPError,
  InvalidHeaderError,
  InvalidURLError,
  JSONDecodeError,
  RequestError,
  type RequestInfo,
  TimeoutError,
  TooManyRedirectsError,
} from "./src/errors.ts";
import type { RequestOptions } from "./src/options.ts";
import { fromNative, Response } from "./src/response.ts";
import {
  CHUNK_BYTES,
  CHUNK_LENGTH,
  CONTROL_SLOTS,
  LAST,
  READY,
  RECORD_LENGTH,
  STATE,
  TOTAL_LENGTH,
  WAITING,
  type WireCall,
  type WireError,
  type WireRequest,
  type WireResponse,
  type WireResult,
} from "./src/_sync_wire.ts";

export { Response } from "./src/response.ts";
export {
  ConnectionError,
  ContentTooLargeError,
  HTTPError,
  InvalidHeaderError,
  InvalidURLError,
  JSONDecodeError,
  RequestError,
  TimeoutError,
  TooManyRedirectsError,
} from "./src/errors.ts";

/**
 * The options of a blocking request: every request option except those that cannot cross to
 * the worker thread (`fetch`, `signal`, `progress`, `stream: true`). A `ReadableStream` body or
 * file and an `HTTPDigestAuth` are refused with a `TypeError` too.
 */
export interface SyncRequestOptions
  extends Omit<RequestOptions, "fetch" | "signal" | "progress" | "stream"> {
  /** Only `false`: the body is always read before the call returns. @default false */
  stream?: false;
}

/** How long the worker may take to start before the call fails. */
const STARTUP_MS = 15_000;
const decoder = new TextDecoder();

/** The parts of a worker that are used, from node:worker_threads or the web. */
interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
  unref?(): void;
}
type WorkerClass = new (url: URL, options?: { type?: "module" }) => WorkerLike;
type GetBuiltinModule = (id: "node:worker_threads") => { Worker?: WorkerClass } | undefined;
type DenoPermissions = {
  requestSync(descriptor: { name: "read"; path: URL }): { state: string };
};

/**
 * Deno loads a worker's local modules only with read access to them; without it the worker
 * fails where the blocked caller cannot see it, so ask first (this prompts where Deno would).
 */
function checkReadAccess(worker: URL): void {
  const permissions = (globalThis as { Deno?: { permissions?: DenoPermissions } }).Deno
    ?.permissions;
  if (permissions === undefined || worker.protocol !== "file:") return;
  const dir = new URL("./", worker);
  if (permissions.requestSync({ name: "read", path: dir }).state !== "granted") {
    const path = decodeURIComponent(dir.pathname);
    throw new Error(
      `Cannot use the sync API: its worker thread needs read access to ${JSON.stringify(path)} ` +
        `(run with --allow-read=${path})`,
    );
  }
}

/** The worker thread and the shared memory of the handshake. */
class Channel {
  #worker: WorkerLike;
  #control: Int32Array;
  #chunk: Uint8Array;

  constructor() {
    const control = new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const chunk = new SharedArrayBuffer(CHUNK_BYTES);
    this.#control = new Int32Array(control);
    this.#chunk = new Uint8Array(chunk);
    // The entry imports the worker module, which sync.ts imports too: so it is in the module
    // graph and cached when sync.ts is (Deno fetches a worker's remote modules on the calling
    // thread, which is about to block).
    const worker = new URL("./src/_sync_worker.ts", import.meta.url);
    checkReadAccess(worker);
    const entry = new URL(
      `data:text/javascript,${
        encodeURIComponent(`import { start } from ${JSON.stringify(worker.href)}; start();`)
      }`,
    );
    // node:worker_threads first: its workers can be unref'd (Deno's web Worker cannot).
    const getBuiltin = (globalThis as { process?: { getBuiltinModule?: GetBuiltinModule } })
      .process?.getBuiltinModule;
    const NodeWorker = typeof getBuiltin === "function"
      ? getBuiltin("node:worker_threads")?.Worker
      : undefined;
    const WebWorker = (globalThis as { Worker?: WorkerClass }).Worker;
    if (NodeWorker !== undefined) this.#worker = new NodeWorker(entry);
    else if (WebWorker !== undefined) this.#worker = new WebWorker(entry, { type: "module" });
    else throw new TypeError("Cannot use the sync API: this runtime has no Worker");
    this.#worker.unref?.();
    this.#worker.postMessage({ control, chunk });
    if (Atomics.wait(this.#control, READY, 0, STARTUP_MS) === "timed-out") {
      this.#worker.terminate();
      throw new Error(`Cannot use the sync API: its worker did not start within ${STARTUP_MS} ms`);
    }
  }

  /** Sends `call` and blocks until the whole reply has arrived: its record and its body. */
  send(call: WireCall): [WireResult, Uint8Array] {
    const control = this.#control;
    Atomics.store(control, STATE, WAITING);
    try {
      this.#worker.postMessage(call);
    } catch (error) {
      // DataCloneError on most runtimes, a TypeError on Deno: name the culprit if we can.
      throw uncopyable(call, error) ?? error;
    }
    let reply: Uint8Array | null = null;
    let filled = 0;
    for (;;) {
      Atomics.wait(control, STATE, WAITING);
      const state = Atomics.load(control, STATE);
      const length = control[CHUNK_LENGTH];
      reply ??= new Uint8Array(control[TOTAL_LENGTH]);
      reply.set(this.#chunk.subarray(0, length), filled);
      filled += length;
      if (state === LAST) break;
      Atomics.store(control, STATE, WAITING);
      Atomics.notify(control, STATE);
    }
    const split = control[RECORD_LENGTH];
    const result = JSON.parse(decoder.decode(reply.subarray(0, split))) as WireResult;
    return [result, reply.subarray(split)];
  }
}

let channel: Channel | null = null;

function refuse(what: string, why: string): TypeError {
  return new TypeError(`Cannot use ${what} with the sync API: ${why}`);
}

/** `options` in a form that can be copied to the worker; a TypeError for what cannot. */
function toWire(method: unknown, url: unknown, options: unknown): WireCall {
  const call: WireCall = { method, url: url instanceof URL ? url.href : url, options };
  if (typeof options !== "object" || options === null) return call;
  const copy: Record<string, unknown> = { ...options };
  for (const name of ["fetch", "progress"]) {
    if (copy[name] !== undefined && copy[name] !== null) {
      throw refuse(`'${name}'`, "a function cannot be passed to the worker thread");
    }
  }
  if (copy.signal !== undefined && copy.signal !== null) {
    throw refuse(
      "'signal'",
      "the calling thread is blocked and cannot abort; use 'timeout' or 'total_timeout'",
    );
  }
  if (copy.stream === true) {
    throw refuse("'stream: true'", "the body is read before the call returns; use mod.ts");
  }
  if (copy.auth instanceof HTTPDigestAuth) {
    throw refuse(
      "an HTTPDigestAuth as 'auth'",
      "its state lives in one thread; use [user, password] or mod.ts",
    );
  }
  if (copy.headers instanceof Headers) copy.headers = [...copy.headers];
  if (copy.params instanceof URLSearchParams) copy.params = [...copy.params];
  const data = copy.data;
  if (data instanceof ReadableStream) {
    throw refuse("a ReadableStream as 'data'", "pass a string, bytes or a Blob");
  } else if (data instanceof URLSearchParams) {
    copy.data = data.toString();
    call.dataKind = "search-params";
  } else if (data instanceof FormData) {
    // Node's workers receive a File as a plain Blob: its name travels beside it.
    copy.data = [...data].map(([name, value]) =>
      typeof value === "string" ? [name, value] : [name, value, value.name]
    );
    call.dataKind = "form-data";
  }
  const files = copy.files;
  if (typeof files === "object" && files !== null && !Array.isArray(files)) {
    const specs: Record<string, unknown> = { ...files };
    for (const [field, spec] of Object.entries(specs)) {
      if (Array.isArray(spec) && spec[1] instanceof ReadableStream) {
        throw refuse(
          `a ReadableStream in 'files' (${JSON.stringify(field)})`,
          "pass a string, bytes or a Blob",
        );
      }
      if (spec instanceof File && spec.name !== "") specs[field] = [spec.name, spec];
    }
    copy.files = specs;
  }
  call.options = copy;
  return call;
}

/** The argument or option of `call` that cannot be copied, as a TypeError naming it. */
function uncopyable(call: WireCall, error: unknown): TypeError | null {
  const why = `it cannot be copied to the worker thread (${(error as Error)?.message})`;
  if (!copies(call.method)) return refuse("this 'method'", why);
  if (!copies(call.url)) return refuse("this 'url'", why);
  if (!copies(call.options)) {
    if (typeof call.options !== "object" || call.options === null) {
      return refuse("these 'options'", why);
    }
    const options = call.options as Record<string, unknown>;
    for (const name of Object.keys(options)) {
      if (!copies(options[name])) return refuse(`this '${name}'`, why);
    }
  }
  return null;
}

function copies(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function requestInfo(wire: WireRequest | undefined): RequestInfo {
  return Object.freeze({ method: wire?.method ?? "", url: wire?.url ?? "" });
}

/** A {@linkcode Response} from a record: around a native one where the platform allows. */
function toResponse(wire: WireResponse, body: Uint8Array): Response {
  const history = wire.history.map((hop) => toResponse(hop, new Uint8Array(0)));
  let raw: globalThis.Response | null = null;
  try {
    raw = new globalThis.Response(null, {
      status: wire.status,
      statusText: wire.reason,
      headers: wire.headers,
    });
  } catch { /* a status or reason fetch cannot represent (1xx, 600+): build it by hand */ }
  if (raw !== null) {
    const response = fromNative({
      raw,
      url: wire.url,
      request: { ...requestInfo(wire.request), headers: {} },
      elapsed: wire.elapsed,
      history,
    }, body);
    return response;
  }
  const block = wire.headers.map(([name, value]) => `${name}: ${value}`).join("\r\n");
  const response = new Response(wire.status, wire.reason, block, body);
  response.url = wire.url;
  response.elapsed = wire.elapsed;
  response.history = history;
  return response;
}

const REQUEST_ERRORS = {
  ConnectionError,
  ContentTooLargeError,
  HTTPError,
  InvalidHeaderError,
  InvalidURLError,
  JSONDecodeError,
  RequestError,
  TimeoutError,
} as const;

const BUILTIN_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

function builtin(name: string): ErrorConstructor {
  return Object.hasOwn(BUILTIN_ERRORS, name) ? BUILTIN_ERRORS[name] : Error;
}

/** The error thrown in the worker, rebuilt as the same class with the same message. */
function toError(wire: WireError): Error {
  let cause: Error | undefined;
  if (wire.cause !== undefined) {
    cause = new (builtin(wire.cause.name))(wire.cause.message);
    if (cause.name !== wire.cause.name) cause.name = wire.cause.name;
  }
  let error: Error;
  if (
    wire.request !== undefined &&
    (Object.hasOwn(REQUEST_ERRORS, wire.name) || wire.name === "TooManyRedirectsError")
  ) {
    const request = requestInfo(wire.request);
    const suffix = `: ${request.method} ${request.url}`;
    // The constructor appends the method and URL again.
    const message = request.url !== "" && wire.message.endsWith(suffix)
      ? wire.message.slice(0, -suffix.length)
      : wire.message;
    const response = wire.response === undefined
      ? undefined
      : toResponse(wire.response, new Uint8Array(0));
    const options = { request, response, cause };
    error = wire.name === "TooManyRedirectsError"
      ? new TooManyRedirectsError(message, {
        ...options,
        history: (wire.history ?? []).map((hop) => toResponse(hop, new Uint8Array(0))),
      })
      : new REQUEST_ERRORS[wire.name as keyof typeof REQUEST_ERRORS](message, options);
  } else {
    error = new (builtin(wire.name))(wire.message, { cause });
    if (error.name !== wire.name) error.name = wire.name;
  }
  if (error.message !== wire.message) error.message = wire.message;
  return error;
}

function call(method: unknown, url: unknown, options: unknown): Response {
  const wire = toWire(method, url, options);
  channel ??= new Channel();
  const [result, body] = channel.send(wire);
  if (!result.ok) throw toError(result.error);
  return toResponse(result.response, body);
}

/**
 * Sends a request and blocks until the response and its body have arrived.
 *
 * @param method The HTTP method, any case (sent upper-cased).
 * @param url An absolute `http://` or `https://` URL; credentials in it become Basic auth.
 * @param options The request options, except those that cannot cross to the worker thread.
 * @returns The response.
 * @throws {RequestError} Its subclasses for network, protocol and URL failures.
 * @throws {TypeError} For misuse, and for options that cannot cross to the worker thread.
 *
 * @example Send any method; failures are thrown as the async module's error classes
 * ```ts
 * import * as requests from "@requests/requests/sync";
 * import assert from "node:assert/strict";
 *
 * // Nothing listens on port 9 of the loopback, so the connection is refused.
 * assert.throws(() => requests.request("OPTIONS", "http://127.0.0.1:9/"), requests.ConnectionError);
 * assert.throws(() => requests.request("GET", "ftp://example.test/"), requests.InvalidURLError);
 * ```
 */
export function request(
  method: string,
  url: string | URL,
  options?: SyncRequestOptions,
): Response {
  return call(method, url, options);
}

/**
 * Sends a `HEAD` request and blocks until the response has arrived. Redirects are not followed
 * unless `allow_redirects` is true.
 *
 * @param url The URL.
 * @param options The request options.
 * @returns The response; its `content` is `""`.
 *
 * @example Check a resource without downloading it
 * ```ts ignore
 * import * as requests from "@requests/requests/sync";
 *
 * const r = requests.head("http://127.0.0.1:8000/big.bin");
 * console.log(r.status_code, r.content === "");
 * ```
 */
export function head(url: string | URL, options?: SyncRequestOptions): Response {
  return call("HEAD", url, options);
}

/**
 * Sends a `GET` request and blocks until the response and its body have arrived.
 *
 * @param url The URL.
 * @param options The request options.
 * @returns The response.
 *
 * @example GET a JSON resource
 * ```ts ignore
 * import * as requests from "@requests/requests/sync";
 *
 * const r = requests.get("http://127.0.0.1:8000/get", { params: { q: "fox" }, timeout: 5 });
 * console.log(r.status_code, r.reason, r.json());
 * ```
 */
export function get(url: string | URL, options?: SyncRequestOptions): Response {
  return call("GET", url, options);
}

/**
 * Sends a `POST` request and blocks until the response and its body have arrived.
 *
 * @param url The URL.
 * @param options The request options; `data`, `json` or `files` carry the body.
 * @returns The response.
 *
 * @example POST JSON
 * ```ts ignore
 * import * as requests from "@requests/requests/sync";
 *
 * const r = requests.post("http://127.0.0.1:8000/post", { json: { id: 1, value: 42 } });
 * r.raise_for_status();
 * ```
 */
export function post(url: string | URL, options?: SyncRequestOptions): Response {
  return call("POST", url, options);
}

/**
 * Sends a `PUT` request and blocks until the response and its body have arrived.
 *
 * @param url The URL.
 * @param options The request options; `data` or `json` carry the new representation.
 * @returns The response.
 *
 * @example Replace a resource
 * ```ts ignore
 * import * as requests from "@requests/requests/sync";
 *
 * requests.put("http://127.0.0.1:8000/items/1", { data: "new" }).raise_for_status();
 * ```
 */
export function put(url: string | URL, options?: SyncRequestOptions): Response {
  return call("PUT", url, options);
}

/**
 * Sends a `PATCH` request and blocks until the response and its body have arrived.
 *
 * @param url The URL.
 * @param options The request options; `data` or `json` carry the change.
 * @returns The response.
 *
 * @example Change part of a resource
 * ```ts ignore
 * import * as requests from "@requests/requests/sync";
 *
 * requests.patch("http://127.0.0.1:8000/items/1", { json: { a: 1 } }).raise_for_status();
 * ```
 */
export function patch(url: string | URL, options?: SyncRequestOptions): Response {
  return call("PATCH", url, options);
}

/**
 * Sends a `DELETE` request and blocks until the response has arrived. Exported as `delete` too
 * (`requests.delete(url)`).
 *
 * @param url The URL.
 * @param options The request options.
 * @returns The response.
 *
 * @example Delete a resource
 * ```ts ignore
 * import * as requests from "@requests/requests/sync";
 *
 * const r = requests.delete("http://127.0.0.1:8000/items/1");
 * console.log(r.status_code);
 * ```
 */
export function del(url: string | URL, options?: SyncRequestOptions): Response {
  return call("DELETE", url, options);
}

export { del as delete };
