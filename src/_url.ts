// URL parsing, redaction and query encoding shared by requests, redirects and sessions.

import { clip, InvalidURLError } from "./errors.ts";
import type { FormFields, FormValue, Scalar } from "./options.ts";

/** Query parameter names whose values are secrets and never shown in an error message. */
const SECRET_PARAM =
  /^(?:access_?token|refresh_?token|id_?token|token|api_?key|apikey|key|secret|client_secret|password|passwd|pwd|pass|auth|authorization|sig|signature|session|sessionid|code|x-amz-signature|x-amz-credential|x-amz-security-token)$/i;
/**
 * Everything between the scheme and the last `@` of a text that is not a parsed http(s) URL
 * (`user:pass@host` parses as the scheme `user:`): maybe secret.
 */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)?[^]*@/i;
// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The first C0 control character or DEL in `text` and its position (counted from 0), as a message
 * says it ("control character U+000A at position 14"), or null when there is none.
 */
export function controlCharacter(text: string): string | null {
  const at = text.search(CONTROL);
  if (at < 0) return null;
  const code = text.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0");
  return `control character U+${code} at position ${at}`;
}

/**
 * Throws `InvalidURLError` when URL text holds a C0 control character or DEL: the URL parser
 * would silently drop tab, CR and LF (and percent-encode the others), sending another URL than
 * the one written. Run it on the text, before it is parsed.
 */
export function checkUrlText(text: string, method: string): void {
  if (!CONTROL.test(text)) return;
  throw new InvalidURLError(`Invalid URL: ${controlCharacter(text)}`, {
    request: { method, url: "" },
  });
}

