// Where the HTTP cache meets the module (SPEC C): the `cache` option of calls and Sessions,
// `from_cache` and `cache_status`, redirects and history, cookies, identities, streamed bodies,
// stale-while-revalidate in the background, stale-if-error on a network failure,
// only-if-cached, GET bodies, compressed bodies, a failing store, and a store that outlives
// its process.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { gzipSync } from "node:zlib";
import * as requests from "../mod.ts";
import { HttpCache, HTTPDigestAuth, MemoryCacheStore, Session, SqliteCacheStore } from "../mod.ts";
import { ok, scripted, serve } from "./_server.ts";

type Handler = (req: Request) => Response | Promise<Response>;

/** A server whose requests are recorded: method, path and the request's headers. */
async function origin(handler: Handler) {
  const seen: { method: string; path: string; headers: Headers }[] = [];
  const server = await serve((req) => {
    seen.push({ method: req.method, path: new URL(req.url).pathname, headers: req.headers });
    return handler(req);
  });
  return { url: server.url, seen, close: () => server.close() };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const fresh = (body: string, extra: Record<string, string> = {}) =>
  new Response(body, { headers: { "cache-control": "max-age=3600", ...extra } });

test("the cache option: an HttpCache, false or null; anything else is a TypeError naming it", async () => {
  const cases: readonly (readonly [unknown, RegExp])[] = [
    [true, /Invalid 'cache': true asks a Session/],
    ["yes", /Invalid 'cache': expected an HttpCache, or false/],
    [{}, /Invalid 'cache'/],
    [new MemoryCacheStore(), /Invalid 'cache'/],
  ];
  for (const [cache, message] of cases) {
    await assert.rejects(
      requests.get("http://127.0.0.1:9/", { cache: cache as never }),
      (error: unknown) => error instanceof TypeError && message.test(error.message),
    );
  }
  assert.throws(() => new Session({ cache: 5 as never }), /Invalid 'cache'/);
  await assert.rejects(
    requests.get("http://127.0.0.1:9/", { caches: 1 } as never),
    /did you mean 'cache'/,
  );
});

test("without a cache from_cache is false and cache_status null; with one they say what it did", async () => {
  const server = await origin(() => fresh("hello"));
  try {
    const plain = await requests.get(server.url);
    assert.equal(plain.from_cache, false);
    assert.equal(plain.cache_status, null);
    const cache = new HttpCache();
    const miss = await requests.get(server.url, { cache });
    assert.equal(miss.from_cache, false);
    assert.equal(miss.cache_status, "requests; fwd=uri-miss; fwd-status=200; stored");
    const hit = await requests.get(server.url, { cache });
    assert.equal(hit.from_cache, true);
    assert.match(hit.cache_status!, /^requests; hit; ttl=(3598|3599|3600)$/);
    assert.equal(hit.content, "hello");
    assert.equal(hit.status_code, 200);
    assert.equal(hit.reason, "OK");
    // The server's Date has whole seconds: up to one of them counts as age already.
    assert.match(hit.raw!.headers.get("age")!, /^[01]$/);
    assert.ok(hit.elapsed >= 0 && hit.elapsed < 1);
    assert.equal(server.seen.length, 2);
    const post = await requests.post(server.url, { cache, data: "x" });
    assert.equal(post.cache_status, "requests; fwd=method");
  } finally {
    await server.close();
  }
});

test("Session cache: true has a cache of its own; cache: false bypasses it for one call", async () => {
  const server = await origin(() => fresh("from origin"));
  try {
    const session = new Session({ cache: true });
    const other = new Session({ cache: true });
    await session.get(server.url);
    const hit = await session.get(server.url);
    assert.equal(hit.from_cache, true);
    const bypass = await session.get(server.url, { cache: false });
    assert.equal(bypass.from_cache, false);
    assert.equal(bypass.cache_status, "requests; fwd=bypass");
    // Another session's cache is another cache.
    assert.equal((await other.get(server.url)).from_cache, false);
    assert.equal(server.seen.length, 3);
  } finally {
    await server.close();
  }
});

test("a cacheable 301 is served from the cache and still followed, with history", async () => {
  const server = await origin((req) => {
    const { pathname } = new URL(req.url);
    if (pathname === "/old") {
      return new Response(null, {
        status: 301,
        headers: { location: "/new", "cache-control": "max-age=3600" },
      });
    }
    if (pathname === "/moved") {
      return new Response("gone", { status: 308, headers: { location: "/new" } });
    }
    return fresh("new place");
  });
  try {
    const cache = new HttpCache();
    const first = await requests.get(`${server.url}/old`, { cache });
    assert.equal(first.content, "new place");
    const again = await requests.get(`${server.url}/old`, { cache });
    assert.equal(again.content, "new place");
    assert.equal(again.url, `${server.url}/new`);
    assert.equal(again.history.length, 1);
    assert.equal(again.history[0].status_code, 301);
    assert.equal(again.history[0].from_cache, true);
    assert.match(again.history[0].cache_status!, /^requests; hit; ttl=/);
    assert.equal(again.from_cache, true);
    assert.deepEqual(server.seen.map((s) => s.path), ["/old", "/new"]);
    // A 308 is heuristically cacheable, but without Last-Modified it has no freshness.
    await requests.get(`${server.url}/moved`, { cache });
    await requests.get(`${server.url}/moved`, { cache });
    assert.equal(server.seen.filter((s) => s.path === "/moved").length, 2);
  } finally {
    await server.close();
  }
});

test("Set-Cookie acts only from the network: never stored, a 304's acted on by the jar", async () => {
  let validated = 0;
  const server = await origin((req) => {
    if (req.headers.get("if-none-match") === '"v1"') {
      validated++;
      return new Response(null, {
        status: 304,
        headers: { etag: '"v1"', "set-cookie": "fromvalidation=1; Path=/" },
      });
    }
    return new Response("body", {
      headers: { "cache-control": "max-age=0", etag: '"v1"', "set-cookie": "first=1; Path=/" },
    });
  });
  try {
    const cache = new HttpCache();
    const session = new Session({ cache });
    const first = await session.get(server.url);
    assert.equal(first.cookies.first, "1");
    assert.equal(session.cookies.get("first"), "1");
    session.cookies.clear();
    // Stale at once: validated with If-None-Match, the 304's cookie set, the entry served.
    const second = await session.get(server.url);
    assert.equal(validated, 1);
    assert.equal(second.from_cache, true);
    assert.equal(second.content, "body");
    assert.equal(session.cookies.get("fromvalidation"), "1");
    assert.equal(session.cookies.get("first"), undefined);
    // The stored entry never held a Set-Cookie: a plain call served from it has none.
    const third = await requests.get(server.url, {
      cache,
      headers: { "cache-control": "max-stale" },
    });
    assert.equal(third.from_cache, true);
    assert.deepEqual(third.raw!.headers.getSetCookie(), []);
  } finally {
    await server.close();
  }
});

test("one HttpCache shared by sessions of different credentials never crosses them", async () => {
  const server = await origin((req) =>
    fresh(`for ${req.headers.get("authorization") ?? "anyone"} ${req.headers.get("cookie") ?? ""}`)
  );
  try {
    const cache = new HttpCache();
    const alice = new Session({ cache, auth: { bearer: "alice" } });
    const bob = new Session({ cache, auth: { bearer: "bob" } });
    const anonymous = new Session({ cache });
    assert.equal((await alice.get(server.url)).content, "for Bearer alice ");
    assert.equal((await bob.get(server.url)).content, "for Bearer bob ");
    assert.equal((await anonymous.get(server.url)).content, "for anyone ");
    const again = await alice.get(server.url);
    assert.equal(again.from_cache, true);
    assert.equal(again.content, "for Bearer alice ");
    assert.equal((await bob.get(server.url)).content, "for Bearer bob ");
    // Cookies are part of the identity too.
    const withCookie = await anonymous.get(server.url, { cookies: { sid: "s1" } });
    assert.equal(withCookie.content, "for anyone sid=s1");
    assert.equal((await anonymous.get(server.url, { cookies: { sid: "s2" } })).from_cache, false);
    // So are the values of sensitive_headers.
    const keyed = { sensitive_headers: ["X-Api-Key"] };
    await anonymous.get(server.url, { ...keyed, headers: { "X-Api-Key": "k1" } });
    const k2 = await anonymous.get(server.url, { ...keyed, headers: { "X-Api-Key": "k2" } });
    assert.equal(k2.from_cache, false);
    assert.equal(server.seen.length, 7);
  } finally {
    await server.close();
  }
});

/** A digest-protected origin (RFC 7616, MD5, qop=auth) with one user. */
function digestOrigin(user: string, password: string): Handler {
  const md5 = (text: string) => createHash("md5").update(text).digest("hex");
  return (req) => {
    const header = req.headers.get("authorization") ?? "";
    const params = Object.fromEntries(
      [...header.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)].map((m) => [m[1], m[2] ?? m[3]]),
    );
    const ha1 = md5(`${user}:test:${password}`);
    const ha2 = md5(`${req.method}:${params.uri}`);
    const expected = md5(`${ha1}:${params.nonce}:${params.nc}:${params.cnonce}:auth:${ha2}`);
    if (params.username === user && params.response === expected) return fresh("the secret");
    return new Response("no", {
      status: 401,
      headers: {
        "www-authenticate": 'Digest realm="test", nonce="n1", qop="auth"',
        "cache-control": "max-age=3600",
      },
    });
  };
}

