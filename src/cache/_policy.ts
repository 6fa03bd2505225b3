// The rules of RFC 9111 (and RFC 5861) as pure functions of a stored entry, the request's
// directives and the time: what may be stored (§3), how fresh it is (§4.2), whether it may be
// used (§4.2.4, §5.2.1, §5.2.2), how a received conditional request is answered (§4.3.2), what
// a HEAD response does to stored GET responses (§4.3.5), what an unsafe method invalidates
// (§4.4), and the Cache-Status values (RFC 9211) this cache reports.

import type { Entry, Field } from "./_entry.ts";
import { type Directives, parseEntityTags, parseHttpDate, parseVary, weakMatch } from "./_parse.ts";

/** How a cache behaves: as a shared cache or a private one, with heuristics or not. */
export interface Policy {
  shared: boolean;
  heuristic: boolean;
}

/** Statuses heuristically cacheable by default (RFC 9110 §15.1). */
const HEURISTIC = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);
/** The final statuses whose caching rules this cache implements (for `must-understand`). */
const UNDERSTOOD = new Set([
  200,
  201,
  202,
  203,
  204,
  205,
  300,
  301,
  302,
  303,
  307,
  308, //
  400,
  401,
  403,
  404,
  405,
  406,
  408,
  409,
  410,
  411,
  412,
  413,
  414,
  415,
  416,
  417,
  421,
  422,
  426,
  500,
  501,
  502,
  503,
  504,
  505,
]);
/** The longest heuristic freshness (RFC 9111 §4.2.2 suggests at most some days): 7 days. */
const MAX_HEURISTIC = 7 * 24 * 3600;
/** The methods that are safe (RFC 9110 §9.2.1); any other, an unknown one too, is unsafe. */
const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** Whether `method` is unsafe, so that its non-error response invalidates (RFC 9111 §4.4). */
export function isUnsafe(method: string): boolean {
  return !SAFE.has(method);
}

/** What the storing rules read of a request. */
export interface StoreRequest {
  method: string;
  cc: Readonly<Directives>;
  /** The request carried an Authorization field. */
  authorization: boolean;
}

/**
 * Whether a response may be stored (RFC 9111 §3, §3.5): a final status the cache understands,
 * no `no-store` (unless `must-understand` with an understood status), no `private` or
 * unauthorized `Authorization` in a shared cache, no `Vary: *`, and something that makes it
 * cacheable: explicit freshness, `public`, `private` (private cache), or a heuristically
 * cacheable status. GET only: HEAD responses update stored ones, 206 and 304 are never stored,
 * nor (a client's choice) a 401 or 407 challenge.
 */
export function isStorable(
  req: StoreRequest,
  status: number,
  cc: Readonly<Directives>,
  headers: { get(name: string): string | null },
  policy: Policy,
): boolean {
  if (req.method !== "GET" || req.cc.noStore) return false;
  if (status < 200 || status > 599 || status === 206 || status === 304) return false;
  // A challenge's nonce is for one answer: a stored 401 or 407 would have it answered again.
  if (status === 401 || status === 407) return false;
  if (cc.mustUnderstand ? !UNDERSTOOD.has(status) : cc.noStore) return false;
  if (policy.shared) {
    if (cc.private) return false;
    if (req.authorization && !cc.mustRevalidate && !cc.public && cc.sMaxage === null) {
      return false;
    }
  }
  if (parseVary(headers.get("vary"))[0] === "*") return false;
  return cc.public || (cc.private && !policy.shared) || cc.maxAge !== null ||
    (policy.shared && cc.sMaxage !== null) || headers.get("expires") !== null ||
    HEURISTIC.has(status);
}

/**
 * Whether a storable response is worth keeping: it has a freshness lifetime (even one its
 * Age has used up: a request's `max-stale` may take it), can be validated, or may be served
 * stale (`stale-while-revalidate`, `stale-if-error`).
 */
export function isUseful(entry: Entry, policy: Policy): boolean {
  const cc = entry.cc;
  return freshnessLifetime(entry, policy) > 0 || entry.etag !== null ||
    entry.get("last-modified") !== null || (cc.staleIfError ?? 0) > 0 ||
    (cc.staleWhileRevalidate ?? 0) > 0;
}

/**
 * The freshness lifetime in seconds (RFC 9111 §4.2.1): `s-maxage` (shared), `max-age`,
 * `Expires` - `Date` (an invalid Expires is in the past), else 10 % of `Date` -
 * `Last-Modified` (at most 7 days) for a heuristically cacheable status or a `public` response.
 */
