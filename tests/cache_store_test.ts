// The stores under the HTTP cache: MemoryCacheStore and SqliteCacheStore pass one table of
// store tests, and the cache's keys, lookups and failure handling are run over both.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Entry } from "../src/cache/_entry.ts";
import { CacheEngine, type CacheRequest, engineOf } from "../src/cache/_engine.ts";
import { HttpCache } from "../src/cache/http_cache.ts";
import { type CacheRecord, type CacheStore, MemoryCacheStore } from "../src/cache/store.ts";
import { SqliteCacheStore } from "../src/cache/sqlite_store.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "requests-cache-store-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;

interface Limits {
  max_bytes?: number;
  max_entry_bytes?: number;
}

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

const encoder = new TextEncoder();

function record(url: string, variant: string, body: string, head = "{}"): CacheRecord {
  return { url, variant, head, body: encoder.encode(body) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The bodies under a key, as text, sorted. */
async function bodies(store: CacheStore, key: string): Promise<string[]> {
  const records = await store.get(key);
  return records.map((r) => new TextDecoder().decode(r.body)).sort();
}

interface StoreCase {
  name: string;
  limits?: Limits;
  run(store: CacheStore): Promise<void>;
}

const CASES: readonly StoreCase[] = [
  {
    name: "get of an unknown key is empty",
    async run(store) {
      assert.deepEqual(await store.get("nothing"), []);
    },
  },
  {
    name: "put then get gives the record back, bytes intact",
    async run(store) {
      const body = new Uint8Array([0, 255, 1, 0, 128]);
      await store.put("k", { url: "http://a.test/", variant: "", head: '{"x":"é"}', body });
      const [got] = await store.get("k");
      assert.equal(got.url, "http://a.test/");
      assert.equal(got.variant, "");
      assert.equal(got.head, '{"x":"é"}');
      assert.deepEqual([...got.body], [...body]);
    },
  },
  {
    name: "put replaces the record of the same variant and keeps the others",
    async run(store) {
      await store.put("k", record("http://a.test/", "v1", "one"));
      await store.put("k", record("http://a.test/", "v2", "two"));
      await store.put("k", record("http://a.test/", "v1", "three"));
      assert.deepEqual(await bodies(store, "k"), ["three", "two"]);
    },
  },
  {
    name: "delete removes one variant only",
    async run(store) {
      await store.put("k", record("http://a.test/", "v1", "one"));
      await store.put("k", record("http://a.test/", "v2", "two"));
      await store.delete("k", "v1");
      await store.delete("k", "missing");
      await store.delete("missing", "v1");
      assert.deepEqual(await bodies(store, "k"), ["two"]);
    },
  },
  {
    name: "purge removes every key and variant of a URL, and nothing else",
    async run(store) {
      await store.put("a alice", record("http://a.test/", "", "alice"));
      await store.put("a bob", record("http://a.test/", "v", "bob"));
      await store.put("b alice", record("http://b.test/", "", "other"));
      await store.purge("http://a.test/");
      assert.deepEqual(await store.get("a alice"), []);
      assert.deepEqual(await store.get("a bob"), []);
      assert.deepEqual(await bodies(store, "b alice"), ["other"]);
      await store.purge("http://nothing.test/");
    },
  },
  {
    name: "identityKey keeps the first proposal",
    async run(store) {
      const first = new Uint8Array(32).fill(7);
      assert.deepEqual([...await store.identityKey(first)], [...first]);
      const again = await store.identityKey(new Uint8Array(32).fill(9));
      assert.deepEqual([...again], [...first]);
    },
  },
  {
    name: "a record over max_entry_bytes is not kept, and the one it replaces goes",
    limits: { max_entry_bytes: 100 },
    async run(store) {
      await store.put("k", record("http://a.test/", "", "small"));
      await store.put("k", record("http://a.test/", "", "x".repeat(200)));
      assert.deepEqual(await store.get("k"), []);
    },
  },
  {
    name: "beyond max_bytes the least recently used records go first",
    limits: { max_bytes: 250 },
    async run(store) {
      // Each record counts about 100 bytes: two fit, three do not.
      const body = (c: string) => c.repeat(80);
      await store.put("a", record("http://a.test/", "", body("a")));
      await store.put("b", record("http://b.test/", "", body("b")));
      // A read a while later makes "a" the most recently used (SQLite notes reads to the second).
      await sleep(1100);
      assert.equal((await store.get("a")).length, 1);
      await store.put("c", record("http://c.test/", "", body("c")));
      assert.deepEqual(await store.get("b"), []);
      assert.equal((await store.get("a")).length, 1);
      assert.equal((await store.get("c")).length, 1);
    },
  },
  {
    name: "max_bytes 0 keeps nothing",
    limits: { max_bytes: 0 },
    async run(store) {
      await store.put("k", record("http://a.test/", "", "x"));
      assert.deepEqual(await store.get("k"), []);
    },
  },
];

for (const kind of KINDS) {
  for (const c of CASES) {
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
      const engine = engineOf(cache)!;
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
  assert.ok(engineOf(cache) instanceof CacheEngine);
  assert.equal(engineOf({}), undefined);
});
