// upload_progress: countedBody() as the body of the platform's fetch (and of nodeFetch), at a
// raw server that reads slowly, for every body kind the module sends.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { canStreamUploads, countedBody, UPLOAD_PIECE } from "../src/_upload.ts";
import { nodeFetch } from "../src/transport/_node_http.ts";
import { MultipartBuilder } from "../src/multipart.ts";
import { join, ok, RUNTIME, trackedServer } from "./_server.ts";
import { within } from "./_fixtures.ts";

const MB = 1024 * 1024;
const SIZE = 16 * MB;
const latin1 = new TextDecoder("latin1");

/** One request the slow server read whole. */
interface Upload {
  head: string;
  body: Uint8Array;
}

/** A server that pauses its socket after every read, so an upload takes a while. */
interface SlowServer {
  url: string;
  /** Body bytes (with chunked framing, if any) read so far. */
  readonly received: number;
  /** True once the server began its answer. */
  readonly answered: boolean;
  readonly uploads: Upload[];
  close(): Promise<void>;
}

async function slowServer(): Promise<SlowServer> {
  let received = 0;
  let answered = false;
  const uploads: Upload[] = [];
  const server = await trackedServer((socket: net.Socket) => {
    let chunks: Uint8Array[] = [];
    let head: string | null = null;
    let length: number | "chunked" = 0;
    let bodyBytes = 0;
    let tail = "";
    socket.on("data", (data: Uint8Array) => {
      socket.pause();
      setTimeout(() => socket.resume(), 1);
      let chunk: Uint8Array = new Uint8Array(data);
      if (head === null) {
        chunks.push(chunk);
        const joined = join(chunks);
        const end = latin1.decode(joined.subarray(0, 64 * 1024)).indexOf("\r\n\r\n");
        if (end < 0) return;
        head = latin1.decode(joined.subarray(0, end));
        const lower = head.toLowerCase();
        length = /transfer-encoding: *chunked/.test(lower)
          ? "chunked"
          : Number(/content-length: *(\d+)/.exec(lower)?.[1] ?? 0);
        chunks = [];
        chunk = joined.subarray(end + 4);
      }
      chunks.push(chunk);
      bodyBytes += chunk.byteLength;
      received += chunk.byteLength;
      tail = (tail + latin1.decode(chunk.subarray(Math.max(0, chunk.byteLength - 8)))).slice(-8);
      const complete = length === "chunked" ? /(^|\r\n)0\r\n\r\n$/.test(tail) : bodyBytes >= length;
      if (!complete) return;
      const raw = join(chunks);
      const body = length === "chunked" ? dechunk(raw) : raw;
      uploads.push({ head, body });
      answered = true;
      socket.write(ok(String(body.byteLength)));
      head = null;
      chunks = [];
      bodyBytes = 0;
      tail = "";
    });
  });
  return {
    url: server.url,
    get received() {
      return received;
    },
    get answered() {
      return answered;
    },
    uploads,
    close: () => server.close(),
  };
}

function dechunk(raw: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const line = latin1.decode(raw.subarray(offset, offset + 32));
    const end = line.indexOf("\r\n");
    const size = parseInt(line.slice(0, end), 16);
    offset += end + 2;
    if (size === 0) return join(parts);
    parts.push(raw.subarray(offset, offset + size));
    offset += size + 2;
  }
  throw new Error("too many chunks");
}

/** A call of the callback, with what the server had read when it came. */
interface Call {
  sent: number;
  total: number | null;
  serverReceived: number;
  answered: boolean;
}

function recorder(server: SlowServer): [Call[], (sent: number, total: number | null) => void] {
  const calls: Call[] = [];
  return [calls, (sent, total) => {
    calls.push({ sent, total, serverReceived: server.received, answered: server.answered });
  }];
}

/** Bytes whose every position differs from its neighbours', so a reordering shows. */
function pattern(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 16)) & 0xff;
  return bytes;
}

