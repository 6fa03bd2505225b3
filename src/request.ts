/**
 * The one path a request travels: options -> native Request -> fetch -> redirects -> Response.
 *
 * @module
 */

import { type BodyLimits, BodyReader } from "./_body_reader.ts";
import { decodeBody, pendingCodings } from "./_decode.ts";
import { CallGuard } from "./_guard.ts";
import { bare, RUNTIME } from "./_runtime.ts";
import { retryDelayMs, retryPolicy } from "./_retry.ts";
import { createTransport, type Transport } from "./_transport.ts";
import { addHeaders, addSessionHeaders, checkHeader, HeaderMap } from "./_headers.ts";
import { appendParams, parseTarget, redactUrl } from "./_url.ts";
import { checkAuth, staticAuthorization } from "./auth.ts";
import { encodeBody } from "./body.ts";
import { HTTPDigestAuth } from "./digest_auth.ts";
import {
  ConnectionError,
  ContentTooLargeError,
  RequestError,
  type RequestInfo,
  TooManyRedirectsError,
} from "./errors.ts";
import {
  type Auth,
  callback,
  checkSignal,
  count,
  type FetchLike,
  flag,
  type Hooks,
  knownOptions,
  type RequestOptions,
  timeoutMs,
  totalMs,
} from "./options.ts";
import { nextHop, REDIRECTS, stripHeaders } from "./redirects.ts";
import {
  attachBytes,
  attachReader,
  fromNative,
  fromPlain,
  type Response,
  type SentRequest,
} from "./response.ts";

/** What a session adds to a call: its headers, cookie jar, hooks and transport. */
export interface SessionContext {
  /** Default headers; the request's own headers replace them name by name. */
  headers?: Headers;
  /** Stores cookies from every hop and supplies them for every hop. */
  jar?: {
    setFromResponse(url: URL, setCookie: readonly string[]): void;
    cookieHeader(url: URL): string | null;
  };
  /** Request hooks (response hooks run in the session, which can send again). */
  requestHooks?: Hooks["request"];
  /** The session's transport for `verify`, `cert` and `proxies`, when it has one. */
  transport?: Transport | null;
}

const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NO_OPTIONS: RequestOptions = Object.freeze(Object.create(null));
const EMPTY = new Uint8Array(0);
const NO_BODY_STATUS = new Set([204, 205, 304]);
/**
 * The largest Content-Length read in one go under a read `timeout`: a body this small comes in
 * one piece (a runtime reads 64 KiB at a time), so the read timeout bounds the whole of it.
 */
const ONE_PIECE = 64 * 1024;
/**
 * A browser answers `redirect: "manual"` with an opaque response that hides the status and the
 * Location, so there the browser follows redirects itself and `history` stays empty.
 */
const BROWSER_FOLLOWS = RUNTIME === "browser";
const INFLATE_HERE = RUNTIME === "bun";
/** Where plain GETs skip the full path (not in browsers, which follow redirects themselves). */
const PLAIN_LANE = !BROWSER_FOLLOWS;
/** What Bun is asked for when the module inflates bodies itself (a shared, read-only init). */
const BUN_ACCEPT: HeadersInit = Object.freeze({ "accept-encoding": "gzip, deflate, br" });

const MASKED = new Set(["authorization", "proxy-authorization", "cookie"]);
const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze(bare<Record<string, string>>());

/**
 * What one hop sent: its method, redacted URL and masked header fields, each computed only when
 * an error or `r.request` needs it.
 */
