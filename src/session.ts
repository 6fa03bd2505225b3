/**
 * {@linkcode Session}: defaults, a cookie jar, hooks and a shared transport on top of
 * {@linkcode request}.
 *
 * @module
 */

import { addHeaders, trackedHeaders } from "./_headers.ts";
import { bare } from "./_runtime.ts";
import { type ClientLease, leaseClient, leaseForCall } from "./transport/_clients.ts";
import { type Settings, settingsOf } from "./transport/_settings.ts";
import { controlCharacter, redactUrl } from "./_url.ts";
import { CookieJar } from "./cookies/jar.ts";
import { HttpCache } from "./cache/http_cache.ts";
import { clip, InvalidURLError } from "./errors.ts";
import {
  type Auth,
  checkAuth,
  checkOptionNames,
  flag,
  type FormFields,
  type FormValue,
  ownOptions,
  type RequestHook,
  type RequestOptions,
} from "./options.ts";
import { type EventsOptions, eventsVia } from "./events.ts";
import { type PaginateOptions, paginateVia } from "./pages.ts";
import { send, type SessionContext } from "./request.ts";
import type { SessionClient } from "./_prepare.ts";
import type { Response, ServerSentEvent } from "./response.ts";

/**
 * The defaults of a {@linkcode Session}: any request option (`cookies` may be a jar), plus
 * `base_url` and `hooks`.
 */
export interface SessionOptions extends Omit<RequestOptions, "cookies"> {
  /**
   * The session's cookies: a {@linkcode CookieJar} the session uses as its own jar (one from
   * `CookieJar.load()`, say, to save again later), or name-value pairs put in a new jar (for the
   * base URL's host when `base_url` is given, else for every host).
   */
  cookies?: Record<string, string | null> | CookieJar | null;
  /**
   * Relative request URLs (`/items`, `items`) join this base, and must stay under it. The
   * session's credentials (`auth`, and the Authorization, Proxy-Authorization, Cookie and
   * `sensitive_headers` among its `headers`) are sent only to this base's origin.
   */
  base_url?: string | URL;
  /**
   * Whether an absolute `http(s)` URL may be given in place of a path joined to `base_url`;
   * `false` refuses one with `InvalidURLError`. @default true
   */
  allow_absolute_urls?: boolean;
  /** Request and response hooks. */
  hooks?: SessionHooks;
}

/** A response hook: it may return a replacement, e.g. `again()` after refreshing a token. */
export type ResponseHook = (
  response: Response,
  again: () => Promise<Response>,
) => Response | void | Promise<Response | void>;

/** The hooks of a session. */
export interface SessionHooks {
  /** Each sees the outgoing native `Request` and may return a replacement. */
  request?: RequestHook[];
  /**
   * Each sees every final response and may return a replacement; `again()` sends the same
   * request once more (with the session's current headers and auth), without response hooks.
   */
  response?: ResponseHook[];
}

const SESSION_ONLY = new Set(["base_url", "hooks", "allow_absolute_urls"]);
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;
const NETWORK_PATH = /^\s*[\\/]{2}|^\s*\\/;

/**
 * A series of requests sharing defaults: headers, auth, params, cookies (an RFC 6265 jar fed by
 * every response and every redirect hop), hooks, a base URL, and the runtime's connections and
 * TLS/proxy clients.
 *
 * @example A session with a base URL, default headers and a cookie jar
 * ```ts
 * import { Session } from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = (req: Request) =>
 *   req.url.endsWith("/login")
 *     ? new Response("welcome", { headers: { "set-cookie": "sid=42; Path=/" } })
 *     : new Response(`${req.headers.get("x-app")} ${req.headers.get("cookie")}`);
 *
 * await using session = new Session({ base_url: "http://api.test/v1/", headers: { "X-App": "cam" }, fetch });
 * await session.post("login");
 * const r = await session.get("/items");
 * assert.equal(r.content, "cam sid=42");
 * assert.equal(session.cookies.get("sid"), "42");
 * ```
 */
