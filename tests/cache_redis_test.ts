// examples/cache_redis.ts, the shared store of a fleet of workers: its RedisCacheStore passes
// the table of store tests, and two workers (two connections, two HttpCaches) share responses
// and never each other's identities, against Debian's redis-server started here. Where
// redis-server or the example's npm client is absent, the tests say why and do not run.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { HttpCache, request } from "../mod.ts";
import { type Redis, redisMissing, startRedis } from "./_redis.ts";
import { STORE_CASES } from "./_cache_store_cases.ts";
import { serve } from "./_server.ts";

const missing = redisMissing();
if (missing !== null) console.log(`cache_redis_test: not run: ${missing}`);
const options = missing === null ? {} : { skip: missing };

type Example = typeof import("../examples/cache_redis.ts");
let redis: Redis;
let example: Example;
const clients: Awaited<ReturnType<Example["connect"]>>[] = [];

before(async () => {
  if (missing !== null) return;
  redis = await startRedis();
  example = await import("../examples/cache_redis.ts");
});

after(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await redis?.stop();
});

let stores = 0;

/** A RedisCacheStore on a connection of its own, under a prefix of its own. */
async function redisStore(maxEntryBytes?: number) {
  const client = await example.connect(redis.url);
  clients.push(client);
  return new example.RedisCacheStore(client, {
    prefix: `test:${stores++}:`,
    max_entry_bytes: maxEntryBytes,
  });
}

for (const c of STORE_CASES.filter((c) => !c.lru)) {
  test(`RedisCacheStore: ${c.name}`, options, async () => {
    await c.run(await redisStore(c.limits?.max_entry_bytes));
  });
}

test(
  "two workers share one Redis: one fetches, the other is served, identities apart",
  options,
  async () => {
    let served = 0;
    const server = await serve((req) => {
      served++;
      return new Response(`for ${req.headers.get("authorization") ?? "anyone"}`, {
        headers: { "cache-control": "max-age=60" },
      });
    });
    try {
      const prefix = "fleet:";
      const client = async () => {
        const c = await example.connect(redis.url);
        clients.push(c);
        return c;
      };
      const one = new HttpCache({ store: new example.RedisCacheStore(await client(), { prefix }) });
      const two = new HttpCache({ store: new example.RedisCacheStore(await client(), { prefix }) });
      const first = await request("GET", server.url, { cache: one, auth: { bearer: "alice" } });
      assert.equal(first.from_cache, false);
      await one.flush();
      const second = await request("GET", server.url, { cache: two, auth: { bearer: "alice" } });
      assert.equal(second.from_cache, true);
      assert.equal(second.content, "for Bearer alice");
      const bob = await request("GET", server.url, { cache: two, auth: { bearer: "bob" } });
      assert.equal(bob.from_cache, false);
      assert.equal(bob.content, "for Bearer bob");
      assert.equal(served, 2);
    } finally {
      await server.close();
    }
  },
);
