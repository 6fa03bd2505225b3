// Secrets: passwords (in the URL, `auth`, a proxy URL, a session base_url), bearer tokens,
// cookies and API keys never appear in an error message, String(error), util.inspect(error),
// error.request, r.url or r.history; and URL credentials go to the host the URL names, never
// to one a different parser would see (requests CVE-2024-47081).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import * as requests from "../../mod.ts";
import { HTTPDigestAuth, RequestError, Session } from "../../mod.ts";
import { closedPort } from "../_server.ts";
import { failure } from "../_fixtures.ts";
import { headerOf, ok, redirect, response, type Scripted, scripted, type Seen } from "../_raw.ts";

/** Every secret the tests hand to the module; none may come back out. */
const SECRETS = [
  "hunter2-url-pass",
  "hunter2-auth-pass",
  "tok-bearer-7f3a",
  "cookie-value-9c1d",
  "api-key-55aa",
  "proxy-pass-31d",
  "digest-pass-b2",
  "query-token-e4",
] as const;
/** The same secrets as they would look base64- or percent-encoded. */
const ENCODED = SECRETS.flatMap((s) => [btoa(s).slice(0, 12), encodeURIComponent(s)]);

function assertClean(text: string, where: string): void {
  for (const secret of [...SECRETS, ...ENCODED]) {
    assert.ok(!text.includes(secret), `${where} shows ${JSON.stringify(secret)}: ${text}`);
  }
}

/** Asserts that no rendering of `error` shows a secret. */
function assertErrorClean(error: Error, deep = true): void {
  assert.ok(error instanceof RequestError || error instanceof TypeError, String(error));
  assertClean(error.message, "message");
  assertClean(String(error), "String(error)");
  if (error instanceof RequestError) {
    assertClean(error.request.url, "error.request.url");
    assertClean(JSON.stringify(error.request), "JSON of error.request");
    if (error.response !== undefined) {
      assertClean(error.response.url, "error.response.url");
      for (const past of error.response.history) assertClean(past.url, "error.response.history");
    }
  }
  // The cause chain is the runtime's; it never saw a secret that the module took out first.
  if (deep) assertClean(inspect(error, { depth: 10 }), "inspect(error)");
}

let server: Scripted;
let closed: number;

/**
 * `/loop` redirects to itself, `/500` fails, `/not-json` is HTML, `/big` is 2 MB, `/cut` is a
 * body cut short, `/silent` never answers, `/to-closed` redirects to a closed port, anything
 * else answers 200.
 */
before(async () => {
  closed = await closedPort();
  server = await scripted((seen, socket) => {
    switch (seen.target.split("?")[0]) {
      case "/loop":
        return void socket.write(redirect(302, "/loop"));
      case "/500":
        return void socket.write(response("500 Internal Server Error", [["Content-Length", "0"]]));
      case "/not-json":
        return void socket.write(ok("<html>nope</html>"));
      case "/big":
        return void socket.write(ok("x".repeat(2 << 20)));
      case "/cut":
        return void socket.end(response("200 OK", [["Content-Length", "100"]], "short"));
      case "/silent":
        return;
      case "/to-closed":
        return void socket.write(
          redirect(302, `http://user:hunter2-url-pass@127.0.0.1:${closed}/x`),
        );
      case "/to-ftp":
        return void socket.write(redirect(302, "ftp://user:hunter2-url-pass@127.0.0.1/"));
      default:
        return void socket.write(ok("ok"));
    }
  });
});

after(() => server.close());

/** The server's URL with the URL password in it. */
function withPassword(path: string, base = server.url): string {
  return base.replace("http://", "http://alice:hunter2-url-pass@") + path;
}

const HEADERS = {
  "X-Api-Key": "api-key-55aa",
  Cookie: "session=cookie-value-9c1d",
};

const FAILURES: [string, () => Promise<unknown>][] = [
  ["a refused connection", () => requests.get(withPassword("/", `http://127.0.0.1:${closed}`))],
  ["a timeout", () => requests.get(withPassword("/silent"), { timeout: 0.2 })],
  ["total_timeout", () => requests.get(withPassword("/silent"), { total_timeout: 0.2 })],
  ["a redirect loop", () => requests.get(withPassword("/loop"), { max_redirects: 3 })],
  ["a redirect to a closed port", () => requests.get(withPassword("/to-closed"))],
  ["a redirect to ftp:", () => requests.get(withPassword("/to-ftp"))],
  ["a body cut short", () => requests.get(withPassword("/cut"))],
  ["max_bytes", () => requests.get(withPassword("/big"), { max_bytes: 1024 })],
  ["a streamed max_bytes", async () => {
    const r = await requests.get(withPassword("/big"), { max_bytes: 1024, stream: true });
    await r.read();
  }],
  ["raise_for_status()", async () => (await requests.get(withPassword("/500"))).raise_for_status()],
  ["json()", async () => (await requests.get(withPassword("/not-json"))).json()],
  ["a non-http URL", () => requests.get("ftp://alice:hunter2-url-pass@127.0.0.1/")],
  ["an unparseable URL", () => requests.get("http://alice:hunter2-url-pass@exa mple/")],
  [
    "an unparseable URL with a bad port",
    () => requests.get("http://alice:hunter2-url-pass@h:99999/"),
  ],
  ["a URL that is only credentials", () => requests.get("http://alice:hunter2-url-pass@/")],
  ["a bad header", () =>
    requests.get(withPassword("/"), {
      headers: { Authorization: "Bearer tok-bearer-7f3a\r\nX-Injected: 1" },
    })],
  [
    "a bad cookie",
    () => requests.get(withPassword("/"), { cookies: { s: "cookie-value-9c1d\n" } }),
  ],
  [
    "a bad bearer token",
    () => requests.get(withPassword("/"), { auth: { bearer: "tok-bearer-7f3a\n" } }),
  ],
  ["an aborted signal", () =>
    requests.get(withPassword("/silent"), {
      signal: AbortSignal.timeout(100),
      headers: HEADERS,
    })],
];