test("digest credentials key by user and password: a wrong password never gets the stored response", async () => {
  const server = await origin(digestOrigin("alice", "right"));
  try {
    const cache = new HttpCache();
    const good = await requests.get(server.url, {
      cache,
      auth: new HTTPDigestAuth("alice", "right"),
    });
    assert.equal(good.content, "the secret");
    const again = await requests.get(server.url, {
      cache,
      auth: new HTTPDigestAuth("alice", "right"),
    });
    assert.equal(again.content, "the secret");
    assert.equal(again.from_cache, true);
    const wrong = await requests.get(server.url, {
      cache,
      auth: new HTTPDigestAuth("alice", "wrong"),
    });
    assert.equal(wrong.status_code, 401);
    assert.equal(wrong.from_cache, false);
  } finally {
    await server.close();
  }
});

test("a streamed response is stored once read whole, never when abandoned half-way", async () => {
  const big = "x".repeat(256 * 1024);
  const server = await origin(() => fresh(big));
  try {
    const cache = new HttpCache();
    const abandoned = await requests.get(server.url, { cache, stream: true });
    for await (const _ of abandoned.iter_content(1024)) break;
    await abandoned.close();
    const next = await requests.get(server.url, { cache, stream: true });
    assert.equal(next.from_cache, false);
    assert.equal((await next.read()).byteLength, big.length);
    const hit = await requests.get(server.url, { cache });
    assert.equal(hit.from_cache, true);
    assert.equal(hit.content.length, big.length);
    assert.equal(server.seen.length, 2);
  } finally {
    await server.close();
  }
});

