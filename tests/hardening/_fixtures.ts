// Fixtures of the hardening suite: the process's file descriptors and memory, and a bounded
// pool for load. The general fixtures live in tests/_fixtures.ts (watchdogs and waits),
// tests/_raw.ts (raw servers, response builders, slow writers) and tests/_tls.ts (the test PKI
// and an HTTPS server).

import fs from "node:fs";
import process from "node:process";
import v8 from "node:v8";
import vm from "node:vm";
import { sleep } from "../_fixtures.ts";

/** Open file descriptors of this process (Linux), or -1 where /proc is missing. */
export function fds(): number {
  try {
    return fs.readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
}

let collect: (() => void) | null | undefined;

/** Runs a full garbage collection where the runtime allows one. */
export function gc(): void {
  if (collect === undefined) {
    const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
    if (bun !== undefined) {
      collect = () => bun.gc(true);
    } else {
      try {
        v8.setFlagsFromString("--expose-gc");
        collect = vm.runInNewContext("gc") as () => void;
      } catch {
        collect = null;
      }
    }
  }
  collect?.();
}

/** Resident set size in bytes. */
export function rss(): number {
  return process.memoryUsage().rss;
}

/** Resident set size after collecting garbage twice, with a pause for freed pages to go back. */
export async function settledRss(): Promise<number> {
  gc();
  await sleep(50);
  gc();
  await sleep(50);
  return rss();
}

/** Samples RSS every 5 ms while `run` runs; returns its result and the highest RSS seen. */
export async function peakRss<T>(run: () => Promise<T>): Promise<[T, number]> {
  let peak = rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 5);
  try {
    const result = await run();
    peak = Math.max(peak, rss());
    return [result, peak];
  } finally {
    clearInterval(timer);
  }
}

/** Runs `task(i)` for i in [0, count) with at most `limit` in flight. */
export async function pool<T>(
  count: number,
  limit: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

/** Mebibytes, for messages. */
export const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
