// The module on a Workers runtime: bundles tests/workers/_worker.ts (which imports mod.ts) into
// one ES module with `deno bundle --platform browser`, and runs it in workerd through Miniflare
// (a dev-only dependency installed by tests/workers/deps/package.json, which brings workerd's
// binary from the npm registry), once with no compatibility flags and once with `nodejs_compat`.
// The Worker loads as a Workers user would load it (Miniflare collects its imports, as wrangler
// does), so a `node:` import anywhere in the bundle keeps it from loading without the flag. Each
// check runs requests in the Worker against httpbin and this runner's own server on loopback and
// returns data; node:test asserts on it here. It also checks SPEC D's rule on the graph of mod.ts.
//   node24 --test-reporter=spec tests/workers/run.ts   (tests/_run.ts runs it as "workers")
// HTTPBIN_URL is httpbin's base URL (started here under gunicorn when unset); DENO overrides the
// path of deno.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import zlib from "node:zlib";
import type { CheckName, Checks, Failure } from "./_worker.ts";

// The parts of Miniflare used here (its own types live in deps/node_modules, which `deno check`
// must not need).
interface Miniflare {
  ready: Promise<URL>;
  dispatchFetch(url: string): Promise<{ status: number; text(): Promise<string> }>;
  dispose(): Promise<void>;
}
interface MiniflareModule {
  Miniflare: new (options: Record<string, unknown>) => Miniflare;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const DENO = process.env.DENO || "deno";
const JSON_BODY = JSON.stringify({ decoded: true });
const deps = path.join(here, "deps", "node_modules");

/** The two ways a Worker can be configured that matter to the module. */
const CONFIGURATIONS = [
  { name: "no flags", run: "plain", flags: [] as string[] },
  { name: "nodejs_compat", run: "compat", flags: ["nodejs_compat"] },
] as const;

/** What the assertions get besides the check's value. */
interface Context {
  httpbin: string;
  side: string;
  run: string;
  /** The runner's server's record of this configuration's requests. */
  record: SideRecord;
}

type Value<K extends CheckName> = Awaited<ReturnType<Checks[K]>>;
type Expectations = { [K in CheckName]: [title: string, (value: Value<K>, c: Context) => void] };

function refusedTypeError(failure: Failure, pattern: RegExp): void {
  assert.equal(failure.typeError, true, `not a TypeError: ${failure.name}: ${failure.message}`);
  assert.match(failure.message, pattern);
}

const expectations: Expectations = {
  params: ["params are appended to the query, arrays repeated, null skipped", (v, c) => {
    assert.equal(v.url, `${c.httpbin}/get?q=two+words&n=1&many=a&many=b`);
    assert.deepEqual(v.args, { q: "two words", n: "1", many: ["a", "b"] });
  }],
  headers: ["headers are sent, and the response's header block reads", (v) => {
    assert.equal(v.sent["X-Custom"], "yes");
    assert.equal(v.sent["User-Agent"], "worker-check/1");
    assert.match(v.block, /^content-type: application\/json$/m);
  }],
  json: ["json is sent with its Content-Type and parsed back", (v) => {
    assert.deepEqual(v.json, { id: 1, name: "ünï", list: [1, 2] });
    assert.equal(v.contentType, "application/json");
  }],
  seedResponse: ["the seed's Response: status, reason, content, raise_for_status, by hand", (v) => {
    assert.equal(v.status, 200);
    assert.equal(v.reason, "OK");
    assert.equal(v.ok, true);
    assert.match(v.block, /^content-type: text\/plain/m);
    assert.equal(v.content, "User-agent: *\nDisallow: /deny\n");
    assert.equal(v.text, v.content);
    assert.equal(v.bytes, v.content.length);
    assert.equal(v.missing.status, 404);
    assert.equal(v.missing.ok, false);
    assert.equal(v.missing.raised?.name, "HTTPError");
    assert.deepEqual(v.built, { status: 200, reason: "OK", json: { id: 1 } });
  }],
  multipart: ["files and data go as one multipart body", (v) => {
    assert.match(v.contentType, /^multipart\/form-data; boundary=/);
    assert.deepEqual(v.form, { field: "v", many: ["1", "2"] });
    assert.deepEqual(v.files, { upload: "hello", blob: "bytes" });
  }],
  digest: ["HTTPDigestAuth answers the challenge, also after a redirect", (v) => {
    assert.equal(v.direct.status, 200);
    assert.deepEqual(v.direct.json, { authenticated: true, user: "user" });
    assert.deepEqual(v.direct.history.map((h) => h.status), [401]);
    // As on Deno and Bun (and in Python requests): the hops before the answered challenge.
    assert.equal(v.afterRedirect.status, 200);
    assert.deepEqual(v.afterRedirect.history, [302]);
    assert.equal(v.wrong, 401);
  }],
  timeouts: ["a slow server is a TimeoutError in time; a fast one is not", (v) => {
    assert.equal(v.slow.name, "TimeoutError", v.slow.message);
    assert.equal(v.slow.requestError, true);
    assert.ok(v.ms < 2500, `took ${v.ms} ms`);
    assert.equal(v.fast, 200);
  }],
  iterLines: ["stream: true with iter_lines() yields lines as they arrive", (v) => {
    assert.deepEqual(v.ids, [0, 1, 2, 3]);
    assert.deepEqual(v.lines.map(([line]) => line), ["alpha", "beta", "gamma"]);
    // "alpha" came before the 500 ms pause: a buffered body would yield all three at once.
    const [[, first], [, second]] = v.lines;
    assert.ok(second - first >= 250, `alpha at ${first} ms, beta at ${second} ms`);
  }],
  encodings: ["gzip, deflate, br and stacked codings arrive decoded", (v) => {
    const decoded = (text: string, field: string) => {
      try {
        return (JSON.parse(text) as Record<string, unknown>)[field] === true;
      } catch {
        return false;
      }
    };
    const outcome = Object.fromEntries(
      Object.entries(v).map(([coding, text]) => {
        const field = coding === "gzip" ? "gzipped" : coding === "deflate" ? "deflated" : "decoded";
        return [
          coding,
          decoded(text, field) ? "decoded" : `not decoded: ${JSON.stringify(text.slice(0, 40))}`,
        ];
      }),
    );
    const codings = [
      "gzip",
      "deflate",
      "x-gzip",
      "br",
      "gzip, gzip",
      "identity, gzip",
      "deflate, gzip",
    ];
    assert.deepEqual(outcome, Object.fromEntries(codings.map((c) => [c, "decoded"])));
  }],
  uploadProgress: ["upload_progress counts a streamed upload", (v) => {
    assert.equal(v.received, 100_000);
    assert.deepEqual(v.seen.at(-1), [100_000, 100_000]);
    assert.ok(v.seen.length >= 2, `called ${v.seen.length} time(s)`);
    for (let i = 1; i < v.seen.length; i++) assert.ok(v.seen[i][0] >= v.seen[i - 1][0]);
  }],
  tlsOptions: [
    "verify, cert and proxies are TypeErrors naming the option; nothing is sent",
    (v, c) => {
      const [noVerify, bundle, cert, proxies, session] = v;
      refusedTypeError(noVerify, /^Option 'verify' is not supported on this runtime/);
      refusedTypeError(bundle, /^Option 'verify' is not supported on this runtime/);
      refusedTypeError(cert, /^Option 'cert' is not supported on this runtime/);
      refusedTypeError(proxies, /^Option 'proxies' is not supported on this runtime/);
      refusedTypeError(session, /^Option 'verify' is not supported on this runtime/);
      assert.deepEqual(c.record.logged, []);
    },
  ],
  redirects: ["redirects are followed by the module: history, max_redirects, 303", (v, c) => {
    assert.equal(v.status, 200);
    assert.equal(v.url, `${c.httpbin}/get`);
    assert.deepEqual(v.history.map((h) => [h.status, h.url]), [
      [302, `${c.httpbin}/redirect/2`],
      [302, `${c.httpbin}/relative-redirect/1`],
    ]);
    assert.equal(v.nested, 1);
    assert.deepEqual(v.manual, { status: 302, location: "/get" });
    assert.equal(v.tooMany.name, "TooManyRedirectsError", v.tooMany.message);
    assert.deepEqual(v.tooMany.response, { status: 302, history: [302, 302] });
    assert.deepEqual(v.after303, { method: "GET", data: "", history: 1 });
  }],
  credentials: ["credentials go on a same-origin redirect and are dropped cross-origin", (v) => {
    assert.match(v.same.Authorization ?? "", /^Basic /);
    assert.equal(v.same["X-Api-Key"], "k-1");
    assert.equal(v.crossHistory, 1);
    assert.equal(v.cross["authorization"], undefined);
    assert.equal(v.cross["x-api-key"], undefined);
    assert.equal(v.cross["x-kept"], "kept");
  }],
  sessionCookies: ["a Session keeps a cookie set on a redirect hop, and deletes it", (v) => {
    assert.deepEqual(v.history.map((h) => [h.status, h.cookies]), [[302, { flavour: "oat" }]]);
    assert.deepEqual(v.final, { flavour: "oat" });
    assert.equal(v.jar, "oat");
    assert.deepEqual(v.later, { flavour: "oat" });
    assert.equal(v.afterDelete.jar, null);
    assert.deepEqual(v.afterDelete.sent.cookies, {});
  }],
  events: ["events() reconnects with Last-Event-ID and ends on a 204", (v, c) => {
    assert.deepEqual(v.map(({ event, data, id }) => ({ event, data, id })), [
      { event: "greet", data: "one\ntwo", id: "1" },
      { event: "message", data: "three", id: "2" },
    ]);
    assert.equal(v[0].retry, 50);
    assert.deepEqual(c.record.events, [
      { accept: "text/event-stream", lastEventId: null },
      { accept: "text/event-stream", lastEventId: "1" },
      { accept: "text/event-stream", lastEventId: "2" },
    ]);
  }],
  httpCache: [
    "an HttpCache with the memory store serves a hit; SqliteCacheStore is a TypeError",
    (v) => {
      assert.equal(v.first.fromCache, false);
      assert.match(v.first.status ?? "", /^requests; fwd=uri-miss; fwd-status=200; stored$/);
      assert.equal(v.second.fromCache, true);
      assert.match(v.second.status ?? "", /^requests; hit; ttl=\d+$/);
      assert.ok(v.sameBody);
      assert.equal(v.session, true);
      refusedTypeError(v.sqlite, /^SqliteCacheStore needs the runtime's SQLite/);
    },
  ],
  bodyOnGet: ["a body on GET or HEAD is a TypeError naming the option; nothing is sent", (v, c) => {
    const [data, json, files] = v;
    refusedTypeError(data, /\bGET\b.*'data'/);
    refusedTypeError(json, /\bHEAD\b.*'json'/);
    refusedTypeError(files, /\bGET\b.*'files'/);
    assert.deepEqual(c.record.logged, []);
  }],
};

// ---- the runner's server: what httpbin cannot do

/** What the runner's server saw from one configuration's Worker. */
interface SideRecord {
  /** Each event-stream connection: its Accept and Last-Event-ID. */
  events: { accept: string | null; lastEventId: string | null }[];
  /** The paths of requests to /log/...: requests that should never have been sent. */
  logged: string[];
}

function sideServer(records: Map<string, SideRecord>): http.Server {
  const recordOf = (run: string) => {
    let record = records.get(run);
    if (record === undefined) records.set(run, record = { events: [], logged: [] });
    return record;
  };
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://side");
    const logged = /^\/log\/([^/]+)\//.exec(url.pathname);
    if (logged !== null) {
      recordOf(logged[1]).logged.push(`${req.method} ${url.pathname}`);
      return res.writeHead(200).end("sent");
    }
    switch (url.pathname) {
      case "/events":
        return eventStream(req, res, recordOf(url.searchParams.get("run") ?? ""));
      case "/echo":
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify(req.headers));
      case "/encoded":
        return encoded(res, url.searchParams.get("coding") ?? "");
      case "/lines":
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("alpha\n");
        setTimeout(() => res.end("beta\ngamma"), 500);
        return;
    }
    res.writeHead(404).end("no such route");
  });
}

