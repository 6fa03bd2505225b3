// events(): server-sent events across reconnections, against real servers: raw node:net ones
// that drop connections mid-event, pause and refuse, and the runtime's own server.

import { test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import * as requests from "../mod.ts";
import type { RequestOptions, ServerSentEvent } from "../mod.ts";
import { eventsVia } from "../src/events.ts";
import {
  closedPort,
  headerOf,
  join,
  type Scripted,
  scripted,
  type Seen,
  serve,
  trackedServer,
  trickle,
} from "./_server.ts";
import { eventually, rejectsWith, within } from "./_fixtures.ts";

const encoder = new TextEncoder();
/** An event stream whose body lasts until the connection closes. */
const HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
/** An event stream in chunked framing: closing mid-chunk is an error, not an end. */
const CHUNKED_HEAD =
  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n";

function chunk(text: string): string {
  return `${encoder.encode(text).byteLength.toString(16)}\r\n${text}\r\n`;
}

/** What the server does with the n-th request (0-based); the last script repeats. */
type Script = (socket: net.Socket, seen: Seen) => void;

function sse(scripts: Script[]): Promise<Scripted> {
  let n = 0;
  return scripted((seen, socket) => scripts[Math.min(n++, scripts.length - 1)](socket, seen));
}

/** The first `count` events, then leaves the loop. */
async function take(
  iterable: AsyncIterable<ServerSentEvent>,
  count: number,
  ms = 8000,
): Promise<ServerSentEvent[]> {
  const out: ServerSentEvent[] = [];
  await within(
    ms,
    (async () => {
      for await (const event of iterable) {
        out.push(event);
        if (out.length === count) break;
      }
    })(),
    `taking ${count} events`,
  );
  return out;
}

/** Every event until the iteration ends, and how it ended (null: cleanly). */
async function drain(
  iterable: AsyncIterable<ServerSentEvent>,
  ms = 8000,
): Promise<[ServerSentEvent[], unknown]> {
  const out: ServerSentEvent[] = [];
  const error = await within(
    ms,
    (async () => {
      for await (const event of iterable) out.push(event);
      return null;
    })().catch((e) => e),
    "draining the events",
  );
  return [out, error];
}

/**
 * A floor of 10 ms under the reconnection waits (0.5 s by default), so that tests that reconnect
 * several times stay fast; the back-off scales with it.
 */
const FAST = { min_reconnect_delay: 0.01 } as const;

const event = (data: string, id = "", retry: number | null = null, type = "message") => ({
  event: type,
  data,
  id,
  retry,
});

for (const framing of ["close-delimited", "chunked"] as const) {
  test(`events() reconnects after a ${framing} stream drops mid-event, with Last-Event-ID`, async () => {
    const write = framing === "chunked"
      ? (s: net.Socket, text: string) => s.write(chunk(text))
      : (s: net.Socket, text: string) => s.write(text);
    let droppedAt = 0;
    const server = await sse([
      (s) => {
        s.write(framing === "chunked" ? CHUNKED_HEAD : HEAD);
        write(s, "retry: 80\nid: 1\ndata: one\n\nid: 2\ndata: half");
        setTimeout(() => {
          droppedAt = performance.now();
          s.destroy();
        }, 30);
      },
      (s) => {
        s.write(framing === "chunked" ? CHUNKED_HEAD : HEAD);
        write(s, "id: 3\ndata: three\n\n");
      },
    ]);
    try {
      // reconnect_delay would wait 30 s: the stream's retry (80 ms) is what is waited.
      const seen = await take(requests.events(server.url, { ...FAST, reconnect_delay: 30 }), 2);
      assert.deepEqual(seen, [event("one", "1", 80), event("three", "3", 80)]);
      const [first, second] = server.seen;
      assert.equal(headerOf(first, "accept"), "text/event-stream");
      assert.equal(headerOf(first, "cache-control"), "no-cache");
      assert.equal(headerOf(first, "last-event-id"), null);
      // The half event (id 2) was never dispatched: the ID in force is still 1.
      assert.equal(headerOf(second, "last-event-id"), "1");
      assert.equal(server.seen.length, 2);
      assert.ok(droppedAt > 0);
      assert.ok(await eventually(() => server.open === 0), "the connection is closed at break");
    } finally {
      await server.close();
    }
  });
}

test("events() waits the stream's retry before reconnecting", async () => {
  const arrivals: number[] = [];
  const server = await sse([(s) => {
    arrivals.push(performance.now());
    s.end(`${HEAD}retry: 300\ndata: x\n\n`);
  }]);
  try {
    await take(requests.events(server.url, FAST), 2);
    assert.equal(arrivals.length, 2);
    assert.ok(arrivals[1] - arrivals[0] >= 280, `waited ${arrivals[1] - arrivals[0]} ms`);
  } finally {
    await server.close();
  }
});

test("events() puts a 0.5 s floor under retry: 0: a server that closes after each event sees few connections in 2 s", async () => {
  const arrivals: number[] = [];
  const server = await sse([(s) => {
    arrivals.push(performance.now());
    s.end(`${HEAD}retry: 0\ndata: x\n\n`);
  }]);
  try {
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(new Error("2 s are up")), 2000);
    const [seen, error] = await drain(requests.events(server.url, { signal: stop.signal }));
    clearTimeout(timer);
    assert.equal((error as Error)?.message, "2 s are up");
    // At most one connection at the start and one after each 0.5 s wait.
    assert.ok(arrivals.length >= 2 && arrivals.length <= 1 + 2000 / 500, `${arrivals.length}`);
    assert.equal(seen.length, arrivals.length);
    for (let i = 1; i < arrivals.length; i++) {
      const gap = arrivals[i] - arrivals[i - 1];
      assert.ok(gap >= 480, `connection ${i + 1} came ${gap.toFixed(0)} ms after the one before`);
    }
  } finally {
    await server.close();
  }
});

