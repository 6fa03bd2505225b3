// Broken message framing from a raw server: short bodies, cut chunked bodies, resets mid-body,
// conflicting Content-Length, huge header blocks. Every one is a typed error (or, where the
// runtime accepts it, a correct response), never a hang and never a wrong body.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import * as requests from "../../mod.ts";
import { ConnectionError } from "../../mod.ts";
import {
  chunk,
  chunked,
  join,
  malformed,
  ok,
  response,
  RUNTIME,
  type Scripted,
  scripted,
  type Seen,
} from "../_raw.ts";
import { rejectsWith, within } from "../_fixtures.ts";

/** What the server does, by request path. */
const ROUTES: Record<string, (socket: net.Socket, seen: Seen) => void> = {
  "/short": (s) => s.end(response("200 OK", [["Content-Length", "100"]], "only ten b")),
  "/chunked-cut": (s) =>
    // The second chunk announces 16 bytes and brings 3.
    s.end(
      response("200 OK", [["Transfer-Encoding", "chunked"]], join([chunk("hello"), "10\r\nabc"])),
    ),
  "/chunked-no-end": (s) =>
    s.end(response("200 OK", [["Transfer-Encoding", "chunked"]], chunk("hello"))),
  "/reset": (s) => {
    s.write(response("200 OK", [["Content-Length", "100000"]], "x".repeat(5000)), () => {
      setTimeout(() => s.resetAndDestroy(), 20);
    });
  },
  "/reset-chunked": (s) => {
    s.write(response("200 OK", [["Transfer-Encoding", "chunked"]], chunk("hello")), () => {
      setTimeout(() => s.resetAndDestroy(), 20);
    });
  },
  "/empty": (s) => s.end(),
  "/reset-before-head": (s) => s.resetAndDestroy(),
  "/half-head": (s) => s.end(malformed(["200 OK", "Content-Len"], { terminated: false })),
  "/two-lengths": (s) =>
    // A smuggling attempt: a client that trusted the first length would find a second
    // response waiting on the connection.
    s.end(
      response(
        "200 OK",
        [["Content-Length", "5"], ["Content-Length", "45"]],
        join(["hello", response("200 OK", [["Content-Length", "7"]], "smuggle")]),
      ),
    ),
  "/list-length": (s) => s.end(response("200 OK", [["Content-Length", "5, 6"]], "hello!")),
  "/same-lengths": (s) =>
    s.end(response("200 OK", [["Content-Length", "5"], ["Content-Length", "5"]], "hello")),
  "/bad-length": (s) => s.end(response("200 OK", [["Content-Length", "-5"]], "hello")),
  "/plus-length": (s) => s.end(response("200 OK", [["Content-Length", "+5"]], "hello")),
  "/length-and-chunked": (s) =>
    s.end(
      chunked(["hello"], [["Content-Length", "3"]]),
    ),
  "/big-line": (s) =>
    s.end(response("200 OK", [["X-Big", "b".repeat(1 << 20)], ["Content-Length", "2"]], "ok")),
  "/huge-line": (s) =>
    s.end(response("200 OK", [["X-Big", "b".repeat(16 << 20)], ["Content-Length", "2"]], "ok")),
  "/many-headers": (s) => {
    const many: [string, string][] = [];
    for (let i = 0; i < 10_000; i++) many.push([`X-H${i}`, "v"]);
    s.end(response("200 OK", [...many, ["Content-Length", "2"]], "ok"));
  },
  "/many-same": (s) => {
    const many: [string, string][] = Array.from({ length: 10_000 }, () => ["Set-Cookie", "a=b"]);
    s.end(response("200 OK", [...many, ["Content-Length", "2"]], "ok"));
  },
  "/bad-status": (s) => s.end(response("2000 OK", [["Content-Length", "2"]], "ok")),
  "/http09": (s) => s.end("just some bytes, no status line"),
  "/nul-header": (s) => s.end(response("200 OK", [["X-A", "a\0b"], ["Content-Length", "2"]], "ok")),
  "/fold": (s) => s.end(malformed(["200 OK", "X-A: a", " b", "Content-Length: 2"], { body: "ok" })),
  "/next": (s) => s.write(ok("next")),
};

let server: Scripted;

before(async () => {
  server = await scripted((seen, socket) => {
    const route = ROUTES[seen.target];
    if (route === undefined) socket.end(response("404 Not Found", [["Content-Length", "0"]]));
    else route(socket, seen);
  });
});

after(() => server.close());

