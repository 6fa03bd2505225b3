/**
 * The public request functions and the hop loop every request goes through:
 * prepare (`_prepare.ts`) -> the hop loop (here: retries, digest challenges, redirects) ->
 * one hop (`_hop.ts`) -> following a redirect (`_redirects.ts`) -> reading the body
 * (`_read_body.ts`).
 *
 * @module
 */

import { CallGuard, sleep } from "./_guard.ts";
import { HeaderMap } from "./_headers.ts";
import { type Hop, HopInfo, hopUrl, ownHeaders, sendHop } from "./_hop.ts";
import { type CallerCookies, prepare, type Prepared, type SessionContext } from "./_prepare.ts";
import { type Arrived, discard, hopResponse, readBody } from "./_read_body.ts";
import { retryDelayMs } from "./_retry.ts";
import { ConnectionError, RequestError, TooManyRedirectsError } from "./errors.ts";
import type { RequestOptions } from "./options.ts";
import { followRedirect, REDIRECTS } from "./_redirects.ts";
import { learnPlatformFollows, PLATFORM_FOLLOWS } from "./_runtime.ts";
import { CallerError } from "./transport/_sender.ts";
import type { Response } from "./response.ts";

export type { SessionContext } from "./_prepare.ts";

/**
 * Sends a request and returns its response. The body is read before the promise resolves,
 * unless `stream` is true. Every failure is a rejection, never a synchronous throw.
 *
 * @param method The HTTP method, any case (sent upper-cased).
 * @param url An absolute `http://` or `https://` URL; credentials in it become Basic auth.
 * @param options The request options.
 * @returns The response.
 *
 * @example Send any method
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = (req: Request) => Response.json({ method: req.method });
 * const r = await requests.request("options", "http://example.test/", { fetch });
 * assert.deepEqual(r.json(), { method: "OPTIONS" });
 * ```
 */
export function request(
  method: string,
  url: string | URL,
  options?: RequestOptions,
): Promise<Response> {
  return send(method, url, options, null);
}

/**
 * The whole call behind {@linkcode request}, with what a session adds. The options are read
 * now, at the call; a problem with them is a rejection, never a synchronous throw.
 *
 * @param method The HTTP method.
 * @param url The URL.
 * @param options The request options.
 * @param session The session's defaults, jar and hooks, or null.
 * @returns The response.
 */
export function send(
  method: string,
  url: string | URL,
  options: RequestOptions | undefined,
  session: SessionContext | null,
): Promise<Response> {
  let prepared: Prepared;
  try {
    prepared = prepare(method, url, options, session);
  } catch (error) {
    return Promise.reject(error);
  }
  const info = prepared.info;
  const sender = prepared.sender;
  const guard = new CallGuard(
    info,
    prepared.totalMs,
    prepared.signal,
    prepared.headersMs !== null,
    sender.aborts,
  );
  if (sender.leased) guard.onFinish(sender);
  return hops(prepared, guard, {
    method: prepared.method,
    href: prepared.href,
    url: prepared.url,
    headers: prepared.headers,
    shared: true,
    payload: prepared.body.body,
    info,
    fragment: prepared.fragment,
    cookies: prepared.cookies,
    digest: prepared.digest,
    decoded: true,
    cache: null,
  });
}

/** What the hop loop keeps across hops. */
interface Loop {
  /** The redirects and answered challenges so far. */
  history: Response[];
  retried: number;
  /** Whether a digest challenge was answered since the last redirect (Python's 401 count). */
  answered: boolean;
  redirects: number;
}

/**
 * The hop loop: sends hop after hop (retries, digest challenges, redirects) until a final
 * response, whose body it then reads. The one place the call's deadlines are released, on every
 * way out, unless a streamed body's reader took them over.
 */
