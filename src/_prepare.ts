// The first stage of a request: every option read and checked once, the body encoded once, the
// result frozen. Everything after this sees only the prepared request.

import { clip } from "./errors.ts";
import type { BodyLimits } from "./_chunk_reader.ts";
import { addHeaders, checkHeader, dropCredentials, HeaderMap, sessionHeaders } from "./_headers.ts";
import { type RetryPolicy, retryPolicy } from "./_retry.ts";
import { bare, RUNTIME } from "./_runtime.ts";
import { type ClientLease, leaseClient } from "./transport/_clients.ts";
import { createSender, fetchRefuses, type Sender, type SenderPlan } from "./transport/_sender.ts";
import { bypassSender, cachingSender } from "./cache/http_cache.ts";
import { HttpCache } from "./cache/http_cache.ts";
import { type Settings, settingsOf } from "./transport/_settings.ts";
import { canStreamUploads, type UploadProgress } from "./_upload.ts";
import { appendParams, type CanonicalUrl, canonicalUrl, parseTarget } from "./_url.ts";
import { encodeBody, type EncodedBody } from "./body.ts";
import { HTTPDigestAuth } from "./digest_auth.ts";
import type { RequestInfo } from "./errors.ts";
import { HopInfo } from "./_hop.ts";
import {
  type Auth,
  callback,
  checkAuth,
  checkSignal,
  count,
  type FetchLike,
  flag,
  knownOptions,
  type RequestHook,
  type RequestOptions,
  staticAuthorization,
  timeoutMs,
  totalMs,
} from "./options.ts";

/** The cookie jar of a session, as the request path uses it. */
export interface Jar {
  setFromResponse(url: URL, setCookie: readonly string[]): void;
  /** Parses a URL text only when it has cookies to match. */
  cookieHeader(url: URL | string): string | null;
}

/** What a session adds to a call: its headers, credentials, cookie jar, hooks and transport. */
export interface SessionContext {
  /** Default headers; the request's own headers replace them name by name. */
  headers?: Headers;
  /** The session's credentials, used when the call gives none. */
  auth?: Auth | null;
  /**
   * The only origin the session's credentials (its auth, and the Authorization,
   * Proxy-Authorization, Cookie and sensitive headers among its defaults) are sent to: the
   * base URL's. Null when the session has no base URL.
   */
  credentialOrigin?: string | null;
  /** Stores cookies from every hop and supplies them for every hop. */
  jar?: Jar;
  /** Request hooks (response hooks run in the session, which can send again). */
  requestHooks?: RequestHook[];
  /** The runtime client the session holds for its own `verify`, `cert` and `proxies`. */
  client?: SessionClient | null;
}

/** The runtime client a session leased for its own settings, which its calls use. */
export interface SessionClient {
  /** The session's settings. */
  readonly settings: Settings;
  /** A lease for one call on the session's client: it stays open until the call releases it. */
  lease(): ClientLease;
}

/** The caller's own cookies for a call. */
export interface CallerCookies {
  /** The pairs to send, as a Cookie header value; null when every name given was null. */
  readonly pairs: string | null;
  /** Every name the caller gave: the jar's cookies of these names are not sent. */
  readonly names: ReadonlySet<string>;
}

/** A request with every option checked: what the hop loop sends. */
export interface Prepared {
  readonly method: string;
  /** What the first hop sends, for `r.request` and errors. */
  readonly info: HopInfo;
  /** The first hop's URL as sent: credentials and fragment removed, params added. */
  readonly href: string;
  /** `href` parsed, or null where the text needed no parsing (see `target`). */
  readonly url: URL | null;
  /** The URL's fragment (`#...`) or `""`: never sent, kept in `r.url`. */
  readonly fragment: string;
  /** The first hop's headers, without cookies from the jar or digest credentials. */
  readonly headers: HeaderMap | null;
  readonly body: EncodedBody;
  /** Credentials that still matter after the first hop: digest, answered per challenge. */
  readonly digest: HTTPDigestAuth | null;
  /** The caller's own cookies (`cookies` and a Cookie header), sent before the jar's. */
  readonly cookies: CallerCookies | null;
  readonly jar: Jar | null;
  readonly limits: BodyLimits;
  readonly headersMs: number | null;
  readonly totalMs: number | null;
  readonly signal: AbortSignal | undefined;
  readonly stream: boolean;
  readonly follow: boolean;
  readonly maxRedirects: number;
  readonly sensitive: readonly string[];
  readonly retries: RetryPolicy;
  /** How every hop goes out. */
  readonly sender: Sender;
}

