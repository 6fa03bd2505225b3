// Decompression bombs (gzip, deflate, br, and stacked codings) and endless bodies under
// `max_bytes`, with the resident memory measured while they arrive: it stays bounded however
// much the body would inflate to (urllib3 CVE-2025-66471 and CVE-2023-45803's cousins).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import * as requests from "../../mod.ts";
import { ConnectionError, ContentTooLargeError, RequestError } from "../../mod.ts";
import { chunk, forever, IS_BUN, join, ok, response, type Scripted, scripted } from "../_raw.ts";
import { eventually, rejectsWith, sleep } from "../_fixtures.ts";
import { mb, peakRss, settledRss } from "./_fixtures.ts";

const MB = 1 << 20;
/** How much every bomb inflates to. */
const BOMB = 256 * MB;
/** The most the resident memory may grow while one is refused (it would grow by BOMB if not). */
const BOUND = 48 * MB;

async function compress(format: CompressionFormat, source: Uint8Array[]): Promise<Uint8Array> {
  const stream = new CompressionStream(format);
  const writer = stream.writable.getWriter();
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    for await (const chunk of stream.readable) chunks.push(chunk);
  })();
  for (const piece of source) await writer.write(piece as Uint8Array<ArrayBuffer>);
  await writer.close();
  await reading;
  return join(chunks);
}

/** Zeros, BOMB bytes of them, one MB at a time (never one BOMB-sized buffer). */
function zeros(): Uint8Array[] {
  const zero = new Uint8Array(MB);
  return Array.from({ length: BOMB / MB }, () => zero);
}

/** Content-Encoding to the body that decodes to BOMB zero bytes. */
const bombs = new Map<string, Uint8Array>();
let server: Scripted;

before(async () => {
  const gzip = await compress("gzip", zeros());
  bombs.set("gzip", gzip);
  bombs.set("x-gzip", gzip);
  bombs.set("deflate", await compress("deflate", zeros()));
  bombs.set("deflate-raw", await compress("deflate-raw", zeros()));
  const big = new Uint8Array(BOMB);
  bombs.set(
    "br",
    zlib.brotliCompressSync(big, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 2 } }),
  );
  bombs.set("gzip, gzip", await compress("gzip", [gzip]));
  bombs.set("gzip, gzip, gzip", await compress("gzip", [bombs.get("gzip, gzip")!]));
  bombs.set("deflate, gzip", await compress("gzip", [bombs.get("deflate")!]));
  bombs.set("gzip, deflate", await compress("deflate", [gzip]));

  server = await scripted((seen, socket) => {
    const [, kind, arg] = seen.target.split("/");
    if (kind === "bomb") {
      const coding = decodeURIComponent(arg);
      // deflate-raw is sent as "deflate": servers do send raw deflate under that name.
      const body = bombs.get(coding)!;
      socket.write(
        response("200 OK", [
          ["Content-Encoding", coding === "deflate-raw" ? "deflate" : coding],
          ["Content-Length", String(body.byteLength)],
        ], body),
      );
    } else if (kind === "endless") {
      socket.write(response("200 OK", [["Transfer-Encoding", "chunked"]]));
      const piece = chunk("e".repeat(0x10000));
      forever(socket, 1, () => {
        if (socket.writableLength < 4 * MB) socket.write(piece);
      });
    } else if (kind === "endless-gzip") {
      socket.write(
        response("200 OK", [["Content-Encoding", "gzip"], ["Transfer-Encoding", "chunked"]]),
      );
      // A gzip stream that never ends: a header and then stored-looking data, forever.
      const gz = bombs.get("gzip")!;
      const head = gz.subarray(0, gz.byteLength - 8);
      let offset = 0;
      forever(socket, 1, () => {
        if (socket.writableLength > 4 * MB) return;
        const piece = head.subarray(offset, offset + 4096);
        offset = piece.byteLength === 0 ? offset : offset + piece.byteLength;
        if (piece.byteLength > 0) socket.write(chunk(piece));
      });
    } else if (kind === "claims") {
      socket.end(response("200 OK", [["Content-Length", arg]], "short"));
    } else if (kind === "stacked") {
      const layers = Number(arg);
      socket.end(response("200 OK", [
        ["Content-Encoding", Array.from({ length: layers }, () => "gzip").join(", ")],
        ["Content-Length", "2"],
      ], "no"));
    } else {
      socket.write(ok("ok"));
    }
  });
});

after(() => server.close());

const READS = [
  ["buffered", false],
  ["streamed", true],
] as const;

async function readAll(url: string, options: requests.RequestOptions): Promise<number> {
  const r = await requests.get(url, options);
  if (options.stream !== true) return r.bytes.byteLength;
  let size = 0;
  for await (const chunk of r.iter_content()) size += chunk.byteLength;
  return size;
}

for (
  const coding of [
    "gzip",
    "x-gzip",
    "deflate",
    "deflate-raw",
    "br",
    "gzip, gzip",
    "gzip, gzip, gzip",
    "deflate, gzip",
    "gzip, deflate",
  ]
) {
  for (const [how, stream] of READS) {
    const name = `a ${coding} bomb of ${mb(BOMB)} stops at max_bytes with bounded memory (${how})`;
    test(name, { timeout: 30_000 }, async () => {
      const base = await settledRss();
      const url = `${server.url}/bomb/${encodeURIComponent(coding)}`;
      const [outcome, peak] = await peakRss(async () => {
        const outcome = await readAll(url, { max_bytes: MB, stream }).catch((e: Error) => e);
        // Keep measuring a while: a runtime may go on inflating after the body was cancelled.
        await sleep(250);
        return outcome;
      });
      assert.ok(outcome instanceof ContentTooLargeError, String(outcome));
      assert.match(outcome.message, /^Response body is larger than max_bytes \(1048576 bytes\)/);
      assert.ok(peak - base < BOUND, `memory grew by ${mb(peak - base)} (from ${mb(base)})`);
    });
  }
}

