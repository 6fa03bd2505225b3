/**
 * The cookie jar: RFC 6265 §5.1-5.4 storage and retrieval, with RFC 6265bis's rules that a
 * `Secure` cookie is never accepted from, nor sent to, a plain `http://` URL (a loopback host
 * counts as secure, as in browsers and curl) and that the
 * `__Secure-` and `__Host-` name prefixes hold. A `Domain` attribute naming a public suffix (the
 * Public Suffix List, or any single label such as `localhost`) is refused unless it is the
 * request host itself, which then keeps the cookie as host-only (RFC 6265 §5.3 step 5).
 *
 * @module
 */

import { RULES } from "./_public_suffix_data.js";

/** One stored cookie. */
export interface Cookie {
  /** The cookie name, exactly as received (never decoded). */
  name: string;
  /** The cookie value, exactly as received (never decoded). */
  value: string;
  /**
   * The host (when {@linkcode Cookie.hostOnly}) or domain the cookie belongs to: lower-case,
   * without a leading dot. `""` means every host; only a cookie set by hand without a domain
   * has it.
   */
  domain: string;
  /** The path the cookie applies to, always starting with `/`. */
  path: string;
  /** When the cookie expires, in milliseconds since the epoch; `null` for a session cookie. */
  expires: number | null;
  /** Whether the cookie is sent only to `https:` URLs. */
  secure: boolean;
  /** Whether the server asked that scripts not see the cookie (kept for inspection only). */
  httpOnly: boolean;
  /** Whether the cookie matches only the exact host in {@linkcode Cookie.domain}. */
  hostOnly: boolean;
  /** The `SameSite` attribute, or `null` when absent or unrecognised. */
  sameSite: "Strict" | "Lax" | "None" | null;
}

/** Options for {@linkcode CookieJar.prototype.set}. */
export interface CookieOptions {
  /**
   * The domain the cookie applies to, itself and its subdomains; a leading dot is ignored.
   *
   * @default {""} (every host)
   */
  domain?: string;
  /**
   * The path the cookie applies to; must start with `/`.
   *
   * @default {"/"}
   */
  path?: string;
  /**
   * Send the cookie only to `https:` URLs.
   *
   * @default {false}
   */
  secure?: boolean;
  /**
   * Mark the cookie `HttpOnly`.
   *
   * @default {false}
   */
  httpOnly?: boolean;
  /**
   * When the cookie expires, as a `Date` or milliseconds since the epoch; `null` for a session
   * cookie. A time in the past deletes a stored cookie with the same name, domain and path.
   *
   * @default {null}
   */
  expires?: Date | number | null;
}

/** Where {@linkcode CookieJar.prototype.get} and {@linkcode CookieJar.prototype.delete} look. */
export interface CookieFilter {
  /** Only cookies of this domain (compared after lower-casing and dropping a leading dot). */
  domain?: string;
  /** Only cookies with exactly this path. */
  path?: string;
}

