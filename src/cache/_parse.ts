// The field values the cache reads, parsed as RFC 9111 and RFC 9110 say: Cache-Control
// (§5.2), Age (§5.1), HTTP-dates (RFC 9110 §5.6.7), entity-tags (RFC 9110 §8.8.3) and Vary
// (RFC 9110 §12.5.5). Every parser runs in time linear in its input, whatever a server sends.

/** The largest delta-seconds the cache represents (RFC 9111 §1.2.2): 2^31. */
export const MAX_SECONDS = 2147483648;

/** The Cache-Control directives the cache acts on, request and response ones together. */
export interface Directives {
  /** `max-age`, seconds; null when absent or malformed. */
  maxAge: number | null;
  /** `s-maxage`, seconds (shared caches only). */
  sMaxage: number | null;
  /** `max-stale` (request): seconds, `Infinity` without a value. */
  maxStale: number | null;
  /** `min-fresh` (request), seconds. */
  minFresh: number | null;
  /** `stale-while-revalidate` (RFC 5861), seconds. */
  staleWhileRevalidate: number | null;
  /** `stale-if-error` (RFC 5861), seconds. */
  staleIfError: number | null;
  /** `no-cache` without field names. */
  noCache: boolean;
  /** The field names of a qualified `no-cache="..."`, lower-case; null when none. */
  noCacheFields: string[] | null;
  noStore: boolean;
  /** `private` without field names. */
  private: boolean;
  /** The field names of a qualified `private="..."`, lower-case; null when none. */
  privateFields: string[] | null;
  public: boolean;
  mustRevalidate: boolean;
  proxyRevalidate: boolean;
  mustUnderstand: boolean;
  onlyIfCached: boolean;
}

/** The directives of an absent or empty Cache-Control. Never changed. */
export const NO_DIRECTIVES: Readonly<Directives> = Object.freeze(emptyDirectives());

function emptyDirectives(): Directives {
  return {
    maxAge: null,
    sMaxage: null,
    maxStale: null,
    minFresh: null,
    staleWhileRevalidate: null,
    staleIfError: null,
    noCache: false,
    noCacheFields: null,
    noStore: false,
    private: false,
    privateFields: null,
    public: false,
    mustRevalidate: false,
    proxyRevalidate: false,
    mustUnderstand: false,
    onlyIfCached: false,
  };
}

const COMMA = 44;
const QUOTE = 34;
const BACKSLASH = 92;
const EQUALS = 61;
/** RFC 9110 tchar: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA, as a table of char codes. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}
/** The longest directive name the cache knows (`stale-while-revalidate`). */
const LONGEST_NAME = 22;

function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9;
}

/** The index after the quoted-string opening at `i`, or -1 when it never closes. */
function quotedEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const code = text.charCodeAt(j);
    if (code === QUOTE) return j + 1;
    if (code === BACKSLASH) j++;
  }
  return -1;
}

/** The content of the quoted-string between `start` (its opening quote) and `end`. */
function unquote(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  return inner.includes("\\") ? inner.replace(/\\(.)/gs, "$1") : inner;
}

/** The index of the next comma outside a quoted-string at or after `i`, or the end. */
function nextComma(text: string, i: number): number {
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === COMMA) return i;
    if (code === QUOTE) {
      const end = quotedEnd(text, i);
      if (end < 0) return text.length;
      i = end;
    } else i++;
  }
  return i;
}

/**
 * delta-seconds (RFC 9111 §1.2.2): digits only; 2^31 and more become 2^31. Null for anything
 * else (a sign, a fraction, a letter, an empty value): a malformed value is ignored.
 */
export function deltaSeconds(value: string | null): number | null {
  if (value === null || value.length === 0) return null;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) return null;
  }
  return value.length > 10 ? MAX_SECONDS : Math.min(Number(value), MAX_SECONDS);
}

/** The lower-case field names of a qualified `no-cache` or `private`, or null when unqualified. */
function fieldNames(value: string | null): string[] | null {
  if (value === null) return null;
  const names = value.split(",").map((name) => name.trim().toLowerCase()).filter(Boolean);
  return names.length > 0 ? names : null;
}

/**
 * Records one directive. A repeated one keeps its first well-formed value; a bare `no-cache` or
 * `private` beside a qualified one wins (the most restrictive reading).
 */
