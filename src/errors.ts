/**
 * The error family. Every network, protocol and HTTP failure the module reports is a
 * {@linkcode RequestError}; misuse of the API (wrong types, conflicting options) is a
 * `TypeError` naming the argument instead.
 *
 * @module
 */

import type { Response } from "./response.ts";

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
 * `Connection refused: GET http://127.0.0.1:9/` (a {@linkcode Response} built by hand has no URL,
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
   * @param message What failed and why; the method and URL are appended.
   * @param options The request, and optionally the response and the cause.
   */
  constructor(message: string, options: RequestErrorOptions) {
    const { method, url } = options.request;
    super(url ? `${message}: ${method} ${url}` : message, { cause: options.cause });
    this.request = Object.freeze({ method, url });
    this.response = options.response;
  }
}

/** The connection failed: refused, reset, closed early, or a body cut short. */
export class ConnectionError extends RequestError {
  /** Always `"ConnectionError"`. */
  override name = "ConnectionError";
}

/** The server did not answer, or did not send the next piece of the body, in time. */
export class TimeoutError extends RequestError {
  /** Always `"TimeoutError"`. */
  override name = "TimeoutError";
}

/** More redirects than `max_redirects`; `history` holds the responses seen. */
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

/** `raise_for_status()` found a 4xx or 5xx status; `response` is set. */
export class HTTPError extends RequestError {
  /** Always `"HTTPError"`. */
  override name = "HTTPError";
}

/** The URL is malformed, not `http(s)`, or a redirect pointed somewhere it must not go. */
export class InvalidURLError extends RequestError {
  /** Always `"InvalidURLError"`. */
  override name = "InvalidURLError";
}

/** A header name or value is not valid (CR, LF, NUL or a character outside a token). */
export class InvalidHeaderError extends RequestError {
  /** Always `"InvalidHeaderError"`. */
  override name = "InvalidHeaderError";
}

/** `json()` found an empty or invalid JSON body. */
export class JSONDecodeError extends RequestError {
  /** Always `"JSONDecodeError"`. */
  override name = "JSONDecodeError";
}

/** The body is larger than `max_bytes` (counted after decompression). */
export class ContentTooLargeError extends RequestError {
  /** Always `"ContentTooLargeError"`. */
  override name = "ContentTooLargeError";
}
