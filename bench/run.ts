// The benchmark, in one command:
//   deno task bench            (Deno)
//   bun bench/run.ts           (Bun)
// Options: --quick (a smoke run: few rounds, small transfers; prints the tables, saves nothing),
//          --only=timing,memory,import (a subset; saved results keep the other sections), where
//          a timing name (get, redirect, flight_64k, ...) stands for that part of the timing.
//
// Installs the peers (ky, ofetch, axios) into bench/node_modules when missing, starts the
// loopback server (bench/server.ts) in its own process on the same runtime, then:
// - timing: one child process loads every contender and runs the request shapes
//   fine-interleaved (bench/timing.ts says how), then the 64 KiB case in shuffled batches;
// - memory: one fresh child process per scenario, contender and repetition;
// - import: one fresh child process per contender and repetition, after one warm-up each.
// Writes bench/results/<runtime>.json, then renders bench/RESULTS.md and bench/chart.svg
// from every results file present (bench/report.ts).

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { type Name, NAMES } from "./contenders.ts";
import type { MemoryConfig, MemorySample, MemoryScenario } from "./memory.ts";
import { TIMING_NAMES, type TimingConfig, type TimingName, type TimingOutput } from "./timing.ts";
import { type Results, runtimeSection, writeReport } from "./report.ts";

const here = new URL(".", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const SECTIONS = ["timing", "memory", "import"];
const only = new Set(
  (args.find((a) => a.startsWith("--only="))?.slice(7) ?? SECTIONS.join(",")).split(",")
    .filter((part) => part !== ""),
);
for (const part of only) {
  if (!SECTIONS.includes(part) && !(TIMING_NAMES as readonly string[]).includes(part)) {
    throw new TypeError(
      `Invalid '--only': '${part}' is none of ${[...SECTIONS, ...TIMING_NAMES].join(", ")}`,
    );
  }
}
/** The timing names to measure: all with `timing`, else those named. */
const timingNames: TimingName[] = only.has("timing")
  ? [...TIMING_NAMES]
  : TIMING_NAMES.filter((name) => only.has(name));

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
    },
    memory: { reps: 1, buffered: 10e6, streamed: 64 * 1024 ** 2 },
    imports: 3,
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
    },
    memory: { reps: 3, buffered: 100e6, streamed: GIB },
    imports: 15,
  };
const CHILD_TIMEOUT_MS = 180_000;

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

/** A saved timing section with the names just measured replaced; all of it after a full timing. */
function merged<T extends object>(saved: T | undefined, fresh: T): T {
  return only.has("timing") ? fresh : { ...saved, ...fresh };
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
      `${config.flightRounds} rounds of 64 KiB batches; ${NAMES.join(", ")}`,
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
      timing: measured === null ? previous.timing : merged(previous.timing, measured.samples),
      wire: measured === null ? previous.wire : merged(previous.wire, measured.wire),
      memory: only.has("memory") ? await memory(server.base) : previous.memory,
      imports: only.has("import") ? await imports() : previous.imports,
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
