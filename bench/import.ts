// Import time of one contender's module, in a fresh process started by bench/run.ts: the time
// `await import()` takes, from the first line of this script. Prints one JSON line `{"ms": N}`.
// bench/run.ts runs every contender once before measuring, so the runtime's caches (Deno's
// transpiled-module cache) are warm, as they are for a user's second run.
//
//   <runtime> bench/import.ts requests

import process from "node:process";

const started = performance.now();
const name = (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ??
  process.argv[2];
const specifier = { requests: "../mod.ts", ky: "ky", ofetch: "ofetch", axios: "axios" }[name];
if (specifier === undefined) {
  throw new Error(`No module to import for ${JSON.stringify(name)}`);
}
const module = await import(specifier);
const ms = performance.now() - started;
if (Object.keys(module).length === 0) {
  throw new Error(`${specifier} exports nothing`);
}
console.log(JSON.stringify({ ms }));
