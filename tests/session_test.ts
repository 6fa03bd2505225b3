// Session: defaults, the cookie jar across hops, hooks, retries and TLS.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import type net from "node:net";
import * as requests from "../mod.ts";
import { Session } from "../mod.ts";
import { IS_BUN, IS_NODE, type RawServer, rawServer, response } from "./_raw.ts";
import { type Echo, header, serve, type TestServer } from "./_server.ts";
import { makeTestPki, type TestPki } from "./_tls.ts";

/** Node's fetch has no TLS options: a session given `verify` rejects every request. */
const NODE_REFUSES_VERIFY = /^Option 'verify' is not supported on this runtime \(Node\.js\)/;

let server: TestServer;
let flaky: TestServer;
let resets: RawServer;
let pki: TestPki;
let tls: https.Server;
let tlsUrl = "";
const tlsSockets = new Set<net.Socket>();
let flakyHits = 0;

before(async () => {
  server = await serve(async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/login") {
      return new Response("in", {
        headers: [["set-cookie", "sid=abc; Path=/"], ["set-cookie", "evil=1; Domain=evil.test"]],
      });
    }
    if (url.pathname === "/hop") {
      return new Response(null, {
        status: 302,
        headers: { location: "/echo/after-hop", "set-cookie": "hop=1; Path=/" },
      });
    }
    if (url.pathname === "/token") {
      const ok = req.headers.get("authorization") === "Bearer fresh";
      return new Response(ok ? "secret data" : "expired", { status: ok ? 200 : 401 });
    }
    const { echo } = await import("./_server.ts");
    return echo(req);
  });
  flaky = await serve((req) => {
    flakyHits++;
    const fails = Number(new URL(req.url).searchParams.get("fails") ?? 2);
    const retryAfter = new URL(req.url).searchParams.get("retry_after");
    if (flakyHits <= fails) {
      return new Response("busy", {
        status: 503,
        headers: retryAfter === null ? {} : { "retry-after": retryAfter },
      });
    }
    return new Response(`ok after ${flakyHits}`);
  });
  resets = await rawServer((socket) => {
    if (resets.connections <= 2) socket.resetAndDestroy();
    else socket.end(response("200 OK", [["Content-Length", "2"], ["Connection", "close"]], "ok"));
  });
  pki = makeTestPki();
  tls = https.createServer({ key: pki.serverKey, cert: pki.serverCert }, (req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ path: req.url, tls: true }));
  });
  tls.on("connection", (s: net.Socket) => {
    tlsSockets.add(s);
    s.on("close", () => tlsSockets.delete(s));
  });
  await new Promise<void>((r) => tls.listen(0, "127.0.0.1", () => r()));
  tlsUrl = `https://127.0.0.1:${(tls.address() as net.AddressInfo).port}`;
});

after(async () => {
  await server.close();
  await flaky.close();
  await resets.close();
  for (const s of tlsSockets) s.destroy();
  await new Promise<void>((r) => tls.close(() => r()));
  pki.remove();
});

test("session headers persist, are mutable, and a request's headers replace them", async () => {
  const session = new Session({ headers: { "X-App": "cam", Accept: "text/plain" } });
  session.headers.set("X-Later", "1");
  const echoed = (await session.get(`${server.url}/echo`, {
    headers: { Accept: "application/json", "X-App": null as unknown as string },
  })).json() as Echo;
  assert.equal(header(echoed, "accept"), "application/json");
  assert.equal(header(echoed, "x-app"), null);
  assert.equal(header(echoed, "x-later"), "1");
  const next = (await session.get(`${server.url}/echo`)).json() as Echo;
  assert.equal(header(next, "x-app"), "cam");
});

test("every change to session headers reaches the next request, however it is made", async () => {
  const session = new Session({ headers: { "X-A": "1" } });
  const sent = async () => {
    const echoed = (await session.get(`${server.url}/echo`)).json() as Echo;
    return ["x-a", "x-b"].map((name) => header(echoed, name));
  };
  assert.deepEqual(await sent(), ["1", null]);
  assert.deepEqual(await sent(), ["1", null]); // the checked copy, reused
  session.headers.set("X-A", "2");
  assert.deepEqual(await sent(), ["2", null]);
  session.headers.append("X-B", "3");
  session.headers.append("X-B", "4");
  assert.deepEqual(await sent(), ["2", "3, 4"]);
  session.headers.delete("x-a");
  assert.deepEqual(await sent(), [null, "3, 4"]);
  session.headers.set("X-B", "bad\u0001value");
  await assert.rejects(session.get(`${server.url}/echo`), requests.InvalidHeaderError);
  await assert.rejects(session.get(`${server.url}/echo`), requests.InvalidHeaderError);
  session.headers = new Headers({ "X-A": "replaced" });
  assert.deepEqual(await sent(), ["replaced", null]);
});

