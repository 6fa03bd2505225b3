// What the cache answers with: native Responses rebuilt from stored entries (RFC 9111 §4: the
// stored status, reason and fields, the stored Date, a current Age), the 304 it makes for a
// request whose own conditional a fresh entry meets (§4.3.2), and its only-if-cached 504.

import type { Entry, Field } from "./_entry.ts";
import { currentAge, notModifiedFields } from "./_policy.ts";
import type { CacheOutcome } from "../transport/_sender.ts";

/** What the cache did, for the hop loop; `entry` when the response is the entry's, body whole. */
export function outcome(
  fromCache: boolean,
  status: string | null,
  entry?: Entry,
): CacheOutcome {
  return entry === undefined ? { fromCache, status } : { fromCache, status, body: entry.body };
}

/**
 * A native Response rebuilt from an entry at `now`: the stored status, reason and fields, a
 * current Age, and `setCookies` (a 304's) for the jar. It carries no body: the hop loop takes
 * the entry's from the hop's cache outcome (see `outcome`), without a stream in between. Null
 * when the entry cannot make one: it is corrupt.
 */
export function rebuilt(
  entry: Entry,
  now: number,
  setCookies: readonly string[],
): globalThis.Response | null {
  const fields = entry.headers.filter(([name]) => name !== "age");
  return respond(entry, entry.status, entry.reason, fields, now, setCookies);
}

/** The 304 the cache makes from a fresh entry for a request whose conditional it meets. */
export function notModifiedResponse(entry: Entry, now: number): globalThis.Response | null {
  const fields = notModifiedFields(entry.headers).filter(([name]) => name !== "age");
  return respond(entry, 304, "Not Modified", fields, now, []);
}

/** The 504 the cache makes for `only-if-cached` when it has nothing to serve (§5.2.1.7). */
export function gatewayTimeout(): globalThis.Response {
  return new globalThis.Response(null, { status: 504, statusText: "Gateway Timeout" });
}

function respond(
  entry: Entry,
  status: number,
  reason: string,
  fields: readonly Field[],
  now: number,
  setCookies: readonly string[],
): globalThis.Response | null {
  let template = status === entry.status ? entry.template : undefined;
  try {
    if (template === undefined) {
      template = new globalThis.Response(null, { status, statusText: reason, headers: fields });
      if (status === entry.status) entry.template = template;
    }
    const response = template.clone();
    response.headers.set("age", String(Math.floor(currentAge(entry, now))));
    for (const cookie of setCookies) response.headers.append("set-cookie", cookie);
    return response;
  } catch {
    return null;
  }
}
