// The command line (cli.ts): spawned as a child process on the current runtime against an
// in-process test server, asserting stdout, stderr and exit codes; plus the terminal-only
// output (pretty, colored JSON) through main() with stand-in writers.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { type CliWriter, main } from "../cli.ts";
import { formatBytes, formatJson } from "../src/_cli_output.ts";
import { closedPort, type Echo, header, serve, type TestServer } from "./_server.ts";

const cliPath = new URL("../cli.ts", import.meta.url).pathname;
const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
let server: TestServer;
let base: string;
let tmp: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in a child process with `args`. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const [cmd, pre] = deno !== undefined
    ? [deno.execPath(), ["run", "-A", cliPath]]
    : [process.execPath, [cliPath]];
  const child = spawn(cmd, [...pre, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => stdout += chunk);
  child.stderr.on("data", (chunk) => stderr += chunk);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

function echoed(run: Run): Echo {
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Echo;
}

/** A writer that keeps what it gets, as a terminal or not. */
function writer(isTerminal: boolean): CliWriter & { text(): string } {
  const chunks: Uint8Array[] = [];
  return {
    isTerminal,
    columns: 80,
    write(chunk) {
      chunks.push(chunk.slice());
    },
    text: () => chunks.map((c) => new TextDecoder().decode(c)).join(""),
  };
}

before(async () => {
  server = await serve();
  base = server.url;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "requests-cli-"));
});

