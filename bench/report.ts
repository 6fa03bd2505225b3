// Renders bench/RESULTS.md and bench/chart.svg from bench/results/*.json (written by
// bench/run.ts), and the headline ratios into the README between
// `<!-- bench:start -->` and `<!-- bench:end -->` when it has those markers.
// Run alone to re-render without measuring: `deno run -A bench/report.ts` or `bun bench/report.ts`.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import process from "node:process";
import type { CacheCase, CacheSamples } from "./cache.ts";
import type { Name } from "./contenders.ts";
import type { CacheFillResults } from "./memory.ts";
import type { TimingName, WireRecord } from "./timing.ts";

const NAMES: readonly Name[] = ["fetch", "requests", "ky", "ofetch", "axios"];
const PEERS = ["ky", "ofetch", "axios"] as const;
type MemoryName = "buffered_100m" | "stream_1g" | "upload_1g";

interface MemorySample {
  ms: number;
  bytes: number;
  baseline: number;
  peak: number;
  growth: number;
  method: string;
}

/** One runtime's run, as bench/run.ts saves it. */
export interface Results {
  runtime: "deno" | "bun";
  version: string;
  date: string;
  machine: { cpu: string; cores: number; memory: number; os: string };
  versions: Record<string, string>;
  plan: {
    timing: {
      rounds: number;
      warmup: number;
      iterations: number;
      flightRounds: number;
      flightWarmup: number;
      flightTotal: number;
      inFlight: number;
      /** Absent from results files made before the streamed download was timed in-process. */
      streamRounds?: number;
      streamWarmup?: number;
      streamSize?: number;
    };
    memory: { reps: number; buffered: number; streamed: number };
    imports: number;
    /** Absent from results files made before the HTTP cache was measured. */
    cache?: {
      rounds: number;
      warmup: number;
      iterations: number;
      reps: number;
      responses: number;
      bodyBytes: number;
      maxBytes: number;
    };
  };
  /** Per timing name and contender: µs per request in each measured round. */
  timing?: Partial<Record<TimingName, Record<Name, number[]>>>;
  /** Per shape and contender: the header fields sent, as bench/timing.ts checked them. */
  wire?: WireRecord;
  memory?: Record<MemoryName, Record<Name, MemorySample[]>>;
  imports?: Record<Name, number[]>;
  /** Per HTTP cache case, per side: µs per request in each measured round. */
  cache?: CacheSamples;
  /** The HTTP cache memory scenario: the module through the store, and raw fetch. */
  cacheFill?: CacheFillResults;
  /** The 1-minute load average before and after the run. */
  load?: [number, number];
}

const MIB = 1024 * 1024;
const LIMIT_GROWTH = 64 * MIB;

/** A row of the shape table: the timing names, then the 1 GB streamed download's time. */
type Row = TimingName | "stream_1g";
const ROWS: readonly Row[] = [
  "get",
  "get_timeout",
  "post",
  "session",
  "session_cookies",
  "redirect",
  "flight_64k",
  "stream_1g",
];
const ROW_LABELS: Record<Row, string> = {
  get: "GET + json()",
  get_timeout: "GET, a header and `timeout: 10`",
  post: "POST json",
  session: "Session GET, 0 cookies",
  session_cookies: "Session GET, 10 cookies",
  redirect: "one redirect (302)",
  flight_64k: "64 KiB GET, 100 in flight",
  stream_1g: "1 GB streamed download, ms",
};
const SHORT_LABELS: Record<Row, string> = {
  get: "GET",
  get_timeout: "GET + timeout",
  post: "POST",
  session: "session",
  session_cookies: "10 cookies",
  redirect: "redirect",
  flight_64k: "64 KiB x100",
  stream_1g: "1 GB stream",
};
/** Ratio to raw fetch the module must stay within: every shape but the redirect, and it. */
const TARGET = 1.08;
const AIM = 1.05;
const REDIRECT_TARGET = 1.2;
const targetOf = (row: Row) => row === "redirect" ? REDIRECT_TARGET : TARGET;
const RUNTIME_LABELS = { deno: "Deno", bun: "Bun" } as const;

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** A contender's figure on one row and its ratio to raw fetch. */
interface Figure {
  /** Median of the rounds: µs per request, or ms per transfer for the streamed download. */
  value: number;
  /**
   * Median of the per-round ratios to fetch, and their interquartile range (NaN for the streamed
   * download, whose ratio is the one of the medians).
   */
  ratio: number;
  low: number;
  high: number;
}

