// One memory scenario for one contender, in a fresh process started by bench/run.ts, so that
// nothing else has touched the heap. Prints one JSON line: the time, the bytes moved, the RSS
// before, the peak RSS during the transfer and their difference.
//
// The peak is the kernel's high-water mark (VmHWM in /proc/self/status), reset just before the
// transfer by writing 5 to /proc/self/clear_refs; where that is not available (not Linux) RSS
// is sampled every 5 ms instead.
//
//   <runtime> bench/memory.ts '{"base":"http://127.0.0.1:PORT","scenario":"stream_1g",...}'

import fs from "node:fs";
import process from "node:process";
import { load, type Name, source } from "./contenders.ts";

/** The memory scenarios. */
export type MemoryScenario = "buffered_100m" | "stream_1g" | "upload_1g";

/** What bench/run.ts asks of this process. */
export interface MemoryConfig {
  base: string;
  scenario: MemoryScenario;
  contender: Name;
  size: number;
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

const WARMUP = 1024 * 1024;

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

async function main(config: MemoryConfig): Promise<MemorySample> {
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
  const bytes = await run(config.size);
  const ms = performance.now() - started;
  clearInterval(sampler);
  const peak = hwm ? status("VmHWM")! : Math.max(sampled, process.memoryUsage.rss());
  if (bytes !== config.size) {
    throw new Error(`Moved ${bytes} bytes instead of ${config.size}`);
  }
  return {
    ms,
    bytes,
    baseline,
    peak,
    growth: peak - baseline,
    method: hwm ? "hwm" : "sampled",
  };
}

if (import.meta.main) {
  const config = JSON.parse(
    (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ??
      process.argv[2],
  ) as MemoryConfig;
  console.log(JSON.stringify(await main(config)));
  // axios and node:http keep sockets alive; the answer is printed, so leave now.
  process.exit(0);
}