/** The longest `Set-Cookie` line accepted, in UTF-8 bytes. */
const MAX_LINE_BYTES = 8192;
/** The most cookies a jar keeps (RFC 6265 §6.1 asks for at least 3000). */
const MAX_COOKIES = 3000;
/** The most cookies one site keeps (§6.1: at least 50); Chromium's and Firefox's number. */
const MAX_PER_SITE = 180;
/** The latest time a `Date` can hold, in milliseconds since the epoch. */
const MAX_TIME = 8.64e15;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
/** RFC 6265 §5.1.1 delimiter: %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E. */
const DATE_DELIMITER = /[\t\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+/;
const TIME_TOKEN = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D|$)/;
const DAY_TOKEN = /^(\d{1,2})(?:\D|$)/;
const YEAR_TOKEN = /^(\d{2,4})(?:\D|$)/;
/** Control characters other than tab, which RFC 6265bis forbids in names and values. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;
/** RFC 6265bis name prefixes, matched case-insensitively. */
const SECURE_PREFIX = /^__secure-/i;
const HOST_PREFIX = /^__host-/i;
/** Characters that would make a domain parse as more than a host. */
const NOT_A_HOST = /[/\\?#@\s]/;

/**
 * @internal Replaces every cookie of `jar` with copies of `cookies`, every field kept (the sync
 * API keeps the jar of a session's thread and its worker's in step this way).
 */
export let replaceCookies: (jar: CookieJar, cookies: Iterable<Cookie>) => void;

/**
 * A cookie jar following the RFC 6265 storage model: `Domain`, `Path`, `Secure`, `Max-Age` and
 * `Expires` are honoured when cookies arrive and when they are sent back.
 *
 * Cookies are kept in creation order; expired ones are removed when next encountered. A site
 * (a registrable domain such as `example.co.uk`) keeps at most 180 cookies and the jar 3000:
 * past either cap, expired cookies go first, then the oldest of the site holding the most.
 *
 * @example Keep cookies between requests
 * ```ts
 * import { CookieJar } from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const jar = new CookieJar();
 * jar.setFromResponse(new URL("https://example.com/login"), [
 *   "session=abc; Path=/; Secure; HttpOnly",
 *   "theme=dark; Domain=example.com",
 * ]);
 * assert.equal(jar.cookieHeader(new URL("https://example.com/")), "session=abc; theme=dark");
 * // `session` had no Domain attribute, so it stays with example.com alone.
 * assert.equal(jar.cookieHeader(new URL("https://www.example.com/")), "theme=dark");
 * ```
 */
export class CookieJar implements Iterable<Cookie> {
  /** Keyed by name, domain and path; insertion order is creation order. */
  #store: CookieStore = new CookieStore({
    perSite: MAX_PER_SITE,
    total: MAX_COOKIES,
    siteOf,
  });

  static {
    replaceCookies = (jar, cookies) => {
      jar.#store.clear();
      const now = Date.now();
      for (const cookie of cookies) jar.#put({ ...cookie }, now);
    };
  }

  /**
   * Creates a jar, optionally holding cookies for every host.
   *
   * @param init Name-value pairs, each stored as with {@linkcode CookieJar.prototype.set}.
   *
   * @example Start with cookies for every host
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = new CookieJar({ token: "t1" });
   * assert.equal(jar.cookieHeader(new URL("http://any.example/")), "token=t1");
   * ```
   */
  constructor(init?: Record<string, string>) {
    if (init !== undefined) {
      for (const [name, value] of Object.entries(init)) this.set(name, value);
    }
  }

  /**
   * Stores the `Set-Cookie` header values received in a response from `url`.
   *
   * A cookie is refused, without error, when its line is malformed or longer than 8192 bytes,
   * its `Domain` does not cover the host of `url` or is a public suffix other than that host,
   * it is `Secure` and `url` is not `https:`, or its name starts with `__Secure-` or `__Host-`
   * (in any case) and it breaks that prefix's rules: `Secure` for both, and for `__Host-` no
   * `Domain` and a `Path` attribute of `/`. A cookie that has already expired deletes the stored
   * cookie with the same name, domain and path.
   *
   * @param url The URL the response came from.
   * @param setCookie The `Set-Cookie` header values, one cookie each.
   * @param now The current time in milliseconds since the epoch.
   *
   * @example Store and expire a cookie
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = new CookieJar();
   * const url = new URL("https://example.com/");
   * jar.setFromResponse(url, ["id=1; Max-Age=3600"]);
   * assert.equal(jar.get("id"), "1");
   * jar.setFromResponse(url, ["id=; Max-Age=0"]);
   * assert.equal(jar.get("id"), undefined);
   * ```
   */
  setFromResponse(url: URL, setCookie: readonly string[], now: number = Date.now()): void {
    if (setCookie.length === 0) return;
    const host = url.hostname;
    if (host === "") return;
    const secureScheme = isSecureContext(url);
    for (const line of setCookie) {
      const cookie = parseSetCookie(line, url.pathname, now);
      if (cookie === null || (cookie.secure && !secureScheme)) continue;
      if (cookie.domain === "" || (isIp(cookie.domain) && cookie.domain === host)) {
        cookie.domain = host;
        cookie.hostOnly = true;
      } else if (!domainMatch(host, cookie.domain)) {
        continue;
      } else if (isPublicSuffix(cookie.domain.replace(/\.$/, ""))) {
        // RFC 6265 §5.3 step 5: a public suffix is refused unless it is the host itself.
        if (cookie.domain !== host) continue;
        cookie.hostOnly = true;
      }
      this.#put(cookie, now);
    }
  }

  /**
   * The `Cookie` request header value for `url`: the unexpired cookies whose domain, path and
   * `Secure` flag match it, longer paths first, then earlier created (RFC 6265 §5.4).
   *
   * @param url The URL the request goes to.
   * @param now The current time in milliseconds since the epoch.
   * @returns The header value, or `null` when no cookie matches.
   *
   * @example Build the Cookie header
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = new CookieJar();
   * jar.setFromResponse(new URL("https://example.com/a/b"), ["x=1", "y=2; Path=/"]);
   * assert.equal(jar.cookieHeader(new URL("https://example.com/a/c")), "x=1; y=2");
   * assert.equal(jar.cookieHeader(new URL("https://example.com/")), "y=2");
   * assert.equal(jar.cookieHeader(new URL("https://example.org/")), null);
   * ```
   */
  cookieHeader(url: URL | string, now: number = Date.now()): string | null {
    if (this.#store.size === 0) return null;
    if (typeof url === "string") url = new URL(url);
    const host = url.hostname;
    if (host === "") return null;
    const secureScheme = isSecureContext(url);
    const path = url.pathname;
    const matches: Entry[] = [];
    for (const domain of domainsOf(host)) {
      const entries = this.#store.inDomain(domain);
      if (entries === undefined) continue;
      for (const entry of entries) {
        const cookie = entry.item;
        if (isExpired(cookie, now)) {
          this.#store.delete(entry.key);
          continue;
        }
        if (cookie.secure && !secureScheme) continue;
        if (cookie.hostOnly ? cookie.domain !== host : !domainMatch(host, cookie.domain)) continue;
        if (pathMatch(path, cookie.path)) matches.push(entry);
      }
    }
    if (matches.length === 0) return null;
    matches.sort((a, b) => b.item.path.length - a.item.path.length || a.order - b.order);
    return matches.map(({ item }) => `${item.name}=${item.value}`).join("; ");
  }

  /**
   * The value of an unexpired cookie named `name`; when several match, the one created last.
   *
   * @param name The cookie name.
   * @param where Only look at cookies of this domain and/or path.
   * @returns The value, or `undefined` when no cookie matches.
   *
   * @example Read a cookie by name
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = new CookieJar();
   * jar.set("lang", "en", { domain: "example.com" });
   * assert.equal(jar.get("lang"), "en");
   * assert.equal(jar.get("lang", { domain: "example.org" }), undefined);
   * ```
   */
  get(name: string, where?: CookieFilter): string | undefined {
    let value: string | undefined;
    for (const cookie of this.#live(Date.now())) {
      if (filterMatch(cookie, name, where)) value = cookie.value;
    }
    return value;
  }

  /**
   * Stores a cookie by hand. Without a `domain` it is sent to every host; with one, to that
   * domain and its subdomains. A cookie with the same name, domain and path is replaced, keeping
   * its place in the sending order.
   *
   * @param name The cookie name, sent as given.
   * @param value The cookie value, sent as given.
   * @param options Domain, path, flags and expiry.
   * @throws {TypeError} When the name is empty or holds `=`, `;` or a control character, the
   * value holds `;` or a control character, the domain is not a host name, the path does not
   * start with `/`, `expires` is not a valid time, or the name starts with `__Secure-` or
   * `__Host-` (in any case) and the cookie breaks that prefix's rules: `secure` for both, and
   * for `__Host-` no `domain` and the path `/`.
   *
   * @example Set a cookie for one domain
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = new CookieJar();
   * jar.set("sid", "42", { domain: "example.com", path: "/app", secure: true });
   * assert.equal(jar.cookieHeader(new URL("https://api.example.com/app/x")), "sid=42");
   * assert.equal(jar.cookieHeader(new URL("http://api.example.com/app/x")), null);
   * ```
   */
  set(name: string, value: string, options: CookieOptions = {}): void {
    if (name === "" || /[=;]/.test(name) || CONTROL.test(name)) {
      throw new TypeError(
        `Cannot set cookie '${name}': the name is empty or has '=', ';' or a control character`,
      );
    }
    if (value.includes(";") || CONTROL.test(value)) {
      throw new TypeError(
        `Cannot set cookie '${name}': the value has ';' or a control character`,
      );
    }
    let domain = "";
    if (options.domain !== undefined && options.domain !== "") {
      const canonical = canonicalDomain(options.domain);
      if (canonical === null) {
        throw new TypeError(
          `Cannot set cookie '${name}': domain '${options.domain}' is not a host name`,
        );
      }
      domain = canonical;
    }
    const path = options.path ?? "/";
    if (!path.startsWith("/")) {
      throw new TypeError(`Cannot set cookie '${name}': path '${path}' does not start with '/'`);
    }
    let expires: number | null = null;
    if (options.expires !== undefined && options.expires !== null) {
      expires = typeof options.expires === "number" ? options.expires : options.expires.getTime();
      if (!Number.isFinite(expires)) {
        throw new TypeError(`Cannot set cookie '${name}': 'expires' is not a valid time`);
      }
    }
    const secure = options.secure ?? false;
    const broken = prefixRuleBroken(name, secure, domain, path);
    if (broken !== null) throw new TypeError(`Cannot set cookie '${name}': ${broken}`);
    this.#put({
      name,
      value,
      domain,
      path,
      expires,
      secure,
      httpOnly: options.httpOnly ?? false,
      hostOnly: false,
      sameSite: null,
    }, Date.now());
  }

  /**
   * Removes every cookie named `name`, optionally only those of a domain and/or path.
   *
   * @param name The cookie name.
   * @param where Only remove cookies of this domain and/or path.
   * @returns Whether an unexpired cookie was removed.
   *
   * @example Remove a cookie
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = new CookieJar({ a: "1" });
   * assert.equal(jar.delete("a"), true);
   * assert.equal(jar.delete("a"), false);
   * ```
   */
  delete(name: string, where?: CookieFilter): boolean {
    const now = Date.now();
    let removed = false;
    for (const { key, item } of this.#store.values()) {
      if (!filterMatch(item, name, where)) continue;
      this.#store.delete(key);
      if (!isExpired(item, now)) removed = true;
    }
    return removed;
  }

  /**
   * Removes every cookie.
   *
   * @example Empty the jar
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = new CookieJar({ a: "1", b: "2" });
   * jar.clear();
   * assert.equal(jar.size, 0);
   * ```
   */
  clear(): void {
    this.#store.clear();
  }

  /**
   * The number of unexpired cookies.
   *
   * @returns The count.
   *
   * @example Count cookies
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new CookieJar({ a: "1", b: "2" }).size, 2);
   * ```
   */
  get size(): number {
    let count = 0;
    for (const _ of this.#live(Date.now())) count++;
    return count;
  }

  /**
   * The unexpired cookies as a name-to-value object with a `null` prototype; when names repeat,
   * the cookie created last wins.
   *
   * @returns A new object, safe for any cookie name, `__proto__` included.
   *
   * @example Read every cookie at once
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = new CookieJar({ a: "1", b: "2" });
   * assert.deepEqual(Object.entries(jar.toObject()), [["a", "1"], ["b", "2"]]);
   * ```
   */
  toObject(): Record<string, string> {
    const object: Record<string, string> = Object.create(null);
    for (const cookie of this.#live(Date.now())) object[cookie.name] = cookie.value;
    return object;
  }

  /**
   * Iterates over copies of the unexpired cookies in creation order.
   *
   * @returns An iterator of cookies.
   *
   * @example List cookie names
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = new CookieJar({ a: "1", b: "2" });
   * assert.deepEqual([...jar].map((cookie) => cookie.name), ["a", "b"]);
   * ```
   */
  *[Symbol.iterator](): Iterator<Cookie> {
    for (const cookie of this.#live(Date.now())) yield { ...cookie };
  }

  /** The unexpired cookies in creation order; expired ones met on the way are removed. */
  *#live(now: number): Generator<Cookie> {
    for (const { key, item } of this.#store.values()) {
      if (isExpired(item, now)) this.#store.delete(key);
      else yield item;
    }
  }

  /** RFC 6265 §5.3 steps 11-12: replace in place, delete when expired, keep the caps. */
  #put(cookie: Cookie, now: number): void {
    this.#store.put(JSON.stringify([cookie.name, cookie.domain, cookie.path]), cookie, now);
  }
}

