// The Response: the seed's constructor and members, lazy decoding, and the part B extras.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../mod.ts";
import { Response } from "../mod.ts";
import { type HeaderLine, IS_DENO, type RawServer, rawServer, response } from "./_raw.ts";
import { serve, type TestServer } from "./_server.ts";

let server: TestServer;
let raw: RawServer;
before(async () => {
  server = await serve();
  raw = await rawServer((socket, head) => {
    const path = head.split(" ")[1];
    if (path === "/latin1") {
      const body = new Uint8Array([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1
      const headers: HeaderLine[] = [
        ["Content-Type", "text/plain; charset=ISO-8859-1"],
        ["X-Utf", "caf\u00c3\u00a9"], // the UTF-8 bytes of "café", written byte by byte
        ["Set-Cookie", "a=1; Path=/"],
        ["Set-Cookie", "b=2"],
        ["Content-Length", String(body.length)],
        ["Connection", "close"],
      ];
      socket.end(response("200 Fine Thanks", headers, body, "latin1"));
    } else {
      socket.end(response("299 ", [["Content-Length", "0"], ["Connection", "close"]]));
    }
  });
});
after(async () => {
  await server.close();
  await raw.close();
});

test("new Response() takes the seed's signature", () => {
  const r = new Response(201, "Created", "Content-Type: text/plain\r\nX-A: 1", "hello");
  assert.equal(r.status_code, 201);
  assert.equal(r.reason, "Created");
  assert.equal(r.headers, "Content-Type: text/plain\r\nX-A: 1");
  assert.equal(r.content, "hello");
  assert.equal(r.text, "hello");
  assert.deepEqual(r.bytes, new TextEncoder().encode("hello"));
  assert.equal(r.encoding, "utf-8");
  const empty = new Response(204, "");
  assert.equal(empty.reason, "No Content");
  assert.equal(empty.headers, "");
  assert.equal(empty.content, "");
});

test("new Response() decodes byte headers and content with the encoding", () => {
  const r = new Response(
    200,
    "OK",
    new TextEncoder().encode("content-type: text/plain; charset=latin1\r\nx-name: é"),
    new Uint8Array([0xe9]),
  );
  assert.equal(r.encoding, "latin1");
  assert.equal(r.content, "é");
  r.encoding = "utf-8";
  assert.equal(r.content, "\ufffd");
  assert.equal(r.headers, "content-type: text/plain; charset=latin1\r\nx-name: é");
});

test("new Response() rejects wrong argument types naming them", () => {
  assert.throws(() => new Response("200" as never, "OK"), /'code'/);
  assert.throws(() => new Response(200, 1 as never), /'reason'/);
  assert.throws(() => new Response(200, "OK", {} as never), /'headers'/);
  assert.throws(() => new Response(200, "OK", null, 5 as never), /'content'/);
});

test("encoding comes from the Content-Type charset and decodes the body", async () => {
  const r = await requests.get(`${raw.url}/latin1`);
  assert.equal(r.encoding, "ISO-8859-1");
  assert.equal(r.content, "café");
  assert.equal(r.reason.length > 0, true);
});

test("setting encoding re-decodes content and headers; an unknown label is a RangeError", async () => {
  const r = await requests.get(`${raw.url}/latin1`);
  assert.match(r.headers, /^x-utf: cafÃ©$/m); // Latin-1 view of UTF-8 bytes
  r.encoding = "utf-8";
  assert.equal(r.content, "caf\ufffd");
  assert.match(r.headers, /^x-utf: café$/m);
  assert.throws(() => (r.encoding = "klingon"), RangeError);
  assert.equal(r.encoding, "utf-8");
});

test("headers has one line per field and each Set-Cookie on its own line", async () => {
  const r = await requests.get(`${raw.url}/latin1`);
  const lines = r.headers.split("\r\n");
  assert.ok(lines.includes("set-cookie: a=1; Path=/"));
  assert.ok(lines.includes("set-cookie: b=2"));
  assert.ok(!r.headers.endsWith("\r\n"));
  assert.ok(!/^HTTP\//.test(r.headers));
  assert.deepEqual({ ...r.cookies }, { a: "1", b: "2" });
});

test("the server's reason phrase is kept where the runtime gives it", async () => {
  const r = await requests.get(`${raw.url}/latin1`);
  // Deno's fetch gives only the standard phrase for the code; Bun and Node pass the server's.
  assert.equal(r.reason, IS_DENO ? "OK" : "Fine Thanks");
  const unknown = await requests.get(`${raw.url}/unknown`);
  assert.equal(unknown.status_code, 299);
  assert.equal(unknown.reason, "");
});

test("json() of an empty or invalid body throws JSONDecodeError with context", async () => {
  const empty = await requests.get(`${server.url}/json?text=`);
  assert.throws(() => empty.json(), (e: Error) => {
    assert.ok(e instanceof requests.JSONDecodeError);
    assert.ok(e instanceof requests.RequestError);
    assert.match(e.message, /empty.*200 OK.*"application\/json"/);
    return true;
  });
  const bad = await requests.get(`${server.url}/json?text=${"x".repeat(100)}`);
  assert.throws(() => bad.json(), (e: Error) => {
    assert.ok(e instanceof requests.JSONDecodeError);
    assert.match(e.message, new RegExp(`body "${"x".repeat(80)}\\.\\.\\."`));
    assert.match(e.message, /GET http:\/\/127\.0\.0\.1:\d+\/json/);
    return true;
  });
  assert.throws(() => new Response(200, "OK", null, "{").json(), requests.JSONDecodeError);
});

test("content is decoded once and cached until the encoding changes", () => {
  const r = new Response(200, "OK", null, new TextEncoder().encode("x".repeat(1000)));
  const a = r.content;
  assert.equal(r.content, a);
  assert.ok(Object.is(r.content, a));
  r.encoding = "latin1";
  assert.equal(r.content, a);
});

test("ok, raise_for_status() and toString() follow Python requests", async () => {
  const fine = await requests.get(`${server.url}/status/302`, { allow_redirects: false });
  assert.equal(fine.ok, true);
  assert.equal(fine.raise_for_status(), fine);
  const missing = await requests.get(`${server.url}/status/404`);
  assert.equal(missing.ok, false);
  assert.equal(String(missing), "<Response [404]>");
  assert.throws(() => missing.raise_for_status(), (e: Error) => {
    assert.ok(e instanceof requests.HTTPError);
    assert.equal((e as requests.HTTPError).response, missing);
    assert.match(e.message, /^404 Client Error: Not Found: GET http:/);
    return true;
  });
  const broken = await requests.get(`${server.url}/status/503`);
  assert.throws(() => broken.raise_for_status(), /503 Server Error: Service Unavailable/);
});

test("links parses the Link header by rel", async () => {
  const link = '<https://api.test/items?page=2>; rel="next", <https://api.test/items?page=9>; ' +
    'rel=last; title="The end"';
  const r = await requests.get(`${server.url}/headers`, { params: { link } });
  assert.equal(r.links.next.url, "https://api.test/items?page=2");
  assert.equal(r.links.last.url, "https://api.test/items?page=9");
  assert.equal(r.links.last.title, "The end");
  assert.deepEqual(Object.keys(new Response(200, "OK").links), []);
});

test("url, elapsed, raw and history describe the exchange", async () => {
  const r = await requests.get(`${server.url}/echo?x=1#frag`);
  assert.equal(r.url, `${server.url}/echo?x=1#frag`);
  assert.ok(r.elapsed >= 0 && r.elapsed < 5);
  assert.ok(r.raw instanceof globalThis.Response);
  assert.match(r.raw.headers.get("content-type")!, /^application\/json/);
  assert.deepEqual(r.history, []);
});

test("iter_content() and iter_lines() work on a buffered body", async () => {
  const r = new Response(200, "OK", null, new TextEncoder().encode("one\r\ntwo\nthree\rfour"));
  const chunks: number[] = [];
  for await (const chunk of r.iter_content(4)) chunks.push(chunk.byteLength);
  assert.deepEqual(chunks, [4, 4, 4, 4, 3]);
  const lines: string[] = [];
  for await (const line of r.iter_lines()) lines.push(line);
  assert.deepEqual(lines, ["one", "two", "three", "four"]);
  await assert.rejects(async () => {
    for await (const _ of r.iter_content(0)) { /* never */ }
  }, /'chunk_size'/);
});

test("read() on a buffered response returns the body", async () => {
  const r = await requests.get(`${server.url}/bytes/10`);
  assert.equal((await r.read()).byteLength, 10);
  assert.equal(r.bytes.byteLength, 10);
});

test("a response prints as <Response [code]>, so a redirect loop's error prints small", async () => {
  const { inspect } = await import("node:util");
  const fetch = (req: Request) =>
    new globalThis.Response(null, { status: 302, headers: { location: req.url } });
  const error = await requests.get("http://loop.test/", { fetch }).catch((e) => e);
  assert.ok(error instanceof requests.TooManyRedirectsError);
  const started = performance.now();
  const text = inspect(error, { depth: 10 });
  // Every history entry holds its own history: printed whole, this was 87 MB and took seconds.
  assert.ok(text.length < 10_000, `${text.length} characters`);
  assert.ok(performance.now() - started < 1_000);
  assert.match(text, /<Response \[302\]>/);
  assert.equal(inspect(new requests.Response(200, "OK")), "<Response [200]>");
});
