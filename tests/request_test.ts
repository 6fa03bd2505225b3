// Part A of SPEC against the in-process echo server: methods, URLs, bodies, headers, auth.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../mod.ts";
import { type Echo, header, IS_NODE, serve, type TestServer } from "./_server.ts";

let server: TestServer;
before(async () => {
  server = await serve();
});
after(() => server.close());

async function echoOf(r: Promise<requests.Response>): Promise<Echo> {
  return (await r).json() as Echo;
}

test("get() returns status, reason, headers and JSON", async () => {
  const r = await requests.get(`${server.url}/echo`);
  assert.equal(r.status_code, 200);
  assert.equal(r.reason, "OK");
  assert.match(r.headers, /^content-type: application\/json/m);
  assert.equal((r.json() as Echo).method, "GET");
});

test("the seed example: post() sends JSON with a custom header", async () => {
  const echoed = await echoOf(
    requests.post(`${server.url}/post`, {
      json: { id: 1, value: 42 },
      headers: { "X-Source": "openmv" },
    }),
  );
  assert.equal(echoed.method, "POST");
  assert.deepEqual(JSON.parse(echoed.body), { id: 1, value: 42 });
  assert.equal(header(echoed, "content-type"), "application/json");
  assert.equal(header(echoed, "x-source"), "openmv");
});

test("every helper sends its method, and delete is an export alias", async () => {
  const cases = [
    [requests.get, "GET"],
    [requests.post, "POST"],
    [requests.put, "PUT"],
    [requests.patch, "PATCH"],
    [requests.delete, "DELETE"],
    [requests.del, "DELETE"],
  ] as const;
  for (const [fn, method] of cases) {
    assert.equal((await echoOf(fn(`${server.url}/m`))).method, method);
  }
  const r = await requests.head(`${server.url}/m`);
  assert.equal(r.status_code, 200);
  assert.equal(r.content, "");
});

test("request() upper-cases any method, including custom tokens", async () => {
  assert.equal((await echoOf(requests.request("post", `${server.url}/x`))).method, "POST");
  assert.equal((await echoOf(requests.request("Purge", `${server.url}/x`))).method, "PURGE");
});

test("URL schemes are case-insensitive and URL objects work", async () => {
  assert.equal((await requests.get(`HTTP://${server.url.slice(7)}/a`)).status_code, 200);
  const echoed = await echoOf(requests.get(new URL(`${server.url}/obj?q=1`)));
  assert.equal(echoed.path, "/obj");
  assert.deepEqual(echoed.query, [["q", "1"]]);
});

test("credentials in the URL become Basic auth and leave the URL", async () => {
  const url = `http://us%40er:p%3Ass@${server.url.slice(7)}/secret`;
  const r = await requests.get(url);
  const echoed = r.json() as Echo;
  assert.equal(header(echoed, "authorization"), `Basic ${btoa("us@er:p:ss")}`);
  assert.equal(r.url, `${server.url}/secret`);
  assert.ok(!echoed.url.includes("p%3Ass"));
});

test("auth wins over credentials in the URL", async () => {
  const echoed = await echoOf(
    requests.get(`http://a:b@${server.url.slice(7)}/`, { auth: ["user", "pässwörd"] }),
  );
  const expected = btoa(String.fromCharCode(...new TextEncoder().encode("user:pässwörd")));
  assert.equal(header(echoed, "authorization"), `Basic ${expected}`);
});

test("auth accepts a bearer token", async () => {
  const echoed = await echoOf(requests.get(server.url, { auth: { bearer: "t0k3n" } }));
  assert.equal(header(echoed, "authorization"), "Bearer t0k3n");
});

test("data as a string is sent as UTF-8 with Content-Length and no Content-Type", async () => {
  const echoed = await echoOf(requests.post(server.url, { data: "héllo" }));
  assert.equal(echoed.body, "héllo");
  assert.equal(header(echoed, "content-length"), "6");
  assert.equal(header(echoed, "content-type"), null);
});

test("data accepts bytes, ArrayBuffer, Blob and a stream", async () => {
  const bytes = new Uint8Array([0, 1, 2, 255]);
  for (const data of [bytes, bytes.buffer, new Blob([bytes])]) {
    const echoed = await echoOf(requests.put(server.url, { data }));
    assert.equal(echoed.body_base64, btoa("\x00\x01\x02\xff"));
    assert.equal(header(echoed, "content-length"), "4");
  }
  const typed = await echoOf(
    requests.post(server.url, { data: new Blob(["x"], { type: "image/jpeg" }) }),
  );
  assert.equal(header(typed, "content-type"), "image/jpeg");
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array([104, 105]));
      c.enqueue(new Uint8Array([33]));
      c.close();
    },
  });
  assert.equal((await echoOf(requests.post(server.url, { data: stream }))).body, "hi!");
});