/**
 * @internal The cookies a response to `url` sets that a jar would keep, name to value (for
 * `Response.cookies`): stored by a fresh jar, so the rules are the jar's own. Without a URL (a
 * response built by hand) only the lines themselves count: a cookie that expires deletes an
 * earlier one of the same name, and `Domain` and `Secure` are taken as given.
 *
 * @param url The URL the response came from, or `""` (anything that is not a URL counts so).
 * @param setCookie The `Set-Cookie` header values.
 * @param now The current time in milliseconds since the epoch.
 * @returns A new object with a `null` prototype.
 */
export function responseCookies(
  url: string,
  setCookie: readonly string[],
  now: number = Date.now(),
): Record<string, string> {
  const target = parseUrl(url);
  if (target !== null) {
    const jar = new CookieJar();
    jar.setFromResponse(target, setCookie, now);
    return jar.toObject();
  }
  const kept = new Map<string, string>();
  for (const line of setCookie) {
    const cookie = parseSetCookie(line, "/", now);
    if (cookie === null) continue;
    if (isExpired(cookie, now)) kept.delete(cookie.name);
    else kept.set(cookie.name, cookie.value);
  }
  const object: Record<string, string> = Object.create(null);
  for (const [name, value] of kept) object[name] = value;
  return object;
}

