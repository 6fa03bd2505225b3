// A property: whatever method, URL and options a caller passes (random, valid or not), a call
// resolves to a Response or rejects with a documented error (a RequestError, a TypeError for
// misuse, the signal's own reason, or the caller's own callback error), never throws
// synchronously, never rejects with anything else, and never hangs. Servers behind the URLs
// misbehave on purpose. Loopback only: a generated URL naming any other host is not sent.
//
// The seed is fixed so that a failure can be replayed; HARDENING_SEED=<n> tries another.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import * as requests from "../../mod.ts";
import { HTTPDigestAuth, RequestError, Session } from "../../mod.ts";
import { chunked, forever, ok, redirect, response, type Scripted, scripted } from "../_raw.ts";
import { closedPort } from "../_server.ts";
import { pool } from "./_fixtures.ts";
import { within } from "../_fixtures.ts";

const SEED = Number(process.env.HARDENING_SEED ?? 20240917);
const CASES = 600;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** mulberry32: a small, seedable PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let server: Scripted;
let closed: number;
const gzipped = new Uint8Array(
  await new Response(
    new Blob(["hello, compressed world"]).stream().pipeThrough(new CompressionStream("gzip")),
  ).arrayBuffer(),
);

/** Routes that answer well, badly, slowly or not at all. */
const ROUTES = [
  "ok",
  "json",
  "redirect",
  "redirect-loop",
  "redirect-ftp",
  "gzip",
  "bad-gzip",
  "cut",
  "reset",
  "big",
  "malformed",
  "500",
  "chunked",
  "cookie",
  "empty",
  "head-only",
] as const;
/** Routes that never finish: chosen only when the call has a valid time limit. */
const SLOW_ROUTES = ["silent", "trickle"] as const;

