// A hop the cache sends on (RFC 9111 §4.3): with the stored response's validators when it has
// one to validate, then acting on what comes back: a 304 freshens the entry and serves it, a
// 5xx or a failure may serve it stale (RFC 5861 stale-if-error), a 200 to HEAD updates the
// stored GET responses (§4.3.5), and a storable response is stored once its body is whole.

import { HeaderMap } from "../_headers.ts";
import type { CacheEngine, CacheRequest, Found, Plan } from "./_engine.ts";
import type { Entry, Field } from "./_entry.ts";
import { forwardStatus, headMatches, hitStatus, revalidatedStatus, validates } from "./_policy.ts";
import { CallerError, type Exchange, type Sender } from "../transport/_sender.ts";
import { outcome, rebuilt } from "./_respond.ts";

/** Statuses that let `stale-if-error` serve a stale entry (RFC 5861 §4). */
const SERVER_ERRORS = new Set([500, 502, 503, 504]);
/** Statuses that never have a body. */
const NULL_BODY = new Set([204, 205, 304]);
const EMPTY = new Uint8Array(0);

/** A hop to send on, and what the cache knows for it. */
export interface Forwarding {
  engine: CacheEngine;
  inner: Sender;
  req: CacheRequest;
  found: Found;
  plan: Extract<Plan, { kind: "forward" }>;
  /** A background validation: nobody reads the response; its body is read (or dropped) here. */
  background?: boolean;
}

/** Lets go of a body nobody reads. */
export function drop(response: globalThis.Response): void {
  response.body?.cancel().catch(() => {});
}

/** The hop's headers with `fields` set (a copy: the hop's may be shared with the request). */
function withFields(x: Exchange, fields: readonly Field[]): HeaderMap {
  const headers = x.headers?.clone() ?? new HeaderMap();
  for (const [name, value] of fields) headers.set(name, value);
  return headers;
}

/** The hop's headers without `fields` (the validators the cache added). */
function withoutFields(x: Exchange, fields: readonly Field[]): HeaderMap {
  const headers = x.headers?.clone() ?? new HeaderMap();
  for (const [name] of fields) headers.delete(name);
  return headers;
}

/**
 * Sends a hop on and acts on the response; resolves at the response headers (a stored body is
 * collected as the hop loop reads it).
 */
export async function forwardHop(
  f: Forwarding,
  x: Exchange,
  signal: AbortSignal | undefined,
): Promise<globalThis.Response> {
  const { engine, plan } = f;
  const entry = plan.entry;
  const added = plan.conditional;
  if (added.length > 0) x.headers = withFields(x, added);
  const requestTime = engine.now();
  let response: globalThis.Response;
  try {
    response = await f.inner.send(x, signal);
  } catch (error) {
    // A failure of the transport within stale-if-error; not the caller's abort, nor a throw
    // of the caller's own code.
    const transport = !(error instanceof CallerError) && signal?.aborted !== true;
    if (entry !== null && plan.judgement?.ifError && transport) {
      const stale = served(engine, x, entry, []);
      if (stale !== null) return stale;
    }
    throw error;
  }
  const responseTime = engine.now();
  if (response.status === 304 && entry !== null) {
    if (validates(entry, response.headers)) {
      return await freshened(f, x, entry, response, added.length > 0, requestTime, responseTime);
    }
    if (added.length > 0) {
      // A 304 about another response than the stored one: ask again, without validators.
      drop(response);
      x.headers = withoutFields(x, added);
      const unconditional = { ...plan, entry: null, conditional: [], judgement: null };
      return await forwardHop({ ...f, plan: unconditional }, x, signal);
    }
  }
  if (entry !== null && plan.judgement?.ifError && SERVER_ERRORS.has(response.status)) {
    const stale = served(engine, x, entry, []);
    if (stale !== null) {
      drop(response);
      return stale;
    }
  }
  if (x.method === "HEAD") {
    if (response.status === 200) await headUpdate(f, response.headers, requestTime, responseTime);
    x.cache = outcome(false, forwardStatus(plan.fwd, response.status));
    return response;
  }
  return await stored(f, x, response, requestTime, responseTime);
}

