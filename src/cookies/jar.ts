/**
 * The cookie jar: RFC 6265 §5.1-5.4 storage and retrieval, with RFC 6265bis's rules that a
 * `Secure` cookie is never accepted from, nor sent to, a plain `http://` URL (a loopback host
 * counts as secure, as in browsers and curl) and that the `__Secure-` and `__Host-` name
 * prefixes hold. A `Domain` attribute naming a public suffix (the
 * Public Suffix List, or any single label such as `localhost`) is refused unless it is the
 * request host itself, which then keeps the cookie as host-only (RFC 6265 §5.3 step 5).
 *
 * @module
 */

import { clip } from "../errors.ts";
import { isPublicSuffix, registrableDomain } from "./_public_suffix.ts";
import { canonicalDomain, CONTROL, parseSetCookie, prefixRuleBroken } from "./_set_cookie.ts";

// The cookie file format is loaded on first use: most scripts never save a jar.
type Netscape = typeof import("./_netscape.ts");
let netscape: Promise<Netscape> | undefined;
const loadNetscape = () => netscape ??= import("./_netscape.ts");

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

/**
 * A jar as plain data: what {@linkcode CookieJar.prototype.toJSON} gives and
 * {@linkcode CookieJar.fromJSON} takes.
 */
export interface CookieJarData {
  /** The format's version: 1. */
  version: 1;
  /** The cookies, every field kept, in creation order. */
  cookies: Cookie[];
}

/** Where {@linkcode CookieJar.prototype.get} and {@linkcode CookieJar.prototype.delete} look. */
export interface CookieFilter {
  /** Only cookies of this domain (compared after lower-casing and dropping a leading dot). */
  domain?: string;
  /** Only cookies with exactly this path. */
  path?: string;
}

/** The most cookies a jar keeps (RFC 6265 §6.1 asks for at least 3000). */
const MAX_COOKIES = 3000;
/** The most cookies one site keeps (§6.1: at least 50); Chromium's and Firefox's number. */
/** How many Cookie headers a jar keeps built (scripts call a few URLs again and again). */
const HEADERS_KEPT = 64;
const MAX_PER_SITE = 180;
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;
const SAME_SITE: ReadonlySet<unknown> = new Set(["Strict", "Lax", "None", null]);

/** Each jar's store, for {@linkcode replaceCookies}: reached without a static block. */
const stores = new WeakMap<CookieJar, CookieStore>();

/**
 * @internal Replaces every cookie of `jar` with copies of `cookies`, every field kept (the sync
 * API keeps the jar of a session's thread and its worker's in step this way).
 *
 * @param jar The jar to fill.
 * @param cookies The cookies it holds afterwards, stored as they are.
 */
