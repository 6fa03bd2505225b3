// The node:http sender behind a body on GET/HEAD: exact bytes at raw servers, streaming with
// backpressure, no redirect and no decoding, aborts, keep-alive, TLS, and real httpbin.

import { describe, it, test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import type net from "node:net";
import { gzipSync } from "node:zlib";
import { nodeFetch, type NodeFetchInit } from "../src/transport/_node_http.ts";
import { NODE_HTTP } from "../src/_runtime.ts";
import { RuntimeClient } from "../src/transport/_clients.ts";
import { settingsOf, type TransportOptions } from "../src/transport/_settings.ts";
import { CallGuard } from "../src/_guard.ts";
import { ConnectionError } from "../src/errors.ts";
import {
  chunk,
  closedPort,
  headerOf,
  HTTPBIN,
  join,
  malformed,
  ok,
  rawServer,
  response,
  scripted,
  serve,
} from "./_server.ts";
import { makeTestPki, tlsServer } from "./_tls.ts";
import { eventually, failure, within } from "./_fixtures.ts";

const decoder = new TextDecoder();
const GET_JSON: NodeFetchInit = {
  method: "GET",
  headers: { "content-type": "application/json" },
  body: '{"query":{"match_all":{}}}',
};

/** The error the core would raise for `error`, thrown while sending. */
function classified(error: unknown, phase: "send" | "body" = "send"): Error {
  return new CallGuard({ method: "GET", url: "http://127.0.0.1/" }, null, undefined)
    .wrap(error, phase) as Error;
}

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}

describe("nodeFetch() sends exactly what it is given", () => {
  it("the runtime is known to have a node:http client on Deno, Bun and Node", () => {
    assert.equal(NODE_HTTP, true);
  });

  it("sends a GET with a JSON body and its Content-Length", async () => {
    const server = await scripted((_, socket) => socket.write(ok("found")));
    try {
      const res = await nodeFetch(`${server.url}/index/_search?pretty`, GET_JSON);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "found");
      const [seen] = server.seen;
      assert.equal(seen.method, "GET");
      assert.equal(seen.target, "/index/_search?pretty");
      assert.equal(decoder.decode(seen.body), GET_JSON.body);
      assert.equal(headerOf(seen, "content-length"), "26");
      assert.equal(headerOf(seen, "content-type"), "application/json");
      assert.equal(headerOf(seen, "transfer-encoding"), null);
      // Nothing of its own beyond Host and Connection: no Accept-Encoding, no User-Agent.
      assert.deepEqual([...seen.headers.keys()].sort(), [
        "connection",
        "content-length",
        "content-type",
        "host",
      ]);
    } finally {
      await server.close();
    }
  });

  it("the in-process echo sees the GET body's Content-Length", async () => {
    // Deno.serve and Bun.serve give a GET Request no body, so only the header shows there.
    const server = await serve();
    try {
      const res = await nodeFetch(`${server.url}/echo`, GET_JSON);
      const echoed = await res.json() as { method: string; headers: [string, string][] };
      assert.equal(echoed.method, "GET");
      assert.ok(echoed.headers.some(([n, v]) => n === "content-length" && v === "26"));
    } finally {
      await server.close();
    }
  });

  it("sends a HEAD with a body, and the next request on the connection still works", async () => {
    const server = await scripted((seen, socket) => {
      socket.write(
        seen.method === "HEAD"
          ? response("200 OK", [["Content-Length", "1000"]])
          : ok(`second:${decoder.decode(seen.body)}`),
      );
    });
    try {
      const head = await nodeFetch(server.url, { method: "HEAD", headers: {}, body: "probe" });
      assert.equal(head.status, 200);
      assert.equal(head.body, null);
      assert.equal(head.headers.get("content-length"), "1000");
      const next = await nodeFetch(server.url, { method: "GET", headers: {}, body: "again" });
      assert.equal(await next.text(), "second:again");
      assert.equal(server.seen[0].method, "HEAD");
      assert.equal(decoder.decode(server.seen[0].body), "probe");
      assert.equal(headerOf(server.seen[0], "content-length"), "5");
      assert.equal(server.connections, 1);
    } finally {
      await server.close();
    }
  });

  it("sends a stream chunked (fixed-length with a Content-Length), a Blob or ArrayBuffer sized", async () => {
    const server = await scripted((_, socket) => socket.write(ok()));
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("ab"));
          controller.enqueue(new TextEncoder().encode("cde"));
          controller.close();
        },
      });
    try {
      await (await nodeFetch(server.url, { method: "GET", headers: {}, body: stream() })).text();
      const fixed = { "content-length": "5" };
      await (await nodeFetch(server.url, { method: "GET", headers: fixed, body: stream() })).text();
      const blob = new Blob(["blob ", new Uint8Array([0x62, 0x6f, 0x64, 0x79])]);
      await (await nodeFetch(server.url, { method: "GET", headers: {}, body: blob })).text();
      const buffer = new TextEncoder().encode("buffer").buffer;
      await (await nodeFetch(server.url, { method: "GET", headers: {}, body: buffer })).text();
      const [chunked, length, sized, whole] = server.seen;
      assert.equal(headerOf(chunked, "transfer-encoding"), "chunked");
      assert.equal(headerOf(chunked, "content-length"), null);
      assert.equal(decoder.decode(chunked.body), "abcde");
      assert.equal(headerOf(length, "transfer-encoding"), null);
      assert.equal(headerOf(length, "content-length"), "5");
      assert.equal(decoder.decode(length.body), "abcde");
      assert.equal(headerOf(sized, "content-length"), "9");
      assert.equal(decoder.decode(sized.body), "blob body");
      assert.equal(headerOf(whole, "content-length"), "6");
      assert.equal(decoder.decode(whole.body), "buffer");
    } finally {
      await server.close();
    }
  });

  it("rejects a stream longer than the Content-Length it was given", async () => {
    const server = await scripted((_, socket) => socket.write(ok()));
    try {
      const body = new Blob(["too long"]).stream();
      const error = await failure(
        nodeFetch(server.url, { method: "GET", headers: { "content-length": "3" }, body }),
      );
      assert.equal(codeOf(error), "ERR_HTTP_CONTENT_LENGTH_MISMATCH");
    } finally {
      await server.close();
    }
  });
});

