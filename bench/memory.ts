// One memory scenario for one contender, in a fresh process started by bench/run.ts, so that
// nothing else has touched the heap. Prints one JSON line: the time, the bytes moved, the RSS
// before, the peak RSS during the transfer and their difference.
//
// The HTTP cache scenario (`cache_fill`): the module sends `responses` GETs of distinct URLs,
// each a `bodyBytes` body with max-age=3600, through one HttpCache over a MemoryCacheStore of
// `maxBytes`, reads each body (`r.bytes`) and waits for the store (`cache.flush()`); it also
// reports the store's final `size`. It stops the run unless every response came from the
// network, the last one is then a hit, and the store holds at least half of what it could.
// Raw fetch, as a reference, sends the same GETs and reads each body with `arrayBuffer()`.
//
// The peak is the kernel's high-water mark (VmHWM in /proc/self/status), reset just before the
// transfer by writing 5 to /proc/self/clear_refs; where that is not available (not Linux) RSS
// is sampled every 5 ms instead.
//
//   <runtime> bench/memory.ts '{"base":"http://127.0.0.1:PORT","scenario":"stream_1g",...}'

import fs from "node:fs";
import process from "node:process";
import { load, loadRequests, type Name, source } from "./contenders.ts";

/** The memory scenarios. */
export type MemoryScenario = "buffered_100m" | "stream_1g" | "upload_1g";

/** What bench/run.ts asks of this process. */
export interface MemoryConfig {
  base: string;
  scenario: MemoryScenario;
  contender: Name;
  size: number;
}

/** What bench/run.ts asks of this process for the HTTP cache scenario. */
export interface CacheFillConfig {
  base: string;
  scenario: "cache_fill";
  /** The module through the cache, or raw fetch without one (the reference). */
  contender: "fetch" | "requests";
  /** Distinct responses sent through the cache. */
  responses: number;
  /** The size of each body. */
  bodyBytes: number;
  /** The MemoryCacheStore's `max_bytes`. */
  maxBytes: number;
}

/** What this process reports. */
export interface MemorySample {
  ms: number;
  bytes: number;
  baseline: number;
  peak: number;
  growth: number;
  /** How the peak was taken: "hwm" (kernel high-water mark) or "sampled". */
  method: "hwm" | "sampled";
}

/** What the HTTP cache scenario reports. */
export interface CacheFillSample extends MemorySample {
  responses: number;
  maxBytes: number;
  /** The store's `size` at the end; null for raw fetch. */
  storeSize: number | null;
}

/** Per contender, the samples of the HTTP cache scenario (bench/run.ts saves them so). */
export type CacheFillResults = Record<CacheFillConfig["contender"], CacheFillSample[]>;

const WARMUP = 1024 * 1024;
/** Responses the HTTP cache scenario sends through a cache of their own before measuring. */
const WARMUP_RESPONSES = 20;

function gc(): void {
  const g = globalThis as {
    gc?: () => void;
    Bun?: { gc(force: boolean): void };
  };
  if (typeof g.gc === "function") g.gc();
  else g.Bun?.gc(true);
}

function status(field: "VmHWM" | "VmRSS"): number | null {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
      fs.readFileSync("/proc/self/status", "utf8"),
    );
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

function resetPeak(): boolean {
  try {
    fs.writeFileSync("/proc/self/clear_refs", "5");
    return status("VmHWM") !== null;
  } catch {
    return false;
  }
}

/**
 * Runs `transfer` with the peak RSS tracked: the RSS before it is taken after two collections,
 * the peak is the high-water mark reset just before it.
 */
async function tracked(transfer: () => Promise<number>): Promise<MemorySample> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
  const baseline = status("VmRSS") ?? process.memoryUsage.rss();
  const hwm = resetPeak();
  let sampled = baseline;
  const sampler = hwm ? undefined : setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 5);
  const started = performance.now();
  const bytes = await transfer();
  const ms = performance.now() - started;
  clearInterval(sampler);
  const peak = hwm ? status("VmHWM")! : Math.max(sampled, process.memoryUsage.rss());
  return {
    ms,
    bytes,
    baseline,
    peak,
    growth: peak - baseline,
    method: hwm ? "hwm" : "sampled",
  };
}

