// The blocking variant (sync.ts). A blocking call blocks this thread's event loop, so the test
// server runs in a child process (tests/_serve_child.ts), never in this one.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import * as requests from "../sync.ts";
import * as async from "../mod.ts";
import { closedPort, type Echo, header } from "./_server.ts";

const here = path.dirname(new URL(import.meta.url).pathname);
const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
let child: ChildProcess;
let base: string;
let refused: string;

/** The command that runs a TypeScript file on the current runtime. */
function command(script: string): [string, string[]] {
  return deno !== undefined ? [deno.execPath(), ["run", "-A", script]] : [process.execPath, [
    script,
  ]];
}

/** Spawns `script`; resolves with its exit code and output, or null when it outlives `ms`. */
function runScript(
  script: string,
  ms: number,
): Promise<{ code: number | null; stdout: string; stderr: string } | null> {
  const [cmd, args] = command(script);
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
  const [cmd, args] = command(path.join(here, "_serve_child.ts"));
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
      `console.log(r.status_code, r.reason, (r.json() as { path: string }).path);\n`,
  );
  try {
    const started = Date.now();
    const result = await runScript(script, 10_000);
    assert.ok(result !== null, "the script did not exit within 10 s");
    assert.equal(result.stdout, "200 OK /get\n", result.stderr);
    assert.equal(result.code, 0);
    assert.ok(Date.now() - started < 10_000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