describe("nodeFetch() returns the response as received", () => {
  it("keeps the server's reason phrase", async () => {
    const server = await scripted((_, socket) => {
      socket.write(response("299 Custom Reason Here", [["Content-Length", "0"]]));
    });
    try {
      const res = await nodeFetch(server.url, GET_JSON);
      assert.equal(res.status, 299);
      assert.equal(res.statusText, "Custom Reason Here");
    } finally {
      await server.close();
    }
  });

  it("keeps every Set-Cookie line separate", async () => {
    const cookies = ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT", "c=3"];
    const server = await scripted((_, socket) => {
      socket.write(ok("", cookies.map((c) => ["Set-Cookie", c] as [string, string])));
    });
    const echo = await serve();
    try {
      const res = await nodeFetch(server.url, GET_JSON);
      assert.deepEqual(res.headers.getSetCookie(), cookies);
      const query = cookies.map((c) => `set-cookie=${encodeURIComponent(c)}`).join("&");
      const served = await nodeFetch(`${echo.url}/headers?${query}`, GET_JSON);
      assert.deepEqual(served.headers.getSetCookie(), cookies);
      await served.text();
    } finally {
      await server.close();
      await echo.close();
    }
  });

  it("does not follow a redirect: the 302 comes back with its Location", async () => {
    const server = await serve();
    try {
      const res = await nodeFetch(`${server.url}/redirect/302?to=/elsewhere`, GET_JSON);
      assert.equal(res.status, 302);
      assert.equal(res.headers.get("location"), "/elsewhere");
      await res.text();
      assert.equal(server.hits, 1);
    } finally {
      await server.close();
    }
  });

  it("does not decode a gzip body", async () => {
    const gzipped = gzipSync(new TextEncoder().encode("hello hello hello"));
    const server = await scripted((_, socket) => {
      socket.write(ok(new Uint8Array(gzipped), [["Content-Encoding", "gzip"]]));
    });
    try {
      const res = await nodeFetch(server.url, GET_JSON);
      assert.equal(res.headers.get("content-encoding"), "gzip");
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), new Uint8Array(gzipped));
    } finally {
      await server.close();
    }
  });

  it("streams the body: the first piece is readable before the server sends the rest", async () => {
    let finish: () => void = () => {};
    const server = await scripted((_, socket) => {
      socket.write(response("200 OK", [["Transfer-Encoding", "chunked"]], chunk("first")));
      finish = () => socket.write(join([chunk("second"), chunk("")]));
    });
    try {
      const res = await nodeFetch(server.url, GET_JSON);
      const reader = res.body!.getReader();
      const first = await within(5000, reader.read(), "the first piece");
      assert.equal(decoder.decode(first.value), "first");
      finish();
      const second = await within(5000, reader.read(), "the second piece");
      assert.equal(decoder.decode(second.value), "second");
      assert.equal((await within(5000, reader.read(), "the end")).done, true);
    } finally {
      await server.close();
    }
  });

  it("the in-process server's drip arrives piece by piece", async () => {
    const server = await serve();
    try {
      const res = await nodeFetch(`${server.url}/drip/4/30`, GET_JSON);
      let pieces = 0;
      let text = "";
      for await (const chunk of res.body!) {
        pieces++;
        text += decoder.decode(chunk);
        assert.ok(pieces <= 4, "more pieces than the server sent");
      }
      assert.equal(text, "xxxx");
      assert.ok(pieces >= 2, `the body came in ${pieces} piece(s)`);
    } finally {
      await server.close();
    }
  });

  it("applies backpressure: an unread body is not pulled into memory", async () => {
    const total = 64 * 1024 * 1024;
    let written = 0;
    let socket: net.Socket | undefined;
    const server = await rawServer((s) => {
      socket = s;
      s.write(response("200 OK", [["Content-Length", String(total)]]));
      const piece = new Uint8Array(1024 * 1024);
      const more = () => {
        while (written < total) {
          written += piece.byteLength;
          if (!s.write(piece)) return void s.once("drain", more);
        }
      };
      more();
    });
    try {
      const res = await nodeFetch(server.url, GET_JSON);
      const reader = res.body!.getReader();
      await reader.read();
      await new Promise((r) => setTimeout(r, 500));
      const taken = written - (socket?.writableLength ?? 0);
      assert.ok(taken < total / 2, `the client took ${taken} of ${total} bytes unread`);
      await reader.cancel();
      assert.ok(await eventually(() => server.open === 0), "cancel() left the connection open");
    } finally {
      await server.close();
    }
  });

  it("refuses what a web Response cannot represent: 101 and a status above 599", async () => {
    for (const status of ["101 Switching Protocols", "600 Beyond"]) {
      const server = await rawServer((socket) => {
        socket.write(response(status, [["Connection", "upgrade"], ["Upgrade", "x"]]));
      });
      try {
        const error = await failure(nodeFetch(server.url, GET_JSON));
        assert.match(error.message, /^Invalid HTTP response: /);
        assert.match(error.message, new RegExp(status.split(" ")[0]));
        assert.match(classified(error).message, /^The server sent an invalid HTTP response/);
        assert.ok(await eventually(() => server.open === 0), `${status} left the socket open`);
      } finally {
        await server.close();
      }
    }
  });
});

