// The streaming benchmark: iter_lines() and iter_content(65536) against the least code that does
// the same job on the platform's fetch, with bodies served from a loopback server in a child
// process on the same runtime.
//
//   deno run -A bench/streams.ts [--rounds=N] [--content-mb=N] [--only=line,lines,content]
//   bun bench/streams.ts [--rounds=N] [--content-mb=N] [--only=line,lines,content]
//
// Every round runs each contender of a scenario once, in a new (seeded) order; the table gives
// the median MB/s of the rounds and the median of the per-round ratios with their spread.
// `REQUESTS_MODULE=path/to/mod.ts` measures another copy of the module (a worktree, say).
//
// Child mode (`--serve`): prints `{"port": N}` once it listens, and serves
//   GET /line?mb=N       one line of N MiB ("x" repeated, then "\n")
//   GET /lines?mb=N      N MiB of 16-byte lines (15 characters and "\n")
//   GET /bytes?mb=N      N MiB of bytes
// each streamed from one 64 KiB block, never buffered whole.

import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";

const MIB = 1024 * 1024;
const BLOCK = 64 * 1024;

type Serve = (
  options: {
    port: number;
    hostname: string;
    onListen?: (addr: { port: number }) => void;
  },
  handler: (req: Request) => Response,
) => unknown;
type BunServe = (
  options: {
    port: number;
    hostname: string;
    fetch: (req: Request) => Response;
  },
) => {
  port: number;
};
const runtime = globalThis as unknown as {
  Deno?: { serve: Serve };
  Bun?: { serve: BunServe };
};
const RUNTIME = runtime.Bun !== undefined ? "bun" : runtime.Deno !== undefined ? "deno" : "node";

function arg(name: string, fallback: number): number {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.slice(name.length + 3));
}

/** A body of `total` bytes: `block` repeated (cut at the end), then `tail`. */
function blocks(
  block: Uint8Array,
  total: number,
  tail = new Uint8Array(0),
): Response {
  let left = total;
  let tailSent = tail.byteLength === 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left > 0) {
          const size = Math.min(block.byteLength, left);
          // A fresh copy per chunk: the runtime may hold an enqueued chunk until it is written.
          controller.enqueue(block.slice(0, size));
          left -= size;
          return;
        }
        if (!tailSent) {
          controller.enqueue(tail.slice());
          tailSent = true;
        }
        controller.close();
      },
    }),
    { headers: { "content-type": "text/plain; charset=utf-8" } },
  );
}

function handle(req: Request): Response {
  const url = new URL(req.url);
  const bytes = Number(url.searchParams.get("mb") ?? "1") * MIB;
  switch (url.pathname) {
    case "/line":
      return blocks(
        new Uint8Array(BLOCK).fill(0x78),
        bytes,
        new Uint8Array([10]),
      );
    case "/lines": {
      const block = new Uint8Array(BLOCK).fill(0x61);
      for (let i = 15; i < BLOCK; i += 16) block[i] = 10;
      return blocks(block, bytes);
    }
    case "/bytes":
      return blocks(new Uint8Array(BLOCK).map((_, i) => i & 0xff), bytes);
  }
  return new Response("not found", { status: 404 });
}

function serveChild(): void {
  const announce = (port: number) => console.log(JSON.stringify({ port }));
  if (runtime.Bun !== undefined) {
    announce(
      runtime.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handle }).port,
    );
  } else if (runtime.Deno !== undefined) {
    runtime.Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: (a) => announce(a.port) },
      handle,
    );
  } else {
    throw new Error("The benchmark server runs on Deno or Bun");
  }
}

