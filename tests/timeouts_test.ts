// Timeouts, in one place: `timeout` (the wait for the headers and for each read of the body, or
// [connect, read]), `total_timeout` (the whole call: redirects, retries, the body), the shared
// deadline timer (each call's deadlines fire on time whatever other calls wait for; the unref'd
// timer never keeps a finished script alive), and servers that stall: one that accepts and never
// answers, one that trickles its headers, one that trickles its body just under the read timeout,
// one that sends 100 Continue forever. Each is stopped with a TimeoutError, on time, and the
// connection is closed. (The timeouts of events() are in events_test.ts, those of the blocking
// API in sync_test.ts, httpbin's /delay in httpbin_test.ts.)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import type net from "node:net";
import process from "node:process";
import * as requests from "../mod.ts";
import { ConnectionError, TimeoutError } from "../mod.ts";
import {
  chunk,
  forever,
  IS_DENO,
  join,
  malformed,
  ok,
  type RawServer,
  rawServer,
  response,
  RUNTIME,
  type Scripted,
  scripted,
  type Seen,
  trickle,
} from "./_raw.ts";
import { serve, type TestServer } from "./_server.ts";
import { eventually, rejectsWith, within } from "./_fixtures.ts";

/** Accepts and never answers. */
let silent: RawServer;
/** Sends 10 of the 100 bytes it announces, then nothing. */
let partial: RawServer;
/** A chunked body of one byte every 50 ms, without end. */
let trickling: RawServer;
/** 503 with Retry-After: 5, always. */
let busy: TestServer;
let server: TestServer;
before(async () => {
  silent = await rawServer(() => {/* never answers */});
  partial = await rawServer((socket) => {
    socket.write(response("200 OK", [["Content-Length", "100"]], "ten bytes."));
  });
  trickling = await rawServer((socket) => {
    socket.write(response("200 OK", [["Transfer-Encoding", "chunked"]]));
    forever(socket, 50, () => socket.write(chunk("x")));
  });
  busy = await serve(() => new Response("busy", { status: 503, headers: { "retry-after": "5" } }));
  server = await serve();
});
after(async () => {
  await silent.close();
  await partial.close();
  await trickling.close();
  await busy.close();
  await server.close();
});

// ---------------------------------------------------------------------------------------------
// timeout and total_timeout

test("timeout bounds the wait for the headers", async () => {
  const started = performance.now();
  const error = await requests.get(`${silent.url}/silent`, { timeout: 0.2 }).catch((e) => e);
  const took = performance.now() - started;
  assert.ok(error instanceof requests.TimeoutError, String(error));
  assert.match(error.message, /No response received within 0\.2 s: GET http/);
  assert.ok(took >= 150 && took < 2000, `took ${took} ms`);
});

test("timeout as [connect, read] bounds each read of the body", async () => {
  const error = await requests.get(`${server.url}/drip/3/400`, { timeout: [1, 0.1] }).catch((
    e,
  ) => e);
  assert.ok(error instanceof requests.TimeoutError, String(error));
  assert.match(error.message, /No data received within 0\.1 s/);
  const r = await requests.get(`${server.url}/drip/3/20`, { timeout: [1, 0.5] });
  assert.equal(r.content, "xxx");
});

test("total_timeout stops a trickle that never trips the read timeout", async () => {
  const started = performance.now();
  const error = await requests.get(`${trickling.url}/trickle`, { timeout: 1, total_timeout: 0.4 })
    .catch((e) => e);
  const took = performance.now() - started;
  assert.ok(error instanceof requests.TimeoutError, String(error));
  assert.match(error.message, /total_timeout \(0\.4 s\)/);
  assert.ok(took < 3000, `took ${took} ms`);
});

test("total_timeout covers a streamed body read later", async () => {
  const started = performance.now();
  const r = await requests.get(`${trickling.url}/trickle`, { stream: true, total_timeout: 0.3 });
  const error = await rejectsWith(r.read(), TimeoutError, 5000);
  // The call's deadline, not a read timeout (there is none) nor a dropped connection.
  assert.match(
    error.message,
    /^Request took longer than total_timeout \(0\.3 s\): GET http:\/\/127\.0\.0\.1:\d+\/trickle$/,
  );
  const took = performance.now() - started;
  assert.ok(took >= 280 && took < 2000, `took ${took} ms`);
});

