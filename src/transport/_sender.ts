/**
 * How every hop of one call goes out, chosen once by `prepare`: the {@linkcode Sender}. One
 * sends with the runtime (its fetch with the call's TLS/proxy client, and node:http with the same
 * client for a body fetch refuses); the other hands a `Request` to the caller's code (request
 * hooks, then the caller's `fetch` or the runtime's). The HTTP cache wraps either.
 *
 * @module
 */

import type { CanonicalUrl } from "../_url.ts";
import type { HeaderMap } from "../_headers.ts";
import { bare, NODE_HTTP, PLATFORM_FOLLOWS, RUNTIME, RUNTIME_NAME } from "../_runtime.ts";
import { countedBody, type UploadProgress } from "../_upload.ts";
import type { HTTPDigestAuth } from "../digest_auth.ts";
import type { FetchLike, RequestHook } from "../options.ts";
import type { ClientLease, RuntimeClient } from "./_clients.ts";
import type { NodeFetchInit } from "./_node_http.ts";

/** The node:http path, loaded on first use: most calls never send a body on GET or HEAD. */
let nodeHttp: Promise<typeof import("./_node_http.ts")> | undefined;

/** One hop as the sender sees it (the hop loop's `Hop` extends it). */
export interface Exchange {
  /** The method, upper-case. */
  method: string;
  /** The URL sent: no credentials, no fragment. */
  href: string;
  /** `href` parsed, or null until something needed it. */
  url: URL | null;
  /** The header fields to send, or null; shared until the hop loop copies them (`ownHeaders`). */
  headers: HeaderMap | null;
  /** The body to send, or null (a redirect may have dropped it). */
  payload: BodyInit | null;
  /** Digest credentials in force for this hop, or null. */
  digest: HTTPDigestAuth | null;
  /** Set by the sender: false when the body it returned is still Content-Encoded. */
  decoded: boolean;
  /** Set by a caching sender: what the cache did for this hop, or null. */
  cache: CacheOutcome | null;
}

/** What a cache did for one hop. */
export interface CacheOutcome {
  /** True when the cache produced the response (hit, stale served, revalidated, its 504). */
  fromCache: boolean;
  /** The RFC 9211 Cache-Status value of this cache, or null (its only-if-cached 504). */
  status: string | null;
  /**
   * The whole body of a response the cache produced, as stored: the hop loop takes it as it is
   * rather than read it back out of the rebuilt Response. Absent for a response from the network.
   */
  body?: Uint8Array;
  /**
   * For a response from the network the cache would store: what to do with its body once read
   * whole (never when the reader leaves half-way). Absent otherwise.
   */
  keep?: BodyKeeper;
}

/** Where a body the cache stores goes, once read whole. */
export interface BodyKeeper {
  /** The largest body kept, in bytes: a larger one is not collected. */
  readonly limit: number;
  /** Takes the whole body: bytes of its own, which nobody else holds. */
  whole(body: Uint8Array): void;
}

/** How every hop of one call goes out. */
export interface Sender {
  /**
   * Sends one hop; resolves at its response headers, the body unread. A failure of the
   * runtime's transport rejects with the platform's error; a throw from the caller's code
   * rejects with a {@linkcode CallerError} holding it.
   */
  send(exchange: Exchange, signal: AbortSignal | undefined): Promise<globalThis.Response>;
  /** True when `signal` aborts the exchange and its body (the runtime's own transport). */
  readonly aborts: boolean;
  /** True when the sender holds a runtime client that `release()` must let go of. */
  readonly leased: boolean;
  /** Lets go of the runtime client leased for this call. Called once, when the call ends. */
  release(): void;
}

/**
 * A throw from the caller's own code while a hop was sent (a request hook, `upload_progress`,
 * a custom `fetch`): it reaches the caller as it is, never classified by its text and never
 * retried; a custom `fetch` is the call's transport, so what it throws becomes the cause of a
 * `RequestError` unless it is one.
 */