/** Milliseconds from each connection's end (the server closing it) to the next connection. */
async function reconnectWaits(
  connections: number,
  options: requests.EventsOptions,
  holdMs = 0,
): Promise<number[]> {
  const closed: number[] = [];
  const waits: number[] = [];
  const server = await sse([(s) => {
    if (closed.length > 0) waits.push(performance.now() - closed[closed.length - 1]);
    s.write(`${HEAD}retry: 0\ndata: x\n\n`);
    setTimeout(() => {
      closed.push(performance.now());
      s.end();
    }, holdMs);
  }]);
  try {
    await take(requests.events(server.url, options), connections);
    return waits;
  } finally {
    await server.close();
  }
}

test("events() backs off when connections keep ending quickly, even when each delivers an event", async () => {
  // Floor 20 ms: the 1st wait is 20 ms, then up to 40, 80, 160, 320 ms, never below half that.
  const waits = await reconnectWaits(6, { min_reconnect_delay: 0.02 });
  assert.equal(waits.length, 5);
  const least = [20, 20, 40, 80, 160];
  for (let i = 0; i < waits.length; i++) {
    assert.ok(waits[i] >= least[i] - 2, `wait ${i + 1}: ${waits[i].toFixed(1)} ms < ${least[i]}`);
  }
});

test("events() starts the back-off again after a connection that stayed open", async () => {
  // Floor 10 ms: a connection open 150 ms is not quick (that is under 100 ms). Without the
  // reset, the 6th and 7th waits would be at least 160 and 320 ms.
  const waits = await reconnectWaits(8, FAST, 150);
  assert.equal(waits.length, 7);
  assert.ok(Math.max(...waits) < 150, `waits: ${waits.map((w) => w.toFixed(0)).join(", ")} ms`);
});

/**
 * The bytes of the Last-Event-ID header in a request head, or null. (Scripted servers decode
 * heads as windows-1252, which is not one character per byte: the bytes are read here.)
 */
function lastEventIdBytes(head: Uint8Array): Uint8Array | null {
  const name = encoder.encode("\r\nlast-event-id:");
  const lower = head.map((b) => b >= 0x41 && b <= 0x5a ? b + 32 : b);
  for (let i = 0; i + name.length <= lower.length; i++) {
    if (name.every((b, j) => lower[i + j] === b)) {
      let start = i + name.length;
      while (head[start] === 0x20) start++;
      let end = start;
      while (head[end] !== 0x0d) end++;
      return head.slice(start, end);
    }
  }
  return null;
}

