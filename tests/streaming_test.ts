// stream, signal, progress, max_bytes, params, cookies and the typed errors of broken
// connections (the timeouts are in timeouts_test.ts).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import zlib from "node:zlib";
import * as requests from "../mod.ts";
import {
  closedPort,
  type Echo,
  header,
  type RawServer,
  rawServer,
  serve,
  type TestServer,
} from "./_server.ts";
import { within } from "./_fixtures.ts";

let server: TestServer;
let raw: RawServer;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}
/** Resolved by the client once it has the first 10 KB of `/live`. */
let liveFirstSeen: Deferred = deferred();

/** Raw routes: exact bytes for broken and slow servers. */
const routes: Record<string, (socket: net.Socket) => void> = {
  "/truncated": (s) => {
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part");
    setTimeout(() => s.destroy(), 20);
  },
  "/chunked-cut": (s) => {
    s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    setTimeout(() => s.destroy(), 20);
  },
  "/reset": (s) => s.resetAndDestroy(),
  // 10 KB, then nothing until the client has shown it received them (liveFirstSeen), then 5 KB.
  "/live": (s) => {
    s.write(
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2710\r\n${"a".repeat(10_000)}\r\n`,
    );
    const seen = liveFirstSeen;
    seen.promise.then(() => s.end(`1388\r\n${"b".repeat(5000)}\r\n0\r\n\r\n`));
  },
  "/silent": () => {},
  "/endless": (s) => {
    s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    const chunk = `4000\r\n${"x".repeat(0x4000)}\r\n`;
    const timer = setInterval(() => {
      if (s.destroyed) return clearInterval(timer);
      s.write(chunk);
    }, 1);
    s.on("close", () => clearInterval(timer));
  },
  "/deflate": (s) => encoded(s, "deflate", zlib.deflateSync(JSON_BODY)),
  "/deflate-raw": (s) => encoded(s, "deflate", zlib.deflateRawSync(JSON_BODY)),
  "/gzip-gzip": (s) => encoded(s, "gzip, gzip", zlib.gzipSync(zlib.gzipSync(JSON_BODY))),
  "/gzip-deflate": (s) => encoded(s, "deflate, gzip", zlib.gzipSync(zlib.deflateSync(JSON_BODY))),
  // One coding beside "identity" or an empty member: Deno's fetch leaves it encoded, Bun's not.
  "/identity-gzip": (s) => encoded(s, "identity, gzip", zlib.gzipSync(JSON_BODY)),
  "/gzip-empty": (s) => encoded(s, "gzip,", zlib.gzipSync(JSON_BODY)),
  "/six": (s) => encoded(s, "gzip, gzip, gzip, gzip, gzip, gzip", JSON_BODY),
  // A gzip header, then a deflate block of the reserved type 3: corrupt for every decoder (a
  // merely truncated stream is accepted by Node's fetch, which flushes what it has).
  "/broken-gzip": (s) =>
    encoded(s, "gzip, gzip", new Uint8Array([31, 139, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 1, 2, 3])),
  "/huge-length": (s) => {
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\nabc");
  },
};

const JSON_BODY = new TextEncoder().encode('{"decoded":true}');

function encoded(socket: net.Socket, coding: string, body: Uint8Array): void {
  socket.write(
    `HTTP/1.1 200 OK\r\nContent-Encoding: ${coding}\r\nContent-Length: ${body.byteLength}\r\n` +
      "Connection: close\r\n\r\n",
  );
  socket.end(body);
}

before(async () => {
  server = await serve();
  raw = await rawServer((socket, head) => {
    const path = head.split(" ")[1];
    (routes[path] ?? ((s) => s.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")))(
      socket,
    );
  });
});
after(async () => {
  await server.close();
  await raw.close();
});

test("stream: true resolves at the headers; content before read() says what to do", async () => {
  const r = await requests.get(`${server.url}/bytes/1000`, { stream: true });
  assert.equal(r.status_code, 200);
  assert.throws(() => r.content, /Cannot read 'content' of a streamed response.*r\.read\(\)/);
  assert.throws(() => r.json(), /Cannot read/);
  assert.throws(() => r.bytes, /Cannot read 'bytes'/);
  const bytes = await r.read();
  assert.equal(bytes.byteLength, 1000);
  assert.equal(r.bytes[999], 999 % 256);
  assert.equal(r.content.length > 0, true);
});

test("iter_content() yields chunks as they arrive, not after the whole body", async () => {
  const started = performance.now();
  const r = await requests.get(`${server.url}/drip/5/60`, { stream: true });
  const times: number[] = [];
  let total = 0;
  for await (const chunk of r.iter_content()) {
    times.push(performance.now() - started);
    total += chunk.byteLength;
  }
  assert.equal(total, 5);
  assert.ok(times.length >= 2, `chunks: ${times.length}`);
  assert.ok(times[0] < times[times.length - 1] - 100, `first ${times[0]} last ${times.at(-1)}`);
  assert.throws(() => r.content, /already consumed/);
});

test("iter_content(chunk_size) yields pieces of at most chunk_size that may be kept", async () => {
  for (const size of [1000, 30000, 65536, 200000]) {
    const r = await requests.get(`${server.url}/bytes/100000`, { stream: true });
    const kept: Uint8Array[] = [];
    for await (const piece of r.iter_content(size)) kept.push(piece);
    assert.ok(kept.every((p) => p.byteLength > 0 && p.byteLength <= size), `size ${size}`);
    // Checked after the loop: a piece handed over must not be overwritten by a later read.
    let expected = 0;
    for (const piece of kept) {
      for (const byte of piece) assert.equal(byte, expected++ % 256, `size ${size}`);
    }
    assert.equal(expected, 100000, `size ${size}`);
  }
});

test("iter_content(chunk_size) never holds bytes back to fill a piece", async () => {
  // 7 writes of 1,000 bytes, 5 ms apart: pieces of 3,000 would need several writes each.
  const pieces = await serve(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(c) {
          for (let i = 0; i < 7; i++) {
            c.enqueue(new Uint8Array(1000).map((_, j) => (i * 1000 + j) % 251));
            await sleep(5);
          }
          c.close();
        },
      }),
    )
  );
  try {
    const progress: number[] = [];
    const r = await requests.get(pieces.url, {
      stream: true,
      progress: (loaded) => progress.push(loaded),
    });
    const kept: Uint8Array[] = [];
    for await (const piece of r.iter_content(3000)) kept.push(piece);
    assert.ok(kept.every((p) => p.byteLength <= 3000), String(kept.map((p) => p.byteLength)));
    let expected = 0;
    for (const piece of kept) {
      for (const byte of piece) assert.equal(byte, expected++ % 251);
    }
    assert.equal(expected, 7000);
    assert.equal(progress.at(-1), 7000);
    assert.ok(progress.length >= 3, `progress calls: ${progress.length}`);

    const limited = await requests.get(pieces.url, { stream: true, max_bytes: 4500 });
    let read = 0;
    await assert.rejects(async () => {
      for await (const piece of limited.iter_content(3000)) read += piece.byteLength;
    }, requests.ContentTooLargeError);
    assert.ok(read <= 4500, `read ${read}`);
  } finally {
    await pieces.close();
  }
});

test("iter_content(65536) yields a live feed's first 10 KB before the server sends more", async () => {
  for (const size of [65536, 4096]) {
    liveFirstSeen = deferred();
    const r = await requests.get(`${raw.url}/live`, { stream: true });
    const sizes: number[] = [];
    let beforeMore = -1;
    await within(
      5000,
      (async () => {
        for await (const piece of r.iter_content(size)) {
          sizes.push(piece.byteLength);
          const total = sizes.reduce((a, b) => a + b, 0);
          if (total === 10_000) {
            beforeMore = total;
            liveFirstSeen.resolve();
          }
        }
      })(),
      `iter_content(${size}) on a paused feed`,
    ).finally(() => r.close());
    assert.equal(beforeMore, 10_000, `size ${size}: ${sizes}`);
    assert.equal(sizes.reduce((a, b) => a + b, 0), 15_000);
    assert.ok(sizes.every((n) => n <= size), `size ${size}: ${sizes}`);
  }
});

test("iter_lines() splits a streamed body across chunk boundaries", async () => {
  const body = ["alpha\r", "\nbeta\n", "gam", "ma\r\n", "\n", "last"];
  const handler = await serve(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(c) {
          for (const piece of body) {
            c.enqueue(new TextEncoder().encode(piece));
            await sleep(5);
          }
          c.close();
        },
      }),
    )
  );
  try {
    const r = await requests.get(handler.url, { stream: true });
    const lines: string[] = [];
    for await (const line of r.iter_lines()) lines.push(line);
    assert.deepEqual(lines, ["alpha", "beta", "gamma", "", "last"]);
  } finally {
    await handler.close();
  }
});

test("close() on an unread streamed body releases the connection", async () => {
  const before = raw.open;
  const r = await requests.get(`${raw.url}/endless`, { stream: true });
  assert.equal(raw.open, before + 1);
  r.close();
  r.close();
  for (let i = 0; i < 100 && raw.open > before; i++) await sleep(10);
  assert.equal(raw.open, before);
});

test("await using closes a streamed response", async () => {
  const before = raw.open;
  {
    await using r = await requests.get(`${raw.url}/endless`, { stream: true });
    assert.equal(r.status_code, 200);
  }
  for (let i = 0; i < 100 && raw.open > before; i++) await sleep(10);
  assert.equal(raw.open, before);
});

test("signal aborts with the signal's reason", async () => {
  const controller = new AbortController();
  const reason = new Error("user gave up");
  setTimeout(() => controller.abort(reason), 50);
  const error = await requests.get(`${raw.url}/silent`, { signal: controller.signal }).catch((
    e,
  ) => e);
  assert.equal(error, reason);
  const before = raw.connections;
  const early = await requests.get(raw.url, { signal: AbortSignal.abort(reason) }).catch((e) => e);
  assert.equal(early, reason);
  assert.equal(raw.connections, before);
});

test("progress reports bytes as they arrive with the expected total", async () => {
  const calls: [number, number | null][] = [];
  const r = await requests.get(`${server.url}/bytes/200000`, {
    progress: (loaded, total) => calls.push([loaded, total]),
  });
  assert.equal(r.bytes.byteLength, 200000);
  assert.ok(calls.length >= 1);
  assert.deepEqual(calls.at(-1), [200000, 200000]);
  for (let i = 1; i < calls.length; i++) assert.ok(calls[i][0] > calls[i - 1][0]);
});

test("max_bytes refuses a declared Content-Length at once", async () => {
  const error = await requests.get(`${raw.url}/huge-length`, { max_bytes: 1000 }).catch((e) => e);
  assert.ok(error instanceof requests.ContentTooLargeError, String(error));
  assert.match(error.message, /Content-Length is 10000000000/);
});

test("max_bytes cancels an endless body instead of draining it", async () => {
  const before = raw.open;
  const error = await requests.get(`${raw.url}/endless`, { max_bytes: 100_000 }).catch((e) => e);
  assert.ok(error instanceof requests.ContentTooLargeError, String(error));
  for (let i = 0; i < 100 && raw.open > before; i++) await sleep(10);
  assert.equal(raw.open, before);
  const streamed = await requests.get(`${raw.url}/endless`, { max_bytes: 50_000, stream: true });
  await assert.rejects(async () => {
    for await (const _ of streamed.iter_content()) { /* read on */ }
  }, requests.ContentTooLargeError);
});

test("max_bytes lets a body of exactly that size through", async () => {
  const r = await requests.get(`${server.url}/bytes/5000`, { max_bytes: 5000 });
  assert.equal(r.bytes.byteLength, 5000);
});

test("params are appended to the query exactly as Python requests encodes them", async () => {
  const r = await requests.get(`${server.url}/p?keep=a%20b`, {
    params: { q: "a b/c?d", list: [1, 2], none: null, sym: "*~!'()" },
  });
  const echoed = r.json() as Echo;
  assert.equal(
    new URL(echoed.url).search,
    "?keep=a%20b&q=a+b%2Fc%3Fd&list=1&list=2&sym=%2A~%21%27%28%29",
  );
  const pairs = await requests.get(server.url, { params: [["a", "1"], ["a", "2"]] });
  assert.deepEqual((pairs.json() as Echo).query, [["a", "1"], ["a", "2"]]);
  const usp = await requests.get(server.url, { params: new URLSearchParams("x=1") });
  assert.deepEqual((usp.json() as Echo).query, [["x", "1"]]);
});

test("cookies are sent as one Cookie header", async () => {
  const r = await requests.get(server.url, { cookies: { a: "1", b: "two" } });
  assert.equal(header(r.json() as Echo, "cookie"), "a=1; b=two");
  const both = await requests.get(server.url, { headers: { Cookie: "h=0" }, cookies: { c: "3" } });
  assert.equal(header(both.json() as Echo, "cookie"), "h=0; c=3");
});

test("a refused connection is a ConnectionError with method and URL", async () => {
  const port = await closedPort();
  const error = await requests.post(`http://127.0.0.1:${port}/x`).catch((e) => e);
  assert.ok(error instanceof requests.ConnectionError, String(error));
  assert.equal(error.message, `Connection refused: POST http://127.0.0.1:${port}/x`);
  assert.ok(error.cause !== undefined);
});

test("a reset before the response is a ConnectionError", async () => {
  const error = await requests.get(`${raw.url}/reset`).catch((e) => e);
  assert.ok(error instanceof requests.ConnectionError, String(error));
});

test("a body cut short is a ConnectionError, buffered or streamed", async () => {
  for (const path of ["/truncated", "/chunked-cut"]) {
    const error = await requests.get(`${raw.url}${path}`).catch((e) => e);
    assert.ok(error instanceof requests.ConnectionError, `${path}: ${error}`);
    const r = await requests.get(`${raw.url}${path}`, { stream: true }).catch((e) => e);
    if (r instanceof requests.Response) {
      await assert.rejects(r.read(), requests.ConnectionError, path);
    } else {
      assert.ok(r instanceof requests.ConnectionError, `${path}: ${r}`);
    }
  }
});

test("deflate (zlib or raw), stacked codings and identity members are decoded everywhere", async () => {
  const paths = ["/deflate", "/deflate-raw", "/gzip-gzip", "/gzip-deflate", "/identity-gzip"];
  for (const path of [...paths, "/gzip-empty"]) {
    assert.deepEqual((await requests.get(`${raw.url}${path}`)).json(), { decoded: true }, path);
    const streamed = await requests.get(`${raw.url}${path}`, { stream: true });
    await streamed.read();
    assert.deepEqual(streamed.json(), { decoded: true }, path);
  }
});

test("more than five stacked codings, or a broken one, is a typed error", async () => {
  const six = await requests.get(`${raw.url}/six`).catch((e) => e);
  assert.ok(six instanceof requests.ConnectionError, String(six));
  assert.match(six.message, /6 stacked Content-Encodings/);
  const broken = await requests.get(`${raw.url}/broken-gzip`).catch((e) => e);
  assert.ok(broken instanceof requests.RequestError, String(broken));
});

test("the platform error kept as cause never shows secret query values", async () => {
  const { inspect } = await import("node:util");
  const port = await closedPort();
  const error = await requests.get(`http://127.0.0.1:${port}/x?token=S3CR3T&api_key=K3Y`)
    .catch((e) => e);
  assert.ok(error instanceof requests.ConnectionError, String(error));
  const shown = inspect(error, { depth: 5 });
  assert.ok(!shown.includes("S3CR3T") && !shown.includes("K3Y"), shown);
});
