/**
 * {@linkcode HttpCache}: an HTTP cache (RFC 9111) for requests, private by default, over a
 * {@linkcode CacheStore}. Give it to a call or a Session with the `cache` option.
 *
 * @module
 */

import type { Exchange, Sender } from "../transport/_sender.ts";
import { type CacheStore, MemoryCacheStore } from "./store.ts";

/** A method whose responses a cache looks up and stores. */
export type CacheMethod = "GET" | "HEAD";

/** Options of {@linkcode HttpCache}. */
export interface HttpCacheOptions {
  /**
   * Where responses are kept: a {@linkcode MemoryCacheStore}, a `SqliteCacheStore` (kept
   * across runs and processes), or any {@linkcode CacheStore}.
   *
   * @default {new MemoryCacheStore()}
   */
  store?: CacheStore;
  /**
   * A shared cache (as a proxy's): it honours `s-maxage`, `proxy-revalidate`, does not store
   * `private` responses nor, unless the response allows it, responses to requests with
   * `Authorization` (RFC 9111 §3.5, §5.2.2). A private cache (the default) keys every response
   * by the credentials and cookies sent instead.
   *
   * @default {false}
   */
  shared?: boolean;
  /**
   * Give responses without explicit freshness but with `Last-Modified` a freshness of 10 % of
   * their age at the time (at most 7 days), for the statuses RFC 9110 calls heuristically
   * cacheable (RFC 9111 §4.2.2). False: such responses are stored stale, to revalidate.
   *
   * @default {true}
   */
  heuristic?: boolean;
  /**
   * The methods looked up and stored: GET and HEAD (a HEAD is answered from a stored GET
   * response). Responses to other methods are never stored; unsafe ones invalidate.
   *
   * @default {["GET", "HEAD"]}
   */
  methods?: readonly CacheMethod[];
}

const STORE_METHODS = ["get", "put", "delete", "purge", "identityKey"] as const;

function checkStore(store: unknown): CacheStore {
  if (
    store === null || typeof store !== "object" ||
    STORE_METHODS.some((name) => typeof (store as Record<string, unknown>)[name] !== "function")
  ) {
    throw new TypeError(
      "Invalid 'store': expected a CacheStore (get, put, delete, purge and identityKey methods)",
    );
  }
  return store as CacheStore;
}

function checkFlag(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TypeError(`Invalid '${name}': expected true or false`);
  return value;
}

function checkMethods(value: unknown): Set<string> {
  if (value === undefined) return new Set(["GET", "HEAD"]);
  if (
    !Array.isArray(value) ||
    !value.every((method) => typeof method === "string" && /^(GET|HEAD)$/i.test(method))
  ) {
    throw new TypeError('Invalid \'methods\': expected an array of "GET" and "HEAD"');
  }
  return new Set(value.map((method: string) => method.toUpperCase()));
}

/**
 * An HTTP cache, as RFC 9111 describes a client's cache: fresh responses are served from it,
 * stale ones validated with `If-None-Match` / `If-Modified-Since`, and responses are keyed by
 * URL, `Vary`, body and the identity (credentials, cookies) of the caller. One cache may serve
 * many calls and Sessions, in any mix of identities.
 *
 * @example
 * ```ts
 * import { HttpCache, MemoryCacheStore } from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const cache = new HttpCache({ store: new MemoryCacheStore(), shared: false });
 * assert.equal(cache.shared, false);
 * assert.deepEqual(cache.methods, ["GET", "HEAD"]);
 * ```
 */
export class HttpCache {
  readonly #store: CacheStore;
  readonly #shared: boolean;
  readonly #heuristic: boolean;
  readonly #methods: readonly string[];

  /**
   * Makes a cache over a store.
   *
   * @param options The store and the caching rules; every one optional.
   */
  constructor(options: HttpCacheOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("Invalid 'options': expected an object");
    }
    this.#store = options.store === undefined ? new MemoryCacheStore() : checkStore(options.store);
    this.#shared = checkFlag(options.shared, "shared", false);
    this.#heuristic = checkFlag(options.heuristic, "heuristic", true);
    this.#methods = Object.freeze([...checkMethods(options.methods)]);
  }

  /** Where the responses are kept. */
  get store(): CacheStore {
    return this.#store;
  }

  /** True for a shared cache, false for a private one. */
  get shared(): boolean {
    return this.#shared;
  }

  /** Whether heuristic freshness is used. */
  get heuristic(): boolean {
    return this.#heuristic;
  }

  /** The methods looked up and stored. */
  get methods(): readonly string[] {
    return this.#methods;
  }

  /**
   * Waits until every response read so far is in the store, and every background validation
   * started so far is done. A response is stored as its body is read, without making the call
   * wait: call this before another process is to find it in a shared store, or before a
   * script ends on a store whose writes would be cut off.
   *
   * @returns A promise that settles then (a store's failures do not reject it).
   *
   * @example
   * ```ts
   * import { get, HttpCache } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const cache = new HttpCache();
   * const fetch = () => new Response("hi", { headers: { "cache-control": "max-age=60" } });
   * await get("http://example.test/", { cache, fetch });
   * await cache.flush();
   * assert.equal((await get("http://example.test/", { cache, fetch })).from_cache, true);
   * ```
   */
  async flush(): Promise<void> {
    // The cache's machinery is loaded on its first use, not with the module.
    const { flushOf } = await import("./_engine.ts");
    await flushOf(this);
  }
}

// What the request path needs of the cache before any cache is used: a sender that loads the
// cache's machinery (src/cache/_sender.ts and what it imports) on its first hop, so importing
// the module costs nothing for it; and the sender of a call that bypasses a cache.

type Machinery = typeof import("./_sender.ts");

let machinery: Machinery | undefined;
let loading: Promise<Machinery> | undefined;

/** The machinery, loaded once. */
function load(): Promise<Machinery> {
  return loading ??= import("./_sender.ts").then((module) => machinery = module);
}

/**
 * @internal `inner` wrapped by `cache` for one call: the caching sender itself once the
 * machinery is loaded, else a stand-in that loads it on the first hop.
 */
export function cachingSender(
  cache: HttpCache,
  inner: Sender,
  sensitive: readonly string[],
): Sender {
  if (machinery !== undefined) return machinery.wrapSender(cache, inner, sensitive);
  let wrapped: Sender | undefined;
  return {
    aborts: inner.aborts,
    leased: inner.leased,
    async send(x: Exchange, signal: AbortSignal | undefined) {
      wrapped ??= (await load()).wrapSender(cache, inner, sensitive);
      return await wrapped.send(x, signal);
    },
    release: () => (wrapped ?? inner).release(),
  };
}

/** @internal The sender of a call with `cache: false`: every hop says it bypassed the cache. */
export function bypassSender(inner: Sender): Sender {
  return {
    aborts: inner.aborts,
    leased: inner.leased,
    release: () => inner.release(),
    send(x: Exchange, signal: AbortSignal | undefined) {
      x.cache = { fromCache: false, status: "requests; fwd=bypass" };
      return inner.send(x, signal);
    },
  };
}