test("events() sends Last-Event-ID as UTF-8, so that any ID round-trips", async () => {
  const ids = ["café", "naïve ÿ", "日本", "ü€😀"];
  const sent: (number[] | null)[] = [];
  const server = await trackedServer((socket) => {
    let head = new Uint8Array(0);
    socket.on("data", (chunk: Uint8Array) => {
      head = join([head, chunk]);
      if (!new TextDecoder("latin1").decode(head).includes("\r\n\r\n")) return;
      // The server reads the header's bytes as UTF-8 and sends the ID back as the event's data.
      const bytes = lastEventIdBytes(head);
      sent.push(bytes === null ? null : [...bytes]);
      const id = bytes === null ? "" : new TextDecoder().decode(bytes);
      const next = ids[ids.indexOf(id) + 1];
      socket.end(`${HEAD}retry: 0\n${next === undefined ? "" : `id: ${next}\n`}data: ${id}\n\n`);
    });
  });
  try {
    const seen = await take(requests.events(server.url, FAST), ids.length + 1);
    assert.deepEqual(seen.map((e) => e.data), ["", ...ids]);
    assert.deepEqual(sent[1], [0x63, 0x61, 0x66, 0xc3, 0xa9], "café as UTF-8: é is C3 A9");
    const given = { "Last-Event-ID": "café" };
    const started = await take(requests.events(server.url, { headers: given }), 1);
    assert.equal(started[0].data, "café");
    assert.deepEqual(given, { "Last-Event-ID": "café" });
  } finally {
    await server.close();
  }
});

test("events() keeps the last event ID across connections whose events carry none", async () => {
  const server = await sse([
    (s) => s.end(`${HEAD}retry: 10\nid: 7\ndata: a\n\n`),
    (s) => s.end(`${HEAD}data: b\n\n`),
    (s) => s.end(`${HEAD}id\ndata: c\n\n`),
    (s) => s.end(`${HEAD}data: d\n\n`),
  ]);
  try {
    const seen = await take(requests.events(server.url, FAST), 4);
    assert.deepEqual(seen.map((e) => [e.data, e.id, e.retry]), [
      ["a", "7", 10],
      ["b", "7", 10],
      ["c", "", 10],
      ["d", "", 10],
    ]);
    assert.deepEqual(server.seen.map((s) => headerOf(s, "last-event-id")), [null, "7", "7", null]);
  } finally {
    await server.close();
  }
});

test("events() starts from a Last-Event-ID given in headers, and keeps the caller's Accept", async () => {
  const server = await sse([
    (s) => s.end(`${HEAD}retry: 10\ndata: a\n\n`),
    (s) => s.end(`${HEAD}data: b\n\n`),
  ]);
  try {
    const headers = { "Last-Event-ID": "41", Accept: "text/event-stream, */*;q=0.1" };
    const seen = await take(requests.events(server.url, { ...FAST, headers }), 2);
    assert.deepEqual(seen.map((e) => e.id), ["41", "41"]);
    assert.deepEqual(server.seen.map((s) => headerOf(s, "last-event-id")), ["41", "41"]);
    assert.equal(headerOf(server.seen[0], "accept"), "text/event-stream, */*;q=0.1");
    assert.deepEqual(headers, { "Last-Event-ID": "41", Accept: "text/event-stream, */*;q=0.1" });
    for (const input of [new Headers(headers), Object.entries(headers)]) {
      const again = await take(requests.events(server.url, { headers: input }), 1);
      assert.equal(again[0].id, "41");
    }
    assert.equal(headerOf(server.seen.at(-1)!, "last-event-id"), "41");
  } finally {
    await server.close();
  }
});