test("data as an object is form-encoded exactly as Python requests does", async () => {
  const echoed = await echoOf(
    requests.post(server.url, {
      data: { name: "a b&c", list: ["x", "y"], n: 1.5, skip: null, star: "*~'" },
    }),
  );
  assert.equal(header(echoed, "content-type"), "application/x-www-form-urlencoded");
  assert.equal(echoed.body, "name=a+b%26c&list=x&list=y&n=1.5&star=%2A~%27");
});

test("data accepts URLSearchParams and [name, value] pairs", async () => {
  const a = await echoOf(requests.post(server.url, { data: new URLSearchParams("a=1&b=2") }));
  assert.equal(a.body, "a=1&b=2");
  const b = await echoOf(requests.post(server.url, { data: [["a", "1"], ["a", "2"]] }));
  assert.equal(b.body, "a=1&a=2");
  assert.equal(header(b, "content-type"), "application/x-www-form-urlencoded");
});

test("a Content-Type given by the caller wins over the body's", async () => {
  const echoed = await echoOf(
    requests.post(server.url, { json: [1], headers: { "content-type": "application/x+json" } }),
  );
  assert.equal(header(echoed, "content-type"), "application/x+json");
});

test("headers accept an object, a Headers and pairs, and are never mutated", async () => {
  const object = Object.freeze({ "X-A": "1" });
  const headers = new Headers({ "X-B": "2" });
  const pairs = Object.freeze([["X-C", "3"]] as [string, string][]);
  for (
    const [input, name, value] of [[object, "x-a", "1"], [headers, "x-b", "2"], [
      pairs,
      "x-c",
      "3",
    ]] as const
  ) {
    const echoed = await echoOf(requests.post(server.url, { headers: input, json: {} }));
    assert.equal(header(echoed, name), value);
  }
  assert.deepEqual([...headers], [["x-b", "2"]]);
});

test("a conditional request is sent with the caller's fields only: no Cache-Control or Pragma added", async () => {
  // Node's fetch sends a request with If-None-Match or If-Modified-Since as the Fetch standard's
  // "no-store" cache mode does, adding `Pragma: no-cache` and `Cache-Control: no-cache`.
  for (const name of ["If-None-Match", "If-Modified-Since", "If-Match", "If-Range"]) {
    const echoed = await echoOf(
      requests.get(`${server.url}/echo`, { headers: { [name]: '"v1"', "X-Trace": "1" } }),
    );
    assert.equal(header(echoed, name), '"v1"', name);
    assert.equal(header(echoed, "cache-control"), null, name);
    assert.equal(header(echoed, "pragma"), null, name);
  }
  const own = await echoOf(
    requests.get(`${server.url}/echo`, {
      headers: { "If-None-Match": '"v1"', "Cache-Control": "max-age=0" },
    }),
  );
  assert.equal(header(own, "cache-control"), "max-age=0");
  assert.equal(header(own, "pragma"), null);
  // Behind request hooks the runtime's fetch sends a Request: the same fields, and the hooks see
  // the Request's cache mode as the caller's code would make it.
  const modes: string[] = [];
  await using session = new requests.Session({
    hooks: { request: [(req) => void modes.push(req.cache)] },
  });
  const hooked = await echoOf(
    session.get(`${server.url}/echo`, { headers: { "If-None-Match": '"v1"' } }),
  );
  assert.equal(header(hooked, "if-none-match"), '"v1"');
  assert.equal(header(hooked, "cache-control"), null);
  assert.equal(header(hooked, "pragma"), null);
  assert.deepEqual(modes, ["default"]);
});

test("header values beyond Latin-1 are sent as UTF-8 bytes", async () => {
  const r = await requests.get(server.url, { headers: { "X-Name": "café ☕" } });
  const raw = header(r.json() as Echo, "x-name")!;
  const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0));
  assert.equal(new TextDecoder().decode(bytes), "café ☕");
});

