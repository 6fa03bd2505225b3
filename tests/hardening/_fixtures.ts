// Fixtures of the hardening suite: a node:net server that parses every request on every
// keep-alive connection and answers with exact bytes, byte-level response builders, watchdogs,
// and the process's file descriptors and memory.

import assert from "node:assert/strict";
import fs from "node:fs";
import type http from "node:http";
import https from "node:https";
import type net from "node:net";
import process from "node:process";
import v8 from "node:v8";
import vm from "node:vm";
import { RequestError } from "../../mod.ts";
import { trackedServer } from "../_server.ts";
export { closedPort } from "../_server.ts";
import { makeTestPki } from "../_tls.ts";

/** The runtime under test (the suite is written for Deno and Bun; Node runs it too). */
export const RUNTIME: "deno" | "bun" | "node" = "Bun" in globalThis
  ? "bun"
  : "Deno" in globalThis
  ? "deno"
  : "node";

const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One request as the server received it. */
export interface Seen {
  method: string;
  target: string;
  /** Lower-cased name to values, in received order. */
  headers: Map<string, string[]>;
  /** The head exactly as received, up to the blank line. */
  head: string;
  body: Uint8Array;
  /** Which connection (1-based) carried it. */
  connection: number;
}

/** The value of a header of a seen request (values joined by ", "), or null. */
export function headerOf(seen: Seen, name: string): string | null {
  const values = seen.headers.get(name.toLowerCase());
  return values === undefined ? null : values.join(", ");
}

/** A running scripted server. */
export interface Scripted {
  url: string;
  port: number;
  /** Every request so far, in arrival order. */
  readonly seen: Seen[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Sockets still open. */
  readonly open: number;
  close(): Promise<void>;
}

/** Answers one request by writing to the socket (and ending it, or not). */
export type Reply = (seen: Seen, socket: net.Socket) => void;

function parseHead(head: string, connection: number): Omit<Seen, "body"> {
  const lines = head.split("\r\n");
  const [method = "", target = ""] = lines[0].split(" ");
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const list = headers.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    headers.set(name, list);
  }
  return { method, target, headers, head, connection };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/** The length of a complete chunked body at the start of `bytes` and its content, or null. */
function dechunk(bytes: Uint8Array): [number, Uint8Array] | null {
  let offset = 0;
  let content: Uint8Array = new Uint8Array(0);
  for (let guard = 0; guard < 100_000; guard++) {
    const text = latin1.decode(bytes.subarray(offset, offset + 64));
    const end = text.indexOf("\r\n");
    if (end < 0) return null;
    const size = parseInt(text.slice(0, end), 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk size line ${JSON.stringify(text)}`);
    offset += end + 2;
    if (size === 0) {
      const rest = latin1.decode(bytes.subarray(offset));
      const trailerEnd = rest.indexOf("\r\n");
      if (trailerEnd < 0) return null;
      // Trailers are not expected; the chunked body ends with an empty line.
      return [offset + trailerEnd + 2, content];
    }
    if (bytes.byteLength < offset + size + 2) return null;
    content = concat(content, bytes.subarray(offset, offset + size));
    offset += size + 2;
  }
  throw new Error("too many chunks");
}

/**
 * A node:net server on 127.0.0.1 that parses each request (head and a Content-Length or
 * chunked body) on every connection, records it (unless `record` is false: load tests), and lets
 * `reply` write the exact answer.
 */
export async function scripted(reply: Reply, record = true): Promise<Scripted> {
  const seen: Seen[] = [];
  const server = await trackedServer((socket, connection) => {
    let buffer: Uint8Array = new Uint8Array(0);
    let pending: Omit<Seen, "body"> | null = null;
    let bodyLength: number | "chunked" = 0;
    socket.on("data", (chunk: Uint8Array) => {
      buffer = concat(buffer, new Uint8Array(chunk));
      for (let guard = 0; guard < 1000; guard++) {
        if (pending === null) {
          const text = latin1.decode(buffer.subarray(0, Math.min(buffer.byteLength, 1 << 20)));
          const end = text.indexOf("\r\n\r\n");
          if (end < 0) return;
          pending = parseHead(text.slice(0, end), connection);
          buffer = buffer.subarray(end + 4);
          const te = pending.headers.get("transfer-encoding")?.join(",") ?? "";
          bodyLength = /chunked/i.test(te)
            ? "chunked"
            : Number(pending.headers.get("content-length")?.[0] ?? 0);
        }
        let body: Uint8Array;
        if (bodyLength === "chunked") {
          const done = dechunk(buffer);
          if (done === null) return;
          body = done[1];
          buffer = buffer.subarray(done[0]);
        } else {
          if (buffer.byteLength < bodyLength) return;
          body = buffer.slice(0, bodyLength);
          buffer = buffer.subarray(bodyLength);
        }
        const request: Seen = { ...pending, body };
        pending = null;
        if (record) seen.push(request);
        if (!socket.destroyed) reply(request, socket);
      }
    });
  });
  return Object.assign(server, { seen });
}

/** An HTTP/1.1 response as exact bytes: status line, header lines in order, blank line, body. */
export function response(
  status: string,
  headers: readonly (readonly [string, string])[] = [],
  body: string | Uint8Array = "",
): Uint8Array {
  let head = `HTTP/1.1 ${status}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  head += "\r\n";
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  return concat(encoder.encode(head), bytes);
}

/** A complete response with Content-Length, on a connection that stays open. */
export function ok(body: string | Uint8Array = "ok", extra: [string, string][] = []): Uint8Array {
  const length = typeof body === "string" ? encoder.encode(body).byteLength : body.byteLength;
  return response("200 OK", [...extra, ["Content-Length", String(length)]], body);
}

/** A redirect with an empty body, on a connection that stays open. */
export function redirect(status: number, location: string): Uint8Array {
  return response(`${status} Redirect`, [["Location", location], ["Content-Length", "0"]]);
}

/**
 * Writes `text` one slice at a time, every `ms`, until it is all sent, the socket closes, or
 * `maxMs` passes, whichever comes first.
 */
export function trickle(socket: net.Socket, text: string, ms: number, maxMs = 10_000): void {
  let i = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length || Date.now() - started > maxMs) {
      clearInterval(timer);
      return;
    }
    socket.write(text[i++]);
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