class HopInfo implements SentRequest {
  readonly method: string;
  #url: URL | string;
  #text: string | undefined;
  #fields: Readonly<Record<string, string>> = NO_FIELDS;
  #sensitive: readonly string[] = [];
  #masked: Readonly<Record<string, string>> | undefined;
  constructor(method: string, url: URL | string) {
    this.method = method;
    this.#url = url;
  }
  get url(): string {
    return this.#text ??= redactUrl(this.#url);
  }
  /** Records the header fields sent (a copy: the hop loop changes them for the next hop). */
  sent(fields: Record<string, string> | null, sensitive: readonly string[]): void {
    this.#fields = fields === null ? NO_FIELDS : Object.assign(bare(), fields);
    this.#sensitive = sensitive;
    this.#masked = undefined;
  }
  get headers(): Readonly<Record<string, string>> {
    if (this.#masked !== undefined) return this.#masked;
    const masked: Record<string, string> = {};
    for (const name of Object.keys(this.#fields)) {
      const secret = MASKED.has(name) ||
        this.#sensitive.some((other) => other.toLowerCase() === name);
      masked[name] = secret ? "***" : this.#fields[name];
    }
    return this.#masked = Object.freeze(masked);
  }
  toJSON(): SentRequest {
    return { method: this.method, url: this.url, headers: this.headers };
  }
}

/** The shared init of a plain GET: no options, so nothing but the module's redirect handling. */
const GET_INIT: RequestInit = Object.freeze(
  Object.assign(bare<RequestInit>(), { redirect: "manual" as const }),
);
const DOTTED_QUAD =
  "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}";
/**
 * An `http(s)` URL already in the form the URL parser gives back: lower-case host whose last
 * label is not a number (or a plain dotted quad), a port that is not the default, a path, and
 * no character the parser would escape or drop. No userinfo, fragment, IPv6 or IDNA.
 */
const CANONICAL = new RegExp(
  `^(https?)://(?:(?:[a-z0-9-]+\\.)*[a-z][a-z0-9-]*|${DOTTED_QUAD})(?::([1-9][0-9]{0,4}))?` +
    "/[A-Za-z0-9\\-._~!$&()*+,;=:@%/?]*$",
);

/**
 * True when `url` is exactly `new URL(url).href` for an http(s) URL without credentials, so it
 * can be sent as it is. Rejects, to be safe, anything that merely might be rewritten: dot
 * segments (also percent-encoded) and punycode labels.
 *
 * @param url The URL text.
 * @returns Whether the text needs no parsing to be sent.
 */
export function isCanonicalUrl(url: string): boolean {
  return laneUrl(url) !== null;
}

/** What the plain lane keeps of a canonical URL. */
interface LaneUrl {
  /** A GET of it with `redirect: "manual"`, built on first use: fetch copies a Request given as
   * input more cheaply than it converts an init. */
  get: Request | null;
}

/**
 * URLs checked lately, null for those that are not canonical (at most 256 of at most 2 KiB):
 * scripts call the same few again and again.
 */
const laneUrls = new Map<string, LaneUrl | null>();

/** The lane's record of `url` when it is canonical, else null (see isCanonicalUrl). */
function laneUrl(url: string): LaneUrl | null {
  if (url.length > 2048) return checkCanonical(url) ? { get: null } : null;
  let known = laneUrls.get(url);
  if (known === undefined) {
    known = checkCanonical(url) ? { get: null } : null;
    if (laneUrls.size >= 256) laneUrls.clear();
    laneUrls.set(url, known);
  }
  return known;
}

function checkCanonical(url: string): boolean {
  const match = CANONICAL.exec(url);
  if (match === null || url.includes("/.") || url.includes("xn--") || /%2e/i.test(url)) {
    return false;
  }
  const port = match[2];
  if (port === undefined) return true;
  const number = Number(port);
  return number <= 65535 && number !== (match[1] === "http" ? 80 : 443);
}

/** A final response that arrived on the plain path: handed to the full path to be completed. */
interface Arrived {
  raw: globalThis.Response;
  elapsed: number;
  /** The call's guard, when the plain lane had one (its deadlines run from the call's start). */
  guard: CallGuard | null;
}

/**
 * The init for one hop: only the fields that are set, because fetch converts every one it is
 * given (on Deno even an explicit `method: "GET"` costs a few percent of a loopback request), on
 * an object that inherits nothing a polluted `Object.prototype` could add.
 */
function hopInit(
  method: string,
  headers: HeaderMap | null,
  payload: BodyInit | null,
  signal: AbortSignal | undefined,
): RequestInit & { duplex?: "half"; decompress?: boolean } {
  const init: RequestInit & { duplex?: "half"; decompress?: boolean } = bare();
  init.redirect = "manual";
  if (method !== "GET") init.method = method;
  if (headers !== null) init.headers = headers.fields;
  if (payload !== null) {
    init.body = payload;
    if (payload instanceof ReadableStream) init.duplex = "half";
  }
  if (signal !== undefined) init.signal = signal;
  return init;
}

/**
 * Adds what the body and the credentials imply: the body's Content-Type unless the caller gave
 * one, and the Authorization of Basic or bearer auth (it replaces the caller's).
 */
function impliedHeaders(
  headers: HeaderMap | null,
  contentType: string | null,
  authorization: string | null,
): HeaderMap | null {
  if (contentType !== null && headers?.has("content-type") !== true) {
    (headers ??= new HeaderMap()).set("content-type", contentType);
  }
  if (authorization !== null) (headers ??= new HeaderMap()).set("authorization", authorization);
  return headers;
}

/** The methods the plain lane takes. */
const LANE_METHODS: ReadonlySet<string> = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

/** The options a plain call may have: a `json` body, headers, Basic or bearer auth, timeouts. */
interface LaneOptions {
  json?: unknown;
  headers?: RequestOptions["headers"];
  auth?: RequestOptions["auth"];
  timeout?: RequestOptions["timeout"];
  total_timeout?: RequestOptions["total_timeout"];
  signal?: RequestOptions["signal"];
}

const LANE_OPTIONS: ReadonlySet<string> = new Set([
  "json",
  "headers",
  "auth",
  "timeout",
  "total_timeout",
  "signal",
]);

/**
 * `options` when it holds nothing but `json`, `headers`, a Basic or bearer `auth`, `timeout`,
 * `total_timeout` and `signal` (read once each), else null. A GET with a `json` body is left to the full path, which refuses it.
 */
function laneOptions(options: object, method: string): LaneOptions | null {
  const lane: LaneOptions = bare();
  try {
    for (const name of Object.keys(options)) {
      if (!LANE_OPTIONS.has(name)) return null;
      const value = (options as Record<string, unknown>)[name];
      if (value === undefined || value === null) continue;
      if (name === "auth" && value instanceof HTTPDigestAuth) return null;
      (lane as Record<string, unknown>)[name] = value;
    }
  } catch {
    return null; // a getter that throws (or a Proxy): the full path reports it as a rejection
  }
  return lane.json !== undefined && method === "GET" ? null : lane;
}

/**
 * The common cases, kept to what they need: a call whose only options are `json`, `headers`
 * and a Basic or bearer `auth`, to a URL that needs no parsing, outside a session. No guard, no
 * URL object; a GET without options sends a Request built once per URL. Anything but a plain
 * answer (a redirect, a body with a Content-Encoding, a status without a body) goes on through
 * the full path, which takes the response as it is. Options are checked as the full path checks
 * them, in the same order.
 *
 * @param options The options, or null for none.
 */
async function plainSend(
  method: string,
  href: string,
  target: LaneUrl,
  options: LaneOptions | null,
): Promise<Response> {
  const info = new HopInfo(method, href);
  let init: RequestInit | undefined = undefined;
  let input: string | Request = href;
  let guard: CallGuard | null = null;
  let headersMs: number | null = null;
  let readMs: number | null = null;
  if (options === null) {
    if (method === "GET") input = target.get ??= new Request(href, GET_INIT);
    else init = hopInit(method, null, null, undefined);
  } else {
    // Checked in the order the full path checks them, so that both report the same error.
    let headers: HeaderMap | null = null;
    if (options.headers !== undefined) addHeaders(headers = new HeaderMap(), options.headers, info);
    const body = encodeBody(undefined, options.json, undefined);
    const auth = checkAuth(options.auth);
    headers = impliedHeaders(
      headers,
      body.contentType,
      auth === null ? null : staticAuthorization(auth),
    );
    [headersMs, readMs] = timeoutMs(options.timeout);
    const signal = checkSignal(options.signal);
    const total = totalMs(options.total_timeout);
    if (headersMs !== null || total !== null || signal !== undefined) {
      guard = new CallGuard(info, total, signal, headersMs !== null, true);
      if (guard.failed) throw guard.failure;
    }
    init = hopInit(method, headers, body.body, guard?.signal);
    if (headers !== null) info.sent(headers.fields, []);
  }
  const started = performance.now();
  let raw: globalThis.Response;
  try {
    raw = await (guard === null
      ? fetch(input, init)
      : guard.race(fetch(input, init), headersMs, "No response received"));
  } catch (error) {
    if (guard === null) throw new CallGuard(info, null, undefined).wrap(error, "send");
    const failure = guard.wrap(error, "send");
    guard.finish();
    throw failure;
  }
  const elapsed = (performance.now() - started) / 1000;
  const headers = raw.headers;
  if (
    REDIRECTS.has(raw.status) || NO_BODY_STATUS.has(raw.status) ||
    headers.get("content-encoding") !== null ||
    // A read timeout bounds each piece of a larger body: the full path reads it piece by piece.
    (readMs !== null && !((contentLength(headers) ?? Infinity) <= ONE_PIECE))
  ) {
    return complete(method, href, options ?? undefined, null, { raw, elapsed, guard });
  }
  let bytes: Uint8Array;
  try {
    bytes = guard === null
      ? await bytesOf(raw)
      : await guard.race(bytesOf(raw), readMs, "No data received");
  } catch (error) {
    throw (guard ?? new CallGuard(info, null, undefined)).wrap(error, "body");
  } finally {
    guard?.finish();
  }
  return fromPlain(raw, href, info, elapsed, headers.get("content-type"), bytes);
}

/** The whole body, by the platform's fastest means (`bytes()` where it exists). */
function bytesOf(raw: globalThis.Response): Promise<Uint8Array> {
  return typeof raw.bytes === "function"
    ? raw.bytes()
    : raw.arrayBuffer().then((buffer) => new Uint8Array(buffer));
}

function discard(raw: globalThis.Response): void {
  raw.body?.cancel().catch(() => {});
}

/** Sends `init` to `url` with the platform's fetch, a custom fetch, or through request hooks. */
async function dispatch(
  url: URL,
  init: RequestInit,
  transport: Transport | null,
  custom: FetchLike | null,
  hooks: Hooks["request"] | undefined,
): Promise<globalThis.Response> {
  const extra = transport === null ? null : transport.init(url);
  if (custom === null && (hooks === undefined || hooks.length === 0)) {
    return fetch(url.href, extra === null ? init : { ...init, ...extra });
  }
  let req = new Request(url.href, init);
  for (const hook of hooks ?? []) {
    const replaced = await hook(req);
    if (replaced instanceof Request) req = replaced;
  }
  // Fields a Request does not carry (Bun's `decompress`) are passed to fetch beside it.
  const platform = (init as { decompress?: boolean }).decompress === false
    ? { ...extra, decompress: false }
    : extra;
  const res =
    await (custom !== null ? custom(req) : platform === null ? fetch(req) : fetch(req, platform));
  if (!(res instanceof globalThis.Response)) {
    throw new TypeError("Invalid 'fetch': it must return a Response");
  }
  return res;
}

/** The `Cookie` header for a hop: the caller's cookies first, then the jar's. */
function cookieHeader(explicit: string | null, jar: string | null): string | null {
  if (explicit === null) return jar;
  return jar === null ? explicit : `${explicit}; ${jar}`;
}

/**
 * Sends a request and returns its response. The body is read before the promise resolves,
 * unless `stream` is true. Every failure is a rejection, never a synchronous throw.
 *
 * @param method The HTTP method, any case (sent upper-cased).
 * @param url An absolute `http://` or `https://` URL; credentials in it become Basic auth.
 * @param options The request options.
 * @returns The response.
 *
 * @example Send any method
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = (req: Request) => Response.json({ method: req.method });
 * const r = await requests.request("options", "http://example.test/", { fetch });
 * assert.deepEqual(r.json(), { method: "OPTIONS" });
 * ```
 */
export function request(
  method: string,
  url: string | URL,
  options?: RequestOptions,
): Promise<Response> {
  return send(method, url, options, null);
}

/**
 * The whole call behind {@linkcode request}, with what a session adds.
 *
 * @param method The HTTP method.
 * @param url The URL.
 * @param options The request options.
 * @param session The session's jar and hooks, or null.
 * @returns The response.
 */
export function send(
  method: string,
  url: string | URL,
  options: RequestOptions | undefined,
  session: SessionContext | null,
): Promise<Response> {
  const target = PLAIN_LANE && session === null && typeof url === "string" &&
      LANE_METHODS.has(method)
    ? laneUrl(url)
    : null;
  if (target !== null) {
    const href = url as string;
    if (options === undefined || options === null) return plainSend(method, href, target, null);
    if (typeof options === "object") {
      const lane = laneOptions(options, method);
      if (lane !== null) return plainSend(method, href, target, lane);
    }
  }
  return complete(method, url, options, session, null);
}

/** The full path: every option, hop, retry and challenge; `first` is a response already in. */
async function complete(
  method: string,
  url: string | URL,
  options: RequestOptions | undefined,
  session: SessionContext | null,
  first: Arrived | null,
): Promise<Response> {
  if (typeof method !== "string") {
    throw new TypeError("Invalid 'method': expected a string such as \"GET\"");
  }
  if (!METHOD.test(method)) {
    throw new TypeError(`Invalid 'method': ${JSON.stringify(method)} is not an HTTP method`);
  }
  method = method.toUpperCase();
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw new TypeError("Invalid 'url': expected a string or URL");
  }
  if (options === undefined || options === null) {
    options = NO_OPTIONS;
  } else if (typeof options !== "object") {
    throw new TypeError("Invalid 'options': expected an object");
  } else {
    options = knownOptions(options);
  }

  const target = parseTarget(url, method);
  let current = target.url;
  if (options.params !== undefined && options.params !== null) {
    appendParams(current, options.params);
  }
  let info = new HopInfo(method, current);

  // Headers only when there is one to send, as a plain record (see HeaderMap).
  let headers: HeaderMap | null = null;
  // The session's headers are checked too: they are mutable, and Bun would send a control byte.
  if (session?.headers !== undefined) {
    addSessionHeaders(headers = new HeaderMap(), session.headers, info);
  }
  if (options.headers !== undefined && options.headers !== null) {
    addHeaders(headers ??= new HeaderMap(), options.headers, info);
  }
  const body = encodeBody(options.data, options.json, options.files);
  if (body.body !== null && (method === "GET" || method === "HEAD")) {
    const option = options.json !== undefined
      ? "json"
      : options.files !== undefined
      ? "files"
      : "data";
    throw new TypeError(
      `Cannot send request: a ${method} request cannot have a body ('${option}' was given); ` +
        "fetch refuses one",
    );
  }
  let auth: Auth | null = checkAuth(options.auth) ?? target.credentials;
  const digest = auth instanceof HTTPDigestAuth ? auth : null;
  headers = impliedHeaders(
    headers,
    body.contentType,
    auth === null ? null : staticAuthorization(auth),
  );

  let explicitCookie = headers?.get("cookie") ?? null;
  if (options.cookies !== undefined && options.cookies !== null) {
    const jarText = cookiePairs(options.cookies, info);
    if (jarText !== "") {
      explicitCookie = explicitCookie === null ? jarText : `${explicitCookie}; ${jarText}`;
    }
  }
  const jar = session?.jar;

  const [headersMs, readMs] = timeoutMs(options.timeout);
  const custom = callback<FetchLike>(options.fetch, "fetch");
  const progress = callback<BodyLimits["progress"]>(options.progress, "progress");
  const maxBytes = options.max_bytes === undefined || options.max_bytes === null
    ? null
    : count(options.max_bytes, "max_bytes", 0);
  const streamed = flag(options.stream, "stream", false);
  const follow = flag(options.allow_redirects, "allow_redirects", method !== "HEAD");
  const maxRedirects = count(options.max_redirects, "max_redirects", 30);
  const sensitive = sensitiveHeaders(options.sensitive_headers);
  const signal = checkSignal(options.signal);
  const retries = retryPolicy(options.retries);
  const requestHooks = session?.requestHooks;
  const guard = first?.guard ?? new CallGuard(
    info,
    totalMs(options.total_timeout),
    signal,
    headersMs !== null,
    custom === null && (requestHooks === undefined || requestHooks.length === 0),
  );
  guard.info = info;
  if (guard.failed) throw guard.failure;
  let transport = session?.transport ?? null;
  if (options.verify !== undefined || options.cert !== undefined || options.proxies !== undefined) {
    try {
      transport = createTransport({
        verify: options.verify,
        cert: options.cert,
        proxies: options.proxies,
      });
    } catch (error) {
      guard.finish();
      throw error;
    }
    const own = transport;
    if (own !== null) guard.onFinish(() => own.close());
  }

  let payload = body.body;
  let history: Response[] | null = null;
  let answeredChallenge = false;
  let retried = 0;
  // Bun's fetch goes on inflating a body after it was cancelled, so a bomb refused at max_bytes
  // would still cost its whole size: on Bun the module asks for gzip, deflate and br (not zstd)
  // and inflates them itself, no faster than the body is read.
  // Only where a body may be cut off (max_bytes, a stream closed early): without a limit the
  // whole body is wanted anyway, and Bun's own decoding is the faster path.
  const inflateHere = INFLATE_HERE && custom === null && (maxBytes !== null || streamed) &&
    headers?.has("accept-encoding") !== true;
  const plain = transport === null && custom === null &&
    (requestHooks === undefined || requestHooks.length === 0);

  for (;;) {
    const cookie = cookieHeader(explicitCookie, jar?.cookieHeader(current) ?? null);
    if (cookie !== null) (headers ??= new HeaderMap()).set("cookie", cookie);
    else headers?.delete("cookie");
    if (digest !== null && auth !== null) {
      const authorization = await digest.authorize(method, current);
      if (authorization !== null) (headers ??= new HeaderMap()).set("authorization", authorization);
    }
    if (inflateHere && headers !== null) headers.set("accept-encoding", "gzip, deflate, br");
    const init = hopInit(method, headers, payload, guard.signal);
    if (follow && BROWSER_FOLLOWS && custom === null) init.redirect = "follow";
    if (headers === null && inflateHere) init.headers = BUN_ACCEPT;
    if (inflateHere) init.decompress = false;
    info.sent(headers?.fields ?? null, sensitive);

    let raw: globalThis.Response;
    let elapsed: number;
    if (first !== null) {
      ({ raw, elapsed } = first);
      first = null;
    } else {
      const started = performance.now();
      try {
        raw = await guard.race(
          plain
            ? fetch(current.href, init)
            : dispatch(current, init, transport, custom, requestHooks),
          headersMs,
          "No response received",
        );
      } catch (error) {
        const failure = guard.wrap(error, "send");
        if (
          failure instanceof ConnectionError && retried < retries.total && body.replayable &&
          retries.methods.has(method)
        ) {
          retried++;
          await pause(guard, retryDelayMs(retries, retried, null, null));
          continue;
        }
        guard.finish();
        throw failure;
      }
      elapsed = (performance.now() - started) / 1000;
    }
    if (BROWSER_FOLLOWS && raw.type === "opaqueredirect") {
      discard(raw);
      guard.finish();
      throw new RequestError(
        "Cannot report the redirect: this runtime's fetch hides redirect responses " +
          "(opaqueredirect), so allow_redirects: false is not supported here",
        { request: info },
      );
    }
    jar?.setFromResponse(current, raw.headers.getSetCookie());

    if (
      retries.statuses.has(raw.status) && retried < retries.total && body.replayable &&
      retries.methods.has(method)
    ) {
      retried++;
      discard(raw);
      const delay = retryDelayMs(retries, retried, raw.status, raw.headers.get("retry-after"));
      await pause(guard, delay);
      continue;
    }

    if (
      raw.status === 401 && digest !== null && auth !== null && !answeredChallenge &&
      body.replayable && digest.challenge(current, raw.headers.get("www-authenticate"))
    ) {
      answeredChallenge = true;
      discard(raw);
      continue;
    }

    const location = follow && REDIRECTS.has(raw.status) ? raw.headers.get("location") : null;
    if (location !== null) {
      discard(raw);
      const hopResponse = fromNative({
        raw,
        url: current.href,
        request: info,
        elapsed,
        history: history === null ? [] : [...history],
      });
      attachBytes(hopResponse, EMPTY);
      history ??= [];
      history.push(hopResponse);
      if (history.length > maxRedirects) {
        guard.finish();
        throw new TooManyRedirectsError(`Exceeded ${maxRedirects} redirects`, {
          request: info,
          response: hopResponse,
          history,
        });
      }
      let hop;
      try {
        hop = nextHop(raw.status, location, current, method);
      } catch (error) {
        guard.finish();
        throw error;
      }
      if (hop.keepBody && !body.replayable && payload !== null) {
        guard.finish();
        throw new RequestError(
          `Cannot follow the ${raw.status} redirect: the request body was a stream and is gone`,
          { request: info },
        );
      }
      if (headers !== null) stripHeaders(headers, hop, sensitive);
      if (hop.crossOrigin) {
        explicitCookie = null;
        auth = null;
      }
      if (!hop.keepBody) payload = null;
      current = hop.url;
      method = hop.method;
      info = new HopInfo(method, current);
      guard.info = info;
      answeredChallenge = false;
      continue;
    }

    const response = fromNative({
      raw,
      // Where the browser followed redirects itself, only it knows the final URL.
      url: raw.redirected && raw.url !== "" ? raw.url : current.href,
      request: info,
      elapsed,
      history: history ?? [],
    });
    await readBody(
      response,
      raw,
      method,
      guard,
      { readMs, maxBytes, progress },
      streamed,
      !inflateHere,
    );
    return response;
  }
}

/** Sleeps before a retry, no longer than the call may last. */
async function pause(guard: CallGuard, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await guard.race(new Promise<void>((resolve) => timer = setTimeout(resolve, ms)), null, "");
  } finally {
    clearTimeout(timer);
  }
}

