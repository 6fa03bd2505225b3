// Runs the HTTP cache conformance suite http-tests/cache-tests (the one undici runs in its CI)
// against requests' HttpCache, private and shared, and against undici's cache interceptor in
// the same run; writes each configuration's results in the suite's format to results/ and
// prints a summary (see README.md).
//
//   node24 bench/cache-tests/run.ts [--only=name,...] [--store=memory|sqlite|both]
//                                   [--mode=browser|proxy|both] [--runtime=node|deno|bun]
//                                   [--jobs=N] [--suite=path]
//
// --runtime runs requests' configurations on Deno or Bun (undici's always run on Node).

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Environment } from "./worker.ts";

const here = path.dirname(new URL(import.meta.url).pathname);
const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    store: { type: "string", default: "memory" },
    mode: { type: "string", default: "browser" },
    runtime: { type: "string", default: "node" },
    jobs: { type: "string", default: "2" },
    suite: { type: "string", default: path.join(here, "suite") },
  },
});
const suiteDir = path.resolve(args.suite!);
if (!fs.existsSync(path.join(suiteDir, "test-engine/client/runner.mjs"))) {
  console.error(
    `No cache-tests checkout at ${suiteDir}: see bench/cache-tests/README.md`,
  );
  process.exit(2);
}
if (!fs.existsSync(path.join(here, "node_modules/undici"))) {
  console.error("undici is not installed: npm ci --prefix bench/cache-tests");
  process.exit(2);
}

const stores = args.store === "both" ? ["memory", "sqlite"] as const : [
  args.store === "sqlite" ? "sqlite" as const : "memory" as const,
];
const modes = args.mode === "both" ? ["browser", "proxy"] as const : [
  args.mode === "proxy" ? "proxy" as const : "browser" as const,
];
const runtime = args.runtime as "node" | "deno" | "bun";
if (!["node", "deno", "bun"].includes(runtime)) {
  console.error(`Unknown --runtime=${runtime}: node, deno or bun`);
  process.exit(2);
}
const resultsDir = path.join(here, "results");
fs.mkdirSync(resultsDir, { recursive: true });
let environments: Environment[] = [];
for (const client of ["requests", "undici"] as const) {
  for (const shared of [false, true]) {
    for (const store of stores) {
      for (const mode of modes) {
        const on = client === "requests" && runtime !== "node" ? `-${runtime}` : "";
        const name = `${client}-${shared ? "shared" : "private"}` +
          `${store === "memory" ? "" : "-sqlite"}${mode === "browser" ? "" : "-proxy"}${on}`;
        const out = path.join(resultsDir, `${name}.json`);
        environments.push({
          name,
          client,
          shared,
          store,
          mode,
          suite: suiteDir,
          out,
        });
      }
    }
  }
}
if (args.only !== undefined) {
  const only = new Set(args.only.split(","));
  environments = environments.filter((e) => only.has(e.name));
}

/** Runs one configuration in a worker process; one retry if it crashes (as undici does). */
async function runOne(e: Environment): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    fs.rmSync(e.out, { force: true });
    const worker = path.join(here, "worker.ts");
    const on = e.client === "requests" ? runtime : "node";
    const [command, ...argv] = on === "deno"
      ? ["deno", "run", "-A", worker]
      : on === "bun"
      ? ["bun", worker]
      : [process.execPath, worker];
    const child = spawn(command, argv, {
      env: { ...process.env, CACHE_TESTS_ENV: JSON.stringify(e) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (chunk) => output += chunk);
    child.stderr!.on("data", (chunk) => output += chunk);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (code === 0 && fs.existsSync(e.out)) {
      console.log(output.trim().split("\n").at(-1));
      return;
    }
    console.error(`${e.name}: the worker failed (exit ${code})\n${output}`);
  }
  throw new Error(`${e.name}: no results`);
}

const jobs = Math.max(1, Number(args.jobs) || 1);
const queue = [...environments];
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let e = queue.shift(); e !== undefined; e = queue.shift()) {
      await runOne(e);
    }
  }),
);

