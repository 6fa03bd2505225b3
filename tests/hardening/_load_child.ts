// One load scenario of load_test.ts, run in a fresh process of the same runtime so that the
// test runner's own memory (Deno's is ~250 MB and swings by tens of MB) is not measured. Prints
// one JSON line: descriptors before and after, resident memory after a warm-up and after the
// load, and how every request ended.
//
//   deno run -A tests/hardening/_load_child.ts <scenario>      bun tests/hardening/_load_child.ts <scenario>
//
// Its servers keep no record of requests (their own memory would grow), and the TLS server is
// `openssl s_server` in another process: Deno's node:https server keeps ~17 KB per failed
// handshake itself, which would hide the client's behaviour.

import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import process from "node:process";
import * as requests from "../../mod.ts";
import { makeTestPki } from "../_tls.ts";
import { closedPort } from "../_server.ts";
import { eventually, sleep } from "../_fixtures.ts";
import { fds, pool, settledRss } from "./_fixtures.ts";
import { ok, type Scripted, scripted } from "../_raw.ts";

/** What a scenario reports. */
export interface LoadReport {
  scenario: string;
  fdBase: number;
  fdAfter: number;
  rssBase: number;
  rssAfter: number;
  /** How the measured requests ended: error name (or "ok") to count. */
  outcomes: Record<string, number>;
  /** The slowest measured request, in milliseconds. */
  slowestMs: number;
  /** Connections the server still had open after the load. */
  serverOpen: number;
  /** The first unexpected message, if any. */
  sample: string;
}

const PAYLOAD = new Uint8Array(16384).fill(0x61);

/** Answers `/N` with N bytes and keeps the connection open; records nothing. */
function bytesServer(): Promise<Scripted> {
  return scripted((seen, socket) => {
    const n = Number(seen.target.slice(1)) || 0;
    socket.write(ok(PAYLOAD.subarray(0, Math.min(n, PAYLOAD.byteLength))));
  }, false);
}

/** A TLS server (openssl s_server, another process) whose certificate nobody trusts. */
async function untrustedTls(): Promise<{ url: string; close(): Promise<void> }> {
  const pki = makeTestPki();
  const cert = `${pki.dir}/server.pem`;
  const key = `${pki.dir}/server.key`;
  fs.writeFileSync(cert, pki.serverCert);
  fs.writeFileSync(key, pki.serverKey);
  const port = await closedPort();
  const child: ChildProcess = spawn(
    "openssl",
    ["s_server", "-quiet", "-www", "-accept", String(port), "-cert", cert, "-key", key],
    { stdio: "ignore" },
  );
  let listening = false;
  for (let i = 0; i < 100 && !listening; i++) {
    listening = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (!listening) await sleep(50);
  }
  if (!listening) throw new Error("openssl s_server did not start");
  return {
    url: `https://127.0.0.1:${port}/`,
    close: async () => {
      child.kill();
      await new Promise((r) => child.once("exit", r));
      pki.remove();
    },
  };
}

/**
 * Runs a few of every kind of request once, so that what a runtime sets up once (threads,
 * event fds, TLS contexts, JIT) is in the baseline, not counted as a leak.
 */
async function prime(): Promise<void> {
  const server = await bytesServer();
  const silent = await scripted(() => {}, false);
  const tls = await untrustedTls();
  try {
    await pool(40, 10, async (i) => {
      const r = await requests.get(`${server.url}/${i * 100}`, { stream: i % 2 === 0 });
      r.close();
      await requests.get(silent.url, { timeout: 0.05 }).catch(() => {});
      await requests.get(tls.url, { timeout: 2 }).catch(() => {});
    });
  } finally {
    await server.close();
    await silent.close();
    await tls.close();
  }
  await sleep(200);
}

/**
 * The lowest of five settled RSS readings over about half a second: the allocator returns freed
 * pages lazily, so one reading can land on a transient high; a leak stays high in all five.
 */
async function lowestRss(): Promise<number> {
  let lowest = Infinity;
  for (let i = 0; i < 5; i++) lowest = Math.min(lowest, await settledRss());
  return lowest;
}

