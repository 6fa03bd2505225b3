// Redirects: the module's own redirect loop (history, method and body rewriting, header
// stripping, Location decoding, the fragment) at in-process servers, and hostile redirects at
// scripted raw servers: loops, Locations to other schemes or hosts, credentials in a Location,
// https -> http downgrades, A -> B -> A hops, and 303 after a JSON POST. The hostile checklist:
// requests CVE-2018-18074, urllib3 CVE-2023-43804 / CVE-2023-45803 / CVE-2025-50181,
// undici CVE-2022-31151, node-fetch CVE-2022-0235, axios CVE-2025-58754 (data: URLs).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../mod.ts";
import { InvalidURLError, Session, TooManyRedirectsError } from "../mod.ts";
import {
  type Echo,
  header,
  type HeaderLine,
  headerOf,
  ok,
  rawServer,
  redirect,
  response,
  RUNTIME,
  type Scripted,
  scripted,
  type Seen,
  serve,
  sized,
  type TestServer,
} from "./_server.ts";
import { rejectsWith } from "./_fixtures.ts";
import { type TlsServer, tlsServer } from "./_tls.ts";

/** In-process echo servers (the routes of tests/_server.ts), two origins. */
let a: TestServer;
let b: TestServer;
/** Scripted raw servers (the routes of `route()` below), two origins. */
let sa: Scripted;
let sb: Scripted;
before(async () => {
  a = await serve();
  b = await serve();
});
after(async () => {
  await a.close();
  await b.close();
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

test("a call's sensitive_headers add to its session's: the session's stay masked and at home", async () => {
  await using s = new Session({ headers: { "X-API-Key": "k" }, sensitive_headers: ["X-API-Key"] });
  for (const sensitive_headers of [["X-Call-Key"], null]) {
    const r = await s.get(to(a, `${b.url}/echo`), {
      headers: { "X-Call-Key": "c" },
      sensitive_headers,
    });
    const label = JSON.stringify(sensitive_headers);
    assert.equal(header(r.json() as Echo, "x-api-key"), null, label);
    assert.equal(r.history[0].request.headers["x-api-key"], "***", label);
    const callKey = sensitive_headers === null ? "c" : null;
    assert.equal(header(r.json() as Echo, "x-call-key"), callKey, label);
  }
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

test("another name for the same host and port (localhost for 127.0.0.1) is another origin", async () => {
  const port = Number(new URL(a.url).port);
  const other = `http://localhost:${port}/echo`;
  const r = await requests.get(to(a, other), { auth: ["u", "p"] });
  assert.equal(header(r.json() as Echo, "authorization"), null);
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
    const close: HeaderLine = ["Connection", "close"];
    if (path === "/utf8") socket.end(redirect("302 Found", "/\u0161", [close]));
    else if (path === "/latin1") socket.end(redirect("302 Found", "/\xe9", [close], "latin1"));
    else socket.end(sized("200 OK", [close], path));
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

// ---------------------------------------------------------------------------------------------
// Hostile redirects, at scripted raw servers

/**
 * Routes of both servers: `/r/<status>/<Location, URI-encoded>` and `/b64/<Location, base64>`
 * redirect, `/cookie/<Location>`
 * sets a cookie and redirects with 302, anything else answers 200 "landed".
 */
function route(seen: Seen, socket: import("node:net").Socket): void {
  const parts = seen.target.split("/");
  if (parts[1] === "r") {
    socket.write(redirect(Number(parts[2]), decodeURIComponent(parts.slice(3).join("/"))));
  } else if (parts[1] === "b64") {
    // The Location in base64, so that the first URL does not itself hold the secrets.
    socket.write(redirect(302, atob(decodeURIComponent(parts[2]))));
  } else if (parts[1] === "cookie") {
    socket.write(
      response("302 Found", [
        ["Set-Cookie", "sid=s3cret-session; Path=/"],
        ["Location", decodeURIComponent(parts.slice(2).join("/"))],
        ["Content-Length", "0"],
      ]),
    );
  } else {
    socket.write(ok("landed"));
  }
}

let tls: TlsServer;

before(async () => {
  sa = await scripted(route);
  sb = await scripted(route);
  tls = await tlsServer((req, res) => {
    const location = decodeURIComponent((req.url ?? "/").slice(1));
    res.writeHead(302, { location, "content-length": "0" });
    res.end();
  });
});

after(async () => {
  await sa.close();
  await sb.close();
  await tls.close();
});

/** `/r/<status>/<location>` on `server`. */
function hop(server: { url: string }, status: number, location: string): string {
  return `${server.url}/r/${status}/${encodeURIComponent(location)}`;
}

/** The requests `server` saw during `run`. */
async function seenDuring(server: Scripted, run: () => Promise<unknown>): Promise<Seen[]> {
  const start = server.seen.length;
  await run();
  return server.seen.slice(start);
}

/** Credentials of every kind, to check what reaches the other side. */
const SECRETS: requests.RequestOptions = {
  auth: ["alice", "pa55word"],
  cookies: { sid: "cookie-secret" },
  headers: { "X-Api-Key": "key-secret", "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0" },
  sensitive_headers: ["X-Api-Key"],
};

function assertNoCredentials(seen: Seen): void {
  for (const name of ["authorization", "proxy-authorization", "cookie", "x-api-key"]) {
    assert.equal(headerOf(seen, name), null, `${name} reached ${seen.target}`);
  }
  assert.doesNotMatch(seen.head, /secret|pa55word|YWxpY2U6cGE1NXdvcmQ/i);
}

test("a redirect loop ends with TooManyRedirectsError after max_redirects + 1 requests", async () => {
  for (const max of [0, 1, 5, 30]) {
    const seen = await seenDuring(sa, async () => {
      const error = await rejectsWith(
        requests.get(hop(sa, 302, "/r/302/loop"), { max_redirects: max }),
        TooManyRedirectsError,
      );
      assert.equal(error.history.length, max + 1);
      assert.match(error.message, new RegExp(`^Exceeded ${max} redirects`));
    });
    assert.equal(seen.length, max + 1);
  }
});

test("a loop between two origins ends too, and credentials never cross it", async () => {
  const aUrl = `${sa.url}/r/302/${encodeURIComponent(`${sb.url}/r/302/`)}`;
  // A -> B -> A ... with the Location of B pointing back at A's first URL.
  const there = hop(sb, 302, aUrl);
  const seenB = await seenDuring(sb, async () => {
    await rejectsWith(
      requests.get(hop(sa, 302, there), { ...SECRETS, max_redirects: 6 }),
      TooManyRedirectsError,
    );
  });
  assert.ok(seenB.length >= 1);
  for (const seen of seenB) assertNoCredentials(seen);
});

test("max_redirects: 0 and allow_redirects: false never touch the Location", async () => {
  const target = `${sb.url}/never`;
  const seen = await seenDuring(sb, async () => {
    await rejectsWith(
      requests.get(hop(sa, 302, target), { max_redirects: 0 }),
      TooManyRedirectsError,
    );
    const r = await requests.get(hop(sa, 302, target), { allow_redirects: false });
    assert.equal(r.status_code, 302);
    assert.equal(r.raw?.headers.get("location"), target);
    assert.equal(r.history.length, 0);
    const h = await requests.head(hop(sa, 301, target));
    assert.equal(h.status_code, 301);
  });
  assert.equal(seen.length, 0);
});

const REFUSED_LOCATIONS = [
  "file:///etc/passwd",
  "file://localhost/etc/shadow",
  "data:text/plain;base64,SGVsbG8=",
  `data:application/octet-stream,${"A".repeat(10_000)}`,
  "javascript:alert(document.cookie)",
  "unix:/var/run/docker.sock",
  "unix:///var/run/docker.sock:/containers/json",
  "ftp://127.0.0.1/",
  "gopher://127.0.0.1:70/_GET",
  "ws://127.0.0.1/",
  "blob:http://127.0.0.1/0",
  "about:blank",
  "mailto:a@b.c",
  "http://[::1",
  "http://exa mple/",
] as const;

for (const location of REFUSED_LOCATIONS) {
  test(`a Location to ${JSON.stringify(location.slice(0, 40))} is refused and never fetched`, async () => {
    const before = sa.seen.length;
    const error = await rejectsWith(
      requests.get(hop(sa, 302, location), SECRETS),
      InvalidURLError,
    );
    assert.match(error.message, /^Redirect refused: Location /);
    assert.equal(sa.seen.length, before + 1);
  });
}

for (
  const [name, location] of [
    ["//host", (port: number) => `//127.0.0.1:${port}/landing`],
    ["\\\\host", (port: number) => `\\\\127.0.0.1:${port}/landing`],
    ["/\\host", (port: number) => `/\\127.0.0.1:${port}/landing`],
    ["http:\\\\host", (port: number) => `http:\\\\127.0.0.1:${port}/landing`],
  ] as const
) {
  test(`a ${name} Location is another origin: followed without credentials`, async () => {
    const seen = await seenDuring(sb, async () => {
      const r = await requests.get(hop(sa, 302, location(sb.port)), SECRETS);
      assert.equal(r.content, "landed");
      assert.equal(r.url, `${sb.url}/landing`);
    });
    assert.equal(seen.length, 1);
    assertNoCredentials(seen[0]);
  });
}

test("credentials in a cross-origin Location are neither used nor shown", async () => {
  const location = `http://mallory:stolen-pw@127.0.0.1:${sb.port}/landing`;
  const seen = await seenDuring(sb, async () => {
    const r = await requests.get(`${sa.url}/b64/${encodeURIComponent(btoa(location))}`, SECRETS);
    assert.equal(r.url, `${sb.url}/landing`);
    for (const past of r.history) assert.doesNotMatch(past.url, /stolen|mallory|pa55word/);
  });
  assertNoCredentials(seen[0]);
  assert.doesNotMatch(seen[0].head, /stolen|mallory|bWFsbG9yeT/);
});

test("credentials in a same-origin Location do not replace the caller's", async () => {
  const location = `http://mallory:stolen-pw@127.0.0.1:${sa.port}/landing`;
  const seen = await seenDuring(sa, async () => {
    const r = await requests.get(hop(sa, 302, location), { auth: ["alice", "pa55word"] });
    assert.equal(r.url, `${sa.url}/landing`);
  });
  assert.equal(headerOf(seen[1], "authorization"), `Basic ${btoa("alice:pa55word")}`);
});

test("A -> B -> A: what was stripped for B stays stripped back on A", async () => {
  const back = `${sa.url}/back-home`;
  const seenA = await seenDuring(sa, async () => {
    const r = await requests.get(hop(sa, 302, hop(sb, 307, back)), SECRETS);
    assert.equal(r.content, "landed");
    assert.equal(r.history.length, 2);
  });
  assert.equal(seenA.length, 2);
  assert.equal(headerOf(seenA[0], "authorization"), `Basic ${btoa("alice:pa55word")}`);
  assert.equal(headerOf(seenA[0], "x-api-key"), "key-secret");
  assert.equal(seenA[1].target, "/back-home");
  assertNoCredentials(seenA[1]);
});

test("A -> B -> A in a Session: a cookie set by A is not sent to B", async () => {
  await using session = new Session({ auth: ["alice", "pa55word"] });
  // B is reached as "localhost": cookies are per host, not per port (RFC 6265).
  const onB = `http://localhost:${sb.port}/r/302/${encodeURIComponent(`${sa.url}/home`)}`;
  const seenB = await seenDuring(sb, async () => {
    const seenA = await seenDuring(sa, async () => {
      const r = await session.get(`${sa.url}/cookie/${encodeURIComponent(onB)}`);
      assert.equal(r.content, "landed");
    });
    assert.equal(headerOf(seenA[1], "cookie"), "sid=s3cret-session");
    assert.equal(headerOf(seenA[1], "authorization"), null);
  });
  assertNoCredentials(seenB[0]);
});

test("https -> http on another port drops every credential (real TLS)", {
  skip: RUNTIME === "node" && "Node's fetch has no 'verify' (the same-host test covers the rule)",
}, async () => {
  const seen = await seenDuring(sb, async () => {
    const start = `${tls.url}/${encodeURIComponent(`${sb.url}/downgraded`)}`;
    const r = await requests.get(start, { ...SECRETS, verify: tls.ca });
    assert.equal(r.content, "landed");
    assert.equal(r.history[0].url, start);
  });
  assertNoCredentials(seen[0]);
});

test("https -> http on the same host and port drops every credential", async () => {
  const seen: Request[] = [];
  const fetch = (req: Request) => {
    seen.push(req);
    return req.url.startsWith("https:")
      ? new Response(null, { status: 302, headers: { location: "http://example.test:8443/x" } })
      : new Response("plain");
  };
  const r = await requests.get("https://example.test:8443/start", { ...SECRETS, fetch });
  assert.equal(r.content, "plain");
  assert.equal(seen.length, 2);
  assert.equal(seen[0].headers.get("authorization"), `Basic ${btoa("alice:pa55word")}`);
  for (const name of ["authorization", "proxy-authorization", "cookie", "x-api-key"]) {
    assert.equal(seen[1].headers.get(name), null, name);
  }
});

test("https -> http in a Session: Secure cookies and session auth stay behind", async () => {
  const fetch = (req: Request) => {
    const url = new URL(req.url);
    if (url.protocol === "https:" && url.pathname === "/login") {
      return new Response(null, {
        status: 302,
        headers: [
          ["set-cookie", "secure-sid=top; Secure; Path=/"],
          ["location", "http://example.test/plain"],
        ],
      });
    }
    return Response.json({
      cookie: req.headers.get("cookie"),
      authorization: req.headers.get("authorization"),
    });
  };
  await using session = new Session({ fetch, auth: { bearer: "t0ken" } });
  const r = await session.get("https://example.test/login");
  assert.deepEqual(r.json(), { cookie: null, authorization: null });
});

for (const status of [301, 302, 303] as const) {
  test(`${status} after a JSON POST sends a GET with no body and no Content-Type`, async () => {
    const seen = await seenDuring(sb, async () => {
      const r = await requests.post(hop(sa, status, `${sb.url}/after-post`), {
        json: { transfer: 1_000_000, to: "mallory" },
      });
      assert.equal(r.content, "landed");
    });
    assert.equal(seen[0].method, "GET");
    assert.equal(seen[0].body.byteLength, 0);
    for (const name of ["content-type", "transfer-encoding", "content-encoding"]) {
      assert.equal(headerOf(seen[0], name), null, name);
    }
    assert.ok([null, "0"].includes(headerOf(seen[0], "content-length")));
  });
}

test("303 after PUT with a form body drops it too; 307 and 308 keep body and type", async () => {
  const seen = await seenDuring(sb, async () => {
    await requests.put(hop(sa, 303, `${sb.url}/303`), { data: { a: "1" } });
    await requests.post(hop(sa, 307, `${sb.url}/307`), { json: { keep: true } });
    await requests.post(hop(sa, 308, `${sb.url}/308`), { json: { keep: true } });
  });
  assert.equal(seen[0].method, "GET");
  assert.equal(seen[0].body.byteLength, 0);
  assert.equal(headerOf(seen[0], "content-type"), null);
  for (const kept of seen.slice(1)) {
    assert.equal(kept.method, "POST");
    assert.equal(new TextDecoder().decode(kept.body), '{"keep":true}');
    assert.equal(headerOf(kept, "content-type"), "application/json");
  }
});

test("a redirect with a huge body is not read", async () => {
  const big = await scripted((_seen, socket) => {
    socket.write(
      response("302 Found", [["Location", `${sb.url}/small`], ["Content-Length", "1073741824"]]),
    );
    socket.write("x".repeat(65536));
  });
  try {
    const r = await requests.get(big.url, { timeout: 5 });
    assert.equal(r.content, "landed");
  } finally {
    await big.close();
  }
});