async function hops(prepared: Prepared, guard: CallGuard, hop: Hop): Promise<Response> {
  const loop: Loop = { history: [], retried: 0, answered: false, redirects: 0 };
  try {
    if (guard.failed) throw guard.failure;
    for (;;) {
      if (hopCredentials(prepared, hop)) await digestCredentials(hop);
      const started = performance.now();
      let raw: globalThis.Response;
      try {
        raw = await sendHop(prepared, hop, guard);
      } catch (error) {
        await retryAfter(error, prepared, hop, guard, loop);
        continue;
      }
      const elapsed = (performance.now() - started) / 1000;
      if (raw.type === "opaqueredirect" && opaqueRedirect(prepared, raw, hop)) continue;
      if (prepared.jar !== null) {
        const set = raw.headers.getSetCookie();
        if (set.length > 0) prepared.jar.setFromResponse(hopUrl(hop), set);
      }
      const status = raw.status;
      if (prepared.retries.statuses.has(status) && retryable(prepared, hop, loop.retried)) {
        discard(raw);
        const after = raw.headers.get("retry-after");
        await pause(guard, retryDelayMs(prepared.retries, ++loop.retried, status, after));
        continue;
      }
      const location = prepared.follow && REDIRECTS.has(status)
        ? raw.headers.get("location")
        : null;
      const challenged = location === null && status === 401 &&
        !loop.answered && answersChallenge(prepared, hop, raw);
      const arrived: Arrived = {
        raw,
        url: hop.href + hop.fragment,
        request: hop.info,
        elapsed,
        history: loop.history,
        cache: hop.cache,
      };
      if (location === null && !challenged) {
        // Where the browser followed redirects itself, only it knows the final URL.
        if (raw.redirected && raw.url !== "") arrived.url = raw.url;
        return await readBody(arrived, guard, prepared, hop.decoded, prepared.sender.aborts);
      }
      turn(prepared, hop, loop, arrived, location);
      guard.info = hop.info;
    }
  } finally {
    if (!guard.handedOff) guard.finish();
  }
}

/**
 * After a hop failed to send: the pause before it is sent again, when the failure is a
 * connection failure of the runtime's transport and retries are left; else the failure, typed.
 */
async function retryAfter(
  error: unknown,
  prepared: Prepared,
  hop: Hop,
  guard: CallGuard,
  loop: Loop,
): Promise<void> {
  const failure = guard.wrap(error, "send");
  if (
    error instanceof CallerError || !(failure instanceof ConnectionError) ||
    !retryable(prepared, hop, loop.retried)
  ) {
    throw failure;
  }
  await pause(guard, retryDelayMs(prepared.retries, ++loop.retried, null, null));
}

/**
 * Keeps a redirect or an answered challenge in `history` and moves the hop on: to the Location
 * (the digest count starts again), or to the same URL with the challenge answered.
 */
function turn(
  prepared: Prepared,
  hop: Hop,
  loop: Loop,
  arrived: Arrived,
  location: string | null,
): void {
  const response = hopResponse({ ...arrived, history: [...loop.history] });
  loop.history.push(response);
  if (location === null) {
    loop.answered = true;
    hop.info = new HopInfo(hop.method, hopUrl(hop)); // the challenge answered, sent again
  } else if (++loop.redirects > prepared.maxRedirects) {
    throw new TooManyRedirectsError(`Exceeded ${prepared.maxRedirects} redirects`, {
      request: hop.info,
      response,
      history: loop.history,
    });
  } else {
    followRedirect(prepared, hop, arrived.raw.status, location);
    loop.answered = false;
  }
}

/** Whether a failed try may be sent again: retries left, a body that can be resent, a method. */
function retryable(prepared: Prepared, hop: Hop, retried: number): boolean {
  return retried < prepared.retries.total && prepared.body.replayable &&
    prepared.retries.methods.has(hop.method);
}

/**
 * Whether `raw` is a digest challenge to answer: a 401 with digest credentials and a body that
 * can be sent again. One is answered once; the count starts again after each redirect, as
 * Python requests does, so a redirect (to the same URL too) that challenges again is answered.
 */
function answersChallenge(prepared: Prepared, hop: Hop, raw: globalThis.Response): boolean {
  if (hop.digest === null || !prepared.body.replayable) return false;
  return hop.digest.challenge(hopUrl(hop), raw.headers.get("www-authenticate"));
}

/**
 * What each hop adds to the prepared headers: the Cookie header (the caller's pairs, then the
 * jar's for this URL without the names the caller gave). True when a digest Authorization is to
 * be added too (see `digestCredentials`).
 */
function hopCredentials(prepared: Prepared, hop: Hop): boolean {
  if (hop.cookies !== null || prepared.jar !== null) {
    const jar = prepared.jar === null ? null : prepared.jar.cookieHeader(hop.url ?? hop.href);
    const cookie = mergeCookies(hop.cookies, jar);
    if (cookie !== null) writable(hop).set("cookie", cookie);
    else if (hop.headers?.has("cookie")) ownHeaders(hop)!.delete("cookie");
  }
  return hop.digest !== null;
}

/** The digest Authorization for the hop, when a challenge for its origin is known. */
async function digestCredentials(hop: Hop): Promise<void> {
  const authorization = await hop.digest?.authorize(hop.method, hopUrl(hop));
  if (typeof authorization === "string") {
    writable(hop).set("authorization", authorization);
  }
}

/** The hop's headers, to change (see `ownHeaders`), made when there are none yet. */
function writable(hop: Hop): HeaderMap {
  if (hop.headers === null) {
    hop.shared = false;
    return hop.headers = new HeaderMap();
  }
  return ownHeaders(hop)!;
}

