// The stores under the HTTP cache: MemoryCacheStore and SqliteCacheStore pass one table of
// store tests, and the cache's keys, lookups and failure handling are run over both.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Entry } from "../src/cache/_entry.ts";
import { CacheEngine, type CacheRequest, engineFor } from "../src/cache/_engine.ts";
import { HttpCache } from "../src/cache/http_cache.ts";
import { type CacheStore, MemoryCacheStore } from "../src/cache/store.ts";
import { SqliteCacheStore } from "../src/cache/sqlite_store.ts";
import { type Limits, record, sleep, STORE_CASES } from "./_cache_store_cases.ts";

const encoder = new TextEncoder();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "requests-cache-store-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;

interface Kind {
  name: string;
  make(limits?: Limits): CacheStore & { close?(): void };
}

const KINDS: readonly Kind[] = [
  { name: "MemoryCacheStore", make: (limits) => new MemoryCacheStore(limits) },
  {
    name: "SqliteCacheStore",
    make: (limits) => new SqliteCacheStore(path.join(dir, `store-${files++}.sqlite`), limits),
  },
];

for (const kind of KINDS) {
  for (const c of STORE_CASES) {
    test(`${kind.name}: ${c.name}`, async () => {
      const store = kind.make(c.limits);
      try {
        await c.run(store);
      } finally {
        store.close?.();
      }
    });
  }

  test(`${kind.name}: limits are checked with a TypeError naming the option`, () => {
    assert.throws(() => kind.make({ max_bytes: -1 }), /Invalid 'max_bytes'/);
    assert.throws(() => kind.make({ max_entry_bytes: 1.5 }), /Invalid 'max_entry_bytes'/);
    assert.throws(
      () => kind.make({ max_bytes: "10" as unknown as number }),
      /Invalid 'max_bytes'/,
    );
  });
}

test("MemoryCacheStore stays within max_bytes however many records go in", async () => {
  const store = new MemoryCacheStore({ max_bytes: 10_000, max_entry_bytes: 5_000 });
  for (let i = 0; i < 500; i++) {
    await store.put(`k${i}`, record(`http://a.test/${i}`, "", "x".repeat(i * 13 % 900)));
    assert.ok(store.size <= 10_000, `${store.size} after ${i}`);
  }
  assert.ok(store.size > 8_000);
});

// ---------------------------------------------------------------------------------------------
// The cache over each store: keys, lookups, corrupt records and failing stores.

const POLICY = { shared: false, heuristic: true };
const METHODS = new Set(["GET", "HEAD"]);
const ANONYMOUS = { authorization: null, digest: null, cookie: null, secrets: [] };

function request(key: string, url: string, headers: HeadersInit = {}): CacheRequest {
  return { method: "GET", url, headers: new Headers(headers), key, secrets: [] };
}

function storedEntry(body: string, fields: [string, string][] = []): Entry {
  return new Entry({
    status: 200,
    reason: "OK",
    headers: [["cache-control", "max-age=60"], ...fields],
    requestTime: Date.now(),
    responseTime: Date.now(),
    vary: [],
    decoded: true,
    body: encoder.encode(body),
  });
}