function apply(d: Directives, name: string, value: string | null): void {
  switch (name) {
    case "max-age":
      d.maxAge ??= deltaSeconds(value);
      break;
    case "s-maxage":
      d.sMaxage ??= deltaSeconds(value);
      break;
    case "max-stale":
      d.maxStale ??= value === null ? Infinity : deltaSeconds(value);
      break;
    case "min-fresh":
      d.minFresh ??= deltaSeconds(value);
      break;
    case "stale-while-revalidate":
      d.staleWhileRevalidate ??= deltaSeconds(value);
      break;
    case "stale-if-error":
      d.staleIfError ??= deltaSeconds(value);
      break;
    case "no-cache": {
      const fields = fieldNames(value);
      if (fields === null) d.noCache = true;
      else for (const field of fields) (d.noCacheFields ??= []).push(field);
      break;
    }
    case "private": {
      const fields = fieldNames(value);
      if (fields === null) d.private = true;
      else for (const field of fields) (d.privateFields ??= []).push(field);
      break;
    }
    case "no-store":
      d.noStore = true;
      break;
    case "public":
      d.public = true;
      break;
    case "must-revalidate":
      d.mustRevalidate = true;
      break;
    case "proxy-revalidate":
      d.proxyRevalidate = true;
      break;
    case "must-understand":
      d.mustUnderstand = true;
      break;
    case "only-if-cached":
      d.onlyIfCached = true;
  }
}

/**
 * Parses a Cache-Control value (RFC 9111 §5.2): `#( token [ "=" ( token / quoted-string ) ] )`,
 * names case-insensitive, quoted values unescaped (so a directive inside a quoted string is never
 * read). A malformed member (a space before `=`, an unclosed quote, junk after the value) is
 * skipped up to the next comma outside quotes; unknown directives are ignored. Linear time.
 */
export function parseCacheControl(value: string | null): Readonly<Directives> {
  if (value === null || value.length === 0) return NO_DIRECTIVES;
  const d = emptyDirectives();
  const n = value.length;
  let i = 0;
  while (i < n) {
    const code = value.charCodeAt(i);
    if (code === COMMA || isSpace(code)) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && isTchar(value.charCodeAt(i))) i++;
    if (i === start) {
      i = nextComma(value, i);
      continue;
    }
    const nameEnd = i;
    let member: string | null = null;
    let ok = true;
    if (i < n && value.charCodeAt(i) === EQUALS) {
      i++;
      if (i < n && value.charCodeAt(i) === QUOTE) {
        const end = quotedEnd(value, i);
        if (end < 0) break;
        member = unquote(value, i, end);
        i = end;
      } else {
        const valueStart = i;
        while (i < n && isTchar(value.charCodeAt(i))) i++;
        ok = i > valueStart;
        member = value.slice(valueStart, i);
      }
    }
    while (i < n && isSpace(value.charCodeAt(i))) i++;
    if (i < n && value.charCodeAt(i) !== COMMA) {
      i = nextComma(value, i);
      continue;
    }
    if (ok && nameEnd - start <= LONGEST_NAME) {
      apply(d, value.slice(start, nameEnd).toLowerCase(), member);
    }
  }
  return d;
}

/**
 * The Age value (RFC 9111 §5.1): the first member of the list (with several lines, the first
 * line counts), in seconds when it is a non-negative integer (2^31 and more become 2^31, so
 * the response is stale), else null: a malformed Age is ignored.
 */