test("session auth and params apply to every request and can be overridden", async () => {
  const session = new Session({ auth: ["u", "p"], params: { key: "k", page: 1 } });
  const first = (await session.get(`${server.url}/echo`, { params: { page: 2 } })).json() as Echo;
  assert.equal(header(first, "authorization"), `Basic ${btoa("u:p")}`);
  assert.deepEqual(first.query, [["key", "k"], ["page", "2"]]);
  session.auth = { bearer: "t" };
  session.params = null;
  const second = (await session.get(`${server.url}/echo`)).json() as Echo;
  assert.equal(header(second, "authorization"), "Bearer t");
  assert.deepEqual(second.query, []);
});

test("the cookie jar keeps cookies set by responses and refuses foreign domains", async () => {
  const session = new Session();
  await session.post(`${server.url}/login`);
  assert.equal(session.cookies.get("sid"), "abc");
  assert.equal(session.cookies.get("evil"), undefined);
  const echoed = (await session.get(`${server.url}/echo`)).json() as Echo;
  assert.equal(header(echoed, "cookie"), "sid=abc");
  session.cookies.set("manual", "yes");
  session.cookies.delete("sid");
  const after = (await session.get(`${server.url}/echo`)).json() as Echo;
  assert.equal(header(after, "cookie"), "manual=yes");
});

test("cookies set on a redirect hop are kept and sent on the next hop", async () => {
  const session = new Session();
  const r = await session.get(`${server.url}/hop`);
  assert.equal((r.json() as Echo).path, "/echo/after-hop");
  assert.equal(header(r.json() as Echo, "cookie"), "hop=1");
  assert.equal(session.cookies.get("hop"), "1");
});

test("jar cookies are re-matched for a redirect to another host", async () => {
  const other = await serve((req) => Response.json({ cookie: req.headers.get("cookie") }));
  try {
    const session = new Session();
    session.cookies.set("local", "1", { domain: "127.0.0.1" });
    const port = new URL(other.url).port;
    const r = await session.get(
      `${server.url}/redirect/302?to=${encodeURIComponent(`http://localhost:${port}/`)}`,
    );
    assert.deepEqual(r.json(), { cookie: null });
  } finally {
    await other.close();
  }
});

test("a request hook can change the outgoing request", async () => {
  const session = new Session({
    hooks: {
      request: [(req) => {
        const headers = new Headers(req.headers);
        headers.set("X-Signed", `sig-${req.method}`);
        return new Request(req, { headers });
      }],
    },
  });
  const echoed = (await session.get(`${server.url}/echo`)).json() as Echo;
  assert.equal(header(echoed, "x-signed"), "sig-GET");
});

test("a response hook can refresh a token and send again", async () => {
  let refreshed = 0;
  const session = new Session({ auth: { bearer: "stale" } });
  session.hooks.response.push(async (r, again) => {
    if (r.status_code !== 401) return;
    refreshed++;
    session.auth = { bearer: "fresh" };
    return await again();
  });
  const r = await session.get(`${server.url}/token`);
  assert.equal(r.status_code, 200);
  assert.equal(r.content, "secret data");
  assert.equal(refreshed, 1);
});

test("retries re-send on a listed status until it succeeds", async () => {
  flakyHits = 0;
  const r = await requests.get(`${flaky.url}/?fails=2`, {
    retries: { total: 3, status_forcelist: [503] },
  });
  assert.equal(r.status_code, 200);
  assert.equal(r.content, "ok after 3");
  flakyHits = 0;
  const exhausted = await requests.get(`${flaky.url}/?fails=5`, {
    retries: { total: 2, status_forcelist: [503] },
  });
  assert.equal(exhausted.status_code, 503);
  assert.equal(flakyHits, 3);
});

test("retries: a number retries connection errors", async () => {
  const r = await requests.get(resets.url, { retries: 3 });
  assert.equal(r.content, "ok");
  assert.equal(resets.connections, 3);
});

test("retries skip non-idempotent methods unless allowed", async () => {
  flakyHits = 0;
  const post = await requests.post(`${flaky.url}/?fails=1`, {
    retries: { total: 2, status_forcelist: [503] },
  });
  assert.equal(post.status_code, 503);
  assert.equal(flakyHits, 1);
  flakyHits = 0;
  const allowed = await requests.post(`${flaky.url}/?fails=1`, {
    data: "x",
    retries: { total: 2, status_forcelist: [503], allowed_methods: ["POST"] },
  });
  assert.equal(allowed.status_code, 200);
});

test("retries never replay a streamed body", async () => {
  flakyHits = 0;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array([1]));
      c.close();
    },
  });
  const r = await requests.put(`${flaky.url}/?fails=1`, {
    data: stream,
    retries: { total: 2, status_forcelist: [503] },
  });
  assert.equal(r.status_code, 503);
  assert.equal(flakyHits, 1);
});

