// The caller's own code inside a call (upload_progress, progress, request hooks, a custom fetch):
// what it throws reaches the caller as it is, is never retried nor classified by its text, and
// a throw ends the transfer at once, closing the connection and releasing the call's deadlines.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import type net from "node:net";
import process from "node:process";
import * as requests from "../mod.ts";
import { Session } from "../mod.ts";
import { IS_DENO, trackedServer } from "./_raw.ts";
import { eventually, within } from "./_fixtures.ts";

/** What a caller throws to stop a transfer: its own class, which must come back as it is. */
class Cancelled extends Error {
  override name = "Cancelled";
}

interface Trickle {
  url: string;
  /** Requests whose head arrived. */
  readonly requests: number;
  /** Connections closed so far, and when the last one closed (performance.now()). */
  readonly closed: number;
  readonly closedAt: number;
  close(): Promise<void>;
}

/**
 * A server that reads each request whole, then answers 200 with a body of `size` bytes trickled
 * out 16 KiB every 50 ms (Content-Length given), so a reader is mid-body for seconds.
 */
async function trickle(size = 4 << 20): Promise<Trickle> {
  let heads = 0;
  let closed = 0;
  let closedAt = 0;
  const server = await trackedServer((socket: net.Socket) => {
    let text = "";
    let timer: ReturnType<typeof setInterval> | undefined;
    socket.on("close", () => {
      clearInterval(timer);
      closed++;
      closedAt = performance.now();
    });
    socket.on("data", (chunk: Uint8Array) => {
      if (timer !== undefined) return;
      text += new TextDecoder("latin1").decode(chunk);
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length - end - 4 < length) return;
      heads++;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
      let sent = 0;
      const piece = new Uint8Array(16 * 1024);
      timer = setInterval(() => {
        if (sent >= size || !socket.writable) return clearInterval(timer);
        socket.write(piece);
        sent += piece.byteLength;
      }, 50);
    });
  });
  return {
    url: server.url,
    get requests() {
      return heads;
    },
    get closed() {
      return closed;
    },
    get closedAt() {
      return closedAt;
    },
    close: () => server.close(),
  };
}

let server: Trickle;
before(async () => {
  server = await trickle();
});
after(() => server.close());

describe("upload_progress that throws", () => {
  for (const [path, method] of [["fetch", "POST"], ["node:http", "GET"]] as const) {
    it(`is the caller's error, sent once despite retries (${path})`, async () => {
      const before = server.requests;
      const thrown = new Cancelled("upload timeout");
      const error = await within(
        10_000,
        requests.request(method, `${server.url}/up`, {
          data: new Uint8Array(1 << 20),
          retries: { total: 3, allowed_methods: [method] },
          upload_progress: (sent) => {
            if (sent > 0) throw thrown;
          },
        }).catch((e) => e),
      );
      assert.equal(error, thrown, `got ${error}`);
      assert.ok(!(error instanceof requests.TimeoutError));
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(server.requests - before <= 1, `the body went ${server.requests - before} times`);
    });
  }
});

describe("progress that throws", () => {
  for (const [path, body] of [["fetch", {}], ["node:http", { data: "q" }]] as const) {
    for (const stream of [false, true]) {
      it(`ends the transfer at once and is the caller's error (${path}, ${stream ? "streamed" : "buffered"})`, async () => {
        const closed = server.closed;
        const thrown = new Cancelled("enough");
        const started = performance.now();
        const outcome = await within(
          10_000,
          (async () => {
            const r = await requests.get(`${server.url}/down`, {
              ...body,
              stream,
              timeout: 30,
              total_timeout: 60,
              progress: (loaded) => {
                if (loaded > 64 * 1024) throw thrown;
              },
            });
            for await (const _ of r.iter_content()) { /* read until progress throws */ }
          })().catch((e) => e),
        );
        assert.equal(outcome, thrown, `got ${outcome}`);
        assert.ok(
          await eventually(() => server.closed > closed, 1_000),
          "the connection stayed open after progress threw",
        );
        assert.ok(server.closedAt - started < 2_000);
      });
    }
  }
});

describe("hooks and a custom fetch that throw", () => {
  it("a request hook's throw is the caller's error, never retried", async () => {
    let calls = 0;
    const thrown = new Cancelled("connection refused by policy");
    await using session = new Session({
      retries: 3,
      hooks: {
        request: [() => {
          calls++;
          throw thrown;
        }],
      },
    });
    const error = await session.get(`${server.url}/hooked`).catch((e) => e);
    assert.equal(error, thrown);
    assert.equal(calls, 1);
  });

  it("a custom fetch's throw is the cause of a RequestError, never retried nor classified", async () => {
    let calls = 0;
    const thrown = new TypeError("connection refused");
    const error = await requests.get("http://example.test/", {
      retries: 3,
      fetch: () => {
        calls++;
        return Promise.reject(thrown);
      },
    }).catch((e) => e);
    assert.equal(calls, 1);
    assert.equal(error.constructor, requests.RequestError);
    assert.equal(error.cause, thrown);
    assert.equal(error.message, "The 'fetch' option failed: GET http://example.test/");
    // The same for one that throws synchronously.
    const sync = await requests.get("http://example.test/", {
      fetch: () => {
        throw thrown;
      },
    }).catch((e) => e);
    assert.equal(sync.cause, thrown);
  });

  it("a RequestError a custom fetch throws is taken as it is", async () => {
    const thrown = new requests.ConnectionError("simulated", {
      request: { method: "GET", url: "http://example.test/" },
    });
    const error = await requests.get("http://example.test/", {
      fetch: () => Promise.reject(thrown),
    })
      .catch((e) => e);
    assert.equal(error, thrown);
  });

  it("a custom fetch that returns no Response is a TypeError saying so", async () => {
    const fetch = (() => "nope") as unknown as requests.FetchLike;
    const error = await requests.get("http://example.test/", { fetch }).catch((e) => e);
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, "Invalid 'fetch': it must return a Response");
  });
});

it("a script whose progress threw exits at once: the call's deadlines were released", async () => {
  const module = JSON.stringify(new URL("../mod.ts", import.meta.url).href);
  const script = `import * as requests from ${module};
const error = await requests.get(${JSON.stringify(`${server.url}/down`)}, {
  timeout: 100, total_timeout: 200,
  progress: () => { throw new Error("stop"); },
}).catch((e) => e);
console.log("caught", error.message);`;
  const [cmd, args] = IS_DENO
    ? [process.execPath, ["eval", "--ext=ts", script]]
    : [process.execPath, ["--input-type=module", "-e", script]];
  const started = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
  assert.match(out, /caught stop/);
  assert.ok(performance.now() - started < 10_000);
});
