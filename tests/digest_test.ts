import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { md5 } from "../src/_md5.ts";
import { digestAuthorization, type DigestChallenge, parseDigestChallenge } from "../src/_digest.ts";
import { HTTPDigestAuth } from "../src/digest_auth.ts";

const encoder = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The expected digest hash, computed independently with node:crypto. */
function h(algorithm: string, text: string): string {
  return createHash(algorithm.startsWith("SHA-256") ? "sha256" : "md5").update(text, "utf8")
    .digest("hex");
}

/** The parameters of a Digest Authorization header, unquoted. */
function authParams(header: string): Record<string, string> {
  assert.match(header, /^Digest /);
  const params: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([\w*]+)=("(?:[^"\\]|\\.)*"|[^,\s]*)/g)) {
    params[m[1]] = m[2].startsWith('"') ? m[2].slice(1, -1).replace(/\\(.)/g, "$1") : m[2];
  }
  return params;
}

function challengeOf(header: string): DigestChallenge {
  const challenge = parseDigestChallenge(header);
  assert.ok(challenge, `expected a challenge in ${header}`);
  return challenge;
}

const RFC1321_VECTORS = [
  ["", "d41d8cd98f00b204e9800998ecf8427e"],
  ["a", "0cc175b9c0f1b6a831c399e269772661"],
  ["abc", "900150983cd24fb0d6963f7d28e17f72"],
  ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
  ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
  [
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "d174ab98d277d9f5a5611c2c9f419d9f",
  ],
  [
    "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
    "57edf4a22be3c955ac49da2e2107b67a",
  ],
] as const;

test("md5() matches the RFC 1321 appendix A.5 test suite", () => {
  for (const [input, expected] of RFC1321_VECTORS) {
    assert.equal(hex(md5(encoder.encode(input))), expected, `md5("${input}")`);
  }
});

test("md5() matches node:crypto around every padding boundary", () => {
  const bytes = new Uint8Array(randomBytes(200));
  for (let length = 0; length <= 200; length++) {
    const input = bytes.subarray(0, length);
    assert.equal(
      hex(md5(input)),
      createHash("md5").update(input).digest("hex"),
      `length ${length}`,
    );
  }
});

test("md5() matches node:crypto on a 1 MB input", () => {
  const input = new Uint8Array(randomBytes(1024 * 1024 + 7));
  assert.equal(hex(md5(input)), createHash("md5").update(input).digest("hex"));
});

test("parseDigestChallenge() finds Digest among several challenges with quoted commas and quotes", () => {
  const challenge = parseDigestChallenge(
    'Negotiate YIIabc==, Basic realm="Digest realm=\\"evil\\", nonce=x", ' +
      'Bearer abc.def, DIGEST Realm="a \\"quoted\\", realm", NONCE="n,1", ' +
      'qop="auth-int, auth", Algorithm=sha-256-SESS, opaque="o\\\\p", stale=TRUE, userhash=true, ' +
      'domain="/a /b", Basic realm="later"',
  );
  assert.deepEqual(challenge, {
    realm: 'a "quoted", realm',
    nonce: "n,1",
    opaque: "o\\p",
    algorithm: "SHA-256-sess",
    qop: ["auth-int", "auth"],
    stale: true,
    userhash: true,
  });
});

test("parseDigestChallenge() defaults to MD5 without qop, opaque, stale or userhash", () => {
  assert.deepEqual(parseDigestChallenge('Digest realm="r", nonce=abc'), {
    realm: "r",
    nonce: "abc",
    opaque: null,
    algorithm: "MD5",
    qop: [],
    stale: false,
    userhash: false,
  });
});

test("parseDigestChallenge() skips an unanswerable Digest challenge for the next one", () => {
  const challenge = parseDigestChallenge(
    'Digest realm="r", nonce="a", algorithm=SHA-512-256, qop="auth", ' +
      'Digest realm="r", nonce="b", algorithm=SHA-256, qop="auth"',
  );
  assert.equal(challenge?.nonce, "b");
  assert.equal(challenge?.algorithm, "SHA-256");
});