export class CallerError {
  /** What was thrown. */
  readonly error: unknown;
  /** True when the caller's `fetch` threw it. */
  readonly fromFetch: boolean;

  constructor(error: unknown, fromFetch: boolean) {
    this.error = error;
    this.fromFetch = fromFetch;
  }
}

/** What `prepare` chose for a call, from which its sender is made. */
export interface SenderPlan {
  /** The runtime client for the call's `verify`, `cert` and `proxies`, leased. */
  lease: ClientLease;
  /** The caller's `fetch`, or null. */
  custom: FetchLike | null;
  /** The session's request hooks, or null. */
  hooks: readonly RequestHook[] | null;
  /** `upload_progress`, or null. */
  uploadProgress: UploadProgress | null;
  /** Bun: fetch asked not to decode the body (the module inflates it, see `prepare`). */
  inflateHere: boolean;
  /** `allow_redirects`: where only the platform can follow them, fetch is told to. */
  follow: boolean;
  /** The canonical URL text of the first hop, whose prebuilt GET a bare hop sends. */
  canonical: CanonicalUrl | null;
}

type Init = RequestInit & { duplex?: "half"; decompress?: boolean };

/**
 * Node's fetch (undici) sends a request with `If-None-Match`, `If-Modified-Since`, `If-Match`,
 * `If-Unmodified-Since` or `If-Range` in the Fetch standard's "no-store" cache mode, which adds
 * `Pragma: no-cache` and `Cache-Control: no-cache`: fields the caller did not send, which make
 * every cache on the way forward the request (an HttpCache's validations too). "force-cache" is
 * the mode that adds none, and where fetch has no HTTP cache it means nothing else. Set only
 * where the runtime's fetch sends: a caller's `fetch` may have a cache that honours the mode.
 */
const FETCH_ADDS_NO_CACHE = RUNTIME === "node";

/** The shared init of a bare GET: nothing but the module's redirect handling. */
const GET_INIT: RequestInit = Object.freeze(
  Object.assign(bare<RequestInit>(), { redirect: "manual" as const }),
);

/**
 * The sender for `plan`.
 *
 * @throws {TypeError} What the plan asks cannot be done: a body on GET/HEAD where there is no
 * node:http client, or with a custom fetch, hooks or a proxy.
 */
export function createSender(plan: SenderPlan, bodyOnGet: string | null): Sender {
  if (bodyOnGet !== null) refuseBodyOnGet(plan, bodyOnGet);
  return plan.custom === null && plan.hooks === null
    ? new RuntimeSender(plan)
    : new CallerSender(plan);
}

/** A GET or HEAD with a body goes through node:http, where the plan allows it. */
function refuseBodyOnGet(plan: SenderPlan, what: string): void {
  const refuse = (why: string) => new TypeError(`Cannot send ${what}: ${why}`);
  if (!NODE_HTTP) {
    throw refuse(`this runtime's fetch refuses one and ${RUNTIME_NAME} has no node:http client`);
  }
  if (plan.custom !== null) throw refuse("a custom 'fetch' takes a Request, which cannot hold one");
  if (plan.hooks !== null) throw refuse("request hooks take a Request, which cannot hold one");
  if (Object.keys(plan.lease.client.settings?.proxies ?? {}).length > 0) {
    throw new TypeError(
      "Option 'proxies' is not supported for a GET or HEAD request with a body: it is sent " +
        "with the runtime's node:http client, which has no proxy support here",
    );
  }
}

/** Whether the platform's fetch refuses to send a request: a body on GET or HEAD. */
export function fetchRefuses(method: string, payload: unknown): boolean {
  return payload !== null && (method === "GET" || method === "HEAD");
}

/** Shared by both senders: the call's settings, and the body and init of each hop. */
abstract class BaseSender {
  readonly client: RuntimeClient;
  #lease: ClientLease;
  #upload: UploadProgress | null;
  #inflate: boolean;
  #follow: boolean;
  /** What `upload_progress` threw on the current hop. */
  #thrown: { error: unknown } | null = null;