/** Paired samples: round i of every contender ran at the same time. */
function summary(samples: readonly number[], base: readonly number[]): Figure | null {
  if (samples.length === 0 || samples.length !== base.length) return null;
  const rs = samples.map((value, i) => value / base[i]);
  return {
    value: median(samples),
    ratio: median(rs),
    low: quantile(rs, 0.25),
    high: quantile(rs, 0.75),
  };
}

/** Whether the streamed download was timed in the timing process (else: the memory runs'). */
const streamTimed = (r: Results) => r.timing?.stream_1g !== undefined;

function figure(r: Results, row: Row, name: Name): Figure | null {
  if (row === "stream_1g" && streamTimed(r)) {
    // Timed in µs per transfer, shown in ms.
    const f = summary(r.timing!.stream_1g![name] ?? [], r.timing!.stream_1g!.fetch);
    return f === null ? null : { ...f, value: f.value / 1000 };
  }
  if (row === "stream_1g") {
    // An older results file: each transfer ran in a process of its own, none beside another: no
    // pairs, so the ratio is the one of the medians, and there is no spread of ratios.
    const own = memorySummary(r, "stream_1g", name);
    const base = memorySummary(r, "stream_1g", "fetch");
    if (own === null || base === null) return null;
    return { value: own.ms, ratio: own.ms / base.ms, low: NaN, high: NaN };
  }
  const samples = r.timing?.[row]?.[name];
  const base = r.timing?.[row]?.fetch;
  return samples === undefined || base === undefined ? null : summary(samples, base);
}

/** Whether the module meets its row's target, and which peers are not behind it. */
interface Verdict {
  ratio: number;
  over: boolean;
  behind: Name[];
}

function verdict(r: Results, row: Row): Verdict | null {
  const own = figure(r, row, "requests");
  if (own === null) return null;
  const behind = PEERS.filter((peer) => {
    const f = figure(r, row, peer);
    return f !== null && f.ratio <= own.ratio;
  });
  return { ratio: own.ratio, over: own.ratio > targetOf(row), behind };
}

interface MemorySummary {
  ms: number;
  peak: number;
  growth: number;
  maxGrowth: number;
  mbps: number;
}

function memorySummary(
  r: Results,
  scenario: MemoryName,
  name: Name,
): MemorySummary | null {
  const samples = r.memory?.[scenario]?.[name];
  if (samples === undefined || samples.length === 0) return null;
  const ms = median(samples.map((s) => s.ms));
  return {
    ms,
    peak: median(samples.map((s) => s.peak)),
    growth: median(samples.map((s) => s.growth)),
    maxGrowth: Math.max(...samples.map((s) => s.growth)),
    mbps: samples[0].bytes / MIB / (ms / 1000),
  };
}

function importMs(r: Results, name: Name): number | null {
  const samples = r.imports?.[name];
  return samples === undefined || samples.length === 0 ? null : median(samples);
}

const fixed = (value: number, digits: number) => value.toFixed(digits);
const mib = (bytes: number) => fixed(bytes / MIB, 0);

/**
 * A paragraph wrapped at 100 columns as `deno fmt` wraps prose (greedy, never inside a code
 * span), so the generated file stays fmt-clean.
 */