/**
 * RFC 6265 §5.2: parses one `Set-Cookie` line from a response to `requestPath`; `null` when it is
 * malformed or breaks its name prefix's rules. The returned domain is the canonical `Domain`
 * attribute, or `""` when absent; the caller decides host-only.
 */
function parseSetCookie(line: string, requestPath: string, now: number): Cookie | null {
  if (longerThan(line, MAX_LINE_BYTES)) return null;
  const [pair, ...attributes] = line.split(";");
  const eq = pair.indexOf("=");
  if (eq === -1) return null;
  const name = trimWsp(pair.slice(0, eq));
  const value = trimWsp(pair.slice(eq + 1));
  if (name === "" || CONTROL.test(name) || CONTROL.test(value)) return null;

  const cookie: Cookie = {
    name,
    value,
    domain: "",
    path: defaultPath(requestPath),
    expires: null,
    secure: false,
    httpOnly: false,
    hostOnly: false,
    sameSite: null,
  };
  let maxAge: number | null = null;
  let expires: number | null = null;
  let pathGiven = false;
  for (const attribute of attributes) {
    const split = attribute.indexOf("=");
    const key = trimWsp(split === -1 ? attribute : attribute.slice(0, split)).toLowerCase();
    const arg = split === -1 ? "" : trimWsp(attribute.slice(split + 1));
    switch (key) {
      case "expires": {
        const time = parseCookieDate(arg);
        if (time !== null) expires = time;
        break;
      }
      case "max-age":
        if (/^-?\d+$/.test(arg)) {
          const seconds = Number(arg);
          maxAge = seconds <= 0 ? now : Math.min(now + seconds * 1000, MAX_TIME);
        }
        break;
      case "domain":
        if (arg !== "") {
          const domain = canonicalDomain(arg);
          // A Domain that is not a host name can match no request host: refuse the cookie.
          if (domain === null) return null;
          cookie.domain = domain;
        }
        break;
      case "path":
        cookie.path = arg.startsWith("/") ? arg : defaultPath(requestPath);
        pathGiven = true;
        break;
      case "secure":
        cookie.secure = true;
        break;
      case "httponly":
        cookie.httpOnly = true;
        break;
      case "samesite": {
        const mode = arg.toLowerCase();
        cookie.sameSite = mode === "strict"
          ? "Strict"
          : mode === "lax"
          ? "Lax"
          : mode === "none"
          ? "None"
          : null;
        break;
      }
    }
  }
  cookie.expires = maxAge ?? expires;
  // RFC 6265bis §5.7 steps 20-21: `__Host-` asks for a Path attribute, not only the path "/".
  const path = pathGiven ? cookie.path : null;
  return prefixRuleBroken(name, cookie.secure, cookie.domain, path) === null ? cookie : null;
}

