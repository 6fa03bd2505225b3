/**
 * The error family. Every network, protocol and HTTP failure the module reports is a
 * {@linkcode RequestError}; misuse of the API (wrong types, conflicting options) is a
 * `TypeError` naming the argument instead.
 *
 * @module
 */

import type { Response } from "./response.ts";
import type { StandardSchemaIssue } from "./standard_schema.ts";

/**
 * @internal The one rule for quoting a URL or value in a message: `text` cut to its first `max` characters with "..." after them, or `text` itself when it is no
 * longer, so that a hostile server or a huge argument cannot make an error message huge. A
 * surrogate pair is never cut in half.
 */
export function clip(text: string, max = 200): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}...`;
}

/** The request an error is about: its method and its URL with credentials redacted. */
export interface RequestInfo {
  /** The HTTP method, upper-cased. */
  readonly method: string;
  /** The URL, without user name, password or secret query values. */
  readonly url: string;
}

/** Options for the {@linkcode RequestError} constructor. */
export interface RequestErrorOptions {
  /** The request that failed. */
  request: RequestInfo;
  /** The response, when one arrived. */
  response?: Response;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The base of every error the module raises for network, protocol and HTTP outcomes.
 *
 * Its message ends with the method and the redacted URL, e.g.
 * `Connection refused: GET http://127.0.0.1:9/`; a URL longer than 200 characters is cut there,
 * with "...", while `request.url` keeps it whole (a {@linkcode Response} built by hand has no URL,
 * so errors about it end with the message alone).
 *
 * @example Catch every failure of a request
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const err = await requests.get("http://127.0.0.1:9/").catch((e) => e);
 * assert.ok(err instanceof requests.RequestError);
 * assert.equal(err.request.method, "GET");
 * ```
 */
export class RequestError extends Error {
  /** Always `"RequestError"`. */
  override name = "RequestError";
  /** The request that failed: method and redacted URL. */
  readonly request: RequestInfo;
  /** The response, when the failure came after one arrived. */
  readonly response: Response | undefined;

  /**
   * Creates an error about `options.request`.
   *
   * @param message What failed and why; the method and the URL are appended, each cut to
   * its first 200 characters.
   * @param options The request, and optionally the response and the cause.
   */
  constructor(message: string, options: RequestErrorOptions) {
    const { method, url } = options.request;
    super(url ? `${message}: ${clip(method)} ${clip(url)}` : message, { cause: options.cause });
    this.request = Object.freeze({ method, url });
    this.response = options.response;
  }
}

/**
 * The connection failed: refused, reset, closed early, or a body cut short.
 *
 * @example A refused connection
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * // Nothing listens on port 9 of the loopback.
 * const err = await requests.get("http://127.0.0.1:9/").catch((e) => e);
 * assert.ok(err instanceof requests.ConnectionError);
 * assert.equal(err.request.url, "http://127.0.0.1:9/");
 * ```
 */
export class ConnectionError extends RequestError {
  /** Always `"ConnectionError"`. */
  override name = "ConnectionError";
}

/**
 * The server did not answer, or did not send the next piece of the body, in time.
 *
 * @example A server that never answers
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => new Promise<Response>(() => {});
 * const err = await requests.get("http://slow.test/", { timeout: 0.01, fetch }).catch((e) => e);
 * assert.ok(err instanceof requests.TimeoutError);
 * ```
 */
export class TimeoutError extends RequestError {
  /** Always `"TimeoutError"`. */
  override name = "TimeoutError";
}

/**
 * More redirects than `max_redirects`; `history` holds the responses seen.
 *
 * @example A redirect loop
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => new Response(null, { status: 302, headers: { location: "/again" } });
 * const err = await requests.get("http://loop.test/", { max_redirects: 2, fetch })
 *   .catch((e) => e);
 * assert.ok(err instanceof requests.TooManyRedirectsError);
 * assert.equal(err.history.length, 3);
 * ```
 */
export class TooManyRedirectsError extends RequestError {
  /** Always `"TooManyRedirectsError"`. */
  override name = "TooManyRedirectsError";
  /** The redirect responses that were followed, oldest first. */
  readonly history: readonly Response[];

  /**
   * Creates the error with the redirect history.
   *
   * @param message What failed.
   * @param options The request and response, plus the `history`.
   */
  constructor(message: string, options: RequestErrorOptions & { history: readonly Response[] }) {
    super(message, options);
    this.history = options.history;
  }
}

/**
 * `raise_for_status()` found a 4xx or 5xx status; `response` is set.
 *
 * @example Turn a 404 into an error
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => new Response("no", { status: 404 });
 * const r = await requests.get("http://api.test/missing", { fetch });
 * assert.throws(() => r.raise_for_status(), requests.HTTPError);
 * ```
 */
export class HTTPError extends RequestError {
  /** Always `"HTTPError"`. */
  override name = "HTTPError";
}

