// Every misuse of part A gets its documented error, and nothing reaches the server: a raw
// server counts the connections it accepts.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../mod.ts";
import { type RawServer, rawServer, response } from "./_server.ts";

let server: RawServer;
before(async () => {
  server = await rawServer((socket) => {
    socket.end(response("200 OK", [["Content-Length", "2"], ["Connection", "close"]], "ok"));
  });
});
after(() => server.close());

type ErrorClass = new (...args: never[]) => Error;

/** Misuses: [name, call, error class, what the message must mention]. */
const cases: [string, (url: string) => Promise<unknown>, ErrorClass, RegExp][] = [
  ["method with a space", (u) => requests.request("GE T", u), TypeError, /'method'/],
  ["method with CR LF", (u) => requests.request("GET\r\nX: y", u), TypeError, /'method'/],
  ["method with NUL", (u) => requests.request("GET\0", u), TypeError, /'method'/],
  ["empty method", (u) => requests.request("", u), TypeError, /'method'/],
  [
    "method not a string",
    (u) => requests.request(1 as unknown as string, u),
    TypeError,
    /'method'/,
  ],
  ["url not a string", () => requests.get(42 as unknown as string), TypeError, /'url'/],
  ["relative url", () => requests.get("/path"), requests.InvalidURLError, /Invalid URL/],
  ["ftp url", () => requests.get("ftp://127.0.0.1/"), requests.InvalidURLError, /scheme 'ftp'/],
  ["file url", () => requests.get("file:///etc/passwd"), requests.InvalidURLError, /'file'/],
  ["data url", () => requests.get("data:text/plain,hi"), requests.InvalidURLError, /'data'/],
  [
    "javascript url",
    () => requests.get("javascript:alert(1)"),
    requests.InvalidURLError,
    /'javascript'/,
  ],
  ["no host", () => requests.get("http://"), requests.InvalidURLError, /Invalid URL/],
  ["malformed host", () => requests.get("http://a b/"), requests.InvalidURLError, /Invalid URL/],
  [
    "header name with a space",
    (u) => requests.get(u, { headers: { "X Bad": "1" } }),
    requests.InvalidHeaderError,
    /"X Bad"/,
  ],
  [
    "header value with CR LF",
    (u) => requests.get(u, { headers: { "X-A": "1\r\nInjected: yes" } }),
    requests.InvalidHeaderError,
    /"X-A".*CR, LF or NUL/,
  ],
  [
    "header value with LF in pairs",
    (u) => requests.get(u, { headers: [["X-A", "1\nY: 2"]] }),
    requests.InvalidHeaderError,
    /"X-A"/,
  ],
  [
    "header value with NUL",
    (u) => requests.get(u, { headers: { "X-A": "a\0b" } }),
    requests.InvalidHeaderError,
    /"X-A"/,
  ],
  [
    "header name with CR",
    (u) => requests.get(u, { headers: { "X-A\r": "1" } }),
    requests.InvalidHeaderError,
    /header name/,
  ],
  [
    "header value an object",
    (u) => requests.get(u, { headers: { "X-A": {} as unknown as string } }),
    TypeError,
    /'headers'/,
  ],
  [
    "headers a string",
    (u) => requests.get(u, { headers: "X: 1" as never }),
    TypeError,
    /'headers'/,
  ],
  [
    "json and data",
    (u) => requests.post(u, { json: {}, data: "x" }),
    TypeError,
    /'data' and 'json'/,
  ],
  [
    "json and files",
    (u) => requests.post(u, { json: {}, files: { f: ["a", "b"] } }),
    TypeError,
    /'files' and 'json'/,
  ],
  [
    "raw data with files",
    (u) => requests.post(u, { data: "raw", files: { f: ["a", "b"] } }),
    TypeError,
    /'files'.*'data'/,
  ],
  ["json a BigInt", (u) => requests.post(u, { json: 1n }), TypeError, /'json'/],
  ["json a function", (u) => requests.post(u, { json: () => 1 }), TypeError, /'json'/],
  [
    "json with a cycle",
    (u) => {
      const a: Record<string, unknown> = {};
      a.self = a;
      return requests.post(u, { json: a });
    },
    TypeError,
    /'json'/,
  ],
  ["data a number", (u) => requests.post(u, { data: 5 as never }), TypeError, /'data'/],
  [
    "data with a nested object",
    (u) => requests.post(u, { data: { a: { b: 1 } } as never }),
    TypeError,
    /'data'.*'a'/,
  ],
  ["files an array", (u) => requests.post(u, { files: [] as never }), TypeError, /'files'/],
  [
    "file spec with no content",
    (u) => requests.post(u, { files: { f: ["name"] as never } }),
    TypeError,
    /'files\["f"\]'/,
  ],
  [
    "file content a number",
    (u) => requests.post(u, { files: { f: ["name", 5 as never] } }),
    TypeError,
    /'files\["f"\]'/,
  ],
  [
    "file content type with CRLF",
    (u) => requests.post(u, { files: { f: ["n", "x", "text/plain\r\nX: y"] } }),
    TypeError,
    /'files\["f"\]'/,
  ],
  ["auth a string", (u) => requests.get(u, { auth: "user:pass" as never }), TypeError, /'auth'/],
  ["auth of one item", (u) => requests.get(u, { auth: ["user"] as never }), TypeError, /'auth'/],
  [
    "bearer with CR LF",
    (u) => requests.get(u, { auth: { bearer: "t\r\nX: y" } }),
    TypeError,
    /'auth'/,
  ],
  [
    "stream not a boolean",
    (u) => requests.get(u, { stream: "yes" as never }),
    TypeError,
    /'stream'/,
  ],
  ["unknown option", (u) => requests.get(u, { header: {} } as never), TypeError, /'headers'/],
  ["options a string", (u) => requests.get(u, "x" as never), TypeError, /'options'/],
  ["negative timeout", (u) => requests.get(u, { timeout: -1 }), TypeError, /'timeout'/],
  ["timeout NaN", (u) => requests.get(u, { timeout: NaN }), TypeError, /'timeout'/],
  [
    "params a nested object",
    (u) => requests.get(u, { params: { a: { b: 1 } } as never }),
    TypeError,
    /'params'/,
  ],
  [
    "cookies with CR LF",
    (u) => requests.get(u, { cookies: { a: "1\r\nX: y" } }),
    requests.InvalidHeaderError,
    /CR, LF or NUL/,
  ],
  ["max_redirects -1", (u) => requests.get(u, { max_redirects: -1 }), TypeError, /'max_redirects'/],
  ["fetch not a function", (u) => requests.get(u, { fetch: 1 as never }), TypeError, /'fetch'/],
  ["signal not a signal", (u) => requests.get(u, { signal: {} as never }), TypeError, /'signal'/],
];