/** A stored entry served (stale, within stale-if-error): null when it cannot be rebuilt. */
function served(
  engine: CacheEngine,
  x: Exchange,
  entry: Entry,
  setCookies: readonly string[],
): globalThis.Response | null {
  const response = rebuilt(entry, engine.now(), setCookies);
  if (response === null) return null;
  x.decoded = entry.decoded;
  x.cache = outcome(true, hitStatus(engine.ttl(entry)), entry);
  return response;
}

/**
 * A 304 that validates the entry: the entry, updated by it, is stored and served (with the
 * 304's Set-Cookie for the jar); a 304 to the request's own validators is passed on as is.
 */
async function freshened(
  f: Forwarding,
  x: Exchange,
  entry: Entry,
  response: globalThis.Response,
  ours: boolean,
  requestTime: number,
  responseTime: number,
): Promise<globalThis.Response> {
  const { engine, plan } = f;
  const updated = engine.freshen(entry, response.headers, requestTime, responseTime);
  await engine.replace(f.req, updated);
  if (!ours) {
    x.cache = outcome(false, forwardStatus(plan.fwd, 304));
    return response;
  }
  const served = rebuilt(updated, engine.now(), response.headers.getSetCookie());
  if (served === null) {
    await engine.remove(f.req, updated);
    x.cache = outcome(false, forwardStatus(plan.fwd, 304));
    return response;
  }
  drop(response);
  x.decoded = updated.decoded;
  x.cache = outcome(true, revalidatedStatus(plan.fwd, engine.ttl(updated)), updated);
  return served;
}

/** §4.3.5: a 200 to HEAD updates each stored GET response it describes, else makes it stale. */
async function headUpdate(
  f: Forwarding,
  headers: Headers,
  requestTime: number,
  responseTime: number,
): Promise<void> {
  for (const entry of f.found.matches) {
    const updated = headMatches(entry, headers)
      ? f.engine.freshen(entry, headers, requestTime, responseTime)
      : entry.with({ invalid: true });
    await f.engine.replace(f.req, updated);
  }
}

/**
 * The response, stored when it may be: at once when it has no body; read here first when it
 * is a redirect (the hop loop drops a redirect's body) or a background validation's; else once
 * the hop loop has read it whole.
 */
async function stored(
  f: Forwarding,
  x: Exchange,
  response: globalThis.Response,
  requestTime: number,
  responseTime: number,
): Promise<globalThis.Response> {
  const { engine, plan } = f;
  const status = response.status;
  const received = {
    status,
    reason: response.statusText,
    headers: response.headers,
    decoded: x.decoded,
  };
  if (!engine.storable(f.req, received)) {
    x.cache = outcome(false, forwardStatus(plan.fwd, status));
    if (f.background) drop(response);
    return response;
  }
  x.cache = outcome(false, forwardStatus(plan.fwd, status, true));
  const keep = (body: Uint8Array) => {
    const entry = engine.entryFor(f.req, received, requestTime, responseTime, body);
    if (entry !== null) engine.save(f.req, entry, f.found);
  };
  if (response.body === null || NULL_BODY.has(status)) {
    keep(EMPTY);
    return response;
  }
  if (f.background || (status >= 300 && status < 400)) {
    const body = new Uint8Array(await response.arrayBuffer());
    if (body.byteLength <= engine.maxEntryBytes) keep(body);
    return new globalThis.Response(body, init(response));
  }
  // The hop loop hands the body over once it has read it whole (see `BodyKeeper`).
  x.cache = { ...x.cache, keep: { limit: engine.maxEntryBytes, whole: keep } };
  return response;
}

function init(response: globalThis.Response): ResponseInit {
  return { status: response.status, statusText: response.statusText, headers: response.headers };
}
