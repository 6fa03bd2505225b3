// The worker thread of the sync API and the shared memory of its handshake. The caller blocks
// in Atomics.wait, so it can receive no event from the worker while it waits: it waits in slices
// and reads the heartbeat the worker bumps while it works, and takes a worker that shows no sign
// of life for SILENCE_MS as dead. Liveness decides, not how long a call takes.

// Only to keep the worker's module in the graph (see Channel); importing it does nothing.
import "./_worker.ts";
import {
  CHUNK_BYTES,
  CHUNK_LENGTH,
  CONTROL_SLOTS,
  HEARTBEAT,
  LAST,
  READY,
  RECORD_LENGTH,
  STATE,
  TOTAL_LENGTH,
  WAITING,
  type WireAsk,
  type WireFree,
  type WireResult,
} from "./_wire.ts";
import { RequestError, type RequestInfo } from "../errors.ts";

/** How long the worker may take to start before the call fails. */
const STARTUP_MS = 15_000;
/** How long a worker working on a call may go without a heartbeat before it is taken as dead. */
const SILENCE_MS = 1000;
/**
 * How long a worker may take to show that it has the message at all: it beats only once the
 * message is copied into its thread, which for a big one can take a while (Deno's
 * node:worker_threads copies a Uint8Array at about 5 MB/s).
 */
const RECEIPT_MS = 5000;
/** How long the caller sleeps between two looks at the heartbeat. */
const SLICE_MS = 50;
const decoder = new TextDecoder();

/** The parts of a worker that are used, from node:worker_threads or the web. */
interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
  unref?(): void;
  on?(event: "error" | "exit", listener: () => void): void;
  addEventListener?(event: "error", listener: (event: Event) => void): void;
}
type WorkerClass = new (url: URL, options?: { type?: "module" }) => WorkerLike;
type GetBuiltinModule = (id: "node:worker_threads") => { Worker?: WorkerClass } | undefined;
type DenoPermissions = {
  requestSync(descriptor: { name: "read"; path: URL }): { state: string };
};

/**
 * Deno loads a worker's local modules only with read access to them; without it the worker
 * fails where the blocked caller cannot see it, so ask first (this prompts where Deno would).
 */
function checkReadAccess(worker: URL): void {
  const permissions = (globalThis as { Deno?: { permissions?: DenoPermissions } }).Deno
    ?.permissions;
  if (permissions === undefined || worker.protocol !== "file:") return;
  const dir = new URL("./", worker);
  if (permissions.requestSync({ name: "read", path: dir }).state !== "granted") {
    const path = decodeURIComponent(dir.pathname);
    throw new Error(
      `Cannot use the sync API: its worker thread needs read access to ${JSON.stringify(path)} ` +
        `(run with --allow-read=${path})`,
    );
  }
}

function startWorker(): WorkerLike {
  // The entry imports the worker module, which this module imports too: so it is in the module
  // graph and cached when sync.ts is (Deno fetches a worker's remote modules on the calling
  // thread, which is about to block).
  const worker = new URL("./_worker.ts", import.meta.url);
  checkReadAccess(worker);
  const entry = new URL(
    `data:text/javascript,${
      encodeURIComponent(`import { start } from ${JSON.stringify(worker.href)}; start();`)
    }`,
  );
  // node:worker_threads first: its workers can be unref'd (Deno's web Worker cannot).
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: GetBuiltinModule } })
    .process?.getBuiltinModule;
  const NodeWorker = typeof getBuiltin === "function"
    ? getBuiltin("node:worker_threads")?.Worker
    : undefined;
  const WebWorker = (globalThis as { Worker?: WorkerClass }).Worker;
  if (NodeWorker !== undefined) return new NodeWorker(entry);
  if (WebWorker !== undefined) return new WebWorker(entry, { type: "module" });
  throw new TypeError("Cannot use the sync API: this runtime has no Worker");
}