export function replaceCookies(jar: CookieJar, cookies: Iterable<Cookie>): void {
  const store = stores.get(jar)!;
  store.clear();
  const now = Date.now();
  for (const cookie of cookies) store.put(cookieKey(cookie), { ...cookie }, now);
}

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
  /** Cookie headers built lately, by URL, with the store version and expiry they hold for. */
  #headers = new Map<string, { header: string | null; until: number; version: number }>();
  /** Keyed by name, domain and path; insertion order is creation order. */
  #store: CookieStore = new CookieStore({
    perSite: MAX_PER_SITE,
    total: MAX_COOKIES,
    siteOf,
  });

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
    stores.set(this, this.#store);
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
    const store = this.#store;
    if (store.size === 0) return null;
    // Scripts send to the same few URLs again and again: a header is built once per URL until
    // the jar changes or a cookie in it expires.
    const key = typeof url === "string" ? url : `${url.protocol}//${url.host}${url.pathname}`;
    const known = this.#headers.get(key);
    if (known !== undefined && known.version === store.version && now < known.until) {
      return known.header;
    }
    const built = this.#buildHeader(typeof url === "string" ? new URL(url) : url, now);
    if (this.#headers.size >= HEADERS_KEPT) this.#headers.clear();
    this.#headers.set(key, { ...built, version: store.version });
    return built.header;
  }

  /** The Cookie header for `url` (RFC 6265 §5.4), and until when it holds. */
  #buildHeader(url: URL, now: number): { header: string | null; until: number } {
    const host = url.hostname;
    if (host === "") return { header: null, until: Infinity };
    const secureScheme = isSecureContext(url);
    const path = url.pathname;
    const matches: Entry[] = [];
    let until = Infinity;
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
        if (!pathMatch(path, cookie.path)) continue;
        matches.push(entry);
        if (cookie.expires !== null && cookie.expires < until) until = cookie.expires;
      }
    }
    if (matches.length === 0) return { header: null, until };
    matches.sort((a, b) => b.item.path.length - a.item.path.length || a.order - b.order);
    return { header: matches.map(({ item }) => `${item.name}=${item.value}`).join("; "), until };
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

  /**
   * Writes the jar to `path` in the Netscape `cookies.txt` format that curl (`-b` / `-c`),
   * wget, yt-dlp and Python's `MozillaCookieJar` read: the line `# Netscape HTTP Cookie File`,
   * then one line per cookie with LF endings. A host-only cookie's domain is written as it is
   * with include-subdomains `FALSE`, a domain cookie's with a leading dot and `TRUE`; an
   * `HttpOnly` cookie's line starts with `#HttpOnly_`; a session cookie's expiry is `0`, and
   * any other is capped at 400 days from now, as curl does. Expired cookies are not written,
   * nor cookies the format cannot hold: those for every host (set by hand without a domain),
   * and those with a tab in their name or value.
   *
   * The file is written whole or not at all: into a new file in the same directory, created
   * exclusively with mode 0600, then renamed over `path`; when the save fails, a file already
   * at `path` is left as it was.
   *
   * @param path A file path, or a `file:` URL.
   * @returns A promise that resolves once the file is in place.
   * @throws {TypeError} Where the runtime has no file access (a browser), or `path` is not a
   * path. A failure of the file system (permissions, a missing directory) rejects with the
   * runtime's own error.
   *
   * @example Save the cookies, load them in the next run
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   * import { mkdtemp, readFile } from "node:fs/promises";
   * import { tmpdir } from "node:os";
   *
   * const jar = new CookieJar();
   * jar.setFromResponse(new URL("https://example.com/"), ["sid=42; Max-Age=3600; HttpOnly"]);
   * const path = `${await mkdtemp(`${tmpdir()}/jar-`)}/cookies.txt`;
   * await jar.save(path);
   * const line = /^#HttpOnly_example\.com\tFALSE\t\/\tFALSE\t\d+\tsid\t42$/m;
   * assert.match(await readFile(path, "utf8"), line);
   * const again = await CookieJar.load(path);
   * assert.equal(again.cookieHeader(new URL("https://example.com/")), "sid=42");
   * ```
   */
  async save(path: string | URL): Promise<void> {
    const { checkPath, formatCookies, writeCookieFile } = await loadNetscape();
    const where = checkPath(path, "jar.save()");
    const now = Date.now();
    await writeCookieFile(where, formatCookies(this.#live(now), now), "jar.save()");
  }

  /**
   * Reads a jar from a Netscape `cookies.txt` file, such as one `jar.save()`, `curl -c`, wget or
   * Python's `MozillaCookieJar` wrote. Lenient, line by line: CRLF line endings and a byte order
   * mark are accepted, a line with six fields has an empty value, an expiry of `0` or empty makes
   * a session cookie, and a line that is not a cookie (a comment, a control character, a missing
   * or malformed field, a domain that is not a host name, a name or value longer than a
   * `Set-Cookie` line may be) is skipped, never thrown. The jar's rules hold for what is loaded:
   * expired cookies are dropped, a cookie breaking its `__Secure-` or `__Host-` prefix is refused,
   * a domain cookie for a public suffix or an IP address is kept for that host only, and the caps
   * on cookies per site and in all apply.
   *
   * @param path A file path, or a `file:` URL.
   * @returns A new jar holding the file's cookies, in file order.
   * @throws {TypeError} Where the runtime has no file access (a browser), or `path` is not a
   * path. A file that cannot be read (missing: the error's `code` is `"ENOENT"`) rejects with the
   * runtime's own error.
   *
   * @example Load the cookies curl saved with `curl -c cookies.txt`
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   * import { mkdtemp, writeFile } from "node:fs/promises";
   * import { tmpdir } from "node:os";
   *
   * const path = `${await mkdtemp(`${tmpdir()}/jar-`)}/cookies.txt`;
   * const line = [".example.com", "TRUE", "/", "FALSE", "0", "lang", "en"].join("\t");
   * await writeFile(path, `# Netscape HTTP Cookie File\n${line}\n`);
   * const jar = await CookieJar.load(path);
   * assert.equal(jar.cookieHeader(new URL("http://www.example.com/")), "lang=en");
   * ```
   */
  static async load(path: string | URL): Promise<CookieJar> {
    const { checkPath, parseCookies, readCookieFile } = await loadNetscape();
    const text = await readCookieFile(checkPath(path, "CookieJar.load()"), "CookieJar.load()");
    const jar = new CookieJar();
    const now = Date.now();
    for (const cookie of parseCookies(text)) jar.#admit(cookie, now);
    return jar;
  }

  /**
   * The jar as plain data, for `JSON.stringify` (which calls it) or any other store: every
   * unexpired cookie with all its fields, in creation order. {@linkcode CookieJar.fromJSON}
   * turns it back into a jar.
   *
   * @returns `{ version: 1, cookies }`, the cookies copied.
   *
   * @example Keep a jar as JSON
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = new CookieJar();
   * jar.setFromResponse(new URL("https://example.com/"), ["sid=42; SameSite=Lax"]);
   * const text = JSON.stringify(jar);
   * const again = CookieJar.fromJSON(JSON.parse(text));
   * assert.deepEqual([...again], [...jar]);
   * ```
   */
  toJSON(): CookieJarData {
    return { version: 1, cookies: [...this] };
  }

  /**
   * A jar from the data {@linkcode CookieJar.prototype.toJSON} gave. A cookie entry that is not
   * a valid cookie is skipped, and the jar's rules hold for the others as for
   * {@linkcode CookieJar.load}: expired cookies are dropped, the `__Secure-` and `__Host-`
   * prefixes are enforced, a domain cookie for a public suffix or an IP address is kept for that
   * host only, and the caps apply.
   *
   * @param data The value of `jar.toJSON()`, or of `JSON.parse(JSON.stringify(jar))`.
   * @returns A new jar.
   * @throws {TypeError} When `data` is not an object with `version: 1` and a `cookies` array.
   *
   * @example Restore a jar
   * ```ts
   * import { CookieJar } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const jar = CookieJar.fromJSON({
   *   version: 1,
   *   cookies: [{
   *     name: "sid", value: "42", domain: "example.com", path: "/", expires: null,
   *     secure: true, httpOnly: true, hostOnly: true, sameSite: "Lax",
   *   }],
   * });
   * assert.equal(jar.cookieHeader(new URL("https://example.com/")), "sid=42");
   * assert.equal(jar.cookieHeader(new URL("https://www.example.com/")), null);
   * ```
   */
  static fromJSON(data: CookieJarData): CookieJar {
    const given = data as unknown as { version?: unknown; cookies?: unknown } | null;
    if (typeof given !== "object" || given === null || !Array.isArray(given.cookies)) {
      throw new TypeError("Invalid 'data': expected the value of jar.toJSON()");
    }
    if (given.version !== 1) {
      throw new TypeError(`Invalid 'data': version ${clip(String(given.version))} is not 1`);
    }
    const jar = new CookieJar();
    const now = Date.now();
    for (const entry of given.cookies as unknown[]) {
      const cookie = cookieFromData(entry);
      if (cookie !== null) jar.#admit(cookie, now);
    }
    return jar;
  }

  /**
   * Stores a cookie read from a file or data, under the rules a `Set-Cookie` line meets where
   * they do not need the request: its name prefix, and no domain cookie for a public suffix or an
   * IP address (kept for that host only, as the jar keeps such a cookie from that host).
   */
  #admit(cookie: Cookie, now: number): void {
    const domain = cookie.hostOnly ? "" : cookie.domain;
    if (prefixRuleBroken(cookie.name, cookie.secure, domain, cookie.path) !== null) return;
    if (domain !== "" && (isIp(domain) || isPublicSuffix(domain.replace(/\.$/, "")))) {
      cookie.hostOnly = true;
    }
    this.#put(cookie, now);
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
    this.#store.put(cookieKey(cookie), cookie, now);
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

function parseUrl(text: string): URL | null {
  if (text === "") return null;
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** A cookie's identity in the store: its name, domain and path. */
function cookieKey(cookie: Cookie): string {
  return JSON.stringify([cookie.name, cookie.domain, cookie.path]);
}

/** A cookie of {@linkcode CookieJar.fromJSON}'s data, checked field by field; null when invalid. */
function cookieFromData(entry: unknown): Cookie | null {
  if (typeof entry !== "object" || entry === null) return null;
  const { name, value, domain, path, expires, secure, httpOnly, hostOnly, sameSite } =
    entry as Record<string, unknown>;
  if (typeof name !== "string" || name === "" || /[=;]/.test(name) || CONTROL.test(name)) {
    return null;
  }
  if (typeof value !== "string" || value.includes(";") || CONTROL.test(value)) return null;
  if (typeof path !== "string" || !path.startsWith("/") || typeof domain !== "string") return null;
  if (expires !== null && (typeof expires !== "number" || !Number.isFinite(expires))) return null;
  if (typeof secure !== "boolean" || typeof httpOnly !== "boolean") return null;
  if (typeof hostOnly !== "boolean" || !SAME_SITE.has(sameSite)) return null;
  const canonical = domain === "" ? "" : canonicalDomain(domain);
  if (canonical === null || (canonical === "" && hostOnly)) return null;
  return {
    name,
    value,
    domain: canonical,
    path,
    expires,
    secure,
    httpOnly,
    hostOnly,
    sameSite: sameSite as Cookie["sameSite"],
  };
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

// The store behind a jar: cookies by key, indexed by domain, with the per-site and total caps.

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
  /** Counts every change: what was computed from the entries at one version holds until it. */
  version = 0;

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
    this.version++;
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
    this.version++;
    this.#entries.delete(key);
    const bucket = this.#domains.get(entry.item.domain)!;
    bucket.delete(key);
    if (bucket.size === 0) this.#domains.delete(entry.item.domain);
    if (entry.site !== null) this.#leave(entry);
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.version++;
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
