// The HTTP cache timing, run by bench/run.ts in one child process. Prints one JSON line: per
// case, the figure of each measured round (µs per request) of its two sides.
//
// Only raw fetch and this module take part: ky, ofetch and axios have no HTTP cache. Each case
// sets a call through the cache beside the same wire work without it:
// - cache_memory_hit: `get("/fresh", { cache })` answered by a MemoryCacheStore, against
//                     `(await fetch("/fresh")).json()` (the server answers max-age=3600);
// - cache_sqlite_hit: the same from a SqliteCacheStore in a temporary file (deleted after);
// - cache_304:        `get("/etag", { cache })`, revalidated every time (no-cache + ETag, the
//                     server answers 304), against raw fetch sending `If-None-Match` by hand
//                     and reading the 304 (raw fetch has no stored body to parse);
// - cache_nostore:    `get("/nostore", { cache })` (no-store: never kept), against the same
//                     call without a cache, both through the module.
//
// Fine-interleaved as bench/timing.ts does it, all cases together: an iteration sends one
// request of each side of every case in one shuffled order and times each on its own; a
// round's figure is the median of its requests, and a case's ratio is taken round by round.
// Before timing, each case checks once that the cache does what the case says (a hit is a hit,
// the 304 is a revalidation, no-store is not stored) and stops the run otherwise; every timed
// call is checked too, outside the time taken.
//
//   <runtime> bench/cache.ts '{"base":"http://127.0.0.1:PORT","cases":["cache_304"],...}'

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { loadRequests } from "./contenders.ts";
import { generator, median, seedOf, shuffled } from "./timing.ts";

/** The cases, in report order. */
export const CACHE_CASES = [
  "cache_memory_hit",
  "cache_sqlite_hit",
  "cache_304",
  "cache_nostore",
] as const;
export type CacheCase = typeof CACHE_CASES[number];

/** What bench/run.ts asks of this process. */
export interface CacheConfig {
  base: string;
  cases: CacheCase[];
  /** Measured rounds of each case, and unmeasured ones before them. */
  rounds: number;
  warmup: number;
  /** Iterations per round: each sends one request of both sides. */
  iterations: number;
}

/** The two sides of a case. */
export type CacheSide = "baseline" | "cached";

/** Per case, per side: µs per request in each measured round. */
export type CacheSamples = Partial<Record<CacheCase, Record<CacheSide, number[]>>>;

type Requests = typeof import("../mod.ts");
type HttpCache = InstanceType<Requests["HttpCache"]>;

/** One side of a case: a request, and what its answer must be. */
interface Side {
  send(url: string): Promise<unknown>;
  ok(answer: unknown): boolean;
}

interface Case {
  path: string;
  sides: Record<CacheSide, Side>;
  /** Checks once, untimed, that the cache does what the case measures. */
  check(url: string): Promise<void>;
  /** Releases what the case holds (the SQLite file). */
  close(): void;
}

/** The id of bench/server.ts's JSON document. */
const ID = 1042;
const isDocument = (answer: unknown) => (answer as { id?: unknown } | null)?.id === ID;
const CONDITIONAL: RequestInit = { headers: { "if-none-match": '"v1"' } };

const rawGet: Side = {
  send: async (url) => (await fetch(url)).json(),
  ok: isDocument,
};

/**
 * The module's call with `cache`: the parsed document when `from_cache` is what the case
 * expects, else what the cache said (which fails the check).
 */
function through(requests: Requests, cache: HttpCache, fromCache: boolean): Side {
  return {
    send: async (url) => {
      const r = await requests.get(url, { cache });
      return r.from_cache === fromCache
        ? r.json()
        : { from_cache: r.from_cache, cache_status: r.cache_status };
    },
    ok: isDocument,
  };
}

/** Sends twice through `cache` (storing in between) and checks the second answer. */
async function expectSecond(
  requests: Requests,
  url: string,
  cache: HttpCache,
  want: { fromCache: boolean; status: RegExp },
): Promise<void> {
  await requests.get(url, { cache });
  await cache.flush();
  const r = await requests.get(url, { cache });
  if (r.from_cache !== want.fromCache || !want.status.test(r.cache_status ?? "")) {
    throw new Error(
      `The second request to ${url} through the cache got from_cache ${r.from_cache} and ` +
        `cache_status '${r.cache_status}', expected ${want.fromCache} and ${want.status}`,
    );
  }
}