/** Reads (or, for `stream`, prepares to read) the body of the final response. */
async function readBody(
  response: Response,
  raw: globalThis.Response,
  method: string,
  guard: CallGuard,
  limits: BodyLimits,
  streamed: boolean,
  runtimeDecoded: boolean,
): Promise<void> {
  // `raw.body` is not touched on the common path: Bun builds a JS stream when it is read.
  if (method === "HEAD" || NO_BODY_STATUS.has(raw.status)) {
    discard(raw);
    attachBytes(response, EMPTY);
    guard.finish();
    return;
  }
  const encoding = raw.headers.get("content-encoding");
  let codings: string[] | null = null;
  if (encoding !== null) {
    try {
      codings = pendingCodings(encoding, guard.info, runtimeDecoded);
    } catch (error) {
      discard(raw);
      guard.finish();
      throw error;
    }
  }
  // The whole body in one read where nothing needs counting chunk by chunk: the runtime's
  // `bytes()` is far cheaper than a stream reader (Deno reads it in one operation).
  if (!streamed && codings === null && limits.progress === null) {
    const length = encoding === null && (limits.maxBytes !== null || limits.readMs !== null)
      ? contentLength(raw.headers)
      : null;
    const counted = limits.maxBytes === null || (length !== null && length <= limits.maxBytes);
    const timed = limits.readMs === null || (length !== null && length <= ONE_PIECE);
    if (counted && timed) return buffer(response, raw, guard, limits.readMs);
  }
  if (raw.body === null) {
    attachBytes(response, EMPTY);
    guard.finish();
    return;
  }
  const length = encoding === null ? contentLength(raw.headers) : null;
  if (limits.maxBytes !== null && length !== null && length > limits.maxBytes) {
    discard(raw);
    guard.finish();
    throw new ContentTooLargeError(
      `Response body is larger than max_bytes (${limits.maxBytes} bytes): ` +
        `Content-Length is ${length}`,
      { request: guard.info, response },
    );
  }
  const stream = codings === null ? raw.body : decodeBody(raw.body, codings);
  if (streamed) {
    attachReader(response, new BodyReader(stream, guard, limits, length));
    return;
  }
  attachBytes(response, await new BodyReader(stream, guard, limits, length).readAll());
}

