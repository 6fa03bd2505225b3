// The timing, run by bench/run.ts in one child process that loads every contender. Prints one
// JSON line: per timing name and contender, the figure of each measured round (µs per
// request), and per shape the header fields each contender sent.
//
// Sequential shapes (bench/contenders.ts) are fine-interleaved: an iteration sends ONE request of
// every contender, in an order shuffled anew for each iteration (seeded, the same in every run),
// and times each request on its own. A round is `iterations` iterations; a contender's figure for
// the round is the median of its per-request times in it. Every contender thus meets the same
// moment of the machine's load within microseconds of the others, and a collection that lands
// on one request (whoever made the garbage) is dropped by the median. Batches of one contender
// at a time scattered by 10-30 % from round to round on a shared machine; this holds to 1-3 %.
//
// The 64 KiB case keeps batches (100 requests in flight are concurrent by nature, a single one
// cannot be timed apart): each round runs one batch per contender, in a shuffled order.
//
// The 1 GB streamed download (`stream_1g`) is timed here too, in this one process, as
// bench/streams.ts times iter_content: each round streams the body once per contender, in a
// shuffled order, and the ratio is taken round by round. Timed in fresh processes, one per
// transfer, the same download read 1.48x and 1.17x on Bun in two runs (issue 17); the memory
// runs still use fresh processes, for the RSS.
//
//   <runtime> bench/timing.ts '{"base":"http://127.0.0.1:PORT","names":["get"],...}'

import process from "node:process";
import {
  type Contender,
  COOKIE_HEADER,
  load,
  type Name,
  NAMES,
  type Shape,
  SHAPES,
  TRACE,
} from "./contenders.ts";

/** What is timed: the sequential shapes, the 64 KiB case, the 1 GB streamed download. */
export type TimingName = Shape | "flight_64k" | "stream_1g";
/** Every timing name, in report order. */
export const TIMING_NAMES: readonly TimingName[] = [...SHAPES, "flight_64k", "stream_1g"];

/** What bench/run.ts asks of this process. */
export interface TimingConfig {
  base: string;
  names: TimingName[];
  /** Measured rounds of each sequential shape. */
  rounds: number;
  /** Unmeasured rounds before them. */
  warmup: number;
  /** Iterations per round: each sends one request of every contender. */
  iterations: number;
  /** Measured rounds of the 64 KiB case, and unmeasured ones before them. */
  flightRounds: number;
  flightWarmup: number;
  /** Requests per batch in the 64 KiB case, and how many are in flight at once. */
  flightTotal: number;
  inFlight: number;
  /** Measured rounds of the streamed download, unmeasured ones before them, its size. */
  streamRounds: number;
  streamWarmup: number;
  streamSize: number;
}

/** Per timing name, per contender: µs per request (per transfer for stream_1g) in each round. */
export type TimingSamples = Partial<Record<TimingName, Record<Name, number[]>>>;

/** Per shape, per contender: the header fields it sent (`name: value`, host aside), sorted. */
export type WireRecord = Partial<Record<Shape, Record<Name, string[]>>>;

/** What this process prints. */
export interface TimingOutput {
  samples: TimingSamples;
  wire: WireRecord;
}

/** xorshift32: a small seeded generator, so every run shuffles alike. */
export function generator(seed: number): () => number {
  let state = seed | 0 || 0x2545f491;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** A seed made from a name (FNV-1a), so each part of the run has its own order. */
export function seedOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash;
}