/** JSON_BODY with each coding of `coding` applied, left to right (the first is innermost). */
function encoded(res: http.ServerResponse, coding: string) {
  let body: Uint8Array = Buffer.from(JSON_BODY);
  for (const c of coding.split(",").map((part) => part.trim())) {
    if (c === "gzip" || c === "x-gzip") body = zlib.gzipSync(body);
    else if (c === "deflate") body = zlib.deflateSync(body);
    else if (c === "br") body = zlib.brotliCompressSync(body);
  }
  res.writeHead(200, { "content-type": "application/json", "content-encoding": coding });
  res.end(body);
}

/** Two events, a dropped connection, one more event, then a 204 that ends the stream. */
function eventStream(req: http.IncomingMessage, res: http.ServerResponse, record: SideRecord) {
  const header = (name: string) => (req.headers[name] as string | undefined) ?? null;
  record.events.push({ accept: header("accept"), lastEventId: header("last-event-id") });
  const head = { "content-type": "text/event-stream", "cache-control": "no-store" };
  switch (record.events.length) {
    case 1:
      return res.writeHead(200, head).end(
        "retry: 50\nid: 1\nevent: greet\ndata: one\ndata: two\n\n",
      );
    case 2:
      return res.writeHead(200, head).end("id: 2\ndata: three\n\n");
    default:
      return res.writeHead(204).end();
  }
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    });
  });
}