/**
 * The whole body at once, by the platform's fastest means, under the call's deadline and signal
 * and, when given, `readMs` for the whole of it (only for a body of at most ONE_PIECE).
 */
async function buffer(
  response: Response,
  raw: globalThis.Response,
  guard: CallGuard,
  readMs: number | null,
): Promise<void> {
  try {
    attachBytes(response, await guard.race(bytesOf(raw), readMs, "No data received"));
  } catch (error) {
    throw guard.wrap(error, "body");
  } finally {
    guard.finish();
  }
}

function contentLength(headers: Headers): number | null {
  const value = headers.get("content-length");
  if (value === null || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}

/** `cookies` as a Cookie header value; names and values are checked like header values. */
function cookiePairs(cookies: Record<string, string>, info: RequestInfo): string {
  if (typeof cookies !== "object" || Array.isArray(cookies)) {
    throw new TypeError("Invalid 'cookies': expected an object of name to value");
  }
  let text = "";
  for (const name of Object.keys(cookies)) {
    const value = cookies[name];
    if (typeof value !== "string") {
      throw new TypeError(`Invalid 'cookies': value of ${JSON.stringify(name)} must be a string`);
    }
    if (/[;=\s]/.test(name) || name === "") {
      throw new TypeError(`Invalid 'cookies': ${JSON.stringify(name)} is not a cookie name`);
    }
    checkHeader("cookie", value, info);
    if (value.includes(";")) {
      throw new TypeError(`Invalid 'cookies': value of ${JSON.stringify(name)} contains ';'`);
    }
    text += `${text === "" ? "" : "; "}${name}=${value}`;
  }
  return text;
}

function sensitiveHeaders(value: unknown): readonly string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((name) => typeof name === "string")) {
    throw new TypeError("Invalid 'sensitive_headers': expected an array of header names");
  }
  return value;
}