const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STANDARD_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);
const NO_OPTIONS: RequestOptions = Object.freeze(bare<RequestOptions>());
const NO_NAMES: readonly string[] = Object.freeze([]);
/** The limits of a call that sets none (shared: most calls). */
const NO_LIMITS: BodyLimits = Object.freeze({ readMs: null, maxBytes: null, progress: null });

/** The method, upper-cased; a TypeError when it is not an HTTP token. */
function checkMethod(method: unknown): string {
  if (typeof method === "string" && STANDARD_METHODS.has(method)) return method;
  if (typeof method !== "string") {
    throw new TypeError("Invalid 'method': expected a string such as \"GET\"");
  }
  if (!METHOD.test(method)) {
    throw new TypeError(`Invalid 'method': ${JSON.stringify(clip(method))} is not an HTTP method`);
  }
  return method.toUpperCase();
}

/** The URL parts of a prepared request. */
interface Target {
  href: string;
  url: URL | null;
  fragment: string;
  canonical: CanonicalUrl | null;
  credentials: [string, string] | null;
}

function target(method: string, url: unknown, options: RequestOptions): Target {
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw new TypeError("Invalid 'url': expected a string or URL");
  }
  const params = options.params;
  if (typeof url === "string" && (params === undefined || params === null)) {
    const canonical = canonicalUrl(url);
    if (canonical !== null) {
      return { href: url, url: null, fragment: "", canonical, credentials: null };
    }
  }
  const parsed = parseTarget(url, method);
  const full = parsed.url;
  if (params !== undefined && params !== null) appendParams(full, params);
  const fragment = full.hash;
  if (fragment !== "") full.hash = "";
  return { href: full.href, url: full, fragment, canonical: null, credentials: parsed.credentials };
}

/** The origin of a prepared URL (`scheme://host:port`). */
function originOf(target: Target): string {
  return (target.url ?? new URL(target.href)).origin;
}

/**
 * Reads and checks every option of one call, in a fixed order so that the first problem is
 * always the one reported, and encodes the body once: later stages never read `options` again,
 * so changing them after the call has no effect.
 */
export function prepare(
  method: string,
  url: string | URL,
  given: RequestOptions | undefined,
  session: SessionContext | null,
): Prepared {
  method = checkMethod(method);
  let options = NO_OPTIONS;
  if (given !== undefined && given !== null) {
    if (typeof given !== "object") throw new TypeError("Invalid 'options': expected an object");
    options = knownOptions(given);
  }
  const where = target(method, url, options);
  // What the first hop sends; errors raised while preparing name it too (its URL redacted).
  const info = new HopInfo(method, where.url ?? where.href);
  const sensitive = sensitiveHeaders(options.sensitive_headers);
  // The session's credentials go only to its base URL's origin.
  const trusted = session?.credentialOrigin == null ||
    originOf(where) === session.credentialOrigin;

  let headers = callHeaders(options, session, trusted, sensitive, info);
  const body = encodeBody(options.data, options.json, options.files);
  const auth = authOf(options, where, trusted ? session : null);
  headers = impliedHeaders(headers, body.contentType, auth);
  const cookies = callerCookies(headers, options.cookies, info);
  // Not destructured: on Bun (JavaScriptCore) that goes through the array iterator.
  const timeouts = timeoutMs(options.timeout);
  const headersMs = timeouts[0];
  const readMs = timeouts[1];
  const custom = callback<FetchLike>(options.fetch, "fetch");
  const progress = callback<BodyLimits["progress"]>(options.progress, "progress");
  const uploadProgress = uploadProgressOf(options, body, where.href);
  const maxBytes = options.max_bytes === undefined || options.max_bytes === null
    ? null
    : count(options.max_bytes, "max_bytes", 0);
  const stream = flag(options.stream, "stream", false);
  const follow = flag(options.allow_redirects, "allow_redirects", method !== "HEAD");
  const maxRedirects = count(options.max_redirects, "max_redirects", 30);
  const signal = checkSignal(options.signal);
  const retries = retryPolicy(options.retries);
  const total = totalMs(options.total_timeout);
  const inflateHere = inflatesHere(custom, maxBytes !== null || stream, headers);
  if (inflateHere) (headers ??= new HeaderMap()).set("accept-encoding", "gzip, deflate, br");
  const cache = cacheOf(options.cache);
  // Last: nothing after it throws, so a leased client is always released by the hop loop.
  const sender = cached(
    senderOf(method, options, session, body, {
      custom,
      hooks: null,
      uploadProgress,
      inflateHere,
      follow,
      canonical: where.canonical,
    }),
    cache,
    sensitive,
  );
  return Object.freeze({
    method,
    info,
    href: where.href,
    url: where.url,
    fragment: where.fragment,
    headers,
    body,
    digest: auth instanceof HTTPDigestAuth ? auth : null,
    cookies,
    jar: session?.jar ?? null,
    limits: limitsOf(readMs, maxBytes, progress),
    headersMs,
    totalMs: total,
    signal,
    stream,
    follow,
    maxRedirects,
    sensitive,
    retries,
    sender,
  });
}

