// Which runtime the module runs on, found once by feature detection (never by importing), for
// the few places where their fetch implementations differ.

interface Globals {
  Deno?: unknown;
  Bun?: unknown;
  process?: { versions?: { node?: unknown } };
  document?: unknown;
  WorkerGlobalScope?: unknown;
}

const g = globalThis as Globals;

/** The runtime: Deno, Bun, Node.js (whose fetch is undici), a browser (page or worker), or other. */
export const RUNTIME: "deno" | "bun" | "node" | "browser" | "other" = g.Deno !== undefined
  ? "deno"
  : g.Bun !== undefined
  ? "bun"
  : typeof g.process?.versions?.node === "string"
  ? "node"
  : g.document !== undefined || g.WorkerGlobalScope !== undefined
  ? "browser"
  : "other";

/** An empty, frozen object without a prototype: the parent of every {@linkcode bare} object. */
const NOTHING: object = Object.freeze(Object.create(null));

/**
 * A new empty object that inherits nothing a polluted `Object.prototype` could add, yet keeps
 * V8's fast properties: `Object.create(null)` makes a dictionary, whose every read and write
 * (fetch reads each init member) is a hash lookup.
 */
export function bare<T extends object>(): T {
  return Object.create(NOTHING);
}
