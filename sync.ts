/**
 * The blocking variant of `requests`: the same functions without `await`, a blocking
 * {@linkcode Session} and {@linkcode HTTPDigestAuth}, for scripts ported line by line from Python
 * or MicroPython.
 *
 * Each call is sent by the async module in a worker thread (one, started on the first call and
 * never keeping the process alive) while the calling thread waits in `Atomics.wait`; the result
 * is the same {@linkcode Response} class (with `request` and `history`, each redirect with its
 * own), and a failure is thrown as the same error class with the same message and `request`.
 * Because the calling thread is blocked, a server in the same thread can never answer: use a
 * server in another process or thread.
 *
 * ```ts
 * import * as requests from "@requests/requests/sync";
 * import assert from "node:assert/strict";
 * import { Worker } from "node:worker_threads";
 *
 * // The call blocks this thread, so the server runs in another one: it answers with the method,
 * // the path and the cookies it got, and sets a cookie at /login.
 * const server = new Worker(
 *   `require("node:http").createServer((req, res) => {
 *     if (req.url === "/login") res.setHeader("set-cookie", "sid=7; Path=/");
 *     res.end([req.method, req.url, req.headers.cookie ?? ""].join(" "));
 *   }).listen(0, "127.0.0.1", function () {
 *     require("node:worker_threads").parentPort.postMessage(this.address().port);
 *   });`,
 *   { eval: true },
 * );
 * const port = await new Promise((resolve) => server.once("message", resolve));
 *
 * const base = `http://127.0.0.1:${port}/`;
 * const r = requests.get(`${base}get`); // blocks until the body has arrived
 * assert.equal(r.status_code, 200);
 * assert.equal(r.content, "GET /get ");
 * requests.post(`${base}post`, { json: { id: 1 } }).raise_for_status();
 *
 * {
 *   using session = new requests.Session({ base_url: base, headers: { "X-Source": "openmv" } });
 *   session.post("login", { data: { user: "me", password: "secret" } }); // keeps the cookie
 *   assert.equal(session.get("private").raise_for_status().content, "GET /private sid=7");
 * }
 * await server.terminate();
 * ```
 *
 * A `Session` lives in the worker (its cookie jar and connections); its `headers`, `auth`,
 * `params` and `cookies` are kept on the calling thread too and sent with each call, and
 * `cookies` is updated from the worker's jar after each call. An `HTTPDigestAuth` keeps its
 * state (challenge, nonce count) in the worker, one per object.
 *
 * A worker that dies or stops answering never leaves a call blocked: the worker bumps a
 * heartbeat in shared memory while it works on a call, and a call that sees no heartbeat for a
 * second (5 s before the first, while a big message is still being copied to the worker) throws
 * a `RequestError` saying so, however long the call's own `timeout`. The next call starts a new
 * worker; a `Session` is opened there again with its headers, auth, params and
 * cookies, and an `HTTPDigestAuth` answers the server's next challenge afresh.
 *
 * Options that cannot cross to another thread are a `TypeError` naming the option: `fetch`,
 * `signal`, `progress`, `stream: true`, a `ReadableStream` body or file, session `hooks`, and an
 * `HTTPDigestAuth` of the async module (use the one of this module).
 *
 * @module
 */

import { channel } from "./src/sync/_channel.ts";
import { callInfo, encodeCall, exchange, outcome } from "./src/sync/_codec.ts";
import type { Response } from "./src/response.ts";
import type { SyncRequestOptions } from "./src/sync/session.ts";

export { type Link, Response, type SentRequest } from "./src/response.ts";
export type {
  FetchLike,
  FormFields,
  FormValue,
  HeaderInput,
  RequestHook,
  RequestOptions,
  RetryOptions,
  Scalar,
} from "./src/options.ts";
export type { DataBody } from "./src/body.ts";
export type { FileObject, FileSpec } from "./src/multipart.ts";
export {
  ConnectionError,
  ContentTooLargeError,
  HTTPError,
  InvalidHeaderError,
  InvalidURLError,
  JSONDecodeError,
  RequestError,
  type RequestErrorOptions,
  type RequestInfo,
  SchemaValidationError,
  TimeoutError,
  TooManyRedirectsError,
} from "./src/errors.ts";
export type {
  StandardSchemaIssue,
  StandardSchemaOutput,
  StandardSchemaResult,
  StandardSchemaV1,
} from "./src/standard_schema.ts";
export {
  type Cookie,
  type CookieFilter,
  CookieJar,
  type CookieJarData,
  type CookieOptions,
} from "./src/cookies/jar.ts";
export { HTTPDigestAuth } from "./src/sync/digest_auth.ts";
export {
  Session,
  type SyncAuth,
  type SyncRequestOptions,
  type SyncSessionOptions,
} from "./src/sync/session.ts";