/** A Fisher-Yates shuffle. */
export function shuffled<T>(items: readonly T[], next: () => number): T[] {
  const order = [...items];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** The median of `values`. */
export function median(values: ArrayLike<number>): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The id the answer of `shape` carries: the post shape's echo of PAYLOAD, else /json's. */
const expectedId = (shape: Shape) => shape === "post" ? 7 : 1042;

function paths(shape: Shape): { timed: string; wire: string } {
  if (shape === "redirect") return { timed: "/redirect", wire: "/redirect?to=/headers" };
  return { timed: "/json", wire: "/headers" };
}

/**
 * Sends one request of `shape` per contender to /headers and checks that each sent what the
 * shape says (the trace header, the cookies, a JSON body) and nothing the shape does not.
 */
async function checkWire(
  base: string,
  shape: Shape,
  contenders: Map<Name, Contender>,
): Promise<Record<Name, string[]>> {
  const out = {} as Record<Name, string[]>;
  for (const name of NAMES) {
    const answer = await contenders.get(name)!.shapes[shape](`${base}${paths(shape).wire}`);
    const sent = (answer as { headers: Record<string, string> }).headers;
    const wrong = (what: string) =>
      new Error(`${name} sent ${what} in ${shape}: ${JSON.stringify(sent)}`);
    const trace = sent[TRACE.name.toLowerCase()];
    if ((shape === "get_timeout") !== (trace === TRACE.value)) throw wrong("a wrong X-Trace");
    const cookie = sent.cookie;
    if ((shape === "session_cookies") !== (cookie === COOKIE_HEADER)) {
      throw wrong("a wrong Cookie");
    }
    if (shape === "post" && !/^application\/json/.test(sent["content-type"] ?? "")) {
      throw wrong("no JSON Content-Type");
    }
    out[name] = Object.entries(sent).filter(([field]) => field !== "host")
      .map(([field, value]) => `${field}: ${value}`).sort();
  }
  const differ = (a: string[], b: string[]) => a.join("\n") !== b.join("\n");
  if (differ(out.requests, out.fetch)) {
    console.error(
      `  ${shape}: requests sent ${JSON.stringify(out.requests)}, fetch ${
        JSON.stringify(out.fetch)
      }`,
    );
  }
  return out;
}

/** The fine-interleaved rounds of one sequential shape. */
async function interleaved(
  config: TimingConfig,
  shape: Shape,
  contenders: Map<Name, Contender>,
): Promise<Record<Name, number[]>> {
  const url = `${config.base}${paths(shape).timed}`;
  const id = expectedId(shape);
  const next = generator(seedOf(shape));
  const sends = NAMES.map((name) => [name, contenders.get(name)!.shapes[shape]] as const);
  const times = new Map(NAMES.map((name) => [name, new Float64Array(config.iterations)]));
  const out = {} as Record<Name, number[]>;
  for (const name of NAMES) out[name] = [];
  for (let round = -config.warmup; round < config.rounds; round++) {
    for (let i = 0; i < config.iterations; i++) {
      for (const [name, send] of shuffled(sends, next)) {
        const started = performance.now();
        const answer = await send(url);
        times.get(name)![i] = (performance.now() - started) * 1000;
        if ((answer as { id?: unknown }).id !== id) {
          throw new Error(`${name} got ${JSON.stringify(answer)} in ${shape}`);
        }
      }
    }
    if (round >= 0) { for (const name of NAMES) out[name].push(median(times.get(name)!)); }
  }
  return out;
}

/** One batch of the 64 KiB case: `total` requests, `width` in flight at once; µs per request. */
async function flightBatch(url: string, total: number, width: number, c: Contender) {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const n = await c.getBytes(url);
      if (n !== 65536) throw new Error(`Got ${n} bytes instead of 65536`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: width }, worker));
  return (performance.now() - started) * 1000 / total;
}

/** The 64 KiB case: each round, one batch per contender, in a shuffled order. */
async function flight(
  config: TimingConfig,
  contenders: Map<Name, Contender>,
): Promise<Record<Name, number[]>> {
  const url = `${config.base}/bytes?n=65536`;
  const next = generator(seedOf("flight_64k"));
  const out = {} as Record<Name, number[]>;
  for (const name of NAMES) out[name] = [];
  for (let round = -config.flightWarmup; round < config.flightRounds; round++) {
    for (const name of shuffled(NAMES, next)) {
      const us = await flightBatch(url, config.flightTotal, config.inFlight, contenders.get(name)!);
      if (round >= 0) out[name].push(us);
    }
  }
  return out;
}

/** The 1 GB streamed download: each round, one transfer per contender, in a shuffled order. */
async function streamed(
  config: TimingConfig,
  contenders: Map<Name, Contender>,
): Promise<Record<Name, number[]>> {
  const url = `${config.base}/bytes?n=${config.streamSize}`;
  const next = generator(seedOf("stream_1g"));
  const out = {} as Record<Name, number[]>;
  for (const name of NAMES) out[name] = [];
  for (let round = -config.streamWarmup; round < config.streamRounds; round++) {
    for (const name of shuffled(NAMES, next)) {
      const started = performance.now();
      const n = await contenders.get(name)!.streamBytes(url);
      const us = (performance.now() - started) * 1000;
      if (n !== config.streamSize) {
        throw new Error(`${name} streamed ${n} bytes instead of ${config.streamSize}`);
      }
      if (round >= 0) out[name].push(us);
    }
  }
  return out;
}

async function main(config: TimingConfig): Promise<TimingOutput> {
  const contenders = new Map<Name, Contender>();
  for (const name of NAMES) contenders.set(name, await load(name));
  const output: TimingOutput = { samples: {}, wire: {} };
  for (const name of config.names) {
    const started = performance.now();
    if (name === "flight_64k") {
      output.samples[name] = await flight(config, contenders);
    } else if (name === "stream_1g") {
      output.samples[name] = await streamed(config, contenders);
    } else {
      output.wire[name] = await checkWire(config.base, name, contenders);
      output.samples[name] = await interleaved(config, name, contenders);
    }
    console.error(`  ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return output;
}

if (import.meta.main) {
  const config = JSON.parse(
    (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ?? process.argv[2],
  ) as TimingConfig;
  console.log(JSON.stringify(await main(config)));
  // axios and node:http keep sockets alive; the answer is printed, so leave now.
  process.exit(0);
}
