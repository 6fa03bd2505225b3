// Importing the module does no work that belongs to the first request: on Deno, touching
// `Headers`, `Response`, `Request` or `fetch` loads the fetch extension, milliseconds that would
// count as import time (bench/ measures it).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import { IS_DENO } from "./_raw.ts";

test("importing the module touches none of the fetch globals", async () => {
  const module = new URL("../mod.ts", import.meta.url).href;
  const script = `const touched = [];
for (const name of ["Headers", "Response", "Request", "fetch"]) {
  const value = globalThis[name];
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get() { touched.push(name); return value; },
  });
}
await import(${JSON.stringify(module)});
console.log(JSON.stringify(touched));`;
  const [cmd, args] = IS_DENO
    ? [process.execPath, ["eval", "--ext=js", script]]
    : [process.execPath, ["--input-type=module", "-e", script]];
  const out = await new Promise<string>((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
  assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)!), []);
});