/** Every way of reading a body: buffered (with and without limits) and streamed. */
const READS = [
  ["buffered", {}],
  ["buffered with a timeout", { timeout: 5 }],
  ["buffered with max_bytes", { max_bytes: 1 << 20 }],
  ["streamed with read()", { stream: true }],
  ["streamed with iter_content()", { stream: true, timeout: 5 }],
] as const;

async function fetchAll(path: string, options: requests.RequestOptions): Promise<Uint8Array> {
  const r = await requests.get(`${server.url}${path}`, options);
  if (options.stream !== true) return r.bytes;
  if (options.timeout === undefined) return await r.read();
  let size = 0;
  for await (const chunk of r.iter_content()) size += chunk.byteLength;
  return new Uint8Array(size);
}

for (
  const [path, what] of [
    ["/short", "a body shorter than its Content-Length"],
    ["/chunked-cut", "a chunked body cut short inside a chunk"],
    ["/chunked-no-end", "a chunked body without its last chunk"],
    ["/reset", "a reset mid-body"],
    ["/reset-chunked", "a reset mid-way through a chunked body"],
  ] as const
) {
  for (const [how, options] of READS) {
    test(`${what} is a ConnectionError (${how})`, async () => {
      const error = await rejectsWith(fetchAll(path, options), ConnectionError);
      assert.match(error.message, new RegExp(`: GET ${server.url}${path}$`));
      assert.equal(error.request.url, `${server.url}${path}`);
    });
  }
}

for (
  const [path, what] of [
    ["/empty", "a connection closed before any byte"],
    ["/reset-before-head", "a reset before any byte"],
    ["/half-head", "a head cut short"],
    ["/bad-status", "a four-digit status"],
    ["/http09", "an answer with no status line"],
    ["/nul-header", "a NUL inside a header value"],
    ["/fold", "an obsolete folded header line"],
  ] as const
) {
  test(`${what} is a ConnectionError`, async () => {
    await rejectsWith(requests.get(`${server.url}${path}`), ConnectionError);
  });
}

test("conflicting Content-Length headers are refused and the connection is not reused", async () => {
  for (const path of ["/two-lengths", "/list-length", "/bad-length", "/plus-length"]) {
    await rejectsWith(requests.get(`${server.url}${path}`), ConnectionError);
    // Whatever the runtime does with the rest of those bytes, the next answer is the real one.
    const r = await within(5000, requests.get(`${server.url}/next`));
    assert.equal(r.content, "next", path);
  }
});

/** Node's fetch (undici) refuses what Deno and Bun read; either is safe, a wrong body is not. */
async function readOrRefused(path: string): Promise<string | null> {
  if (RUNTIME !== "node") return (await requests.get(`${server.url}${path}`)).content;
  await rejectsWith(requests.get(`${server.url}${path}`), ConnectionError);
  return null;
}

test("identical repeated Content-Length headers are read as one", async () => {
  assert.ok(["hello", null].includes(await readOrRefused("/same-lengths")));
});

test("Transfer-Encoding chunked wins over Content-Length and no byte is lost or smuggled", async () => {
  assert.ok(["hello", null].includes(await readOrRefused("/length-and-chunked")));
  const next = await requests.get(`${server.url}/next`);
  assert.equal(next.content, "next");
});

test("a 1 MB header line is either refused with a ConnectionError or read whole", async () => {
  try {
    const r = await within(10_000, requests.get(`${server.url}/big-line`));
    // Bun accepts a header block of 1 MB (it refuses somewhere below 4 MB); Deno refuses it.
    assert.equal(RUNTIME, "bun");
    assert.equal(r.content, "ok");
    assert.ok(r.headers.includes(`x-big: ${"b".repeat(1 << 20)}`));
  } catch (error) {
    assert.ok(error instanceof ConnectionError, String(error));
  }
});

test("a 16 MB header line is a ConnectionError", async () => {
  await rejectsWith(requests.get(`${server.url}/huge-line`), ConnectionError);
});

test("10,000 headers are a ConnectionError, not a hang", async () => {
  for (const path of ["/many-headers", "/many-same"]) {
    await rejectsWith(requests.get(`${server.url}${path}`), ConnectionError);
  }
});

test("a malformed response says so in the error message", async () => {
  for (const path of ["/two-lengths", "/bad-status", "/nul-header", "/many-headers"]) {
    const error = await rejectsWith(requests.get(`${server.url}${path}`), ConnectionError);
    assert.match(error.message, /^The server sent an invalid HTTP response/, path);
  }
});