test("a fast request is not disturbed by its timeouts: a pause before reading is no wait", async () => {
  // The read timeout (0.2 s) bounds each wait for data, not the caller's pause (0.4 s) between
  // the headers and reading the body: a wait left armed after the headers would fail the read.
  const r = await requests.get(`${server.url}/echo`, {
    stream: true,
    timeout: 0.2,
    total_timeout: 5,
  });
  await new Promise((resolve) => setTimeout(resolve, 400));
  await r.read();
  assert.equal(r.status_code, 200);
  assert.equal((r.json() as { path: string }).path, "/echo");
});

test("timeout: either part of [connect, read] may be null", async () => {
  const slow = await serve(async () => {
    await new Promise((r) => setTimeout(r, 300));
    return new Response("late");
  });
  try {
    const error = await requests.get(slow.url, { timeout: [null, 0.05] }).catch((e) => e);
    assert.ok(error instanceof requests.TimeoutError, String(error));
    assert.equal((await requests.get(slow.url, { timeout: [0.05, null] })).content, "late");
    assert.equal((await requests.get(slow.url, { timeout: [null, null] })).content, "late");
    await assert.rejects(requests.get(slow.url, { timeout: [null, -1] }), /'timeout'/);
  } finally {
    await slow.close();
  }
});

test("total_timeout bounds the retries and their waits", async () => {
  const started = performance.now();
  const error = await requests.get(`${busy.url}/`, {
    retries: { total: 10, status_forcelist: [503] },
    total_timeout: 0.3,
  }).catch((e) => e);
  assert.ok(error instanceof requests.TimeoutError, String(error));
  assert.ok(performance.now() - started < 2000);
});

// ---------------------------------------------------------------------------------------------
// The shared deadline timer

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

// ---------------------------------------------------------------------------------------------
// Servers that stall

const CONTINUE = response("100 Continue");
/** A head that never ends: the status line and 500 header lines, each with its CRLF. */
const SLOW_HEAD = malformed(["200 OK", ...Array(500).fill("X-Slow: yes"), ""], {
  terminated: false,
});

const ROUTES: Record<string, (socket: net.Socket, seen: Seen) => void> = {
  "/silent": () => {},
  "/trickle-head": (s) => trickle(s, SLOW_HEAD, 20),
  "/trickle-body": (s) => {
    s.write(response("200 OK", [["Content-Length", "100000"]]));
    trickle(s, "y".repeat(100_000), 50);
  },
  "/trickle-chunks": (s) => {
    s.write(response("200 OK", [["Transfer-Encoding", "chunked"]]));
    forever(s, 50, () => s.write(chunk("z")));
  },
  "/stall-body": (s) => s.write(response("200 OK", [["Content-Length", "10"]], "0123")),
  "/continue-forever": (s) => forever(s, 5, () => s.write(CONTINUE)),
  "/continue-flood": (s) => s.write(join(Array.from({ length: 100_000 }, () => CONTINUE))),
  "/continue-then-ok": (s) => {
    s.write(join([CONTINUE, response("103 Early Hints", [["Link", "</a.css>"]])]));
    setTimeout(() => s.write(ok("finally")), 50);
  },
};

/** The server of the running test: each test has its own, so open connections are its own. */
let stalling: Scripted;

/** Runs `body` with a fresh server answering ROUTES. */
function slowTest(name: string, body: () => Promise<void>): void {
  test(name, async () => {
    stalling = await scripted((seen, socket) => ROUTES[seen.target]?.(socket, seen));
    try {
      await body();
    } finally {
      await stalling.close();
    }
  });
}

/** Runs a request that must fail with a TimeoutError after about `expectMs`. */
async function timesOut(
  path: string,
  options: requests.RequestOptions,
  expectMs: number,
  read: "buffered" | "read" | "iter" = "buffered",
): Promise<TimeoutError> {
  const started = performance.now();
  const call = (async () => {
    const r = await requests.get(`${stalling.url}${path}`, options);
    if (read === "read") await r.read();
    if (read === "iter") { for await (const _ of r.iter_content()) { /* drain */ } }
    return r;
  })();
  const error = await rejectsWith(call, TimeoutError, expectMs + 5000);
  const took = performance.now() - started;
  assert.ok(took >= expectMs - 20, `gave up after ${took} ms, before ${expectMs} ms`);
  assert.ok(took < expectMs + 1000, `took ${took} ms, expected about ${expectMs} ms`);
  assert.match(error.message, new RegExp(`: GET ${stalling.url}${path}$`));
  return error;
}

