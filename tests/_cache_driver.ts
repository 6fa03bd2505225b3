// How the conformance table sends a request through a cache: the module's own request(), so
// every case runs the whole path (prepare, the hop loop, the caching sender, reading the body).

import { request } from "../src/request.ts";
import type { Driver } from "./_cache_fixture.ts";

export const driver: Driver = async (cache, method, url, headers, body) => {
  const r = await request(method, url, {
    headers,
    data: body ?? undefined,
    cache,
    allow_redirects: false,
  });
  return {
    status: r.status_code,
    headers: r.raw!.headers,
    text: r.text,
    fromCache: r.from_cache,
    cacheStatus: r.cache_status,
  };
};
