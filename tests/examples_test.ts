// Every script in examples/ runs to completion on this runtime and prints what it should.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";

const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
const root = new URL("..", import.meta.url).pathname;

function run(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, args] = deno !== undefined
    ? [deno.execPath(), ["run", "-A", script]]
    : [process.execPath, [script]];
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } }, (
      error,
      stdout,
      stderr,
    ) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const expectations: [string, RegExp][] = [
  ["examples/quickstart.ts", /200 OK[\s\S]*x-source[\s\S]*openmv/i],
  ["examples/upload_snapshot.ts", /200[\s\S]*received_bytes/],
  ["examples/poll_with_retries.ts", /reading 3:[\s\S]*temperature/],
  ["examples/download_progress.ts", /saved 5000000 bytes/],
  ["examples/session_login.ts", /session[\s\S]*opensesame[\s\S]*200[\s\S]*camera-01/],
  ["examples/stream_lines.ts", /event 1: motion detected[\s\S]*event 5: motion detected/],
];

for (const [script, expected] of expectations) {
  test(`example ${script} runs and prints its result`, async () => {
    const { code, stdout, stderr } = await run(script);
    assert.equal(code, 0, stderr);
    assert.match(stdout, expected);
  });
}