export function parseAge(value: string | null): number | null {
  if (value === null) return null;
  const comma = value.indexOf(",");
  return deltaSeconds((comma < 0 ? value : value.slice(0, comma)).trim());
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY = "(?:mon|tue|wed|thu|fri|sat|sun)";
const LONG_DAY = "(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)";
const MONTH = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)";
const TIME = "(\\d\\d):(\\d\\d):(\\d\\d)";
/** IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF = new RegExp(`^${DAY}, (\\d\\d) ${MONTH} (\\d{4}) ${TIME} gmt$`, "i");
/** The obsolete RFC 850 form: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850 = new RegExp(`^${LONG_DAY}, (\\d\\d)-${MONTH}-(\\d\\d) ${TIME} gmt$`, "i");
/** ANSI C's asctime(): `Sun Nov  6 08:49:37 1994`. */
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ( \\d|\\d\\d) ${TIME} (\\d{4})$`, "i");

function utc(year: number, month: string, day: string, h: string, m: string, s: string) {
  const mon = MONTHS.indexOf(month.toLowerCase());
  const d = Number(day);
  const ms = Date.UTC(year, mon, d, Number(h), Number(m), Number(s));
  // Date.UTC rolls 31 Feb over into March; an HTTP-date that names no real day is invalid.
  const check = new Date(ms);
  if (check.getUTCDate() !== d && Number(s) !== 60) return null;
  if (Number(h) > 23 || Number(m) > 59 || Number(s) > 60 || d < 1) return null;
  return ms;
}

/**
 * An HTTP-date (RFC 9110 §5.6.7) in milliseconds since the epoch, or null when the value is
 * not one of its three forms exactly (names may differ in case; a two-digit year more than 50
 * years ahead is the last such year in the past).
 */
export function parseHttpDate(value: string | null, now = Date.now()): number | null {
  if (value === null || value.length > 40) return null;
  let match = IMF.exec(value);
  if (match !== null) {
    return utc(Number(match[3]), match[2], match[1], match[4], match[5], match[6]);
  }
  match = RFC850.exec(value);
  if (match !== null) {
    let year = 2000 + Number(match[3]);
    if (year > new Date(now).getUTCFullYear() + 50) year -= 100;
    return utc(year, match[2], match[1], match[4], match[5], match[6]);
  }
  match = ASCTIME.exec(value);
  if (match !== null) {
    return utc(Number(match[6]), match[1], match[2].trim(), match[3], match[4], match[5]);
  }
  return null;
}

/** `ms` as an IMF-fixdate, the form a sender generates. */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * The entity-tags of an If-None-Match or ETag value (RFC 9110 §8.8.3), as written (`"x"`,
 * `W/"x"`), or `["*"]`. Members that are not entity-tags are skipped. Linear time.
 */
export function parseEntityTags(value: string | null): string[] {
  if (value === null) return [];
  if (value.trim() === "*") return ["*"];
  const tags: string[] = [];
  const n = value.length;
  let i = 0;
  while (i < n) {
    const code = value.charCodeAt(i);
    if (code === COMMA || isSpace(code)) {
      i++;
      continue;
    }
    const start = i;
    if ((code === 87 || code === 119) && value.charCodeAt(i + 1) === 47) i += 2; // W/
    if (value.charCodeAt(i) !== QUOTE) {
      i = nextComma(value, i);
      continue;
    }
    const close = value.indexOf('"', i + 1);
    if (close < 0) break;
    tags.push(value.slice(start, close + 1));
    i = close + 1;
  }
  return tags;
}

/** The opaque part of an entity-tag: without its weakness indicator. */
function opaque(tag: string): string {
  return tag.charCodeAt(0) === QUOTE ? tag : tag.slice(2);
}

/** Whether an entity-tag is weak (`W/"..."`). */
export function isWeak(tag: string): boolean {
  return tag.charCodeAt(0) !== QUOTE;
}

/** RFC 9110 §8.8.3.2 weak comparison: the opaque tags match, weak or not. */
export function weakMatch(a: string, b: string): boolean {
  return opaque(a) === opaque(b);
}

/** RFC 9110 §8.8.3.2 strong comparison: neither is weak and the opaque tags match. */
export function strongMatch(a: string, b: string): boolean {
  return !isWeak(a) && !isWeak(b) && a === b;
}

/**
 * The field names of a Vary value, lower-case, sorted, without repeats; `["*"]` when it holds a
 * `*` member (such a response never matches a request); `[]` when absent or empty.
 */
export function parseVary(value: string | null): string[] {
  if (value === null) return [];
  const names = new Set<string>();
  for (const member of value.split(",")) {
    const name = member.trim().toLowerCase();
    if (name === "*") return ["*"];
    if (name.length > 0) names.add(name);
  }
  return [...names].sort();
}

/** Request fields whose list members are case-insensitive tokens (RFC 9110 §12.5). */
const CASELESS = new Set(["accept-charset", "accept-encoding", "accept-language"]);

/**
 * A selecting request field as the cache compares it (RFC 9111 §4.1): several lines combined,
 * the whitespace around list members removed, and the members of the `Accept-*` fields whose
 * tokens are case-insensitive lower-cased; null when the request lacks the field.
 */
export function normalizeSelecting(name: string, value: string | null): string | null {
  if (value === null) return null;
  let normal = value.includes(",")
    ? value.split(",").map((member) => member.trim()).join(",")
    : value.trim();
  if (CASELESS.has(name)) normal = normal.toLowerCase();
  return normal;
}