/**
 * The URL is malformed, not `http(s)`, or a redirect pointed somewhere it must not go.
 *
 * @example Only http and https are sent
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(requests.get("file:///etc/passwd"), requests.InvalidURLError);
 * ```
 */
export class InvalidURLError extends RequestError {
  /** Always `"InvalidURLError"`. */
  override name = "InvalidURLError";
}

/**
 * A header name or value is not valid (CR, LF or NUL, or a name that is not a token).
 *
 * @example Header injection is refused before anything is sent
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const headers = { "X-Name": "a\r\nInjected: yes" };
 * await assert.rejects(requests.get("http://api.test/", { headers }), requests.InvalidHeaderError);
 * ```
 */
export class InvalidHeaderError extends RequestError {
  /** Always `"InvalidHeaderError"`. */
  override name = "InvalidHeaderError";
}

/**
 * `json()` found an empty or invalid JSON body.
 *
 * @example A body that is not JSON
 * ```ts
 * import { JSONDecodeError, Response } from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const r = new Response(200, "OK", "content-type: text/html", "<html>");
 * assert.throws(() => r.json(), JSONDecodeError);
 * assert.equal((() => { try { r.json(); } catch (e) { return (e as JSONDecodeError).doc; } })(), "<html>");
 * ```
 */
export class JSONDecodeError extends RequestError {
  /** Always `"JSONDecodeError"`. */
  override name = "JSONDecodeError";
  /** The text that could not be parsed (as Python's `JSONDecodeError.doc`). */
  readonly doc: string;

  /**
   * Creates the error with the text that failed to parse.
   *
   * @param message What failed.
   * @param options The request and response, plus `doc`, the text (default `""`).
   */
  constructor(message: string, options: RequestErrorOptions & { doc?: string }) {
    super(message, options);
    this.doc = options.doc ?? "";
  }
}

/**
 * The body is larger than `max_bytes` (counted after decompression).
 *
 * @example Refuse a body over a size
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => new Response(new Uint8Array(2048));
 * await assert.rejects(
 *   requests.get("http://big.test/", { max_bytes: 1024, fetch }),
 *   requests.ContentTooLargeError,
 * );
 * ```
 */
export class ContentTooLargeError extends RequestError {
  /** Always `"ContentTooLargeError"`. */
  override name = "ContentTooLargeError";
}

/**
 * A JSON value did not validate against the Standard Schema given to `r.json(schema)`,
 * `r.iter_json(schema)` or `pagination.schema`; `issues` are the schema's. The message names the
 * status, the first issue's path and message (cut to 200 characters) and the request.
 *
 * @example A body that does not match its schema
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const Named: requests.StandardSchemaV1<unknown, { name: string }> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (value) =>
 *       typeof (value as { name?: unknown })?.name === "string"
 *         ? { value: value as { name: string } }
 *         : { issues: [{ message: "Expected a string", path: ["name"] }] },
 *   },
 * };
 * const fetch = () => Response.json({ name: 42 });
 * const r = await requests.get("http://api.test/user", { fetch });
 * const error = (() => {
 *   try {
 *     r.json(Named);
 *   } catch (e) {
 *     return e as requests.SchemaValidationError;
 *   }
 * })();
 * assert.ok(error instanceof requests.SchemaValidationError);
 * assert.equal(error.issues[0].message, "Expected a string");
 * assert.equal(
 *   error.message,
 *   "Response body does not match the schema at name: Expected a string (200 OK): " +
 *     "GET http://api.test/user",
 * );
 * ```
 */
export class SchemaValidationError extends RequestError {
  /** Always `"SchemaValidationError"`. */
  override name = "SchemaValidationError";
  /** The issues the schema found, as it gave them. */
  readonly issues: readonly StandardSchemaIssue[];

  /**
   * Creates the error with the schema's issues.
   *
   * @param message What failed.
   * @param options The request and response, plus `issues` (default none).
   */
  constructor(
    message: string,
    options: RequestErrorOptions & { issues?: readonly StandardSchemaIssue[] },
  ) {
    super(message, options);
    this.issues = options.issues ?? [];
  }
}

/**
 * Every class of the error family, by its `name`: for code that carries an error across a
 * boundary by name and rebuilds it on the other side (the sync API's worker thread does).
 * Not part of the public API.
 *
 * @example Rebuild an error from its name
 * ```ts ignore
 * const Class = Object.hasOwn(ERROR_CLASSES, name) ? ERROR_CLASSES[name] : RequestError;
 * const error = new Class(message, { request });
 * ```
 */
export const ERROR_CLASSES: Readonly<Record<string, typeof RequestError>> = Object.freeze({
  RequestError,
  ConnectionError,
  TimeoutError,
  TooManyRedirectsError,
  HTTPError,
  InvalidURLError,
  InvalidHeaderError,
  JSONDecodeError,
  ContentTooLargeError,
  SchemaValidationError,
});