before(async () => {
  closed = await closedPort();
  server = await scripted((seen, socket) => {
    const route = seen.target.split(/[/?#]/)[1] ?? "";
    switch (route) {
      case "json":
        return void socket.write(
          ok('{"a": [1, 2, {"b": null}]}', [["Content-Type", "application/json"]]),
        );
      case "redirect":
        return void socket.write(redirect(302, "/ok?from=redirect"));
      case "redirect-loop":
        return void socket.write(redirect(307, "/redirect-loop"));
      case "redirect-ftp":
        return void socket.write(redirect(301, "ftp://127.0.0.1/"));
      case "gzip":
        return void socket.write(
          response("200 OK", [["Content-Encoding", "gzip"], [
            "Content-Length",
            String(gzipped.length),
          ]], gzipped),
        );
      case "bad-gzip":
        return void socket.write(
          response("200 OK", [["Content-Encoding", "gzip, gzip"], ["Content-Length", "4"]], "nope"),
        );
      case "cut":
        return void socket.end(response("200 OK", [["Content-Length", "50"]], "short"));
      case "reset":
        return void socket.write(
          response("200 OK", [["Content-Length", "50"]], "x"),
          () => socket.resetAndDestroy(),
        );
      case "big":
        return void socket.write(ok("b".repeat(300_000)));
      case "malformed":
        return void socket.end(response("2000 Nope", [["Content-Length", "5, 6"]]));
      case "500":
        return void socket.write(response("500 Oops", [["Content-Length", "4"]], "oops"));
      case "chunked":
        return void socket.write(chunked(["abc"]));
      case "cookie":
        return void socket.write(ok("c", [["Set-Cookie", "sid=1; Path=/; HttpOnly"]]));
      case "empty":
        return void socket.end();
      case "head-only":
        return void socket.write(response("204 No Content"));
      case "silent":
        return;
      case "trickle":
        socket.write(response("200 OK", [["Content-Length", "100000"]]));
        return forever(socket, 30, () => socket.write("t"), 1500);
      default:
        return void socket.write(ok("ok"));
    }
  }, false);
});

after(() => server.close());

/** A case: what to call and how to show it when it fails. */
interface Case {
  description: string;
  run(): Promise<unknown>;
  /** Errors that are the caller's own and may come back as they are. */
  own: unknown[];
}

const BOOM = new Error("the caller's own progress callback failed");
const REASON = new Error("the caller's own abort reason");

/** A string of `n` characters from a mix that includes every troublesome kind. */
function junk(random: () => number, n: number): string {
  const alphabet = [
    "a",
    "Z",
    "0",
    " ",
    "\t",
    "\r",
    "\n",
    "\0",
    "\x01",
    "\x7f",
    '"',
    "'",
    ";",
    ",",
    ":",
    "=",
    "/",
    "\\",
    "?",
    "#",
    "@",
    "%",
    "%0d%0a",
    "%zz",
    "&",
    "+",
    "é",
    "中",
    "😀",
    "\u2028",
    "\ud800",
  ];
  let out = "";
  for (let i = 0; i < n; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

/** Percent-encodes text, lone surrogates and all. */
function encode(text: string): string {
  return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, "?"));
}

function generate(random: () => number, index: number): Case {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const chance = (p: number) => random() < p;
  const shown: string[] = [];
  const show = (name: string, value: string) => shown.push(`${name}=${value}`);

  // Options, each present now and then, valid or not.
  const options: Record<string, unknown> = {};
  const own: unknown[] = [BOOM, REASON];
  const signals: AbortSignal[] = [];
  let limited = false;
  // Half the cases use valid values only (labels without "!"), so that calls reach servers.
  const validOnly = chance(0.5);
  const maybe = (name: string, values: [string, () => unknown][]) => {
    if (!chance(validOnly ? 0.15 : 0.25)) return;
    const allowed = validOnly ? values.filter(([label]) => !label.startsWith("!")) : values;
    if (allowed.length === 0) return;
    const [label, make] = pick(allowed);
    options[name] = make();
    show(name, label);
  };
  maybe("data", [
    ["text", () => "a=1&b=2"],
    ["empty", () => ""],
    ["junk", () => junk(random, 20)],
    ["bytes", () => new Uint8Array([0, 1, 2, 255])],
    ["buffer", () => new ArrayBuffer(8)],
    ["blob", () => new Blob(["blob"], { type: "text/plain" })],
    ["stream", () => new Blob(["streamed"]).stream()],
    ["params", () => new URLSearchParams({ q: "x y" })],
    ["form", () => {
      const form = new FormData();
      form.append('n"\r\n', "v");
      return form;
    }],
    ["object", () => ({ a: 1, b: [true, "x"], c: null })],
    ["!nested", () => ({ a: { b: 1 } })],
    ["!number", () => 42],
    ["pairs", () => [["a", "1"], ["b", "2"]]],
    ["!bad pairs", () => [["a"]]],
    ["!symbol", () => Symbol("s")],
  ]);
  maybe("json", [
    ["object", () => ({ a: 1 })],
    ["array", () => [1, "2", null]],
    ["string", () => junk(random, 10)],
    ["zero", () => 0],
    ["null", () => null],
    ["!cyclic", () => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    }],
    ["!bigint", () => 10n],
    ["!function", () => () => 1],
    ["!symbol", () => Symbol("s")],
  ]);
  maybe("files", [
    ["pair", () => ({ f: ["a.txt", "content"] })],
    ["triple", () => ({ f: [junk(random, 8), new Uint8Array(3), "text/plain"] })],
    ["blob", () => ({ f: new Blob(["x"]) })],
    ["file", () => ({ [junk(random, 6)]: new File(["x"], junk(random, 6)) })],
    ["stream", () => ({ f: ["s.bin", new Blob(["s"]).stream()] })],
    ["!bad type", () => ({ f: ["a", "b", "text/plain\r\nX: 1"] })],
    ["!bad content", () => ({ f: ["a", 42] })],
    ["!not an object", () => "files"],
    ["!array", () => [["a", "b"]]],
  ]);
  maybe("headers", [
    ["object", () => ({ "X-A": "1", "x-b": 2, "X-C": true, "X-D": null })],
    ["pairs", () => [["X-A", "1"], ["X-A", "2"]]],
    ["Headers", () => new Headers({ "X-H": "h" })],
    ["!junk name", () => ({ [junk(random, 6)]: "v" })],
    ["!junk value", () => ({ "X-J": junk(random, 12) })],
    ["!object value", () => ({ "X-O": {} })],
    ["!string", () => "X-A: 1"],
    ["!bad pairs", () => [["X-A"]]],
    ["accept-encoding", () => ({ "Accept-Encoding": "gzip, br" })],
    ["content-length lie", () => ({ "Content-Length": "1" })],
  ]);
  maybe("auth", [
    ["basic", () => [junk(random, 5), junk(random, 5)]],
    ["bearer", () => ({ bearer: "token" })],
    ["!junk bearer", () => ({ bearer: junk(random, 8) })],
    ["digest", () => new HTTPDigestAuth("u", "p")],
    ["!short", () => ["u"]],
    ["!string", () => "u:p"],
    ["!bad bearer", () => ({ bearer: 5 })],
  ]);
  maybe("params", [
    ["object", () => ({ q: junk(random, 6), n: [1, 2], z: null })],
    ["URLSearchParams", () => new URLSearchParams([["a", "b"], ["a", "c"]])],
    ["pairs", () => [[junk(random, 3), junk(random, 3)]]],
    ["!nested", () => ({ bad: {} })],
    ["!number", () => 5],
  ]);
  maybe("timeout", [
    ["0.3", () => (limited = true, 0.3)],
    ["pair", () => (limited = true, [0.1, 0.2])],
    ["!zero", () => 0],
    ["!negative", () => -1],
    ["!NaN", () => NaN],
    ["!Infinity", () => Infinity],
    ["!string", () => "1"],
    ["!short pair", () => [1]],
  ]);
  maybe("total_timeout", [
    ["0.5", () => (limited = true, 0.5)],
    ["!zero", () => 0],
    ["!string", () => "2"],
  ]);
  maybe("allow_redirects", [["true", () => true], ["false", () => false], [
    "!string",
    () => "yes",
  ]]);
  maybe("max_redirects", [["0", () => 0], ["3", () => 3], ["!-1", () => -1], ["!1.5", () => 1.5]]);
  maybe("cookies", [
    ["object", () => ({ a: "1", b: "two" })],
    ["!semicolon", () => ({ a: "x;y" })],
    ["!junk", () => ({ [junk(random, 4)]: junk(random, 4) })],
    ["!number", () => ({ a: 1 })],
  ]);
  maybe("stream", [["true", () => true], ["false", () => false], ["!string", () => "1"]]);
  maybe("max_bytes", [
    ["0", () => 0],
    ["10", () => 10],
    ["1e6", () => 1e6],
    ["!-1", () => -1],
    ["!1.5", () => 1.5],
  ]);
  maybe("retries", [
    ["1", () => 1],
    ["object", () => ({ total: 1, status_forcelist: [500], backoff_factor: 0 })],
    ["!-1", () => -1],
    ["!bad total", () => ({ total: "x" })],
  ]);
  maybe("signal", [
    ["fresh", () => new AbortController().signal],
    ["aborted", () => AbortSignal.abort(REASON)],
    ["timeout", () => {
      limited = true;
      const signal = AbortSignal.timeout(200);
      signals.push(signal);
      return signal;
    }],
    ["!string", () => "abort"],
  ]);
  maybe("progress", [
    ["counting", () => () => {}],
    ["throwing", () => () => {
      throw BOOM;
    }],
    ["!string", () => "progress"],
  ]);
  maybe("fetch", [
    ["handler", () => (req: Request) => Response.json({ method: req.method })],
    [
      "redirecting handler",
      () => () => new Response(null, { status: 302, headers: { location: "javascript:alert(1)" } }),
    ],
    ["!not a Response", () => () => "nope"],
    ["throwing", () => () => {
      throw new Error("handler failed");
    }],
    ["!string", () => "fetch"],
  ]);
  maybe("sensitive_headers", [["list", () => ["X-A"]], ["!string", () => "X-A"]]);
  maybe("verify", [
    ["true", () => true],
    ["!false", () => false],
    ["!missing file", () => "/nonexistent/ca.pem"],
    ["!number", () => 5],
  ]);
  maybe("proxies", [
    ["closed", () => ({ http: `http://127.0.0.1:${closed}` })],
    ["!bad key", () => ({ ftp: "http://127.0.0.1:1" })],
    ["!bad url", () => ({ http: junk(random, 8) })],
    ["!string", () => "http://127.0.0.1:1"],
  ]);
  maybe("cert", [
    ["!missing", () => ["/nonexistent/c.pem", "/nonexistent/k.pem"]],
    ["!number", () => 5],
  ]);
  if (validOnly) {
    // One body at most.
    if ("json" in options) delete options.data, delete options.files;
    if ("files" in options) delete options.data;
  }
  if (!validOnly && chance(0.03)) {
    options.tiemout = 1;
    show("tiemout", "1");
  }

  // The URL: mostly the chaos server, sometimes anything at all.
  const routes: readonly string[] = limited ? [...ROUTES, ...SLOW_ROUTES] : ROUTES;
  const base = `http://127.0.0.1:${server.port}`;
  const path = `/${pick(routes)}`;
  const urls: [string, () => string | URL][] = [
    ["route", () => `${base}${path}`],
    [
      "route with junk",
      () => `${base}${path}/${junk(random, 10)}?${junk(random, 10)}#${junk(random, 4)}`,
    ],
    [
      "credentials",
      () =>
        `http://${encode(junk(random, 4))}:${
          encode(junk(random, 6))
        }@127.0.0.1:${server.port}${path}`,
    ],
    ["upper-case scheme", () => `HTTP://127.0.0.1:${server.port}${path}`],
    ["localhost", () => `http://localhost:${server.port}${path}`],
    ["URL object", () => new URL(`${base}${path}`)],
    ["closed port", () => `http://127.0.0.1:${closed}/`],
    [
      "other scheme",
      () =>
        pick([
          "ftp://127.0.0.1/",
          "file:///etc/passwd",
          "javascript:1",
          "data:,x",
          "ws://127.0.0.1/",
        ]),
    ],
    ["junk", () => junk(random, 12)],
    ["relative", () => pick(["/ok", "ok", "//127.0.0.1/ok", "", " "])],
    [
      "bad host",
      () =>
        pick([
          "http://exa mple/",
          "http://[::1",
          "http://127.0.0.1:99999/",
          "http://",
          "http:///x",
        ]),
    ],
  ];
  const [urlKind, makeUrl] = chance(validOnly ? 0.85 : 0.5) ? urls[0] : pick(urls);
  let url: string | URL = makeUrl();
  show("url", `${urlKind} ${JSON.stringify(String(url))}`);
  try {
    const parsed = new URL(String(url));
    if (/^https?:$/.test(parsed.protocol) && !LOOPBACK.has(parsed.host.replace(/:\d+$/, ""))) {
      url = `${base}/ok`; // never leave loopback
    }
  } catch { /* not a URL: refused before any network activity */ }

  const method = validOnly ? pick(["GET", "post", "PUT", "DELETE", "PATCH", "OPTIONS"]) : pick([
    "GET",
    "get",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "M-SEARCH",
    "X",
    "",
    "GET ",
    "G\r\nET",
    junk(random, 4),
  ]);
  show("method", JSON.stringify(method));
  const passed = !validOnly && chance(0.03) ? pick([5, "options", null, undefined]) : options;

  const inSession = chance(0.2);
  const description = `case ${index} (seed ${SEED})${inSession ? " in a Session" : ""}: ${
    shown.join(", ")
  }`;
  return {
    description,
    get own() {
      // Aborting rejects with the signal's own reason, whatever it is.
      return [...own, ...signals.map((signal) => signal.reason)];
    },
    run: async () => {
      let call: Promise<unknown>;
      if (inSession) {
        let session: Session;
        try {
          session = new Session({ base_url: `${base}/`, ...(passed as object ?? {}) });
        } catch (error) {
          // The constructor checks its defaults at once (a throw, as any constructor).
          if (error instanceof TypeError || error instanceof RequestError) return error;
          throw error;
        }
        try {
          call = session.request(method, url, passed as requests.RequestOptions);
          return await settle(call);
        } finally {
          session.close();
        }
      }
      try {
        call = requests.request(method, url, passed as requests.RequestOptions);
      } catch (error) {
        throw new Error(`threw synchronously: ${String(error)}`);
      }
      assert.ok(call instanceof Promise);
      return await settle(call);
    },
  };
}

/** Uses what a call gave: reads the body of a response, and returns any rejection. */
async function settle(call: Promise<unknown>): Promise<unknown> {
  let r: requests.Response;
  try {
    r = await call as requests.Response;
  } catch (error) {
    return error;
  }
  assert.ok(r instanceof requests.Response);
  assert.equal(typeof r.status_code, "number");
  assert.equal(typeof r.headers, "string");
  try {
    await r.read();
    void r.content;
    r.json();
  } catch (error) {
    if (!(error instanceof RequestError)) return error;
  }
  try {
    r.raise_for_status();
  } catch (error) {
    if (!(error instanceof requests.HTTPError)) return error;
  }
  r.close();
  return r;
}

test(`${CASES} random calls each resolve or reject with a documented error, never hang`, {
  timeout: 120_000,
}, async () => {
  const random = prng(SEED);
  const outcomes = new Map<string, number>();
  await pool(CASES, 8, async (i) => {
    // Generated as it starts (synchronously, in order, so the seed replays it).
    const c = generate(random, i);
    let outcome: unknown;
    try {
      outcome = await within(10_000, c.run(), c.description);
    } catch (error) {
      assert.fail(`${c.description}\n  -> ${(error as Error)?.stack ?? String(error)}`);
    }
    const documented = outcome instanceof requests.Response || outcome instanceof RequestError ||
      outcome instanceof TypeError || c.own.includes(outcome);
    assert.ok(
      documented,
      `${c.description}\n  -> undocumented ${(outcome as Error)?.constructor?.name}: ${
        (outcome as Error)?.stack ?? String(outcome)
      }`,
    );
    const name = outcome instanceof requests.Response
      ? `Response ${outcome.status_code}`
      : (outcome as Error).name;
    outcomes.set(name, (outcomes.get(name) ?? 0) + 1);
  });
  if (process.env.HARDENING_VERBOSE) console.log(JSON.stringify([...outcomes]));
  // The generator reaches both sides of the property, and the network.
  assert.ok((outcomes.get("Response 200") ?? 0) > 20, JSON.stringify([...outcomes]));
  assert.ok((outcomes.get("TypeError") ?? 0) > 20, JSON.stringify([...outcomes]));
  assert.ok((outcomes.get("ConnectionError") ?? 0) > 5, JSON.stringify([...outcomes]));
});
