// The module in a real browser: bundles mod.ts with `deno bundle`, serves a page and a
// CORS-enabled API on two loopback origins, and drives Debian's Chromium (headless) through
// playwright-core, a dev-only dependency installed by tests/browser/deps/package.json (kept there
// so that no package.json governs this file, and never at the repository root). Each test runs
// requests in the page against the real API and asserts on what comes back.
//   node tests/browser/run.ts       (Node 22.6+; tests/_run.ts runs it as its "browser" step)
// DENO and CHROMIUM override the paths of deno and of the browser. The last line printed is
// "browser: N passed, M failed".

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import zlib from "node:zlib";

type Requests = typeof import("../../mod.ts");

/** What a test gets in the page. */
interface Context {
  /** The API's origin (another port: every request is cross-origin, under CORS). */
  api: string;
  /** A URL where nothing listens. */
  closed: string;
}

/** A test: `inPage` runs in Chromium and returns plain data; `check` asserts on it here. */
interface BrowserTest<T> {
  name: string;
  inPage: (context: Context) => Promise<T>;
  check: (result: T, context: Context) => void;
}

// The parts of playwright-core used here (its own types live in deps/node_modules, which
// `deno check` must not need).
interface Page {
  goto(url: string): Promise<unknown>;
  waitForFunction(
    fn: () => boolean,
    arg: undefined,
    options: { timeout: number },
  ): Promise<unknown>;
  evaluate<T, A>(fn: (arg: A) => Promise<T>, arg: A): Promise<T>;
  on(event: "pageerror", listener: (error: Error) => void): void;
}
interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Chromium {
  launchPersistentContext(userDataDir: string, options: {
    executablePath: string;
    headless: boolean;
    args: string[];
    timeout: number;
  }): Promise<BrowserContext>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const JSON_BODY = JSON.stringify({ decoded: true });

const tests: BrowserTest<unknown>[] = [];
function test<T>(
  name: string,
  inPage: (context: Context) => Promise<T>,
  check: (result: T, context: Context) => void,
): void {
  tests.push({ name, inPage, check } as BrowserTest<unknown>);
}

// Every `inPage` function is sent to the page as source text: it can use only its argument and
// the module that the page put on globalThis.

test("get() returns status, reason, the header block, JSON and params", async ({ api }) => {
  const { requests } = globalThis as unknown as { requests: Requests };
  const r = await requests.get(`${api}/json?x=1`, { params: { y: "two words" } });
  return {
    status: r.status_code,
    reason: r.reason,
    ok: r.ok,
    url: r.url,
    headers: r.headers,
    json: r.json(),
    history: r.history.length,
  };
}, (r, { api }) => {
  assert.equal(r.status, 200);
  assert.equal(r.reason, "OK");
  assert.equal(r.ok, true);
  assert.equal(r.url, `${api}/json?x=1&y=two+words`);
  assert.match(r.headers, /^content-type: application\/json$/m);
  assert.match(r.headers, /^x-api: yes$/m);
  assert.deepEqual(r.json, { hello: "browser", query: "?x=1&y=two+words" });
  assert.equal(r.history, 0);
});

test("post() sends JSON with its Content-Type, through a CORS preflight", async ({ api }) => {
  const { requests } = globalThis as unknown as { requests: Requests };
  const r = await requests.post(`${api}/echo`, { json: { id: 1, name: "ünï" } });
  return r.json();
}, (echo) => {
  assert.deepEqual(echo, {
    method: "POST",
    path: "/echo",
    contentType: "application/json",
    authorization: null,
    source: null,
    body: '{"id":1,"name":"ünï"}',
    preflighted: true,
  });
});

test("post() sends a form and a multipart file", async ({ api }) => {
  const { requests } = globalThis as unknown as { requests: Requests };
  const form = await requests.post(`${api}/echo`, { data: { a: "1", b: "x y" } });
  const multipart = await requests.post(`${api}/echo`, {
    data: { field: "v" },
    files: { upload: ["notes.txt", "hello", "text/plain"] },
  });
  return { form: form.json(), multipart: multipart.json() };
}, ({ form, multipart }) => {
  const f = form as { contentType: string; body: string };
  assert.equal(f.contentType, "application/x-www-form-urlencoded");
  assert.equal(f.body, "a=1&b=x+y");
  const m = multipart as { contentType: string; body: string };
  assert.match(m.contentType, /^multipart\/form-data; boundary=/);
  assert.match(m.body, /name="field"\r\n\r\nv\r\n/);
  assert.match(
    m.body,
    /name="upload"; filename="notes.txt"\r\nContent-Type: text\/plain\r\n\r\nhello/,
  );
});

test(
  "a redirect is followed by the browser: final URL and body, history empty",
  async ({ api }) => {
    const { requests } = globalThis as unknown as { requests: Requests };
    const r = await requests.get(`${api}/redirect?to=/json`);
    const manual = await requests.get(`${api}/redirect?to=/json`, { allow_redirects: false })
      .catch((e: Error) => e);
    return {
      status: r.status_code,
      url: r.url,
      history: r.history.length,
      json: r.json(),
      manual: manual instanceof requests.RequestError ? manual.message : String(manual),
    };
  },
  (r, { api }) => {
    assert.equal(r.status, 200);
    assert.equal(r.url, `${api}/json`);
    assert.equal(r.history, 0);
    assert.deepEqual(r.json, { hello: "browser", query: "" });
    assert.match(r.manual, /^Cannot report the redirect: .*hides redirect responses/);
    assert.ok(r.manual.endsWith(`: GET ${api}/redirect?to=/json`), r.manual);
  },
);

test("a Session with a request hook has its redirects followed by the browser", async ({ api }) => {
  const { requests } = globalThis as unknown as { requests: Requests };
  const seen: string[] = [];
  const session = new requests.Session({
    hooks: { request: [(req: Request) => void seen.push(`${req.method} ${req.redirect}`)] },
  });
  const r = await session.get(`${api}/redirect?to=/json`).catch((e: Error) => e);
  session.close();
  return r instanceof Error
    ? { error: r.message }
    : { status: r.status_code, url: r.url, json: r.json(), seen };
}, (r, { api }) => {
  assert.deepEqual(r, {
    status: 200,
    url: `${api}/json`,
    json: { hello: "browser", query: "" },
    seen: ["GET follow"],
  });
});

test("a Session sends its base_url, default headers and Basic auth", async ({ api }) => {
  const { requests } = globalThis as unknown as { requests: Requests };
  const session = new requests.Session({
    base_url: `${api}/v1/`,
    headers: { "X-Source": "browser" },
    auth: ["user", "pässwörd"],
  });
  const first = await session.get("echo");
  session.headers.set("X-Source", "changed");
  const second = await session.post("echo", { data: "raw" });
  session.close();
  return [first.json(), second.json()];
}, ([first, second]) => {
  assert.deepEqual(first, {
    method: "GET",
    path: "/v1/echo",
    contentType: null,
    authorization: `Basic ${Buffer.from("user:pässwörd").toString("base64")}`,
    source: "browser",
    body: "",
    preflighted: true,
  });
  assert.equal((second as { source: string }).source, "changed");
  assert.equal((second as { body: string }).body, "raw");
});

test("a refused connection is a ConnectionError naming the request", async ({ closed }) => {
  const { requests } = globalThis as unknown as { requests: Requests };
  const error = await requests.get(closed).catch((e: Error) => e);
  return {
    connection: error instanceof requests.ConnectionError,
    base: error instanceof requests.RequestError,
    message: error instanceof Error ? error.message : String(error),
  };
}, (r, { closed }) => {
  assert.equal(r.connection, true, r.message);
  assert.equal(r.base, true);
  assert.ok(r.message.endsWith(`: GET ${closed}`), r.message);
});

test(
  "verify, cert and proxies are TypeErrors naming the option and the browser",
  async ({ api }) => {
    const { requests } = globalThis as unknown as { requests: Requests };
    const pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
    const options = [
      { verify: false },
      { verify: pem },
      { cert: [pem, "-----BEGIN PRIVATE KEY-----"] as const },
      { proxies: { https: "http://127.0.0.1:3128" } },
    ];
    const out: string[] = [];
    for (const option of options) {
      const error = await requests.get(`${api}/json`, option).catch((e: Error) => e);
      out.push(error instanceof TypeError ? error.message : `not a TypeError: ${error}`);
    }
    const session = new requests.Session({ verify: false });
    const fromSession = await session.get(`${api}/json`).catch((e: Error) => e);
    out.push(fromSession instanceof TypeError ? fromSession.message : String(fromSession));
    return out;
  },
  (messages) => {
    const refused = (option: string, field: string) =>
      `Option '${option}' is not supported on this runtime (a browser): it needs ` +
      `Deno.createHttpClient or Bun's fetch '${field}' option`;
    assert.deepEqual(messages, [
      refused("verify", "tls"),
      refused("verify", "tls"),
      refused("cert", "tls"),
      refused("proxies", "proxy"),
      refused("verify", "tls"),
    ]);
  },
);

test(
  "raise_for_status() on a 404 is an HTTPError; a slow server is a TimeoutError",
  async ({ api }) => {
    const { requests } = globalThis as unknown as { requests: Requests };
    const missing = await requests.get(`${api}/status/404`);
    let raised: unknown = null;
    try {
      missing.raise_for_status();
    } catch (error) {
      raised = error;
    }
    const started = performance.now();
    const slow = await requests.get(`${api}/slow`, { timeout: 0.2 }).catch((e: Error) => e);
    return {
      status: missing.status_code,
      reason: missing.reason,
      httpError: raised instanceof requests.HTTPError,
      timeout: slow instanceof requests.TimeoutError,
      ms: performance.now() - started,
    };
  },
  (r) => {
    assert.equal(r.status, 404);
    assert.equal(r.reason, "Not Found");
    assert.equal(r.httpError, true);
    assert.equal(r.timeout, true);
    assert.ok(r.ms < 1500, `took ${r.ms} ms`);
  },
);

test("stream: true yields lines as they arrive, and progress reports them", async ({ api }) => {
  const { requests } = globalThis as unknown as { requests: Requests };
  const seen: number[] = [];
  const r = await requests.get(`${api}/lines`, {
    stream: true,
    progress: (loaded) => seen.push(loaded),
  });
  const lines: string[] = [];
  for await (const line of r.iter_lines()) lines.push(line);
  return { lines, loaded: seen.at(-1) };
}, (r) => {
  assert.deepEqual(r.lines, ["alpha", "beta", "gamma"]);
  assert.equal(r.loaded, "alpha\nbeta\ngamma".length);
});

// Chromium decodes a chain only when it knows every coding in it: it leaves "identity, gzip"
// (and so the gzip) to the module.
test("gzip, stacked gzip and 'identity, gzip' all arrive decoded", async ({ api }) => {
  const { requests } = globalThis as unknown as { requests: Requests };
  const bodies: unknown[] = [];
  for (const coding of ["gzip", "gzip, gzip", "identity, gzip"]) {
    const r = await requests.get(`${api}/encoded`, { params: { coding } });
    bodies.push(r.json());
  }
  return bodies;
}, (bodies) => {
  assert.deepEqual(bodies, [{ decoded: true }, { decoded: true }, { decoded: true }]);
});

test("paginate() follows Link headers in the page, items validated by a schema", async () => {
  const { requests } = globalThis as unknown as { requests: Requests };
  const fetch = (req: Request) => {
    const page = Number(new URL(req.url).searchParams.get("page") ?? 1);
    const headers = page < 3 ? { link: `</items?page=${page + 1}>; rel="NEXT"` } : undefined;
    return Response.json([page * 10, page * 10 + 1], { headers });
  };
  const Doubled: import("../../mod.ts").StandardSchemaV1<unknown, number> = {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (value) =>
        typeof value === "number" ? { value: value * 2 } : { issues: [{ message: "NaN" }] },
    },
  };
  const items: number[] = [];
  const walk = requests.paginate("http://pages.test/items", {
    fetch,
    pagination: { schema: Doubled },
  });
  for await (const item of walk) items.push(item);
  return items;
}, (items) => {
  assert.deepEqual(items, [20, 22, 40, 42, 60, 62]);
});