test("files are sent as multipart with a random boundary and data fields", async () => {
  const echoed = await echoOf(
    requests.post(server.url, {
      data: { camera: "openmv" },
      files: {
        snapshot: ["snap.jpg", new Uint8Array([1, 2, 3]), "image/jpeg"],
        note: ["note.txt", "hello"],
      },
    }),
  );
  const type = header(echoed, "content-type")!;
  const boundary = /^multipart\/form-data; boundary=([0-9a-f]{32})$/.exec(type)?.[1];
  assert.ok(boundary, type);
  assert.equal(
    echoed.body,
    `--${boundary}\r\nContent-Disposition: form-data; name="camera"\r\n\r\nopenmv\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="snapshot"; filename="snap.jpg"\r\n` +
      `Content-Type: image/jpeg\r\n\r\n\x01\x02\x03\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="note"; filename="note.txt"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\nhello\r\n--${boundary}--\r\n`,
  );
  assert.equal(header(echoed, "content-length"), String(echoed.body_length));
});

test("multipart parses on the server as form data, including a streamed file", async () => {
  const parsing = await serve(async (req) => {
    const form = await req.formData();
    const out: Record<string, string> = {};
    for (const [name, value] of form) {
      out[name] = typeof value === "string" ? value : `${value.name}:${await value.text()}`;
    }
    return Response.json(out);
  });
  try {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("chunk1-"));
        c.enqueue(new TextEncoder().encode("chunk2"));
        c.close();
      },
    });
    const r = await requests.post(parsing.url, {
      data: { a: "1" },
      files: {
        blob: new File(["file body"], "f.bin"),
        streamed: ["s.txt", stream],
        'we"ird\r\n': ['na"me\r\n.txt', "x"],
      },
    });
    // Node's form-data parser (undici) turns the WHATWG escapes back into '"', CR and LF.
    const [name, filename] = IS_NODE
      ? ['we"ird\r\n', 'na"me\r\n.txt']
      : ["we%22ird%0D%0A", "na%22me%0D%0A.txt"];
    assert.deepEqual(r.json(), {
      a: "1",
      blob: "f.bin:file body",
      streamed: "s.txt:chunk1-chunk2",
      [name]: `${filename}:x`,
    });
  } finally {
    await parsing.close();
  }
});

test("FormData given as data is rebuilt with the module's own boundary", async () => {
  const form = new FormData();
  form.append("a", "1");
  form.append("f", new File(["x"], "x.txt", { type: "text/plain" }));
  const echoed = await echoOf(requests.post(server.url, { data: form }));
  const type = header(echoed, "content-type")!;
  assert.match(type, /^multipart\/form-data; boundary=[0-9a-f]{32}$/);
  // Bun adds ";charset=utf-8" to a text File's type.
  assert.match(echoed.body, /filename="x.txt"\r\nContent-Type: text\/plain[^\r]*\r\n\r\nx\r\n/);
});

test("two multipart bodies never share a boundary", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const echoed = await echoOf(requests.post(server.url, { files: { f: ["a", "b"] } }));
    seen.add(header(echoed, "content-type")!);
  }
  assert.equal(seen.size, 20);
});

test("the response reason falls back to the standard phrase", async () => {
  const r = await requests.get(`${server.url}/status/404`);
  assert.equal(r.status_code, 404);
  assert.equal(r.reason, "Not Found");
});

test("head() has empty content and does not follow redirects by default", async () => {
  const r = await requests.head(`${server.url}/redirect/302?to=/echo`);
  assert.equal(r.status_code, 302);
  assert.equal(r.content, "");
  const followed = await requests.head(`${server.url}/redirect/302?to=/echo`, {
    allow_redirects: true,
  });
  assert.equal(followed.status_code, 200);
  assert.equal(followed.content, "");
});

test("the fetch option takes an in-process web handler", async () => {
  const r = await requests.post("http://in-process.test/x", {
    json: { a: 1 },
    fetch: async (req) => new Response(`${req.method} ${await req.text()}`, { status: 201 }),
  });
  assert.equal(r.status_code, 201);
  assert.equal(r.reason, "Created");
  assert.equal(r.content, 'POST {"a":1}');
});

test("JSONDecodeError carries the text it could not parse as doc", async () => {
  const fetch = () =>
    new Response("<html>oops</html>", { headers: { "content-type": "text/html" } });
  const r = await requests.get("http://doc.test/", { fetch });
  const error = (() => {
    try {
      r.json();
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof requests.JSONDecodeError);
  assert.equal(error.doc, "<html>oops</html>");
});
