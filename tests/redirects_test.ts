// The module's own redirect loop: history, method and body rewriting, header stripping.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../mod.ts";
import { type Echo, header, type RawServer, rawServer, serve, type TestServer } from "./_server.ts";

let a: TestServer;
let b: TestServer;
let raw: RawServer;
before(async () => {
  a = await serve();
  b = await serve();
  raw = await rawServer((socket, head) => {
    const location = decodeURIComponent(head.split(" ")[1].slice(1));
    socket.end(
      `HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
  });
});
after(async () => {
  await a.close();
  await b.close();
  await raw.close();
});

const to = (server: TestServer, target: string, status = 302) =>
  `${server.url}/redirect/${status}?to=${encodeURIComponent(target)}`;

test("get() follows a 302 and keeps history", async () => {
  const r = await requests.get(to(a, to(a, "/echo/end")));
  assert.equal(r.status_code, 200);
  assert.equal(r.url, `${a.url}/echo/end`);
  assert.deepEqual(r.history.map((h) => h.status_code), [302, 302]);
  assert.equal(r.history[0].url, to(a, to(a, "/echo/end")));
  assert.ok(r.history.every((h) => h instanceof requests.Response && h.content === ""));
});

test("allow_redirects: false returns the redirect itself", async () => {
  const r = await requests.get(to(a, "/echo"), { allow_redirects: false });
  assert.equal(r.status_code, 302);
  assert.equal(r.raw?.headers.get("location"), "/echo");
});

for (const status of [301, 302] as const) {
  test(`${status} turns POST into GET and drops the body and its headers`, async () => {
    const r = await requests.post(to(a, "/echo", status), { json: { a: 1 } });
    const echoed = r.json() as Echo;
    assert.equal(echoed.method, "GET");
    assert.equal(echoed.body, "");
    assert.equal(header(echoed, "content-type"), null);
  });
}

test("301 keeps PUT but drops its body", async () => {
  const echoed = (await requests.put(to(a, "/echo", 301), { data: "x" })).json() as Echo;
  assert.equal(echoed.method, "PUT");
  assert.equal(echoed.body, "");
});

test("303 turns any method but HEAD into GET", async () => {
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    const echoed = (await requests.request(method, to(a, "/echo", 303), { json: { a: 1 } }))
      .json() as Echo;
    assert.equal(echoed.method, "GET");
    assert.equal(echoed.body, "");
    assert.equal(header(echoed, "content-type"), null);
  }
  const r = await requests.head(to(a, "/echo", 303), { allow_redirects: true });
  assert.equal(r.status_code, 200);
});

for (const status of [307, 308] as const) {
  test(`${status} keeps the method and replays the body`, async () => {
    const r = await requests.post(to(a, "/echo", status), {
      json: { a: 1 },
      headers: { "X-Keep": "yes" },
    });
    const echoed = r.json() as Echo;
    assert.equal(echoed.method, "POST");
    assert.equal(echoed.body, '{"a":1}');
    assert.equal(header(echoed, "content-type"), "application/json");
    assert.equal(header(echoed, "x-keep"), "yes");
  });
}

test("a 307 with a streamed body is a clear error, not a silent empty replay", async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array([1]));
      c.close();
    },
  });
  const error = await requests.post(to(a, "/echo", 307), { data: stream }).catch((e) => e);
  assert.ok(error instanceof requests.RequestError);
  assert.match(error.message, /307 redirect: the request body was a stream/);
});

test("credentials and sensitive headers are dropped on a redirect to another origin", async () => {
  const r = await requests.get(to(a, `${b.url}/echo`), {
    auth: ["user", "pass"],
    headers: { Cookie: "sid=1", "X-API-Key": "k", "Proxy-Authorization": "p", "X-Other": "o" },
    sensitive_headers: ["X-API-Key"],
  });
  const echoed = r.json() as Echo;
  assert.equal(echoed.url, `${b.url}/echo`);
  for (const name of ["authorization", "cookie", "x-api-key", "proxy-authorization"]) {
    assert.equal(header(echoed, name), null, name);
  }
  assert.equal(header(echoed, "x-other"), "o");
});

test("credentials stay on a same-origin redirect", async () => {
  const r = await requests.get(to(a, "/echo"), {
    auth: ["user", "pass"],
    cookies: { sid: "1" },
  });
  const echoed = r.json() as Echo;
  assert.equal(header(echoed, "authorization"), `Basic ${btoa("user:pass")}`);
  assert.equal(header(echoed, "cookie"), "sid=1");
});

test("headers stripped on A -> B stay stripped on the way back to A", async () => {
  const r = await requests.get(to(a, to(b, `${a.url}/echo/back`)), {
    auth: { bearer: "t" },
    cookies: { sid: "1" },
  });
  const echoed = r.json() as Echo;
  assert.equal(echoed.path, "/echo/back");
  assert.equal(header(echoed, "authorization"), null);
  assert.equal(header(echoed, "cookie"), null);
});

test("a change of port counts as another origin", async () => {
  const port = Number(new URL(a.url).port);
  const other = `http://localhost:${port}/echo`;
  const r = await requests.get(to(a, other), { auth: ["u", "p"] });
  assert.equal(header(r.json() as Echo, "authorization"), null);
});

test("non-http(s) Locations are refused with InvalidURLError and never fetched", async () => {
  for (const location of ["file:///etc/passwd", "data:text/plain,x", "javascript:alert(1)"]) {
    const error = await requests.get(`${raw.url}/${encodeURIComponent(location)}`).catch((e) => e);
    assert.ok(error instanceof requests.InvalidURLError, String(error));
    assert.match(error.message, /Redirect refused/);
  }
});

test("credentials in a Location are not used and not shown", async () => {
  const r = await requests.get(to(a, `http://evil:s3cret@${b.url.slice(7)}/echo`));
  const echoed = r.json() as Echo;
  assert.equal(header(echoed, "authorization"), null);
  assert.ok(!r.url.includes("s3cret"));
});

test("too many redirects is a TooManyRedirectsError carrying the history", async () => {
  const loop = await serve((req) =>
    new Response(null, { status: 302, headers: { location: req.url } })
  );
  try {
    const error = await requests.get(`${loop.url}/loop`, { max_redirects: 3 }).catch((e) => e);
    assert.ok(error instanceof requests.TooManyRedirectsError);
    assert.equal(error.history.length, 4);
    assert.match(error.message, /Exceeded 3 redirects/);
    assert.equal(loop.hits, 4);
    const none = await requests.get(`${loop.url}/loop`, { max_redirects: 0 }).catch((e) => e);
    assert.ok(none instanceof requests.TooManyRedirectsError);
  } finally {
    await loop.close();
  }
});

test("a redirect without Location is returned as it is", async () => {
  const r = await requests.get(`${a.url}/status/301`);
  assert.equal(r.status_code, 301);
  assert.deepEqual(r.history, []);
});

test("each response in history has the hops before it as its own history", async () => {
  const r = await requests.get(to(a, to(a, to(a, "/echo/end"))));
  assert.deepEqual(r.history.map((h) => h.history.length), [0, 1, 2]);
  assert.equal(r.history.length, 3);
  assert.equal(r.history[2].history[1], r.history[1]);
  assert.equal(r.history[1].history[0], r.history[0]);
});

test("TooManyRedirectsError.response is the last redirect, its history the ones before", async () => {
  const loop = await serve((req) =>
    new Response(null, { status: 302, headers: { location: req.url } })
  );
  try {
    const error = await requests.get(`${loop.url}/loop`).catch((e) => e);
    assert.ok(error instanceof requests.TooManyRedirectsError);
    assert.equal(error.response?.status_code, 302);
    assert.equal(error.response?.history.length, 30);
    assert.equal(error.history.length, 31);
    assert.equal(error.history[30], error.response);
  } finally {
    await loop.close();
  }
});

test("a UTF-8 Location is followed as UTF-8 (Latin-1 only when it is not UTF-8)", async () => {
  const server = await rawServer((socket, head) => {
    const path = head.split(" ")[1];
    const reply = (status: string, extra: string, body = "") =>
      socket.end(
        `HTTP/1.1 ${status}\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    if (path === "/utf8") reply("302 Found", "Location: /\u0161\r\n");
    else if (path === "/latin1") {
      socket.end(
        Buffer.from(
          "HTTP/1.1 302 Found\r\nLocation: /\xe9\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
          "latin1",
        ),
      );
    } else reply("200 OK", "", path);
  });
  try {
    const r = await requests.get(`${server.url}/utf8`);
    assert.equal(r.content, "/%C5%A1");
    assert.equal(r.url, `${server.url}/%C5%A1`);
    assert.equal((await requests.get(`${server.url}/latin1`)).content, "/%C3%A9");
  } finally {
    await server.close();
  }
});

test("the fragment is kept in r.url and inherited by a Location without one", async () => {
  const r = await requests.get(`${to(a, "/echo/x")}#part`);
  assert.equal(r.url, `${a.url}/echo/x#part`);
  assert.equal(r.history[0].url, `${to(a, "/echo/x")}#part`);
  const own = await requests.get(`${to(a, "/echo/y#theirs")}#mine`);
  assert.equal(own.url, `${a.url}/echo/y#theirs`);
  assert.equal((own.json() as Echo).path, "/echo/y");
});

test("r.request is what each hop sent, credentials masked", async () => {
  const r = await requests.post(to(a, `${b.url}/echo`, 307), {
    json: { a: 1 },
    auth: ["user", "pass"],
    cookies: { sid: "1" },
    headers: { "X-API-Key": "k", "X-Plain": "p" },
    sensitive_headers: ["X-API-Key"],
  });
  const first = r.history[0].request;
  assert.equal(first.method, "POST");
  assert.equal(first.url, to(a, `${b.url}/echo`, 307));
  assert.equal(first.headers.authorization, "***");
  assert.equal(first.headers.cookie, "***");
  assert.equal(first.headers["x-api-key"], "***");
  assert.equal(first.headers["x-plain"], "p");
  assert.equal(first.headers["content-type"], "application/json");
  assert.equal(r.request.url, `${b.url}/echo`);
  assert.equal(r.request.headers.authorization, undefined);
  assert.equal(r.request.headers["x-plain"], "p");
  assert.ok(!JSON.stringify([r.request, first]).includes(btoa("user:pass")));
});

test("options are read at the call: changing them afterwards changes no hop", async () => {
  const body = { n: 1 };
  const headers: Record<string, string> = { "x-n": "1" };
  const pending = requests.post(to(a, "/echo", 307), { json: body, headers });
  body.n = 2;
  headers["x-n"] = "2";
  const echoed = (await pending).json() as Echo;
  assert.equal(echoed.body, '{"n":1}');
  assert.equal(header(echoed, "x-n"), "1");
});