  constructor(plan: SenderPlan) {
    this.#lease = plan.lease;
    this.client = plan.lease.client;
    this.#upload = plan.uploadProgress;
    this.#inflate = plan.inflateHere;
    this.#follow = plan.follow;
  }

  get leased(): boolean {
    return this.client.settings !== null;
  }

  release(): void {
    this.#lease.release();
  }

  /** True when fetch is asked not to decode (Bun, see `prepare`'s `inflatesHere`). */
  get inflates(): boolean {
    return this.#inflate;
  }

  /**
   * The body to send on this hop and its length for the Content-Length a stream would lose:
   * with `upload_progress`, a stream over it that counts what the transport takes, made anew on
   * every hop (a redirect or a retry sends it again).
   */
  outgoing(exchange: Exchange): { body: BodyInit; length: number | null } | null {
    this.#thrown = null;
    if (exchange.payload === null) return null;
    const progress = this.#upload;
    if (progress === null) return { body: exchange.payload, length: null };
    const counted = countedBody(exchange.payload, (sent, total) => {
      try {
        progress(sent, total);
      } catch (error) {
        this.#thrown = { error };
        throw error;
      }
    });
    return { body: counted.body, length: counted.total };
  }

  /**
   * `error`, or the caller's own throw from `upload_progress` that caused it (a custom fetch
   * that read the body fails because of it too).
   */
  failure(error: unknown): unknown {
    const thrown = this.#thrown;
    return thrown === null ? error : new CallerError(thrown.error, false);
  }

  /**
   * The init for a fetch of one hop: only the fields that are set, because fetch converts
   * every one it is given, on an object that inherits nothing a polluted prototype could add.
   */
  init(exchange: Exchange, signal: AbortSignal | undefined): Init {
    const init: Init = bare();
    init.redirect = this.#follow && PLATFORM_FOLLOWS ? "follow" : "manual";
    if (exchange.method !== "GET") init.method = exchange.method;
    if (exchange.headers !== null) init.headers = exchange.headers.fields;
    const payload = this.outgoing(exchange);
    if (payload !== null) {
      init.body = payload.body;
      if (payload.body instanceof ReadableStream) init.duplex = "half";
      if (payload.length !== null) {
        init.headers = { ...init.headers, "content-length": String(payload.length) };
      }
    }
    if (signal !== undefined) init.signal = signal;
    if (this.#inflate) init.decompress = false;
    return init;
  }
}

/** Sends with the runtime: its fetch, or node:http for what fetch refuses, one client for both. */
class RuntimeSender extends BaseSender implements Sender {
  readonly aborts = true;
  #canonical: CanonicalUrl | null;
  /** True once a hop went through node:http with settings the runtime's fetch cannot carry. */
  #stayOnNode = false;

  constructor(plan: SenderPlan) {
    super(plan);
    this.#canonical = plan.canonical;
  }

  send(exchange: Exchange, signal: AbortSignal | undefined): Promise<globalThis.Response> {
    const canonical = this.#canonical;
    this.#canonical = null;
    if (fetchRefuses(exchange.method, exchange.payload) || this.#stayOnNode) {
      return this.#node(exchange, signal);
    }
    exchange.decoded = !this.inflates;
    if (
      canonical !== null && exchange.method === "GET" && exchange.headers === null &&
      signal === undefined && this.client.settings === null && !this.inflates && !PLATFORM_FOLLOWS
    ) {
      return fetch(canonical.get ??= new Request(exchange.href, GET_INIT));
    }
    const init = this.init(exchange, signal);
    if (FETCH_ADDS_NO_CACHE) init.cache = "force-cache";
    const sending = this.client.settings === null
      ? fetch(exchange.href, init)
      : fetch(exchange.href, { ...init, ...this.client.fetchInit(schemeOf(exchange.href)) });
    return init.body === undefined
      ? sending
      : sending.catch((error) => Promise.reject(this.failure(error)));
  }