/**
 * How the call's hops go out: the runtime client for its TLS and proxy settings (leased), and
 * the sender chosen once for the whole call.
 */
function senderOf(
  method: string,
  options: RequestOptions,
  session: SessionContext | null,
  body: EncodedBody,
  plan: Omit<SenderPlan, "lease">,
): Sender {
  const bodyOnGet = fetchRefuses(method, body.body)
    ? `a ${method} request with a body ('${bodyOption(options)}')`
    : null;
  const hooks = session?.requestHooks;
  const lease = clientOf(options, session, bodyOnGet === null);
  try {
    return createSender({
      ...plan,
      lease,
      hooks: hooks === undefined || hooks.length === 0 ? null : hooks,
    }, bodyOnGet);
  } catch (error) {
    lease.release();
    throw error;
  }
}

/** The call's sender wrapped by its cache (`false`: marked as bypassing one). */
function cached(sender: Sender, cache: HttpCache | false | null, sensitive: readonly string[]) {
  if (cache === null) return sender;
  return cache === false ? bypassSender(sender) : cachingSender(cache, sender, sensitive);
}

/**
 * The `cache` option: the call's HttpCache, `false` when the call bypasses a cache it would
 * have had (a Session's), or null for none.
 */
function cacheOf(value: unknown): HttpCache | false | null {
  if (value === undefined || value === null) return null;
  if (value === false) return false;
  if (value instanceof HttpCache) return value;
  if (value === true) {
    throw new TypeError(
      "Invalid 'cache': true asks a Session for a cache of its own; a request takes an HttpCache",
    );
  }
  throw new TypeError("Invalid 'cache': expected an HttpCache, or false");
}

/**
 * The call's credentials: its `auth` (`null` lifts the session's), else those in the URL, else
 * the session's (null where they must not go).
 */
function authOf(
  options: RequestOptions,
  where: Target,
  session: SessionContext | null,
): Auth | null {
  const given = checkAuth(options.auth);
  if (given !== null) return given;
  return where.credentials ?? (options.auth === null ? null : session?.auth ?? null);
}

/** The option that gave the body, for a message. */
function bodyOption(options: RequestOptions): string {
  return options.json !== undefined ? "json" : options.files !== undefined ? "files" : "data";
}

/**
 * The runtime client for the call's `verify`, `cert` and `proxies` (the session's own when they
 * are the session's), shared with every call like it. What the first hop's transport cannot
 * carry, or a PEM file that cannot be read, is a TypeError now, before anything is sent.
 */
function clientOf(
  options: RequestOptions,
  session: SessionContext | null,
  fetchFirst: boolean,
): ClientLease {
  const settings =
    options.verify === undefined && options.cert === undefined && options.proxies === undefined
      ? null
      : settingsOf(options);
  const owned = session?.client;
  const lease = settings !== null && owned != null && owned.settings.key === settings.key
    ? owned.lease()
    : leaseClient(settings, false);
  if (settings !== null) {
    try {
      if (fetchFirst) lease.client.fetchInit("https");
      else void lease.client.tls;
    } catch (error) {
      lease.release();
      throw error;
    }
  }
  return lease;
}

/** `upload_progress`, or a TypeError where this runtime's fetch cannot stream the body. */
function uploadProgressOf(
  options: RequestOptions,
  body: EncodedBody,
  href: string,
): UploadProgress | null {
  const progress = callback<UploadProgress>(options.upload_progress, "upload_progress");
  if (progress !== null && body.body !== null && !canStreamUploads(href)) {
    throw new TypeError(
      "Invalid 'upload_progress': this runtime's fetch cannot stream a request body here " +
        "(a browser streams uploads over https only)",
    );
  }
  return progress;
}

/** The limits a body is read under; one shared object when the call sets none. */
function limitsOf(
  readMs: number | null,
  maxBytes: number | null,
  progress: BodyLimits["progress"],
): BodyLimits {
  return readMs === null && maxBytes === null && progress === null
    ? NO_LIMITS
    : { readMs, maxBytes, progress };
}