// A GET with a body goes through node:http, which decodes nothing: the module decodes only the
// codings it asked for there (gzip and deflate; br too on Bun, whose brotli decoder hands its
// output over as it is read), so a br bomb on Deno or Node stays as it came.
for (
  const coding of ["gzip", "deflate", "deflate-raw", "br", "gzip, gzip", "deflate, gzip"]
) {
  for (const [how, stream] of READS) {
    const name = `a ${coding} bomb to a GET with a body (node:http) stays bounded (${how})`;
    test(name, { timeout: 30_000 }, async () => {
      const base = await settledRss();
      const url = `${server.url}/bomb/${encodeURIComponent(coding)}`;
      const [outcome, peak] = await peakRss(async () => {
        const outcome = await readAll(url, { data: "q", max_bytes: MB, stream })
          .catch((e: Error) => e);
        await sleep(250);
        return outcome;
      });
      if (coding === "br" && !IS_BUN) {
        assert.equal(outcome, bombs.get("br")!.byteLength, "a br body is left as it came");
      } else {
        assert.ok(outcome instanceof ContentTooLargeError, String(outcome));
      }
      assert.ok(peak - base < BOUND, `memory grew by ${mb(peak - base)} (from ${mb(base)})`);
    });
  }
}

test("every coding, alone and stacked, still decodes to exactly what was sent", async () => {
  const text = Array.from({ length: 40_000 }, (_, i) => `line ${i} ${i * 7919 % 1000}\n`).join("");
  const plain = new TextEncoder().encode(text);
  const encoded: [string, Uint8Array][] = [
    ["gzip", await compress("gzip", [plain])],
    ["x-gzip", await compress("gzip", [plain])],
    ["deflate", await compress("deflate", [plain])],
    ["deflate", await compress("deflate-raw", [plain])],
    ["br", zlib.brotliCompressSync(plain)],
    ["gzip, gzip", await compress("gzip", [await compress("gzip", [plain])])],
    ["deflate, gzip", await compress("gzip", [await compress("deflate", [plain])])],
  ];
  const origin = await scripted((seen, socket) => {
    const [coding, body] = encoded[Number(seen.target.slice(1))];
    socket.write(
      response(
        "200 OK",
        [["Content-Encoding", coding], ["Content-Length", String(body.length)]],
        body,
      ),
    );
  });
  try {
    for (let i = 0; i < encoded.length; i++) {
      // With an Accept-Encoding of the caller's, Bun's fetch decodes; without, the module does.
      const accept = { "Accept-Encoding": "gzip, deflate, br" };
      for (
        const options of [{}, { max_bytes: 4 * MB }, { stream: true }, { headers: accept }] as const
      ) {
        const r = await requests.get(`${origin.url}/${i}`, options);
        const bytes = "stream" in options ? await r.read() : r.bytes;
        assert.equal(bytes.byteLength, plain.byteLength, encoded[i][0]);
        assert.equal(new TextDecoder().decode(bytes), text, encoded[i][0]);
      }
    }
  } finally {
    await origin.close();
  }
});

for (const [how, stream] of READS) {
  test(`an endless body stops at max_bytes with bounded memory, and is closed (${how})`, async () => {
    const base = await settledRss();
    const open = server.open;
    const [, peak] = await peakRss(() =>
      rejectsWith(
        readAll(`${server.url}/endless`, { max_bytes: 8 * MB, stream }),
        ContentTooLargeError,
      )
    );
    assert.ok(peak - base < BOUND, `memory grew by ${mb(peak - base)}`);
    assert.ok(await eventually(() => server.open <= open, 2000), "connection left open");
  });
}

test("an endless gzip body stops at max_bytes", async () => {
  for (const stream of [false, true]) {
    await rejectsWith(
      readAll(`${server.url}/endless-gzip`, { max_bytes: 4 * MB, stream }),
      ContentTooLargeError,
    );
  }
});

test("a Content-Length over max_bytes is refused before reading the body", async () => {
  const error = await rejectsWith(
    requests.get(`${server.url}/claims/999999999999`, { max_bytes: MB }),
    ContentTooLargeError,
  );
  assert.match(error.message, /Content-Length is 999999999999/);
});

test(
  "a Content-Length that lies about a huge body costs no memory",
  { timeout: 30_000 },
  async () => {
    const base = await settledRss();
    const [errors, peak] = await peakRss(() =>
      Promise.all(
        Array.from(
          { length: 20 },
          () => requests.get(`${server.url}/claims/${256 * MB}`, { timeout: 5 }).catch((e) => e),
        ),
      )
    );
    for (const error of errors) assert.ok(error instanceof ConnectionError, String(error));
    assert.ok(peak - base < BOUND, `memory grew by ${mb(peak - base)}`);
  },
);

test("stacked Content-Encodings beyond five are refused", async () => {
  const error = await rejectsWith(requests.get(`${server.url}/stacked/6`), RequestError);
  assert.match(error.message, /stacked Content-Encodings/);
  await rejectsWith(requests.get(`${server.url}/stacked/100`), RequestError);
});

test("a broken stacked coding is a RequestError, not a raw platform error", async () => {
  const error = await rejectsWith(requests.get(`${server.url}/stacked/2`), RequestError);
  assert.match(error.message, /Could not decode the response body/);
});