const HIT = { fromCache: true, status: /^requests; hit; ttl=\d+$/ };

function memoryHit(requests: Requests): Case {
  const cache = new requests.HttpCache({ store: new requests.MemoryCacheStore() });
  return {
    path: "/fresh",
    sides: { baseline: rawGet, cached: through(requests, cache, true) },
    check: (url) => expectSecond(requests, url, cache, HIT),
    close() {},
  };
}

function sqliteHit(requests: Requests): Case {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "requests-bench-cache-"));
  const store = new requests.SqliteCacheStore(path.join(dir, "cache.sqlite"));
  const cache = new requests.HttpCache({ store });
  return {
    path: "/fresh",
    sides: { baseline: rawGet, cached: through(requests, cache, true) },
    check: (url) => expectSecond(requests, url, cache, HIT),
    close() {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function revalidation(requests: Requests): Case {
  const cache = new requests.HttpCache({ store: new requests.MemoryCacheStore() });
  const conditional: Side = {
    send: async (url) => {
      const res = await fetch(url, CONDITIONAL);
      await res.arrayBuffer();
      return res.status;
    },
    ok: (status) => status === 304,
  };
  return {
    path: "/etag",
    sides: { baseline: conditional, cached: through(requests, cache, true) },
    async check(url) {
      const status = await conditional.send(url);
      if (!conditional.ok(status)) {
        throw new Error(`${url} answered ${status} to If-None-Match, not 304`);
      }
      await expectSecond(requests, url, cache, {
        fromCache: true,
        status: /; fwd=stale; fwd-status=304(?:;|$)/,
      });
    },
    close() {},
  };
}

function notStored(requests: Requests): Case {
  const cache = new requests.HttpCache({ store: new requests.MemoryCacheStore() });
  const plain: Side = {
    send: async (url) => (await requests.get(url)).json(),
    ok: isDocument,
  };
  return {
    path: "/nostore",
    sides: { baseline: plain, cached: through(requests, cache, false) },
    check: (url) =>
      expectSecond(requests, url, cache, {
        fromCache: false,
        status: /^requests; fwd=uri-miss; fwd-status=200$/,
      }),
    close() {},
  };
}

const MAKERS: Record<CacheCase, (requests: Requests) => Case> = {
  cache_memory_hit: memoryHit,
  cache_sqlite_hit: sqliteHit,
  cache_304: revalidation,
  cache_nostore: notStored,
};

/**
 * The fine-interleaved rounds of every case at once: an iteration sends one request of each
 * side of each case, in one shuffled order, so every side meets the same load and the same
 * neighbours (raw fetch beside a 10 µs hit runs faster on loopback than beside other requests).
 */
async function interleaved(
  config: CacheConfig,
  cases: ReadonlyMap<CacheCase, Case>,
): Promise<CacheSamples> {
  const entries = [...cases].flatMap(([name, c]) =>
    (["baseline", "cached"] as const).map((side) => ({
      name,
      side,
      url: `${config.base}${c.path}`,
      ...c.sides[side],
      times: new Float64Array(config.iterations),
    }))
  );
  const next = generator(seedOf("cache"));
  const out: CacheSamples = {};
  for (const name of cases.keys()) out[name] = { baseline: [], cached: [] };
  for (let round = -config.warmup; round < config.rounds; round++) {
    for (let i = 0; i < config.iterations; i++) {
      for (const { name, side, url, send, ok, times } of shuffled(entries, next)) {
        const started = performance.now();
        const answer = await send(url);
        times[i] = (performance.now() - started) * 1000;
        if (!ok(answer)) {
          throw new Error(`${name}: the ${side} side got ${JSON.stringify(answer)}`);
        }
      }
    }
    if (round >= 0) { for (const e of entries) out[e.name]![e.side].push(median(e.times)); }
  }
  return out;
}

async function main(config: CacheConfig): Promise<CacheSamples> {
  const requests = await loadRequests();
  const cases = new Map<CacheCase, Case>();
  try {
    for (const name of config.cases) {
      const c = MAKERS[name](requests);
      cases.set(name, c);
      await c.check(`${config.base}${c.path}`);
    }
    return await interleaved(config, cases);
  } finally {
    for (const c of cases.values()) c.close();
  }
}

if (import.meta.main) {
  const config = JSON.parse(
    (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ?? process.argv[2],
  ) as CacheConfig;
  console.log(JSON.stringify(await main(config)));
  process.exit(0);
}
