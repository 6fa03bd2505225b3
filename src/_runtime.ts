// Which runtime the module runs on, found once by feature detection (never by importing), for
// the few places where their fetch implementations differ, and the one way builtins are reached.

interface Globals {
  Deno?: { version?: unknown };
  Bun?: unknown;
  process?: {
    versions?: { node?: unknown };
    getBuiltinModule?: (id: string) => unknown;
  };
  navigator?: { userAgent?: unknown };
  document?: unknown;
  WorkerGlobalScope?: unknown;
}

const g = globalThis as Globals;

/** The runtimes the module tells apart. */
export type Runtime = "deno" | "bun" | "node" | "workerd" | "browser" | "other";

/**
 * The runtime: Deno, Bun, Node.js (whose fetch is undici), Cloudflare's workerd, a browser (page
 * or worker), or other. workerd is asked first: with `nodejs_compat` it has a `process` that
 * looks like Node's.
 */
export const RUNTIME: Runtime = g.navigator?.userAgent === "Cloudflare-Workers"
  ? "workerd"
  : g.Deno !== undefined
  ? "deno"
  : g.Bun !== undefined
  ? "bun"
  : typeof g.process?.versions?.node === "string"
  ? "node"
  : g.document !== undefined || g.WorkerGlobalScope !== undefined
  ? "browser"
  : "other";

/** The runtime's name as messages give it. */
export const RUNTIME_NAME: string = {
  deno: "Deno",
  bun: "Bun",
  node: "Node.js",
  workerd: "Cloudflare Workers",
  browser: "a browser",
  other: "an unknown runtime",
}[RUNTIME];

/**
 * Whether the platform's fetch hides a redirect's status and Location under
 * `redirect: "manual"` (an `opaqueredirect` response), so that only it can follow redirects: a
 * browser's does; Deno's, Bun's, Node's and workerd's return the real 3xx. An unknown platform
 * is taken at its word until it answers with an opaque redirect (see `learnPlatformFollows`).
 */
export let PLATFORM_FOLLOWS: boolean = RUNTIME === "browser";

/** Records that this platform's fetch answered `redirect: "manual"` with an opaque redirect. */
export function learnPlatformFollows(): void {
  PLATFORM_FOLLOWS = true;
}

/** Whether the runtime has a `node:http` client that sends a body on GET and HEAD. */
export const NODE_HTTP: boolean = RUNTIME === "deno" || RUNTIME === "bun" || RUNTIME === "node";

/**
 * A builtin module (`node:http`, `node:sqlite`, `bun:sqlite`...) through
 * `process.getBuiltinModule` (Deno, Bun, Node 22.3+), or null where the runtime has none: the
 * module never imports one, so that it loads in browsers and Workers (SPEC D).
 *
 * @param id The module's specifier.
 * @returns The module, or null.
 */
export function builtin<T>(id: string): T | null {
  try {
    return (g.process?.getBuiltinModule?.(id) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

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