describe("nodeFetch() ends as the runtime's client does", () => {
  it("aborting mid-body rejects the read with the reason and closes the connection", async () => {
    const server = await rawServer((socket) => {
      socket.write(response("200 OK", [["Content-Length", "100"]], "partial"));
    });
    try {
      const controller = new AbortController();
      const res = await nodeFetch(server.url, { ...GET_JSON, signal: controller.signal });
      const reader = res.body!.getReader();
      assert.equal(decoder.decode((await reader.read()).value), "partial");
      const reason = new Error("stop here");
      controller.abort(reason);
      assert.equal(await failure(reader.read()), reason);
      assert.ok(await eventually(() => server.open === 0), "the socket stayed open");
    } finally {
      await server.close();
    }
  });

  it("aborting before the response rejects with the reason and closes the connection", async () => {
    const server = await rawServer(() => {});
    try {
      const controller = new AbortController();
      const pending = nodeFetch(server.url, { ...GET_JSON, signal: controller.signal });
      assert.ok(await eventually(() => server.open === 1), "the request never connected");
      const reason = new Error("gave up");
      controller.abort(reason);
      assert.equal(await failure(pending), reason);
      assert.ok(await eventually(() => server.open === 0), "the socket stayed open");
      const already = await failure(
        nodeFetch(server.url, { ...GET_JSON, signal: controller.signal }),
      );
      assert.equal(already, reason);
    } finally {
      await server.close();
    }
  });

  it("a refused connection is ECONNREFUSED, which the core calls 'Connection refused'", async () => {
    const port = await closedPort();
    const error = await failure(nodeFetch(`http://127.0.0.1:${port}/`, GET_JSON));
    assert.equal(codeOf(error), "ECONNREFUSED");
    const wrapped = classified(error);
    assert.ok(wrapped instanceof ConnectionError);
    assert.match(wrapped.message, /^Connection refused/);
  });

  it("a reset is ECONNRESET, which the core calls a reset", async () => {
    const server = await rawServer((socket) => socket.resetAndDestroy());
    try {
      const error = await failure(nodeFetch(server.url, GET_JSON));
      assert.equal(codeOf(error), "ECONNRESET");
      assert.match(classified(error).message, /^Connection reset by the server/);
    } finally {
      await server.close();
    }
  });

  it("a malformed response is the parser's HPE_ error, a ConnectionError for the core", async () => {
    const cases = [
      [malformed(["200 OK"], { protocol: "HTTX/1.1" }), "HPE_INVALID_CONSTANT"],
      [response("200 OK", [["Content-Length", "abc"]]), "HPE_INVALID_CONTENT_LENGTH"],
      [
        response("200 OK", [["Content-Length", "1"], ["Content-Length", "2"]]),
        "HPE_UNEXPECTED_CONTENT_LENGTH",
      ],
    ] as const;
    for (const [bytes, code] of cases) {
      const server = await rawServer((socket) => socket.end(bytes));
      try {
        const error = await failure(nodeFetch(server.url, GET_JSON));
        assert.equal(codeOf(error), code);
        assert.ok(classified(error) instanceof ConnectionError);
      } finally {
        await server.close();
      }
    }
  });

  it("a body cut short errors the stream with ECONNRESET", async () => {
    const server = await rawServer((socket) => {
      socket.end(response("200 OK", [["Content-Length", "100"]], "short"));
    });
    try {
      const res = await nodeFetch(server.url, GET_JSON);
      const error = await failure(res.text());
      assert.equal(codeOf(error), "ECONNRESET");
      assert.ok(classified(error, "body") instanceof ConnectionError);
    } finally {
      await server.close();
    }
  });

  it("keeps the connection alive: 20 calls in a row use one connection", async () => {
    const server = await scripted((seen, socket) => socket.write(ok(decoder.decode(seen.body))));
    try {
      for (let i = 0; i < 20; i++) {
        const res = await nodeFetch(server.url, { ...GET_JSON, body: `call ${i}` });
        assert.equal(await res.text(), `call ${i}`);
      }
      assert.equal(server.seen.length, 20);
      assert.equal(server.connections, 1);
    } finally {
      await server.close();
    }
  });

  it("closing a runtime client closes its idle kept-alive connections, and only its own", async () => {
    const server = await scripted((_, socket) => socket.write(ok()));
    const mine = new RuntimeClient(null);
    try {
      await (await nodeFetch(server.url, GET_JSON)).text();
      await (await nodeFetch(server.url, { ...GET_JSON, client: mine })).text();
      assert.equal(server.open, 2);
      mine.close();
      assert.ok(await eventually(() => server.open === 1), "the idle connection stayed open");
      await (await nodeFetch(server.url, GET_JSON)).text();
      await (await nodeFetch(server.url, { ...GET_JSON, client: mine })).text();
      assert.equal(server.connections, 3);
    } finally {
      await server.close();
    }
  });

  it("a body cancelled half-read does not hand its connection to the next call", async () => {
    const server = await scripted((seen, socket) => {
      const body = decoder.decode(seen.body) === "big" ? "x".repeat(1 << 20) : "small";
      socket.write(ok(body));
    });
    try {
      const big = await nodeFetch(server.url, { ...GET_JSON, body: "big" });
      const reader = big.body!.getReader();
      await reader.read();
      await reader.cancel();
      const next = await nodeFetch(server.url, { ...GET_JSON, body: "next" });
      assert.equal(await next.text(), "small");
      assert.equal(server.connections, 2);
    } finally {
      await server.close();
    }
  });
});