/** The calls' shape: moving before the answer, increasing, never far ahead, `(n, n)` last. */
function assertProgress(calls: Call[], size: number, total: number | null): void {
  assert.ok(calls.length >= size / UPLOAD_PIECE, `only ${calls.length} calls for ${size} bytes`);
  const early = calls.filter((c) => !c.answered);
  assert.equal(early.length, calls.length, "a call came after the server answered");
  for (let i = 1; i < calls.length - 1; i++) {
    assert.ok(calls[i].sent > calls[i - 1].sent, `call ${i} did not move: ${calls[i].sent}`);
    assert.equal(calls[i].total, total);
  }
  const last = calls.at(-1)!;
  assert.deepEqual([last.sent, last.total], [size, size]);
  assert.equal(calls.filter((c) => c.sent === size && c.total === size).length, 1);
  // Pulled as the transport takes it: at some point the count was well short of the body
  // while the server had read only part of it.
  const mid = calls.find((c) => c.sent >= size / 2)!;
  assert.ok(
    mid.serverReceived < size,
    `half the body was counted only after the server had read it all`,
  );
  const ahead = Math.max(...calls.map((c) => c.sent - c.serverReceived));
  assert.ok(ahead < size * 0.75, `the count ran ${ahead} bytes ahead of the server`);
}

async function send(
  server: SlowServer,
  body: BodyInit,
  progress: (sent: number, total: number | null) => void,
  total?: number,
): Promise<string> {
  const counted = countedBody(body, progress, { total });
  const headers: Record<string, string> = counted.total === null
    ? {}
    : { "content-length": String(counted.total) };
  const res = await within(
    30_000,
    fetch(server.url, {
      method: "POST",
      body: counted.body,
      headers,
      duplex: "half",
    } as RequestInit),
    "the upload",
  );
  return await res.text();
}

const bytes = pattern(SIZE);

describe("countedBody() counts an upload sent with the platform's fetch", () => {
  it("canStreamUploads() is true on Deno, Bun and Node", () => {
    assert.equal(canStreamUploads(), true);
    assert.equal(canStreamUploads("http://127.0.0.1/"), true);
  });

  const text = latin1.decode(bytes).replace(/[^\x20-\x7e]/g, "x");
  const kinds: [string, () => BodyInit, Uint8Array][] = [
    ["a Uint8Array", () => bytes, bytes],
    ["an ArrayBuffer", () => bytes.buffer, bytes],
    [
      "a DataView into the middle of a buffer",
      () => new DataView(bytes.buffer, MB, SIZE - 2 * MB),
      bytes.subarray(MB, SIZE - MB),
    ],
    ["a Blob", () => new Blob([bytes.subarray(0, SIZE / 2), bytes.subarray(SIZE / 2)]), bytes],
    ["a string", () => text, new TextEncoder().encode(text)],
  ];
  for (const [name, make, expected] of kinds) {
    it(`counts ${name} as the transport takes it`, async () => {
      const server = await slowServer();
      try {
        const [calls, progress] = recorder(server);
        const size = expected.byteLength;
        assert.equal(await send(server, make(), progress), String(size));
        assertProgress(calls, size, size);
        assert.deepEqual(server.uploads[0].body, expected);
      } finally {
        await server.close();
      }
    });
  }

  it("counts a ReadableStream of large chunks, total null until its end", async () => {
    const server = await slowServer();
    try {
      const [calls, progress] = recorder(server);
      let offset = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (offset >= SIZE) return controller.close();
          controller.enqueue(bytes.subarray(offset, offset += 4 * MB));
        },
      });
      assert.equal(await send(server, stream, progress), String(SIZE));
      assertProgress(calls, SIZE, null);
      assert.deepEqual(server.uploads[0].body, bytes);
    } finally {
      await server.close();
    }
  });

  it("counts a ReadableStream whose size was given, with that total", async () => {
    const server = await slowServer();
    try {
      const [calls, progress] = recorder(server);
      const stream = new Blob([bytes]).stream();
      assert.equal(await send(server, stream, progress, SIZE), String(SIZE));
      assertProgress(calls, SIZE, SIZE);
    } finally {
      await server.close();
    }
  });

  it("counts multipart bodies: the Blob of in-memory parts and the stream of streamed ones", async () => {
    for (const streamed of [false, true]) {
      const server = await slowServer();
      try {
        const form = new MultipartBuilder();
        form.field("note", "hello");
        form.file("upload", ["data.bin", streamed ? new Blob([bytes]).stream() : bytes]);
        const body = form.body();
        assert.equal(body instanceof ReadableStream, streamed);
        const [calls, progress] = recorder(server);
        const answer = Number(await send(server, body, progress));
        assert.ok(answer > SIZE, `the server read ${answer} bytes`);
        assertProgress(calls, answer, streamed ? null : answer);
        const received = server.uploads[0].body;
        assert.match(latin1.decode(received.subarray(0, 300)), /name="note"\r\n\r\nhello\r\n/);
      } finally {
        await server.close();
      }
    }
  });

  it("an empty body reports (0, 0) once", async () => {
    const server = await slowServer();
    try {
      const [calls, progress] = recorder(server);
      assert.equal(await send(server, new Uint8Array(0), progress), "0");
      assert.deepEqual(calls.map((c) => [c.sent, c.total]), [[0, 0]]);
    } finally {
      await server.close();
    }
  });

  it(
    `a Content-Length given with the counted stream is ${
      RUNTIME === "deno" ? "dropped by Deno's fetch (sent chunked)" : "sent as given"
    }`,
    async () => {
      const server = await slowServer();
      try {
        await send(server, bytes.subarray(0, MB), () => {});
        const head = server.uploads[0].head.toLowerCase();
        if (RUNTIME === "deno") {
          assert.match(head, /transfer-encoding: chunked/);
          assert.doesNotMatch(head, /content-length/);
        } else {
          assert.match(head, new RegExp(`content-length: ${MB}`));
          assert.doesNotMatch(head, /transfer-encoding/);
        }
      } finally {
        await server.close();
      }
    },
  );
});