test("stale-while-revalidate: stale answers at once, one background validation for many callers", async () => {
  let backgroundAnswered = 0;
  const server = await origin(async (req) => {
    if (req.headers.get("if-none-match") === '"v1"') {
      await sleep(50);
      backgroundAnswered++;
      return new Response(null, {
        status: 304,
        headers: { etag: '"v1"', "cache-control": "max-age=3600" },
      });
    }
    return new Response("v1", {
      headers: { etag: '"v1"', "cache-control": "max-age=0, stale-while-revalidate=60" },
    });
  });
  try {
    const cache = new HttpCache();
    await requests.get(server.url, { cache });
    const stale = await Promise.all(
      Array.from({ length: 10 }, () => requests.get(server.url, { cache })),
    );
    for (const r of stale) {
      assert.equal(r.content, "v1");
      assert.equal(r.from_cache, true);
      assert.match(r.cache_status!, /^requests; hit; ttl=-\d+$/);
    }
    // The callers did not wait for the validation.
    assert.equal(backgroundAnswered, 0);
    await cache.flush();
    assert.equal(backgroundAnswered, 1);
    assert.equal(server.seen.length, 2);
    const freshened = await requests.get(server.url, { cache });
    assert.match(freshened.cache_status!, /^requests; hit; ttl=(3598|3599|3600)$/);
  } finally {
    await server.close();
  }
});

test("a background validation that fails reaches no caller and leaves no unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  // The first request is answered; every later one has its connection dropped.
  const server = await scripted((_seen, socket) => {
    if (server.seen.length > 1) {
      socket.destroy();
      return;
    }
    socket.write(ok("v1", [
      ["ETag", '"v1"'],
      ["Cache-Control", "max-age=0, stale-while-revalidate=60"],
    ]));
  });
  try {
    const cache = new HttpCache();
    await requests.get(server.url, { cache });
    const r = await requests.get(server.url, { cache });
    assert.equal(r.content, "v1");
    assert.equal(r.from_cache, true);
    await cache.flush();
    // The background validation was sent (a runtime may send it again on a new connection).
    const validations = server.seen.length - 1;
    assert.ok(validations >= 1);
    assert.ok(
      server.seen.slice(1).every((seen) => seen.headers.get("if-none-match")?.[0] === '"v1"'),
    );
    // An unhandled rejection is reported once the microtasks have run: a timer later.
    await sleep(20);
    assert.deepEqual(unhandled, []);
    // The next caller is served stale again, and validates again in the background.
    assert.equal((await requests.get(server.url, { cache })).from_cache, true);
    await cache.flush();
    await sleep(20);
    assert.ok(server.seen.length > validations + 1);
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
    await server.close();
  }
});

test("stale-if-error serves the stale entry when the origin cannot be reached; without it the error stands", async () => {
  const server = await origin((req) =>
    new URL(req.url).pathname === "/sie"
      ? new Response("kept", { headers: { "cache-control": "max-age=0, stale-if-error=600" } })
      : new Response("plain", { headers: { "cache-control": "max-age=0", etag: '"p"' } })
  );
  const cache = new HttpCache();
  await requests.get(`${server.url}/sie`, { cache });
  await requests.get(`${server.url}/plain`, { cache });
  await server.close();
  const served = await requests.get(`${server.url}/sie`, { cache });
  assert.equal(served.content, "kept");
  assert.equal(served.from_cache, true);
  assert.match(served.cache_status!, /^requests; hit; ttl=-\d+$/);
  await assert.rejects(requests.get(`${server.url}/plain`, { cache }), requests.ConnectionError);
  // The request's own stale-if-error counts too.
  const asked = await requests.get(`${server.url}/plain`, {
    cache,
    headers: { "cache-control": "stale-if-error=600" },
  });
  assert.equal(asked.content, "plain");
});