for (const [name, run] of FAILURES) {
  test(`${name}: no secret in the error, its message, its request or its cause`, async () => {
    const error = await failure(run());
    if (error.name === "TimeoutError" && !(error instanceof RequestError)) {
      // An aborted signal rejects with the signal's own reason, which knows no URL.
      assertClean(inspect(error), "the signal's reason");
      return;
    }
    assertErrorClean(error);
  });
}

test("with auth, bearer, cookies and API keys: no secret in any error", async () => {
  const options: requests.RequestOptions[] = [
    { auth: ["alice", "hunter2-auth-pass"], headers: HEADERS },
    { auth: { bearer: "tok-bearer-7f3a" }, cookies: { s: "cookie-value-9c1d" } },
    { auth: new HTTPDigestAuth("alice", "digest-pass-b2") },
  ];
  for (const extra of options) {
    for (const path of ["/silent", "/loop", "/cut", "/big"]) {
      const error = await failure(
        requests.get(`${server.url}${path}`, { ...extra, timeout: 0.2, max_bytes: 1024 }),
      );
      assertErrorClean(error);
    }
  }
});

test("a secret query value is masked in messages (and kept in r.url, as sent)", async () => {
  const error = await failure(
    requests.get(`http://127.0.0.1:${closed}/?access_token=query-token-e4&page=2`),
  );
  assertErrorClean(error, false);
  assert.match(error.message, /access_token=\*\*\*&page=2/);
  const r = await requests.get(`${server.url}/?api_key=query-token-e4`);
  assert.equal(r.url, `${server.url}/?api_key=query-token-e4`);
});

test("proxy credentials never show in an error", async () => {
  const error = await failure(
    requests.get(`http://127.0.0.1:${closed}/`, {
      proxies: { http: `http://proxy-user:proxy-pass-31d@127.0.0.1:${closed}` },
      timeout: 2,
    }),
  );
  assertErrorClean(error);
  const bad = await failure(
    requests.get(`${server.url}/`, { proxies: { http: "socks5://u:proxy-pass-31d@127.0.0.1:1" } }),
  );
  assertErrorClean(bad);
});

test("a session's base_url credentials never show in an error", async () => {
  await using session = new Session({
    base_url: withPassword("/api/", `http://127.0.0.1:${closed}`),
  });
  assertErrorClean(await failure(session.get("items")));
  assertErrorClean(await failure(session.get("//evil.example/")));
});

test("r.url and every r.history[].url are free of URL credentials", async () => {
  const start = server.seen.length;
  const r = await requests.get(withPassword("/loop"), { max_redirects: 3 }).catch((e) => e);
  assertErrorClean(r);
  const seen = server.seen.slice(start);
  assert.equal(headerOf(seen[0], "authorization"), `Basic ${btoa("alice:hunter2-url-pass")}`);
  const okay = await requests.get(withPassword("/fine"));
  assert.equal(okay.url, `${server.url}/fine`);
  assertClean(okay.url, "r.url");
  assertClean(String(okay), "String(r)");
  for (const past of r.history) assertClean(past.url, "history");
});

/**
 * URLs where credentials sit next to a second host: WHATWG URL decides which host they belong
 * to, and the module sends them there alone.
 */
test("URL credentials go only to the host the URL names", async () => {
  const decoy = await scripted((_seen, socket) => socket.write(ok("decoy")));
  try {
    const cases: [string, "server" | "decoy" | "refused", string | null][] = [
      [`http://u:p@127.0.0.1:${server.port}\\@127.0.0.1:${decoy.port}/`, "server", "u:p"],
      [`http://u:p@127.0.0.1:${server.port}#@127.0.0.1:${decoy.port}/`, "server", "u:p"],
      [`http://u:p@127.0.0.1:${server.port}?@127.0.0.1:${decoy.port}/`, "server", "u:p"],
      [
        `http://127.0.0.1:${server.port}:@127.0.0.1:${decoy.port}/`,
        "decoy",
        `127.0.0.1:${server.port}:`,
      ],
      [
        `http://u@127.0.0.1:${server.port}@127.0.0.1:${decoy.port}/`,
        "decoy",
        `u@127.0.0.1:${server.port}`,
      ],
      [`http://u:p%40x@127.0.0.1:${server.port}/`, "server", "u:p@x"],
    ];
    for (const [url, where, credentials] of cases) {
      const parsed = new URL(url);
      assert.equal(parsed.hostname, "127.0.0.1");
      const before = [server.seen.length, decoy.seen.length];
      const r = await requests.get(url);
      const [seenServer, seenDecoy] = [server.seen.slice(before[0]), decoy.seen.slice(before[1])];
      const target: Seen = where === "server" ? seenServer[0] : seenDecoy[0];
      assert.equal((where === "server" ? seenDecoy : seenServer).length, 0, url);
      assert.equal(r.content, where === "server" ? "ok" : "decoy", url);
      assert.equal(
        headerOf(target, "authorization"),
        credentials === null ? null : `Basic ${btoa(credentials)}`,
        url,
      );
      const final = new URL(r.url);
      assert.equal(final.username + final.password, "", r.url);
    }
  } finally {
    await decoy.close();
  }
});