export function freshnessLifetime(entry: Entry, policy: Policy): number {
  if (entry.invalid) return 0;
  const cc = entry.cc;
  if (policy.shared && cc.sMaxage !== null) return cc.sMaxage;
  if (cc.maxAge !== null) return cc.maxAge;
  const expires = entry.get("expires");
  if (expires !== null) {
    const at = parseHttpDate(expires);
    return at === null ? 0 : Math.max(0, (at - entry.date) / 1000);
  }
  if (!policy.heuristic || !(HEURISTIC.has(entry.status) || cc.public)) return 0;
  const modified = parseHttpDate(entry.get("last-modified"));
  if (modified === null) return 0;
  return Math.min(MAX_HEURISTIC, Math.max(0, (entry.date - modified) / 1000 / 10));
}

/** current_age of RFC 9111 §4.2.3, in seconds, at `now` (ms). */
export function currentAge(entry: Entry, now: number): number {
  return entry.initialAge + Math.max(0, (now - entry.responseTime) / 1000);
}

/** What to do with a stored response for a request. */
export type Verdict =
  /** Serve it: it is fresh and the request accepts it. */
  | "fresh"
  /** Serve it stale: the request's `max-stale` allows it. */
  | "stale"
  /** Serve it stale at once and validate it in the background (`stale-while-revalidate`). */
  | "background"
  /** Send the request on (conditional when the entry has a validator). */
  | "validate";

/** The judgement of one stored response for one request. */
export interface Judgement {
  verdict: Verdict;
  /** Its current age, seconds. */
  age: number;
  /** Freshness left, seconds: negative when stale. */
  ttl: number;
  /** A fresh response that the request's own directives refused (`fwd=request`). */
  byRequest: boolean;
  /** When the validation meets a 5xx or a network error, the entry may be served (RFC 5861). */
  ifError: boolean;
}

/**
 * Judges a stored response for a request (RFC 9111 §4.2.4, §5.2.1, §5.2.2; RFC 5861): fresh
 * and acceptable to the request's `no-cache`, `max-age` and `min-fresh`, it is served; stale,
 * it may be served within `max-stale` or `stale-while-revalidate` unless `no-cache`,
 * `must-revalidate` (or, shared, `proxy-revalidate` / `s-maxage`) forbid it; else it is validated.
 */
export function judge(
  entry: Entry,
  req: Readonly<Directives>,
  now: number,
  policy: Policy,
): Judgement {
  const age = currentAge(entry, now);
  const ttl = freshnessLifetime(entry, policy) - age;
  const res = entry.cc;
  const staleAllowed = !res.noCache && !res.mustRevalidate &&
    !(policy.shared && (res.proxyRevalidate || res.sMaxage !== null));
  const tooOld = req.maxAge !== null && age > req.maxAge;
  const refused = req.noCache || tooOld || (req.minFresh !== null && ttl < req.minFresh);
  const judgement = (verdict: Verdict): Judgement => {
    const byRequest = verdict === "validate" && refused && ttl > 0 && !res.noCache;
    const window = Math.max(res.staleIfError ?? -1, req.staleIfError ?? -1);
    const ifError = verdict === "validate" && ttl <= 0 && staleAllowed && !req.noCache &&
      !tooOld && -ttl <= window;
    return { verdict, age, ttl, byRequest, ifError };
  };
  if (refused || res.noCache) return judgement("validate");
  if (ttl > 0) return judgement("fresh");
  if (staleAllowed && req.maxStale !== null && -ttl <= req.maxStale) return judgement("stale");
  if (staleAllowed && res.staleWhileRevalidate !== null && -ttl <= res.staleWhileRevalidate) {
    return judgement("background");
  }
  return judgement("validate");
}

/** Request fields that make a request conditional on the representation. */
const CONDITIONAL = ["if-none-match", "if-modified-since"];

/** Whether the request carries If-None-Match or If-Modified-Since of its own. */
export function isConditional(headers: { get(name: string): string | null }): boolean {
  return CONDITIONAL.some((name) => headers.get(name) !== null);
}

/**
 * Whether a stored 2xx response answers the request's own If-None-Match (weak comparison) or,
 * without one, its If-Modified-Since (the stored Last-Modified, else Date, no later than it)
 * with 304 Not Modified (RFC 9111 §4.3.2, RFC 9110 §13.1.2, §13.1.3, §13.2.2).
 */
export function notModified(
  entry: Entry,
  headers: { get(name: string): string | null },
): boolean {
  if (entry.status < 200 || entry.status > 299) return false;
  const inm = headers.get("if-none-match");
  if (inm !== null) {
    const tags = parseEntityTags(inm);
    if (tags[0] === "*") return true;
    const etag = entry.etag;
    return etag !== null && tags.some((tag) => weakMatch(tag, etag));
  }
  const since = parseHttpDate(headers.get("if-modified-since"));
  if (since === null) return false;
  const modified = parseHttpDate(entry.get("last-modified")) ?? entry.date;
  return modified <= since;
}

