// One precedence rule (SPEC, Session): an option a call gives with any value but `undefined`
// (`null`, `false`, `0` included) replaces the session's; `headers`, `params` and `cookies`
// merge, the call's entries winning and a null entry removing. The table runs every option of
// the SPEC through session value x call value, and checks that the session's call does exactly
// what a call without a session does with the option that should win.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../mod.ts";
import { HttpCache, HTTPDigestAuth, type RequestOptions, Session } from "../mod.ts";
import { type Echo, echo, header, serve, type TestServer } from "./_server.ts";
import { makeTestPki, type TestPki } from "./_tls.ts";

let server: TestServer;
let pki: TestPki;

before(async () => {
  pki = makeTestPki();
  // `/go` redirects to the echo route, so that allow_redirects and max_redirects show.
  server = await serve((req) =>
    new URL(req.url).pathname === "/go"
      ? new Response(null, { status: 302, headers: { location: "/echo" } })
      : echo(req)
  );
});

after(async () => {
  await server.close();
  pki.remove();
});

const ABSENT = Symbol("absent");
/** The call values every option is tried with, besides its own valid value. */
const SPECIALS = [ABSENT, undefined, null, false, true, 0] as const;
let progressCalls = 0;
const counted = () => void progressCalls++;
const handler = () => Response.json({ via: "the fetch option" });

/** A valid, visible value of each request option of the SPEC. */
const VALUES: Readonly<Record<keyof RequestOptions, () => unknown>> = {
  data: () => "raw body",
  json: () => ({ a: 1 }),
  files: () => ({ f: ["a.txt", "file body"] }),
  headers: () => ({ "X-Call": "1" }),
  auth: () => ["user", "pass"],
  stream: () => true,
  params: () => ({ q: "1" }),
  timeout: () => 5,
  total_timeout: () => 5,
  allow_redirects: () => false,
  max_redirects: () => 0,
  cookies: () => ({ c: "1" }),
  signal: () => new AbortController().signal,
  progress: () => counted,
  upload_progress: () => counted,
  max_bytes: () => 10,
  fetch: () => handler,
  sensitive_headers: () => ["x-key"],
  retries: () => 2,
  verify: () => pki.ca,
  cert: () => [pki.clientCert, pki.clientKey],
  proxies: () => ({ https: "http://127.0.0.1:3128" }),
  cache: () => new HttpCache(),
};

/** What one call did, as text: what the server saw and what came back, or the error. */
async function outcome(call: () => Promise<requests.Response>): Promise<string> {
  progressCalls = 0;
  let r: requests.Response;
  try {
    r = await call();
  } catch (error) {
    const e = error as Error;
    return `${e.name}: ${e.message}`;
  }
  let streamed = false;
  try {
    void r.content;
  } catch {
    streamed = true;
    await r.read();
  }
  const seen = r.status_code === 200 && r.content.startsWith('{"method"') ? r.json() as Echo : null;
  const sent = seen === null ? r.content : [
    seen.method,
    seen.path,
    JSON.stringify(seen.query),
    seen.body,
    ...["authorization", "cookie", "x-call", "content-type"].map((n) => header(seen, n)),
  ].join(" | ");
  return `${r.status_code} streamed=${streamed} history=${r.history.length} progress=${
    progressCalls > 0
  } ${sent}`;
}

describe("a call's option replaces the session's unless it is undefined", () => {
  for (const name of Object.keys(VALUES) as (keyof RequestOptions)[]) {
    if (name === "headers" || name === "params" || name === "cookies") continue;
    it(`${name}: session x call`, async () => {
      const value = VALUES[name];
      for (const sessionValue of [ABSENT, value()]) {
        for (const callValue of [...SPECIALS, value()]) {
          const defaults = sessionValue === ABSENT ? {} : { [name]: sessionValue };
          const given = callValue === ABSENT ? {} : { [name]: callValue };
          const effective = callValue === ABSENT || callValue === undefined
            ? sessionValue
            : callValue;
          const direct = effective === ABSENT ? {} : { [name]: effective };
          const label: string = `${name}: session ${describeValue(sessionValue)}, call ${
            describeValue(callValue)
          }`;
          let session: Session;
          try {
            session = new Session(defaults as RequestOptions);
          } catch (error) {
            // A session refuses a value it cannot use at once; a call refuses it the same way.
            const direct = await outcome(() => requests.post(`${server.url}/go`, defaults));
            assert.equal(`${(error as Error).name}: ${(error as Error).message}`, direct, label);
            continue;
          }
          const viaSession = await outcome(() =>
            session.post(`${server.url}/go`, given as RequestOptions)
          );
          const alone = await outcome(() =>
            requests.post(`${server.url}/go`, direct as RequestOptions)
          );
          assert.equal(viaSession, alone, label);
          session.close();
        }
      }
    });
  }
});

