// RFC 6265 §5.2: a `Set-Cookie` line parsed into a cookie, with the cookie-date algorithm and
// the rules of RFC 6265bis's name prefixes. Whether the jar keeps the cookie (its domain, the
// request's scheme) is the jar's decision.

import type { Cookie } from "./jar.ts";

/** The longest `Set-Cookie` line accepted, in UTF-8 bytes. */
export const MAX_LINE_BYTES = 8192;
/** The latest time a `Date` can hold, in milliseconds since the epoch. */
export const MAX_TIME = 8.64e15;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
/** RFC 6265 §5.1.1 delimiter: %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E. */
const DATE_DELIMITER = /[\t\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+/;
const TIME_TOKEN = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D|$)/;
const DAY_TOKEN = /^(\d{1,2})(?:\D|$)/;
const YEAR_TOKEN = /^(\d{2,4})(?:\D|$)/;
/** Control characters other than tab, which RFC 6265bis forbids in names and values. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
export const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** RFC 6265bis name prefixes, matched case-insensitively. */
const SECURE_PREFIX = /^__secure-/i;
const HOST_PREFIX = /^__host-/i;
/** Characters that would make a domain parse as more than a host. */
const NOT_A_HOST = /[/\\?#@\s]/;

/**
 * RFC 6265 §5.2: parses one `Set-Cookie` line from a response to `requestPath`; `null` when it is
 * malformed or breaks its name prefix's rules. The returned domain is the canonical `Domain`
 * attribute, or `""` when absent; the caller decides host-only.
 */
export function parseSetCookie(line: string, requestPath: string, now: number): Cookie | null {
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
export function prefixRuleBroken(
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

/**
 * A domain as the URL parser canonicalizes a host (lower case, punycode, dotted-decimal IPv4),
 * without a leading dot; `null` when it is not a bare host.
 */
export function canonicalDomain(domain: string): string | null {
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

/** Removes leading and trailing spaces and tabs, the only whitespace RFC 6265 trims. */
function trimWsp(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

/** Whether `text` takes more than `limit` bytes in UTF-8, without encoding it. */
export function longerThan(text: string, limit: number): boolean {
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
