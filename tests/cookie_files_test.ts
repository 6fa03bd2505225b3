// A jar that persists: jar.save() / CookieJar.load() in the Netscape cookies.txt format, read
// and written by real curl and Python's http.cookiejar.MozillaCookieJar, and jar.toJSON() /
// CookieJar.fromJSON().

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import { type Cookie, CookieJar, Session } from "../mod.ts";
import { serve, type TestServer } from "./_server.ts";

const HEADER = "# Netscape HTTP Cookie File";
const DAY = 86_400_000;
const PYTHON = "/usr/bin/python3";

let dir: string;
let server: TestServer;
let host: string;
before(async () => {
  dir = await fs.mkdtemp(`${os.tmpdir()}/cookie-files-`);
  // Echoes the Cookie header; /set sets the cookies of a login.
  server = await serve((req) => {
    const url = new URL(req.url);
    const headers = new Headers({ "content-type": "text/plain" });
    if (url.pathname === "/set") {
      for (
        const line of [
          "sid=s1; Path=/; HttpOnly",
          "api=a1; Path=/api; Max-Age=3600",
          "theme=dark; Max-Age=86400",
          "gone=x; Max-Age=0",
        ]
      ) headers.append("set-cookie", line);
    }
    return new Response(req.headers.get("cookie") ?? "", { headers });
  });
  host = new URL(server.url).hostname;
});
after(async () => {
  await server.close();
  await fs.rm(dir, { recursive: true, force: true });
});

let files = 0;
const fresh = () => `${dir}/cookies-${++files}.txt`;

/** The pairs of a Cookie header, sorted: curl orders same-path cookies by name length. */
const pairs = (header: string | null) => (header ?? "").split("; ").sort();

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${cmd} failed: ${error.message}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
}

