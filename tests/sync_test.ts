// The blocking variant (sync.ts). A blocking call blocks this thread's event loop, so the test
// server runs in a child process (tests/_sync_serve_child.ts), never in this one.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import * as requests from "../sync.ts";
import * as async from "../mod.ts";
import { describeError } from "../src/sync/_worker.ts";
import { toError } from "../src/sync/_codec.ts";
import { ERROR_CLASSES } from "../src/errors.ts";
import { closedPort, type Echo, header, IS_DENO } from "./_server.ts";

const here = path.dirname(new URL(import.meta.url).pathname);
let child: ChildProcess;
let base: string;
let refused: string;

/** The command that runs a TypeScript file on the current runtime. */
function command(script: string, ...args: string[]): [string, string[]] {
  return IS_DENO
    ? [process.execPath, ["run", "-A", script, ...args]]
    : [process.execPath, [script, ...args]];
}

/** Spawns `script`; resolves with its exit code and output, or null when it outlives `ms`. */
function runScript(
  script: string,
  ms: number,
  ...scriptArgs: string[]
): Promise<{ code: number | null; stdout: string; stderr: string } | null> {
  const [cmd, args] = command(script, ...scriptArgs);
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (chunk) => stdout += chunk);
  proc.stderr.on("data", (chunk) => stderr += chunk);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      resolve(null);
    }, ms);
    proc.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function echoed(r: async.Response): Echo {
  return r.json() as Echo;
}