/**
 * The session's headers (without its credentials where they must not go), then the call's.
 * The session's are checked too: they are mutable, and Bun would send a control byte.
 */
function callHeaders(
  options: RequestOptions,
  session: SessionContext | null,
  trusted: boolean,
  sensitive: readonly string[],
  info: RequestInfo,
): HeaderMap | null {
  let headers = session?.headers === undefined ? null : sessionHeaders(session.headers, info);
  if (headers !== null && !trusted) dropCredentials(headers, sensitive);
  if (options.headers !== undefined && options.headers !== null) {
    addHeaders(headers ??= new HeaderMap(), options.headers, info);
  }
  return headers;
}

/**
 * What the body and the credentials imply: the body's Content-Type unless the caller gave one,
 * and the Authorization of Basic or bearer auth (it replaces the caller's).
 */
function impliedHeaders(
  headers: HeaderMap | null,
  contentType: string | null,
  auth: Auth | null,
): HeaderMap | null {
  if (contentType !== null && headers?.has("content-type") !== true) {
    (headers ??= new HeaderMap()).set("content-type", contentType);
  }
  const authorization = auth === null ? null : staticAuthorization(auth);
  if (authorization !== null) (headers ??= new HeaderMap()).set("authorization", authorization);
  return headers;
}

/**
 * Bun's fetch goes on inflating a body after it was cancelled, so a bomb refused at max_bytes
 * would still cost its whole size: on Bun the module asks for gzip, deflate and br (not zstd)
 * and inflates them itself, no faster than the body is read. Only where a body may be cut off
 * (max_bytes, a stream closed early): without a limit the whole body is wanted anyway, and
 * Bun's own decoding is the faster path.
 */
function inflatesHere(
  custom: FetchLike | null,
  limited: boolean,
  headers: HeaderMap | null,
): boolean {
  return RUNTIME === "bun" && custom === null && limited &&
    headers?.has("accept-encoding") !== true;
}

/**
 * The caller's own cookies: a Cookie header given in `headers`, then `cookies`. Kept apart from
 * the headers, since the jar's cookies are added per hop: a name the caller gave is sent once,
 * with the caller's value, and a name set to null keeps the jar's cookie of that name back.
 */
function callerCookies(
  headers: HeaderMap | null,
  cookies: RequestOptions["cookies"],
  info: RequestInfo,
): CallerCookies | null {
  const header = headers?.get("cookie") ?? null;
  headers?.delete("cookie");
  if (header === null && (cookies === undefined || cookies === null)) return null;
  const names = new Set<string>();
  let pairs = header;
  if (header !== null) {
    for (const pair of header.split(";")) names.add(pair.split("=", 1)[0].trim());
  }
  if (cookies !== undefined && cookies !== null) {
    const given = cookiePairs(cookies, names, info);
    if (given !== "") pairs = pairs === null ? given : `${pairs}; ${given}`;
  }
  return { pairs, names };
}

/**
 * `cookies` as Cookie header pairs, every name added to `names`; names and values are checked
 * like header values, and a null value sends nothing.
 */
function cookiePairs(
  cookies: Record<string, string | null>,
  names: Set<string>,
  info: RequestInfo,
): string {
  if (typeof cookies !== "object" || Array.isArray(cookies)) {
    throw new TypeError("Invalid 'cookies': expected an object of name to value");
  }
  let text = "";
  for (const name of Object.keys(cookies)) {
    const value = cookies[name];
    if (value === undefined) continue;
    if (value !== null && typeof value !== "string") {
      throw new TypeError(
        `Invalid 'cookies': value of ${JSON.stringify(clip(name))} must be a string or null`,
      );
    }
    if (/[;=\s]/.test(name) || name === "") {
      throw new TypeError(`Invalid 'cookies': ${JSON.stringify(clip(name))} is not a cookie name`);
    }
    names.add(name);
    if (value === null) continue;
    checkHeader("cookie", value, info);
    if (value.includes(";")) {
      throw new TypeError(`Invalid 'cookies': value of ${JSON.stringify(clip(name))} contains ';'`);
    }
    text += `${text === "" ? "" : "; "}${name}=${value}`;
  }
  return text;
}

function sensitiveHeaders(value: unknown): readonly string[] {
  if (value === undefined || value === null) return NO_NAMES;
  if (!Array.isArray(value) || !value.every((name) => typeof name === "string")) {
    throw new TypeError("Invalid 'sensitive_headers': expected an array of header names");
  }
  return value.map((name) => name.toLowerCase());
}