after(async () => {
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("cli GET prints the JSON body as received and exits 0", async () => {
  const run = await cli(["GET", `${base}/get`]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  const e = JSON.parse(run.stdout) as Echo;
  assert.equal(e.method, "GET");
  assert.equal(e.path, "/get");
  const raw = await cli([
    `${base}/json?text=${encodeURIComponent('{"big":12345678901234567890}')}`,
  ]);
  assert.equal(raw.stdout, '{"big":12345678901234567890}');
});

test("cli GET turns key=value and key==value into query parameters and Name:value into headers", async () => {
  const e = echoed(
    await cli([
      "GET",
      `${base}/get`,
      "q==red fox",
      "page=2",
      "n:=3",
      "X-Test:yes",
      "-H",
      "X-Other: a:b",
    ]),
  );
  assert.equal(e.method, "GET");
  assert.deepEqual(e.query, [["q", "red fox"], ["page", "2"], ["n", "3"]]);
  assert.equal(header(e, "x-test"), "yes");
  assert.equal(header(e, "x-other"), "a:b");
});

test("cli POST sends key=value and key:=json items as a JSON body; POST is the default with items", async () => {
  for (const args of [["POST", `${base}/post`], [`${base}/post`]]) {
    const e = echoed(await cli([...args, "name=cam", "count:=3", 'tags:=["a",1]', "id==7"]));
    assert.equal(e.method, "POST");
    assert.deepEqual(JSON.parse(e.body), { name: "cam", count: 3, tags: ["a", 1] });
    assert.equal(header(e, "content-type"), "application/json");
    assert.deepEqual(e.query, [["id", "7"]]);
  }
});

test("cli PUT sends --json as given, and --form sends a form", async () => {
  const json = echoed(await cli(["PUT", `${base}/put`, "--json", '{"a": 1.50}']));
  assert.equal(json.method, "PUT");
  assert.equal(json.body, '{"a": 1.50}');
  assert.equal(header(json, "content-type"), "application/json");

  const form = echoed(await cli(["patch", `${base}/patch`, "-f", "a=1", "b=x y"]));
  assert.equal(form.method, "PATCH");
  assert.equal(form.body, "a=1&b=x+y");
  assert.match(header(form, "content-type") ?? "", /x-www-form-urlencoded/);
});

test("cli --auth sends basic auth and -v never shows the password", async () => {
  const run = await cli([
    `${base}/get`,
    "--auth",
    "user:s3cret",
    "-v",
    "Authorization-Token:t0ken",
  ]);
  const e = echoed(run);
  assert.equal(header(e, "authorization"), `Basic ${btoa("user:s3cret")}`);
  assert.doesNotMatch(run.stderr, /s3cret|t0ken/);
  assert.match(run.stderr, /^> authorization: Basic \*\*\*$/m);
});

test("cli -v prints the request line and each response's status and headers to stderr", async () => {
  const run = await cli(["-v", "POST", `${base}/redirect/303?to=/echo`, "a=1"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((JSON.parse(run.stdout) as Echo).method, "GET");
  const lines = run.stderr.split("\n");
  assert.equal(lines[0], `> POST ${base}/redirect/303?to=/echo`);
  assert.ok(lines.includes("< 303 See Other"), run.stderr);
  assert.ok(lines.includes("< location: /echo"), run.stderr);
  assert.ok(lines.includes(`> GET ${base}/echo`), run.stderr);
  assert.ok(lines.includes("< 200 OK"), run.stderr);
  assert.ok(lines.some((line) => /^< content-type: application\/json/.test(line)), run.stderr);
  assert.ok(
    lines.indexOf("< 303 See Other") < lines.indexOf(`> GET ${base}/echo`) &&
      lines.indexOf(`> GET ${base}/echo`) < lines.indexOf("< 200 OK"),
  );
});

test("cli -o streams the body to a file and prints nothing to stdout", async () => {
  const file = path.join(tmp, "download.bin");
  const size = 3_000_000;
  const run = await cli([`${base}/bytes/${size}`, "-o", file]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "");
  assert.equal(run.stderr, "", "no progress bar when stderr is not a terminal");
  const saved = fs.readFileSync(file);
  assert.equal(saved.byteLength, size);
  for (let i = 0; i < size; i += 4099) assert.equal(saved[i], i % 256);
});

test("cli exits 4 for a 4xx, 5 for a 5xx and 0 for an unfollowed 3xx, printing the body", async () => {
  const cases = [["status/404", 4], ["status/418", 4], ["status/500", 5], [
    "status/503",
    5,
  ]] as const;
  for (const [route, code] of cases) {
    const run = await cli([`${base}/${route}`]);
    assert.equal(run.code, code, route);
    assert.equal(run.stdout, "status");
  }
  const redirect = await cli([`${base}/redirect/302`, "--no-follow"]);
  assert.equal(redirect.code, 0);
});

test("cli exits 1 for network errors and prints the typed error without secrets", async () => {
  const port = await closedPort();
  const refused = await cli([`http://user:hunter2@127.0.0.1:${port}/x?token=abc`]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /^requests: ConnectionError: .*: GET http:\/\/127\.0\.0\.1:\d+\/x/);
  assert.doesNotMatch(refused.stderr, /hunter2|abc/);

  const slow = await cli([`${base}/slow/3000`, "--timeout", "0.2"]);
  assert.equal(slow.code, 1);
  assert.match(slow.stderr, /^requests: TimeoutError: /);
});

test("cli exits 2 for usage errors, saying what is wrong", async () => {
  const cases: [string[], RegExp][] = [
    [[], /Missing URL/],
    [["--bogus", base], /Unknown option "--bogus"/],
    [[base, "-o"], /Option -o needs a value/],
    [[base, "nothing"], /Invalid item "nothing"/],
    [[base, "n:=nope"], /Invalid item "n:=": not valid JSON/],
    [[base, "--json", "{nope"], /Invalid --json/],
    [[base, "--json", "{}", "a=1"], /Cannot combine --json/],
    [["ftp://example.test/"], /only http:\/\/ and https:\/\//],
    [[base, "--timeout", "soon"], /Invalid --timeout/],
    [[base, "--auth", "user-without-colon"], /Invalid --auth: expected USER:PASS/],
    [[base, "-H", "Bad Name: x"], /Invalid header for -H/],
  ];
  for (const [args, message] of cases) {
    const run = await cli(args);
    assert.equal(run.code, 2, args.join(" "));
    assert.equal(run.stdout, "");
    assert.match(run.stderr, message);
    assert.match(run.stderr, /Run 'requests --help' for usage/);
  }
});

test("cli --help prints the usage and exits 0", async () => {
  const run = await cli(["--help"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Usage: requests \[METHOD\] URL \[ITEM \.\.\.\]/);
  assert.match(run.stdout, /-o, --output FILE/);
});

test("cli main() pretty-prints colored JSON on a terminal, without color under NO_COLOR", async () => {
  const fetch = () =>
    new Response('{"a":[1,2.50,true,null],"b":{},"c":"x"}', {
      headers: { "content-type": "application/json" },
    });
  const colored = writer(true);
  assert.equal(await main(["http://api.test/"], { stdout: colored, fetch, env: {} }), 0);
  assert.ok(
    colored.text().startsWith('{\n  \x1b[34;1m"a"\x1b[0m: [\n    \x1b[36m1\x1b[0m,\n'),
    colored.text(),
  );

  const plain = writer(true);
  await main(["http://api.test/"], { stdout: plain, fetch, env: { NO_COLOR: "1" } });
  assert.equal(
    plain.text(),
    '{\n  "a": [\n    1,\n    2.50,\n    true,\n    null\n  ],\n  "b": {},\n  "c": "x"\n}\n',
  );

  const piped = writer(false);
  await main(["http://api.test/"], { stdout: piped, fetch, env: {} });
  assert.equal(piped.text(), '{"a":[1,2.50,true,null],"b":{},"c":"x"}');
});

test("cli main() shows a progress bar for -o when stderr is a terminal", async () => {
  const file = path.join(tmp, "progress.bin");
  const stderr = writer(true);
  const fetch = () =>
    new Response(new Uint8Array(200_000), { headers: { "content-length": "200000" } });
  const code = await main(["http://files.test/a.bin", "-o", file], {
    stdout: writer(false),
    stderr,
    fetch,
  });
  assert.equal(code, 0);
  assert.match(stderr.text(), /100% \[#+\] 200\.0 kB of 200\.0 kB/);
  assert.match(stderr.text(), /Saved 200\.0 kB to /);
  assert.equal(fs.statSync(file).size, 200_000);
});

test("cli formatJson() keeps tokens as sent and formatBytes() uses decimal units", () => {
  assert.equal(
    formatJson('[1e3,"a\\"b",{"k":[]}]', false),
    '[\n  1e3,\n  "a\\"b",\n  {\n    "k": []\n  }\n]',
  );
  assert.equal(formatJson("not json", false), null);
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1_500_000), "1.5 MB");
});
