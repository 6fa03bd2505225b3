/**
 * The options and the {@linkcode Session} of the sync API: the real session (its cookie jar and
 * connections) lives in the sync API's worker thread.
 *
 * @module
 */

import { type Channel, channel, free } from "./_channel.ts";
import {
  callInfo,
  encodeAuth,
  encodeCall,
  encodeOptions,
  exchange,
  opened,
  outcome,
} from "./_codec.ts";
import type { WireOpen, WireSessionCall, WireSessionState } from "./_wire.ts";
import type { FormValue } from "../options.ts";
import { CookieJar, replaceCookies } from "../cookies/jar.ts";
import type { RequestInfo } from "../errors.ts";
import type { RequestOptions } from "../options.ts";
import type { Response } from "../response.ts";
import type { HTTPDigestAuth } from "./digest_auth.ts";

/** Credentials for the sync API: `[user, password]`, `{ bearer }` or its own `HTTPDigestAuth`. */
export type SyncAuth =
  | readonly [user: string, password: string]
  | { bearer: string }
  | HTTPDigestAuth;

/**
 * The options of a blocking request: every request option except those that cannot cross to
 * the worker thread (`fetch`, `signal`, `progress`, `stream: true`). A `ReadableStream` body or
 * file and an `HTTPDigestAuth` of the async module are refused with a `TypeError` too.
 */
export interface SyncRequestOptions
  extends Omit<RequestOptions, "fetch" | "signal" | "progress" | "stream" | "auth"> {
  /** Only `false`: the body is always read before the call returns. @default false */
  stream?: false;
  /** Credentials: `[user, password]`, `{ bearer }` or the `HTTPDigestAuth` of the sync API. */
  auth?: SyncAuth;
}

/** The defaults of a sync {@linkcode Session}: those of the async one, without `hooks`. */
export interface SyncSessionOptions extends SyncRequestOptions {
  /** Relative request URLs (`/items`, `items`) join this base. */
  base_url?: string | URL;
}

let nextId = 1;
/** Frees the worker's session once the object it belongs to is gone. */
const registry = new FinalizationRegistry<number>((id) => free({ kind: "free", session: id }));

function headerPairs(headers: unknown): [string, string][] {
  if (headers === undefined || headers === null) return [];
  return [...(headers instanceof Headers ? headers : new Headers(headers as HeadersInit))];
}

/**
 * A blocking series of requests sharing defaults, as the async module's `Session`: headers,
 * auth, params, a cookie jar fed by every response and redirect hop, a base URL, connections.
 *
 * The real session lives in the worker thread. `headers`, `auth`, `params` and `cookies` are
 * kept on this thread and sent with each call, and `cookies` is brought up to date from the
 * worker's jar after each call (whatever its outcome), so they may be read and changed between
 * calls. When the worker dies, the next call opens the session again in a new worker with these,
 * so only its open connections and digest nonce counts are lost. Hooks are functions and cannot
 * cross to the worker: `hooks` is a `TypeError`.
 *
 * @example Log in once, keep the cookie
 * ```ts ignore
 * import { Session } from "@requests/requests/sync";
 *
 * using session = new Session({ base_url: "http://127.0.0.1:8000/", headers: { "X-App": "cam" } });
 * session.post("login", { data: { user: "me", password: "secret" } }).raise_for_status();
 * console.log(session.cookies.get("sid"));
 * const r = session.get("items"); // sends the cookie
 * ```
 */
export class Session {
  /** Headers sent with every request; a request's own headers replace them by name. */
  headers: Headers;
  /** Credentials for every request that gives none. */
  auth: SyncAuth | null;
  /** Query parameters for every request; a request's own params replace them by name. */
  params: Record<string, FormValue> | null;
  /** The cookie jar, as the worker's session had it after the last call; changes are sent. */
  readonly cookies: CookieJar = new CookieJar();
  #id = nextId++;
  #open: WireOpen;
  /** The channel whose worker has this session open, if any. */
  #channel: Channel | null = null;