/**
 * RFC 6265bis §4.1.3 and §5.7 steps 20-21: the rule of the cookie name's prefix (`__Secure-`,
 * `__Host-`, in any case) that a cookie breaks, or `null` when it keeps them. `domain` is the
 * Domain attribute (`""` for none) and `path` the path it was set with (`null` for none).
 */
function prefixRuleBroken(
  name: string,
  secure: boolean,
  domain: string,
  path: string | null,
): string | null {
  const host = HOST_PREFIX.test(name);
  if (!host && !SECURE_PREFIX.test(name)) return null;
  if (!secure) return `a '${host ? "__Host-" : "__Secure-"}' cookie must be secure`;
  if (!host) return null;
  if (domain !== "") return "a '__Host-' cookie must have no domain";
  if (path !== "/") return "a '__Host-' cookie must have the path '/'";
  return null;
}

/** RFC 6265 §5.1.1: the cookie-date algorithm; `null` when the date is unusable. */
function parseCookieDate(text: string): number | null {
  let time: [number, number, number] | null = null;
  let day: number | null = null;
  let month: number | null = null;
  let year: number | null = null;
  for (const token of text.split(DATE_DELIMITER)) {
    if (token === "") continue;
    let match: RegExpExecArray | null;
    if (time === null && (match = TIME_TOKEN.exec(token)) !== null) {
      time = [Number(match[1]), Number(match[2]), Number(match[3])];
    } else if (day === null && (match = DAY_TOKEN.exec(token)) !== null) {
      day = Number(match[1]);
    } else if (month === null && MONTHS.includes(token.slice(0, 3).toLowerCase())) {
      month = MONTHS.indexOf(token.slice(0, 3).toLowerCase());
    } else if (year === null && (match = YEAR_TOKEN.exec(token)) !== null) {
      year = Number(match[1]);
    }
  }
  if (time === null || day === null || month === null || year === null) return null;
  if (year >= 70 && year <= 99) year += 1900;
  else if (year >= 0 && year <= 69) year += 2000;
  const [hour, minute, second] = time;
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(Date.UTC(year, month, day, hour, minute, second));
  // Date.UTC rolls 31 Feb over into March; such a date does not exist.
  if (date.getUTCDate() !== day) return null;
  return date.getTime();
}

