// How the conformance table sends a request through a cache: the caching sender over a plain
// fetch sender, standing in for the module's request() until the sender seam is on main.

import { HeaderMap } from "../src/_headers.ts";
import { wrapSender } from "../src/cache/_sender.ts";
import type { Exchange, Sender } from "../src/cache/_seam.ts";
import type { Driver } from "./_cache_fixture.ts";

/** A sender over the platform's fetch, following no redirect. */
export const fetchSender: Sender = {
  aborts: true,
  release() {},
  send(x: Exchange, signal: AbortSignal | undefined) {
    x.decoded = true;
    return fetch(x.href, {
      method: x.method,
      headers: x.headers?.fields,
      body: x.payload,
      redirect: "manual",
      signal,
    });
  },
};

export const driver: Driver = async (cache, method, url, headers, body) => {
  const map = new HeaderMap();
  for (const [name, value] of headers) map.append(name, value);
  const x: Exchange = {
    method,
    href: url,
    url: null,
    headers: map,
    payload: body,
    digest: null,
    decoded: true,
    cache: null,
  };
  const call = { body: body === null ? null : new TextEncoder().encode(body), sensitive: [] };
  const sender = wrapSender(cache, fetchSender, call);
  try {
    const response = await sender.send(x, undefined);
    const text = method === "HEAD" ? "" : await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      fromCache: x.cache?.fromCache ?? false,
      cacheStatus: x.cache?.status ?? null,
    };
  } finally {
    sender.release();
  }
};
