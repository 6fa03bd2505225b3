// CR, LF, NUL and other control characters in methods, header names and values, URLs, params,
// cookies and auth (undici CVE-2022-31150); `__proto__` keys in every object the module reads;
// and a polluted Object.prototype, which must change nothing that is sent.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../../mod.ts";
import { InvalidHeaderError, InvalidURLError, Response, Session } from "../../mod.ts";
import { failure, rejectsWith } from "../_fixtures.ts";
import { headerOf, ok, response, RUNTIME, type Scripted, scripted, type Seen } from "../_raw.ts";

let server: Scripted;

before(async () => {
  server = await scripted((seen, socket) => {
    if (seen.target === "/set-cookies") {
      socket.write(
        response("200 OK", [
          ["Set-Cookie", "__proto__=polluted; Path=/"],
          ["Set-Cookie", "constructor=x; Path=/"],
          ["Link", '</a>; rel="__proto__", </b>; rel="constructor"'],
          ["Content-Type", "application/json"],
          ["Content-Length", "39"],
        ], '{"__proto__":{"polluted":"yes"},"a":1}\n'),
      );
      return;
    }
    socket.write(ok("ok"));
  });
});

after(() => server.close());

/** Sends `run` and returns what the server saw (nothing, when it was refused first). */
async function sent(run: () => Promise<unknown>): Promise<Seen[]> {
  const start = server.seen.length;
  await run();
  return server.seen.slice(start);
}

/** The request line and header lines of a seen request are each one well-formed line. */
function assertWellFormed(seen: Seen): void {
  const lines = seen.head.split("\r\n");
  assert.match(lines[0], /^[A-Z]+ [\x21-\x7e]+ HTTP\/1\.1$/, JSON.stringify(lines[0]));
  for (const line of lines.slice(1)) {
    assert.match(line, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+: ?[^\r\n\0]*$/, JSON.stringify(line));
  }
  assert.equal(headerOf(seen, "x-injected"), null);
}

const METHODS = [
  "GET\r\nX-Injected: 1",
  "GET / HTTP/1.1\r\nHost: evil\r\n\r\n",
  "GET\n",
  "GET\0",
  "G ET",
  "GET\t",
  "",
  "GÉT",
  "(GET)",
  "GET:",
] as const;

for (const method of METHODS) {
  test(`method ${JSON.stringify(method)} is a TypeError before any connection`, async () => {
    const seen = await sent(() => rejectsWith(requests.request(method, server.url), TypeError));
    assert.equal(seen.length, 0);
  });
}

const BAD_HEADERS: [string, string][] = [
  ["X-A\r\nX-Injected", "1"],
  ["X-A\n", "1"],
  ["X-A\0", "1"],
  ["X A", "1"],
  ["X-A:", "1"],
  ["", "1"],
  ["X-É", "1"],
  ["X-A", "v\r\nX-Injected: 1"],
  ["X-A", "v\nX-Injected: 1"],
  ["X-A", "v\rX-Injected: 1"],
  ["X-A", "v\0"],
  ["X-A", "v\x01"],
  ["X-A", "v\x1b[31m"],
  ["X-A", "v\x7f"],
  ["Content-Type", "application/json\r\nX-Injected: 1"],
  ["Cookie", "a=b\r\nX-Injected: 1"],
  ["Host", "evil\r\nX-Injected: 1"],
];

for (const [name, value] of BAD_HEADERS) {
  test(`header ${JSON.stringify(name)}: ${JSON.stringify(value)} is refused in every form`, async () => {
    const forms: requests.HeaderInput[] = [{ [name]: value }, [[name, value]]];
    // A Headers object refuses CR, LF and NUL itself; other control characters get through it.
    try {
      forms.push(new Headers([[name, value]]));
    } catch { /* the platform refused it first */ }
    for (const headers of forms) {
      const seen = await sent(async () => {
        const error = await rejectsWith(
          requests.get(server.url, { headers }),
          InvalidHeaderError,
        );
        // The message names the header (escaped as JSON) but never shows the value.
        // deno-lint-ignore no-control-regex -- looking for control characters is the point
        assert.doesNotMatch(error.message, /[\r\n\0\x01\x1b\x7f]/);
        if (/^[A-Za-z-]+$/.test(name)) assert.doesNotMatch(error.message, /Injected|31m/);
      });
      assert.equal(seen.length, 0);
    }
  });
}