test("events() yields each event as it arrives on a paused feed", async () => {
  let firstSeen!: () => void;
  const seenFirst = new Promise<void>((r) => firstSeen = r);
  const server = await sse([(s) => {
    s.write(`${CHUNKED_HEAD}${chunk("data: first\n\n")}`);
    // The second event is sent only once the client has the first one.
    seenFirst.then(() => s.write(chunk("data: second\n\n")));
  }]);
  try {
    const seen: string[] = [];
    await within(
      5000,
      (async () => {
        for await (const e of requests.events(server.url)) {
          seen.push(e.data);
          firstSeen();
          if (seen.length === 2) break;
        }
      })(),
    );
    assert.deepEqual(seen, ["first", "second"]);
  } finally {
    await server.close();
  }
});

test("events() reads a stream that trickles in one byte at a time", async () => {
  const server = await sse([(s) => {
    s.write(HEAD);
    trickle(s, "\uFEFF: hi\r\nevent: tick\r\ndata: a\r\ndata: b\r\n\r\nid: 5\rdata: c\r\r", 2);
  }]);
  try {
    const seen = await take(requests.events(server.url), 2);
    assert.deepEqual(seen, [event("a\nb", "", null, "tick"), event("c", "5")]);
  } finally {
    await server.close();
  }
});

test("events() ends cleanly at a 204, first or after a reconnection", async () => {
  const at204 = await sse([(s) => s.write("HTTP/1.1 204 No Content\r\n\r\n")]);
  try {
    const [seen, error] = await drain(requests.events(at204.url));
    assert.deepEqual([seen, error], [[], null]);
    assert.equal(at204.seen.length, 1);
  } finally {
    await at204.close();
  }
  const later = await sse([
    (s) => s.end(`${HEAD}retry: 10\ndata: a\n\n`),
    (s) => s.write("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"),
  ]);
  try {
    const [seen, error] = await drain(requests.events(later.url, FAST));
    assert.deepEqual([seen.map((e) => e.data), error], [["a"], null]);
    assert.equal(later.seen.length, 2);
  } finally {
    await later.close();
  }
});

test("events() ends with HTTPError at a status other than 2xx, without reconnecting", async () => {
  for (const status of ["404 Not Found", "503 Service Unavailable"]) {
    const server = await sse([(s) => s.end(`HTTP/1.1 ${status}\r\nContent-Length: 2\r\n\r\nno`)]);
    try {
      const error = await rejectsWith(
        drain(requests.events(server.url)).then(([, e]) => {
          throw e;
        }),
        requests.HTTPError,
      );
      assert.equal(error.response?.status_code, Number(status.slice(0, 3)));
      assert.match(error.message, new RegExp(`^${status.slice(0, 3)} (Client|Server) Error`));
      assert.equal(server.seen.length, 1);
    } finally {
      await server.close();
    }
  }
  const redirect = await sse([(s) => s.end("HTTP/1.1 304 Not Modified\r\n\r\n")]);
  try {
    const [, error] = await drain(requests.events(redirect.url));
    assert.ok(error instanceof requests.HTTPError, String(error));
    assert.match(error.message, /Expected a 2xx status for an event stream, got 304 Not Modified/);
  } finally {
    await redirect.close();
  }
  const later = await sse([
    (s) => s.end(`${HEAD}retry: 10\ndata: a\n\n`),
    (s) => s.end("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"),
  ]);
  try {
    const [seen, error] = await drain(requests.events(later.url, FAST));
    assert.deepEqual(seen.map((e) => e.data), ["a"]);
    assert.ok(error instanceof requests.HTTPError, String(error));
  } finally {
    await later.close();
  }
});

test("events() ends with RequestError when the Content-Type is not text/event-stream", async () => {
  for (const type of ["text/plain", "application/json", null]) {
    const server = await sse([(s) =>
      s.end(
        `HTTP/1.1 200 OK\r\n${type === null ? "" : `Content-Type: ${type}\r\n`}` +
          "Content-Length: 9\r\n\r\ndata: x\n\n",
      )]);
    try {
      const [seen, error] = await drain(requests.events(server.url));
      assert.deepEqual(seen, []);
      assert.ok(error instanceof requests.RequestError, String(error));
      assert.ok(!(error instanceof requests.HTTPError));
      assert.match(
        error.message,
        new RegExp(
          `Expected Content-Type text/event-stream for an event stream, got ${
            type === null ? "none" : `"${type.replace("/", "\\/")}"`
          }`,
        ),
      );
      assert.equal(error.response?.status_code, 200);
      assert.equal(server.seen.length, 1);
    } finally {
      await server.close();
    }
  }
});