// The summary, every configuration whose results are in results/ (this run's or earlier).
const suiteModule = (file: string) => import(pathToFileURL(path.join(suiteDir, file)).href);
const tests = (await suiteModule("tests/index.mjs")).default;
const { determineTestResult, resultTypes, testLookup } = await suiteModule(
  "test-engine/lib/results.mjs",
);

type Kind = "required" | "optimal" | "check";
interface Row {
  name: string;
  counts: Record<string, number>;
  /** Test id -> [kind, outcome, reason] for every test that did not pass. */
  failures: Map<string, [Kind, string, string]>;
  passed: Set<string>;
}

function outcomeOf(code: unknown): string {
  for (
    const [name, type] of Object.entries(
      resultTypes as Record<string, unknown[]>,
    )
  ) {
    if (type === code) return name;
  }
  return "unknown";
}

function summarize(
  name: string,
  results: Record<string, true | [string, string]>,
): Row {
  const counts: Record<string, number> = {};
  const failures = new Map<string, [Kind, string, string]>();
  const passed = new Set<string>();
  for (const id of Object.keys(results)) {
    const kind: Kind = testLookup(tests, id).kind ?? "required";
    // Each test on its own, as undici's runner counts (no dependency failures).
    const outcome = outcomeOf(determineTestResult(tests, id, results, false));
    const ok = outcome === "pass" || outcome === "yes";
    // A required test whose setup did not hold (the cache lacks what it builds on) is apart:
    // undici's runner does not count it as failed either.
    const unset = kind === "required" && !ok && outcome !== "fail";
    const bucket = `${kind}:${ok ? "pass" : unset ? "unset" : "fail"}`;
    counts[bucket] = (counts[bucket] ?? 0) + 1;
    if (ok) passed.add(id);
    else {
      const result = results[id];
      const reason = result === true ? "" : `${result[0]}: ${result[1]}`;
      failures.set(id, [kind, outcome, reason]);
    }
  }
  return { name, counts, failures, passed };
}

const rows: Row[] = [];
for (
  const file of fs.readdirSync(resultsDir).filter((f) => f.endsWith(".json"))
    .sort()
) {
  const results = JSON.parse(
    fs.readFileSync(path.join(resultsDir, file), "utf8"),
  );
  rows.push(summarize(file.replace(/\.json$/, ""), results));
}

const n = (row: Row, key: string) => row.counts[key] ?? 0;
const lines: string[] = [
  "| configuration | required pass | required fail | required not set up | optional pass | optional fail | checks yes | checks no |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
];
for (const row of rows) {
  lines.push(
    `| ${row.name} | ${n(row, "required:pass")} | ${n(row, "required:fail")} | ` +
      `${n(row, "required:unset")} | ` +
      `${n(row, "optimal:pass")} | ${n(row, "optimal:fail")} | ${n(row, "check:pass")} | ` +
      `${n(row, "check:fail")} |`,
  );
}
console.log(`\n${lines.join("\n")}\n`);

for (const row of rows.filter((r) => r.name.startsWith("requests"))) {
  const rivalName = row.name.replace(/^requests/, "undici").replace(
    /-(deno|bun)$/,
    "",
  );
  const rival = rows.find((r) => r.name === rivalName);
  console.log(`${row.name}: required tests not passed`);
  for (const [id, [kind, outcome, reason]] of row.failures) {
    if (kind === "required") {
      console.log(`  - ${id} (${outcome}): ${reason.slice(0, 160)}`);
    }
  }
  if (rival === undefined) continue;
  const theirs = [...row.failures].filter(([id, [kind]]) =>
    kind !== "required" && rival.passed.has(id)
  );
  const ours = [...row.passed].filter((id) => rival.failures.has(id));
  console.log(
    `${row.name}: ${ours.length} tests pass that ${rival.name} does not pass; the reverse:`,
  );
  for (const [id, [kind, , reason]] of theirs) {
    console.log(`  - ${id} (${kind}): ${reason}`);
  }
}