function call(method: unknown, url: unknown, options: unknown): Response {
  const message = encodeCall(method, url, options);
  const [result, body] = exchange(channel(), message, callInfo(method, url));
  return outcome(result, body);
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
 * ```ts
 * import * as requests from "@requests/requests/sync";
 * import assert from "node:assert/strict";
 * import { Worker } from "node:worker_threads";
 *
 * // The call blocks this thread, so the server runs in another one; it answers with what it got.
 * const server = new Worker(
 *   `require("node:http").createServer((req, res) => {
 *     let body = "";
 *     req.on("data", (chunk) => body += chunk);
 *     req.on("end", () => res.end([req.method, req.url, body].join(" ")));
 *   }).listen(0, "127.0.0.1", function () {
 *     require("node:worker_threads").parentPort.postMessage(this.address().port);
 *   });`,
 *   { eval: true },
 * );
 * const port = await new Promise((resolve) => server.once("message", resolve));
 *
 * const r = requests.head(`http://127.0.0.1:${port}/big.bin`);
 * assert.equal(r.status_code, 200);
 * assert.equal(r.content, "");
 * await server.terminate();
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
 * ```ts
 * import * as requests from "@requests/requests/sync";
 * import assert from "node:assert/strict";
 * import { Worker } from "node:worker_threads";
 *
 * // The call blocks this thread, so the server runs in another one; it answers with what it got.
 * const server = new Worker(
 *   `require("node:http").createServer((req, res) => {
 *     let body = "";
 *     req.on("data", (chunk) => body += chunk);
 *     req.on("end", () => res.end([req.method, req.url, body].join(" ")));
 *   }).listen(0, "127.0.0.1", function () {
 *     require("node:worker_threads").parentPort.postMessage(this.address().port);
 *   });`,
 *   { eval: true },
 * );
 * const port = await new Promise((resolve) => server.once("message", resolve));
 *
 * const r = requests.get(`http://127.0.0.1:${port}/get`, { params: { q: "fox" }, timeout: 5 });
 * assert.equal(r.status_code, 200);
 * assert.equal(r.reason, "OK");
 * assert.equal(r.content, "GET /get?q=fox ");
 * await server.terminate();
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
 * ```ts
 * import * as requests from "@requests/requests/sync";
 * import assert from "node:assert/strict";
 * import { Worker } from "node:worker_threads";
 *
 * // The call blocks this thread, so the server runs in another one; it answers with what it got.
 * const server = new Worker(
 *   `require("node:http").createServer((req, res) => {
 *     let body = "";
 *     req.on("data", (chunk) => body += chunk);
 *     req.on("end", () => res.end([req.method, req.url, body].join(" ")));
 *   }).listen(0, "127.0.0.1", function () {
 *     require("node:worker_threads").parentPort.postMessage(this.address().port);
 *   });`,
 *   { eval: true },
 * );
 * const port = await new Promise((resolve) => server.once("message", resolve));
 *
 * const r = requests.post(`http://127.0.0.1:${port}/post`, { json: { id: 1, value: 42 } });
 * r.raise_for_status();
 * assert.equal(r.content, 'POST /post {"id":1,"value":42}');
 * await server.terminate();
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
 * ```ts
 * import * as requests from "@requests/requests/sync";
 * import assert from "node:assert/strict";
 * import { Worker } from "node:worker_threads";
 *
 * // The call blocks this thread, so the server runs in another one; it answers with what it got.
 * const server = new Worker(
 *   `require("node:http").createServer((req, res) => {
 *     let body = "";
 *     req.on("data", (chunk) => body += chunk);
 *     req.on("end", () => res.end([req.method, req.url, body].join(" ")));
 *   }).listen(0, "127.0.0.1", function () {
 *     require("node:worker_threads").parentPort.postMessage(this.address().port);
 *   });`,
 *   { eval: true },
 * );
 * const port = await new Promise((resolve) => server.once("message", resolve));
 *
 * const r = requests.put(`http://127.0.0.1:${port}/items/1`, { data: "new" }).raise_for_status();
 * assert.equal(r.content, "PUT /items/1 new");
 * await server.terminate();
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
 * ```ts
 * import * as requests from "@requests/requests/sync";
 * import assert from "node:assert/strict";
 * import { Worker } from "node:worker_threads";
 *
 * // The call blocks this thread, so the server runs in another one; it answers with what it got.
 * const server = new Worker(
 *   `require("node:http").createServer((req, res) => {
 *     let body = "";
 *     req.on("data", (chunk) => body += chunk);
 *     req.on("end", () => res.end([req.method, req.url, body].join(" ")));
 *   }).listen(0, "127.0.0.1", function () {
 *     require("node:worker_threads").parentPort.postMessage(this.address().port);
 *   });`,
 *   { eval: true },
 * );
 * const port = await new Promise((resolve) => server.once("message", resolve));
 *
 * const r = requests.patch(`http://127.0.0.1:${port}/items/1`, { json: { a: 1 } });
 * r.raise_for_status();
 * assert.equal(r.content, 'PATCH /items/1 {"a":1}');
 * await server.terminate();
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
 * ```ts
 * import * as requests from "@requests/requests/sync";
 * import assert from "node:assert/strict";
 * import { Worker } from "node:worker_threads";
 *
 * // The call blocks this thread, so the server runs in another one; it answers with what it got.
 * const server = new Worker(
 *   `require("node:http").createServer((req, res) => {
 *     let body = "";
 *     req.on("data", (chunk) => body += chunk);
 *     req.on("end", () => res.end([req.method, req.url, body].join(" ")));
 *   }).listen(0, "127.0.0.1", function () {
 *     require("node:worker_threads").parentPort.postMessage(this.address().port);
 *   });`,
 *   { eval: true },
 * );
 * const port = await new Promise((resolve) => server.once("message", resolve));
 *
 * const r = requests.delete(`http://127.0.0.1:${port}/items/1`);
 * assert.equal(r.status_code, 200);
 * assert.equal(r.content, "DELETE /items/1 ");
 * await server.terminate();
 * ```
 */
export function del(url: string | URL, options?: SyncRequestOptions): Response {
  return call("DELETE", url, options);
}

export { del as delete };