/** A server, the request to load it with, and how many to send how. */
interface Scenario {
  start(): Promise<{ url: string; open(): number; close(): Promise<void> }>;
  one(url: string, i: number): Promise<void>;
  /** Requests before the baseline: as many as measured, so the heap has grown to its size. */
  warmup: number;
  count: number;
  /** Requests in flight at once; 1 is sequential. */
  inFlight: number;
  /** Connections the server may still see open afterwards (the client's idle keep-alive pool). */
  maxOpen: number;
}

const SCENARIOS: Record<string, Scenario> = {
  "in-flight": {
    start: async () => {
      const server = await bytesServer();
      return { url: server.url, open: () => server.open, close: () => server.close() };
    },
    one: async (url, i) => {
      const r = await requests.get(`${url}/${1024 + (i % 7)}`, { timeout: 30 });
      if (r.bytes.byteLength !== 1024 + (i % 7)) throw new Error("wrong body length");
    },
    warmup: 4000,
    count: 2000,
    inFlight: 200,
    maxOpen: 200,
  },
  "streamed-unread": {
    start: async () => {
      const server = await bytesServer();
      return { url: server.url, open: () => server.open, close: () => server.close() };
    },
    one: async (url, i) => {
      const r = await requests.get(`${url}/${i % 2 === 0 ? 16384 : 8000}`, { stream: true });
      if (r.status_code !== 200) throw new Error(`status ${r.status_code}`);
      if (i % 3 === 0) await r[Symbol.asyncDispose]();
      else r.close();
    },
    warmup: 10_000,
    count: 10_000,
    inFlight: 1,
    maxOpen: 2,
  },
  "tls-failures": {
    start: async () => {
      const tls = await untrustedTls();
      return { url: tls.url, open: () => 0, close: () => tls.close() };
    },
    one: async (url) => {
      await requests.get(url, { timeout: 5 });
    },
    warmup: 500,
    count: 500,
    inFlight: 25,
    maxOpen: 0,
  },
  "timeouts": {
    start: async () => {
      const silent = await scripted(() => {}, false);
      return { url: silent.url, open: () => silent.open, close: () => silent.close() };
    },
    one: async (url) => {
      await requests.get(url, { timeout: 0.05 });
    },
    // Bun's fetch keeps a few MB per first thousand aborted requests (raw fetch does the same),
    // then levels off: the baseline is taken after that.
    warmup: 1500,
    count: 500,
    inFlight: 50,
    maxOpen: 0,
  },
};

async function run(name: string): Promise<LoadReport> {
  const scenario = SCENARIOS[name];
  if (scenario === undefined) throw new Error(`unknown scenario ${name}`);
  await prime();
  const fdBase = fds();
  const server = await scenario.start();
  const outcomes: Record<string, number> = {};
  let slowestMs = 0;
  let sample = "";
  const measured = async (i: number) => {
    const started = performance.now();
    let outcome = "ok";
    try {
      await scenario.one(server.url, i);
    } catch (error) {
      outcome = (error as Error).name;
      if (sample === "") sample = `${outcome}: ${(error as Error).message}`;
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  };
  let rssBase: number;
  let rssAfter: number;
  let serverOpen: number;
  try {
    await pool(
      scenario.warmup,
      scenario.inFlight,
      (i) => scenario.one(server.url, i).catch(() => {}),
    );
    rssBase = await lowestRss();
    await pool(scenario.count, scenario.inFlight, measured);
    rssAfter = await lowestRss();
    await eventually(() => server.open() <= scenario.maxOpen, 3000);
    serverOpen = server.open();
  } finally {
    await server.close();
  }
  await eventually(() => fds() <= fdBase, 5000);
  return {
    scenario: name,
    fdBase,
    fdAfter: fds(),
    rssBase,
    rssAfter,
    outcomes,
    slowestMs,
    serverOpen,
    sample,
  };
}

if (import.meta.main) {
  const report = await run(process.argv[process.argv.length - 1]);
  console.log(JSON.stringify(report));
  process.exit(0);
}
