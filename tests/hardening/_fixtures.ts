// Fixtures of the hardening suite: slow writers, watchdogs, a TLS server, and the process's file
// descriptors and memory. The scripted node:net server, the byte-level response builders and the
// runtime detection live in tests/_raw.ts and are re-exported here.

import assert from "node:assert/strict";
import fs from "node:fs";
import type http from "node:http";
import https from "node:https";
import type net from "node:net";
import process from "node:process";
import v8 from "node:v8";
import vm from "node:vm";
import { RequestError } from "../../mod.ts";
export { closedPort } from "../_server.ts";
import { makeTestPki } from "../_tls.ts";
export * from "../_raw.ts";

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Writes `text` a character (or, for bytes, a byte) at a time, every `ms`, until it is all sent,
 * the socket closes, or `maxMs` passes, whichever comes first.
 */
export function trickle(
  socket: net.Socket,
  text: string | Uint8Array,
  ms: number,
  maxMs = 10_000,
): void {
  let i = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length || Date.now() - started > maxMs) {
      clearInterval(timer);
      return;
    }
    socket.write(typeof text === "string" ? text[i++] : text.subarray(i, ++i));
  }, ms);
  socket.on("close", () => clearInterval(timer));
}

/**
 * Calls `write` every `ms` until the socket closes or `maxMs` passes; the bounded loop behind
 * endless responses.
 */
export function forever(socket: net.Socket, ms: number, write: () => void, maxMs = 10_000): void {
  const started = Date.now();
  const timer = setInterval(() => {
    if (socket.destroyed || Date.now() - started > maxMs) {
      clearInterval(timer);
      return;
    }
    write();
  }, ms);
  socket.on("close", () => clearInterval(timer));
}

/** Rejects if `promise` takes longer than `ms`: the watchdog that turns a hang into a failure. */
export async function within<T>(ms: number, promise: Promise<T>, what = "the call"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung for more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

/** The rejection of `promise` (within `ms`), asserting that it rejected. */
export async function failure(promise: Promise<unknown>, ms = 10_000): Promise<Error> {
  let result: unknown;
  try {
    result = await within(ms, promise);
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    assert.doesNotMatch(error.message, /hung for more than/, error.message);
    return error;
  }
  assert.fail(`expected a rejection, got ${String(result)}`);
}

/** The rejection of `promise`, asserting it is an instance of `type` (a RequestError kind). */
export async function rejectsWith<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
  ms = 10_000,
): Promise<T> {
  const error = await failure(promise, ms);
  assert.ok(
    error instanceof type,
    `expected ${type.name}, got ${error.name}: ${error.message}`,
  );
  if (type !== (TypeError as unknown)) assert.ok(error instanceof RequestError);
  return error as T;
}

/** Polls `check` every 20 ms until it holds or `ms` passes; returns whether it held. */
export async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
}

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

/** A running HTTPS server with a certificate from a throwaway test CA. */
export interface TlsServer {
  url: string;
  port: number;
  /** The CA that signed the server's certificate, as PEM text (for `verify`). */
  ca: string;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A node:https server on 127.0.0.1 answering with `handler`, with a certificate from a fresh
 * CA made with openssl into a temp dir (removed on close).
 */
export async function tlsServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<TlsServer> {
  const pki = makeTestPki();
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = https.createServer({ key: pki.serverKey, cert: pki.serverCert }, handler);
  server.on("connection", (socket: net.Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    ca: pki.ca,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      pki.remove();
    },
  };
}