test("a cookie jar has no file in a browser: save() and load() say so; JSON works", async () => {
  const { requests } = globalThis as unknown as { requests: Requests };
  const jar = new requests.CookieJar();
  jar.set("sid", "42", { domain: "example.com" });
  const failure = (e: Error) => `${e.name}: ${e.message}`;
  const save = await jar.save("cookies.txt").then(() => "saved", failure);
  const load = await requests.CookieJar.load("cookies.txt").then(() => "loaded", failure);
  const again = requests.CookieJar.fromJSON(JSON.parse(JSON.stringify(jar)));
  return { save, load, header: again.cookieHeader("http://www.example.com/") };
}, (r) => {
  assert.deepEqual(r, {
    save: "TypeError: Cannot use 'jar.save()': this runtime has no file access",
    load: "TypeError: Cannot use 'CookieJar.load()': this runtime has no file access",
    header: "sid=42",
  });
});

// ---- servers

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    });
  });
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The API: answers cross-origin requests from the page's origin, with CORS. */
function api(pageOrigin: () => string): http.Server {
  const preflights = new Set<string>();
  return http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://api");
    if (req.headers.origin === pageOrigin()) {
      res.setHeader("access-control-allow-origin", pageOrigin());
      res.setHeader("access-control-expose-headers", "*");
      res.setHeader("vary", "origin");
    }
    if (req.method === "OPTIONS") {
      preflights.add(`${req.headers["access-control-request-method"]} ${url.pathname}`);
      res.setHeader("access-control-allow-methods", "GET, HEAD, POST, PUT, PATCH, DELETE");
      res.setHeader(
        "access-control-allow-headers",
        req.headers["access-control-request-headers"] ?? "",
      );
      res.setHeader("access-control-max-age", "0");
      return res.writeHead(204).end();
    }
    const json = (value: unknown) =>
      res.writeHead(200, { "content-type": "application/json", "x-api": "yes" })
        .end(JSON.stringify(value));
    switch (url.pathname) {
      case "/json":
        return json({ hello: "browser", query: url.search });
      case "/echo":
      case "/v1/echo":
        return json({
          method: req.method,
          path: url.pathname,
          contentType: req.headers["content-type"] ?? null,
          authorization: req.headers.authorization ?? null,
          source: req.headers["x-source"] ?? null,
          body: await readBody(req),
          preflighted: preflights.has(`${req.method} ${url.pathname}`),
        });
      case "/redirect":
        return res.writeHead(302, { location: url.searchParams.get("to") ?? "/json" }).end();
      case "/slow": {
        const timer = setTimeout(() => res.end("late"), 3000);
        res.on("close", () => clearTimeout(timer));
        return;
      }
      case "/lines":
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("alpha\nbe");
        setTimeout(() => res.end("ta\ngamma"), 50);
        return;
      case "/encoded": {
        const coding = url.searchParams.get("coding") ?? "";
        let body: Uint8Array = Buffer.from(JSON_BODY);
        for (const c of coding.split(",")) if (c.trim() === "gzip") body = zlib.gzipSync(body);
        res.writeHead(200, { "content-type": "application/json", "content-encoding": coding });
        return res.end(body);
      }
    }
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status !== null) return res.writeHead(Number(status[1])).end("status");
    res.writeHead(404).end("no such route");
  });
}