test("a header value with a tab, spaces and non-ASCII text is sent, on one line", async () => {
  const [seen] = await sent(() =>
    requests.get(server.url, { headers: { "X-A": "a\tb  c", "X-U": "é中" } })
  );
  assertWellFormed(seen);
  assert.equal(headerOf(seen, "x-a"), "a\tb  c");
});

const URLS = [
  "/a\r\nX-Injected: 1",
  "/a\nX-Injected:%201",
  "/?q=a\r\nX-Injected: 1",
  "/a b HTTP/1.1\r\nX-Injected: 1",
  "/a\0b",
  "/\t/",
  "/a#\r\nX-Injected: 1",
  "/%0d%0aX-Injected:%201",
] as const;

for (const path of URLS) {
  test(`URL path ${JSON.stringify(path)} is sent percent-encoded or refused`, async () => {
    let seen: Seen[] = [];
    try {
      seen = await sent(() => requests.get(`${server.url}${path}`));
    } catch (error) {
      assert.ok(error instanceof InvalidURLError, String(error));
      return;
    }
    assert.equal(seen.length, 1);
    assertWellFormed(seen[0]);
  });
}

for (
  const url of [
    "http://127.0.0.1\r\nX-Injected: 1/",
    "http://127.0.0.1\0.evil/",
    "http://127.0.0.1 /",
    "http://127.0.0.1%0d%0a/",
    "http://[127.0.0.1]/",
    "http:///",
  ]
) {
  test(`URL host ${JSON.stringify(url)} is refused or cleaned, never injected`, async () => {
    const error = await failure(requests.get(url, { timeout: 2 }));
    // WHATWG URL strips the CR and LF ("127.0.0.1X-Injected..." is then no valid host).
    assert.ok(error instanceof requests.RequestError, String(error));
  });
}

test("params, cookies and auth with CR, LF or NUL never reach the wire raw", async () => {
  const [seen] = await sent(() =>
    requests.get(server.url, {
      params: { "a\r\nX-Injected": "1\r\n2", "b\0": "\0" },
      auth: ["user\r\nX-Injected: 1", "pass\0word"],
    })
  );
  assertWellFormed(seen);
  assert.match(seen.target, /^\/\?a%0D%0AX-Injected=1%0D%0A2&b%00=%00$/);
  const refused = await sent(async () => {
    await rejectsWith(
      requests.get(server.url, { cookies: { a: "1\r\nX-Injected: 1" } }),
      InvalidHeaderError,
    );
    await rejectsWith(requests.get(server.url, { cookies: { "a\r\nb": "1" } }), TypeError);
    await rejectsWith(requests.get(server.url, { cookies: { a: "1; admin=true" } }), TypeError);
    await rejectsWith(
      requests.get(server.url, { auth: { bearer: "t\r\nX-Injected: 1" } }),
      TypeError,
    );
    await rejectsWith(
      requests.post(server.url, { files: { f: ["a.txt", "x", "text/plain\r\nX-Injected: 1"] } }),
      TypeError,
    );
  });
  assert.equal(refused.length, 0);
});

test("__proto__ keys in headers, params, data, cookies and json are plain names", async () => {
  const keyed = <T>(value: unknown): T =>
    JSON.parse(JSON.stringify(value).replace(/"KEY"/g, '"__proto__"'));
  const seen = await sent(async () => {
    await requests.post(server.url, {
      headers: keyed({ KEY: "h", "X-B": "2" }),
      params: keyed({ KEY: "p" }),
      data: keyed({ KEY: "d", e: "f" }),
      cookies: keyed({ KEY: "c" }),
    });
    await requests.post(server.url, { json: keyed({ KEY: { admin: true } }) });
    await requests.post(server.url, {
      data: keyed({ KEY: "field" }),
      files: keyed({ KEY: ["f.txt", "file"] }),
    });
  });
  // Node's fetch (undici) drops a header named __proto__ from the wire; Deno and Bun send it.
  assert.equal(headerOf(seen[0], "__proto__"), RUNTIME === "node" ? null : "h");
  assert.equal(headerOf(seen[0], "x-b"), "2");
  assert.equal(seen[0].target, "/?__proto__=p");
  assert.equal(new TextDecoder().decode(seen[0].body), "__proto__=d&e=f");
  assert.equal(headerOf(seen[0], "cookie"), "__proto__=c");
  assert.equal(new TextDecoder().decode(seen[1].body), '{"__proto__":{"admin":true}}');
  const multipart = new TextDecoder().decode(seen[2].body);
  assert.match(multipart, /name="__proto__"\r\n\r\nfield\r\n/);
  assert.match(multipart, /name="__proto__"; filename="f.txt"/);
  assert.equal(({} as Record<string, unknown>).admin, undefined);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
});