export class Session {
  /** Headers sent with every request; a request's own headers replace them by name. */
  headers: Headers;
  /** Credentials for every request that gives none. */
  auth: Auth | null;
  /** Query parameters for every request; a request's own params replace them by name. */
  params: Record<string, FormValue> | null;
  /** The cookie jar: the one given as `cookies`, or a new one. */
  readonly cookies: CookieJar;
  /** The hooks; their arrays may be changed at any time. */
  readonly hooks: { request: RequestHook[]; response: ResponseHook[] };
  #base: URL | undefined;
  #allowAbsolute: boolean;
  #defaults: RequestOptions;
  /** The session's own `verify`, `cert` and `proxies`, checked; null for the defaults. */
  #settings: Settings | null;
  /** The runtime client leased for them, on first use; released by `close()`. */
  #lease: ClientLease | null = null;
  #client: SessionClient | null;

  /**
   * Creates a session.
   *
   * @param defaults Request options used by every request, plus `base_url` and `hooks`.
   */
  constructor(defaults: SessionOptions = {}) {
    if (typeof defaults !== "object" || defaults === null) {
      throw new TypeError("Invalid 'defaults': expected an object of request options");
    }
    checkOptionNames(defaults, SESSION_ONLY);
    const { base_url, hooks, headers, auth, params, cookies, allow_absolute_urls, ...rest } =
      ownOptions(defaults);
    this.#base = baseUrl(base_url);
    this.#allowAbsolute = flag(allow_absolute_urls, "allow_absolute_urls", true);
    this.headers = trackedHeaders();
    if (headers !== undefined && headers !== null) {
      addHeaders(this.headers, headers, { method: "", url: "" });
    }
    this.auth = checkAuth(auth);
    this.params = params === undefined || params === null ? null : paramsObject(params);
    this.cookies = cookies instanceof CookieJar ? cookies : new CookieJar();
    if (cookies !== undefined && cookies !== null && !(cookies instanceof CookieJar)) {
      if (typeof cookies !== "object" || Array.isArray(cookies)) {
        throw new TypeError(
          "Invalid 'cookies': expected a CookieJar or an object of name to value",
        );
      }
      // With a base URL, the session's cookies are the base host's, like its other credentials.
      const where = this.#base === undefined ? {} : { domain: this.#base.hostname };
      for (const name of Object.keys(cookies)) {
        const value = cookies[name];
        if (value === null || value === undefined) continue;
        if (typeof value !== "string") {
          throw new TypeError(
            `Invalid 'cookies': value of ${JSON.stringify(clip(name))} must be a string or null`,
          );
        }
        this.cookies.set(name, value, where);
      }
    }
    const ownHooks = hooks === undefined || hooks === null ? undefined : ownOptions(hooks);
    this.hooks = {
      request: [...(ownHooks?.request ?? [])],
      response: [...(ownHooks?.response ?? [])],
    };
    // `cache: true`: an in-memory cache of the session's own, shared by its calls.
    if (rest.cache === true) rest.cache = new HttpCache();
    else if (rest.cache != null && rest.cache !== false && !(rest.cache instanceof HttpCache)) {
      throw new TypeError("Invalid 'cache': expected true, false or an HttpCache");
    }
    this.#defaults = definedOptions(rest);
    this.#settings = settingsOf(this.#defaults);
    const settings = this.#settings;
    this.#client = settings === null ? null : {
      settings,
      lease: () => {
        this.#lease ??= leaseClient(settings, true);
        return leaseForCall(this.#lease.client);
      },
    };
  }

  /**
   * Sends a request with the session's defaults.
   *
   * @param method The HTTP method.
   * @param url An absolute http(s) URL, or a path joined to `base_url`.
   * @param options Request options; they override the session's defaults.
   * @returns The response, after the response hooks.
   */
  request(method: string, url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.#request(method, url, options, null);
  }

