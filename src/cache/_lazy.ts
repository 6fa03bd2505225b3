// What the request path needs of the cache before any cache is used: a sender that loads the
// cache's machinery (src/cache/_sender.ts and what it imports) on its first hop, so importing
// the module costs nothing for it; and the sender of a call that bypasses a cache.

import type { Exchange, Sender } from "../transport/_sender.ts";
import type { HttpCache } from "./http_cache.ts";

type Machinery = typeof import("./_sender.ts");

let machinery: Machinery | undefined;
let loading: Promise<Machinery> | undefined;

/** The machinery, loaded once. */
function load(): Promise<Machinery> {
  return loading ??= import("./_sender.ts").then((module) => machinery = module);
}

/**
 * `inner` wrapped by `cache` for one call: the caching sender itself once the machinery is
 * loaded, else a stand-in that loads it on the first hop.
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

/** The sender of a call with `cache: false`: every hop says it bypassed the cache. */
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
