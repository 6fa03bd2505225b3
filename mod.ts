/**
 * `requests` for Deno and Bun: the small, friendly API of MicroPython's and OpenMV's
 * `requests` module (itself modelled on Python `requests`), built on the platform's `fetch`,
 * with no dependencies.
 *
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * // An in-process web handler stands in for a server here; with a real URL, drop `fetch`.
 * const fetch = async (req: Request) =>
 *   globalThis.Response.json({
 *     method: req.method,
 *     source: req.headers.get("x-source"),
 *     body: await req.text(),
 *   });
 *
 * const r = await requests.post("http://example.test/post", {
 *   json: { id: 1, value: 42 },
 *   headers: { "X-Source": "openmv" },
 *   fetch,
 * });
 * assert.equal(r.status_code, 200);
 * assert.equal(r.reason, "OK");
 * assert.deepEqual(r.json(), { method: "POST", source: "openmv", body: '{"id":1,"value":42}' });
 * ```
 *
 * Every failure is a {@linkcode RequestError} carrying the method and the URL with credentials
 * redacted; misuse of the API is a `TypeError` naming the argument.
 *
 * @module
 */

export { del, del as delete, get, head, patch, post, put, request } from "./src/request.ts";
export { type Link, Response, type SentRequest, type ServerSentEvent } from "./src/response.ts";
export { events, type EventsOptions } from "./src/events.ts";
export {
  type NextPage,
  type PageOptions,
  paginate,
  type PaginateOptions,
  type PaginationOptions,
} from "./src/pages.ts";
export type {
  Auth,
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
export { HTTPDigestAuth } from "./src/digest_auth.ts";
export {
  type ResponseHook,
  Session,
  type SessionHooks,
  type SessionOptions,
} from "./src/session.ts";
export {
  type Cookie,
  type CookieFilter,
  CookieJar,
  type CookieJarData,
  type CookieOptions,
} from "./src/cookies/jar.ts";
export { type CacheMethod, HttpCache, type HttpCacheOptions } from "./src/cache/http_cache.ts";
export {
  type CacheRecord,
  type CacheStore,
  MemoryCacheStore,
  type MemoryCacheStoreOptions,
} from "./src/cache/store.ts";
export { SqliteCacheStore, type SqliteCacheStoreOptions } from "./src/cache/sqlite_store.ts";
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