/** One worker thread and the shared memory of its handshake; once dead, never used again. */
export class Channel {
  #worker: WorkerLike;
  #control: Int32Array;
  #chunk: Uint8Array;
  #dead = false;

  constructor() {
    const control = new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const chunk = new SharedArrayBuffer(CHUNK_BYTES);
    this.#control = new Int32Array(control);
    this.#chunk = new Uint8Array(chunk);
    this.#worker = startWorker();
    this.#worker.unref?.();
    // Heard only between calls, when this thread's event loop turns: then the next call starts
    // a new worker at once. Listening also keeps a worker's failure from failing the process.
    const died = () => this.#dead = true;
    if (typeof this.#worker.on === "function") {
      this.#worker.on("error", died);
      this.#worker.on("exit", died);
    } else {
      this.#worker.addEventListener?.("error", (event) => {
        event.preventDefault();
        died();
      });
    }
    this.#worker.postMessage({ kind: "init", control, chunk });
    if (Atomics.wait(this.#control, READY, 0, STARTUP_MS) === "timed-out") {
      this.#kill();
      throw new Error(`Cannot use the sync API: its worker did not start within ${STARTUP_MS} ms`);
    }
  }

  /** Whether the worker is known to have died or been given up. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Sends a message that is not answered; nothing happens when the worker is gone. */
  post(message: WireFree): void {
    if (this.#dead) return;
    try {
      this.#worker.postMessage(message);
    } catch { /* a worker that is gone frees everything anyway */ }
  }

  /**
   * Sends `message` and blocks until the whole reply has arrived: its record and its body. A
   * value that cannot be copied throws the platform's error as it is.
   *
   * @throws {RequestError} About `info`, when the worker shows no sign of life for SILENCE_MS.
   */
  send(message: WireAsk, info: RequestInfo): [WireResult, Uint8Array] {
    const control = this.#control;
    Atomics.store(control, STATE, WAITING);
    this.#worker.postMessage(message);
    let reply: Uint8Array | null = null;
    let filled = 0;
    const unheard = Atomics.load(control, HEARTBEAT);
    let beat = unheard;
    let alive = performance.now();
    for (;;) {
      Atomics.wait(control, STATE, WAITING, SLICE_MS);
      const state = Atomics.load(control, STATE);
      if (state === WAITING) {
        const now = Atomics.load(control, HEARTBEAT);
        if (now !== beat) {
          beat = now;
          alive = performance.now();
        } else if (performance.now() - alive > (beat === unheard ? RECEIPT_MS : SILENCE_MS)) {
          this.#kill();
          throw new RequestError(
            `The sync API's worker thread died or stopped answering (no sign of life for ` +
              `${beat === unheard ? RECEIPT_MS : SILENCE_MS} ms); the next call starts a new one`,
            { request: info },
          );
        }
        continue;
      }
      const length = control[CHUNK_LENGTH];
      reply ??= new Uint8Array(control[TOTAL_LENGTH]);
      reply.set(this.#chunk.subarray(0, length), filled);
      filled += length;
      if (state === LAST) break;
      alive = performance.now();
      Atomics.store(control, STATE, WAITING);
      Atomics.notify(control, STATE);
    }
    const split = control[RECORD_LENGTH];
    const result = JSON.parse(decoder.decode(reply.subarray(0, split))) as WireResult;
    return [result, reply.subarray(split)];
  }

  #kill(): void {
    this.#dead = true;
    try {
      // Node's terminate() returns a promise; a worker that is already gone may reject it.
      Promise.resolve(this.#worker.terminate()).catch(() => {});
    } catch { /* already gone */ }
  }
}

let current: Channel | null = null;

/** The live channel, started on first use and again after a worker died. */
export function channel(): Channel {
  if (current === null || current.dead) current = new Channel();
  return current;
}

/** Frees what the live worker keeps for a session or a digest state, if a worker is live. */
export function free(message: WireFree): void {
  current?.post(message);
}