  /**
   * {@linkcode Session.request}, and for a session without a base URL, the one origin its own
   * credentials may go to (a paginated walk's first page's), or null for any.
   */
  #request(
    method: string,
    url: string | URL,
    options: RequestOptions | undefined,
    origin: string | null,
  ): Promise<Response> {
    let target: string | URL;
    let own: RequestOptions;
    let merged: RequestOptions;
    let context: SessionContext;
    try {
      if (options !== undefined && options !== null) {
        if (typeof options !== "object") {
          throw new TypeError("Invalid 'options': expected an object");
        }
        checkOptionNames(options);
      }
      target = this.#resolve(url, typeof method === "string" ? method.toUpperCase() : "");
      own = ownOptions(options ?? {});
      merged = this.#merge(own);
      context = this.#context(origin);
    } catch (error) {
      return Promise.reject(error);
    }
    const first = send(method, target, merged, context);
    if (this.hooks.response.length === 0) return first;
    return this.#responseHooks(first, async () => {
      return await send(method, target, this.#merge(own), this.#context(origin));
    });
  }

  /** Runs the response hooks over the response; each may replace it. */
  async #responseHooks(
    first: Promise<Response>,
    again: () => Promise<Response>,
  ): Promise<Response> {
    let response = await first;
    for (const hook of this.hooks.response) {
      const replaced = await hook(response, again);
      if (replaced !== undefined && replaced !== null) response = replaced;
    }
    return response;
  }

  /** Sends a `HEAD` request (redirects not followed unless `allow_redirects`). @param url The URL. @param options Request options. @returns The response. */
  head(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("HEAD", url, options);
  }

  /** Sends a `GET` request. @param url The URL. @param options Request options. @returns The response. */
  get(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("GET", url, options);
  }

  /** Sends a `POST` request. @param url The URL. @param options Request options. @returns The response. */
  post(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("POST", url, options);
  }

  /** Sends a `PUT` request. @param url The URL. @param options Request options. @returns The response. */
  put(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("PUT", url, options);
  }

  /** Sends a `PATCH` request. @param url The URL. @param options Request options. @returns The response. */
  patch(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("PATCH", url, options);
  }

  /** Sends a `DELETE` request. @param url The URL. @param options Request options. @returns The response. */
  delete(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request("DELETE", url, options);
  }

  /**
   * Server-sent events from `url` across reconnections, sent with the session's defaults, cookies
   * and hooks, as `events()` does.
   *
   * @param url An absolute http(s) URL, or a path joined to `base_url`.
   * @param options Request options, plus `reconnect_delay`, `min_reconnect_delay` and
   * `max_reconnects`.
   * @returns An async iterable of the events; leaving the loop closes the connection.
   */
  events(
    url: string | URL,
    options?: EventsOptions,
  ): AsyncGenerator<ServerSentEvent, void, undefined> {
    return eventsVia((method, target, own) => this.request(method, target, own), url, options);
  }

  /**
   * The items of every page of a paginated resource, sent with the session's defaults, cookies
   * and hooks, as `paginate()` walks them. A next page is held to the session's `base_url` as a
   * path is (under it, or an absolute URL that `allow_absolute_urls: false` refuses), and the
   * session's credentials go to no other origin than the base URL's (without one: the first
   * page's).
   *
   * @typeParam Item The type of the items: the output of `pagination.schema` when given.
   * @param url An absolute http(s) URL, or a path joined to `base_url`: the first page.
   * @param options Request options, plus `method` and `pagination`.
   * @returns An async iterable of the items; leaving the loop sends no further request.
   *
   * @example Walk the pages of an API
   * ```ts
   * import { Session } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const fetch = (req: Request) => {
   *   const page = Number(new URL(req.url).searchParams.get("page") ?? 1);
   *   const link = page < 2 ? { link: '</v1/items?page=2>; rel="next"' } : undefined;
   *   return Response.json([page * 10, page * 10 + 1], { headers: link });
   * };
   * await using session = new Session({ base_url: "http://api.test/v1/", fetch });
   * const items: unknown[] = [];
   * for await (const item of session.paginate("items")) items.push(item);
   * assert.deepEqual(items, [10, 11, 20, 21]);
   * ```
   */
  paginate<Item = unknown>(
    url: string | URL,
    options?: PaginateOptions<Item>,
  ): AsyncGenerator<Item, void, undefined> {
    const resolve = (target: string | URL) => {
      try {
        return new URL(String(this.#resolve(target, "GET")));
      } catch {
        return null; // the request refuses it the same way, with its error
      }
    };
    const send = (
      method: string,
      target: string | URL,
      own: RequestOptions,
      origin: string | null,
    ) => this.#request(method, target, own, origin);
    return paginateVia(send, url, options, { resolve, base: this.#base ?? null }) as AsyncGenerator<
      Item,
      void,
      undefined
    >;
  }

  /**
   * Releases the runtime client (TLS and proxy settings, and its connections) the session
   * leased for its own `verify`, `cert` and `proxies`: it closes once no session or call (its
   * own calls in flight and unread streamed bodies included) uses the same settings. Nothing of
   * other sessions is touched. The session stays usable.
   */
  close(): void {
    this.#lease?.release();
    this.#lease = null;
  }

  /** Same as {@linkcode Session.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * The URL to request: an absolute URL as given (unless `allow_absolute_urls` is false), a path
   * joined to the base. Whether a path stays under the base is decided on the parsed result,
   * never on the text: the parser drops characters before it sees `//`.
   */
  #resolve(url: string | URL, method: string): string | URL {
    const base = this.#base;
    if (base === undefined || (typeof url !== "string" && !(url instanceof URL))) return url;
    const refuse = (why: string) =>
      new InvalidURLError(`Refused URL ${JSON.stringify(clip(redactUrl(String(url))))}: ${why}`, {
        request: { method, url: redactUrl(base) },
      });
    if (url instanceof URL || ABSOLUTE.test(url.trimStart())) {
      if (!this.#allowAbsolute) throw refuse("absolute URLs are not allowed (allow_absolute_urls)");
      return url;
    }
    const control = controlCharacter(url);
    if (control !== null) throw refuse(control);
    if (NETWORK_PATH.test(url)) {
      throw refuse("a network-path or backslash URL would leave base_url");
    }
    let joined: URL;
    try {
      joined = new URL(url.replace(/^\s*\//, ""), base);
    } catch {
      throw refuse("it does not join base_url as a URL");
    }
    if (joined.origin !== base.origin || !joined.pathname.startsWith(base.pathname)) {
      throw refuse("it would leave base_url");
    }
    return joined;
  }

  /**
   * The request's options over the session's defaults: an option the call gives with any value
   * but `undefined` (`null`, `false` and `0` included) replaces the session's; `params` merge,
   * the call's entries winning (headers and cookies merge in `prepare`). A call's
   * `sensitive_headers` add to the session's: they guard the session's default headers, which
   * the call cannot make less secret.
   */
  #merge(options: RequestOptions): RequestOptions {
    const merged: RequestOptions = Object.assign(bare(), this.#defaults);
    for (const name of Object.keys(options) as (keyof RequestOptions)[]) {
      const value = options[name];
      if (value !== undefined) (merged as Record<string, unknown>)[name] = value;
    }
    if (this.params !== null) merged.params = mergeParams(this.params, options.params);
    const own = this.#defaults.sensitive_headers;
    const call = options.sensitive_headers;
    if (Array.isArray(own) && (call === null || Array.isArray(call))) {
      merged.sensitive_headers = call === null ? own : [...own, ...call];
    }
    return merged;
  }

  /** What the session adds to a call; `origin` as for `#request`. */
  #context(origin: string | null): SessionContext {
    return {
      headers: this.headers,
      auth: checkAuth(this.auth),
      credentialOrigin: this.#base?.origin ?? origin,
      jar: this.cookies,
      requestHooks: this.hooks.request,
      client: this.#client,
    };
  }
}

/** `options` without the options set to `undefined`, on a null prototype. */
function definedOptions(options: RequestOptions): RequestOptions {
  const own: Record<string, unknown> = bare();
  for (const [name, value] of Object.entries(options)) if (value !== undefined) own[name] = value;
  return own as RequestOptions;
}

/**
 * The session's params with the call's over them: a name the call gives replaces the session's
 * values of it (a null removes it). `params: null` adds nothing, as `headers: null` does.
 */
function mergeParams(
  session: Record<string, FormValue>,
  call: FormFields | null | undefined,
): FormFields {
  if (call === undefined || call === null) return session;
  return { ...session, ...paramsObject(call) };
}

/** The `base_url` option, parsed, its path ending in `/`. */
function baseUrl(value: unknown): URL | undefined {
  if (value === undefined || value === null) return undefined;
  let base: URL;
  try {
    base = new URL(String(value));
  } catch {
    // Not kept as the cause: the platform's error quotes the input, credentials and all.
    throw new TypeError(`Invalid 'base_url': ${JSON.stringify(clip(redactUrl(String(value))))}`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new TypeError("Invalid 'base_url': expected an http or https URL");
  }
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  base.hash = "";
  return base;
}

function isRecord(value: unknown): value is Record<string, FormValue> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof URLSearchParams);
}

/** Session params as a mutable object; repeated names become arrays. */
function paramsObject(params: FormFields): Record<string, FormValue> {
  if (isRecord(params)) return { ...params };
  const out: Record<string, FormValue> = {};
  const pairs = params instanceof URLSearchParams ? [...params] : params;
  for (const [name, value] of pairs) {
    const existing = out[name];
    out[name] = existing === undefined || existing === null
      ? value
      : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return out;
}
