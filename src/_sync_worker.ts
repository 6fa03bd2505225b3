// The thread behind sync.ts: it sends each call with the async module and writes the outcome
// into shared memory for the caller, which is blocked in Atomics.wait and so cannot receive
// messages. Replies larger than the chunk buffer go in several handshakes. Importing this module
// does nothing: the worker's entry calls start().

import { redactUrl } from "./_url.ts";
import {
  CHUNK_LENGTH,
  LAST,
  MORE,
  READY,
  RECORD_LENGTH,
  STATE,
  TOTAL_LENGTH,
  type WireCall,
  type WireError,
  type WireInit,
  type WireResponse,
  type WireResult,
} from "./_sync_wire.ts";
import { RequestError, TooManyRedirectsError } from "./errors.ts";
import { nextHop } from "./redirects.ts";
import { request } from "./request.ts";
import type { Response } from "./response.ts";
import type { RequestOptions } from "./options.ts";

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
let control: Int32Array | null = null;
let chunk: Uint8Array | null = null;

/** A response record; `method` is the method of the request that got it. */
function record(response: Response, method: string, history: WireResponse[]): WireResponse {
  return {
    status: response.status_code,
    reason: response.reason,
    headers: response.raw === null ? [] : [...response.raw.headers],
    url: response.url,
    elapsed: response.elapsed,
    request: { method, url: response.url === "" ? "" : redactUrl(response.url) },
    history,
  };
}

/** Records for redirect hops, replaying how each hop changed the method; and the final method. */
function hops(history: readonly Response[], method: string): [WireResponse[], string] {
  const records: WireResponse[] = [];
  for (const hop of history) {
    records.push(record(hop, method, []));
    const location = hop.raw?.headers.get("location");
    if (location) {
      try {
        method = nextHop(hop.status_code, location, new URL(hop.url), method).method;
      } catch { /* the hop was followed, so its Location parsed */ }
    }
  }
  return [records, method];
}

function describeError(error: unknown, method: string): WireError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const wire: WireError = { name: error.name, message: error.message };
  if (error instanceof RequestError) {
    wire.request = { method: error.request.method, url: error.request.url };
    if (error instanceof TooManyRedirectsError) wire.history = hops(error.history, method)[0];
    if (error.response !== undefined) {
      wire.response = record(error.response, error.request.method, []);
    }
  }
  const cause = error.cause;
  if (cause instanceof Error) wire.cause = { name: cause.name, message: cause.message };
  else if (cause !== undefined) wire.cause = { name: "Error", message: String(cause) };
  return wire;
}

/** The options as the async module takes them, rebuilding what could not be copied as it was. */
function options(call: WireCall): RequestOptions | undefined {
  const given = call.options as Record<string, unknown> | undefined;
  if (call.dataKind === undefined || given === undefined) return given as RequestOptions;
  if (call.dataKind === "search-params") {
    return { ...given, data: new URLSearchParams(given.data as string) };
  }
  const form = new FormData();
  for (const [name, value, filename] of given.data as [string, string | Blob, string?][]) {
    if (typeof value === "string") form.append(name, value);
    else form.append(name, value, filename);
  }
  return { ...given, data: form };
}

async function run(call: WireCall): Promise<[WireResult, Uint8Array]> {
  const method = typeof call.method === "string" ? call.method.toUpperCase() : "";
  try {
    const response = await request(
      call.method as string,
      call.url as string,
      options(call),
    );
    const [history, last] = hops(response.history, method);
    return [{ ok: true, response: record(response, last, history) }, response.bytes];
  } catch (error) {
    return [{ ok: false, error: describeError(error, method) }, EMPTY];
  }
}

/** Writes `parts` through the chunk buffer, waiting for the caller to take each full one. */
function reply(parts: Uint8Array[]): void {
  if (control === null || chunk === null) return;
  let total = 0;
  for (const part of parts) total += part.byteLength;
  control[TOTAL_LENGTH] = total;
  control[RECORD_LENGTH] = parts[0].byteLength;
  let filled = 0;
  let sent = 0;
  for (const part of parts) {
    let offset = 0;
    while (offset < part.byteLength) {
      const n = Math.min(chunk.byteLength - filled, part.byteLength - offset);
      chunk.set(part.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      sent += n;
      if (filled === chunk.byteLength && sent < total) {
        control[CHUNK_LENGTH] = filled;
        Atomics.store(control, STATE, MORE);
        Atomics.notify(control, STATE);
        Atomics.wait(control, STATE, MORE);
        filled = 0;
      }
    }
  }
  control[CHUNK_LENGTH] = filled;
  Atomics.store(control, STATE, LAST);
  Atomics.notify(control, STATE);
}

async function onMessage(message: WireInit | WireCall): Promise<void> {
  if ("control" in message) {
    control = new Int32Array(message.control);
    chunk = new Uint8Array(message.chunk);
    Atomics.store(control, READY, 1);
    Atomics.notify(control, READY);
    return;
  }
  let parts: Uint8Array[];
  try {
    const [result, body] = await run(message);
    parts = [encoder.encode(JSON.stringify(result)), body];
  } catch (error) {
    // Whatever happens, answer: the caller waits for a reply and cannot see this thread fail.
    const result: WireResult = {
      ok: false,
      error: { name: "Error", message: `The sync worker failed: ${String(error)}` },
    };
    parts = [encoder.encode(JSON.stringify(result))];
  }
  reply(parts);
}

type Port = { on(event: "message", listener: (data: WireInit | WireCall) => void): void };

/** Answers the calls of sync.ts; run once, as the entry of its worker thread. */
export async function start(): Promise<void> {
  let port: Port | null = null;
  try {
    port = (await import("node:worker_threads")).parentPort as Port | null;
  } catch { /* a web worker without node:worker_threads */ }
  if (port !== null) {
    port.on("message", onMessage);
  } else {
    globalThis.addEventListener("message", (event) => {
      onMessage((event as MessageEvent<WireInit | WireCall>).data);
    });
  }
}
