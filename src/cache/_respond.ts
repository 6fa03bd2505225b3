// What the cache answers with: native Responses rebuilt from stored entries (RFC 9111 §4: the
// stored status, reason and fields, the stored Date, a current Age), the 304 it makes for a
// request whose own conditional a fresh entry meets (§4.3.2), and its only-if-cached 504.

import type { Entry, Field } from "./_entry.ts";
import { currentAge, notModifiedFields } from "./_policy.ts";
import type { CacheOutcome } from "../transport/_sender.ts";

/** Statuses a response never has a body with. */
const NULL_BODY = new Set([204, 205, 304]);

/** What the cache did, for the hop loop. */
export function outcome(fromCache: boolean, status: string | null): CacheOutcome {
  return { fromCache, status };
}

/**
 * A native Response rebuilt from an entry at `now`, the body left out for HEAD; `setCookies`
 * (a 304's) are added for the jar. Null when the entry cannot make one: it is corrupt.
 */
export function rebuilt(
  entry: Entry,
  method: string,
  now: number,
  setCookies: readonly string[],
): globalThis.Response | null {
  const fields = entry.headers.filter(([name]) => name !== "age");
  const body = method === "HEAD" ? null : entry.body;
  return respond(entry, entry.status, entry.reason, fields, now, setCookies, body);
}

/** The 304 the cache makes from a fresh entry for a request whose conditional it meets. */
export function notModifiedResponse(entry: Entry, now: number): globalThis.Response | null {
  const fields = notModifiedFields(entry.headers).filter(([name]) => name !== "age");
  return respond(entry, 304, "Not Modified", fields, now, [], null);
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
  body: Uint8Array | null,
): globalThis.Response | null {
  const headers: [string, string][] = [...fields];
  headers.push(["age", String(Math.floor(currentAge(entry, now)))]);
  for (const cookie of setCookies) headers.push(["set-cookie", cookie]);
  try {
    // Stored bodies are ArrayBuffer-backed (read from the network or a store); the Response
    // copies them, so a caller never holds the stored bytes.
    const content = NULL_BODY.has(status) ? null : body as Uint8Array<ArrayBuffer> | null;
    return new globalThis.Response(content, {
      status,
      statusText: reason,
      headers,
    });
  } catch {
    return null;
  }
}
