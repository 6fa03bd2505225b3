// Following a redirect: where the next hop goes, which method and body it keeps, and what it
// must not carry to another origin.

import { type Hop, HopInfo, hopUrl, ownHeaders } from "./_hop.ts";
import { dropCredentials, type HeaderMap } from "./_headers.ts";
import type { Prepared } from "./_prepare.ts";
import { controlCharacter, parseTarget, redactUrl } from "./_url.ts";
import { clip, InvalidURLError, RequestError } from "./errors.ts";

/** The statuses that redirect. */
export const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Headers that describe a body, dropped with it. */
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "transfer-encoding"];
const NON_ASCII = /[\u0080-\u00ff]/;
const BEYOND_LATIN1 = /[\u0100-\uffff]/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The next hop of a redirect. */
export interface NextHop {
  /** Where to go, credentials and fragment removed. */
  url: URL;
  /** The fragment of the Location, or null when it has none (the request's is kept). */
  fragment: string | null;
  /** The method to use. */
  method: string;
  /** True for 307/308, which send the same body again; every other redirect drops it. */
  keepBody: boolean;
  /** True when scheme, host or port changed. */
  crossOrigin: boolean;
}

/**
 * A Location header as text: fetch hands header values over as bytes one per character, and
 * servers send UTF-8 (`/š`), so they are read as UTF-8, and as Latin-1 only when they are not.
 */
export function locationText(value: string): string {
  if (!NON_ASCII.test(value) || BEYOND_LATIN1.test(value)) return value;
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i);
  try {
    return utf8.decode(bytes);
  } catch {
    return value;
  }
}

/**
 * The next hop for a redirect `status` with `location` from `from`. A Location that does not
 * parse or is not http(s) is an `InvalidURLError`; it is never fetched.
 */
export function nextHop(status: number, location: string, from: URL, method: string): NextHop {
  const text = locationText(location);
  let url: URL;
  try {
    url = parseTarget(text, method, from).url;
  } catch (cause) {
    const control = controlCharacter(text);
    throw new InvalidURLError(
      `Redirect refused: Location ${JSON.stringify(clip(redactUrl(text)))} ${
        control === null ? "is not an http(s) URL" : `holds a ${control}`
      }`,
      { request: { method, url: redactUrl(from) }, cause },
    );
  }
  const fragment = url.hash === "" ? null : url.hash;
  url.hash = "";
  let next = method;
  if (
    (status === 303 && method !== "HEAD") ||
    ((status === 301 || status === 302) && method === "POST")
  ) {
    next = "GET";
  }
  return {
    url,
    fragment,
    method: next,
    keepBody: status === 307 || status === 308,
    crossOrigin: url.origin !== from.origin,
  };
}

/** Removes what must not follow a redirect from `headers`: body headers, and credentials. */
export function stripHeaders(headers: HeaderMap, hop: NextHop, sensitive: readonly string[]): void {
  if (!hop.keepBody) { for (const name of BODY_HEADERS) headers.delete(name); }
  if (hop.crossOrigin) dropCredentials(headers, sensitive);
}

/**
 * Moves `hop` on to where a redirect points: the new URL, method and fragment; the body and
 * its headers dropped unless 307/308 keep them; credentials and the caller's cookies dropped
 * across origins. A body that was a stream cannot be sent again: a RequestError.
 */
export function followRedirect(
  prepared: Prepared,
  hop: Hop,
  status: number,
  location: string,
): void {
  const next = nextHop(status, location, hopUrl(hop), hop.method);
  if (next.keepBody && !prepared.body.replayable && hop.payload !== null) {
    throw new RequestError(
      `Cannot follow the ${status} redirect: the request body was a stream and is gone`,
      { request: hop.info },
    );
  }
  const headers = ownHeaders(hop);
  if (headers !== null) stripHeaders(headers, next, prepared.sensitive);
  if (next.crossOrigin) {
    hop.cookies = null;
    hop.digest = null;
  }
  if (!next.keepBody) hop.payload = null;
  if (next.fragment !== null) hop.fragment = next.fragment;
  hop.url = next.url;
  hop.href = next.url.href;
  hop.method = next.method;
  hop.info = new HopInfo(hop.method, next.url);
}