async function transferred(config: MemoryConfig): Promise<MemorySample> {
  const contender = await load(config.contender);
  const run = (size: number): Promise<number> => {
    switch (config.scenario) {
      case "buffered_100m":
        return contender.getBytes(`${config.base}/bytes?n=${size}`);
      case "stream_1g":
        return contender.streamBytes(`${config.base}/bytes?n=${size}`);
      case "upload_1g":
        return contender.upload(`${config.base}/upload`, source(size), size);
    }
  };
  // Warm up the code path and the connection with a small transfer of the same kind.
  if (await run(WARMUP) !== WARMUP) {
    throw new Error("Warm-up transfer came back short");
  }
  const sample = await tracked(() => run(config.size));
  if (sample.bytes !== config.size) {
    throw new Error(`Moved ${sample.bytes} bytes instead of ${config.size}`);
  }
  return sample;
}

/** The reference of the HTTP cache scenario: raw fetch, the same GETs, no cache. */
async function fetchFill(config: CacheFillConfig): Promise<CacheFillSample> {
  const url = (i: number) => `${config.base}/fresh-bytes?n=${config.bodyBytes}&i=${i}`;
  const fill = async (from: number, to: number) => {
    let bytes = 0;
    for (let i = from; i < to; i++) bytes += (await (await fetch(url(i))).arrayBuffer()).byteLength;
    return bytes;
  };
  await fill(-WARMUP_RESPONSES, 0);
  const sample = await tracked(() => fill(0, config.responses));
  return { ...sample, responses: config.responses, maxBytes: config.maxBytes, storeSize: null };
}

async function cacheFill(config: CacheFillConfig): Promise<CacheFillSample> {
  const requests = await loadRequests();
  const url = (i: number) => `${config.base}/fresh-bytes?n=${config.bodyBytes}&i=${i}`;
  const storeOf = () => new requests.MemoryCacheStore({ max_bytes: config.maxBytes });
  const fill = async (cache: InstanceType<typeof requests.HttpCache>, from: number, to: number) => {
    let bytes = 0;
    for (let i = from; i < to; i++) {
      const r = await requests.get(url(i), { cache });
      if (r.from_cache) throw new Error(`${url(i)} came from the cache on its first request`);
      bytes += r.bytes.byteLength;
    }
    await cache.flush();
    return bytes;
  };
  // Warm up the code path and the connection through a cache of their own, dropped before.
  await fill(new requests.HttpCache({ store: storeOf() }), -WARMUP_RESPONSES, 0);
  const store = storeOf();
  const cache = new requests.HttpCache({ store });
  const sample = await tracked(() => fill(cache, 0, config.responses));
  const last = await requests.get(url(config.responses - 1), { cache });
  const least = Math.min(config.maxBytes, config.responses * config.bodyBytes) / 2;
  if (!last.from_cache || store.size < least || store.size > config.maxBytes) {
    throw new Error(
      `The store holds ${store.size} bytes (expected ${least} to ${config.maxBytes}) and the ` +
        `last response came ${last.from_cache ? "from the cache" : "from the network"}`,
    );
  }
  return {
    ...sample,
    responses: config.responses,
    maxBytes: config.maxBytes,
    storeSize: store.size,
  };
}

/** The HTTP cache scenario for one contender; the bytes read are checked. */
async function cacheScenario(config: CacheFillConfig): Promise<CacheFillSample> {
  const sample = config.contender === "fetch" ? await fetchFill(config) : await cacheFill(config);
  const expected = config.responses * config.bodyBytes;
  if (sample.bytes !== expected) {
    throw new Error(`Read ${sample.bytes} bytes instead of ${expected}`);
  }
  return sample;
}

if (import.meta.main) {
  const config = JSON.parse(
    (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ??
      process.argv[2],
  ) as MemoryConfig | CacheFillConfig;
  const sample = config.scenario === "cache_fill"
    ? await cacheScenario(config)
    : await transferred(config);
  console.log(JSON.stringify(sample));
  // axios and node:http keep sockets alive; the answer is printed, so leave now.
  process.exit(0);
}