/** Options of the per-method helpers. */
export type MethodOptions = RequestOptions;

/**
 * Sends a `HEAD` request. Redirects are not followed unless `allow_redirects` is true.
 *
 * @param url The URL.
 * @param options The request options.
 * @returns The response; its `content` is `""`.
 *
 * @example Check a resource without downloading it
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => new Response(null, { headers: { "content-length": "42" } });
 * const r = await requests.head("http://example.test/big.bin", { fetch });
 * assert.equal(r.content, "");
 * ```
 */
export function head(url: string | URL, options?: MethodOptions): Promise<Response> {
  return send("HEAD", url, options, null);
}

/**
 * Sends a `GET` request.
 *
 * @param url The URL.
 * @param options The request options.
 * @returns The response.
 *
 * @example GET a JSON resource
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => Response.json({ ok: true });
 * const r = await requests.get("http://example.test/get", { fetch });
 * assert.equal(r.status_code, 200);
 * assert.deepEqual(r.json(), { ok: true });
 * ```
 */
export function get(url: string | URL, options?: MethodOptions): Promise<Response> {
  return send("GET", url, options, null);
}

/**
 * Sends a `POST` request.
 *
 * @param url The URL.
 * @param options The request options; `data`, `json` or `files` carry the body.
 * @returns The response.
 *
 * @example POST JSON
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = async (req: Request) => Response.json(await req.json());
 * const r = await requests.post("http://example.test/post", { json: { id: 1 }, fetch });
 * assert.deepEqual(r.json(), { id: 1 });
 * ```
 */
