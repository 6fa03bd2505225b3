// What a redirect changes: the next URL, method, body and the headers that must not follow.

import type { HeaderMap } from "./_headers.ts";
import { clip } from "./_clip.ts";
import { controlCharacter, parseTarget, redactUrl } from "./_url.ts";
import { InvalidURLError } from "./errors.ts";

/** The statuses that redirect. */
export const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Headers that always go when the origin changes. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"] as const;
/** Headers that describe a body, dropped with it. */
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "transfer-encoding"];

/** The next hop of a redirect. */
export interface NextHop {
  /** Where to go, credentials removed. */
  url: URL;
  /** The method to use. */
  method: string;
  /** True for 307/308, which send the same body again; every other redirect drops it. */
  keepBody: boolean;
  /** True when scheme, host or port changed. */
  crossOrigin: boolean;
}

/**
 * The next hop for a redirect `status` with `location` from `from`. A Location that does not
 * parse or is not http(s) is an `InvalidURLError`; it is never fetched.
 */
export function nextHop(status: number, location: string, from: URL, method: string): NextHop {
  const request = { method, url: redactUrl(from) };
  let url: URL;
  try {
    url = parseTarget(location, method, from).url;
  } catch (cause) {
    const control = controlCharacter(location);
    throw new InvalidURLError(
      `Redirect refused: Location ${JSON.stringify(clip(redactUrl(location)))} ${
        control === null ? "is not an http(s) URL" : `holds a ${control}`
      }`,
      { request, cause },
    );
  }
  let next = method;
  if (
    (status === 303 && method !== "HEAD") ||
    ((status === 301 || status === 302) && method === "POST")
  ) {
    next = "GET";
  }
  return {
    url,
    method: next,
    keepBody: status === 307 || status === 308,
    crossOrigin: url.origin !== from.origin,
  };
}

/** Removes what must not follow a redirect from `headers`: body headers, and credentials. */
export function stripHeaders(headers: HeaderMap, hop: NextHop, sensitive: readonly string[]): void {
  if (!hop.keepBody) { for (const name of BODY_HEADERS) headers.delete(name); }
  if (hop.crossOrigin) {
    for (const name of CREDENTIAL_HEADERS) headers.delete(name);
    for (const name of sensitive) headers.delete(name);
  }
}
