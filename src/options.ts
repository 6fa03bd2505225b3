// The request options: their types, documented one by one, and their normalization at the
// boundary, so the rest of the module sees one checked shape.

import { clip } from "./errors.ts";
import { bare } from "./_runtime.ts";
import type { DataBody } from "./body.ts";
import type { FileSpec } from "./multipart.ts";
import { HTTPDigestAuth } from "./digest_auth.ts";
import type { HttpCache } from "./cache/http_cache.ts";

/** Request headers: a plain object, a `Headers`, or `[name, value]` pairs; names case-insensitive. */
export type HeaderInput =
  | Record<string, string | number | boolean | null | undefined>
  | Headers
  | readonly (readonly [string, string])[];

/** A scalar form or query value. */
export type Scalar = string | number | boolean;
/** A form or query value: a scalar, a list of scalars (the key repeats), or null to skip it. */
export type FormValue = Scalar | readonly Scalar[] | null | undefined;
/** Query parameters or form fields, in any of the accepted shapes. */
export type FormFields =
  | Record<string, FormValue>
  | URLSearchParams
  | readonly (readonly [string, Scalar])[];

/** Credentials: `[user, password]` (Basic), `{ bearer: token }`, or an `HTTPDigestAuth`. */
export type Auth = readonly [user: string, password: string] | { bearer: string } | HTTPDigestAuth;

/**
 * Something to send requests with: a fetch-compatible function, or a web handler
 * `(request) => Response` such as a `Deno.serve` or `Bun.serve` handler (it is called with a
 * `Request` and no socket is used).
 */
export type FetchLike = (
  input: Request,
) => Promise<globalThis.Response> | globalThis.Response;

/** When and how often to send a request again, with urllib3's names and meaning. */
export interface RetryOptions {
  /** How many retries at most. @default 0 */
  total?: number;
  /** Sleep `backoff_factor * 2 ** (retry - 1)` seconds before each retry. @default 0 */
  backoff_factor?: number;
  /** Statuses that are retried, e.g. `[429, 502, 503, 504]`. @default [] */
  status_forcelist?: readonly number[];
  /** Methods that are retried. @default ["DELETE", "GET", "HEAD", "OPTIONS", "PUT", "TRACE"] */
  allowed_methods?: readonly string[];
  /** Wait as long as a `Retry-After` header says (capped by `backoff_max`). @default true */
  respect_retry_after?: boolean;
  /** The longest sleep between two tries, in seconds. @default 120 */
  backoff_max?: number;
}

/** A request hook of a session: it sees the outgoing native `Request` and may return another. */
export type RequestHook = (request: Request) => Request | void | Promise<Request | void>;