/** Asserts that every connection the client opened is closed again soon. */
async function connectionsClosed(): Promise<void> {
  assert.ok(
    await eventually(() => stalling.open === 0, 2000),
    `${stalling.open} connection(s) left open`,
  );
}

slowTest(
  "a server that never answers: timeout is a TimeoutError and the connection is closed",
  async () => {
    const error = await timesOut("/silent", { timeout: 0.3 }, 300);
    assert.match(error.message, /^No response received within 0\.3 s/);
    await connectionsClosed();
  },
);

slowTest(
  "a server that never answers: [connect, read] timeouts add up for the headers",
  async () => {
    await timesOut("/silent", { timeout: [0.1, 0.2] }, 300);
    await connectionsClosed();
  },
);

slowTest(
  "a server that never answers: total_timeout is a TimeoutError and the connection is closed",
  async () => {
    const error = await timesOut("/silent", { total_timeout: 0.3 }, 300);
    assert.match(error.message, /^Request took longer than total_timeout \(0\.3 s\)/);
    await connectionsClosed();
  },
);

slowTest(
  "a server that never answers: an aborted signal ends the call and the connection",
  async () => {
    const signal = AbortSignal.timeout(300);
    const started = performance.now();
    const error = await within(
      5000,
      requests.get(`${stalling.url}/silent`, { signal }).catch((e) => e),
    );
    assert.equal(error, signal.reason);
    assert.ok(performance.now() - started < 1300);
    await connectionsClosed();
  },
);

slowTest("trickled headers do not reset the timeout", async () => {
  await timesOut("/trickle-head", { timeout: 0.3 }, 300);
  await connectionsClosed();
});

slowTest("trickled headers are stopped by total_timeout", async () => {
  await timesOut("/trickle-head", { total_timeout: 0.4 }, 400);
  await connectionsClosed();
});

for (const read of ["buffered", "read", "iter"] as const) {
  slowTest(
    `a body trickled under the read timeout is stopped by total_timeout (${read})`,
    async () => {
      const error = await timesOut(
        "/trickle-body",
        { timeout: 0.3, total_timeout: 0.8, stream: read !== "buffered" },
        800,
        read,
      );
      assert.match(error.message, /^Request took longer than total_timeout/);
      await connectionsClosed();
    },
  );
}

slowTest("an endless chunked body under the read timeout is stopped by total_timeout", async () => {
  await timesOut("/trickle-chunks", { timeout: 0.3, total_timeout: 0.6 }, 600);
  await connectionsClosed();
});

for (const read of ["buffered", "read", "iter"] as const) {
  slowTest(`a body that stalls is a TimeoutError after the read timeout (${read})`, async () => {
    const error = await timesOut(
      "/stall-body",
      { timeout: 0.3, stream: read !== "buffered" },
      300,
      read,
    );
    assert.match(error.message, /^No data received within 0\.3 s/);
    await connectionsClosed();
  });
}

/**
 * Deno and Bun skip interim 1xx answers and wait on; Node's fetch (undici) refuses a 1xx it did
 * not ask for at once ("bad response"), a typed ConnectionError.
 */
async function continues(path: string, options: requests.RequestOptions, ms: number) {
  if (RUNTIME === "node") {
    await rejectsWith(requests.get(`${stalling.url}${path}`, options), ConnectionError);
  } else {
    await timesOut(path, options, ms);
  }
  await connectionsClosed();
}

slowTest("endless 100 Continue is stopped by the timeout", async () => {
  await continues("/continue-forever", { timeout: 0.4 }, 400);
});

slowTest("endless 100 Continue is stopped by total_timeout", async () => {
  await continues("/continue-forever", { total_timeout: 0.4 }, 400);
});

slowTest("a flood of 100,000 100 Continue answers is stopped by the timeout", async () => {
  await continues("/continue-flood", { timeout: 0.5 }, 500);
});

slowTest("100 Continue and 103 Early Hints before the real answer are skipped", async () => {
  const call = requests.get(`${stalling.url}/continue-then-ok`, { timeout: 2 });
  if (RUNTIME === "node") return void await rejectsWith(call, ConnectionError);
  const r = await within(5000, call);
  assert.equal(r.status_code, 200);
  assert.equal(r.content, "finally");
});

slowTest(
  "a streamed response left unread does not keep its timers alive past close()",
  async () => {
    const r = await requests.get(`${stalling.url}/trickle-body`, {
      stream: true,
      timeout: 0.3,
      total_timeout: 30,
    });
    r.close();
    await connectionsClosed();
  },
);