/** httpbin under gunicorn on a free loopback port (Debian's python3-httpbin and gunicorn). */
async function startHttpbin(): Promise<{ url: string; stop(): void }> {
  const probe = http.createServer();
  const port = Number(new URL(await listen(probe)).port);
  await new Promise((resolve) => probe.close(resolve));
  const args = ["-m", "gunicorn", "-b", `127.0.0.1:${port}`, "--threads", "16", "httpbin:app"];
  const child = spawn("/usr/bin/python3", args, { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => void child.kill("SIGTERM");
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${url}/get`);
      await res.body?.cancel();
      if (res.ok) return { url, stop };
    } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  stop();
  throw new Error(`httpbin did not start on ${url} (install python3-httpbin and gunicorn)`);
}

// ---- the module graph (SPEC D)

interface DenoInfo {
  modules: {
    specifier: string;
    dependencies?: { specifier: string; code?: { specifier: string }; isDynamic?: boolean }[];
  }[];
}

/** Every code (not type-only) import of a `node:` or `bun:` module in the graph of mod.ts. */
function builtinImports(): string[] {
  const out = execFileSync(DENO, ["info", "--json", "mod.ts"], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 << 20,
  });
  const info = JSON.parse(out.toString("utf8")) as DenoInfo;
  const found: string[] = [];
  for (const module of info.modules) {
    for (const dependency of module.dependencies ?? []) {
      const target = dependency.code?.specifier;
      if (target === undefined || !/^(node|bun):/.test(target)) continue;
      const file = path.relative(root, fileURLToPath(module.specifier));
      found.push(`${file}: ${dependency.isDynamic ? `import("${target}")` : `import "${target}"`}`);
    }
  }
  return found;
}

test("the graph of mod.ts imports no node: or bun: module, statically or dynamically", () => {
  assert.deepEqual(builtinImports(), []);
});

// ---- the Worker

function bundleWorker(dir: string): string {
  // .mjs: Miniflare's default module rules take .js for CommonJS.
  const out = path.join(dir, "worker.mjs");
  const args = [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "-o",
    out,
    "tests/workers/_worker.ts",
  ];
  execFileSync(DENO, args, {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  return out;
}

async function loadMiniflare(): Promise<[MiniflareModule, string]> {
  const entry = path.join(deps, "miniflare", "dist", "src", "index.js");
  if (!fs.existsSync(entry)) {
    throw new Error(`Miniflare is not installed (no ${entry}): npm ci --prefix tests/workers/deps`);
  }
  const miniflare = await import(pathToFileURL(entry).href) as MiniflareModule;
  // The newest date this workerd knows: what a new Workers project gets.
  const workerd = path.join(deps, "workerd", "lib", "main.js");
  const { compatibilityDate } = await import(pathToFileURL(workerd).href) as {
    compatibilityDate: string;
  };
  return [miniflare, compatibilityDate];
}

/** Runs one check in the Worker and returns its value; a throw in the Worker fails the test. */
async function runCheck(worker: Miniflare, name: CheckName): Promise<unknown> {
  const res = await worker.dispatchFetch(`http://worker.test/${name}`);
  const text = await res.text();
  let body: { value?: unknown; thrown?: string };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`The Worker answered ${res.status}, not JSON: ${text.slice(0, 2000)}`);
  }
  if (body.thrown !== undefined) throw new Error(`The check threw in the Worker: ${body.thrown}`);
  return body.value;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "requests-workers-"));