/** The caller's cookie pairs, then the jar's whose names the caller did not give. */
function mergeCookies(caller: CallerCookies | null, jar: string | null): string | null {
  if (caller === null || jar === null) return caller?.pairs ?? jar;
  const names = caller.names;
  const kept = jar.split("; ").filter((pair) => !names.has(pair.slice(0, pair.indexOf("="))));
  if (kept.length === 0) return caller.pairs;
  return caller.pairs === null ? kept.join("; ") : `${caller.pairs}; ${kept.join("; ")}`;
}

/**
 * An opaque redirect: this platform's fetch hides the status and Location of redirects. True
 * when the hop is to be sent again, the platform following the redirects (a platform not known
 * for it, learnt now); an error when redirects are not to be followed.
 */
function opaqueRedirect(prepared: Prepared, raw: globalThis.Response, hop: Hop): boolean {
  discard(raw);
  if (prepared.follow && !PLATFORM_FOLLOWS && hop.payload === null) {
    learnPlatformFollows();
    return true;
  }
  throw new RequestError(
    "Cannot report the redirect: this runtime's fetch hides redirect responses " +
      "(opaqueredirect), so allow_redirects: false is not supported here",
    { request: hop.info },
  );
}

/** Sleeps before a retry, no longer than the call may last. */
function pause(guard: CallGuard, ms: number): Promise<void> {
  if (guard.failed) return Promise.reject(guard.failure);
  return sleep(ms, guard.signal);
}

/**
 * Sends a `HEAD` request. Redirects are not followed unless `allow_redirects` is true.
 *
 * @param url The URL.
 * @param options The request options.
 * @returns The response; its `content` is `""`.
 *
 * @example Check a resource without downloading it
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => new Response(null, { headers: { "content-length": "42" } });
 * const r = await requests.head("http://example.test/big.bin", { fetch });
 * assert.equal(r.content, "");
 * ```
 */
export function head(url: string | URL, options?: RequestOptions): Promise<Response> {
  return send("HEAD", url, options, null);
}

/**
 * Sends a `GET` request.
 *
 * @param url The URL.
 * @param options The request options.
 * @returns The response.
 *
 * @example GET a JSON resource
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => Response.json({ ok: true });
 * const r = await requests.get("http://example.test/get", { fetch });
 * assert.equal(r.status_code, 200);
 * assert.deepEqual(r.json(), { ok: true });
 * ```
 */
export function get(url: string | URL, options?: RequestOptions): Promise<Response> {
  return send("GET", url, options, null);
}

/**
 * Sends a `POST` request.
 *
 * @param url The URL.
 * @param options The request options; `data`, `json` or `files` carry the body.
 * @returns The response.
 *
 * @example POST JSON
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = async (req: Request) => Response.json(await req.json());
 * const r = await requests.post("http://example.test/post", { json: { id: 1 }, fetch });
 * assert.deepEqual(r.json(), { id: 1 });
 * ```
 */
export function post(url: string | URL, options?: RequestOptions): Promise<Response> {
  return send("POST", url, options, null);
}

/**
 * Sends a `PUT` request.
 *
 * @param url The URL.
 * @param options The request options; `data` or `json` carry the new representation.
 * @returns The response.
 *
 * @example Replace a resource
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = (req: Request) => new Response(req.method);
 * const r = await requests.put("http://example.test/item/1", { data: "new", fetch });
 * assert.equal(r.content, "PUT");
 * ```
 */
export function put(url: string | URL, options?: RequestOptions): Promise<Response> {
  return send("PUT", url, options, null);
}

/**
 * Sends a `PATCH` request.
 *
 * @param url The URL.
 * @param options The request options; `data` or `json` carry the change.
 * @returns The response.
 *
 * @example Change part of a resource
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = (req: Request) => new Response(req.method);
 * const r = await requests.patch("http://example.test/item/1", { json: { a: 1 }, fetch });
 * assert.equal(r.content, "PATCH");
 * ```
 */
export function patch(url: string | URL, options?: RequestOptions): Promise<Response> {
  return send("PATCH", url, options, null);
}

/**
 * Sends a `DELETE` request. Exported as `delete` too (`requests.delete(url)`).
 *
 * @param url The URL.
 * @param options The request options.
 * @returns The response.
 *
 * @example Delete a resource
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = (req: Request) => new Response(null, { status: 204 });
 * const r = await requests.delete("http://example.test/item/1", { fetch });
 * assert.equal(r.status_code, 204);
 * ```
 */
export function del(url: string | URL, options?: RequestOptions): Promise<Response> {
  return send("DELETE", url, options, null);
}