test("events() ends with the last ConnectionError after max_reconnects failures in a row", async () => {
  const server = await sse([(s) => s.destroy()]);
  try {
    const [seen, error] = await drain(
      requests.events(server.url, { ...FAST, max_reconnects: 2, reconnect_delay: 0.01 }),
    );
    assert.deepEqual(seen, []);
    assert.ok(error instanceof requests.ConnectionError, String(error));
    assert.equal(server.seen.length, 3, "the first try and 2 reconnections");
  } finally {
    await server.close();
  }
  const port = await closedPort();
  const [, refused] = await drain(
    requests.events(`http://127.0.0.1:${port}/feed`, { ...FAST, reconnect_delay: 0.01 }),
  );
  assert.ok(refused instanceof requests.ConnectionError, String(refused));
  assert.match(refused.message, /^Connection refused: GET http:\/\/127\.0\.0\.1:\d+\/feed$/);
});

test("events() counts a connection that ends without an event as failed", async () => {
  const server = await sse([(s) => s.end(`${HEAD}: only a comment\n\nretry: 5\n\n`)]);
  try {
    const [, error] = await drain(requests.events(server.url, { ...FAST, max_reconnects: 1 }));
    assert.ok(error instanceof requests.ConnectionError, String(error));
    assert.match(error.message, /^The event stream ended before sending an event: GET /);
    assert.equal(server.seen.length, 2);
  } finally {
    await server.close();
  }
});

test("events() resets the count of failures at a connection that delivered an event", async () => {
  // Odd requests deliver an event and close; even ones fail. With max_reconnects 2, the count
  // would reach 2 at the third request (and end the feed there) unless the event reset it.
  let n = 0;
  const server = await scripted((_, s) => {
    if (n++ % 2 === 0) s.end(`${HEAD}retry: 5\ndata: ${n}\n\n`);
    else s.destroy();
  });
  try {
    const seen = await take(requests.events(server.url, { ...FAST, max_reconnects: 2 }), 3);
    assert.deepEqual(seen.map((e) => e.data), ["1", "3", "5"]);
    assert.equal(server.seen.length, 5);
  } finally {
    await server.close();
  }
});

test("events() with max_reconnects 0 never reconnects", async () => {
  const server = await sse([(s) => s.end(`${HEAD}retry: 5\ndata: a\n\n`)]);
  try {
    const [seen, error] = await drain(requests.events(server.url, { max_reconnects: 0 }));
    assert.deepEqual([seen.map((e) => e.data), error], [["a"], null]);
    assert.equal(server.seen.length, 1);
  } finally {
    await server.close();
  }
});

test("leaving the loop closes the connection: the server sees the socket close", async () => {
  let closed = 0;
  const server = await sse([(s) => {
    s.on("close", () => closed++);
    s.write(`${CHUNKED_HEAD}${chunk("data: a\n\n")}`);
  }]);
  try {
    for await (const _ of requests.events(server.url)) break;
    assert.ok(await eventually(() => closed === 1), "closed after break");
    const iterator = requests.events(server.url)[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.data, "a");
    await iterator.return();
    assert.ok(await eventually(() => closed === 2), "closed after return()");
    assert.equal(server.seen.length, 2);
  } finally {
    await server.close();
  }
});