/**
 * `url` as text fit for an error message: no credentials and no values of query parameters that
 * carry secrets (`token`, `api_key`, `signature`...). Works on text that is not a valid URL too.
 */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return hideUserinfo(String(url));
  }
  if (parsed.host === "" && parsed.href.includes("@")) {
    return hideUserinfo(parsed.href);
  }
  const base = parsed.username === "" && parsed.password === ""
    ? parsed.href
    : `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search}${parsed.hash}`;
  if (parsed.search === "") return base;
  let secret = false;
  for (const name of parsed.searchParams.keys()) {
    if (SECRET_PARAM.test(name)) {
      secret = true;
      break;
    }
  }
  if (!secret) return base;
  const query = parsed.search.slice(1).split("&").map((pair) => {
    const eq = pair.indexOf("=");
    if (eq < 0) return pair;
    let name = pair.slice(0, eq);
    try {
      name = decodeURIComponent(name.replaceAll("+", " "));
    } catch { /* keep it raw */ }
    return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=***` : pair;
  }).join("&");
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}?${query}`;
}

function hideUserinfo(text: string): string {
  return clip(text.replace(USERINFO, (_, scheme?: string) => `${scheme ?? ""}***@`));
}

/** Percent-decodes a URL's user or password component, keeping it raw when malformed. */
function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A parsed request URL with its credentials taken out. */
export interface TargetUrl {
  /** The URL to send: credentials removed. */
  url: URL;
  /** `[user, password]` found in the URL, percent-decoded, or null. */
  credentials: [string, string] | null;
}

/**
 * Parses `input` as an absolute `http(s)` URL (optionally against `base`), removing and returning
 * any credentials. Throws `InvalidURLError` for anything else, and for text holding a control
 * character (see {@linkcode checkUrlText}); a `URL` object is parsed already.
 */
export function parseTarget(input: string | URL, method: string, base?: URL): TargetUrl {
  if (typeof input === "string") checkUrlText(input, method);
  let url: URL;
  try {
    url = typeof input === "string" ? new URL(input, base) : new URL(input.href);
  } catch {
    // Not kept as the cause: the platform's error quotes the input, credentials and all.
    throw new InvalidURLError(`Invalid URL ${JSON.stringify(clip(redactUrl(String(input))))}`, {
      request: { method, url: "" },
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidURLError(
      `Unsupported URL scheme '${
        clip(url.protocol.slice(0, -1))
      }': only http and https are allowed`,
      { request: { method, url: redactUrl(url) } },
    );
  }
  let credentials: [string, string] | null = null;
  if (url.username !== "" || url.password !== "") {
    credentials = [decodeComponent(url.username), decodeComponent(url.password)];
    url.username = "";
    url.password = "";
  }
  return { url, credentials };
}

/** Characters `encodeURIComponent` leaves alone that Python's `quote_plus` encodes. */
const EXTRA_ESCAPES = /[!'()*]/g;

function escapeExtra(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
}

/** Encodes one key or value as Python's `urllib.parse.quote_plus` does. */
export function quotePlus(text: string): string {
  // A lone surrogate would make encodeURIComponent throw a URIError: it becomes U+FFFD, as in
  // URLSearchParams.
  return encodeURIComponent(text.toWellFormed()).replace(EXTRA_ESCAPES, escapeExtra)
    .replaceAll("%20", "+");
}

function isScalar(value: unknown): value is Scalar {
  const type = typeof value;
  return type === "string" || type === "number" || type === "boolean";
}

/** Calls `add` for every pair of `fields`, in order; arrays repeat the key, null skips. */
export function eachField(
  fields: FormFields,
  option: string,
  add: (name: string, value: string) => void,
): void {
  if (fields instanceof URLSearchParams) {
    for (const [name, value] of fields) add(name, value);
    return;
  }
  if (Array.isArray(fields)) {
    for (const pair of fields as readonly unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string") {
        throw new TypeError(`Invalid '${option}': every item must be a [name, value] pair`);
      }
      if (pair[1] === null || pair[1] === undefined) continue;
      if (!isScalar(pair[1])) {
        throw new TypeError(
          `Invalid '${option}': value of '${clip(pair[0])}' must be a string or number`,
        );
      }
      add(pair[0], String(pair[1]));
    }
    return;
  }
  if (typeof fields !== "object" || fields === null) {
    throw new TypeError(
      `Invalid '${option}': expected an object, URLSearchParams or [name, value] pairs`,
    );
  }
  for (const name of Object.keys(fields)) {
    const value = (fields as Record<string, FormValue>)[name];
    if (value === null || value === undefined) continue;
    if (isScalar(value)) {
      add(name, String(value));
    } else if (Array.isArray(value)) {
      for (const item of value as readonly unknown[]) {
        if (item === null || item === undefined) continue;
        if (!isScalar(item)) {
          throw new TypeError(
            `Invalid '${option}': items of '${clip(name)}' must be strings or numbers`,
          );
        }
        add(name, String(item));
      }
    } else {
      throw new TypeError(
        `Invalid '${option}': value of '${
          clip(name)
        }' must be a string, number, boolean or array of them`,
      );
    }
  }
}

/** `fields` as `application/x-www-form-urlencoded` text, byte for byte as Python `requests`. */
export function encodeForm(fields: FormFields, option: string): string {
  let out = "";
  eachField(fields, option, (name, value) => {
    out += `${out === "" ? "" : "&"}${quotePlus(name)}=${quotePlus(value)}`;
  });
  return out;
}

/** Appends `params` to the query of `url` without re-encoding what is already there. */
export function appendParams(url: URL, params: FormFields): void {
  const query = encodeForm(params, "params");
  if (query === "") return;
  url.search = url.search.length > 1 ? `${url.search.slice(1)}&${query}` : query;
}

// Which URL texts can be sent as they are, without building a URL object: the URL parser would
// give them back unchanged. Scripts call the same few URLs again and again, so the answer (and a
// GET Request built once per URL) is remembered.

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

/** What is kept of a canonical URL. */
export interface CanonicalUrl {
  /** A GET of it with `redirect: "manual"`, built on first use: fetch copies a Request given as
   * input more cheaply than it converts an init. */
  get: Request | null;
}

/** URLs checked lately, null for those that are not canonical (at most 256 of at most 2 KiB). */
const known = new Map<string, CanonicalUrl | null>();

/**
 * True when `url` is exactly `new URL(url).href` for an http(s) URL without credentials, so it
 * can be sent as it is. Rejects, to be safe, anything that merely might be rewritten: dot
 * segments (also percent-encoded) and punycode labels.
 *
 * @param url The URL text.
 * @returns Whether the text needs no parsing to be sent.
 */
export function isCanonicalUrl(url: string): boolean {
  return canonicalUrl(url) !== null;
}

/** The record of `url` when it is canonical, else null (see isCanonicalUrl). */
export function canonicalUrl(url: string): CanonicalUrl | null {
  if (url.length > 2048) return check(url) ? { get: null } : null;
  let record = known.get(url);
  if (record === undefined) {
    record = check(url) ? { get: null } : null;
    if (known.size >= 256) known.clear();
    known.set(url, record);
  }
  return record;
}

function check(url: string): boolean {
  const match = CANONICAL.exec(url);
  if (match === null || url.includes("/.") || url.includes("xn--") || /%2e/i.test(url)) {
    return false;
  }
  const port = match[2];
  if (port === undefined) return true;
  const number = Number(port);
  return number <= 65535 && number !== (match[1] === "http" ? 80 : 443);
}