for (const kind of KINDS) {
  test(`${kind.name}: the key holds the URL, and an HMAC of the identity, never the identity`, async () => {
    const store = kind.make();
    try {
      const engine = new CacheEngine(store, POLICY, METHODS);
      const url = "http://a.test/x?q=1";
      assert.equal(await engine.key(url, ANONYMOUS, null), `${url} -`);
      assert.equal(await engine.key(url, ANONYMOUS, "ab12"), `${url} - ab12`);
      const alice = { ...ANONYMOUS, authorization: "Bearer alice-token" };
      const bob = { ...ANONYMOUS, authorization: "Bearer bob-token" };
      const aliceKey = (await engine.key(url, alice, null))!;
      assert.match(aliceKey, /^http:\/\/a\.test\/x\?q=1 [0-9a-f]{64}$/);
      assert.notEqual(aliceKey, await engine.key(url, bob, null));
      assert.ok(!aliceKey.includes("alice-token"));
      // Each part of the identity counts.
      const keys = new Set([
        aliceKey,
        await engine.key(url, { ...alice, cookie: "sid=1" }, null),
        await engine.key(url, { ...alice, cookie: "sid=2" }, null),
        await engine.key(url, { ...ANONYMOUS, digest: { user: "alice", password: "p" } }, null),
        await engine.key(url, { ...ANONYMOUS, digest: { user: "alice", password: "q" } }, null),
        await engine.key(url, { ...ANONYMOUS, secrets: [["x-api-key", "k1"]] }, null),
      ]);
      assert.equal(keys.size, 6);
      // Another engine over the same store keys alike: the secret lives in the store.
      const other = new CacheEngine(store, POLICY, METHODS);
      assert.equal(await other.key(url, alice, null), aliceKey);
      // Another store has another secret.
      const elsewhere = new CacheEngine(new MemoryCacheStore(), POLICY, METHODS);
      assert.notEqual(await elsewhere.key(url, alice, null), aliceKey);
    } finally {
      store.close?.();
    }
  });

  test(`${kind.name}: an entry saved is found, and one of another identity is not`, async () => {
    const store = kind.make();
    try {
      const engine = new CacheEngine(store, POLICY, METHODS);
      const url = "http://a.test/item";
      const alice = (await engine.key(url, { ...ANONYMOUS, cookie: "sid=alice" }, null))!;
      const bob = (await engine.key(url, { ...ANONYMOUS, cookie: "sid=bob" }, null))!;
      await engine.save(request(alice, url), storedEntry("for alice"), { matches: [], any: false });
      const found = await engine.find(request(alice, url));
      assert.equal(found.matches.length, 1);
      assert.equal(new TextDecoder().decode(found.matches[0].body), "for alice");
      assert.deepEqual(await engine.find(request(bob, url)), { matches: [], any: false });
    } finally {
      store.close?.();
    }
  });

  test(`${kind.name}: a corrupt record is a miss and is removed`, async () => {
    const store = kind.make();
    try {
      const engine = new CacheEngine(store, POLICY, METHODS);
      const url = "http://a.test/corrupt";
      await store.put(`${url} -`, record(url, "", "body", "{not json"));
      await store.put(`${url} -`, record(url, "v", "body", '{"version":1,"status":"200"}'));
      const found = await engine.find(request(`${url} -`, url));
      assert.deepEqual(found.matches, []);
      await sleep(20);
      assert.deepEqual(await store.get(`${url} -`), []);
    } finally {
      store.close?.();
    }
  });

  test(`${kind.name}: no credential is kept in clear, Vary on Cookie and Authorization included`, async () => {
    const store = kind.make();
    try {
      const cache = new HttpCache({ store });
      const engine = engineFor(cache);
      const url = "http://a.test/me";
      const identity = { ...ANONYMOUS, authorization: "Bearer s3cr3t-t0ken", cookie: "sid=c00kie" };
      const key = (await engine.key(url, identity, null))!;
      const req = request(key, url, { authorization: "Bearer s3cr3t-t0ken", cookie: "sid=c00kie" });
      const received = {
        status: 200,
        reason: "OK",
        headers: new Headers({ "cache-control": "max-age=60", vary: "Cookie, Authorization" }),
        decoded: true,
      };
      const entry = engine.entryFor(req, received, Date.now(), Date.now(), encoder.encode("mine"))!;
      await engine.save(req, entry, { matches: [], any: false });
      assert.equal((await engine.find(req)).matches.length, 1);
      const without = request(key, url, { authorization: "Bearer s3cr3t-t0ken" });
      assert.equal((await engine.find(without)).matches.length, 0);
      const everything = JSON.stringify(await store.get(key)) + key;
      assert.ok(!everything.includes("s3cr3t"));
      assert.ok(!everything.includes("c00kie"));
    } finally {
      store.close?.();
    }
  });
}

test("a failing store is a miss: nothing thrown, identities bypass the cache", async () => {
  const fail = () => Promise.reject(new Error("store down"));
  const broken: CacheStore = {
    get: fail,
    put: fail,
    delete: fail,
    purge: fail,
    identityKey: fail,
  };
  const engine = new CacheEngine(broken, POLICY, METHODS);
  const url = "http://a.test/";
  assert.equal(await engine.key(url, { ...ANONYMOUS, cookie: "a=1" }, null), null);
  assert.deepEqual(await engine.find(request(`${url} -`, url)), { matches: [], any: false });
  await engine.save(request(`${url} -`, url), storedEntry("x"), { matches: [], any: false });
  await engine.replace(request(`${url} -`, url), storedEntry("x"));
  await engine.purge([url]);
});

test("a store that returns junk is a miss", async () => {
  const junk = {
    get: () => Promise.resolve([null, 42, { head: 5 }, { head: "{}", body: "nope" }]),
    put: () => Promise.resolve(),
    delete: () => Promise.resolve(),
    purge: () => Promise.resolve(),
    identityKey: () => Promise.resolve(new Uint8Array(32)),
  } as unknown as CacheStore;
  const engine = new CacheEngine(junk, POLICY, METHODS);
  assert.deepEqual((await engine.find(request("k", "http://a.test/"))).matches, []);
});

test("HttpCache checks its options with TypeErrors naming them", () => {
  const cases: readonly (readonly [unknown, RegExp])[] = [
    [{ store: {} }, /Invalid 'store'/],
    [{ store: null }, /Invalid 'store'/],
    [{ shared: "yes" }, /Invalid 'shared'/],
    [{ heuristic: 1 }, /Invalid 'heuristic'/],
    [{ methods: ["POST"] }, /Invalid 'methods'/],
    [{ methods: "GET" }, /Invalid 'methods'/],
    [null, /Invalid 'options'/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => new HttpCache(options as never), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, message);
      return true;
    });
  }
  const cache = new HttpCache({ methods: ["get"] as never });
  assert.deepEqual(cache.methods, ["GET"]);
  assert.equal(cache.shared, false);
  assert.equal(cache.heuristic, true);
  assert.ok(cache.store instanceof MemoryCacheStore);
  assert.ok(engineFor(cache) instanceof CacheEngine);
  assert.equal(engineFor(cache), engineFor(cache));
});