/** Starts the server child on this runtime; resolves with its base URL and a stop function. */
async function startServer(): Promise<{ url: string; stop(): void }> {
  const file = new URL(import.meta.url).pathname;
  const args = RUNTIME === "deno" ? ["run", "-A", file, "--serve"] : [file, "--serve"];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once("line", (line) => resolve(JSON.parse(line).port));
    child.once(
      "exit",
      (code) => reject(new Error(`The server exited with ${code}`)),
    );
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

/** What a contender read: bytes or characters, and lines, so contenders can be checked alike. */
interface Tally {
  units: number;
  lines: number;
}

/** The least code that splits a fetch body into lines (LF only) with the same text decoding. */
async function* bareLines(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let parts: string[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    const text = decoder.decode(r.value, { stream: true });
    let start = 0;
    for (
      let end = text.indexOf("\n");
      end !== -1;
      end = text.indexOf("\n", start)
    ) {
      const piece = text.slice(start, end);
      if (parts.length === 0) {
        yield piece;
      } else {
        parts.push(piece);
        yield parts.join("");
        parts = [];
      }
      start = end + 1;
    }
    if (start < text.length) parts.push(text.slice(start));
  }
  parts.push(decoder.decode());
  const rest = parts.join("");
  if (rest !== "") yield rest;
}

async function countLines(lines: AsyncIterable<string>): Promise<Tally> {
  const tally = { units: 0, lines: 0 };
  for await (const line of lines) {
    tally.units += line.length + 1;
    tally.lines++;
  }
  return tally;
}

interface Contender {
  name: string;
  run(url: string): Promise<Tally>;
}

interface Scenario {
  /** For `--only`: `line`, `lines` or `content`. */
  key: string;
  name: string;
  path: string;
  mb: number;
  /** Bodies read one after the other in each measurement (short ones are timed in groups). */
  repeat: number;
  /** The module's contender first, then the baseline it is compared with. */
  contenders: [Contender, Contender];
}

type Requests = typeof import("../mod.ts");

function scenarios(requests: Requests, contentMb: number): Scenario[] {
  const iterLines: Contender = {
    name: "iter_lines()",
    run: async (url) => countLines((await requests.get(url, { stream: true })).iter_lines()),
  };
  const bare: Contender = {
    name: "async generator on res.body",
    run: async (url) => countLines(bareLines((await fetch(url)).body!)),
  };
  return [
    {
      key: "line",
      name: "iter_lines, one 8 MiB line (8 bodies a run)",
      path: "/line",
      mb: 8,
      repeat: 8,
      contenders: [iterLines, bare],
    },
    {
      key: "lines",
      name: "iter_lines, 100 MiB of 16-byte lines",
      path: "/lines",
      mb: 100,
      repeat: 1,
      contenders: [iterLines, bare],
    },
    {
      key: "content",
      name: `iter_content(65536), ${contentMb} MiB`,
      path: "/bytes",
      mb: contentMb,
      repeat: 1,
      contenders: [
        {
          name: "iter_content(65536)",
          run: async (url) => {
            const r = await requests.get(url, { stream: true });
            const tally = { units: 0, lines: 0 };
            for await (const piece of r.iter_content(65536)) {
              tally.units += piece.byteLength;
              tally.lines++;
            }
            return tally;
          },
        },
        {
          name: "res.body reader",
          run: async (url) => {
            const reader = (await fetch(url)).body!.getReader();
            const tally = { units: 0, lines: 0 };
            for (
              let r = await reader.read();
              !r.done;
              r = await reader.read()
            ) {
              tally.units += r.value.byteLength;
              tally.lines++;
            }
            return tally;
          },
        },
      ],
    },
  ];
}

/** A small seeded generator (mulberry32), so every run shuffles alike. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], next: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low);
}

interface Row {
  scenario: string;
  module: string;
  baseline: string;
  moduleMbs: number;
  baselineMbs: number;
  ratios: number[];
}

async function measure(
  base: string,
  scenario: Scenario,
  rounds: number,
): Promise<Row> {
  const url = `${base}${scenario.path}?mb=${scenario.mb}`;
  const next = random(0x5eed);
  const speeds: [number[], number[]] = [[], []];
  const tallies: (Tally | null)[] = [null, null];
  const ratios: number[] = [];
  for (let round = -1; round < rounds; round++) {
    const speed: number[] = [0, 0];
    for (const i of shuffled([0, 1], next)) {
      const started = performance.now();
      for (let n = 0; n < scenario.repeat; n++) {
        const tally = await scenario.contenders[i].run(url);
        tallies[i] ??= tally;
      }
      const seconds = (performance.now() - started) / 1000;
      speed[i] = (scenario.mb * scenario.repeat * MIB) / 1e6 / seconds;
    }
    if (round < 0) continue; // a warm-up round
    speeds[0].push(speed[0]);
    speeds[1].push(speed[1]);
    ratios.push(speed[0] / speed[1]);
    console.error(
      `  ${scenario.name} round ${round + 1}: ${speed[0].toFixed(0)} vs ${
        speed[1].toFixed(0)
      } MB/s`,
    );
  }
  const [a, b] = tallies;
  if (
    scenario.path !== "/bytes" &&
    (a?.units !== b?.units || a?.lines !== b?.lines)
  ) {
    throw new Error(
      `${scenario.name}: the contenders disagree: ${JSON.stringify(tallies)}`,
    );
  }
  if (scenario.path === "/bytes" && a?.units !== b?.units) {
    throw new Error(
      `${scenario.name}: the contenders disagree: ${JSON.stringify(tallies)}`,
    );
  }
  return {
    scenario: scenario.name,
    module: scenario.contenders[0].name,
    baseline: scenario.contenders[1].name,
    moduleMbs: quantile(speeds[0], 0.5),
    baselineMbs: quantile(speeds[1], 0.5),
    ratios,
  };
}

async function main(): Promise<void> {
  const rounds = arg("rounds", 7);
  const contentMb = arg("content-mb", 512);
  const modulePath = process.env.REQUESTS_MODULE ??
    new URL("../mod.ts", import.meta.url).href;
  const requests: Requests = await import(
    modulePath.startsWith("/") ? `file://${modulePath}` : modulePath
  );
  const server = await startServer();
  try {
    const rows: Row[] = [];
    const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7).split(",");
    for (const scenario of scenarios(requests, contentMb)) {
      if (only !== undefined && !only.includes(scenario.key)) continue;
      rows.push(await measure(server.url, scenario, rounds));
    }
    const version = RUNTIME === "bun"
      ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
      : `Deno ${
        (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno
          .version.deno
      }`;
    console.log(
      `\n${version}, ${rounds} rounds (median; ratio: median and interquartile range)\n`,
    );
    console.log("| scenario | module | MB/s | baseline | MB/s | ratio |");
    console.log("| --- | --- | ---: | --- | ---: | ---: |");
    for (const row of rows) {
      const ratio = `${quantile(row.ratios, 0.5).toFixed(2)}x (${
        quantile(row.ratios, 0.25).toFixed(2)
      }-${quantile(row.ratios, 0.75).toFixed(2)})`;
      console.log(
        `| ${row.scenario} | ${row.module} | ${row.moduleMbs.toFixed(0)} | ${row.baseline} | ${
          row.baselineMbs.toFixed(0)
        } | ${ratio} |`,
      );
    }
  } finally {
    server.stop();
  }
}

if (process.argv.includes("--serve")) {
  serveChild();
} else {
  await main();
  process.exit(0);
}
