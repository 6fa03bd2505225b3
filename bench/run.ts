// The benchmark, in one command:
//   deno task bench            (Deno)
//   bun bench/run.ts           (Bun)
// Options: --quick (a smoke run: few rounds, small transfers; prints the tables, saves nothing),
//          --only=timing,memory,import,cache (a subset; saved results keep the other sections),
//          where a timing name (get, redirect, flight_64k, stream_1g, ...) or a cache name
//          (cache_memory_hit, cache_sqlite_hit, cache_304, cache_nostore, cache_rss) stands for
//          that part of its section.
//
// Installs the peers (ky, ofetch, axios) into bench/node_modules when missing, starts the
// loopback server (bench/server.ts) in its own process on the same runtime, then:
// - timing: one child process loads every contender and runs the request shapes
//   fine-interleaved (bench/timing.ts says how), then the 64 KiB case in shuffled batches and
//   the 1 GB streamed download in shuffled rounds;
// - memory: one fresh child process per scenario, contender and repetition;
// - import: one fresh child process per contender and repetition, after one warm-up each;
// - cache: one child process times the HTTP cache against raw fetch, fine-interleaved
//   (bench/cache.ts), then one fresh process per repetition and contender fills a 50 MiB
//   MemoryCacheStore with 10,000 distinct 100 KiB responses (bench/memory.ts, `cache_fill`).
// Writes bench/results/<runtime>.json, then renders bench/RESULTS.md and bench/chart.svg
// from every results file present (bench/report.ts).

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { type Name, NAMES } from "./contenders.ts";
import { CACHE_CASES, type CacheCase, type CacheConfig, type CacheSamples } from "./cache.ts";
import type {
  CacheFillConfig,
  CacheFillResults,
  CacheFillSample,
  MemoryConfig,
  MemorySample,
  MemoryScenario,
} from "./memory.ts";
import { TIMING_NAMES, type TimingConfig, type TimingName, type TimingOutput } from "./timing.ts";
import { type Results, runtimeSection, writeReport } from "./report.ts";

const here = new URL(".", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const SECTIONS = ["timing", "memory", "import", "cache"];
/** The parts of the cache section: its timing cases, and the memory store filled. */
const CACHE_NAMES = [...CACHE_CASES, "cache_rss"] as const;
const only = new Set(
  (args.find((a) => a.startsWith("--only="))?.slice(7) ?? SECTIONS.join(",")).split(",")
    .filter((part) => part !== ""),
);
const NAMED: readonly string[] = [...SECTIONS, ...TIMING_NAMES, ...CACHE_NAMES];
for (const part of only) {
  if (!NAMED.includes(part)) {
    throw new TypeError(`Invalid '--only': '${part}' is none of ${NAMED.join(", ")}`);
  }
}
/** The timing names to measure: all with `timing`, else those named. */
const timingNames: TimingName[] = only.has("timing")
  ? [...TIMING_NAMES]
  : TIMING_NAMES.filter((name) => only.has(name));
/** The cache cases to time: all with `cache`, else those named. */
const cacheCases: CacheCase[] = only.has("cache")
  ? [...CACHE_CASES]
  : CACHE_CASES.filter((name) => only.has(name));
const cacheRss = only.has("cache") || only.has("cache_rss");

const deno = (globalThis as { Deno?: { version: Record<string, string> } }).Deno;
const bun = (globalThis as { Bun?: { version: string; revision: string } }).Bun;
const runtime: "deno" | "bun" = deno !== undefined ? "deno" : "bun";
if (deno === undefined && bun === undefined) {
  throw new Error("bench/run.ts runs on Deno or Bun");
}

// The children run from the repository root: a relative REQUESTS_MODULE is the caller's.
const other = process.env.REQUESTS_MODULE;
if (other !== undefined && other !== "") process.env.REQUESTS_MODULE = path.resolve(other);

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/** The cache section: its timing as the sequential shapes', and the store filled. */
const CACHE_PLAN = {
  rounds: 30,
  warmup: 2,
  iterations: 200,
  /** Fresh processes per contender filling the store. */
  reps: 3,
  responses: 10_000,
  bodyBytes: 100 * 1024,
  maxBytes: 50 * MIB,
};
const PLAN = quick
  ? {
    timing: {
      rounds: 3,
      warmup: 2,
      iterations: 100,
      flightRounds: 3,
      flightWarmup: 1,
      flightTotal: 300,
      inFlight: 100,
      streamRounds: 3,
      streamWarmup: 1,
      streamSize: 64 * 1024 ** 2,
    },
    memory: { reps: 1, buffered: 10e6, streamed: 64 * 1024 ** 2 },
    imports: 3,
    cache: { ...CACHE_PLAN, rounds: 3, iterations: 100, reps: 1, responses: 1000 },
  }
  : {
    timing: {
      rounds: 30,
      warmup: 2,
      iterations: 200,
      flightRounds: 30,
      flightWarmup: 2,
      flightTotal: 1000,
      inFlight: 100,
      streamRounds: 7,
      streamWarmup: 1,
      streamSize: GIB,
    },
    memory: { reps: 3, buffered: 100e6, streamed: GIB },
    imports: 15,
    cache: CACHE_PLAN,
  };
/** A child that runs longer has hung (the timing child, 1 GB downloads included, runs minutes). */
const CHILD_TIMEOUT_MS = 360_000;

/** The command line that runs `script` on this runtime. */
function command(
  script: string,
  extra: string[],
  gc: boolean,
): [string, string[]] {
  const file = `${here}${script}`;
  if (runtime === "deno") {
    return [process.execPath, [
      "run",
      "-A",
      ...(gc ? ["--v8-flags=--expose-gc"] : []),
      file,
      ...extra,
    ]];
  }
  return [process.execPath, [file, ...extra]];
}

/** Runs a child to the end (bounded by CHILD_TIMEOUT_MS) and returns its stdout. */
function runChild(script: string, extra: string[], gc = true): Promise<string> {
  const [cmd, argv] = command(script, extra, gc);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => out += text);
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else {reject(
          new Error(
            `${script} ${extra.join(" ")} exited with ${code ?? signal}`,
          ),
        );}
    });
  });
}

