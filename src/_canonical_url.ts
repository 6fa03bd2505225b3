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
