// Servers that stall: one that accepts and never answers, one that trickles its headers, one
// that trickles its body just under the read timeout, one that sends 100 Continue forever. Each
// is stopped by the timeouts with a TimeoutError, on time, and the connection is closed.

import { test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import * as requests from "../../mod.ts";
import { ConnectionError, TimeoutError } from "../../mod.ts";
import {
  chunk,
  forever,
  join,
  malformed,
  ok,
  response,
  RUNTIME,
  type Scripted,
  scripted,
  type Seen,
  trickle,
} from "../_raw.ts";
import { eventually, rejectsWith, within } from "../_fixtures.ts";

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
let server: Scripted;

/** Runs `body` with a fresh server answering ROUTES. */
function slowTest(name: string, body: () => Promise<void>): void {
  test(name, async () => {
    server = await scripted((seen, socket) => ROUTES[seen.target]?.(socket, seen));
    try {
      await body();
    } finally {
      await server.close();
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
    const r = await requests.get(`${server.url}${path}`, options);
    if (read === "read") await r.read();
    if (read === "iter") { for await (const _ of r.iter_content()) { /* drain */ } }
    return r;
  })();
  const error = await rejectsWith(call, TimeoutError, expectMs + 5000);
  const took = performance.now() - started;
  assert.ok(took >= expectMs - 20, `gave up after ${took} ms, before ${expectMs} ms`);
  assert.ok(took < expectMs + 1000, `took ${took} ms, expected about ${expectMs} ms`);
  assert.match(error.message, new RegExp(`: GET ${server.url}${path}$`));
  return error;
}

/** Asserts that every connection the client opened is closed again soon. */
async function connectionsClosed(): Promise<void> {
  assert.ok(
    await eventually(() => server.open === 0, 2000),
    `${server.open} connection(s) left open`,
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
      requests.get(`${server.url}/silent`, { signal }).catch((e) => e),
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
    await rejectsWith(requests.get(`${server.url}${path}`, options), ConnectionError);
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
  const call = requests.get(`${server.url}/continue-then-ok`, { timeout: 2 });
  if (RUNTIME === "node") return void await rejectsWith(call, ConnectionError);
  const r = await within(5000, call);
  assert.equal(r.status_code, 200);
  assert.equal(r.content, "finally");
});

slowTest(
  "a streamed response left unread does not keep its timers alive past close()",
  async () => {
    const r = await requests.get(`${server.url}/trickle-body`, {
      stream: true,
      timeout: 0.3,
      total_timeout: 30,
    });
    r.close();
    await connectionsClosed();
  },
);