test("retries honour Retry-After, capped by backoff_max", async () => {
  flakyHits = 0;
  let started = performance.now();
  await requests.get(`${flaky.url}/?fails=1&retry_after=1`, {
    retries: { total: 1, status_forcelist: [503] },
  });
  let took = performance.now() - started;
  assert.ok(took >= 900 && took < 3000, `Retry-After: 1 took ${took} ms`);
  flakyHits = 0;
  started = performance.now();
  await requests.get(`${flaky.url}/?fails=1&retry_after=60`, {
    retries: { total: 1, status_forcelist: [503], backoff_max: 0.1 },
  });
  took = performance.now() - started;
  assert.ok(took < 1000, `capped Retry-After took ${took} ms`);
  flakyHits = 0;
  const date = new Date(Date.now() + 60_000).toUTCString();
  started = performance.now();
  await requests.get(`${flaky.url}/?fails=1&retry_after=${encodeURIComponent(date)}`, {
    retries: { total: 1, status_forcelist: [503], backoff_max: 0.2 },
  });
  took = performance.now() - started;
  assert.ok(took >= 150 && took < 1500, `HTTP-date Retry-After took ${took} ms`);
});

test("retries back off by backoff_factor * 2 ** (retry - 1) after the first", async () => {
  flakyHits = 0;
  const started = performance.now();
  await requests.get(`${flaky.url}/?fails=3`, {
    retries: { total: 3, status_forcelist: [503], backoff_factor: 0.05 },
  });
  const took = performance.now() - started;
  // 0 + 0.1 + 0.2 seconds
  assert.ok(took >= 280 && took < 2000, `took ${took} ms`);
});

test("retries options are validated", async () => {
  await assert.rejects(requests.get(server.url, { retries: -1 }), /'retries'/);
  await assert.rejects(
    requests.get(server.url, { retries: { backoff_factor: -1 } }),
    /'backoff_factor'/,
  );
});

test("verify with a CA bundle reaches a server of a private CA; plain requests still refuse", async () => {
  if (IS_NODE) {
    await using refused = new Session({ verify: pki.caFile });
    await assert.rejects(refused.get(`${tlsUrl}/private`), {
      name: "TypeError",
      message: NODE_REFUSES_VERIFY,
    });
    await assert.rejects(requests.get(`${tlsUrl}/plain`), requests.ConnectionError);
    return;
  }
  await using session = new Session({ verify: pki.caFile });
  const r = await session.get(`${tlsUrl}/private`);
  assert.deepEqual(r.json(), { path: "/private", tls: true });
  const again = await session.get(`${tlsUrl}/again`);
  assert.equal(again.status_code, 200);
  await assert.rejects(requests.get(`${tlsUrl}/plain`), requests.ConnectionError);
  const pem = await requests.get(`${tlsUrl}/pem`, { verify: pki.ca });
  assert.equal(pem.status_code, 200);
});

test("verify: false works where the runtime allows it and does not leak", async () => {
  if (IS_BUN) {
    const r = await requests.get(`${tlsUrl}/insecure`, { verify: false });
    assert.equal(r.status_code, 200);
    await assert.rejects(requests.get(`${tlsUrl}/strict`), requests.ConnectionError);
  } else {
    await assert.rejects(
      requests.get(`${tlsUrl}/insecure`, { verify: false }),
      (e: Error) => e instanceof TypeError && /'verify'/.test(e.message),
    );
  }
});

test("close() releases the session's clients and the session stays usable", async () => {
  if (IS_NODE) {
    const refused = new Session({ verify: pki.ca });
    await assert.rejects(refused.get(`${tlsUrl}/a`), {
      name: "TypeError",
      message: NODE_REFUSES_VERIFY,
    });
    refused.close();
    await assert.rejects(refused.get(`${tlsUrl}/b`), {
      name: "TypeError",
      message: NODE_REFUSES_VERIFY,
    });
    refused.close();
    return;
  }
  const session = new Session({ verify: pki.ca });
  assert.equal((await session.get(`${tlsUrl}/a`)).status_code, 200);
  session.close();
  assert.equal((await session.get(`${tlsUrl}/b`)).status_code, 200);
  session.close();
});

test("a call's cookies replace the jar's of the same name for that request: one pair", async () => {
  const s = new Session();
  s.cookies.set("foo", "bar");
  s.cookies.set("keep", "1");
  const echoed = (await s.get(`${server.url}/echo`, { cookies: { foo: "baz" } })).json() as Echo;
  assert.equal(header(echoed, "cookie"), "foo=baz; keep=1");
  const again = (await s.get(`${server.url}/echo`, { headers: { Cookie: "keep=2" } }))
    .json() as Echo;
  assert.equal(header(again, "cookie"), "keep=2; foo=bar");
  assert.equal(s.cookies.get("foo"), "bar");
});

test("Session({ cookies }) refuses what is neither a jar nor name-value pairs, naming the option", () => {
  for (const cookies of [5, "sid=1", ["sid", "1"], { sid: 1 }]) {
    assert.throws(
      () => new Session({ cookies: cookies as unknown as Record<string, string> }),
      (error: unknown) => error instanceof TypeError && /^Invalid 'cookies'/.test(error.message),
      JSON.stringify(cookies),
    );
  }
  assert.equal(new Session({ cookies: { sid: "1", gone: null } }).cookies.get("sid"), "1");
});
