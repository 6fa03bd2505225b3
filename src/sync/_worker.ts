// The thread behind sync.ts: it sends each call with the async module and writes the outcome
// into shared memory for the caller, which is blocked in Atomics.wait and so cannot receive
// messages. Replies larger than the chunk buffer go in several handshakes. It keeps the real
// Session and HTTPDigestAuth objects of the sync API, by id, and bumps a heartbeat while it
// works so the caller can tell a busy worker from a dead one. Importing this module does
// nothing: the worker's entry calls start().

import {
  CHUNK_LENGTH,
  HEARTBEAT,
  HEARTBEAT_MS,
  LAST,
  MORE,
  READY,
  RECORD_LENGTH,
  STATE,
  TOTAL_LENGTH,
  type WireAsk,
  type WireCall,
  type WireDigest,
  type WireError,
  type WireMessage,
  type WireOpen,
  type WireOptions,
  type WireResponse,
  type WireResult,
  type WireSessionCall,
} from "./_wire.ts";
import { type Cookie, replaceCookies } from "../cookies/jar.ts";
import { HTTPDigestAuth } from "../digest_auth.ts";
import { ERROR_CLASSES, RequestError, TooManyRedirectsError } from "../errors.ts";
import type { Auth, RequestOptions } from "../options.ts";
import { request } from "../request.ts";
import type { Response } from "../response.ts";
import { Session, type SessionOptions } from "../session.ts";

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
let control: Int32Array | null = null;
let chunk: Uint8Array | null = null;
const sessions = new Map<number, Session>();
const digests = new Map<number, HTTPDigestAuth>();

/** A response record, with its redirects (the history of each is the ones before it). */
function record(response: Response, history: readonly Response[] = response.history): WireResponse {
  const sent = response.request;
  return {
    status: response.status_code,
    reason: response.reason,
    headers: response.raw === null ? [] : [...response.raw.headers],
    url: response.url,
    elapsed: response.elapsed,
    request: { method: sent.method, url: sent.url, headers: { ...sent.headers } },
    history: history.map((hop) => record(hop, [])),
    cache: response.from_cache || response.cache_status !== null
      ? { fromCache: response.from_cache, status: response.cache_status }
      : null,
  };
}

/** An error as it crosses back: its class by name (see ERROR_CLASSES) and what it carries. */
export function describeError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const wire: WireError = { name: error.name, message: error.message };
  if (error instanceof RequestError) {
    // A class outside the table (none today) crosses as its nearest known kind.
    if (!Object.hasOwn(ERROR_CLASSES, error.name)) wire.name = RequestError.name;
    wire.request = { method: error.request.method, url: error.request.url };
    if (error instanceof TooManyRedirectsError) {
      wire.history = error.history.map((hop) => record(hop, []));
    }
    if (error.response !== undefined) wire.response = record(error.response);
    const doc = (error as { doc?: unknown }).doc;
    if (typeof doc === "string") wire.doc = doc;
  }
  const cause = error.cause;
  if (cause instanceof Error) wire.cause = { name: cause.name, message: cause.message };
  else if (cause !== undefined) wire.cause = { name: "Error", message: String(cause) };
  return wire;
}

/** The worker's HTTPDigestAuth for `wire`, made on first use so nonce counts carry on. */
function digestFor(wire: WireDigest): HTTPDigestAuth {
  let auth = digests.get(wire.id);
  if (auth === undefined) {
    auth = new HTTPDigestAuth(wire.username, wire.password);
    digests.set(wire.id, auth);
  }
  return auth;
}

/** The options as the async module takes them, rebuilding what could not be copied as it was. */
function options(wire: WireOptions): RequestOptions | undefined {
  const given = wire.options as Record<string, unknown> | undefined;
  if (given === undefined || given === null || typeof given !== "object") {
    return given as RequestOptions | undefined;
  }
  const out = { ...given };
  if (wire.digest !== undefined) out.auth = digestFor(wire.digest);
  if (wire.dataKind === "search-params") {
    out.data = new URLSearchParams(given.data as string);
  } else if (wire.dataKind === "form-data") {
    const form = new FormData();
    for (const [name, value, filename] of given.data as [string, string | Blob, string?][]) {
      if (typeof value === "string") form.append(name, value);
      else form.append(name, value, filename);
    }
    out.data = form;
  }
  return out as RequestOptions;
}

/** The session of a call, with the state the caller sent. */
function sessionFor(wire: WireSessionCall): Session {
  const session = sessions.get(wire.id);
  // The caller opens a session in every worker before its first call there.
  if (session === undefined) throw new Error(`The sync session ${wire.id} is not open`);
  session.headers = new Headers(wire.headers);
  session.auth = wire.digest === undefined ? wire.auth as Auth | null : digestFor(wire.digest);
  session.params = wire.params as Session["params"];
  replaceCookies(session.cookies, wire.cookies);
  return session;
}

function open(message: WireOpen): WireResult {
  const session = new Session(options(message) as SessionOptions | undefined);
  sessions.set(message.session, session);
  return {
    ok: true,
    session: {
      headers: [...session.headers],
      params: session.params,
      cookies: [...session.cookies],
    },
  };
}

async function send(message: WireCall): Promise<[WireResult, Uint8Array]> {
  let session: Session | undefined;
  let cookies: Cookie[] | undefined;
  try {
    session = message.session === undefined ? undefined : sessionFor(message.session);
    const method = message.method as string;
    const url = message.url as string;
    const response = session === undefined
      ? await request(method, url, options(message))
      : await session.request(method, url, options(message));
    if (session !== undefined) cookies = [...session.cookies];
    return [{ ok: true, response: record(response), cookies }, response.bytes];
  } catch (error) {
    if (session !== undefined) cookies = [...session.cookies];
    return [{ ok: false, error: describeError(error), cookies }, EMPTY];
  }
}

async function answer(message: WireAsk): Promise<Uint8Array[]> {
  try {
    if (message.kind === "open") {
      let result: WireResult;
      try {
        result = open(message);
      } catch (error) {
        result = { ok: false, error: describeError(error) };
      }
      return [encoder.encode(JSON.stringify(result))];
    }
    const [result, body] = await send(message);
    return [encoder.encode(JSON.stringify(result)), body];
  } catch (error) {
    // Whatever happens, answer: the caller waits for a reply and cannot see this thread fail.
    const result: WireResult = {
      ok: false,
      error: { name: "Error", message: `The sync worker failed: ${String(error)}` },
    };
    return [encoder.encode(JSON.stringify(result))];
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

function beat(): void {
  if (control !== null) Atomics.add(control, HEARTBEAT, 1);
}

async function onMessage(message: WireMessage): Promise<void> {
  if (message.kind === "init") {
    control = new Int32Array(message.control);
    chunk = new Uint8Array(message.chunk);
    Atomics.store(control, READY, 1);
    Atomics.notify(control, READY);
    return;
  }
  if (message.kind === "free") {
    if (message.session !== undefined) {
      sessions.get(message.session)?.close();
      sessions.delete(message.session);
    }
    if (message.digest !== undefined) digests.delete(message.digest);
    return;
  }
  // A timer, not a bump per await: it stops when this thread's event loop does, dead or stuck.
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  try {
    reply(await answer(message));
  } finally {
    clearInterval(timer);
  }
}

type Port = { on(event: "message", listener: (data: WireMessage) => void): void };

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
      onMessage((event as MessageEvent<WireMessage>).data);
    });
  }
}
