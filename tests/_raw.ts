// The one home of the runtime detection, the raw node:net servers that answer with exact bytes,
// the builders of those bytes, and the slow writers (`trickle()`, `forever()`). Tests write
// responses with `response()`, `sized()`, `ok()`, `redirect()`, `chunk()`/`chunked()` and, for
// deliberately broken heads, `malformed()`; never an inline "HTTP/1.1 ..." string.
// tests/_server.ts re-exports all of it.

import type net from "node:net";
import { createServer } from "node:net";

/** The runtime under test (the suite is written for Deno and Bun; Node runs it too). */
export const RUNTIME: "deno" | "bun" | "node" = "Bun" in globalThis
  ? "bun"
  : "Deno" in globalThis
  ? "deno"
  : "node";
/** Whether the suite runs on Deno. */
export const IS_DENO: boolean = RUNTIME === "deno";
/** Whether the suite runs on Bun. */
export const IS_BUN: boolean = RUNTIME === "bun";
/** Whether the suite runs on Node. */
export const IS_NODE: boolean = RUNTIME === "node";

const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Response builders

/** One header line of a built response: name and value, written as `name: value`. */
export type HeaderLine = readonly [string, string];

/** How a built head's text becomes bytes: UTF-8, or one byte per character (Latin-1). */
export type HeadEncoding = "utf-8" | "latin1";

function bytesOf(text: string, encoding: HeadEncoding): Uint8Array {
  if (encoding === "utf-8") return encoder.encode(text);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new Error(`not Latin-1: ${JSON.stringify(text.slice(i, i + 20))}`);
    out[i] = code;
  }
  return out;
}

/** The pieces one after another, strings as UTF-8. */
export function join(parts: readonly (string | Uint8Array)[]): Uint8Array<ArrayBuffer> {
  const bytes = parts.map((part) => typeof part === "string" ? encoder.encode(part) : part);
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of bytes) {
    out.set(b, offset);
    offset += b.byteLength;
  }
  return out;
}

/**
 * An HTTP/1.1 response as exact bytes: status line, header lines in order, blank line, body;
 * nothing added. The head is UTF-8 unless `encoding` is "latin1" (a byte per character).
 */
export function response(
  status: string,
  headers: readonly HeaderLine[] = [],
  body: string | Uint8Array = "",
  encoding: HeadEncoding = "utf-8",
): Uint8Array {
  let head = `HTTP/1.1 ${status}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  head += "\r\n";
  return join([bytesOf(head, encoding), body]);
}

/** The byte length of a body as sent. */
function lengthOf(body: string | Uint8Array): number {
  return typeof body === "string" ? encoder.encode(body).byteLength : body.byteLength;
}

/** A complete response: `headers`, then a Content-Length that matches `body`. */
export function sized(
  status: string,
  headers: readonly HeaderLine[] = [],
  body: string | Uint8Array = "",
): Uint8Array {
  return response(status, [...headers, ["Content-Length", String(lengthOf(body))]], body);
}

/** A complete 200 OK with Content-Length, on a connection that stays open. */
export function ok(
  body: string | Uint8Array = "ok",
  extra: readonly HeaderLine[] = [],
): Uint8Array {
  return sized("200 OK", extra, body);
}

/**
 * A redirect with an empty body: `Location`, then `extra`, then Content-Length 0. The reason
 * phrase is "Redirect" unless `status` is given as text ("302 Found").
 */
export function redirect(
  status: number | string,
  location: string,
  extra: readonly HeaderLine[] = [],
  encoding: HeadEncoding = "utf-8",
): Uint8Array {
  const line = typeof status === "number" ? `${status} Redirect` : status;
  return response(line, [["Location", location], ...extra, ["Content-Length", "0"]], "", encoding);
}

/** One chunk of a chunked body: size in hex, the piece, CRLF; `chunk("")` is the last chunk. */
export function chunk(piece: string | Uint8Array): Uint8Array {
  return join([`${lengthOf(piece).toString(16)}\r\n`, piece, "\r\n"]);
}

/** A complete chunked response: `headers`, Transfer-Encoding, each piece a chunk, the last chunk. */
export function chunked(
  pieces: readonly (string | Uint8Array)[],
  headers: readonly HeaderLine[] = [],
  status = "200 OK",
): Uint8Array {
  return response(
    status,
    [...headers, ["Transfer-Encoding", "chunked"]],
    join([...pieces.map(chunk), chunk("")]),
  );
}

/** How `malformed()` frames its lines. */
export interface MalformedOptions {
  /** Bytes after the head. */
  body?: string | Uint8Array;
  /** The protocol of the status line; "HTTP/1.1" unless a test breaks that too. */
  protocol?: string;
  /** Whether the head ends with its blank line (true) or stops after the last line as given. */
  terminated?: boolean;
}

/**
 * A response whose head is given line by line, for heads no well-formed builder writes (folded
 * lines, cut heads): `${protocol} ` and the first line, the other lines as given, joined by CRLF,
 * then the blank line (unless `terminated` is false) and the body.
 */
export function malformed(lines: readonly string[], options: MalformedOptions = {}): Uint8Array {
  const { body = "", protocol = "HTTP/1.1", terminated = true } = options;
  const head = `${protocol} ${lines.join("\r\n")}${terminated ? "\r\n\r\n" : ""}`;
  return join([head, body]);
}

// ---------------------------------------------------------------------------------------------
// Raw servers

/** A raw TCP server that scripts exact bytes, counting connections. */
export interface RawServer {
  url: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Sockets still open. */
  readonly open: number;
  close(): Promise<void>;
}

/**
 * Starts a node:net server on 127.0.0.1 that counts its connections and tracks its sockets;
 * `handle` sets up each connection (numbered from 1). `close()` destroys what is still open.
 */
export function trackedServer(
  handle: (socket: net.Socket, connection: number) => void,
): Promise<RawServer> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    handle(socket, connection);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        get connections() {
          return connections;
        },
        get open() {
          return sockets.size;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Starts a raw server; `onRequest` gets each socket and the first request head (up to the blank
 * line) once it has arrived.
 */
export function rawServer(
  onRequest: (socket: net.Socket, head: string) => void,
): Promise<RawServer> {
  return trackedServer((socket) => {
    let head = "";
    const onData = (chunk: Uint8Array) => {
      head += latin1.decode(chunk);
      const end = head.indexOf("\r\n\r\n");
      if (end >= 0) {
        socket.off("data", onData);
        onRequest(socket, head.slice(0, end));
      }
    };
    socket.on("data", onData);
  });
}

/** One request as the scripted server received it. */
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
export interface Scripted extends RawServer {
  /** Every request so far, in arrival order. */
  readonly seen: Seen[];
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
    content = join([content, bytes.subarray(offset, offset + size)]);
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
      buffer = join([buffer, new Uint8Array(chunk)]);
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

// ---------------------------------------------------------------------------------------------
// Slow writers

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