function describeValue(value: unknown): string {
  if (value === ABSENT) return "absent";
  if (typeof value === "function") return "a function";
  if (value instanceof AbortSignal) return "a signal";
  return value === undefined ? "undefined" : JSON.stringify(value);
}

describe("the rows the issue names", () => {
  it("auth: null lifts the session's credentials; undefined keeps them", async () => {
    await using session = new Session({ auth: ["session", "secret"] });
    const basic = `Basic ${btoa("session:secret")}`;
    const sent = async (options: RequestOptions) =>
      header((await session.get(`${server.url}/echo`, options)).json() as Echo, "authorization");
    assert.equal(await sent({}), basic);
    assert.equal(await sent({ auth: undefined }), basic);
    assert.equal(await sent({ auth: null }), null);
    assert.equal(await sent({ auth: { bearer: "t" } }), "Bearer t");
    // Credentials in the URL still count: they are the call's own.
    const url = `${server.url.replace("http://", "http://u:p@")}/echo`;
    const r = await session.get(url, { auth: null });
    assert.equal(header(r.json() as Echo, "authorization"), `Basic ${btoa("u:p")}`);
  });

  it("a digest session's auth: null sends no credentials on a challenge", async () => {
    await using session = new Session({ auth: new HTTPDigestAuth("u", "p") });
    const r = await session.get(`${server.url}/status/401`, { auth: null });
    assert.equal(r.status_code, 401);
    assert.equal(r.history.length, 0);
  });
});

describe("headers, params and cookies merge, the call's entries winning", () => {
  it("headers: the call's replace the session's by name, a null removes one", async () => {
    await using session = new Session({ headers: { "X-A": "session", "X-B": "session" } });
    const r = await session.get(`${server.url}/echo`, {
      headers: { "x-a": "call", "X-B": null, "X-C": "call", "X-D": undefined },
    });
    const seen = r.json() as Echo;
    assert.equal(header(seen, "x-a"), "call");
    assert.equal(header(seen, "x-b"), null);
    assert.equal(header(seen, "x-c"), "call");
    assert.equal(header(seen, "x-d"), null);
    const kept = (await session.get(`${server.url}/echo`, { headers: null })).json() as Echo;
    assert.equal(header(kept, "x-a"), "session");
  });

  it("params: the call's replace the session's by name, a null removes one", async () => {
    await using session = new Session({ params: { a: "session", b: "session" } });
    const query = async (params: RequestOptions["params"]) =>
      ((await session.get(`${server.url}/echo`, { params })).json() as Echo).query;
    assert.deepEqual(await query(undefined), [["a", "session"], ["b", "session"]]);
    assert.deepEqual(await query({ a: "call", b: null, c: "call" }), [["a", "call"], [
      "c",
      "call",
    ]]);
    assert.deepEqual(await query([["b", "x"], ["b", "y"]]), [["a", "session"], ["b", "x"], [
      "b",
      "y",
    ]]);
    assert.deepEqual(await query(new URLSearchParams("a=u")), [["a", "u"], ["b", "session"]]);
    // `params: null` adds nothing, as `headers: null` does: the session's stay.
    assert.deepEqual(await query(null), [["a", "session"], ["b", "session"]]);
  });

  it("cookies: the call's replace the jar's by name, a null keeps the jar's back", async () => {
    await using session = new Session({ cookies: { a: "jar", b: "jar" } });
    const cookie = async (cookies: RequestOptions["cookies"]) =>
      header((await session.get(`${server.url}/echo`, { cookies })).json() as Echo, "cookie");
    assert.equal(await cookie(undefined), "a=jar; b=jar");
    assert.equal(await cookie({ a: "call" }), "a=call; b=jar");
    assert.equal(await cookie({ a: null }), "b=jar");
    assert.equal(await cookie({ a: null, b: null }), null);
    const partial = { c: "call", a: undefined } as unknown as RequestOptions["cookies"];
    assert.equal(await cookie(partial), "c=call; a=jar; b=jar");
  });
});
