// Load: 2,000 requests with 200 in flight, 10,000 sequential requests whose streamed bodies are
// closed unread, 500 failing TLS handshakes and 500 timeouts. Each runs in a fresh process of
// the same runtime (_load_child.ts); afterwards its file descriptors (/proc/self/fd) are back
// where they were before the load, and its resident memory within 5 % of where it was after a
// warm-up of the same kind: nothing is left open and nothing accumulates.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import type { LoadReport } from "./_load_child.ts";
import { mb } from "./_fixtures.ts";
import { RUNTIME } from "../_raw.ts";

const CHILD = new URL("./_load_child.ts", import.meta.url).pathname;
/**
 * The limits are those of Deno and Bun. Node's fetch (undici) keeps about a fifth of the
 * connections it timed out open for seconds, and its memory grows 7-10 % over these loads.
 */
const skip = RUNTIME === "node" && "the load limits are for Deno and Bun";

/** Runs one scenario in a child process (killed after 90 s) and returns its report. */
function runScenario(scenario: string): Promise<LoadReport> {
  const args = RUNTIME === "deno" ? ["run", "-A", CHILD, scenario] : [CHILD, scenario];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { timeout: 90_000, maxBuffer: 1 << 20, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        if (error !== null || !line.startsWith("{")) {
          reject(new Error(`${scenario} failed: ${error?.message}\n${stdout}\n${stderr}`));
          return;
        }
        resolve(JSON.parse(line) as LoadReport);
      },
    );
  });
}

/** Descriptors may come back a little over the baseline: 5 %, at least two. */
function assertBack(report: LoadReport): void {
  if (report.fdBase > 0) {
    const limit = Math.max(Math.ceil(report.fdBase * 1.05), report.fdBase + 2);
    assert.ok(
      report.fdAfter <= limit,
      `${report.fdAfter} file descriptors open after the load, ${report.fdBase} before`,
    );
  }
  assert.ok(
    report.rssAfter <= report.rssBase * 1.05,
    `resident memory ${mb(report.rssAfter)} after the load, ${mb(report.rssBase)} after the ` +
      `warm-up (+${((report.rssAfter / report.rssBase - 1) * 100).toFixed(1)} %)`,
  );
}

test("2,000 requests with 200 in flight all succeed; descriptors and memory come back", {
  skip,
  timeout: 120_000,
}, async () => {
  const report = await runScenario("in-flight");
  assert.deepEqual(report.outcomes, { ok: 2000 }, report.sample);
  assertBack(report);
});

test("10,000 sequential requests with unread streamed bodies closed leave nothing open", {
  skip,
  timeout: 120_000,
}, async () => {
  const report = await runScenario("streamed-unread");
  assert.deepEqual(report.outcomes, { ok: 10_000 }, report.sample);
  // What stays open is the client's idle keep-alive pool (Deno keeps two), not one per request.
  assert.ok(report.serverOpen <= 2, `${report.serverOpen} connections left open`);
  assertBack(report);
});

test("500 failing TLS handshakes are 500 ConnectionErrors and leave nothing behind", {
  skip,
  timeout: 120_000,
}, async () => {
  const report = await runScenario("tls-failures");
  assert.deepEqual(report.outcomes, { ConnectionError: 500 }, report.sample);
  assert.match(report.sample, /^ConnectionError: TLS handshake failed/);
  assertBack(report);
});

test("500 timeouts are 500 TimeoutErrors on time, and every connection is closed", {
  skip,
  timeout: 120_000,
}, async () => {
  const report = await runScenario("timeouts");
  assert.deepEqual(report.outcomes, { TimeoutError: 500 }, report.sample);
  assert.ok(report.slowestMs < 2000, `the slowest took ${report.slowestMs} ms`);
  assert.equal(report.serverOpen, 0, "timed-out connections left open on the server");
  assertBack(report);
});