export function post(url: string | URL, options?: MethodOptions): Promise<Response> {
  return send("POST", url, options, null);
}

/**
 * Sends a `PUT` request.
 *
 * @param url The URL.
 * @param options The request options; `data` or `json` carry the new representation.
 * @returns The response.
 *
 * @example Replace a resource
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = (req: Request) => new Response(req.method);
 * const r = await requests.put("http://example.test/item/1", { data: "new", fetch });
 * assert.equal(r.content, "PUT");
 * ```
 */
export function put(url: string | URL, options?: MethodOptions): Promise<Response> {
  return send("PUT", url, options, null);
}

/**
 * Sends a `PATCH` request.
 *
 * @param url The URL.
 * @param options The request options; `data` or `json` carry the change.
 * @returns The response.
 *
 * @example Change part of a resource
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = (req: Request) => new Response(req.method);
 * const r = await requests.patch("http://example.test/item/1", { json: { a: 1 }, fetch });
 * assert.equal(r.content, "PATCH");
 * ```
 */
export function patch(url: string | URL, options?: MethodOptions): Promise<Response> {
  return send("PATCH", url, options, null);
}

/**
 * Sends a `DELETE` request. Exported as `delete` too (`requests.delete(url)`).
 *
 * @param url The URL.
 * @param options The request options.
 * @returns The response.
 *
 * @example Delete a resource
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = (req: Request) => new Response(null, { status: 204 });
 * const r = await requests.delete("http://example.test/item/1", { fetch });
 * assert.equal(r.status_code, 204);
 * ```
 */
export function del(url: string | URL, options?: MethodOptions): Promise<Response> {
  return send("DELETE", url, options, null);
}