const records = new Map<string, SideRecord>();
const side = sideServer(records);
let sideUrl = "";
let httpbinUrl = process.env.HTTPBIN_URL || "";
let stopHttpbin = () => {};
let script = "";
let loaded: [MiniflareModule, string] | null = null;

before(async () => {
  sideUrl = await listen(side);
  if (httpbinUrl === "") {
    const httpbin = await startHttpbin();
    httpbinUrl = httpbin.url;
    stopHttpbin = httpbin.stop;
  }
  script = bundleWorker(dir);
  loaded = await loadMiniflare();
}, { timeout: 60_000 });

after(() => {
  stopHttpbin();
  side.closeAllConnections();
  side.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

for (const configuration of CONFIGURATIONS) {
  describe(`workerd, ${configuration.name}`, () => {
    let worker: Miniflare | null = null;
    before(async () => {
      assert.ok(loaded !== null, "Miniflare was not loaded");
      const [{ Miniflare }, compatibilityDate] = loaded;
      worker = new Miniflare({
        modules: true,
        scriptPath: script,
        modulesRoot: dir,
        compatibilityDate,
        compatibilityFlags: configuration.flags,
        bindings: { HTTPBIN: httpbinUrl, SIDE: sideUrl, RUN: configuration.run },
      });
      await worker.ready;
    }, { timeout: 60_000 });
    after(async () => {
      await worker?.dispose();
    });
    test("the Worker loads", () => {
      assert.ok(worker !== null);
    });
    for (const [name, [title, expect]] of Object.entries(expectations)) {
      test(title, { timeout: 30_000 }, async () => {
        assert.ok(worker !== null, "The Worker did not load");
        const value = await runCheck(worker, name as CheckName);
        const record = records.get(configuration.run) ?? { events: [], logged: [] };
        const check = expect as (value: unknown, c: Context) => void;
        check(value, { httpbin: httpbinUrl, side: sideUrl, run: configuration.run, record });
      });
    }
  });
}