/** Fields a 304 from the cache carries (RFC 9110 §15.4.5), with Age. */
const NOT_MODIFIED_FIELDS = new Set([
  "age",
  "cache-control",
  "content-location",
  "date",
  "etag",
  "expires",
  "last-modified",
  "vary",
]);

/** The fields of a 304 made from a stored response. */
export function notModifiedFields(fields: readonly Field[]): Field[] {
  return fields.filter(([name]) => NOT_MODIFIED_FIELDS.has(name));
}

/** The validators to send for a stored response: If-None-Match and If-Modified-Since. */
export function validators(entry: Entry): Field[] {
  const out: Field[] = [];
  const etag = entry.get("etag");
  if (etag !== null && entry.etag !== null) out.push(["if-none-match", etag]);
  const modified = entry.get("last-modified");
  if (modified !== null && parseHttpDate(modified) !== null) {
    out.push(["if-modified-since", modified]);
  }
  return out;
}

/**
 * Whether a 304 validates the stored response it was asked about (RFC 9111 §4.3.4): its
 * entity-tag, when it has one, is the stored one (a weak tag selects the one stored response
 * it was sent for, a strong one each with that tag: the same test for one response).
 */
export function validates(entry: Entry, headers: { get(name: string): string | null }): boolean {
  const tag = parseEntityTags(headers.get("etag"))[0];
  if (tag === undefined) return true;
  const stored = entry.etag;
  if (stored === null) return false;
  return weakMatch(tag, stored);
}

/**
 * Whether a 200 to HEAD describes the stored GET response (RFC 9111 §4.3.5): it has a validator,
 * every validator it has matches the stored one, and its Content-Length, when it has one, too.
 * When not, the stored response is to be considered stale.
 */
export function headMatches(entry: Entry, headers: { get(name: string): string | null }): boolean {
  const tag = parseEntityTags(headers.get("etag"))[0];
  const modified = headers.get("last-modified");
  if (tag === undefined && modified === null) return false;
  if (tag !== undefined && (entry.etag === null || !weakMatch(tag, entry.etag))) return false;
  if (modified !== null) {
    const at = parseHttpDate(modified);
    if (at === null || at !== parseHttpDate(entry.get("last-modified"))) return false;
  }
  const length = headers.get("content-length");
  return length === null || entry.get("content-length") === null ||
    length.trim() === entry.get("content-length")!.trim();
}

/**
 * The URLs a response to an unsafe method invalidates (RFC 9111 §4.4): none for an error status
 * or a safe method; else the target URL and the same-origin Location and Content-Location,
 * each without its fragment.
 */
export function invalidated(
  method: string,
  target: string,
  status: number,
  headers: { get(name: string): string | null },
): string[] {
  if (!isUnsafe(method) || status < 200 || status > 399) return [];
  const urls = new Set([target]);
  let base: URL;
  try {
    base = new URL(target);
  } catch {
    return [target];
  }
  for (const name of ["location", "content-location"]) {
    const value = headers.get(name);
    if (value === null) continue;
    try {
      const url = new URL(value, base);
      url.hash = "";
      if (url.origin === base.origin) urls.add(url.href);
    } catch { /* not a URL: nothing to invalidate */ }
  }
  return [...urls];
}

/** The name this cache has in Cache-Status. */
const NAME = "requests";

/** Seconds of freshness left as Cache-Status writes them: whole, negative when stale. */
function seconds(ttl: number): number {
  return Math.floor(ttl);
}

/** `requests; hit; ttl=N`: served from the cache, fresh (N >= 0) or stale (N < 0). */
export function hitStatus(ttl: number): string {
  return `${NAME}; hit; ttl=${seconds(ttl)}`;
}

/** Why a request went to the server (RFC 9211 `fwd`). */
export type Forward = "uri-miss" | "vary-miss" | "request" | "stale" | "method" | "bypass";

/** `requests; fwd=R` (bypass, method) or `requests; fwd=R; fwd-status=S[; stored]`. */
export function forwardStatus(fwd: Forward, status?: number, stored = false): string {
  if (status === undefined) return `${NAME}; fwd=${fwd}`;
  return `${NAME}; fwd=${fwd}; fwd-status=${status}${stored ? "; stored" : ""}`;
}

/** `requests; fwd=R; fwd-status=304; ttl=N`: validated by a 304 and served from the entry. */
export function revalidatedStatus(fwd: Forward, ttl: number): string {
  return `${NAME}; fwd=${fwd}; fwd-status=304; ttl=${seconds(ttl)}`;
}