test("__proto__ in Set-Cookie, Link and JSON bodies stays data, never a prototype", async () => {
  const r = await requests.get(`${server.url}/set-cookies`);
  assert.equal(r.cookies["__proto__"], "polluted");
  assert.equal(r.cookies["constructor"], "x");
  assert.equal(r.links["__proto__"].url, "/a");
  const body = r.json() as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(body), Object.prototype);
  assert.deepEqual(Object.keys(body), ["__proto__", "a"]);
  await using session = new Session();
  await session.get(`${server.url}/set-cookies`);
  assert.equal(session.cookies.get("__proto__"), "polluted");
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const hand = new Response(200, "OK", "Set-Cookie: __proto__=x\r\nLink: </y>; rel=__proto__");
  assert.equal(hand.cookies["__proto__"], "x");
  assert.equal(hand.links["__proto__"].url, "/y");
});

/** Every option name, polluted with a value that would change the request if it were read. */
function pollutants(other: string): Record<string, unknown> {
  return {
    auth: ["mallory", "evil"],
    headers: { "X-Polluted": "1" },
    json: { polluted: true },
    data: "polluted=1",
    files: { polluted: ["p.txt", "p"] },
    params: { polluted: "1" },
    cookies: { polluted: "1" },
    max_redirects: 0,
    allow_redirects: false,
    timeout: 0.000001,
    total_timeout: 0.000001,
    stream: true,
    max_bytes: 0,
    proxies: { http: other },
    verify: false,
    cert: ["x", "y"],
    retries: 5,
    sensitive_headers: 1,
    progress: 1,
    signal: AbortSignal.abort(),
    fetch: () => new globalThis.Response("from a polluted fetch"),
    base_url: other,
    hooks: { request: [() => new Request(other)] },
    bearer: "polluted-token",
  };
}

async function withPollution<T>(keys: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
  const proto = Object.prototype as Record<string, unknown>;
  for (const [key, value] of Object.entries(keys)) proto[key] = value;
  try {
    return await run();
  } finally {
    for (const key of Object.keys(keys)) delete proto[key];
  }
}

test("a polluted Object.prototype changes nothing that is sent", {
  // Node's fetch (undici) itself reads a polluted Object.prototype.signal and aborts.
  skip: RUNTIME === "node" && "Node's fetch reads inherited RequestInit fields",
}, async () => {
  const other = await scripted((_seen, socket) => socket.write(ok("other")));
  try {
    const calls = async () => {
      const results: string[] = [];
      const one = await requests.get(`${server.url}/plain`);
      results.push(one.content);
      const two = await requests.post(`${server.url}/form`, { data: { a: "1" } });
      results.push(two.content);
      const three = await requests.get(`${server.url}/opts`, { timeout: 5, headers: {} });
      results.push(three.content);
      await using session = new Session({ headers: { "X-S": "1" } });
      results.push((await session.get(`${server.url}/session`)).content);
      return results;
    };
    const clean = await sent(calls);
    const polluted = await sent(() => withPollution(pollutants(other.url), calls));
    assert.equal(other.seen.length, 0, "a polluted proxy, base_url or hook was used");
    assert.equal(polluted.length, clean.length);
    for (let i = 0; i < clean.length; i++) {
      assert.equal(polluted[i].method, clean[i].method);
      assert.equal(polluted[i].target, clean[i].target);
      assert.deepEqual([...polluted[i].headers], [...clean[i].headers]);
      assert.deepEqual(polluted[i].body, clean[i].body);
    }
  } finally {
    await other.close();
  }
});
