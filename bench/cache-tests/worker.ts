// One configuration of the cache-tests run, in a process of its own (as undici's
// test/cache-interceptor/cache-tests-worker.mjs does): the suite's server on a loopback port,
// the suite's client with `fetch` answered by the cache under test, its results written as the
// suite writes them (test id -> true | [error name, message]).
//
// Started by run.ts with CACHE_TESTS_ENV set; not meant to be run by hand.

import { AsyncLocalStorage } from "node:async_hooks";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** What run.ts asks of this process. */
export interface Environment {
  /** The configuration's name, e.g. "requests-private". */
  name: string;
  client: "requests" | "undici";
  shared: boolean;
  store: "memory" | "sqlite";
  /**
   * "browser": the suite's client as undici runs it (the cache under test is the client's
   * own). "proxy": the suite's other client, made for a cache between it and the server: it
   * adds `Cache-Control: nothing-to-see-here` and `Pragma: foo` to every request and runs the
   * tests that skip browsers (3xx with `redirect: "manual"`, shared-only ones, the CDN ones).
   */
  mode: "browser" | "proxy";
  /** The suite checkout (http-tests/cache-tests). */
  suite: string;
  /** Where the results go. */
  out: string;
}

/** What the suite's client passes to fetch (test-engine/client/fetching.mjs). */
interface SuiteInit {
  method?: string;
  headers?: [string, string][];
  body?: string;
  redirect?: RequestRedirect;
  cache?: RequestCache;
  signal?: AbortSignal;
}

/**
 * The request headers a fetch with this init sends, as the Fetch standard's "HTTP-network-or-
 * cache fetch" turns its cache mode into header fields: requests has no cache modes, its callers
 * write the fields. The suite uses `cache: "no-cache"` (two browser tests); any other mode
 * would need more than fields, and stops the run.
 */
function fieldsOf(init: SuiteInit, mode: Environment["mode"]): [string, string][] {
  const headers = [...init.headers ?? []];
  // The proxy client's cache mode is for a browser cache in front of the one under test: none.
  if (mode === "proxy") return headers;
  const has = (name: string) => headers.some(([key]) => key.toLowerCase() === name);
  if (init.cache === "no-cache" && !has("cache-control")) {
    headers.push(["cache-control", "max-age=0"]);
  } else if (
    init.cache !== undefined && init.cache !== "default" &&
    init.cache !== "no-cache"
  ) {
    throw new Error(
      `The runner has no translation of fetch's cache mode "${init.cache}"`,
    );
  }
  return headers;
}

const here = path.dirname(new URL(import.meta.url).pathname);
const env = JSON.parse(process.env.CACHE_TESTS_ENV ?? "null") as Environment | null;
if (env === null) throw new Error("CACHE_TESTS_ENV is not set: run bench/cache-tests/run.ts");

let scratchDir: string | undefined;

/** A directory for this run's SQLite files, removed at the end. */
function scratch(): string {
  return scratchDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "cache-tests-"));
}

function suite(file: string): Promise<Record<string, unknown>> {
  return import(pathToFileURL(path.join(env!.suite, file)).href);
}

/**
 * The suite's server (test-engine/server/server.mjs dispatches the same way to the same
 * handlers), listening on 127.0.0.1 only: server.mjs listens on every interface.
 */
async function startServer(): Promise<{ base: string; server: http.Server }> {
  const handler = async (name: string) =>
    (await suite(`test-engine/server/${name}.mjs`)).default as (
      segs: string[],
      req: http.IncomingMessage,
      res: http.ServerResponse,
    ) => void;
  const handlers: Record<string, Awaited<ReturnType<typeof handler>>> = {
    config: await handler("handle-config"),
    test: await handler("handle-test"),
    state: await handler("handle-state"),
  };
  const server = http.createServer((req, res) => {
    const segs = new URL(req.url ?? "/", "http://127.0.0.1").pathname.split("/");
    segs.shift();
    const handle = handlers[segs.shift() ?? ""];
    if (handle === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found\n");
    } else handle(segs, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  return { base: `http://127.0.0.1:${port}`, server };
}

/**
 * `fetch` for the suite's client answered by requests with an HttpCache. The module's own
 * transport calls the global fetch too: inside a call it gets the runtime's, never this one.
 */
async function requestsFetch(e: Environment): Promise<void> {
  const requests = await import(pathToFileURL(path.join(here, "../../mod.ts")).href);
  const store = e.store === "sqlite"
    ? new requests.SqliteCacheStore(path.join(scratch(), "http-cache.sqlite"))
    : new requests.MemoryCacheStore();
  const cache = new requests.HttpCache({ store, shared: e.shared });
  const native = globalThis.fetch;
  const inside = new AsyncLocalStorage<true>();
  const viaRequests = async (url: string, init: SuiteInit = {}) => {
    const r = await requests.request(init.method ?? "GET", url, {
      headers: fieldsOf(init, e.mode),
      data: init.body ?? null,
      signal: init.signal ?? null,
      allow_redirects: init.redirect !== "manual",
      cache,
    });
    // What the suite reads of a fetch Response: status, statusText, headers, text().
    const text = r.text as string;
    return {
      status: r.status_code as number,
      statusText: r.reason as string,
      headers: (r.raw as globalThis.Response).headers,
      text: () => Promise.resolve(text),
    };
  };
  globalThis.fetch =
    ((input: RequestInfo | URL, init?: RequestInit) =>
      inside.getStore() === true
        ? native(input, init)
        : inside.run(true, () => viaRequests(input as string, init as SuiteInit))) as typeof fetch;
}

/** undici's cache interceptor, set up as undici's cache-tests-worker.mjs does. */
async function undiciFetch(e: Environment): Promise<void> {
  const undici = await import(pathToFileURL(path.join(here, "node_modules/undici/index.js")).href);
  const store = e.store === "sqlite"
    ? new undici.cacheStores.SqliteCacheStore({ location: path.join(scratch(), "undici.sqlite") })
    : new undici.cacheStores.MemoryCacheStore();
  const opts = { methods: ["GET", "HEAD"], type: e.shared ? "shared" : "private", store };
  undici.setGlobalDispatcher(new undici.Agent().compose(undici.interceptors.cache(opts)));
  globalThis.fetch = e.mode === "browser" ? undici.fetch : (url: string, init: SuiteInit = {}) => {
    // As for requests: the proxy client's cache mode is for a browser cache that is absent.
    const { cache: _, ...rest } = init;
    return undici.fetch(url, rest);
  };
}

const { base, server } = await startServer();
if (env.client === "requests") await requestsFetch(env);
else await undiciFetch(env);

const runner = await suite("test-engine/client/runner.mjs");
const tests = (await suite("tests/index.mjs")).default;
const runTests = runner.runTests as (
  tests: unknown,
  browser: boolean,
  base: string,
) => Promise<void>;
const started = Date.now();
// As undici runs it: a client-side (browser-like) cache, the suite's chunks of 25 at a time.
await runTests(tests, env.mode === "browser", base);
const results = (runner.getResults as () => Record<string, unknown>)();
fs.writeFileSync(env.out, JSON.stringify(results, null, 2) + "\n");
console.log(
  `${env.name}: ${Object.keys(results).length} tests in ${(Date.now() - started) / 1000} s`,
);
server.closeAllConnections?.();
server.close();
if (scratchDir !== undefined) {
  fs.rmSync(scratchDir, { recursive: true, force: true });
}
process.exit(0);