describe("countedBody() hands over views, pulls only on demand, and passes on a cancel", () => {
  it("pieces are views of at most 64 KiB into the caller's bytes, in order", async () => {
    const pieces: Uint8Array[] = [];
    for await (const piece of countedBody(bytes, () => {}).body) pieces.push(piece);
    assert.equal(pieces.length, SIZE / UPLOAD_PIECE);
    assert.ok(pieces.every((p) => p.buffer === bytes.buffer && p.byteLength <= UPLOAD_PIECE));
    assert.deepEqual(pieces.map((p) => p.byteOffset), pieces.map((_, i) => i * UPLOAD_PIECE));
  });

  it("nothing is read from the source before the transport asks", async () => {
    let pulls = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (++pulls > 100) return controller.close();
        controller.enqueue(new Uint8Array(10));
      },
    }, { highWaterMark: 0 });
    const counted = countedBody(source, () => {});
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(pulls, 0);
    const reader = counted.body.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(pulls, 1);
    const reason = new Error("upload aborted");
    let cancelled: unknown;
    const watched = new ReadableStream<Uint8Array>({
      cancel(why) {
        cancelled = why;
      },
    });
    await countedBody(watched, () => {}).body.cancel(reason);
    assert.equal(cancelled, reason);
    await reader.cancel();
  });

  it("a throwing callback errors the stream with its error", async () => {
    {
      const oops = new Error("progress failed");
      const counted = countedBody(bytes, (sent) => {
        if (sent > 4 * MB) throw oops;
      });
      const reader = counted.body.getReader();
      let error: unknown;
      for (let i = 0; i < SIZE / UPLOAD_PIECE + 1; i++) {
        try {
          if ((await reader.read()).done) break;
        } catch (e) {
          error = e;
          break;
        }
      }
      assert.equal(error, oops);
    }
  });

  it("refuses a FormData body and a callback that is not a function", () => {
    assert.throws(() => countedBody(new FormData(), () => {}), /cannot count a FormData body/);
    assert.throws(
      () => countedBody("x", null as unknown as () => void),
      /'upload_progress' must be a function/,
    );
  });
});