/**
 * A saved section with the names just measured replaced; all of it after the whole section
 * (`timing` or `cache`).
 */
function merged<T extends object>(section: string, saved: T | undefined, fresh: T): T {
  return only.has(section) ? fresh : { ...saved, ...fresh };
}

function lastJson<T>(out: string): T {
  const lines = out.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}

/** Installs the peers with npm (or bun) when bench/node_modules lacks one of them. */
async function ensurePeers(): Promise<void> {
  const wanted = ["ky", "ofetch", "axios", "form-data"];
  if (
    wanted.every((name) => fs.existsSync(`${here}node_modules/${name}/package.json`))
  ) return;
  console.error("Installing the peers into bench/node_modules ...");
  const tryInstall = (cmd: string, argv: string[], cwd: string) =>
    new Promise<boolean>((resolve) => {
      const child = spawn(cmd, argv, {
        cwd,
        stdio: ["ignore", "inherit", "inherit"],
      });
      child.on("error", () => resolve(false));
      child.on("close", (code) => resolve(code === 0));
    });
  if (await tryInstall("npm", ["ci", "--prefix", "bench", "--no-audit", "--no-fund"], root)) {
    return;
  }
  if (
    runtime === "bun" &&
    await tryInstall(process.execPath, ["install", "--frozen-lockfile"], here)
  ) {
    return;
  }
  throw new Error("Could not install the peers: run `npm ci` in bench/");
}

interface Server {
  base: string;
  stop(): void;
}

function startServer(): Promise<Server> {
  const [cmd, argv] = command("server.ts", [], false);
  const child = spawn(cmd, argv, {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const stop = () => {
    if (child.exitCode === null) child.kill("SIGTERM");
  };
  process.on("exit", stop);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      out += text;
      const line = /^\{.*\}$/m.exec(out);
      if (line !== null) {
        resolve({ base: `http://127.0.0.1:${JSON.parse(line[0]).port}`, stop });
      }
    });
    child.on("error", reject);
    child.on(
      "close",
      (code) => reject(new Error(`The server exited with ${code}`)),
    );
  });
}

function rotated(round: number): Name[] {
  const shift = round % NAMES.length;
  return [...NAMES.slice(shift), ...NAMES.slice(0, shift)];
}

async function timing(base: string): Promise<TimingOutput> {
  const config: TimingConfig = { base, names: timingNames, ...PLAN.timing };
  console.error(
    `timing: ${config.rounds} rounds of ${config.iterations} interleaved iterations, ` +
      `${config.flightRounds} rounds of 64 KiB batches, ${config.streamRounds} rounds of the ` +
      `streamed download; ${NAMES.join(", ")}`,
  );
  return lastJson<TimingOutput>(await runChild("timing.ts", [JSON.stringify(config)]));
}

type MemoryResults = Record<MemoryScenario, Record<Name, MemorySample[]>>;

async function memory(base: string): Promise<MemoryResults> {
  const sizes: Record<MemoryScenario, number> = {
    buffered_100m: PLAN.memory.buffered,
    stream_1g: PLAN.memory.streamed,
    upload_1g: PLAN.memory.streamed,
  };
  const out = {} as MemoryResults;
  for (const scenario of Object.keys(sizes) as MemoryScenario[]) {
    out[scenario] = {} as Record<Name, MemorySample[]>;
    for (const name of NAMES) out[scenario][name] = [];
  }
  for (let rep = 0; rep < PLAN.memory.reps; rep++) {
    for (const scenario of Object.keys(sizes) as MemoryScenario[]) {
      console.error(
        `memory: ${scenario}, repetition ${rep + 1} of ${PLAN.memory.reps}`,
      );
      for (const contender of rotated(rep)) {
        const config: MemoryConfig = {
          base,
          scenario,
          contender,
          size: sizes[scenario],
        };
        out[scenario][contender].push(
          lastJson<MemorySample>(
            await runChild("memory.ts", [JSON.stringify(config)]),
          ),
        );
      }
    }
  }
  return out;
}

