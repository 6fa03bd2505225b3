// Renders bench/RESULTS.md and bench/chart.svg from bench/results/*.json (written by
// bench/run.ts), and the headline ratios into the README between
// `<!-- bench:start -->` and `<!-- bench:end -->` when it has those markers.
// Run alone to re-render without measuring: `deno run -A bench/report.ts` or `bun bench/report.ts`.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import process from "node:process";

type Name = "fetch" | "requests" | "ky" | "ofetch" | "axios";
const NAMES: readonly Name[] = ["fetch", "requests", "ky", "ofetch", "axios"];
type TimingName = "small_get" | "flight_64k" | "small_post";
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
      batch: number;
      flightTotal: number;
      inFlight: number;
    };
    memory: { reps: number; buffered: number; streamed: number };
    imports: number;
  };
  timing?: Record<TimingName, Record<Name, number[]>>;
  memory?: Record<MemoryName, Record<Name, MemorySample[]>>;
  imports?: Record<Name, number[]>;
  /** The 1-minute load average before and after the run. */
  load?: [number, number];
}

const MIB = 1024 * 1024;
const LIMIT_GROWTH = 64 * MIB;
const TIMING_LABELS: Record<TimingName, string> = {
  small_get: "small GET + json()",
  flight_64k: "64 KiB GET, 100 in flight",
  small_post: "small JSON POST",
};
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

/** Per-round ratios of `samples` to the same rounds of fetch. */
function ratios(samples: readonly number[], base: readonly number[]): number[] {
  return samples.map((value, i) => value / base[i]);
}

interface TimingSummary {
  us: number;
  ratio: number;
  low: number;
  high: number;
}

