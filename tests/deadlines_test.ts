// Timeouts on the shared deadline timer: each call's deadlines fire on time whatever other calls
// wait for, a small body read in one go is still bounded by the read timeout, and the unref'd
// timer never keeps a finished script alive.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import * as requests from "../mod.ts";
import { IS_DENO, type RawServer, rawServer, response } from "./_raw.ts";
import { serve, type TestServer } from "./_server.ts";

let silent: RawServer;
let partial: RawServer;
let server: TestServer;
before(async () => {
  silent = await rawServer(() => {/* never answers */});
  partial = await rawServer((socket) => {
    socket.write(response("200 OK", [["Content-Length", "100"]], "ten bytes."));
  });
  server = await serve();
});
after(async () => {
  await silent.close();
  await partial.close();
  await server.close();
});

async function timed<T>(work: Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work;
  return [value, (performance.now() - started) / 1000];
}

test("a small body that stalls is bounded by the read timeout", async () => {
  const [error, seconds] = await timed(
    requests.get(`${partial.url}/`, { timeout: [2, 0.2] }).catch((e) => e),
  );
  assert.ok(error instanceof requests.TimeoutError, String(error));
  assert.match(error.message, /No data received within 0\.2 s/);
  assert.ok(seconds < 1.5, `took ${seconds} s`);
});

test("a short timeout started after a long one fires on time", async () => {
  const long = requests.get(`${silent.url}/long`, { timeout: 2 }).catch((e) => e);
  const [error, seconds] = await timed(
    requests.get(`${silent.url}/short`, { timeout: 0.2 }).catch((e) => e),
  );
  assert.ok(error instanceof requests.TimeoutError);
  assert.ok(seconds < 1.5, `took ${seconds} s`);
  const [late, total] = await timed(long);
  assert.ok(late instanceof requests.TimeoutError);
  assert.ok(total > 1, `the long timeout fired after ${total} more s`);
});

test("deadlines of calls in flight fire in their order", async () => {
  const started = performance.now();
  const when = (p: Promise<unknown>) => p.catch(() => (performance.now() - started) / 1000);
  const [first, second, third] = await Promise.all([
    when(requests.get(`${silent.url}/c`, { timeout: 0.6 })),
    when(requests.get(`${silent.url}/a`, { timeout: 0.2 })),
    when(requests.get(`${silent.url}/b`, { total_timeout: 0.4 })),
  ]) as number[];
  assert.ok(second < third && third < first, `${second} < ${third} < ${first}`);
  assert.ok(first < 2, `took ${first} s`);
});

test("a custom fetch that never answers still times out", async () => {
  const [error, seconds] = await timed(
    requests.get("http://example.test/", { fetch: () => new Promise(() => {}), timeout: 0.2 })
      .catch((e) => e),
  );
  assert.ok(error instanceof requests.TimeoutError);
  assert.ok(seconds < 1.5, `took ${seconds} s`);
});

test("a script whose calls had long timeouts exits as soon as it is done", async () => {
  const module = new URL("../mod.ts", import.meta.url).href;
  const script = `import * as requests from ${JSON.stringify(module)};
for (let i = 0; i < 3; i++) {
  await requests.get(${JSON.stringify(`${server.url}/echo`)}, { timeout: 60, total_timeout: 120 });
}
console.log("done");`;
  const [cmd, args] = IS_DENO
    ? [process.execPath, ["eval", "--ext=ts", script]]
    : [process.execPath, ["--input-type=module", "-e", script]];
  const [out, seconds] = await timed(
    new Promise<string>((resolve, reject) => {
      execFile(cmd, args, { timeout: 30_000 }, (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(String(stdout));
      });
    }),
  );
  assert.match(out, /done/);
  assert.ok(seconds < 15, `the script took ${seconds} s to exit`);
});

test("timeouts longer than a timer can wait (24.8 days) do not fire at once", async () => {
  const slow = `${server.url}/slow/150`;
  const custom = (req: Request) => fetch(req);
  for (
    const options of [
      { timeout: 1e9 },
      { total_timeout: 1e9 },
      { timeout: [1e9, 1e9] as [number, number], fetch: custom },
      { total_timeout: 1e9, fetch: custom },
    ] as requests.RequestOptions[]
  ) {
    const r = await requests.get(slow, options);
    assert.equal(r.content, "slow", JSON.stringify(Object.keys(options)));
  }
});