for (const [name, call, type, message] of cases) {
  test(`misuse is refused before any connection: ${name}`, async () => {
    const before = server.connections;
    let sync: unknown = null;
    let promise: Promise<unknown>;
    try {
      promise = call(server.url);
    } catch (error) {
      sync = error;
      promise = Promise.resolve();
    }
    assert.equal(sync, null, "the call threw synchronously instead of rejecting");
    await assert.rejects(promise, (error: Error) => {
      assert.ok(error instanceof type, `${error?.name}: ${error?.message}`);
      assert.match(error.message, message);
      return true;
    });
    assert.equal(server.connections, before, "a connection reached the server");
  });
}

test("InvalidURLError carries the method and the URL without credentials", async () => {
  const error = await requests.get("ftp://user:secret@127.0.0.1/x").catch((e) => e);
  assert.ok(error instanceof requests.InvalidURLError);
  assert.ok(error instanceof requests.RequestError);
  assert.equal(error.request.method, "GET");
  assert.equal(error.request.url, "ftp://127.0.0.1/x");
  assert.ok(!String(error).includes("secret"));
});

test("an unparseable URL with credentials is redacted in the message", async () => {
  const error = await requests.get("http://user:hunter2@exa mple/").catch((e) => e);
  assert.ok(error instanceof requests.InvalidURLError);
  assert.ok(!error.message.includes("hunter2"), error.message);
});

test("a header error names the header but never shows its value", async () => {
  const error = await requests.get(server.url, {
    headers: { Authorization: "Bearer s3cr3t\r\n" },
  }).catch((e) => e);
  assert.ok(error instanceof requests.InvalidHeaderError);
  assert.match(error.message, /"Authorization"/);
  assert.ok(!error.message.includes("s3cr3t"));
});

test("the caller's options object is never mutated", async () => {
  const options = Object.freeze({
    headers: Object.freeze({ "X-A": "1" }),
    json: Object.freeze({ a: 1 }),
    params: Object.freeze({ q: "1" }),
  });
  const r = await requests.post(server.url, options);
  assert.equal(r.status_code, 200);
  assert.deepEqual(options.headers, { "X-A": "1" });
});

test("an error raised while preparing the call carries its method and redacted URL", async () => {
  const url = `${server.url.replace("http://", "http://user:pw@")}/x?token=s3cret`;
  const header = await requests.get(url, { headers: { "X-Bad": "a\r\nb" } }).catch((e) => e);
  assert.ok(header instanceof requests.InvalidHeaderError);
  assert.equal(header.request.url, `${server.url}/x?token=***`);
  assert.ok(header.message.endsWith(`: GET ${server.url}/x?token=***`), header.message);
  const cookie = await requests.get(url, { cookies: { a: "b\nc" } }).catch((e) => e);
  assert.equal(cookie.request.url, `${server.url}/x?token=***`);
});