function timingSummary(
  r: Results,
  scenario: TimingName,
  name: Name,
): TimingSummary | null {
  const samples = r.timing?.[scenario]?.[name];
  const base = r.timing?.[scenario]?.fetch;
  if (samples === undefined || base === undefined || samples.length === 0) {
    return null;
  }
  const rs = ratios(samples, base);
  return {
    us: median(samples),
    ratio: median(rs),
    low: quantile(rs, 0.25),
    high: quantile(rs, 0.75),
  };
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

function checks(r: Results): Check[] {
  const out: Check[] = [];
  const get = timingSummary(r, "small_get", "requests");
  if (get !== null) {
    out.push({
      target: "small GET + json(): median ratio to fetch <= 1.02",
      value: `${fixed(get.ratio, 3)}x`,
      ok: get.ratio <= 1.02,
    });
    const rivals = (["ky", "ofetch", "axios"] as const).map((n) =>
      timingSummary(r, "small_get", n)
    );
    const slowest = rivals.every((s) => s !== null && get.us < s.us);
    out.push({
      target: "small GET + json(): faster than ky, ofetch and axios",
      value: `${fixed(get.us, 0)} µs vs ${
        rivals.map((s) => s === null ? "?" : fixed(s.us, 0)).join(" / ")
      } µs`,
      ok: slowest,
    });
  }
  const flight = timingSummary(r, "flight_64k", "requests");
  if (flight !== null) {
    out.push({
      target: "64 KiB GET, 100 in flight: median ratio to fetch <= 1.03",
      value: `${fixed(flight.ratio, 3)}x`,
      ok: flight.ratio <= 1.03,
    });
  }
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
    const [scenario, label] of [[
      "stream_1g",
      "1 GB streamed download (iter_content)",
    ], [
      "upload_1g",
      "1 GB streamed multipart upload",
    ]] as const
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

function runtimeSection(r: Results): string {
  const parts: string[] = [];
  parts.push(`## ${RUNTIME_LABELS[r.runtime]}`);
  parts.push(
    `${r.version}; ky ${r.versions.ky}, ofetch ${r.versions.ofetch}, axios ${r.versions.axios} ` +
      `(Node \`http\` adapter); requests ${r.versions.requests}; run on ${r.date}` +
      (r.load === undefined
        ? "."
        : `, load average ${fixed(r.load[0], 2)} before and ${fixed(r.load[1], 2)} after.`),
  );
  if (r.timing !== undefined) {
    const rows = NAMES.map((name) => {
      const cells = [name === "requests" ? "**requests**" : name];
      for (const scenario of Object.keys(TIMING_LABELS) as TimingName[]) {
        const s = timingSummary(r, scenario, name);
        if (s === null) {
          cells.push("-", "-");
          continue;
        }
        const value = scenario === "flight_64k"
          ? `${fixed(s.us, 1)} (${fixed(65536 / MIB / (s.us / 1e6), 0)} MiB/s)`
          : fixed(s.us, 1);
        cells.push(
          value,
          name === "fetch" ? "1" : `${fixed(s.ratio, 3)} (${fixed(s.low, 2)}-${fixed(s.high, 2)})`,
        );
      }
      return cells;
    });
    parts.push(
      `Time per request in µs (median of ${r.plan.timing.rounds} rounds) and its ratio to raw ` +
        "fetch (median of the per-round ratios; interquartile range in brackets). Lower is better.",
    );
    parts.push(table(
      [
        "contender",
        "small GET µs",
        "x fetch",
        "64 KiB x100 µs/req",
        "x fetch",
        "small POST µs",
        "x fetch",
      ],
      rows,
      ["l", "r", "r", "r", "r", "r", "r"],
    ));
  }
  if (r.memory !== undefined) {
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
    parts.push(
      `Transfers, each in a fresh process (median of ${r.plan.memory.reps}; the worst growth in ` +
        "brackets). RSS peak is the kernel's high-water mark; growth is that peak less the RSS " +
        `before the transfer. Import: median of ${r.plan.imports} fresh processes, caches warm.`,
    );
    parts.push(table(
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
    ));
  }
  parts.push(
    table(
      ["target (requests)", "measured", "met"],
      checks(r).map((c) => [c.target, c.value, mark(c.ok)]),
      ["l", "r", "l"],
    ),
  );
  return parts.map(block).join("\n\n");
}

/** Prose is wrapped; headings, tables and images are kept as they are. */
function block(text: string): string {
  return /^(?:#|\||!\[)/.test(text) ? text : wrap(text);
}

function headline(results: Results[]): string {
  const cells = (r: Results) => {
    const get = timingSummary(r, "small_get", "requests");
    const flight = timingSummary(r, "flight_64k", "requests");
    const post = timingSummary(r, "small_post", "requests");
    const stream = memorySummary(r, "stream_1g", "requests");
    const upload = memorySummary(r, "upload_1g", "requests");
    const ms = importMs(r, "requests");
    const ratio = (s: TimingSummary | null) => s === null ? "-" : `${fixed(s.ratio, 2)}x`;
    return [
      RUNTIME_LABELS[r.runtime],
      ratio(get),
      ratio(flight),
      ratio(post),
      stream === null ? "-" : `${mib(stream.growth)} MiB`,
      upload === null ? "-" : `${mib(upload.growth)} MiB`,
      ms === null ? "-" : `${fixed(ms, 1)} ms`,
    ];
  };
  return table(
    [
      "runtime",
      "small GET vs fetch",
      "64 KiB x100 vs fetch",
      "small POST vs fetch",
      "1 GB download RSS growth",
      "1 GB upload RSS growth",
      "import",
    ],
    results.map(cells),
    ["l", "r", "r", "r", "r", "r", "r"],
  );
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
  reference: { value: number; label: string },
  scaleMax: number,
): [string, number] {
  const labelWidth = 64;
  const barHeight = 11;
  const gap = 3;
  const groupGap = 24;
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
    cy += 16;
    for (const bar of group.bars) {
      const w = Math.max(1, scale(bar.value));
      out.push(
        `<text x="${x + labelWidth - 6}" y="${cy + 9}" class="name">${bar.name}</text>`,
        `<rect x="${x + labelWidth}" y="${cy}" width="${fixed(w, 1)}" height="${barHeight}" ` +
          `fill="${COLORS[bar.name]}"/>`,
        `<text x="${fixed(x + labelWidth + w + 4, 1)}" y="${cy + 9}" class="value">${
          esc(bar.label + (bar.value > scaleMax ? " ›" : ""))
        }</text>`,
      );
      cy += barHeight + gap;
    }
    cy += groupGap - gap;
  }
  const rx = x + labelWidth + scale(reference.value);
  out.push(
    `<line x1="${fixed(rx, 1)}" y1="${top}" x2="${fixed(rx, 1)}" y2="${cy - groupGap + 6}" ` +
      `class="ref"/>`,
    `<text x="${fixed(rx, 1)}" y="${cy - groupGap + 18}" class="reflabel">${
      esc(reference.label)
    }</text>`,
  );
  return [out.join("\n"), cy - y];
}

function chart(results: Results[]): string {
  const width = 980;
  const parts: string[] = [];
  let y = 40;
  for (const r of results) {
    parts.push(
      `<text x="20" y="${y}" class="runtime">${esc(r.version)}</text>`,
    );
    y += 14;
    const timingGroups = (Object.keys(TIMING_LABELS) as TimingName[]).map((
      scenario,
    ) => ({
      label: TIMING_LABELS[scenario],
      bars: NAMES.flatMap((name) => {
        const s = timingSummary(r, scenario, name);
        return s === null ? [] : [{ name, value: s.ratio, label: `${fixed(s.ratio, 2)}x` }];
      }),
    }));
    const maxRatio = Math.max(
      1.2,
      ...timingGroups.flatMap((g) => g.bars.map((b) => Math.min(b.value, 2.5))),
    );
    const [left, leftHeight] = panel(
      20,
      y,
      560,
      "Time per request relative to raw fetch (lower is better)",
      timingGroups,
      { value: 1, label: "fetch = 1" },
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
      { value: 64, label: "target 64 MiB" },
      Math.ceil(maxGrowth / 40) * 40,
    );
    parts.push(left, right);
    y += Math.max(leftHeight, rightHeight) + 30;
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
    "(two to three minutes each; see `bench/README.md` for what is measured and how).",
    `Machine: ${machineLine(first)}. Server: \`bench/server.ts\` on the same runtime, in its ` +
    "own process, over loopback.",
    "## Headline",
    "Ratios of this module's time per request to raw `fetch` in the same run (lower is better), " +
    "and the RSS growth of the 1 GB streamed transfers.",
    headline(results),
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
 * Renders RESULTS.md and chart.svg in `dir` from `dir/results/*.json`, and the README headline
 * when the README has the markers. Returns the files written.
 */
export function writeReport(dir: string): string[] {
  const results: Results[] = [];
  for (const runtime of ["deno", "bun"]) {
    const path = `${dir}results/${runtime}.json`;
    if (fs.existsSync(path)) {
      results.push(JSON.parse(fs.readFileSync(path, "utf8")));
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
      const block = `<!-- bench:start -->\n\n${headline(results)}\n\n<!-- bench:end -->`;
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