/** RFC 6265 §5.1.4: the directory of the request path. */
function defaultPath(path: string): string {
  if (!path.startsWith("/")) return "/";
  const slash = path.lastIndexOf("/");
  return slash === 0 ? "/" : path.slice(0, slash);
}

/** RFC 6265 §5.1.4: whether `requestPath` is within `cookiePath`. */
function pathMatch(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}

/**
 * RFC 6265 §5.1.3: whether `host` is `domain` or a subdomain of it; `""` matches every host.
 * An IP address matches only itself, so a `Domain` naming another address is refused.
 */
function domainMatch(host: string, domain: string): boolean {
  if (domain === "" || host === domain) return true;
  return host.endsWith(`.${domain}`) && !isIp(host);
}

/**
 * The domains a cookie sent to `host` can be stored under: the host, each domain it is a
 * subdomain of (none for an IP address) and `""`, the domain of cookies for every host.
 */
function* domainsOf(host: string): Generator<string> {
  yield host;
  if (!isIp(host)) {
    for (let dot = host.indexOf("."); dot !== -1; dot = host.indexOf(".", dot + 1)) {
      // A trailing dot leaves "" behind it, which comes last, once.
      if (dot + 1 < host.length) yield host.slice(dot + 1);
    }
  }
  yield "";
}

/** The site a cookie's domain counts against for the per-site cap: its registrable domain. */
function siteOf(domain: string): string {
  if (domain === "" || isIp(domain)) return domain;
  return registrableDomain(domain.endsWith(".") ? domain.slice(0, -1) : domain);
}

/** Whether a canonical host is an IPv4 or bracketed IPv6 address. */
/** Loopback hosts: `localhost`, `*.localhost`, 127.0.0.0/8 and `[::1]`. */
const LOOPBACK = /^(?:localhost|[^]*\.localhost|127(?:\.\d{1,3}){3}|\[::1\])\.?$/;

/**
 * Whether `url` is a secure context for cookies: https, or a loopback host, which browsers and
 * curl treat as secure, so a local development server's `Secure` cookies work over http.
 */
function isSecureContext(url: URL): boolean {
  return url.protocol === "https:" || LOOPBACK.test(url.hostname);
}

function isIp(host: string): boolean {
  return host.startsWith("[") || IPV4.test(host);
}

/**
 * A domain as the URL parser canonicalizes a host (lower case, punycode, dotted-decimal IPv4),
 * without a leading dot; `null` when it is not a bare host.
 */
function canonicalDomain(domain: string): string | null {
  const bare = domain.startsWith(".") ? domain.slice(1) : domain;
  if (bare === "" || NOT_A_HOST.test(bare) || (bare.includes(":") && !bare.startsWith("["))) {
    return null;
  }
  try {
    return new URL(`http://${bare}/`).hostname;
  } catch {
    return null;
  }
}

