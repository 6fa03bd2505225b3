// The timing scenarios, run by bench/run.ts in one child process that loads every contender:
// for each scenario, warm-up rounds, then rounds in which every contender runs one batch, the
// order rotating from round to round. Prints one JSON line: per scenario and contender, the
// per-request time (µs) of each round's batch.
//
//   <runtime> bench/timing.ts '{"base":"http://127.0.0.1:PORT","rounds":30,...}'

import { type Contender, load, type Name, NAMES } from "./contenders.ts";

/** What bench/run.ts asks of this process. */
export interface TimingConfig {
  base: string;
  rounds: number;
  warmup: number;
  /** Sequential requests per batch in the small GET and POST scenarios. */
  batch: number;
  /** Requests per batch in the 64 KiB scenario, and how many are in flight at once. */
  flightTotal: number;
  inFlight: number;
  scenarios: ScenarioName[];
  /**
   * Force a full collection before each batch (off by default: bench/NOTES.md says why), and
   * rotate the order instead of shuffling it.
   */
  gc?: boolean;
}

export type ScenarioName = "small_get" | "flight_64k" | "small_post";

/** Per scenario, per contender: µs per request in each measured round. */
export type TimingSamples = Record<ScenarioName, Record<Name, number[]>>;

const PAYLOAD = {
  id: 7,
  name: "requests",
  tags: ["a", "b", "c"],
  nested: { ok: true, count: 3, ratio: 0.5 },
};

const gc: () => void = (() => {
  const g = globalThis as {
    gc?: () => void;
    Bun?: { gc(force: boolean): void };
  };
  if (typeof g.gc === "function") return g.gc;
  if (g.Bun !== undefined) return () => g.Bun!.gc(true);
  return () => {};
})();

type Batch = (c: Contender) => Promise<void>;

/**
 * The contenders in a new order each round (a seeded shuffle, the same in every run): each one
 * pays, on average alike, for collecting the garbage of whichever ran before it. A rotation would
 * put every contender after the same neighbour every round.
 */
function shuffled(round: number): Name[] {
  let seed = 0x2545f491 ^ (round + 1000);
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const order = [...NAMES];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function sequential(
  count: number,
  one: (c: Contender) => Promise<unknown>,
  check: (v: unknown) => boolean,
): Batch {
  return async (c) => {
    for (let i = 0; i < count; i++) {
      const value = await one(c);
      if (i === 0 && !check(value)) {
        throw new Error(`Unexpected answer ${JSON.stringify(value)}`);
      }
    }
  };
}

function inFlight(url: string, total: number, width: number): Batch {
  return async (c) => {
    let next = 0;
    const worker = async () => {
      while (next < total) {
        next++;
        const n = await c.getBytes(url);
        if (n !== 65536) throw new Error(`Got ${n} bytes instead of 65536`);
      }
    };
    await Promise.all(Array.from({ length: width }, worker));
  };
}

async function main(config: TimingConfig): Promise<TimingSamples> {
  const contenders = new Map<Name, Contender>();
  for (const name of NAMES) contenders.set(name, await load(name));
  const batches: Record<ScenarioName, [Batch, number]> = {
    small_get: [
      sequential(
        config.batch,
        (c) => c.getJson(`${config.base}/json`),
        (v) => (v as { id?: number }).id === 1042,
      ),
      config.batch,
    ],
    flight_64k: [
      inFlight(
        `${config.base}/bytes?n=65536`,
        config.flightTotal,
        config.inFlight,
      ),
      config.flightTotal,
    ],
    small_post: [
      sequential(
        config.batch,
        (c) => c.postJson(`${config.base}/json`, PAYLOAD),
        (v) => (v as { id?: number }).id === 7,
      ),
      config.batch,
    ],
  };
  const out = {} as TimingSamples;
  for (const scenario of config.scenarios) {
    const [batch, requests] = batches[scenario];
    const samples = {} as Record<Name, number[]>;
    for (const name of NAMES) samples[name] = [];
    for (let round = -config.warmup; round < config.rounds; round++) {
      const shift = ((round % NAMES.length) + NAMES.length) % NAMES.length;
      const order = config.gc === true
        ? [...NAMES.slice(shift), ...NAMES.slice(0, shift)]
        : shuffled(round);
      for (const name of order) {
        if (config.gc === true) gc();
        const started = performance.now();
        await batch(contenders.get(name)!);
        const us = (performance.now() - started) * 1000 / requests;
        if (round >= 0) samples[name].push(us);
      }
    }
    out[scenario] = samples;
    console.error(`  ${scenario}: done`);
  }
  return out;
}

if (import.meta.main) {
  const config = JSON.parse(
    (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ??
      (await import("node:process")).default.argv[2],
  ) as TimingConfig;
  console.log(JSON.stringify(await main(config)));
}