describe("countedBody() with nodeFetch", () => {
  it("counts a GET body sent through node:http, with its Content-Length", async () => {
    const server = await slowServer();
    try {
      const [calls, progress] = recorder(server);
      const counted = countedBody(bytes, progress);
      const res = await within(
        30_000,
        nodeFetch(server.url, {
          method: "GET",
          headers: { "content-length": String(counted.total) },
          body: counted.body,
        }),
        "the upload",
      );
      assert.equal(await res.text(), String(SIZE));
      assertProgress(calls, SIZE, SIZE);
      assert.match(server.uploads[0].head, new RegExp(`^GET / HTTP/1.1\r\n`));
      assert.match(server.uploads[0].head.toLowerCase(), new RegExp(`content-length: ${SIZE}`));
      assert.deepEqual(server.uploads[0].body, bytes);
    } finally {
      await server.close();
    }
  });
});

describe("requests: upload_progress", () => {
  const bodies = () => ({
    bytes: { data: new Uint8Array(SIZE).fill(1) },
    text: { data: "x".repeat(SIZE) },
    blob: { data: new Blob([new Uint8Array(SIZE)]) },
    stream: {
      data: new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 16; i++) c.enqueue(new Uint8Array(MB));
          c.close();
        },
      }),
    },
    multipart: { files: { f: ["a.bin", new Uint8Array(SIZE)] as [string, Uint8Array] } },
  });
  for (const kind of ["bytes", "text", "blob", "stream", "multipart"] as const) {
    it(`moves during a ${kind} upload and ends at the total`, async () => {
      const server = await slowServer();
      try {
        const calls: [number, number | null, boolean][] = [];
        const options = bodies()[kind];
        const r = await within(
          30_000,
          (await import("../mod.ts")).post(server.url, {
            ...options,
            upload_progress: (sent, total) => calls.push([sent, total, server.answered]),
          }),
        );
        const sent = Number(r.content);
        assert.ok(sent >= SIZE, `server read ${sent}`);
        assert.ok(calls.length > 10, `${calls.length} calls`);
        assert.ok(
          calls.filter(([, , answered]) => !answered).length > 5,
          "moved before the answer",
        );
        for (let i = 1; i < calls.length; i++) assert.ok(calls[i][0] >= calls[i - 1][0]);
        const [last, total] = calls[calls.length - 1];
        assert.equal(last, sent);
        if (kind !== "stream") assert.equal(total, sent);
      } finally {
        await server.close();
      }
    });
  }

  it("starts again when a 307 sends the body again", async () => {
    const { serve } = await import("./_server.ts");
    const requests = await import("../mod.ts");
    // Reads the whole body before it answers, so both hops send all of it.
    const server = await serve(async (req) => {
      const size = (await req.arrayBuffer()).byteLength;
      return new URL(req.url).pathname === "/first"
        ? new Response(null, { status: 307, headers: { location: "/second" } })
        : new Response(String(size));
    });
    try {
      const calls: number[] = [];
      const r = await requests.post(`${server.url}/first`, {
        data: new Uint8Array(200_000),
        upload_progress: (sent) => calls.push(sent),
      });
      assert.equal(r.content, "200000");
      assert.equal(calls.filter((n) => n === 200_000).length, 2, String(calls));
      assert.ok(calls.indexOf(200_000) < calls.length - 1, "counted again from the start");
    } finally {
      await server.close();
    }
  });

  it("is a TypeError naming the option when it is not a function", async () => {
    const requests = await import("../mod.ts");
    await assert.rejects(
      requests.post("http://127.0.0.1:9/", {
        data: "x",
        upload_progress: 1 as unknown as () => void,
      }),
      /'upload_progress'/,
    );
  });
});