function wrap(text: string, width = 100): string {
  const words: string[] = [];
  let inCode = false;
  for (const piece of text.split(" ")) {
    if (inCode) words[words.length - 1] += ` ${piece}`;
    else words.push(piece);
    if ((piece.match(/`/g)?.length ?? 0) % 2 === 1) inCode = !inCode;
  }
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}

/** A markdown table laid out the way `deno fmt` lays it out, so the file stays fmt-clean. */
function table(head: string[], rows: string[][], align: ("l" | "r")[]): string {
  const widths = head.map((h, i) => Math.max(3, h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    `| ${
      cells.map((c, i) => align[i] === "r" ? c.padStart(widths[i]) : c.padEnd(widths[i])).join(
        " | ",
      )
    } |`;
  const rule = `| ${
    widths.map((w, i) => align[i] === "r" ? `${"-".repeat(w - 1)}:` : "-".repeat(w)).join(" | ")
  } |`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

interface Check {
  target: string;
  value: string;
  ok: boolean | null;
}

const ratioText = (ratio: number) => `${fixed(ratio, 3)}x`;

/** The shape targets, over the rows measured. */
function shapeChecks(r: Results): Check[] {
  const rows = ROWS.flatMap((row) => {
    const v = verdict(r, row);
    return v === null ? [] : [{ row, ...v }];
  });
  if (rows.length === 0) return [];
  const out: Check[] = [];
  const others = rows.filter((v) => v.row !== "redirect");
  if (others.length > 0) {
    const worst = others.reduce((a, b) => b.ratio > a.ratio ? b : a);
    const overAim = others.filter((v) => v.ratio > AIM);
    out.push({
      target: `every shape but the redirect: ratio to raw fetch <= ${TARGET}`,
      value: `worst ${ratioText(worst.ratio)} (${SHORT_LABELS[worst.row]})`,
      ok: worst.ratio <= TARGET,
    }, {
      target: `the same, aim <= ${AIM}`,
      value: overAim.length === 0
        ? `all ${others.length} within`
        : `over: ${overAim.map((v) => `${SHORT_LABELS[v.row]} ${fixed(v.ratio, 3)}`).join(", ")}`,
      ok: overAim.length === 0,
    });
  }
  const redirect = rows.find((v) => v.row === "redirect");
  if (redirect !== undefined) {
    out.push({
      target: `one redirect: ratio to raw fetch <= ${fixed(REDIRECT_TARGET, 2)}`,
      value: ratioText(redirect.ratio),
      ok: !redirect.over,
    });
  }
  const behind = rows.filter((v) => v.behind.length > 0);
  out.push({
    target: "ahead of ky, ofetch and axios on every shape",
    value: behind.length === 0
      ? `on all ${rows.length} shapes measured`
      : `not on: ${
        behind.map((v) => `${SHORT_LABELS[v.row]} (${v.behind.join(", ")})`).join("; ")
      }`,
    ok: behind.length === 0,
  });
  return out;
}

function checks(r: Results): Check[] {
  const out = shapeChecks(r);
  const buffered = memorySummary(r, "buffered_100m", "requests");
  const bufferedFetch = memorySummary(r, "buffered_100m", "fetch");
  if (buffered !== null && bufferedFetch !== null) {
    const ratio = buffered.peak / bufferedFetch.peak;
    out.push({
      target: "100 MB buffered: peak RSS <= 1.2x fetch's arrayBuffer()",
      value: `${mib(buffered.peak)} MiB vs ${mib(bufferedFetch.peak)} MiB (${fixed(ratio, 2)}x)`,
      ok: ratio <= 1.2,
    });
  }
  for (
    const [scenario, label] of [
      ["stream_1g", "1 GB streamed download (iter_content)"],
      ["upload_1g", "1 GB streamed multipart upload"],
    ] as const
  ) {
    const s = memorySummary(r, scenario, "requests");
    if (s === null) continue;
    out.push({
      target: `${label}: RSS growth < 64 MiB`,
      value: `${mib(s.growth)} MiB (max ${mib(s.maxGrowth)})`,
      ok: s.growth < LIMIT_GROWTH,
    });
  }
  const ms = importMs(r, "requests");
  if (ms !== null) {
    out.push({
      target: "import < 10 ms",
      value: `${fixed(ms, 1)} ms`,
      ok: ms < 10,
    });
  }
  return out;
}

const mark = (ok: boolean | null) => ok === null ? "?" : ok ? "yes" : "**no**";

/** The "met" cell of a shape row: the target and being ahead of every peer. */
function metCell(v: Verdict | null, row: Row): string {
  if (v === null) return "?";
  const why = [
    ...(v.over ? [`over ${fixed(targetOf(row), 2)}`] : []),
    ...(v.behind.length > 0 ? [`behind ${v.behind.join(", ")}`] : []),
  ];
  return why.length === 0 ? "yes" : `**no**: ${why.join("; ")}`;
}

function shapeTable(r: Results): string | null {
  const rows = ROWS.filter((row) => figure(r, row, "fetch") !== null);
  if (rows.length === 0) return null;
  const digits = (row: Row) => row === "stream_1g" ? 0 : 1;
  return table(
    [
      "shape",
      "fetch",
      "requests",
      "x fetch",
      ...PEERS.flatMap((peer) => [peer, "x fetch"]),
      "target",
      "met",
    ],
    rows.map((row) => {
      const cells = (name: Name) => {
        const f = figure(r, row, name);
        if (f === null) return ["-", "-"];
        const ratio = name !== "requests"
          ? fixed(f.ratio, 2)
          : Number.isNaN(f.low)
          ? fixed(f.ratio, 3)
          : `${fixed(f.ratio, 3)} (${fixed(f.low, 2)}-${fixed(f.high, 2)})`;
        return [fixed(f.value, digits(row)), ratio];
      };
      return [
        ROW_LABELS[row],
        cells("fetch")[0],
        ...cells("requests"),
        ...PEERS.flatMap(cells),
        `<= ${fixed(targetOf(row), 2)}`,
        metCell(verdict(r, row), row),
      ];
    }),
    ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l"],
  );
}

/** What the wire check found: whether the module sent the header fields raw fetch sent. */
function wireText(r: Results): string | null {
  if (r.wire === undefined) return null;
  const differ: string[] = [];
  for (const [shape, sent] of Object.entries(r.wire)) {
    if (sent === undefined) continue;
    const adds = sent.requests.filter((field) => !sent.fetch.includes(field));
    const lacks = sent.fetch.filter((field) => !sent.requests.includes(field));
    if (adds.length + lacks.length === 0) continue;
    differ.push(
      `${shape}: requests adds ${adds.map((f) => `\`${f}\``).join(", ") || "nothing"}, lacks ${
        lacks.map((f) => `\`${f}\``).join(", ") || "nothing"
      }`,
    );
  }
  const shapes = Object.keys(r.wire).length;
  if (shapes === 0) return null;
  return "Header fields sent, checked once per shape against the server's `/headers`: " +
    (differ.length === 0
      ? `the same for requests and raw fetch in all ${shapes} shapes.`
      : `requests and raw fetch differ in ${differ.join("; ")}.`);
}

/** The memory and import table of one runtime, after its paragraph. */
function memoryTable(r: Results): [string, string] {
  const rows = NAMES.map((name) => {
    const b = memorySummary(r, "buffered_100m", name);
    const d = memorySummary(r, "stream_1g", name);
    const u = memorySummary(r, "upload_1g", name);
    const ms = importMs(r, name);
    return [
      name === "requests" ? "**requests**" : name,
      b === null ? "-" : fixed(b.ms, 0),
      b === null ? "-" : mib(b.peak),
      d === null ? "-" : fixed(d.mbps, 0),
      d === null ? "-" : `${mib(d.growth)} (${mib(d.maxGrowth)})`,
      u === null ? "-" : fixed(u.mbps, 0),
      u === null ? "-" : `${mib(u.growth)} (${mib(u.maxGrowth)})`,
      name === "fetch" ? "built in" : ms === null ? "-" : fixed(ms, 1),
    ];
  });
  const text =
    `Transfers, each in a fresh process (median of ${r.plan.memory.reps}; the worst growth in ` +
    "brackets). RSS peak is the kernel's high-water mark; growth is that peak less the RSS " +
    `before the transfer. Import: median of ${r.plan.imports} fresh processes, caches warm.`;
  return [
    text,
    table(
      [
        "contender",
        "100 MB buffered ms",
        "peak RSS MiB",
        "1 GB stream MiB/s",
        "RSS growth MiB",
        "1 GB upload MiB/s",
        "RSS growth MiB",
        "import ms",
      ],
      rows,
      ["l", "r", "r", "r", "r", "r", "r", "r"],
    ),
  ];
}

/** What the shape table holds, said for the plan of this run and the parts it has. */
function shapeText(r: Results): string {
  const t = r.plan.timing;
  const has = (name: TimingName) => r.timing?.[name] !== undefined;
  const sequential = ROWS.some((row) => row !== "flight_64k" && row !== "stream_1g" && has(row));
  return [
    "µs per request, the median of rounds, and its ratio to raw fetch (the median of the " +
    "per-round ratios; for requests the interquartile range in brackets). Lower is better.",
    ...(sequential
      ? [
        `Sequential shapes: ${t.rounds} rounds of ${t.iterations} fine-interleaved iterations, ` +
        "each sending one request per contender in a shuffled order; a round's figure is the " +
        `median of its ${t.iterations} requests.`,
      ]
      : []),
    ...(has("flight_64k")
      ? [
        `64 KiB: ${t.flightRounds} rounds of one batch of ${t.flightTotal} requests per ` +
        `contender, ${t.inFlight} in flight.`,
      ]
      : []),
    ...(streamTimed(r)
      ? [
        `1 GB streamed download: ms per transfer, the median of ${t.streamRounds} rounds in the ` +
        "same process, each streaming the body once per contender in a shuffled order.",
      ]
      : r.memory?.stream_1g !== undefined
      ? [
        `1 GB streamed download: ms per transfer, ${r.plan.memory.reps} fresh processes each ` +
        "(the memory runs below).",
      ]
      : []),
    "Met: within the target and ahead of ky, ofetch and axios.",
  ].join(" ");
}

/** One runtime's section of RESULTS.md, in markdown (a `--quick` run prints it). */
export function runtimeSection(r: Results): string {
  const parts: string[] = [];
  parts.push(`## ${RUNTIME_LABELS[r.runtime]}`);
  parts.push(
    `${r.version}; ky ${r.versions.ky}, ofetch ${r.versions.ofetch}, axios ${r.versions.axios} ` +
      `(Node \`http\` adapter); requests ${r.versions.requests}; run on ${r.date}` +
      (r.load === undefined
        ? "."
        : `, load average ${fixed(r.load[0], 2)} before and ${fixed(r.load[1], 2)} after.`),
  );
  if (r.plan.timing.iterations === undefined) {
    parts.push(
      "The timing of this results file came from the earlier batch method and is not shown: run " +
        "the benchmark again.",
    );
  }
  const shapes = shapeTable(r);
  if (shapes !== null) {
    parts.push(shapeText(r), shapes);
    const wire = wireText(r);
    if (wire !== null) parts.push(wire);
  }
  if (r.memory !== undefined) parts.push(...memoryTable(r));
  const targets = checks(r);
  if (targets.length > 0) {
    parts.push(
      table(
        ["target (requests)", "measured", "met"],
        targets.map((c) => [c.target, c.value, mark(c.ok)]),
        ["l", "r", "l"],
      ),
    );
  }
  parts.push(...cacheSection(r));
  return parts.map(block).join("\n\n");
}

/** Prose is wrapped; headings, tables and images are kept as they are. */
function block(text: string): string {
  return /^(?:#|\||!\[)/.test(text) ? text : wrap(text);
}

function headline(results: Results[]): string {
  const cells = (r: Results) => {
    const stream = memorySummary(r, "stream_1g", "requests");
    const upload = memorySummary(r, "upload_1g", "requests");
    const ms = importMs(r, "requests");
    return [
      RUNTIME_LABELS[r.runtime],
      ...ROWS.map((row) => {
        const f = figure(r, row, "requests");
        return f === null ? "-" : `${fixed(f.ratio, 2)}x`;
      }),
      stream === null ? "-" : `${mib(stream.growth)} MiB`,
      upload === null ? "-" : `${mib(upload.growth)} MiB`,
      ms === null ? "-" : `${fixed(ms, 1)} ms`,
    ];
  };
  return table(
    [
      "runtime",
      ...ROWS.map((row) => SHORT_LABELS[row]),
      "1 GB download RSS growth",
      "1 GB upload RSS growth",
      "import",
    ],
    results.map(cells),
    ["l", ...ROWS.map(() => "r" as const), "r", "r", "r"],
  );
}

// --- the HTTP cache --------------------------------------------------------------------------

/** Ratio to the baseline each HTTP cache case must stay within (issue 19). */
const CACHE_TARGETS: Record<CacheCase, number> = {
  cache_memory_hit: 0.1,
  cache_sqlite_hit: 0.35,
  cache_304: 1.1,
  cache_nostore: 1.05,
};
const CACHE_LABELS: Record<CacheCase, string> = {
  cache_memory_hit: "fresh hit, `MemoryCacheStore`",
  cache_sqlite_hit: "fresh hit, `SqliteCacheStore`",
  cache_304: "304 revalidation",
  cache_nostore: "`no-store`, not stored",
};
/** The RSS growth the memory store scenario must stay under. */
const CACHE_GROWTH_LIMIT = 100 * MIB;

/** The module's figure of an HTTP cache case against its baseline, paired round by round. */
function cacheFigure(r: Results, name: CacheCase): (Figure & { baseline: number }) | null {
  const sides = r.cache?.[name];
  if (sides === undefined) return null;
  const f = summary(sides.cached, sides.baseline);
  return f === null ? null : { ...f, baseline: median(sides.baseline) };
}

/** The HTTP cache memory scenario of one contender: median and worst growth, the store's size. */
function cacheFillSummary(r: Results, name: "fetch" | "requests") {
  const samples = r.cacheFill?.[name];
  if (samples === undefined || samples.length === 0) return null;
  return {
    growth: median(samples.map((s) => s.growth)),
    maxGrowth: Math.max(...samples.map((s) => s.growth)),
    storeSize: median(samples.map((s) => s.storeSize ?? 0)),
  };
}

/** The rows of the HTTP cache table: the timed cases, then the store filled. */
function cacheRows(r: Results): string[][] {
  const rows: string[][] = [];
  for (const [name, target] of Object.entries(CACHE_TARGETS) as [CacheCase, number][]) {
    const f = cacheFigure(r, name);
    if (f === null) continue;
    rows.push([
      CACHE_LABELS[name],
      `${fixed(f.value, 1)} µs`,
      `${fixed(f.baseline, 1)} µs`,
      `${fixed(f.ratio, 3)} (${fixed(f.low, 2)}-${fixed(f.high, 2)})`,
      `<= ${fixed(target, 2)}`,
      mark(f.ratio <= target),
    ]);
  }
  const own = cacheFillSummary(r, "requests");
  const plan = r.plan.cache;
  if (own !== null && plan !== undefined) {
    const reference = cacheFillSummary(r, "fetch");
    rows.push([
      `${plan.responses.toLocaleString("en-US")} x ${plan.bodyBytes / 1024} KiB into ` +
      `${mib(plan.maxBytes)} MiB: RSS growth`,
      `${mib(own.growth)} MiB (${mib(own.maxGrowth)}), store ${fixed(own.storeSize / MIB, 1)} MiB`,
      reference === null ? "-" : `${mib(reference.growth)} MiB`,
      "-",
      `< ${mib(CACHE_GROWTH_LIMIT)} MiB`,
      mark(own.growth < CACHE_GROWTH_LIMIT),
    ]);
  }
  return rows;
}

/** One runtime's HTTP cache heading, paragraph and table; nothing when it has no figures. */
function cacheSection(r: Results): string[] {
  const rows = cacheRows(r);
  const plan = r.plan.cache;
  if (rows.length === 0 || plan === undefined) return [];
  const label = RUNTIME_LABELS[r.runtime];
  const processes = plan.reps === 1 ? "1 fresh process" : `${plan.reps} fresh processes`;
  const text = [
    "This module with an `HttpCache` against the same wire work without it: raw fetch of " +
    "`/fresh` (max-age=3600) for the hits; for the 304, raw fetch of `/etag` (no-cache and an " +
    "ETag) sending `If-None-Match` by hand and reading the 304, while the module revalidates " +
    "its stored response and parses it; for `no-store`, the same module call without a cache. " +
    "ky, ofetch and axios have no HTTP cache and take no part. In one process, every case " +
    `together: ${plan.warmup} warm-up rounds, then ${plan.rounds} rounds of ${plan.iterations} ` +
    "fine-interleaved iterations, each sending one request of every side of every case in one " +
    "shuffled order; µs per request is the median of the rounds' medians, the ratio the median " +
    "of the per-round ratios (interquartile range " +
    "in brackets). Before timing, each case checks that the cache does what it says " +
    "(`from_cache`, `cache_status`), and every timed answer is checked.",
    ...(r.cacheFill !== undefined
      ? [
        `The store: ${plan.responses.toLocaleString("en-US")} GETs of distinct URLs, ` +
        `${plan.bodyBytes / 1024} KiB bodies with max-age=3600, through one \`HttpCache\` over ` +
        `a \`MemoryCacheStore\` of ${mib(plan.maxBytes)} MiB, in ${processes} (median, worst ` +
        "in brackets); growth is the kernel's high-water mark less the RSS before; then the " +
        "store's `size`. Baseline: raw fetch reading the same responses without a cache.",
      ]
      : []),
  ].join(" ");
  return [
    `### HTTP cache (${label})`,
    text,
    table(
      ["case", "requests", "baseline", "ratio", "target", "met"],
      rows,
      ["l", "r", "r", "r", "r", "l"],
    ),
  ];
}

/** A line linking each runtime's HTTP cache table (from `page`), or null when none has one. */
function cacheLinks(results: Results[], page: string): string | null {
  const linked = results.filter((r) => cacheRows(r).length > 0);
  if (linked.length === 0) return null;
  return "HTTP cache (fresh hits, a 304 revalidation, `no-store`, a 50 MiB store filled): " +
    linked.map((r) => {
      const label = RUNTIME_LABELS[r.runtime];
      return `[${label}](${page}#http-cache-${label.toLowerCase()})`;
    }).join(", ") + ".";
}

function machineLine(r: Results): string {
  const m = r.machine;
  return `${m.cpu}, ${m.cores} cores (\`nproc\`), ${fixed(m.memory / 1024 ** 3, 1)} GiB of ` +
    `memory, ${m.os}`;
}

// --- chart ---------------------------------------------------------------------------------

const COLORS: Record<Name, string> = {
  fetch: "#8c8c8c",
  requests: "#1f6feb",
  ky: "#d29922",
  ofetch: "#3fb950",
  axios: "#a371f7",
};

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

interface Bar {
  name: Name;
  value: number;
  label: string;
}

/** Horizontal grouped bars in a panel at (x, y); returns the SVG and the panel's height. */
function panel(
  x: number,
  y: number,
  width: number,
  title: string,
  groups: { label: string; bars: Bar[] }[],
  references: { value: number; label: string }[],
  scaleMax: number,
): [string, number] {
  const labelWidth = 64;
  const barHeight = 9;
  const gap = 2;
  const groupGap = 20;
  const plotWidth = width - labelWidth - 56;
  const scale = (v: number) => Math.min(v, scaleMax) / scaleMax * plotWidth;
  const out: string[] = [];
  out.push(`<text x="${x}" y="${y + 12}" class="title">${esc(title)}</text>`);
  let cy = y + 30;
  const top = cy;
  for (const group of groups) {
    out.push(
      `<text x="${x}" y="${cy + 10}" class="group">${esc(group.label)}</text>`,
    );
    cy += 14;
    for (const bar of group.bars) {
      const w = Math.max(1, scale(bar.value));
      out.push(
        `<text x="${x + labelWidth - 6}" y="${cy + 8}" class="name">${bar.name}</text>`,
        `<rect x="${x + labelWidth}" y="${cy}" width="${fixed(w, 1)}" height="${barHeight}" ` +
          `fill="${COLORS[bar.name]}"/>`,
        `<text x="${fixed(x + labelWidth + w + 4, 1)}" y="${cy + 8}" class="value">${
          esc(bar.label + (bar.value > scaleMax ? " ›" : ""))
        }</text>`,
      );
      cy += barHeight + gap;
    }
    cy += groupGap - gap;
  }
  references.forEach((reference, i) => {
    const rx = x + labelWidth + scale(reference.value);
    // Each label a line lower than the one before: reference lines may stand close together.
    out.push(
      `<line x1="${fixed(rx, 1)}" y1="${top}" x2="${fixed(rx, 1)}" ` +
        `y2="${cy - groupGap + 6 + 12 * i}" class="ref"/>`,
      `<text x="${fixed(rx, 1)}" y="${cy - groupGap + 18 + 12 * i}" class="reflabel">${
        esc(reference.label)
      }</text>`,
    );
  });
  return [out.join("\n"), cy - y + 12 * (references.length - 1)];
}

/** One runtime's two panels at height `y`: the SVG and their height. */
function runtimePanels(r: Results, y: number): [string, number] {
  const timingGroups = ROWS.map((row) => ({
    label: row === "stream_1g"
      ? "1 GB streamed download, time"
      : row === "redirect"
      ? `${ROW_LABELS[row]}, target ${fixed(REDIRECT_TARGET, 2)}`
      : ROW_LABELS[row].replaceAll("`", ""),
    bars: NAMES.flatMap((name) => {
      const f = figure(r, row, name);
      return f === null ? [] : [{ name, value: f.ratio, label: `${fixed(f.ratio, 2)}x` }];
    }),
  })).filter((group) => group.bars.length > 0);
  const maxRatio = Math.max(
    1.2,
    ...timingGroups.flatMap((g) => g.bars.map((b) => Math.min(b.value, 2.5))),
  );
  const [left, leftHeight] = panel(
    20,
    y,
    560,
    "Time relative to raw fetch (lower is better)",
    timingGroups,
    [{ value: 1, label: "fetch = 1" }, { value: TARGET, label: `target ${TARGET}` }],
    Math.ceil(maxRatio * 4) / 4,
  );
  const memoryGroups = ([
    ["stream_1g", "1 GB download, streamed"],
    ["upload_1g", "1 GB multipart upload, streamed"],
  ] as const).map(([scenario, label]) => ({
    label,
    bars: NAMES.flatMap((name) => {
      const s = memorySummary(r, scenario, name);
      return s === null ? [] : [{ name, value: s.growth / MIB, label: `${mib(s.growth)} MiB` }];
    }),
  }));
  const maxGrowth = Math.max(
    80,
    ...memoryGroups.flatMap((g) => g.bars.map((b) => Math.min(b.value, 320))),
  );
  const [right, rightHeight] = panel(
    610,
    y,
    350,
    "RSS growth during the transfer, MiB (lower is better)",
    memoryGroups,
    [{ value: 64, label: "target 64 MiB" }],
    Math.ceil(maxGrowth / 40) * 40,
  );
  return [`${left}\n${right}`, Math.max(leftHeight, rightHeight)];
}

function chart(results: Results[]): string {
  const width = 980;
  const parts: string[] = [];
  let y = 40;
  for (const r of results) {
    parts.push(`<text x="20" y="${y}" class="runtime">${esc(r.version)}</text>`);
    const [panels, height] = runtimePanels(r, y + 14);
    parts.push(panels);
    y += 14 + height + 30;
  }
  const legend = NAMES.map((name, i) =>
    `<rect x="${20 + i * 110}" y="${y}" width="12" height="12" fill="${COLORS[name]}"/>` +
    `<text x="${36 + i * 110}" y="${y + 10}" class="legend">${
      name === "fetch" ? "raw fetch" : name
    }</text>`
  ).join("\n");
  const height = y + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, sans-serif">`,
    "<style>",
    ".runtime { font-size: 15px; font-weight: 600; fill: #24292f }",
    ".title { font-size: 12px; font-weight: 600; fill: #24292f }",
    ".group { font-size: 11px; fill: #57606a }",
    ".name { font-size: 10px; fill: #24292f; text-anchor: end }",
    ".value { font-size: 10px; fill: #24292f }",
    ".legend { font-size: 11px; fill: #24292f }",
    ".ref { stroke: #cf222e; stroke-width: 1; stroke-dasharray: 4 3 }",
    ".reflabel { font-size: 10px; fill: #cf222e; text-anchor: middle }",
    "</style>",
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="20" y="20" class="title">requests benchmark: loopback, ${
      esc(results[0].machine.cpu)
    }, ${results[0].machine.cores} cores</text>`,
    ...parts,
    legend,
    "</svg>",
    "",
  ].join("\n");
}

// --- the files -----------------------------------------------------------------------------

function document(results: Results[], notes: string | null): string {
  const first = results[0];
  const sections = [
    "# Benchmark results",
    "Generated by `bench/report.ts` from `bench/results/*.json`; do not edit by hand. " +
    "Run `deno task bench` and `bun bench/run.ts` from the repository root to measure again " +
    "(about four minutes each; see `bench/README.md` for what is measured and how).",
    `Machine: ${machineLine(first)}. Server: \`bench/server.ts\` on the same runtime, in its ` +
    "own process, over loopback.",
    "## Headline",
    "Ratios of this module's time per request to raw `fetch` doing the same wire work in the " +
    "same run (lower is better), and the RSS growth of the 1 GB streamed transfers.",
    headline(results),
    ...[cacheLinks(results, "")].filter((line) => line !== null),
    "![Benchmark chart](chart.svg)",
    ...results.map(runtimeSection),
  ];
  const body = sections.map((section) =>
    section.startsWith("## ") && section.includes("\n") ? section : block(section)
  );
  if (notes !== null) body.push(notes.trim());
  return `${body.join("\n\n")}\n`;
}

/**
 * Lays out the generated files as `deno fmt` would, so the tree stays fmt-clean (Deno's
 * formatter covers SVG): with this Deno, or the one on PATH from Bun; skipped without one.
 */
function formatWithDeno(files: string[]): void {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const cmd = deno?.execPath() ?? "deno";
  // With paths, deno fmt takes bench/ (which has a package.json) for a project of its own and
  // its default width; the root's `deno fmt --check` applies the root's 100 columns.
  spawnSync(cmd, ["fmt", "--quiet", "--line-width=100", ...files], { stdio: "ignore" });
}

/**
 * A results file whose timing came from the batch method (before the fine-interleaved one: no
 * `iterations` in its plan) keeps its memory and import figures and loses its timing, whose
 * figures are not comparable.
 */
function current(r: Results): Results {
  if (r.plan.timing.iterations !== undefined) return r;
  const { timing: _timing, wire: _wire, ...rest } = r;
  return rest;
}

/**
 * Renders RESULTS.md and chart.svg in `dir` from `dir/results/*.json`, and the README headline
 * when the README has the markers. Returns the files written.
 */
export function writeReport(dir: string): string[] {
  const results: Results[] = [];
  for (const runtime of ["deno", "bun"]) {
    const path = `${dir}results/${runtime}.json`;
    if (fs.existsSync(path)) {
      results.push(current(JSON.parse(fs.readFileSync(path, "utf8"))));
    }
  }
  if (results.length === 0) return [];
  const notesPath = `${dir}NOTES.md`;
  const notes = fs.existsSync(notesPath) ? fs.readFileSync(notesPath, "utf8") : null;
  fs.writeFileSync(`${dir}RESULTS.md`, document(results, notes));
  fs.writeFileSync(`${dir}chart.svg`, chart(results));
  const written = ["bench/RESULTS.md", "bench/chart.svg"];
  formatWithDeno([`${dir}RESULTS.md`, `${dir}chart.svg`]);
  const readme = `${dir}../README.md`;
  if (fs.existsSync(readme)) {
    const text = fs.readFileSync(readme, "utf8");
    const start = text.indexOf("<!-- bench:start -->");
    const end = text.indexOf("<!-- bench:end -->");
    if (start >= 0 && end > start) {
      const links = cacheLinks(results, "bench/RESULTS.md");
      const block = `<!-- bench:start -->\n\n${headline(results)}\n\n` +
        (links === null ? "" : `${wrap(links)}\n\n`) + "<!-- bench:end -->";
      fs.writeFileSync(
        readme,
        text.slice(0, start) + block +
          text.slice(end + "<!-- bench:end -->".length),
      );
      written.push("README.md");
    }
  }
  return written;
}

if (import.meta.main) {
  const written = writeReport(new URL(".", import.meta.url).pathname);
  console.error(
    written.length === 0 ? "No results yet" : `wrote ${written.join(", ")}`,
  );
  process.exit(0);
}