  /**
   * Creates a session; it blocks while the worker thread opens it.
   *
   * @param defaults Request options used by every request, plus `base_url`.
   * @throws {TypeError} For a default that is invalid or cannot cross to the worker thread,
   *   `hooks` included.
   */
  constructor(defaults: SyncSessionOptions = {}) {
    if (typeof defaults !== "object" || defaults === null) {
      throw new TypeError("Invalid 'defaults': expected an object of request options");
    }
    const hooks = (defaults as { hooks?: unknown }).hooks;
    if (hooks !== undefined && hooks !== null) {
      throw new TypeError(
        "Cannot use 'hooks' with the sync API: hooks are functions, which cannot be passed to " +
          "the worker thread; use the Session of mod.ts",
      );
    }
    this.#open = { kind: "open", session: this.#id, ...encodeOptions(defaults) };
    const state = this.#openIn(channel(), { method: "", url: "" });
    this.headers = new Headers(state.headers);
    this.auth = defaults.auth ?? null;
    this.params = state.params as Record<string, FormValue> | null;
    replaceCookies(this.cookies, state.cookies);
    registry.register(this, this.#id);
  }

  /**
   * Sends a request with the session's defaults and blocks until the response has arrived.
   *
   * @param method The HTTP method.
   * @param url An absolute http(s) URL, or a path joined to `base_url`.
   * @param options Request options; they override the session's defaults.
   * @returns The response.
   */
  request(method: string, url: string | URL, options?: SyncRequestOptions): Response {
    const message = encodeCall(method, url, options);
    const info = callInfo(method, url);
    message.session = this.#state();
    const live = channel();
    if (this.#channel !== live) this.#openIn(live, info);
    const [result, body] = exchange(live, message, info);
    if ("cookies" in result && result.cookies !== undefined) {
      replaceCookies(this.cookies, result.cookies);
    }
    return outcome(result, body);
  }

  /** Sends a `HEAD` request (redirects not followed unless `allow_redirects`). @param url The URL. @param options Request options. @returns The response. */
  head(url: string | URL, options?: SyncRequestOptions): Response {
    return this.request("HEAD", url, options);
  }

  /** Sends a `GET` request. @param url The URL. @param options Request options. @returns The response. */
  get(url: string | URL, options?: SyncRequestOptions): Response {
    return this.request("GET", url, options);
  }

  /** Sends a `POST` request. @param url The URL. @param options Request options. @returns The response. */
  post(url: string | URL, options?: SyncRequestOptions): Response {
    return this.request("POST", url, options);
  }

  /** Sends a `PUT` request. @param url The URL. @param options Request options. @returns The response. */
  put(url: string | URL, options?: SyncRequestOptions): Response {
    return this.request("PUT", url, options);
  }

  /** Sends a `PATCH` request. @param url The URL. @param options Request options. @returns The response. */
  patch(url: string | URL, options?: SyncRequestOptions): Response {
    return this.request("PATCH", url, options);
  }

  /** Sends a `DELETE` request. @param url The URL. @param options Request options. @returns The response. */
  delete(url: string | URL, options?: SyncRequestOptions): Response {
    return this.request("DELETE", url, options);
  }

  /**
   * Frees the session in the worker thread (its connections and TLS/proxy clients). The session
   * stays usable: a later call opens it there again, with its current headers, auth, params and
   * cookies.
   */
  close(): void {
    this.#channel?.post({ kind: "free", session: this.#id });
    this.#channel = null;
  }

  /** Same as {@linkcode Session.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** What the worker's session takes from this one for a call. */
  #state(): WireSessionCall {
    const { auth, digest } = encodeAuth(this.auth, "auth");
    const state: WireSessionCall = {
      id: this.#id,
      headers: headerPairs(this.headers),
      auth,
      params: this.params,
      cookies: [...this.cookies],
    };
    if (digest !== undefined) state.digest = digest;
    return state;
  }

  #openIn(live: Channel, info: RequestInfo): WireSessionState {
    const state = opened(exchange(live, this.#open, info)[0]);
    this.#channel = live;
    return state;
  }
}
