// A Session's base_url: what joins it, what is refused, and where its credentials may go.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../mod.ts";
import { type Echo, header, serve, type TestServer } from "./_server.ts";
import { rejectsWith } from "./_fixtures.ts";

let api: TestServer;
let evil: TestServer;
let evilHits = 0;
before(async () => {
  api = await serve();
  evil = await serve((req) => {
    evilHits++;
    return Response.json({ headers: [...req.headers] });
  });
});
after(async () => {
  await api.close();
  await evil.close();
});

const evilHost = () => new URL(evil.url).host;
const session = (extra: requests.SessionOptions = {}) =>
  new requests.Session({
    base_url: `${api.url}/v1/`,
    auth: ["user", "secret"],
    headers: { "X-Api-Key": "k-123", Cookie: "sid=s1" },
    sensitive_headers: ["X-Api-Key"],
    ...extra,
  });

/** Every C0 control, DEL, and space/tab runs, each before every network-path separator. */
function hostilePaths(host: string): string[] {
  const prefixes = [" ", "\t", " \t", "\t ", "  ", "\x7f"];
  for (let code = 0; code < 0x20; code++) prefixes.push(String.fromCharCode(code));
  const separators = ["//", "\\\\", "/\\", "\\/"];
  const paths: string[] = [];
  for (const prefix of prefixes) {
    for (const separator of separators) paths.push(`${prefix}${separator}${host}/x`);
  }
  for (const inner of [" /\t/", "/\t/", "/\n/", "/\r/", "\\\t\\"]) paths.push(`${inner}${host}/x`);
  return paths;
}

test("a session path that the URL parser would turn into another origin is refused", async () => {
  const s = session();
  const paths = hostilePaths(evilHost());
  assert.ok(paths.length > 150);
  for (const path of paths) {
    const error = await s.get(path).then(() => null, (e) => e);
    assert.ok(error instanceof requests.InvalidURLError, JSON.stringify(path));
    assert.ok(!String(error.message).includes("secret"));
  }
  assert.equal(evilHits, 0, "the second server saw a request");
});

test("a joined path must stay under base_url, decided on the parsed URL", async () => {
  const s = session();
  for (const path of ["../admin", "/../admin", "%2e%2e/admin", "..\\admin", "./../x"]) {
    await assert.rejects(s.get(path), requests.InvalidURLError, path);
  }
  const inside = (await s.get("/items/./a/../b?q=1")).json() as Echo;
  assert.equal(new URL(inside.url).pathname, "/v1/items/b");
});

test("paths join base_url and carry the session's credentials there", async () => {
  const echoed = (await session().get("items")).json() as Echo;
  assert.equal(new URL(echoed.url).pathname, "/v1/items");
  assert.match(header(echoed, "authorization") ?? "", /^Basic /);
  assert.equal(header(echoed, "x-api-key"), "k-123");
  assert.equal(header(echoed, "cookie"), "sid=s1");
});

test("an absolute URL to another origin gets none of the session's credentials", async () => {
  const s = session();
  const before = evilHits;
  const r = await s.get(`${evil.url}/x`, { headers: { "X-Call": "1" } });
  assert.equal(evilHits, before + 1);
  const sent = new Map((r.json() as { headers: [string, string][] }).headers);
  for (const name of ["authorization", "x-api-key", "cookie"]) {
    assert.equal(sent.get(name), undefined, name);
  }
  assert.equal(sent.get("x-call"), "1");
  // The call's own credentials still go where the call sends them.
  const own = await s.get(`${evil.url}/x`, { auth: ["call", "pw"] });
  const ownSent = new Map((own.json() as { headers: [string, string][] }).headers);
  assert.match(ownSent.get("authorization") ?? "", /^Basic /);
});

test("a call's own sensitive_headers do not let the session's go to another origin", async () => {
  const s = session();
  for (const sensitive_headers of [["X-Call"], null]) {
    const r = await s.get(`${evil.url}/x`, { headers: { "X-Call": "1" }, sensitive_headers });
    const sent = new Map((r.json() as { headers: [string, string][] }).headers);
    assert.equal(sent.get("x-api-key"), undefined, JSON.stringify(sensitive_headers));
  }
});

test("a session's cookies given with base_url belong to the base host", () => {
  const s = session({ cookies: { jar: "j1" } });
  assert.deepEqual([...s.cookies].map((c) => [c.name, c.domain]), [["jar", "127.0.0.1"]]);
  assert.equal(s.cookies.cookieHeader(new URL("http://elsewhere.test/")), null);
});

test("allow_absolute_urls: false refuses absolute URLs before anything is sent", async () => {
  const s = session({ allow_absolute_urls: false });
  const before = evilHits;
  for (const url of [`${evil.url}/x`, ` ${evil.url}/x`, new URL(`${evil.url}/x`)]) {
    await assert.rejects(s.get(url), requests.InvalidURLError);
  }
  assert.equal(evilHits, before);
  assert.equal((await s.get("ok")).status_code, 200);
  assert.throws(
    () => new requests.Session({ allow_absolute_urls: "no" as unknown as boolean }),
    /'allow_absolute_urls'/,
  );
});

test("base_url joins paths and keeps absolute URLs", async () => {
  const session = new requests.Session({ base_url: `${api.url}/api/v1` });
  for (
    const [path, expected] of [["items", "/api/v1/items"], ["/items", "/api/v1/items"], [
      "items/3?x=1",
      "/api/v1/items/3",
    ]]
  ) {
    assert.equal(((await session.get(path)).json() as Echo).path, expected);
  }
  assert.equal(((await session.get(`${api.url}/other`)).json() as Echo).path, "/other");
});

test("base_url refuses network-path and backslash URLs (axios CVE-2024-39338) and other schemes", async () => {
  await using session = new requests.Session({
    base_url: `${api.url}/api/`,
    auth: ["alice", "pa55word"],
  });
  const host = evilHost();
  const before = evilHits;
  for (
    const path of [`//${host}/x`, `\\\\${host}/x`, `/\\${host}/x`, ` //${host}/x`, `\\/${host}/x`]
  ) {
    await rejectsWith(session.get(path), requests.InvalidURLError);
  }
  for (const path of ["//evil.test/x", "\\\\evil.test\\x", "/\\evil.test", "\\/evil.test"]) {
    await assert.rejects(session.get(path), requests.InvalidURLError, path);
  }
  await assert.rejects(session.get("ftp://x.test/"), requests.InvalidURLError);
  assert.throws(() => new requests.Session({ base_url: "ftp://x.test/" }), /'base_url'/);
  // A path that merely looks like a host stays on the base.
  const r = await session.get(`/${host}/x`);
  assert.equal(r.url, `${api.url}/api/${host}/x`);
  assert.equal(evilHits, before, "the second server saw a request");
});