test("signal aborts the iteration during the reconnect wait, and during a read", async () => {
  const server = await sse([
    (s) => s.end(`${HEAD}data: a\n\n`),
    (s) => s.write(`${CHUNKED_HEAD}${chunk(": waiting\n\n")}`),
  ]);
  try {
    const controller = new AbortController();
    const reason = new Error("user left");
    const seen: string[] = [];
    const started = performance.now();
    const error = await within(
      5000,
      (async () => {
        // reconnect_delay: 30 s: only the abort can end this wait.
        for await (
          const e of requests.events(server.url, {
            signal: controller.signal,
            reconnect_delay: 30,
          })
        ) {
          seen.push(e.data);
          setTimeout(() => controller.abort(reason), 50);
        }
      })().catch((e) => e),
    );
    assert.equal(error, reason);
    assert.deepEqual(seen, ["a"]);
    assert.ok(performance.now() - started < 4000);
    assert.equal(server.seen.length, 1);

    const during = new AbortController();
    setTimeout(() => during.abort(reason), 100);
    const [, readError] = await drain(
      requests.events(server.url, { signal: during.signal, reconnect_delay: 0.01 }),
    );
    assert.equal(readError, reason);
    assert.ok(await eventually(() => server.open === 0), "the aborted connection is closed");
  } finally {
    await server.close();
  }
});

test("total_timeout bounds the whole iteration, reconnections and waits included", async () => {
  const server = await sse([(s) => s.end(`${HEAD}retry: 50\ndata: a\n\n`)]);
  try {
    const started = performance.now();
    const [seen, error] = await drain(
      requests.events(server.url, { ...FAST, total_timeout: 0.6 }),
    );
    const took = performance.now() - started;
    assert.ok(error instanceof requests.TimeoutError, String(error));
    assert.match(error.message, /^Event stream took longer than total_timeout \(0\.6 s\): GET /);
    assert.ok(seen.length >= 2, `events: ${seen.length}`);
    assert.ok(server.seen.length >= 2, "it spans several connections");
    assert.ok(took >= 550 && took < 4000, `took ${took} ms`);
  } finally {
    await server.close();
  }
  const slow = await sse([
    (s) => s.end(`${HEAD}data: a\n\n`),
    (s) => s.write(CHUNKED_HEAD),
  ]);
  try {
    // The deadline falls in the 30 s wait; then during a silent stream.
    const [, inWait] = await drain(
      requests.events(slow.url, { total_timeout: 0.3, reconnect_delay: 30 }),
    );
    assert.ok(inWait instanceof requests.TimeoutError, String(inWait));
    const [, inRead] = await drain(
      requests.events(slow.url, { total_timeout: 0.3, reconnect_delay: 0.01 }),
    );
    assert.ok(inRead instanceof requests.TimeoutError, String(inRead));
    assert.match(inRead.message, /total_timeout \(0\.3 s\)/);
  } finally {
    await slow.close();
  }
});

test("timeout bounds each read: a silent stream is reconnected, then counted as failed", async () => {
  const server = await sse([
    (s) => s.write(`${CHUNKED_HEAD}${chunk("data: a\n\n")}`),
    (s) => s.write(CHUNKED_HEAD),
  ]);
  try {
    const [seen, error] = await drain(
      requests.events(server.url, {
        ...FAST,
        timeout: 0.2,
        max_reconnects: 1,
        reconnect_delay: 0.01,
      }),
    );
    assert.deepEqual(seen.map((e) => e.data), ["a"]);
    assert.ok(error instanceof requests.TimeoutError, String(error));
    assert.match(error.message, /No data received within 0\.2 s/);
    assert.equal(server.seen.length, 2);
  } finally {
    await server.close();
  }
});

test("events() refuses bad options before sending anything", async () => {
  const server = await sse([(s) => s.end(`${HEAD}data: a\n\n`)]);
  try {
    const cases = [
      [{ reconnect_delay: -1 }, /^Invalid 'reconnect_delay'/],
      [{ reconnect_delay: "3" }, /^Invalid 'reconnect_delay'/],
      [{ reconnect_delay: NaN }, /^Invalid 'reconnect_delay'/],
      [
        { min_reconnect_delay: 0 },
        /^Invalid 'min_reconnect_delay': expected a number of seconds above 0$/,
      ],
      [{ min_reconnect_delay: -0.5 }, /^Invalid 'min_reconnect_delay'/],
      [{ min_reconnect_delay: "1" }, /^Invalid 'min_reconnect_delay'/],
      [{ min_reconnect_delay: Infinity }, /^Invalid 'min_reconnect_delay'/],
      [{ max_reconnects: 1.5 }, /^Invalid 'max_reconnects'/],
      [{ max_reconnects: -1 }, /^Invalid 'max_reconnects'/],
      [{ stream: false }, /^Invalid 'stream'/],
      [{ total_timeout: 0 }, /^Invalid 'total_timeout'/],
      [{ signal: "stop" }, /^Invalid 'signal'/],
      [{ reconect_delay: 1 }, /^Unknown option 'reconect_delay'/],
    ] as const;
    for (const [options, message] of cases) {
      const [, error] = await drain(
        requests.events(server.url, options as unknown as requests.EventsOptions),
      );
      assert.ok(error instanceof TypeError, `${JSON.stringify(options)}: ${error}`);
      assert.match(error.message, message);
    }
    assert.equal(server.seen.length, 0);
  } finally {
    await server.close();
  }
});