function parseUrl(text: string): URL | null {
  if (text === "") return null;
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** Whether a stored cookie is the one `get()` or `delete()` asks for. */
function filterMatch(cookie: Cookie, name: string, where: CookieFilter | undefined): boolean {
  if (cookie.name !== name) return false;
  if (where?.path !== undefined && cookie.path !== where.path) return false;
  if (where?.domain !== undefined) {
    const domain = canonicalDomain(where.domain) ?? where.domain.toLowerCase();
    if (cookie.domain !== domain) return false;
  }
  return true;
}

function isExpired(cookie: Cookie, now: number): boolean {
  return cookie.expires !== null && cookie.expires <= now;
}

/** Removes leading and trailing spaces and tabs, the only whitespace RFC 6265 trims. */
function trimWsp(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

/** Whether `text` takes more than `limit` bytes in UTF-8, without encoding it. */
function longerThan(text: string, limit: number): boolean {
  // A UTF-16 code unit takes at least one and at most three UTF-8 bytes.
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes > limit;
}

// Public suffixes (https://publicsuffix.org/list/ "Algorithm") over the rules of
// `_public_suffix_data.js`, which stay one string until a host of more than one label is looked
// up. They and the store below live in this module rather than their own because on Deno each
// module costs about 0.4 ms at import.

/**
 * The first labels of the rules directly under each domain (`co` under `uk`, `*` for `*.ck`,
 * `!www` for `!www.ck`): the text of its line until first needed, then a Set. `null` until the
 * first lookup.
 */
let byParent: Map<string, string | Set<string>> | null = null;

function indexLines(): Map<string, string | Set<string>> {
  const index = new Map<string, string | Set<string>>();
  for (let start = 0; start < RULES.length;) {
    const newline = RULES.indexOf("\n", start);
    const end = newline === -1 ? RULES.length : newline;
    // Every line holds at least one label after its domain.
    const space = RULES.indexOf(" ", start);
    index.set(RULES.slice(start, space), RULES.slice(space + 1, end));
    start = end + 1;
  }
  return index;
}

/** The first labels of the rules directly under `parent`. */
function rulesUnder(parent: string): Set<string> | undefined {
  byParent ??= indexLines();
  const labels = byParent.get(parent);
  if (typeof labels !== "string") return labels;
  const set = new Set(labels.split(" "));
  byParent.set(parent, set);
  return set;
}

/**
 * The public suffix of a host name in the URL parser's form (lower case, punycode, no trailing
 * dot): the labels the prevailing rule matches. An exception rule prevails and gives its match
 * less the leftmost label; otherwise the rule of most labels does; with none, the last label.
 */
function publicSuffix(host: string): string {
  let dot = host.lastIndexOf(".");
  if (dot === -1) return host;
  let parent = host.slice(dot + 1);
  let suffix = parent;
  // A leading dot stops the walk: an empty label can be part of no rule.
  while (dot > 0) {
    const end = dot;
    dot = host.lastIndexOf(".", dot - 1);
    const label = host.slice(dot + 1, end);
    const rules = rulesUnder(parent);
    if (rules?.has(`!${label}`)) return parent;
    const candidate = `${label}.${parent}`;
    if (rules !== undefined && (rules.has(label) || rules.has("*"))) suffix = candidate;
    parent = candidate;
  }
  return suffix;
}

/** Whether a host name in the URL parser's form is itself a public suffix. */
function isPublicSuffix(host: string): boolean {
  return publicSuffix(host) === host;
}

/**
 * The registrable domain of a host name (its public suffix and one more label), or the host
 * itself when it is a public suffix.
 */
function registrableDomain(host: string): string {
  const suffix = publicSuffix(host);
  if (suffix === host) return host;
  // The dot before the suffix; the label before it runs from the dot before that.
  const end = host.length - suffix.length - 1;
  return host.slice(end === 0 ? 0 : host.lastIndexOf(".", end - 1) + 1);
}

/** One stored cookie with its place in the creation order. */
interface Entry {
  /** The cookie's identity: name, domain and path. */
  readonly key: string;
  /** The cookie; replaced in place when a cookie with the same key arrives. */
  item: Cookie;
  /** Increases with each new key: the creation order, kept across replacements. */
  readonly order: number;
  /** The site the cookie counts against; `null` until the store starts counting. */
  site: string | null;
}

/** The caps and how a domain maps to the site it counts against. */
interface StoreLimits {
  /** The most cookies one site keeps. */
  readonly perSite: number;
  /** The most cookies the store keeps. */
  readonly total: number;
  /** The site of a domain: its registrable domain, say. Called only once the store is crowded. */
  readonly siteOf: (domain: string) => string;
}

/** Entries keyed by name, domain and path, in creation order. */
type Bucket = Map<string, Entry>;

/**
 * The jar's storage: entries in creation order, indexed by domain so a request looks only at
 * cookies that can match its host, and kept within RFC 6265 §6.1's limits (a cap per site and one
 * in all) by §5.3's order of removal: expired cookies first, then the oldest of the most crowded
 * site.
 */
class CookieStore {
  readonly #limits: StoreLimits;
  #entries: Bucket = new Map();
  #domains: Map<string, Bucket> = new Map();
  /**
   * The entries of each site. Counting starts only once the store holds more than `perSite`
   * cookies, before which no site can be over its cap: a small jar never looks a site up.
   */
  #sites: Map<string, Bucket> | null = null;
  /** `#crowds[n]`: the sites holding `n` cookies, in the order they reached `n`. */
  #crowds: Set<string>[] = [];
  #largest = 0;
  /** No cookie expires before this; a sweep for expired cookies is due only from then on. */
  #nextExpiry = Infinity;
  #created = 0;

  constructor(limits: StoreLimits) {
    this.#limits = limits;
  }

  /** The number of entries, expired ones not yet removed included. */
  get size(): number {
    return this.#entries.size;
  }

  /** Every entry in creation order; deleting while iterating is safe. */
  values(): IterableIterator<Entry> {
    return this.#entries.values();
  }

  /** The entries whose `domain` is exactly `domain`, in creation order. */
  inDomain(domain: string): IterableIterator<Entry> | undefined {
    return this.#domains.get(domain)?.values();
  }

  /**
   * Stores `item` under `key`: an existing entry is replaced in place (keeping its creation
   * order), an expired item only deletes, and a new entry may push out others to keep the caps.
   */
  put(key: string, item: Cookie, now: number): void {
    if (item.expires !== null && item.expires <= now) {
      this.delete(key);
      return;
    }
    if (item.expires !== null && item.expires < this.#nextExpiry) this.#nextExpiry = item.expires;
    const old = this.#entries.get(key);
    if (old !== undefined) {
      old.item = item;
      return;
    }
    const entry: Entry = { key, item, order: this.#created++, site: null };
    this.#entries.set(key, entry);
    let bucket = this.#domains.get(item.domain);
    if (bucket === undefined) this.#domains.set(item.domain, bucket = new Map());
    bucket.set(key, entry);
    if (this.#sites !== null) this.#join(entry);
    else if (this.#entries.size > this.#limits.perSite) this.#startCounting();
    this.#keepCaps(entry, now);
  }

  /** Removes the entry under `key`; whether there was one. */
  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    const bucket = this.#domains.get(entry.item.domain)!;
    bucket.delete(key);
    if (bucket.size === 0) this.#domains.delete(entry.item.domain);
    if (entry.site !== null) this.#leave(entry);
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
    this.#domains.clear();
    this.#sites = null;
    this.#crowds = [];
    this.#largest = 0;
    this.#nextExpiry = Infinity;
  }

  /** RFC 6265 §5.3 step 12: expired cookies go first, then the crowded site's oldest. */
  #keepCaps(added: Entry, now: number): void {
    const sites = this.#sites;
    if (sites === null) return;
    const { perSite, total } = this.#limits;
    const site = added.site!;
    if (sites.get(site)!.size <= perSite && this.#entries.size <= total) return;
    if (this.#nextExpiry <= now) this.#sweep(now);
    let crowd = sites.get(site);
    while (crowd !== undefined && crowd.size > perSite) {
      this.delete(crowd.keys().next().value!);
      crowd = sites.get(site);
    }
    while (this.#entries.size > total) {
      // The site of the cookie that overflowed pays when it is among the most crowded.
      const largest = this.#crowds[this.#largest];
      const victim = largest.has(site) ? site : largest.values().next().value!;
      this.delete(sites.get(victim)!.keys().next().value!);
    }
  }

  /** Removes every expired entry and learns when the next one expires. */
  #sweep(now: number): void {
    let next = Infinity;
    for (const entry of this.#entries.values()) {
      const expires = entry.item.expires;
      if (expires === null) continue;
      if (expires <= now) this.delete(entry.key);
      else if (expires < next) next = expires;
    }
    this.#nextExpiry = next;
  }

  #startCounting(): void {
    this.#sites = new Map();
    for (const entry of this.#entries.values()) this.#join(entry);
  }

  /** Counts `entry` against its site. */
  #join(entry: Entry): void {
    const site = entry.site ??= this.#limits.siteOf(entry.item.domain);
    const sites = this.#sites!;
    let bucket = sites.get(site);
    if (bucket === undefined) sites.set(site, bucket = new Map());
    this.#crowds[bucket.size]?.delete(site);
    bucket.set(entry.key, entry);
    (this.#crowds[bucket.size] ??= new Set()).add(site);
    if (bucket.size > this.#largest) this.#largest = bucket.size;
  }

  /** Stops counting a removed `entry` against its site. */
  #leave(entry: Entry): void {
    const site = entry.site!;
    const sites = this.#sites!;
    const bucket = sites.get(site)!;
    this.#crowds[bucket.size].delete(site);
    bucket.delete(entry.key);
    if (bucket.size === 0) sites.delete(site);
    else this.#crowds[bucket.size].add(site);
    // Counts move by one, so the largest drops by at most one.
    if (this.#crowds[this.#largest]?.size === 0 && this.#largest > 0) this.#largest--;
  }
}