const UNANSWERABLE = [
  ["an empty header", ""],
  ["only Basic", 'Basic realm="r"'],
  ["a missing nonce", 'Digest realm="r", qop="auth"'],
  ["a missing realm", 'Digest nonce="n", qop="auth"'],
  ["an unsupported algorithm", 'Digest realm="r", nonce="n", algorithm=SHA-512-256'],
  ["only auth-int", 'Digest realm="r", nonce="n", qop="auth-int"'],
  ["an unknown qop", 'Digest realm="r", nonce="n", qop="auth-conf"'],
  ["-sess without qop", 'Digest realm="r", nonce="n", algorithm=MD5-sess'],
  ["Digest only inside a quoted value", 'Basic realm="Digest realm=\\"r\\", nonce=\\"n\\""'],
] as const;

test("parseDigestChallenge() returns null for a challenge it cannot answer", () => {
  for (const [what, header] of UNANSWERABLE) {
    assert.equal(parseDigestChallenge(header), null, what);
  }
});

const RFC7616_CHALLENGE = (algorithm: string) =>
  `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, ` +
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';

const RFC7616_REQUEST = {
  username: "Mufasa",
  password: "Circle of Life",
  method: "GET",
  uri: "/dir/index.html",
  nc: 1,
  cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
} as const;