/** The options of one request. Every one is optional. */
export interface RequestOptions {
  /**
   * The raw body: text (sent as UTF-8), bytes, a `Blob`, a stream, `URLSearchParams`,
   * `FormData`, or a plain object of form fields (sent `application/x-www-form-urlencoded`).
   */
  data?: DataBody;
  /** A value sent as JSON with `Content-Type: application/json`. */
  json?: unknown;
  /** Files sent as `multipart/form-data`: field name to `[filename, content, type?]` or a Blob. */
  files?: Record<string, FileSpec>;
  /** Extra request headers; names are case-insensitive. */
  headers?: HeaderInput | null;
  /** Credentials: `[user, password]`, `{ bearer }` or an `HTTPDigestAuth`. */
  auth?: Auth | null;
  /** Resolve at the headers and read the body on demand. @default false */
  stream?: boolean | null;
  /** Query parameters appended to the URL; arrays repeat the key, null skips it. */
  params?: FormFields | null;
  /**
   * Seconds to wait for the response headers and for each next piece of the body, or
   * `[connect, read]` (the headers wait is their sum, each body read waits `read`). Either part
   * may be `null`: `[null, read]` waits `read` for the headers; `[connect, null]` sets no limit,
   * since fetch cannot tell connecting from waiting for the answer.
   * @default undefined (no limit)
   */
  timeout?: number | readonly [connect: number | null, read: number | null] | null;
  /** Seconds for the whole call: redirects, retries and the body. @default undefined */
  total_timeout?: number | null;
  /** Follow redirects. @default true (false for `head()`) */
  allow_redirects?: boolean | null;
  /** Most redirects followed before `TooManyRedirectsError`. @default 30 */
  max_redirects?: number | null;
  /**
   * Cookies sent with this request (dropped on a redirect to another origin); a name the
   * session's jar holds too is sent once, with this value, and a null value keeps the jar's
   * cookie of that name back for this request.
   */
  cookies?: Record<string, string | null> | null;
  /** Aborts the call; the promise rejects with the signal's reason. */
  signal?: AbortSignal | null;
  /** Called as the body arrives with the bytes so far and the expected total, if known. */
  progress?: ((loaded: number, total: number | null) => void) | null;
  /**
   * Called as the request body is handed to the transport, with the bytes sent so far and the
   * body's size where known; the body is streamed in pieces so the count moves during the upload.
   */
  upload_progress?: ((sent: number, total: number | null) => void) | null;
  /** Largest body accepted, after decompression; beyond it `ContentTooLargeError`. */
  max_bytes?: number | null;
  /** What to send with: a fetch-like function or a web handler. @default globalThis.fetch */
  fetch?: FetchLike | null;
  /** More header names dropped on a redirect to another origin, like `Authorization`. */
  sensitive_headers?: readonly string[] | null;
  /** Retries: a count, or urllib3-style options. @default 0 */
  retries?: number | RetryOptions | null;
  /** Verify TLS certificates: `false`, or a CA bundle (PEM text or a file path). @default true */
  verify?: boolean | string | null;
  /** A client certificate: `[cert, key]`, each PEM text or a file path. */
  cert?: readonly [cert: string, key: string] | null;
  /** Proxy URLs per scheme, e.g. `{ https: "http://127.0.0.1:3128" }`. */
  proxies?: { http?: string; https?: string } | null;
  /**
   * An HTTP cache (RFC 9111) for this request: an `HttpCache`; `false` (or null) for none, so
   * that a call in a Session with a cache neither reads nor writes it. A Session also takes
   * `true`: a new in-memory cache of its own. See `r.from_cache` and `r.cache_status`.
   * @default undefined (no cache)
   */
  cache?: HttpCache | boolean | null;
}

const KNOWN = new Set<string>([
  "data",
  "json",
  "files",
  "headers",
  "auth",
  "stream",
  "params",
  "timeout",
  "total_timeout",
  "allow_redirects",
  "max_redirects",
  "cookies",
  "signal",
  "progress",
  "upload_progress",
  "max_bytes",
  "fetch",
  "sensitive_headers",
  "retries",
  "verify",
  "cert",
  "proxies",
  "cache",
]);

/** A close known name for a mistyped option, for the error message. */
function suggest(name: string): string {
  const lower = name.toLowerCase().replace(/-/g, "_");
  for (const known of KNOWN) {
    if (
      known === lower || known === `${lower}s` || `${known}s` === lower ||
      known.replace(/_/g, "") === lower.replace(/_/g, "")
    ) {
      return ` (did you mean '${known}'?)`;
    }
  }
  return "";
}

/**
 * The own properties of `options` on a null prototype: nothing inherited (a polluted
 * `Object.prototype`) is ever read as an option.
 */
export function ownOptions<T extends object>(options: T): T {
  return Object.assign(bare(), options);
}

/**
 * `ownOptions` and `checkOptionNames` in one pass: the own request options of `options` on a
 * null prototype, or a TypeError naming the first unknown one.
 */
export function knownOptions(options: object): RequestOptions {
  const own: Record<string, unknown> = bare();
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw new TypeError(`Unknown option '${clip(name)}'${suggest(name)}`);
    own[name] = (options as Record<string, unknown>)[name];
  }
  return own as RequestOptions;
}