test("eventsVia() hands the request function only request options", async () => {
  const calls: [string, string | URL, RequestOptions][] = [];
  const fetch = () =>
    new Response("retry: 1\ndata: x\n\n", { headers: { "content-type": "text/event-stream" } });
  const send = (
    method: string,
    url: string | URL,
    options: RequestOptions,
  ): Promise<requests.Response> => {
    calls.push([method, url, options]);
    return requests.request(method, url, { ...options, fetch });
  };
  const options = {
    reconnect_delay: 5,
    min_reconnect_delay: 0.01,
    max_reconnects: 3,
    timeout: 2,
    total_timeout: 30,
  };
  const seen = await take(eventsVia(send, "http://feed.test/x", options), 2);
  assert.deepEqual(seen.map((e) => e.data), ["x", "x"]);
  assert.equal(calls.length, 2);
  for (const [method, url, sent] of calls) {
    assert.equal(method, "GET");
    assert.equal(url, "http://feed.test/x");
    assert.deepEqual(Object.keys(sent).sort(), ["headers", "stream", "timeout", "total_timeout"]);
    assert.equal(sent.stream, true);
    assert.equal(sent.timeout, 2);
    assert.ok(typeof sent.total_timeout === "number" && sent.total_timeout <= 30);
  }
  assert.ok(calls[1][2].total_timeout! <= calls[0][2].total_timeout!, "the time left shrinks");
  assert.deepEqual(options, {
    reconnect_delay: 5,
    min_reconnect_delay: 0.01,
    max_reconnects: 3,
    timeout: 2,
    total_timeout: 30,
  });
});

test("events() against the runtime's own server: live events and Last-Event-ID", async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  let requestsSeen = 0;
  const server = await serve((req) => {
    requestsSeen++;
    const last = req.headers.get("last-event-id");
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        if (last === null) {
          controller.enqueue(encoder.encode("retry: 20\nid: a1\ndata: first\n\n"));
          await released;
          controller.enqueue(encoder.encode("data: second\n\n"));
        } else {
          controller.enqueue(encoder.encode(`data: resumed after ${last}\n\n`));
        }
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  try {
    const seen: string[] = [];
    await within(
      8000,
      (async () => {
        for await (const e of requests.events(server.url, FAST)) {
          seen.push(e.data);
          release();
          if (seen.length === 3) break;
        }
      })(),
    );
    assert.deepEqual(seen, ["first", "second", "resumed after a1"]);
    assert.equal(requestsSeen, 2);
  } finally {
    await server.close();
  }
});

test("session.events() sends the session's headers and cookies and follows the stream", async () => {
  const seen: (string | null)[] = [];
  const server = await serve((req) => {
    seen.push(`${req.headers.get("x-app")} ${req.headers.get("cookie")}`);
    return new Response("id: 1\ndata: one\n\ndata: two\n\n", {
      headers: { "content-type": "text/event-stream" },
    });
  });
  try {
    const session = new requests.Session({ base_url: server.url, headers: { "X-App": "cam" } });
    session.cookies.set("sid", "7");
    const data: string[] = [];
    for await (const event of session.events("/feed", { max_reconnects: 0 })) {
      data.push(event.data);
      if (data.length === 2) break;
    }
    assert.deepEqual(data, ["one", "two"]);
    assert.equal(seen[0], "cam sid=7");
  } finally {
    await server.close();
  }
});
