// SqliteCacheStore beyond the table of store tests: several processes writing one file, the
// file's mode, what survives a restart, a lock held by another connection, a damaged file, and
// a runtime without SQLite.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { IS_BUN, IS_DENO } from "./_raw.ts";
import { CacheEngine } from "../src/cache/_engine.ts";
import { openDatabase } from "../src/cache/_sqlite.ts";
import { SqliteCacheStore } from "../src/cache/sqlite_store.ts";
import { get, HttpCache } from "../mod.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "requests-cache-sqlite-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const child = new URL("./_cache_sqlite_child.ts", import.meta.url).pathname;
const requestsChild = new URL("./_cache_requests_child.ts", import.meta.url).pathname;
const encoder = new TextEncoder();

interface ChildResult {
  mismatched: number;
  seenOthers: number;
  secret: string;
}

function runChild(args: string[]): Promise<ChildResult> {
  return runScript(child, args) as Promise<ChildResult>;
}

function runScript(script: string, args: string[]): Promise<unknown> {
  const pre = IS_DENO ? ["run", "-A", script] : [script];
  const proc = spawn(process.execPath, [...pre, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (chunk) => stdout += chunk);
  proc.stderr.on("data", (chunk) => stderr += chunk);
  return new Promise((resolve, reject) => {
    proc.on("close", (code) => {
      if (code !== 0) reject(new Error(`child exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
    });
  });
}

test("4 processes x 1,000 writes and reads through one file: no error, no record lost", async () => {
  const file = path.join(dir, "shared.sqlite");
  const workers = 4;
  const count = 1000;
  const results = await Promise.all(
    Array.from(
      { length: workers },
      (_, w) => runChild([file, String(w), String(count), String(workers)]),
    ),
  );
  for (const result of results) assert.equal(result.mismatched, 0);
  // The processes ran at once: each read records the next one was writing.
  assert.ok(results.some((r) => r.seenOthers > 0));
  // Every process got the same identity secret, whoever created the file.
  assert.equal(new Set(results.map((r) => r.secret)).size, 1);
  const store = new SqliteCacheStore(file);
  try {
    for (let w = 0; w < workers; w++) {
      for (let i = 0; i < count; i++) {
        const records = await store.get(`http://cache.test/${w}/${i} -`);
        assert.equal(records.length, 1, `worker ${w} record ${i}`);
        assert.deepEqual(JSON.parse(records[0].head), { worker: String(w), i });
      }
    }
  } finally {
    store.close();
  }
});

test("4 processes x 1,000 requests through one SQLite file: no error, no entry lost", async () => {
  const server = http.createServer((req, res) => {
    const id = (req.url ?? "").replace("/item/", "");
    res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=3600" });
    res.end(JSON.stringify({ id, padding: "x".repeat(200) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = path.join(dir, "requests.sqlite");
  try {
    const results = await Promise.all(
      Array.from(
        { length: 4 },
        (_, w) => runScript(requestsChild, [file, base, String(w), "1000"]),
      ),
    ) as { errors: number; stored: number; hits: number }[];
    for (const result of results) assert.deepEqual(result, { errors: 0, stored: 1000, hits: 1000 });
    // Every entry is in the file, whichever process wrote it.
    const cache = new HttpCache({ store: new SqliteCacheStore(file) });
    const headers = { "cache-control": "only-if-cached" };
    for (let w = 0; w < 4; w++) {
      const r = await get(`${base}/item/${w}/999`, { cache, headers });
      assert.equal(r.from_cache, true);
      assert.equal((r.json() as { id: string }).id, `${w}/999`);
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("the file is created with mode 0600", async () => {
  const file = path.join(dir, "mode.sqlite");
  const store = new SqliteCacheStore(file);
  await store.put("k", {
    url: "http://a.test/",
    variant: "",
    head: "{}",
    body: encoder.encode("x"),
  });
  store.close();
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const wal = `${file}-wal`;
  if (fs.existsSync(wal)) assert.equal(fs.statSync(wal).mode & 0o077, 0);
});

test("records survive closing the store and opening the file again", async () => {
  const file = path.join(dir, "restart.sqlite");
  const first = new SqliteCacheStore(new URL(`file://${file}`));
  const secret = await first.identityKey(new Uint8Array(32).fill(1));
  await first.put("k", {
    url: "http://a.test/",
    variant: "v",
    head: "{}",
    body: encoder.encode("kept"),
  });
  first.close();
  const second = new SqliteCacheStore(file);
  try {
    const [got] = await second.get("k");
    assert.equal(new TextDecoder().decode(got.body), "kept");
    assert.deepEqual([...await second.identityKey(new Uint8Array(32).fill(2))], [...secret]);
  } finally {
    second.close();
  }
});

test("a write lock held by another connection delays a put; it never fails it", async () => {
  const file = path.join(dir, "locked.sqlite");
  const store = new SqliteCacheStore(file);
  await store.put("warm", {
    url: "http://a.test/",
    variant: "",
    head: "{}",
    body: encoder.encode(""),
  });
  const other = openDatabase(file, "test");
  other.exec("PRAGMA busy_timeout = 0");
  other.exec("BEGIN IMMEDIATE");
  const release = setTimeout(() => other.exec("COMMIT"), 400);
  try {
    await store.put("k", {
      url: "http://a.test/k",
      variant: "",
      head: "{}",
      body: encoder.encode("late"),
    });
    assert.equal((await store.get("k")).length, 1);
  } finally {
    clearTimeout(release);
    try {
      other.exec("COMMIT");
    } catch { /* committed by the timer */ }
    other.close();
    store.close();
  }
});

test("a damaged file makes the store reject and the cache miss, never throw", async () => {
  const file = path.join(dir, "damaged.sqlite");
  fs.writeFileSync(file, "this is not a database, just some text that is long enough ".repeat(100));
  const store = new SqliteCacheStore(file);
  await assert.rejects(store.get("k"));
  const engine = new CacheEngine(store, { shared: false, heuristic: true }, new Set(["GET"]));
  const req = {
    method: "GET",
    url: "http://a.test/",
    headers: new Headers(),
    key: "k",
    secrets: [],
  };
  assert.deepEqual(await engine.find(req), { matches: [], any: false });
  assert.equal(
    await engine.key("http://a.test/", {
      authorization: "Basic eDp5",
      digest: null,
      cookie: null,
      secrets: [],
    }, null),
    null,
  );
  store.close();
});

test("a path in a missing directory makes the store reject", async () => {
  const store = new SqliteCacheStore(path.join(dir, "no", "such", "dir", "c.sqlite"));
  await assert.rejects(store.get("k"));
  store.close();
});

test("without the runtime's SQLite, making the store is a TypeError naming it", async () => {
  const g = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } };
  const real = g.process!.getBuiltinModule!;
  const made = new SqliteCacheStore(path.join(dir, "some.sqlite"));
  Object.defineProperty(g.process!, "getBuiltinModule", {
    configurable: true,
    writable: true,
    value: (id: string) => /sqlite/.test(id) ? undefined : real(id),
  });
  try {
    assert.throws(() => new SqliteCacheStore(path.join(dir, "none.sqlite")), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /^SqliteCacheStore needs the runtime's SQLite/);
      return true;
    });
    // A store made before rejects when used (through an HttpCache, a miss).
    await assert.rejects(made.get("k"), TypeError);
  } finally {
    Object.defineProperty(g.process!, "getBuiltinModule", {
      configurable: true,
      writable: true,
      value: real,
    });
    made.close();
  }
});

test("Bun uses bun:sqlite, Deno and Node node:sqlite", () => {
  const db = openDatabase(":memory:", "test");
  try {
    assert.equal(db.driver, IS_BUN ? "bun:sqlite" : "node:sqlite");
    db.exec("CREATE TABLE t (a)");
    assert.equal(db.prepare("SELECT a FROM t").get(), undefined);
  } finally {
    db.close();
  }
});