/** The page: loads the bundle as a module and puts it on globalThis. */
function site(bundle: string): http.Server {
  return http.createServer((req, res) => {
    if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return res.end(
        '<!doctype html><meta charset="utf-8"><title>requests</title>\n' +
          '<script type="module">import * as requests from "./requests.js";\n' +
          "globalThis.requests = requests;</script>\n",
      );
    }
    if (req.url === "/requests.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      return res.end(bundle);
    }
    res.writeHead(404).end();
  });
}

async function closedUrl(): Promise<string> {
  const server = http.createServer();
  const url = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return `${url}/refused`;
}

// ---- run

async function loadChromium(): Promise<Chromium> {
  const entry = path.join(here, "deps", "node_modules", "playwright-core", "index.mjs");
  if (!fs.existsSync(entry)) {
    throw new Error(
      `playwright-core is not installed (no ${entry}): npm ci --prefix tests/browser/deps`,
    );
  }
  const playwright = await import(pathToFileURL(entry).href) as { chromium: Chromium };
  return playwright.chromium;
}

function bundleModule(dir: string): string {
  const out = path.join(dir, "requests.js");
  const args = ["bundle", "--quiet", "--platform", "browser", "-o", out, "mod.ts"];
  execFileSync(process.env.DENO || "deno", args, {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  return fs.readFileSync(out, "utf8");
}

async function main(): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "requests-browser-"));
  const servers: http.Server[] = [];
  let context: BrowserContext | null = null;
  let passed = 0;
  let failed = 0;
  try {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`No Chromium at ${CHROMIUM}: install Debian's 'chromium' package`);
    }
    const chromium = await loadChromium();
    const started = performance.now();
    const bundle = bundleModule(dir);
    let pageOrigin = "";
    const apiServer = api(() => pageOrigin);
    const siteServer = site(bundle);
    servers.push(apiServer, siteServer);
    const ctx: Context = { api: await listen(apiServer), closed: await closedUrl() };
    pageOrigin = await listen(siteServer);
    // A persistent context with a fresh temp profile: Chromium's own --user-data-dir.
    context = await chromium.launchPersistentContext(path.join(dir, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
    const page = await context.newPage();
    const pageErrors: Error[] = [];
    page.on("pageerror", (error) => pageErrors.push(error));
    await page.goto(`${pageOrigin}/`);
    await page.waitForFunction(() => "requests" in globalThis, undefined, { timeout: 20_000 });
    const setup = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`browser: ${CHROMIUM}, page ${pageOrigin}, API ${ctx.api} (ready in ${setup} s)`);
    for (const t of tests) {
      const t0 = performance.now();
      try {
        t.check(await page.evaluate(t.inPage, ctx), ctx);
        passed++;
        console.log(`✔ ${t.name} (${Math.round(performance.now() - t0)} ms)`);
      } catch (error) {
        failed++;
        console.log(`✖ ${t.name}\n  ${String(error).replaceAll("\n", "\n  ")}`);
      }
    }
    for (const error of pageErrors) {
      failed++;
      console.log(`✖ uncaught error in the page: ${error}`);
    }
  } catch (error) {
    failed++;
    console.log(
      `✖ the browser test could not run: ${error instanceof Error ? error.stack : error}`,
    );
  } finally {
    await context?.close().catch(() => {});
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

// A hung browser must not hang the suite.
const watchdog = setTimeout(() => {
  console.log("✖ the browser test did not finish within 180 s\nbrowser: 0 passed, 1 failed");
  process.exit(1);
}, 180_000);
const code = await main();
clearTimeout(watchdog);
process.exit(code);