/** The error `fn` throws (failing when it does not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  assert.fail("expected an error");
}

before(async () => {
  const [cmd, args] = command(path.join(here, "_sync_serve_child.ts"));
  child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
  base = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (chunk) => {
      text += chunk;
      if (text.includes("\n")) resolve(text.trim());
    });
    child.on("exit", (code) => reject(new Error(`the test server exited with ${code}`)));
  });
  refused = `http://127.0.0.1:${await closedPort()}/`;
});

after(async () => {
  const exited = new Promise((resolve) => child.on("exit", resolve));
  child.stdin!.end();
  await exited;
});

test("sync get() blocks and returns a Response with the seed's members", () => {
  const r = requests.get(`${base}/get?x=1`);
  assert.ok(r instanceof async.Response);
  assert.equal(r.status_code, 200);
  assert.equal(r.reason, "OK");
  assert.equal(r.ok, true);
  assert.equal(r.encoding, "utf-8");
  assert.match(r.headers, /^content-type: application\/json/m);
  assert.deepEqual(echoed(r).query, [["x", "1"]]);
  assert.equal(r.url, `${base}/get?x=1`);
  assert.ok(r.elapsed > 0);
  assert.match(r.raw?.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(r.raise_for_status(), r);
});

test("sync get() sends params, headers, cookies and basic auth", () => {
  const r = requests.get(`${base}/get`, {
    params: { q: "red fox", tag: ["a", "b"] },
    headers: new Headers({ "X-Source": "openmv" }),
    cookies: { sid: "7" },
    auth: ["user", "pass"],
  });
  const e = echoed(r);
  assert.deepEqual(e.query, [["q", "red fox"], ["tag", "a"], ["tag", "b"]]);
  assert.equal(header(e, "x-source"), "openmv");
  assert.equal(header(e, "cookie"), "sid=7");
  assert.equal(header(e, "authorization"), `Basic ${btoa("user:pass")}`);
});

const BODIES = [
  {
    name: "json",
    options: { json: { id: 1, ok: true } },
    body: '{"id":1,"ok":true}',
    type: /json/,
  },
  { name: "a string", options: { data: "héllo" }, body: "héllo", type: null },
  { name: "bytes", options: { data: new Uint8Array([104, 105]) }, body: "hi", type: null },
  {
    name: "an ArrayBuffer",
    options: { data: new Uint8Array([104, 105]).buffer },
    body: "hi",
    type: null,
  },
  {
    name: "a Blob",
    options: { data: new Blob(["blob"], { type: "text/x-a" }) },
    body: "blob",
    type: /text\/x-a/,
  },
  {
    name: "form fields",
    options: { data: { a: "1", b: ["x", "y"] } },
    body: "a=1&b=x&b=y",
    type: /urlencoded/,
  },
  {
    name: "URLSearchParams",
    options: { data: new URLSearchParams("a=1&b=2") },
    body: "a=1&b=2",
    type: /urlencoded/,
  },
] as const;

for (const { name, options, body, type } of BODIES) {
  test(`sync post() sends ${name}`, () => {
    const e = echoed(requests.post(`${base}/post`, options));
    assert.equal(e.method, "POST");
    assert.equal(e.body, body);
    const contentType = header(e, "content-type");
    if (type === null) assert.equal(contentType, null);
    else assert.match(contentType ?? "", type);
  });
}

test("sync post() sends files and FormData as multipart", () => {
  const e = echoed(requests.post(`${base}/post`, {
    files: {
      snap: ["snap.jpg", new Uint8Array([0xff, 0xd8]), "image/jpeg"],
      note: ["note.txt", "text content"],
      doc: new File(["file body"], "doc.txt", { type: "text/plain" }),
    },
    data: { camera: "openmv" },
  }));
  assert.match(header(e, "content-type") ?? "", /^multipart\/form-data; boundary=/);
  assert.match(e.body, /name="camera"\r\n\r\nopenmv\r\n/);
  assert.match(e.body, /name="snap"; filename="snap.jpg"\r\nContent-Type: image\/jpeg/);
  assert.match(e.body, /filename="note.txt"[^]*text content/);
  assert.match(e.body, /filename="doc.txt"\r\nContent-Type: text\/plain[^\r]*\r\n\r\nfile body/);

  const form = new FormData();
  form.append("field", "value");
  form.append("upload", new File(["abc"], "a.txt"));
  const f = echoed(requests.post(`${base}/post`, { data: form }));
  assert.match(f.body, /name="field"\r\n\r\nvalue\r\n/);
  assert.match(f.body, /name="upload"; filename="a.txt"[^]*abc/);
});

test("sync put(), patch(), delete(), head() and request() send their methods", () => {
  assert.equal(echoed(requests.put(`${base}/x`, { data: "new" })).method, "PUT");
  assert.equal(echoed(requests.patch(`${base}/x`, { json: { a: 1 } })).method, "PATCH");
  assert.equal(echoed(requests.delete(`${base}/x`)).method, "DELETE");
  assert.equal(echoed(requests.del(`${base}/x`)).method, "DELETE");
  assert.equal(echoed(requests.request("options", new URL(`${base}/x`))).method, "OPTIONS");
  const h = requests.head(`${base}/bytes/10`);
  assert.equal(h.status_code, 200);
  assert.equal(h.content, "");
});

test("sync get() follows redirects and keeps the history", () => {
  const r = requests.post(`${base}/redirect/303?to=/redirect/302`, { json: { a: 1 } });
  assert.equal(r.url, `${base}/echo`);
  assert.equal(echoed(r).method, "GET");
  assert.deepEqual(r.history.map((h) => h.status_code), [303, 302]);
  assert.deepEqual(r.history.map((h) => h.url), [
    `${base}/redirect/303?to=/redirect/302`,
    `${base}/redirect/302`,
  ]);
  assert.ok(r.history.every((h) => h instanceof async.Response));

  const kept = requests.get(`${base}/redirect/302`, { allow_redirects: false });
  assert.equal(kept.status_code, 302);
  assert.equal(kept.raw?.headers.get("location"), "/echo");
});

test("sync raise_for_status() names the final request as the async module does", async () => {
  const url = `${base}/redirect/303?to=/status/404`;
  const error = thrown(() => requests.post(url, { data: "x" }).raise_for_status());
  const expected = await async.post(url, { data: "x" }).then((r) =>
    thrown(() => r.raise_for_status())
  );
  assert.ok(error instanceof async.HTTPError);
  assert.equal(error.message, expected.message);
  assert.match(error.message, /^404 Client Error: Not Found: GET http:/);
  assert.deepEqual(error.request, { method: "GET", url: `${base}/status/404` });
  assert.equal(error.response?.status_code, 404);
});

test("sync Response decodes with the charset and keeps every Set-Cookie", () => {
  const r = requests.get(
    `${base}/headers?content-type=text/plain;%20charset=iso-8859-1&set-cookie=a=1&set-cookie=b=2`,
  );
  assert.equal(r.encoding, "iso-8859-1");
  assert.deepEqual({ ...r.cookies }, { a: "1", b: "2" });
  assert.equal(r.headers.match(/^set-cookie: /gm)?.length, 2);
  const bad = requests.get(`${base}/json?text=nope`);
  assert.ok(thrown(() => bad.json()) instanceof async.JSONDecodeError);
});

test("sync errors are rethrown with the same class, message and request as async ones", async () => {
  const cases: [
    string,
    string,
    () => Promise<unknown>,
    () => unknown,
    new (...args: never[]) => Error,
  ][] = [
    [
      "refused",
      refused,
      () => async.get(refused),
      () => requests.get(refused),
      async.ConnectionError,
    ],
    [
      "timeout",
      `${base}/slow/3000`,
      () => async.get(`${base}/slow/3000`, { timeout: 0.2 }),
      () => requests.get(`${base}/slow/3000`, { timeout: 0.2 }),
      async.TimeoutError,
    ],
    [
      "invalid URL",
      "ftp://example.test/",
      () => async.get("ftp://example.test/"),
      () => requests.get("ftp://example.test/"),
      async.InvalidURLError,
    ],
    [
      "invalid header",
      base,
      () => async.get(base, { headers: { "X-A": "a\r\nb" } }),
      () => requests.get(base, { headers: { "X-A": "a\r\nb" } }),
      async.InvalidHeaderError,
    ],
    [
      "bad method",
      base,
      () => async.request("GE T", base),
      () => requests.request("GE T", base),
      TypeError,
    ],
    [
      "unknown option",
      base,
      () => async.get(base, { header: {} } as async.RequestOptions),
      () => requests.get(base, { header: {} } as requests.SyncRequestOptions),
      TypeError,
    ],
    [
      "json and data",
      base,
      () => async.post(base, { json: 1, data: "x" }),
      () => requests.post(base, { json: 1, data: "x" }),
      TypeError,
    ],
    [
      "json BigInt",
      base,
      () => async.post(base, { json: 1n }),
      () => requests.post(base, { json: 1n }),
      TypeError,
    ],
  ];
  for (const [name, , asyncCall, syncCall, kind] of cases) {
    const expected = (await asyncCall().catch((e) => e)) as Error;
    const error = thrown(syncCall);
    assert.ok(error instanceof kind, `${name}: ${error}`);
    assert.equal(error.constructor, expected.constructor, name);
    assert.equal(error.name, expected.name, name);
    assert.equal(error.message, expected.message, name);
    if (expected instanceof async.RequestError) {
      assert.deepEqual((error as async.RequestError).request, {
        method: expected.request.method,
        url: expected.request.url,
      });
    }
  }
  const timeout = thrown(() => requests.get(`${base}/slow/3000`, { timeout: 0.2 }));
  assert.deepEqual((timeout as async.TimeoutError).request, {
    method: "GET",
    url: `${base}/slow/3000`,
  });
});

test("sync TooManyRedirectsError carries the history", () => {
  const error = thrown(() =>
    requests.get(`${base}/redirect/302?to=/redirect/301`, { max_redirects: 1 })
  );
  assert.ok(error instanceof async.TooManyRedirectsError);
  assert.deepEqual(error.history.map((h) => h.status_code), [302, 301]);
  assert.equal(error.response?.status_code, 301);
});

test("sync options that cannot cross to the worker thread are TypeErrors naming them", () => {
  const cases: [unknown, RegExp][] = [
    [{ fetch: () => new Response("x") }, /'fetch'/],
    [{ signal: new AbortController().signal }, /'signal'/],
    [{ progress: () => {} }, /'progress'/],
    [{ stream: true }, /'stream: true'/],
    [{ data: new ReadableStream() }, /ReadableStream as 'data'/],
    [{ files: { f: ["f.bin", new ReadableStream()] } }, /ReadableStream in 'files' \("f"\)/],
    [
      { auth: new async.HTTPDigestAuth("u", "p") },
      /HTTPDigestAuth from mod\.ts as 'auth'.*the HTTPDigestAuth from \.\/sync/,
    ],
    [{ json: { f() {} } }, /'json'/],
    [{ params: { a: Symbol("s") } }, /'params'/],
  ];
  for (const [options, message] of cases) {
    const error = thrown(() => requests.get(base, options as requests.SyncRequestOptions));
    assert.ok(error instanceof TypeError, String(error));
    assert.match(error.message, /with the sync API/);
    assert.match(error.message, message);
  }
  // The channel still works after a refused call.
  assert.equal(requests.get(`${base}/get`).status_code, 200);
});

test("sync get() and post() carry 5 MB bodies whole", () => {
  const size = 5 * 1024 * 1024;
  const r = requests.get(`${base}/bytes/${size}`);
  assert.equal(r.bytes.byteLength, size);
  for (let i = 0; i < size; i++) {
    if (r.bytes[i] !== i % 256) assert.fail(`byte ${i} is ${r.bytes[i]}`);
  }
  const upload = new Uint8Array(size).fill(120);
  const e = echoed(requests.post(`${base}/post`, { data: upload }));
  assert.equal(e.body_length, size);
});

test("a script that uses the sync API exits by itself", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "requests-sync-"));
  const script = path.join(dir, "script.ts");
  const sync = new URL("../sync.ts", import.meta.url).href;
  fs.writeFileSync(
    script,
    `import * as requests from ${JSON.stringify(sync)};\n` +
      `const r = requests.get(${JSON.stringify(`${base}/get`)});\n` +
      `console.log(r.status_code, r.reason, (r.json() as { path: string }).path);\n` +
      // A session left open and a digest state do not keep the process alive either.
      `const session = new requests.Session({ auth: new requests.HTTPDigestAuth("u", "p") });\n` +
      `console.log(session.get(${JSON.stringify(`${base}/get`)}).status_code);\n`,
  );
  try {
    const started = Date.now();
    const result = await runScript(script, 10_000);
    assert.ok(result !== null, "the script did not exit within 10 s");
    assert.equal(result.stdout, "200 OK /get\n200\n", result.stderr);
    assert.equal(result.code, 0);
    assert.ok(Date.now() - started < 10_000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const LOGIN = "/headers?set-cookie=sid%3D42%3B%20Path%3D%2F";

test("sync Session keeps the cookie a login set and sends it on the next call", () => {
  const session = new requests.Session();
  assert.equal(session.cookies.size, 0);
  session.post(`${base}${LOGIN}`, { data: { user: "me" } }).raise_for_status();
  assert.equal(session.cookies.get("sid"), "42");
  assert.equal(header(echoed(session.get(`${base}/echo`)), "cookie"), "sid=42");
  // The jar of this thread is sent with each call: changes made here reach the worker.
  session.cookies.set("theme", "dark");
  assert.equal(header(echoed(session.get(`${base}/echo`)), "cookie"), "sid=42; theme=dark");
  session.cookies.delete("sid");
  assert.equal(header(echoed(session.get(`${base}/echo`)), "cookie"), "theme=dark");
  // A cookie from a redirect hop lands in the jar too, and a plain call does not see the jar.
  session.get(`${base}/redirect/302?to=${encodeURIComponent("/headers?set-cookie=hop=1")}`);
  assert.equal(session.cookies.get("hop"), "1");
  assert.equal(header(echoed(requests.get(`${base}/echo`)), "cookie"), null);
  session.close();
});

test("sync Session sends its current headers, auth and params with each call", () => {
  const session = new requests.Session({
    headers: { "X-App": "cam" },
    params: { v: "1" },
    cookies: { start: "s" },
  });
  assert.equal(session.headers.get("x-app"), "cam");
  assert.deepEqual(session.params, { v: "1" });
  assert.equal(session.cookies.get("start"), "s");
  let e = echoed(session.get(`${base}/echo`));
  assert.equal(header(e, "x-app"), "cam");
  assert.deepEqual(e.query, [["v", "1"]]);
  assert.equal(header(e, "authorization"), null);
  assert.equal(header(e, "cookie"), "start=s");

  session.headers.set("X-App", "cam2");
  session.headers.set("X-More", "yes");
  session.auth = ["user", "pass"];
  session.params = { v: "2", q: "fox" };
  e = echoed(session.get(`${base}/echo`, { headers: { "X-Call": "1" } }));
  assert.equal(header(e, "x-app"), "cam2");
  assert.equal(header(e, "x-more"), "yes");
  assert.equal(header(e, "x-call"), "1");
  assert.equal(header(e, "authorization"), `Basic ${btoa("user:pass")}`);
  assert.deepEqual(e.query, [["v", "2"], ["q", "fox"]]);

  session.auth = { bearer: "t0k3n" };
  session.headers.delete("X-More");
  session.params = null;
  e = echoed(session.get(`${base}/echo`));
  assert.equal(header(e, "authorization"), "Bearer t0k3n");
  assert.equal(header(e, "x-more"), null);
  assert.deepEqual(e.query, []);
  session.auth = null;
  assert.equal(header(echoed(session.get(`${base}/echo`)), "authorization"), null);
  session.close();
});

test("sync Session joins base_url and sends every method", () => {
  const session = new requests.Session({ base_url: new URL(`${base}/api/`) });
  assert.equal(echoed(session.get("items")).path, "/api/items");
  assert.equal(echoed(session.post("items", { json: { a: 1 } })).method, "POST");
  assert.equal(echoed(session.put("items/1", { data: "x" })).method, "PUT");
  assert.equal(echoed(session.patch("items/1", { data: "x" })).method, "PATCH");
  assert.equal(echoed(session.delete("items/1")).method, "DELETE");
  assert.equal(echoed(session.request("options", "items")).method, "OPTIONS");
  assert.equal(session.head("items").status_code, 200);
  session.close();
});

test("sync Session refuses hooks and what cannot cross, naming them", () => {
  const cases: [unknown, RegExp][] = [
    [{ hooks: { response: [() => {}] } }, /^Cannot use 'hooks' with the sync API/],
    [{ fetch: () => new Response("x") }, /^Cannot use 'fetch' with the sync API/],
    [{ auth: new async.HTTPDigestAuth("u", "p") }, /HTTPDigestAuth from mod\.ts as 'auth'/],
    [{ base_url: "ftp://x/" }, /^Invalid 'base_url'/],
    [{ headr: {} }, /headr/],
  ];
  for (const [defaults, message] of cases) {
    const error = thrown(() => new requests.Session(defaults as requests.SyncSessionOptions));
    assert.ok(error instanceof TypeError, String(error));
    assert.match(error.message, message);
  }
  const session = new requests.Session();
  (session as { auth: unknown }).auth = new async.HTTPDigestAuth("u", "p");
  const error = thrown(() => session.get(`${base}/echo`));
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /the HTTPDigestAuth from \.\/sync/);
  session.close();
});

test("sync Session close() frees it in the worker and a later call opens it again", () => {
  const session = new requests.Session({ headers: { "X-App": "cam" } });
  session.get(`${base}${LOGIN}`);
  session.close();
  session.close();
  const e = echoed(session.get(`${base}/echo`));
  assert.equal(header(e, "cookie"), "sid=42");
  assert.equal(header(e, "x-app"), "cam");
  session[Symbol.dispose]();
  assert.equal(header(echoed(session.get(`${base}/echo`)), "cookie"), "sid=42");
  session.close();
});

test("sync HTTPDigestAuth answers the challenge and its nonce count carries on across calls", () => {
  const url = `${base}/digest/user/passwd`;
  assert.equal(requests.get(url).status_code, 401);
  const auth = new requests.HTTPDigestAuth("user", "passwd");
  assert.equal(String(auth), "HTTPDigestAuth(user)");
  assert.equal(JSON.stringify(auth), '{"username":"user"}');
  assert.deepEqual(requests.get(url, { auth }).json(), { user: "user", nc: "00000001" });
  assert.deepEqual(requests.get(url, { auth }).json(), { user: "user", nc: "00000002" });
  // Each object has its own state.
  const other = new requests.HTTPDigestAuth("user", "passwd");
  assert.deepEqual(requests.get(url, { auth: other }).json(), { user: "user", nc: "00000001" });
  const wrong = requests.get(url, { auth: new requests.HTTPDigestAuth("user", "nope") });
  assert.equal(wrong.status_code, 401);

  const session = new requests.Session({ auth });
  assert.equal(session.auth, auth);
  assert.deepEqual(session.get(url).json(), { user: "user", nc: "00000003" });
  session.auth = new requests.HTTPDigestAuth("user", "passwd");
  assert.deepEqual(session.get(url).json(), { user: "user", nc: "00000001" });
  assert.deepEqual(session.get(url).json(), { user: "user", nc: "00000002" });
  session.close();
  assert.throws(
    () => new requests.HTTPDigestAuth("user", 1 as unknown as string),
    /'password' must be a string/,
  );
});

test("sync responses carry r.request and each redirect's own request and history", async () => {
  const url = `${base}/redirect/307?to=${encodeURIComponent("/redirect/303?to=/echo")}`;
  const options = { json: { a: 1 }, auth: ["user", "pass"] as const, headers: { "X-A": "1" } };
  const r = requests.post(url, options);
  const expected = await async.post(url, options);
  const shape = (response: async.Response): unknown => ({
    status: response.status_code,
    url: response.url,
    request: response.request,
    history: response.history.map(shape),
  });
  assert.deepEqual(shape(r), shape(expected));
  assert.deepEqual(r.history.map((h) => h.request.method), ["POST", "POST"]);
  assert.equal(r.request.method, "GET");
  assert.equal(r.request.url, `${base}/echo`);
  assert.equal(r.request.headers["x-a"], "1");
  assert.equal(r.history[0].request.headers.authorization, "***");
  assert.equal(r.history[1].history.length, 1);
  assert.equal(r.history[1].history[0], r.history[0]);
  assert.equal(r.history[0].history.length, 0);
  assert.ok(Object.isFrozen(r.request));

  const error = thrown(() =>
    requests.get(`${base}/redirect/302?to=/redirect/301`, { max_redirects: 1 })
  ) as async.TooManyRedirectsError;
  assert.deepEqual(error.history.map((h) => h.request.url), [
    `${base}/redirect/302?to=/redirect/301`,
    `${base}/redirect/301`,
  ]);
  assert.equal(error.history[1].history[0], error.history[0]);
  assert.equal(error.response?.history.length, 1);
});

test("every class of ERROR_CLASSES crosses from the worker as itself", () => {
  const family = Object.entries(async).filter(([, value]) =>
    typeof value === "function" &&
    (value === async.RequestError || value.prototype instanceof async.RequestError)
  );
  assert.deepEqual(
    Object.keys(ERROR_CLASSES).sort(),
    family.map(([name]) => name).sort(),
    "the table lists every error class of mod.ts",
  );
  const request = { method: "GET", url: "http://api.test/x" };
  const response = new async.Response(404, "", "x-a: 1", "body");
  for (const [name, Class] of Object.entries(ERROR_CLASSES)) {
    const original = new Class("It failed", {
      request,
      response,
      cause: new RangeError("deep"),
      history: [response],
    } as async.RequestErrorOptions);
    if (name === "JSONDecodeError") {
      Object.defineProperty(original, "doc", { value: "<html>", enumerable: true });
    }
    const back = toError(JSON.parse(JSON.stringify(describeError(original))));
    assert.equal(back.constructor, Class, name);
    assert.equal(back.name, name);
    assert.equal(back.message, original.message, name);
    assert.equal(back.message, "It failed: GET http://api.test/x");
    const error = back as async.RequestError;
    assert.deepEqual(error.request, request, name);
    assert.ok(error.cause instanceof RangeError, name);
    assert.equal((error.cause as Error).message, "deep");
    assert.equal(error.response?.status_code, 404, name);
    assert.equal(error.response?.raw?.headers.get("x-a"), null);
    if (error instanceof async.TooManyRedirectsError) {
      assert.deepEqual(error.history.map((h) => h.status_code), [404]);
    }
    if (name === "JSONDecodeError") assert.equal((error as { doc?: string }).doc, "<html>");
  }
  // And end to end, a class the worker really throws.
  const big = thrown(() => requests.get(`${base}/bytes/4096`, { max_bytes: 1024 }));
  assert.ok(big instanceof async.ContentTooLargeError, String(big));
});

test("a worker that dies or stops answering mid-call fails the call, and the next call works", async () => {
  const result = await runScript(path.join(here, "_sync_dying_worker.ts"), 30_000, base);
  assert.ok(result !== null, "the script blocked (killed after 30 s)");
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.before, 200);
  for (const [name, path] of [["exit", "doom=exit"], ["spin", "doom=spin"]]) {
    const failed = report[name];
    assert.equal(failed.requestError, true, `${name}: ${JSON.stringify(failed)}`);
    assert.match(failed.message, /worker thread died or stopped answering/);
    assert.equal(failed.request.method, "GET");
    assert.match(failed.request.url, new RegExp(path));
    // The worker fails 0.2 s into the call, the server would answer at 5 s.
    assert.ok(failed.ms < 4000, `${name} took ${failed.ms} ms`);
  }
  assert.equal(report.afterExit, 200);
  assert.equal(report.afterSpin, 200);
  // A session outlives its worker: opened again in the new one, with its cookie and headers.
  assert.deepEqual(report.sessionHeaders, [["cookie", "sid=42"], ["x-kept", "yes"]]);
});

test("a sync Session with cache: true keeps a cache in its worker; an HttpCache is refused", () => {
  const session = new requests.Session({ cache: true });
  try {
    const url = `${base}/headers?cache-control=max-age%3D60&x-call=${crypto.randomUUID()}`;
    const first = session.get(url);
    const again = session.get(url);
    assert.equal(first.from_cache, false);
    assert.equal(first.cache_status, "requests; fwd=uri-miss; fwd-status=200; stored");
    assert.equal(again.from_cache, true);
    assert.match(again.cache_status ?? "", /^requests; hit; ttl=(58|59|60)$/);
    assert.equal(again.content, "headers");
  } finally {
    session.close();
  }
  assert.throws(
    () => requests.get(`${base}/get`, { cache: new async.HttpCache() }),
    /Cannot use an HttpCache as 'cache' with the sync API/,
  );
});