  /** A hop through node:http, with the same client (TLS settings, kept-alive connections). */
  async #node(exchange: Exchange, signal: AbortSignal | undefined): Promise<globalThis.Response> {
    exchange.decoded = false;
    // Settings fetch cannot carry (Deno's verify: false, TLS options on Node) keep every later
    // hop of the call on node:http rather than lose them.
    this.#stayOnNode ||= this.client.settings !== null && !this.client.fetchable;
    const headers: Record<string, string> = { ...exchange.headers?.fields };
    headers.accept ??= "*/*";
    headers["accept-encoding"] ??= ACCEPT_ENCODING;
    const payload = this.outgoing(exchange);
    if (payload?.length != null) headers["content-length"] = String(payload.length);
    try {
      const { nodeFetch } = await (nodeHttp ??= import("./_node_http.ts"));
      return await nodeFetch(exchange.href, {
        method: exchange.method,
        headers,
        body: (payload?.body ?? null) as NodeFetchInit["body"],
        signal,
        client: this.client,
      });
    } catch (error) {
      throw this.failure(error);
    }
  }
}

/**
 * The codings node:http hops ask for: those the module decodes as the body is read, a slice at a
 * time (Bun's brotli decoder too; Deno's would inflate a whole slice of a bomb at once).
 */
const ACCEPT_ENCODING = RUNTIME === "bun" ? "gzip, deflate, br" : "gzip, deflate";

/** Hands each hop to the caller's code as a `Request`: request hooks, then the caller's fetch. */
class CallerSender extends BaseSender implements Sender {
  readonly aborts = false;
  #custom: FetchLike | null;
  #hooks: readonly RequestHook[];

  constructor(plan: SenderPlan) {
    // The caller's fetch sees the module's own redirect handling, whatever the platform; hooks
    // before the runtime's fetch see what it will do (a browser follows redirects itself).
    super(plan.custom === null ? plan : { ...plan, follow: false });
    this.#custom = plan.custom;
    this.#hooks = plan.hooks ?? [];
  }

  async send(exchange: Exchange, signal: AbortSignal | undefined): Promise<globalThis.Response> {
    exchange.decoded = !this.inflates;
    let req = new Request(exchange.href, this.init(exchange, signal));
    for (const hook of this.#hooks) {
      let replaced: Request | void;
      try {
        replaced = await hook(req);
      } catch (error) {
        throw new CallerError(error, false);
      }
      if (replaced instanceof Request) req = replaced;
    }
    let res: unknown;
    try {
      res = await this.#fetch(req);
    } catch (error) {
      throw this.failure(error);
    }
    if (!(res instanceof globalThis.Response)) {
      throw new CallerError(new TypeError("Invalid 'fetch': it must return a Response"), false);
    }
    return res;
  }

  /** The caller's fetch, or the runtime's with the call's client fields. */
  #fetch(req: Request): Promise<unknown> {
    const custom = this.#custom;
    if (custom !== null) {
      try {
        return Promise.resolve(custom(req)).catch((error) => {
          throw new CallerError(error, true);
        });
      } catch (error) {
        return Promise.reject(new CallerError(error, true));
      }
    }
    // Fields a Request does not carry (Bun's `decompress`) are passed to fetch beside it, and so
    // is Node's cache mode: the hooks saw the Request as the caller's code would make it.
    const fields = this.client.fetchInit(schemeOf(req.url));
    const platform = this.inflates
      ? { ...fields, decompress: false }
      : FETCH_ADDS_NO_CACHE
      ? { ...fields, cache: "force-cache" as const }
      : fields;
    return platform === fields && this.client.settings === null ? fetch(req) : fetch(req, platform);
  }
}

function schemeOf(href: string): "http" | "https" {
  return href.startsWith("https:") ? "https" : "http";
}