async function cacheTiming(base: string): Promise<CacheSamples> {
  const { rounds, warmup, iterations } = PLAN.cache;
  const config: CacheConfig = { base, cases: cacheCases, rounds, warmup, iterations };
  console.error(
    `cache: ${rounds} rounds of ${iterations} interleaved iterations; ${cacheCases.join(", ")}`,
  );
  return lastJson<CacheSamples>(await runChild("cache.ts", [JSON.stringify(config)]));
}

async function cacheFill(base: string): Promise<CacheFillResults> {
  const { reps, responses, bodyBytes, maxBytes } = PLAN.cache;
  const out: CacheFillResults = { fetch: [], requests: [] };
  for (let rep = 0; rep < reps; rep++) {
    console.error(`cache: ${responses} responses into the store, repetition ${rep + 1} of ${reps}`);
    const order = rep % 2 === 0 ? ["requests", "fetch"] as const : ["fetch", "requests"] as const;
    for (const contender of order) {
      const config: CacheFillConfig = {
        base,
        scenario: "cache_fill",
        contender,
        responses,
        bodyBytes,
        maxBytes,
      };
      out[contender].push(
        lastJson<CacheFillSample>(await runChild("memory.ts", [JSON.stringify(config)])),
      );
    }
  }
  return out;
}

async function imports(): Promise<Record<Name, number[]>> {
  const modules = NAMES.filter((name) => name !== "fetch");
  const out = { fetch: [] } as unknown as Record<Name, number[]>;
  console.error(`import: ${PLAN.imports} fresh processes per module`);
  for (const name of modules) {
    out[name] = [];
    await runChild("import.ts", [name], false);
  }
  for (let rep = 0; rep < PLAN.imports; rep++) {
    for (const name of rotated(rep)) {
      if (name === "fetch") continue;
      out[name].push(
        lastJson<{ ms: number }>(await runChild("import.ts", [name], false)).ms,
      );
    }
  }
  return out;
}

function packageVersion(path: string): string {
  try {
    return JSON.parse(fs.readFileSync(path, "utf8")).version;
  } catch {
    return "unknown";
  }
}

function gitDescribe(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn("git", ["describe", "--always", "--dirty"], {
      cwd: root,
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => out += text);
    child.on("error", () => resolve("unknown"));
    child.on("close", () => resolve(out.trim() || "unknown"));
  });
}

function machine(): Results["machine"] {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  let memory = os.totalmem();
  try {
    const info = fs.readFileSync("/proc/cpuinfo", "utf8");
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? cpu;
    const mem = /^MemTotal:\s+(\d+) kB/m.exec(
      fs.readFileSync("/proc/meminfo", "utf8"),
    );
    if (mem !== null) memory = Number(mem[1]) * 1024;
  } catch { /* not Linux: keep what node:os says */ }
  return {
    cpu,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memory,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  // Other work on the machine skews every contender alike, but widens the spread: keep a record.
  const loadBefore = os.loadavg()[0];
  await ensurePeers();
  const resultsPath = `${here}results/${runtime}.json`;
  const previous: Partial<Results> = !quick && fs.existsSync(resultsPath)
    ? JSON.parse(fs.readFileSync(resultsPath, "utf8"))
    : {};
  const server = await startServer();
  let results: Results;
  try {
    const measured = timingNames.length > 0 ? await timing(server.base) : null;
    const version = deno !== undefined
      ? `Deno ${deno.version.deno} (V8 ${deno.version.v8})`
      : `Bun ${bun!.version} (${bun!.revision.slice(0, 9)})`;
    results = {
      runtime,
      version,
      date: new Date().toISOString().slice(0, 10),
      machine: machine(),
      versions: {
        requests: process.env.REQUESTS_MODULE
          ? `REQUESTS_MODULE=${process.env.REQUESTS_MODULE}`
          : `${packageVersion(`${root}deno.json`)} (${await gitDescribe()})`,
        ky: packageVersion(`${here}node_modules/ky/package.json`),
        ofetch: packageVersion(`${here}node_modules/ofetch/package.json`),
        axios: packageVersion(`${here}node_modules/axios/package.json`),
      },
      plan: PLAN,
      timing: measured === null
        ? previous.timing
        : merged("timing", previous.timing, measured.samples),
      wire: measured === null ? previous.wire : merged("timing", previous.wire, measured.wire),
      memory: only.has("memory") ? await memory(server.base) : previous.memory,
      imports: only.has("import") ? await imports() : previous.imports,
      cache: cacheCases.length > 0
        ? merged("cache", previous.cache, await cacheTiming(server.base))
        : previous.cache,
      cacheFill: cacheRss ? await cacheFill(server.base) : previous.cacheFill,
    };
  } finally {
    server.stop();
  }
  results.load = [loadBefore, os.loadavg()[0]];
  const seconds = Math.round((performance.now() - started) / 1000);
  console.error(`done in ${seconds} s`);
  if (quick) {
    console.log(runtimeSection(results));
    return;
  }
  fs.mkdirSync(`${here}results`, { recursive: true });
  fs.writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  const written = writeReport(here);
  console.error(`wrote bench/results/${runtime}.json, ${written.join(", ")}`);
}

await main();
process.exit(0);