/** A runtime client for `verify` and `cert`, as the module makes one for a call. */
function clientFor(options: TransportOptions): RuntimeClient {
  return new RuntimeClient(settingsOf(options));
}

describe("nodeFetch() over TLS", () => {
  it("trusts a CA given as verify, and keeps the connection alive", async () => {
    const server = await tlsServer((req, res) => {
      let length = 0;
      req.on("data", (chunk: Uint8Array) => length += chunk.byteLength);
      req.on("end", () => res.end(`${req.method} ${length}`));
    });
    try {
      const client = clientFor({ verify: server.ca });
      for (let i = 0; i < 5; i++) {
        const res = await nodeFetch(server.url, { ...GET_JSON, client });
        assert.equal(await res.text(), "GET 26");
      }
      assert.equal(server.connections, 1);
      const insecure = await nodeFetch(server.url, {
        ...GET_JSON,
        client: clientFor({ verify: false }),
      });
      assert.equal(await insecure.text(), "GET 26");
    } finally {
      await server.close();
    }
  });

  it("an untrusted certificate is the runtime's TLS error, which the core calls one", async () => {
    const server = await tlsServer((_, res) => res.end("never"));
    try {
      const error = await failure(nodeFetch(server.url, GET_JSON));
      assert.equal(codeOf(error), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
      assert.match(
        classified(error).message,
        /^TLS handshake failed \(the certificate is not trusted/,
      );
    } finally {
      await server.close();
    }
  });

  it("presents a client certificate given as cert", async () => {
    const pki = makeTestPki();
    const server = https.createServer(
      {
        key: pki.serverKey,
        cert: pki.serverCert,
        ca: pki.ca,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        res.end(String((req.socket as unknown as { authorized: boolean }).authorized));
      },
    );
    server.on("tlsClientError", () => {});
    server.listen(0, "127.0.0.1");
    try {
      await new Promise((r) => server.once("listening", r));
      const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
      const anonymous = await nodeFetch(url, {
        ...GET_JSON,
        client: clientFor({ verify: pki.ca }),
      });
      assert.equal(await anonymous.text(), "false");
      const client = clientFor({ verify: pki.ca, cert: [pki.clientCert, pki.clientKey] });
      const signed = await nodeFetch(url, { ...GET_JSON, client });
      assert.equal(await signed.text(), "true");
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      pki.remove();
    }
  });
});

if (HTTPBIN === undefined) {
  console.error(
    "\n*** nodeFetch httpbin tests SKIPPED: HTTPBIN_URL is not set. Install python3-httpbin and " +
      "gunicorn (Debian) and run `deno task test`, which starts httpbin itself. ***\n",
  );
  test(
    "nodeFetch httpbin interop",
    { skip: "httpbin not available (HTTPBIN_URL unset)" },
    () => {},
  );
} else {
  const B = HTTPBIN;
  test("httpbin: /anything echoes a GET's JSON body; a HEAD with a body is answered", async () => {
    const res = await nodeFetch(`${B}/anything?from=node_fetch`, GET_JSON);
    assert.equal(res.status, 200);
    const echoed = await res.json() as {
      method: string;
      json: unknown;
      headers: Record<string, string>;
      args: Record<string, string>;
    };
    assert.equal(echoed.method, "GET");
    assert.deepEqual(echoed.json, { query: { match_all: {} } });
    assert.equal(echoed.headers["Content-Length"], "26");
    assert.deepEqual(echoed.args, { from: "node_fetch" });
    const head = await nodeFetch(`${B}/anything`, { ...GET_JSON, method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    const redirect = await nodeFetch(`${B}/redirect-to?url=/get&status_code=307`, GET_JSON);
    assert.equal(redirect.status, 307);
    assert.equal(redirect.headers.get("location"), "/get");
    await redirect.text();
  });
}