/** The cookie lines of a file (comments and blank lines left out), fields split. */
function cookieLines(text: string): string[][] {
  return text.split("\n").filter((line) => line !== "" && !/^#(?!HttpOnly_)/.test(line))
    .map((line) => line.split("\t"));
}

/** A jar holding one cookie of each kind the format distinguishes. */
function sampleJar(now: number): CookieJar {
  const jar = new CookieJar();
  const url = new URL("https://www.example.com/app/page");
  jar.setFromResponse(url, [
    "host=h1; Path=/; Max-Age=3600",
    "dom=d1; Domain=example.com; Path=/app; Secure; Max-Age=7200",
    "ho=o1; HttpOnly; Path=/",
    "year=y1; Path=/; Max-Age=315360000",
    "old=x; Path=/; Max-Age=1",
  ], now - 2000);
  jar.set("every", "host");
  jar.set("tab", "a\tb", { domain: "example.com" });
  return jar;
}

test("jar.save() writes the Netscape format: header, LF, TRUE/FALSE, dots, #HttpOnly_, expiry", async () => {
  const now = Date.now();
  const path = fresh();
  await sampleJar(now).save(path);
  const text = await fs.readFile(path, "utf8");
  assert.ok(!text.includes("\r"));
  const [first, ...rest] = text.split("\n");
  assert.equal(first, HEADER);
  assert.equal(rest.at(-1), "", "every line ends with LF");
  const lines = cookieLines(text);
  const byName = new Map(lines.map((fields) => [fields[5], fields]));
  // Not written: expired, for every host (no domain to write), a tab in the value.
  assert.deepEqual([...byName.keys()], ["host", "dom", "ho", "year"]);
  const expiry = (name: string) => Number(byName.get(name)![4]);
  assert.deepEqual(byName.get("host")!.slice(0, 4), ["www.example.com", "FALSE", "/", "FALSE"]);
  assert.ok(Math.abs(expiry("host") - (now - 2000 + 3_600_000) / 1000) <= 1);
  assert.deepEqual(byName.get("dom")!.slice(0, 4), [".example.com", "TRUE", "/app", "TRUE"]);
  assert.deepEqual(byName.get("ho")!.slice(0, 5), [
    "#HttpOnly_www.example.com",
    "FALSE",
    "/",
    "FALSE",
    "0",
  ]);
  // Ten years asked for, 400 days written, as curl caps it.
  const cap = (Date.now() + 400 * DAY) / 1000;
  assert.ok(expiry("year") <= Math.ceil(cap) && expiry("year") > cap - 60, String(expiry("year")));
  for (const fields of lines) assert.equal(fields.length, 7);
});

test("jar.save() replaces the file by a rename: a new file of mode 0600, the old one untouched", async () => {
  const path = fresh();
  await fs.writeFile(path, "old contents\n", { mode: 0o644 });
  await fs.chmod(path, 0o644);
  // A second name for the old file: a save that rewrote it in place would change this one too.
  await fs.link(path, `${path}.old`);
  await sampleJar(Date.now()).save(path);
  assert.equal(await fs.readFile(`${path}.old`, "utf8"), "old contents\n");
  assert.match(await fs.readFile(path, "utf8"), new RegExp(`^${HEADER}\n`));
  assert.equal((await fs.stat(path)).mode & 0o777, 0o600);
  assert.deepEqual((await fs.readdir(dir)).filter((name) => name.endsWith(".tmp")), []);
});

test("a failed jar.save() leaves what was at the path and no temporary file", async () => {
  const target = `${dir}/occupied`;
  await fs.mkdir(target);
  await fs.writeFile(`${target}/keep`, "kept");
  // The temporary file is written, then the rename onto a directory fails.
  await assert.rejects(sampleJar(Date.now()).save(target));
  assert.equal(await fs.readFile(`${target}/keep`, "utf8"), "kept");
  assert.deepEqual((await fs.readdir(dir)).filter((name) => name.endsWith(".tmp")), []);
  // A directory that does not exist: nothing is created.
  await assert.rejects(sampleJar(Date.now()).save(`${dir}/missing/cookies.txt`));
  await assert.rejects(fs.stat(`${dir}/missing`));
});

test("save() and load() check their path argument", async () => {
  const jar = new CookieJar();
  for (const path of ["", 42, null, new URL("http://example.com/cookies.txt")]) {
    await assert.rejects(jar.save(path as string), /Invalid 'path' of 'jar\.save\(\)'/);
    await assert.rejects(CookieJar.load(path as string), /Invalid 'path' of 'CookieJar\.load\(\)'/);
  }
  const missing = await CookieJar.load(`${dir}/none.txt`).catch((error) => error);
  assert.equal(missing.code, "ENOENT");
});

test("save() then load() gives back the cookies, a file: URL too", async () => {
  const now = Date.now();
  const jar = sampleJar(now);
  const url = new URL(`file://${fresh()}`);
  await jar.save(url);
  const loaded = await CookieJar.load(url);
  const fields = (
    c: Cookie,
  ) => [c.name, c.value, c.domain, c.path, c.secure, c.httpOnly, c.hostOnly];
  assert.deepEqual(
    [...loaded].map(fields),
    [...jar].filter((c) => c.domain !== "" && !c.value.includes("\t")).map(fields),
  );
  const page = new URL("https://www.example.com/app/x");
  assert.equal(loaded.cookieHeader(page), "dom=d1; host=h1; ho=o1; year=y1");
  assert.equal(loaded.cookieHeader(new URL("https://api.example.com/app/")), "dom=d1");
});

test("CookieJar.load() reads CRLF, a BOM, a missing value, 0 or empty expiry, #HttpOnly_", async () => {
  const path = fresh();
  const later = Math.floor(Date.now() / 1000) + 3600;
  const lines = [
    HEADER,
    "# a comment",
    "",
    `example.com\tFALSE\t/\tFALSE\t${later}\tkept\tv1`,
    "example.com\tFALSE\t/\tFALSE\t0\tsession\tv2",
    "example.com\tFALSE\t/\tFALSE\t\tempty\tv3",
    "example.com\tFALSE\t/\tFALSE\t0\tnovalue",
    "#HttpOnly_.example.com\tTRUE\t/\tTRUE\t0\thidden\tv4",
  ];
  await fs.writeFile(path, `\ufeff${lines.join("\r\n")}\r\n`);
  const jar = await CookieJar.load(path);
  const cookies = new Map([...jar].map((c) => [c.name, c]));
  assert.deepEqual([...cookies.keys()], ["kept", "session", "empty", "novalue", "hidden"]);
  assert.equal(cookies.get("kept")!.expires, later * 1000);
  for (const name of ["session", "empty", "novalue", "hidden"]) {
    assert.equal(cookies.get(name)!.expires, null, name);
  }
  assert.equal(cookies.get("novalue")!.value, "");
  assert.deepEqual(
    [
      cookies.get("hidden")!.httpOnly,
      cookies.get("hidden")!.hostOnly,
      cookies.get("kept")!.hostOnly,
    ],
    [true, false, true],
  );
  assert.equal(
    jar.cookieHeader(new URL("https://example.com/")),
    "kept=v1; session=v2; empty=v3; novalue=; hidden=v4",
  );
  assert.equal(jar.cookieHeader(new URL("https://www.example.com/")), "hidden=v4");
});

test("CookieJar.load() skips hostile and malformed lines, never throws", async () => {
  const path = fresh();
  const good = "example.com\tFALSE\t/\tFALSE\t0\tgood\t1";
  const bad = [
    `example.com\tFALSE\t/\tFALSE\t0\thuge\t${"x".repeat(1_000_000)}`,
    `example.com\tFALSE\t/\tFALSE\t0\tbig\t${"x".repeat(9000)}`,
    "example.com\tFALSE\t/\tFALSE\t0\tctl\ta\x01b",
    "example.com\tFALSE\t/\tFALSE\t0\tdel\ta\x7fb",
    "example.com\tFALSE\t/\tFALSE\t0\tnul\ta\x00b",
    "exam\vple.com\tFALSE\t/\tFALSE\t0\tvt\t1",
    "example.com\tMAYBE\t/\tFALSE\t0\tflag\t1",
    "example.com\tFALSE\t/\tYES\t0\tsecure\t1",
    "example.com\tFALSE\tnoslash\tFALSE\t0\tpath\t1",
    "example.com\tFALSE\t/\tFALSE\tsoon\texpiry\t1",
    "example.com\tFALSE\t/\tFALSE\t-5\tnegative\t1",
    "example.com\tFALSE\t/\tFALSE\t1e12\texponent\t1",
    "example.com\tFALSE\t/\tFALSE\t0",
    "example.com\tFALSE\t/\tFALSE\t0\teight\t1\textra",
    "exa mple.com\tFALSE\t/\tFALSE\t0\tspace\t1",
    "example.com/evil\tFALSE\t/\tFALSE\t0\tslash\t1",
    "\tFALSE\t/\tFALSE\t0\tnodomain\t1",
    "example.com\tFALSE\t/\tFALSE\t0\t\tnoname",
    "example.com\tFALSE\t/\tFALSE\t0\ta=b\teq",
    "example.com\tFALSE\t/\tFALSE\t0\tsemi\ta;b",
    "example.com\tFALSE\t/\tFALSE\t1\texpired\t1",
    "just some text",
    "\t\t\t\t\t\t",
  ];
  await fs.writeFile(path, [HEADER, ...bad.flatMap((line) => [line, good])].join("\n"));
  const jar = await CookieJar.load(path);
  assert.deepEqual([...jar].map((c) => `${c.name}=${c.value}`), ["good=1"]);
  // Only the lines that are not cookies went: the file's other cookies are all there.
  const binary = fresh();
  await fs.writeFile(binary, crypto.getRandomValues(new Uint8Array(65536)));
  assert.equal((await CookieJar.load(binary)).size, 0);
});

test("the jar's rules hold for what is loaded: public suffixes, IPs, prefixes, caps", async () => {
  const path = fresh();
  const lines = [
    HEADER,
    ".com\tTRUE\t/\tFALSE\t0\tsuffix\t1",
    ".co.uk\tTRUE\t/\tFALSE\t0\tcouk\t1",
    ".127.0.0.1\tTRUE\t/\tFALSE\t0\tip\t1",
    ".example.com\tTRUE\t/\tFALSE\t0\t__Secure-plain\t1",
    ".example.com\tTRUE\t/\tTRUE\t0\t__Secure-ok\t1",
    ".example.com\tTRUE\t/\tTRUE\t0\t__Host-domain\t1",
    "example.com\tFALSE\t/x\tTRUE\t0\t__Host-path\t1",
    "example.com\tFALSE\t/\tTRUE\t0\t__Host-ok\t1",
  ];
  for (let i = 0; i < 200; i++) lines.push(`crowded.test\tFALSE\t/\tFALSE\t0\tc${i}\t${i}`);
  await fs.writeFile(path, lines.join("\n"));
  const jar = await CookieJar.load(path);
  // A domain cookie for a public suffix or an address is kept for that host alone.
  assert.equal(jar.cookieHeader(new URL("http://example.com/")), null);
  assert.equal(jar.cookieHeader(new URL("http://com/")), "suffix=1");
  assert.equal(jar.cookieHeader(new URL("http://shop.co.uk/")), null);
  assert.equal(jar.cookieHeader(new URL("http://127.0.0.1/")), "ip=1");
  assert.equal(
    jar.cookieHeader(new URL("https://example.com/x")),
    "__Secure-ok=1; __Host-ok=1",
  );
  // 180 per site: the oldest went first.
  const crowded = [...jar].filter((c) => c.domain === "crowded.test").map((c) => c.name);
  assert.equal(crowded.length, 180);
  assert.equal(crowded[0], "c20");
});

test("toJSON() / fromJSON() round-trip every field, through JSON text too", () => {
  const jar = new CookieJar();
  jar.setFromResponse(new URL("https://www.example.com/a/b"), [
    "one=1; SameSite=Strict; HttpOnly; Secure",
    "two=2; Domain=example.com; Path=/; Max-Age=3600; SameSite=Lax",
  ]);
  jar.set("every", "host");
  const data = jar.toJSON();
  assert.equal(data.version, 1);
  assert.equal(data.cookies.length, 3);
  const again = CookieJar.fromJSON(JSON.parse(JSON.stringify(jar)));
  assert.deepEqual([...again], [...jar]);
  assert.equal(
    again.cookieHeader(new URL("https://www.example.com/a/x")),
    "one=1; two=2; every=host",
  );
  // The data is a copy: changing it changes no jar.
  data.cookies[0].value = "changed";
  assert.equal(jar.get("one"), "1");
});

test("fromJSON() refuses data that is not a jar's, and skips entries that are not cookies", () => {
  for (
    const data of [null, 42, "text", {}, { version: 1 }, { cookies: [] }, {
      version: 2,
      cookies: [],
    }]
  ) {
    assert.throws(() => CookieJar.fromJSON(data as never), TypeError, JSON.stringify(data));
  }
  const valid: Cookie = {
    name: "ok",
    value: "1",
    domain: "example.com",
    path: "/",
    expires: null,
    secure: false,
    httpOnly: false,
    hostOnly: true,
    sameSite: null,
  };
  const entries: unknown[] = [
    null,
    "ok=1",
    { ...valid, name: "" },
    { ...valid, name: "a;b" },
    { ...valid, value: "a\nb" },
    { ...valid, path: "nope" },
    { ...valid, domain: "exa mple.com" },
    { ...valid, domain: "", hostOnly: true },
    { ...valid, expires: "soon" },
    { ...valid, expires: Infinity },
    { ...valid, secure: "yes" },
    { ...valid, sameSite: "strict" },
    { ...valid, name: "expired", expires: Date.now() - 1000 },
    { ...valid, name: "__Host-x", secure: true, hostOnly: false },
    { ...valid, name: "suffix", domain: "com", hostOnly: false },
    { ...valid, domain: "EXAMPLE.com" },
  ];
  const jar = CookieJar.fromJSON({ version: 1, cookies: entries as Cookie[] });
  assert.deepEqual([...jar].map((c) => [c.name, c.domain, c.hostOnly]), [
    ["suffix", "com", true],
    ["ok", "example.com", true],
  ]);
});

test("new Session({ cookies: jar }) uses that jar: sends its cookies, keeps new ones in it", async () => {
  const path = fresh();
  await fs.writeFile(path, `${HEADER}\n${host}\tFALSE\t/\tFALSE\t0\tloaded\tyes\n`);
  const jar = await CookieJar.load(path);
  await using session = new Session({ cookies: jar });
  assert.equal(session.cookies, jar);
  assert.equal((await session.get(`${server.url}/x`)).text, "loaded=yes");
  await session.get(`${server.url}/set`);
  assert.equal(jar.get("sid"), "s1");
  await jar.save(path);
  const next = await CookieJar.load(path);
  await using later = new Session({ cookies: next });
  assert.equal(
    (await later.get(`${server.url}/api/x`)).text,
    "api=a1; loaded=yes; sid=s1; theme=dark",
  );
  // Name-value pairs still make a new jar of the session's own.
  const pairs = new Session({ cookies: { a: "1" } });
  assert.ok(pairs.cookies instanceof CookieJar);
  assert.equal(pairs.cookies.get("a"), "1");
});

test("curl -b reads a file the jar saved: the same cookies sent, paths and expiry as written", async () => {
  const path = fresh();
  const jar = new CookieJar();
  const origin = new URL(server.url);
  jar.setFromResponse(new URL("/api/login", origin), [
    "session=s1; Path=/; HttpOnly",
    "api=a1; Path=/api; Max-Age=3600",
    "gone=x; Path=/; Max-Age=1",
    "lsec=l1; Path=/; Secure; Max-Age=600",
  ], Date.now() - 5000);
  jar.set("other", "o1", { domain: "elsewhere.test" });
  jar.setFromResponse(new URL("https://secure.test/"), ["sec=s2; Secure; Max-Age=600"]);
  await jar.save(path);
  const sent = (route: string) => run("curl", ["-s", "-b", path, `${server.url}${route}`]);
  // Both send the longest path first, only this host's cookies, and take a loopback http URL as
  // secure.
  assert.equal(await sent("/api/x"), jar.cookieHeader(new URL("/api/x", origin)));
  assert.equal(await sent("/api/x"), "api=a1; session=s1; lsec=l1");
  assert.equal(await sent("/"), "session=s1; lsec=l1");
  // curl -c writes back what it read: every field as the jar wrote it.
  const out = fresh();
  await run("curl", ["-s", "-b", path, "-c", out, `${server.url}/`]);
  const sort = (lines: string[][]) => lines.map((fields) => fields.join("\t")).sort();
  assert.deepEqual(
    sort(cookieLines(await fs.readFile(out, "utf8"))),
    sort(cookieLines(await fs.readFile(path, "utf8"))),
  );
});

test("curl -b honours the expiry the jar wrote", async () => {
  const path = fresh();
  const jar = new CookieJar();
  jar.setFromResponse(new URL(server.url), ["brief=1; Max-Age=1", "stays=2; Max-Age=600"]);
  await jar.save(path);
  assert.deepEqual(pairs(await run("curl", ["-s", "-b", path, `${server.url}/`])), [
    "brief=1",
    "stays=2",
  ]);
  // Written as whole seconds, rounded up; curl drops a cookie once that second is past.
  await new Promise((resolve) => setTimeout(resolve, 3100));
  assert.equal(await run("curl", ["-s", "-b", path, `${server.url}/`]), "stays=2");
});

test("a file curl -c wrote is loaded and its cookies sent", async () => {
  const path = fresh();
  await run("curl", ["-s", "-c", path, `${server.url}/set`]);
  assert.match(await fs.readFile(path, "utf8"), /#HttpOnly_/);
  const jar = await CookieJar.load(path);
  assert.deepEqual(Object.keys(jar.toObject()).sort(), ["api", "sid", "theme"]);
  assert.equal(jar.get("theme"), "dark");
  await using session = new Session({ cookies: jar });
  const api = (await session.get(`${server.url}/api/v`)).text;
  assert.match(api, /^api=a1; /);
  assert.deepEqual(pairs(api), ["api=a1", "sid=s1", "theme=dark"]);
  assert.deepEqual(pairs((await session.get(`${server.url}/`)).text), ["sid=s1", "theme=dark"]);
});

test("Python's MozillaCookieJar reads a file the jar saved", async () => {
  const path = fresh();
  const now = Date.now();
  await sampleJar(now).save(path);
  const script = `
import http.cookiejar, json, sys
for ignore in (False, True):
    jar = http.cookiejar.MozillaCookieJar(sys.argv[1])
    jar.load(ignore_discard=True, ignore_expires=ignore)
    print(json.dumps(sorted([c.name, c.value, c.domain, c.path, c.secure, c.expires,
        c.domain_specified, c.has_nonstandard_attr("HTTPOnly")] for c in jar)))
`;
  const [strict, lenient] = (await run(PYTHON, ["-c", script, path])).trim().split("\n")
    .map((line) => JSON.parse(line) as unknown[][]);
  const lines = new Map(cookieLines(await fs.readFile(path, "utf8")).map((f) => [f[5], f]));
  const expires = (name: string) => Number(lines.get(name)![4]);
  const persistent = [
    ["dom", "d1", ".example.com", "/app", true, expires("dom"), true, false],
    ["host", "h1", "www.example.com", "/", false, expires("host"), false, false],
    ["year", "y1", "www.example.com", "/", false, expires("year"), false, false],
  ];
  assert.deepEqual(strict, persistent);
  // Python before 3.14 takes expiry 0 as expired; it keeps the line when told to ignore that.
  assert.deepEqual(lenient, [
    persistent[0],
    ["ho", "o1", "www.example.com", "/", false, 0, false, true],
    ...persistent.slice(1),
  ]);
});