test("digestAuthorization() matches the RFC 7616 MD5 example", async () => {
  const header = await digestAuthorization(challengeOf(RFC7616_CHALLENGE("MD5")), RFC7616_REQUEST);
  assert.equal(
    header,
    'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", ' +
      'algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ' +
      'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
      'response="8ca523f5e9506fed4657c9700eebdbec", ' +
      'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  );
});

test("digestAuthorization() matches the RFC 7616 SHA-256 example", async () => {
  const header = await digestAuthorization(
    challengeOf(RFC7616_CHALLENGE("SHA-256")),
    RFC7616_REQUEST,
  );
  assert.equal(
    header,
    'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", ' +
      'algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ' +
      'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
      'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ' +
      'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  );
});

test("digestAuthorization() matches the RFC 2617 section 3.5 example", async () => {
  const challenge = challengeOf(
    'Digest realm="testrealm@host.com", qop="auth,auth-int", ' +
      'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  const params = authParams(
    await digestAuthorization(challenge, {
      username: "Mufasa",
      password: "Circle Of Life",
      method: "GET",
      uri: "/dir/index.html",
      nc: 1,
      cnonce: "0a4f113b",
    }),
  );
  assert.equal(params.response, "6629fae49393a05397450978507c4ef1");
  assert.equal(params.nc, "00000001");
  assert.equal(params.qop, "auth");
  assert.equal(params.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
});

test("digestAuthorization() uses the RFC 2069 form when the challenge has no qop", async () => {
  const nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
  const header = await digestAuthorization(
    challengeOf(`Digest realm="testrealm@host.com", nonce="${nonce}"`),
    { username: "Mufasa", password: "CircleOfLife", method: "GET", uri: "/dir/index.html", nc: 1 },
  );
  const ha1 = h("MD5", "Mufasa:testrealm@host.com:CircleOfLife");
  const ha2 = h("MD5", "GET:/dir/index.html");
  assert.equal(
    header,
    'Digest username="Mufasa", realm="testrealm@host.com", uri="/dir/index.html", ' +
      `algorithm=MD5, nonce="${nonce}", response="${h("MD5", `${ha1}:${nonce}:${ha2}`)}"`,
  );
});

test("digestAuthorization() hashes the session key for the -sess algorithms", async () => {
  for (const algorithm of ["MD5-sess", "SHA-256-sess"] as const) {
    const challenge = challengeOf(`Digest realm="r", nonce="n", qop=auth, algorithm=${algorithm}`);
    const params = authParams(
      await digestAuthorization(challenge, {
        username: "u",
        password: "p",
        method: "POST",
        uri: "/x?y=1",
        nc: 10,
        cnonce: "c",
      }),
    );
    const ha1 = h(algorithm, `${h(algorithm, "u:r:p")}:n:c`);
    const expected = h(algorithm, `${ha1}:n:0000000a:c:auth:${h(algorithm, "POST:/x?y=1")}`);
    assert.equal(params.algorithm, algorithm);
    assert.equal(params.nc, "0000000a");
    assert.equal(params.response, expected, algorithm);
  }
});

test("digestAuthorization() sends a hashed username when the challenge asks for userhash", async () => {
  const challenge = challengeOf(
    'Digest realm="api@example.org", nonce="n", qop=auth, algorithm=SHA-256, userhash=true',
  );
  const params = authParams(
    await digestAuthorization(challenge, {
      username: "Jäsøn Doe",
      password: "Secret, or not?",
      method: "GET",
      uri: "/doe.json",
      nc: 1,
      cnonce: "c",
    }),
  );
  assert.equal(params.username, h("SHA-256", "Jäsøn Doe:api@example.org"));
  assert.equal(params.userhash, "true");
  const ha1 = h("SHA-256", "Jäsøn Doe:api@example.org:Secret, or not?");
  const expected = h("SHA-256", `${ha1}:n:00000001:c:auth:${h("SHA-256", "GET:/doe.json")}`);
  assert.equal(params.response, expected);
});

test("digestAuthorization() sends a non-ASCII username as username*", async () => {
  const header = await digestAuthorization(challengeOf('Digest realm="r", nonce="n", qop=auth'), {
    username: "Jäsøn Doe (it's me)",
    password: "p",
    method: "GET",
    uri: "/",
    nc: 1,
  });
  assert.match(header, /^Digest username\*=UTF-8''J%C3%A4s%C3%B8n%20Doe%20%28it%27s%20me%29, /);
  assert.doesNotMatch(header, /username="/);
});

test("digestAuthorization() escapes quotes and backslashes in quoted values", async () => {
  const header = await digestAuthorization(
    challengeOf('Digest realm="say \\"hi\\" \\\\ bye", nonce="n", qop=auth'),
    { username: 'a"b\\c', password: "p", method: "GET", uri: "/", nc: 1, cnonce: "c" },
  );
  assert.match(header, /^Digest username="a\\"b\\\\c", realm="say \\"hi\\" \\\\ bye", /);
  const params = authParams(header);
  assert.equal(params.username, 'a"b\\c');
  const ha1 = h("MD5", 'a"b\\c:say "hi" \\ bye:p');
  assert.equal(params.response, h("MD5", `${ha1}:n:00000001:c:auth:${h("MD5", "GET:/")}`));
});

test("digestAuthorization() makes a fresh random 16-byte cnonce when none is given", async () => {
  const challenge = challengeOf('Digest realm="r", nonce="n", qop=auth');
  const request = { username: "u", password: "p", method: "GET", uri: "/", nc: 1 };
  const first = authParams(await digestAuthorization(challenge, request)).cnonce;
  const second = authParams(await digestAuthorization(challenge, request)).cnonce;
  assert.match(first, /^[0-9a-f]{32}$/);
  assert.notEqual(first, second);
});

test("digestAuthorization() rejects a nonce count outside 1 to 0xffffffff", async () => {
  const challenge = challengeOf('Digest realm="r", nonce="n", qop=auth');
  for (const nc of [0, -1, 1.5, 0x100000000]) {
    await assert.rejects(
      digestAuthorization(challenge, { username: "u", password: "p", method: "GET", uri: "/", nc }),
      RangeError,
    );
  }
});

test("HTTPDigestAuth.authorize() counts nonce uses per origin across requests", async () => {
  const auth = new HTTPDigestAuth("u", "p");
  const a = new URL("http://a.example/one?q=1");
  const b = new URL("http://b.example/");
  assert.equal(await auth.authorize("GET", a), null);
  assert.equal(auth.challenge(a, 'Digest realm="r", nonce="na", qop=auth'), true);
  assert.equal(await auth.authorize("GET", b), null);

  const first = authParams((await auth.authorize("GET", a)) ?? "");
  const second = authParams((await auth.authorize("POST", new URL("http://a.example/two"))) ?? "");
  assert.equal(first.nc, "00000001");
  assert.equal(first.uri, "/one?q=1");
  assert.equal(second.nc, "00000002");
  assert.equal(second.uri, "/two");
  const ha1 = h("MD5", "u:r:p");
  const expected = h("MD5", `${ha1}:na:00000002:${second.cnonce}:auth:${h("MD5", "POST:/two")}`);
  assert.equal(second.response, expected);

  assert.equal(auth.challenge(b, 'Digest realm="r", nonce="nb", qop=auth'), true);
  assert.equal(authParams((await auth.authorize("GET", b)) ?? "").nc, "00000001");
  assert.equal(authParams((await auth.authorize("GET", a)) ?? "").nc, "00000003");
});

test("HTTPDigestAuth.challenge() refuses a nonce that already failed and accepts a stale one", async () => {
  const auth = new HTTPDigestAuth("u", "p");
  const url = new URL("http://example.org/");
  const header = 'Digest realm="r", nonce="n1", qop=auth';
  assert.equal(auth.challenge(url, header), true);
  assert.equal(auth.challenge(url, header), true, "a repeat before any use is not a failure");
  assert.equal(authParams((await auth.authorize("GET", url)) ?? "").nc, "00000001");
  assert.equal(auth.challenge(url, header), false);
  assert.equal(auth.challenge(url, 'Digest realm="r", nonce="n2", qop=auth, stale=true'), true);
  const retry = authParams((await auth.authorize("GET", url)) ?? "");
  assert.equal(retry.nonce, "n2");
  assert.equal(retry.nc, "00000001");
});

test("HTTPDigestAuth.challenge() returns false without a usable Digest challenge", () => {
  const auth = new HTTPDigestAuth("u", "p");
  const url = new URL("http://example.org/");
  assert.equal(auth.challenge(url, null), false);
  assert.equal(auth.challenge(url, 'Basic realm="r"'), false);
  assert.equal(auth.challenge(url, 'Digest realm="r", nonce="n", qop="auth-int"'), false);
});

test("HTTPDigestAuth() throws a TypeError naming a non-string argument", () => {
  const construct = (username: unknown, password: unknown) =>
    new HTTPDigestAuth(username as string, password as string);
  assert.throws(() => construct(1, "p"), { name: "TypeError", message: /'username'/ });
  assert.throws(() => construct("u", null), { name: "TypeError", message: /'password'/ });
});

test("HTTPDigestAuth never shows the password when printed or serialized", () => {
  const auth = new HTTPDigestAuth("user", "hunter2-secret");
  const runtime = globalThis as {
    Deno?: { inspect(value: unknown): string };
    Bun?: { inspect(value: unknown): string };
  };
  const shown = [
    String(auth),
    JSON.stringify(auth),
    JSON.stringify({ auth }),
    inspect(auth),
    inspect({ nested: [auth] }),
    runtime.Deno?.inspect(auth) ?? "",
    runtime.Bun?.inspect(auth) ?? "",
  ];
  assert.equal(shown[0], "HTTPDigestAuth(user)");
  assert.equal(shown[1], '{"username":"user"}');
  assert.equal(shown[3], "HTTPDigestAuth(user)");
  if (runtime.Deno) assert.equal(shown[5], "HTTPDigestAuth(user)");
  if (runtime.Bun) assert.equal(shown[6], "HTTPDigestAuth(user)");
  for (const text of shown) assert.doesNotMatch(text, /hunter2/);
  assert.deepEqual(Object.keys(auth), ["username"]);
});

/** A server that checks Digest responses the way RFC 7616 servers do, with a fixed nonce. */
async function startDigestServer(): Promise<{
  origin: string;
  seen: { status: number; nc?: string }[];
  close(): Promise<void>;
}> {
  const realm = "test@127.0.0.1";
  const user = "user";
  const password = "pass word";
  // A nonce per algorithm, so switching paths reads as a new challenge to the client.
  const nonces: Record<string, string> = {
    "MD5": randomBytes(16).toString("hex"),
    "SHA-256": randomBytes(16).toString("hex"),
  };
  const opaque = randomBytes(8).toString("hex");
  const seen: { status: number; nc?: string }[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const algorithm = req.url?.startsWith("/sha256") ? "SHA-256" : "MD5";
    const nonce = nonces[algorithm];
    const fail = () => {
      seen.push({ status: 401 });
      res.writeHead(401, {
        "www-authenticate": `Basic realm="${realm}", Digest realm="${realm}", ` +
          `qop="auth, auth-int", algorithm=${algorithm}, nonce="${nonce}", opaque="${opaque}"`,
        connection: "close",
      });
      res.end("unauthorized");
    };
    const header = req.headers.authorization;
    if (!header) return fail();
    const p = authParams(header);
    const ha1 = h(algorithm, `${user}:${realm}:${password}`);
    const ha2 = h(algorithm, `${req.method}:${req.url}`);
    const expected = h(algorithm, `${ha1}:${nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    const valid = p.username === user && p.realm === realm && p.nonce === nonce &&
      p.uri === req.url && p.algorithm === algorithm && p.qop === "auth" &&
      p.opaque === opaque && /^[0-9a-f]{8}$/.test(p.nc) && p.response === expected;
    if (!valid) return fail();
    seen.push({ status: 200, nc: p.nc });
    res.writeHead(200, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify({ authenticated: true, user }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What request.ts is expected to do: one retry after a 401 whose challenge is new. */
async function fetchWithDigest(auth: HTTPDigestAuth, url: URL): Promise<Response> {
  const send = async () => {
    const authorization = await auth.authorize("GET", url);
    return fetch(url, { headers: authorization ? { authorization } : {} });
  };
  const response = await send();
  if (response.status !== 401) return response;
  if (!auth.challenge(url, response.headers.get("www-authenticate"))) return response;
  await response.body?.cancel();
  return send();
}

test("HTTPDigestAuth authenticates fetch() against a node:http Digest server", async () => {
  const server = await startDigestServer();
  try {
    const auth = new HTTPDigestAuth("user", "pass word");
    for (const path of ["/md5/a?x=1&y=%20", "/sha256/b"]) {
      const url = new URL(path, server.origin);
      server.seen.length = 0;
      const first = await fetchWithDigest(auth, url);
      assert.equal(first.status, 200, path);
      assert.deepEqual(await first.json(), { authenticated: true, user: "user" });
      assert.deepEqual(server.seen, [{ status: 401 }, { status: 200, nc: "00000001" }]);

      server.seen.length = 0;
      const second = await fetchWithDigest(auth, url);
      await second.body?.cancel();
      assert.equal(second.status, 200);
      assert.deepEqual(server.seen, [{ status: 200, nc: "00000002" }], "pre-emptive");
    }

    server.seen.length = 0;
    const wrong = new HTTPDigestAuth("user", "wrong");
    const denied = await fetchWithDigest(wrong, new URL("/md5/a", server.origin));
    await denied.body?.cancel();
    assert.equal(denied.status, 401);
    assert.equal(
      wrong.challenge(new URL(server.origin), denied.headers.get("www-authenticate")),
      false,
    );
    assert.deepEqual(server.seen, [{ status: 401 }, { status: 401 }]);
  } finally {
    await server.close();
  }
});

/** Serves `handler` on loopback for `body`, which gets the origin; closed afterwards. */
async function withServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  body: (origin: string) => Promise<void>,
): Promise<void> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Whether `req` carries a valid MD5 qop=auth answer to `realm` and `nonce` for `user:password`. */
function answered(req: IncomingMessage, realm: string, nonce: string, password: string): boolean {
  const p = req.headers.authorization === undefined ? null : authParams(req.headers.authorization);
  if (p === null || p.realm !== realm) return false;
  const ha1 = h("MD5", `user:${realm}:${password}`);
  return p.response ===
    h("MD5", `${ha1}:${nonce}:${p.nc}:${p.cnonce}:auth:${h("MD5", `GET:${req.url}`)}`);
}

test("digest: a same-origin redirect that challenges again is answered, every 401 in history", async () => {
  const { Session } = await import("../mod.ts");
  const nonce = randomBytes(16).toString("hex");
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const realm = req.url === "/a" ? "first" : "second";
    if (!answered(req, realm, nonce, "pw")) {
      res.writeHead(401, {
        "www-authenticate": `Digest realm="${realm}", qop="auth", nonce="${nonce}"`,
      });
      return res.end("no");
    }
    if (req.url === "/a") {
      res.writeHead(302, { location: "/b" });
      return res.end();
    }
    res.end("in b");
  };
  await withServer(handler, async (origin) => {
    await using session = new Session({ auth: new HTTPDigestAuth("user", "pw") });
    const r = await session.get(`${origin}/a`);
    assert.equal(r.status_code, 200);
    assert.equal(r.content, "in b");
    assert.deepEqual(r.history.map((hop) => hop.status_code), [401, 302, 401]);
    assert.deepEqual(r.history.map((hop) => new URL(hop.url).pathname), ["/a", "/a", "/b"]);
    assert.equal(r.history[1].request.headers.authorization, "***");
  });
});

test("digest: a redirect to the same URL that challenges again is answered again", async () => {
  const { Session } = await import("../mod.ts");
  // The first answered request is redirected back to its own URL under a new realm, which the
  // known challenge cannot answer: the module must answer the second 401 too (Python requests
  // starts its 401 count again after every redirect).
  let answers = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const realm = answers === 0 ? "first" : "second";
    if (!answered(req, realm, `${realm}-nonce`, "pw")) {
      res.writeHead(401, {
        "www-authenticate": `Digest realm="${realm}", qop="auth", nonce="${realm}-nonce"`,
      });
      return res.end("no");
    }
    if (++answers === 1) {
      res.writeHead(302, { location: "/same" });
      return res.end();
    }
    res.end("in");
  };
  await withServer(handler, async (origin) => {
    await using session = new Session({ auth: new HTTPDigestAuth("user", "pw") });
    const r = await session.get(`${origin}/same`);
    assert.equal(r.status_code, 200);
    assert.equal(r.content, "in");
    assert.deepEqual(r.history.map((hop) => hop.status_code), [401, 302, 401]);
    assert.ok(r.history.every((hop) => new URL(hop.url).pathname === "/same"));
  });
});

test("digest: challenges do not count as redirects against max_redirects", async () => {
  const { Session } = await import("../mod.ts");
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization === undefined) {
      res.writeHead(401, { "www-authenticate": 'Digest realm="r", qop="auth", nonce="n"' });
      return res.end("no");
    }
    if (req.url === "/from") {
      res.writeHead(302, { location: "/to" });
      return res.end();
    }
    res.end("arrived");
  };
  await withServer(handler, async (origin) => {
    await using session = new Session({ auth: new HTTPDigestAuth("user", "pw") });
    const r = await session.get(`${origin}/from`, { max_redirects: 1 });
    assert.equal(r.content, "arrived");
    assert.deepEqual(r.history.map((hop) => hop.status_code), [401, 302]);
  });
});
