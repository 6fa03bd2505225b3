// What crosses between sync.ts (the blocked caller) and _sync_worker.ts (the thread that sends):
// the shape of a call and of its outcome, and the shared-memory handshake that carries the
// outcome back in chunks while the caller waits in Atomics.wait.

/** The request info of a response or an error, as plain data. */
export interface WireRequest {
  method: string;
  url: string;
}

/** A response without its body. */
export interface WireResponse {
  status: number;
  reason: string;
  /** Header fields in the order the platform gives them; each Set-Cookie is its own pair. */
  headers: [string, string][];
  url: string;
  elapsed: number;
  request: WireRequest;
  history: WireResponse[];
}

/** An error, by class name, with what its class carries. */
export interface WireError {
  name: string;
  message: string;
  request?: WireRequest;
  response?: WireResponse;
  history?: WireResponse[];
  cause?: { name: string; message: string };
}

/** The outcome of a call; a response's body follows this record in the reply. */
export type WireResult = { ok: true; response: WireResponse } | { ok: false; error: WireError };

/** A call. `dataKind` says how to rebuild a `data` that could not be copied as it was. */
export interface WireCall {
  method: unknown;
  url: unknown;
  options: unknown;
  dataKind?: "form-data" | "search-params";
}

/** The first message to the worker: the shared memory of the handshake. */
export interface WireInit {
  control: SharedArrayBuffer;
  chunk: SharedArrayBuffer;
}

/** Slots of the control array. */
export const STATE = 0;
export const READY = 1;
export const CHUNK_LENGTH = 2;
export const TOTAL_LENGTH = 3;
export const RECORD_LENGTH = 4;
export const CONTROL_SLOTS = 5;

/** Values of the STATE slot. */
export const WAITING = 0;
export const MORE = 1;
export const LAST = 2;

/** The size of the shared chunk buffer; bigger replies take several handshakes. */
export const CHUNK_BYTES: number = 1 << 20;
