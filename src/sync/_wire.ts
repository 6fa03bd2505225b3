// What crosses between the blocked caller (sync.ts and its Session) and _worker.ts (the
// thread that sends): the shape of the messages and of their outcomes, and the shared-memory
// handshake that carries an outcome back in chunks while the caller waits in Atomics.wait.

import type { Cookie } from "../cookies/jar.ts";

/** The request info of an error, as plain data. */
export interface WireRequest {
  method: string;
  url: string;
}

/** What was sent for a response: `Response.request`, as plain data. */
export interface WireSent extends WireRequest {
  headers: Record<string, string>;
}

/** A response without its body. */
export interface WireResponse {
  status: number;
  reason: string;
  /** Header fields in the order the platform gives them; each Set-Cookie is its own pair. */
  headers: [string, string][];
  url: string;
  elapsed: number;
  request: WireSent;
  /**
   * The redirects before it, oldest first, each without a history of its own: the history of
   * the i-th one is the i before it, as the request core builds it.
   */
  history: WireResponse[];
  /** What an HTTP cache did for it (a sync Session's `cache: true`), or null. */
  cache?: { fromCache: boolean; status: string | null } | null;
}

/** An error, by class name, with what its class carries. */
export interface WireError {
  name: string;
  message: string;
  request?: WireRequest;
  response?: WireResponse;
  history?: WireResponse[];
  /** The text a JSONDecodeError could not parse. */
  doc?: string;
  cause?: { name: string; message: string };
}

/** The state of a session that the caller keeps and sends with each call. */
export interface WireSessionState {
  headers: [string, string][];
  params: unknown;
  cookies: Cookie[];
}

/**
 * The outcome of a message that is answered. A response's body follows the record in the reply;
 * `cookies` is the session's jar after a session call, whatever its outcome.
 */
export type WireResult =
  | { ok: true; response: WireResponse; cookies?: Cookie[] }
  | { ok: true; session: WireSessionState }
  | { ok: false; error: WireError; cookies?: Cookie[] };

/** An `HTTPDigestAuth` of the sync API: the worker keeps the real one per id. */
export interface WireDigest {
  id: number;
  username: string;
  password: string;
}

/**
 * Options as they cross: `dataKind` says how to rebuild a `data` that could not be copied as it
 * was; `digest`, when set, is the `auth`.
 */
export interface WireOptions {
  options: unknown;
  dataKind?: "form-data" | "search-params";
  digest?: WireDigest;
}

/** The per-call state of the session a call goes through. */
export interface WireSessionCall {
  id: number;
  headers: [string, string][];
  /** The session's `auth`, unless `digest` is set. */
  auth: unknown;
  digest?: WireDigest;
  params: unknown;
  cookies: Cookie[];
}

/** A request, alone or through the session `session`. */
export interface WireCall extends WireOptions {
  kind: "call";
  method: unknown;
  url: unknown;
  session?: WireSessionCall;
}

/** Creates session `session` in the worker from its defaults; answered with its state. */
export interface WireOpen extends WireOptions {
  kind: "open";
  session: number;
}

/** Frees what the worker keeps for a session or a digest state; not answered. */
export interface WireFree {
  kind: "free";
  session?: number;
  digest?: number;
}

/** A message that the worker answers through shared memory. */
export type WireAsk = WireCall | WireOpen;

/** The first message to the worker: the shared memory of the handshake. */
export interface WireInit {
  kind: "init";
  control: SharedArrayBuffer;
  chunk: SharedArrayBuffer;
}

/** Any message to the worker. */
export type WireMessage = WireInit | WireAsk | WireFree;

/** Slots of the control array. */
export const STATE = 0;
export const READY = 1;
export const CHUNK_LENGTH = 2;
export const TOTAL_LENGTH = 3;
export const RECORD_LENGTH = 4;
/** Bumped by the worker while it works on a message: the caller's sign of life. */
export const HEARTBEAT = 5;
export const CONTROL_SLOTS = 6;

/** Values of the STATE slot. */
export const WAITING = 0;
export const MORE = 1;
export const LAST = 2;

/** How often the worker bumps HEARTBEAT while it works on a message. */
export const HEARTBEAT_MS = 50;

/** The size of the shared chunk buffer; bigger replies take several handshakes. */
export const CHUNK_BYTES: number = 1 << 20;
