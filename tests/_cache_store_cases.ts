// The table of store tests every CacheStore passes (the memory and SQLite stores, and the
// Redis example's): what get, put, delete, purge and identityKey must do, and the size limits.

import assert from "node:assert/strict";
import type { CacheRecord, CacheStore } from "../src/cache/store.ts";

/** The limits a store is made with. */
export interface Limits {
  max_bytes?: number;
  max_entry_bytes?: number;
}

const encoder = new TextEncoder();

export function record(url: string, variant: string, body: string, head = "{}"): CacheRecord {
  return { url, variant, head, body: encoder.encode(body) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The bodies under a key, as text, sorted. */
async function bodies(store: CacheStore, key: string): Promise<string[]> {
  const records = await store.get(key);
  return records.map((r) => new TextDecoder().decode(r.body)).sort();
}

/** One case of the table. */
export interface StoreCase {
  name: string;
  limits?: Limits;
  /** A case of `max_bytes` and least-recently-used order (a store may leave that to its server). */
  lru?: boolean;
  run(store: CacheStore): Promise<void>;
}

/** The table. */
export const STORE_CASES: readonly StoreCase[] = [
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
    lru: true,
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
    lru: true,
    async run(store) {
      await store.put("k", record("http://a.test/", "", "x"));
      assert.deepEqual(await store.get("k"), []);
    },
  },
];