/** Throws a TypeError for any own key of `options` that is not a request option. */
export function checkOptionNames(options: object, extra?: ReadonlySet<string>): void {
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name) && !extra?.has(name)) {
      throw new TypeError(`Unknown option '${clip(name)}'${suggest(name)}`);
    }
  }
}

function seconds(value: unknown, option: string): number {
  if (typeof value !== "number" || !(value > 0) || value === Infinity) {
    throw new TypeError(`Invalid '${option}': expected a positive number of seconds`);
  }
  return value * 1000;
}

const NO_TIMEOUT: [null, null] = Object.freeze([null, null]) as unknown as [null, null];

/** `timeout` as [headers wait, per-read wait] in milliseconds. */
export function timeoutMs(value: RequestOptions["timeout"]): [number | null, number | null] {
  if (value === undefined || value === null) return NO_TIMEOUT;
  if (Array.isArray(value)) {
    if (value.length !== 2) {
      throw new TypeError("Invalid 'timeout': expected seconds or [connect, read]");
    }
    const connect = value[0] === null ? 0 : seconds(value[0], "timeout");
    const read = value[1] === null ? null : seconds(value[1], "timeout");
    return [read === null ? null : connect + read, read];
  }
  const ms = seconds(value, "timeout");
  return [ms, ms];
}

/** `total_timeout` in milliseconds, or null. */
export function totalMs(value: unknown): number | null {
  return value === undefined || value === null ? null : seconds(value, "total_timeout");
}

/** A non-negative integer option, or `fallback` when absent. */
export function count(value: unknown, option: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`Invalid '${option}': expected a whole number of 0 or more`);
  }
  return value;
}

/** A boolean option, or `fallback` when absent. */
export function flag(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") {
    throw new TypeError(`Invalid '${option}': expected true or false`);
  }
  return value;
}

/** A function option, or null when absent. */
export function callback<T>(value: unknown, option: string): T | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "function") throw new TypeError(`Invalid '${option}': expected a function`);
  return value as T;
}

/** The `signal` option, or undefined when absent. */
export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined || value === null) return undefined;
  if (!(value instanceof AbortSignal)) {
    throw new TypeError("Invalid 'signal': expected an AbortSignal");
  }
  return value;
}

// Basic and bearer credentials as an Authorization header; digest lives in digest_auth.ts.

const utf8 = new TextEncoder();
type ToBase64 = { toBase64?: () => string };

/** Standard base64 of `bytes`, with the platform's fastest means. */
export function base64(bytes: Uint8Array): string {
  const native = (bytes as ToBase64).toBase64;
  if (typeof native === "function") return native.call(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** `Basic base64(utf8(user:password))`. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${base64(utf8.encode(`${user}:${password}`))}`;
}

/** Checks the shape of `auth`; a TypeError naming it (never showing a secret) when wrong. */
export function checkAuth(auth: unknown): Auth | null {
  if (auth === undefined || auth === null) return null;
  if (auth instanceof HTTPDigestAuth) return auth;
  if (Array.isArray(auth)) {
    if (auth.length === 2 && typeof auth[0] === "string" && typeof auth[1] === "string") {
      return auth as unknown as Auth;
    }
  } else if (
    typeof auth === "object" && typeof (auth as { bearer?: unknown }).bearer === "string"
  ) {
    const token = (auth as { bearer: string }).bearer;
    if (/[\r\n\0]/.test(token)) {
      throw new TypeError("Invalid 'auth': the bearer token contains CR, LF or NUL");
    }
    return auth as Auth;
  }
  throw new TypeError(
    "Invalid 'auth': expected [user, password], { bearer: token } or an HTTPDigestAuth",
  );
}

/** The Authorization header for Basic or bearer `auth`; null for digest (it answers a 401). */
export function staticAuthorization(auth: Auth): string | null {
  if (Array.isArray(auth)) return basicAuthorization(auth[0], auth[1]);
  if (auth instanceof HTTPDigestAuth) return null;
  return `Bearer ${(auth as { bearer: string }).bearer}`;
}