test("only-if-cached with nothing usable is the cache's 504: empty, Gateway Timeout, no status", async () => {
  const cache = new HttpCache();
  const r = await requests.get("http://127.0.0.1:9/never", {
    cache,
    headers: { "cache-control": "only-if-cached" },
  });
  assert.equal(r.status_code, 504);
  assert.equal(r.reason, "Gateway Timeout");
  assert.equal(r.content, "");
  assert.equal(r.from_cache, true);
  assert.equal(r.cache_status, null);
});

test("a GET with a body is keyed by the body's SHA-256", async () => {
  // A raw server: a body on GET goes out through node:http, which not every runtime's
  // web server reads.
  const server = await scripted((seen, socket) => {
    const body = new TextDecoder().decode(seen.body);
    socket.write(ok(`searched ${body}`, [["Cache-Control", "max-age=3600"]]));
  });
  try {
    const cache = new HttpCache();
    const a = await requests.get(server.url, { cache, json: { q: "a" } });
    assert.equal(a.content, 'searched {"q":"a"}');
    const b = await requests.get(server.url, { cache, json: { q: "b" } });
    assert.equal(b.content, 'searched {"q":"b"}');
    const again = await requests.get(server.url, { cache, json: { q: "a" } });
    assert.equal(again.from_cache, true);
    assert.equal(again.content, 'searched {"q":"a"}');
    const none = await requests.get(server.url, { cache });
    assert.equal(none.from_cache, false);
    assert.equal(none.content, "searched ");
    assert.equal(server.seen.length, 3);
  } finally {
    await server.close();
  }
});

test("a compressed response is served from the cache decoded, whichever path stored it", async () => {
  const text = "compressible ".repeat(1000);
  const server = await origin(() =>
    new Response(new Uint8Array(gzipSync(text)), {
      headers: { "content-encoding": "gzip", "cache-control": "max-age=3600" },
    })
  );
  try {
    for (const options of [{}, { max_bytes: 1 << 20 }, { stream: true }]) {
      const cache = new HttpCache();
      const first = await requests.get(server.url, { cache, ...options });
      if ("stream" in options) await first.read();
      assert.equal(first.content, text);
      const hit = await requests.get(server.url, { cache, ...options });
      if ("stream" in options) await hit.read();
      assert.equal(hit.from_cache, true, JSON.stringify(options));
      assert.equal(hit.content, text, JSON.stringify(options));
    }
  } finally {
    await server.close();
  }
});

test("a failing store never fails a request", async () => {
  const server = await origin(() => fresh("works"));
  const fail = () => Promise.reject(new Error("store down"));
  try {
    const cache = new HttpCache({
      store: { get: fail, put: fail, delete: fail, purge: fail, identityKey: fail },
    });
    for (let i = 0; i < 2; i++) {
      const r = await requests.get(server.url, { cache, auth: ["u", "p"] });
      assert.equal(r.content, "works");
      assert.equal(r.from_cache, false);
      const anonymous = await requests.get(server.url, { cache });
      assert.equal(anonymous.content, "works");
    }
    assert.equal((await requests.delete(server.url, { cache })).status_code, 200);
  } finally {
    await server.close();
  }
});

test("the SQLite store keeps responses for the next HttpCache over the same file", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "requests-cache-module-"));
  const server = await origin(() => fresh("kept on disk"));
  try {
    const file = path.join(dir, "cache.sqlite");
    const first = new SqliteCacheStore(file);
    const cache = new HttpCache({ store: first });
    await requests.get(server.url, { cache, auth: ["me", "pw"] });
    await cache.flush();
    first.close();
    const second = new SqliteCacheStore(file);
    const r = await requests.get(server.url, {
      cache: new HttpCache({ store: second }),
      auth: ["me", "pw"],
    });
    second.close();
    assert.equal(r.from_cache, true);
    assert.equal(r.content, "kept on disk");
    assert.equal(server.seen.length, 1);
    // The Authorization value (Basic bWU6cHc=) is nowhere in the files.
    for (const name of fs.readdirSync(dir)) {
      assert.ok(!fs.readFileSync(path.join(dir, name)).includes("bWU6cHc"), name);
    }
    const files = fs.readdirSync(dir).map((name) => fs.readFileSync(path.join(dir, name)));
    assert.ok(files.some((bytes) => bytes.includes("kept on disk")));
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
