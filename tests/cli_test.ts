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
import { Buffer } from "node:buffer";
import { type CliWriter, main } from "../cli.ts";
import { formatBytes, formatJson } from "../src/cli/_output.ts";
import {
  closedPort,
  type Echo,
  header,
  IS_DENO,
  type RawServer,
  rawServer,
  response,
  serve,
  sized,
  type TestServer,
} from "./_server.ts";

const cliPath = new URL("../cli.ts", import.meta.url).pathname;
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
  const [cmd, pre] = IS_DENO
    ? [process.execPath, ["run", "-A", cliPath]]
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

/** Runs main() in-process with terminal writers; returns the code and what each writer got. */
async function onTerminal(
  args: string[],
  options: {
    fetch?: (req: Request) => Response | Promise<Response>;
    env?: Record<string, string>;
  } = {},
): Promise<{ code: number; stdout: string; stderr: string; written: number }> {
  const stdout = writer(true);
  const stderr = writer(true);
  let written = 0;
  const counting: CliWriter = {
    isTerminal: true,
    columns: 80,
    write(chunk) {
      written += chunk.byteLength;
      return stdout.write(chunk);
    },
  };
  const code = await main(args, { stdout: counting, stderr, env: options.env ?? {}, ...options });
  return { code, stdout: stdout.text(), stderr: stderr.text(), written };
}

test("cli pretty-printing stays within 16 times the body: 20,000-deep nesting, wide arrays", async () => {
  const wide = `[${"1,".repeat(20_000)}1]`;
  const cases: [string, string][] = [
    ["deep arrays", "[".repeat(20_000) + "]".repeat(20_000)],
    ["deep objects", '{"a":'.repeat(20_000) + "1" + "}".repeat(20_000)],
    ["deep, then wide", "[".repeat(31) + wide + "]".repeat(31)],
    ["wide", wide],
    ["wide objects", `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":[]`).join(",")}}`],
  ];
  for (const [name, body] of cases) {
    for (const env of [{}, { NO_COLOR: "1" }] as Record<string, string>[]) {
      const fetch = () => new Response(body, { headers: { "content-type": "application/json" } });
      const run = await onTerminal(["http://api.test/"], { fetch, env });
      assert.equal(run.code, 0, `${name}: ${run.stderr}`);
      assert.ok(
        run.written <= body.length * 16 + 4096,
        `${name}: ${run.written} bytes printed for a body of ${body.length}`,
      );
      assert.ok(run.written >= body.length, name);
    }
  }
  // Shallow levels stay indented; deeper ones are compact.
  const deep = formatJson("[".repeat(40) + "]".repeat(40), false)!;
  assert.match(deep, /^\[\n {2}\[\n {4}\[/);
  assert.ok(deep.includes(`\n${"  ".repeat(32)}[[[[[[[[]]]]]]]]\n${"  ".repeat(31)}]`), deep);
  // A wide array 32 levels down would grow past the limit: it is printed as it came.
  assert.equal(formatJson("[".repeat(31) + wide + "]".repeat(31), true), null);
});

test("cli prints 'HTTP 404 Not Found' to stderr for an error status with an empty body", async () => {
  const head = await cli(["HEAD", `${base}/status/404`]);
  assert.equal(head.code, 4);
  assert.equal(head.stdout, "");
  assert.equal(head.stderr, "HTTP 404 Not Found\n");

  const fetch = () => new Response(null, { status: 503 });
  const tty = await onTerminal(["http://api.test/"], { fetch });
  assert.equal(tty.code, 5);
  assert.equal(tty.stdout, "");
  assert.equal(tty.stderr, "HTTP 503 Service Unavailable\n");

  const withBody = await cli([`${base}/status/404`]);
  assert.equal(withBody.stderr, "", "a body says what went wrong by itself");
});

test("cli exits 3 when the -o file cannot be written or the @FILE cannot be read", async () => {
  const missingDir = path.join(tmp, "no-such-dir", "out.bin");
  const write = await cli([`${base}/bytes/10`, "-o", missingDir]);
  assert.equal(write.code, 3, write.stderr);
  assert.match(write.stderr, /^requests: Cannot write -o ".*out\.bin": /);

  const read = await cli(["POST", `${base}/post`, `@${path.join(tmp, "missing.bin")}`]);
  assert.equal(read.code, 3, read.stderr);
  assert.match(read.stderr, /^requests: Cannot read @FILE ".*missing\.bin": /);
  const dir = await cli(["POST", `${base}/post`, `@${tmp}`]);
  assert.equal(dir.code, 3, dir.stderr);

  const help = await cli(["--help"]);
  assert.match(help.stdout, /3 when a local file \(-o FILE, @FILE\) cannot be written or\s+read/);
  const moduleDoc = fs.readFileSync(cliPath, "utf8");
  assert.match(moduleDoc, /3 when a local file \(`-o FILE`, `@FILE`\) cannot be written or read/);
});

test("cli sends an @FILE body from the file, with its Content-Length", async () => {
  const file = path.join(tmp, "upload.bin");
  const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
  fs.writeFileSync(file, bytes);
  const run = await cli([
    "PUT",
    `${base}/put`,
    `@${file}`,
    "Content-Type:application/octet-stream",
  ]);
  const e = echoed(run);
  assert.equal(e.method, "PUT");
  assert.equal(e.body_length, bytes.byteLength);
  assert.equal(header(e, "content-length"), String(bytes.byteLength));
  assert.deepEqual(Uint8Array.from(atob(e.body_base64), (c) => c.charCodeAt(0)), bytes);
  assert.equal((echoed(await cli([`${base}/post`, `@${file}`]))).method, "POST");

  const usage = await cli([`${base}/post`, `@${file}`, "a=1"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /Cannot combine an @FILE body/);
});

test("cli shows an upload progress bar for an @FILE body when stderr is a terminal (needs upload_progress)", async () => {
  const file = path.join(tmp, "big-upload.bin");
  fs.writeFileSync(file, new Uint8Array(3_000_000));
  const run = await onTerminal(["POST", `${base}/post`, `@${file}`], { env: { NO_COLOR: "1" } });
  assert.equal(run.code, 0, run.stderr);
  assert.equal((JSON.parse(run.stdout) as Echo).body_length, 3_000_000);
  assert.match(run.stderr, /100% \[#+\] 3\.0 MB of 3\.0 MB/);
  assert.match(run.stderr, /Sent 3\.0 MB from .*big-upload\.bin\n/);
});

test("cli -v shows what each redirect hop sent, from the response's own request", async () => {
  const run = await cli([
    "-v",
    "-a",
    "user:s3cret",
    "POST",
    `${base}/redirect/303?to=/echo`,
    "a=1",
    "X-Trace:t1",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stderr.split("\n");
  const hop = lines.indexOf(`> GET ${base}/echo`);
  assert.ok(hop > 0, run.stderr);
  const sent = lines.slice(hop + 1, lines.indexOf("< 200 OK"));
  assert.ok(sent.includes("> x-trace: t1"), run.stderr);
  assert.ok(sent.includes("> authorization: ***"), run.stderr);
  assert.ok(!sent.some((line) => /^> content-(type|length):/.test(line)), "303 drops the body");
  assert.doesNotMatch(run.stderr, /s3cret/);
  assert.doesNotMatch(fs.readFileSync(cliPath, "utf8"), /redirects\.ts/);
});

test("cli under deno task writes a relative -o where the user ran it (INIT_CWD), not in the root", async () => {
  const root = path.dirname(cliPath);
  const here = fs.mkdtempSync(path.join(tmp, "cwd-"));
  const runTask = (args: string[]): Promise<Run> => {
    // deno task runs in the config's directory and sets INIT_CWD to where it was started; on
    // Bun and Node the same situation is set up by hand.
    const [cmd, argv, cwd, env] = IS_DENO
      ? [process.execPath, ["task", "--config", path.join(root, "deno.json"), "cli"], here, {}]
      : [process.execPath, [cliPath], root, { INIT_CWD: here }];
    // deno task keeps an INIT_CWD it inherits (as it does under `deno task test`): drop it.
    const inherited = { ...process.env };
    delete inherited.INIT_CWD;
    const child = spawn(cmd, [...argv, ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...inherited, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => stdout += chunk);
    child.stderr.on("data", (chunk) => stderr += chunk);
    return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  };
  const name = `init-cwd-${process.pid}.bin`;
  const run = await runTask([`${base}/bytes/1000`, "-o", name]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(fs.statSync(path.join(here, name)).size, 1000);
  assert.equal(fs.existsSync(path.join(root, name)), false, "nothing written in the root");

  fs.writeFileSync(path.join(here, "body.txt"), "from the user's directory");
  const upload = await runTask([`${base}/post`, "@body.txt"]);
  assert.equal(echoed(upload).body, "from the user's directory");
});

test("cli removes the partial -o file on Ctrl-C (SIGINT) during a download and exits 130", async () => {
  const file = path.join(tmp, "interrupted.bin");
  const [cmd, pre] = IS_DENO
    ? [process.execPath, ["run", "-A", cliPath]]
    : [process.execPath, [cliPath]];
  // 1,000 bytes, one every 20 ms: 20 s, far longer than the test waits.
  const child = spawn(cmd, [...pre, `${base}/drip/1000/20`, "-o", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => stderr += chunk);
  const closed = new Promise<[number | null, string | null]>((resolve) =>
    child.on("close", (code, signal) => resolve([code, signal]))
  );
  const deadline = Date.now() + 15_000;
  while (!(fs.existsSync(file) && fs.statSync(file).size > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(fs.statSync(file).size > 0, "the download had started");
  // By pid: Deno's child.kill() reports the signal it sent as the cause of exit, handled or not.
  process.kill(child.pid!, "SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const [code, signal] = await closed;
  clearTimeout(timer);
  assert.equal(signal, null, "the CLI handled the signal itself");
  assert.equal(code, 130, stderr);
  assert.equal(stderr, `requests: interrupted; removed the partial file ${file}\n`);
  assert.equal(fs.existsSync(file), false);
});

/**
 * A server that sends `pieces` one at a time as `type`, and sends the next only once `shown()`
 * includes the marker of the last one (or after 5 s; a null marker: at once); `inTime()` counts
 * the markers shown in time.
 */
async function liveServer(
  type: string,
  pieces: [string, string | null][],
  shown: () => string,
): Promise<TestServer & { inTime(): number }> {
  let inTime = 0;
  const live = await serve(() => {
    let i = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          const marker = i > 0 ? pieces[i - 1][1] : null;
          if (marker !== null) {
            const deadline = Date.now() + 5000;
            while (!shown().includes(marker) && Date.now() < deadline) {
              await new Promise((r) => setTimeout(r, 5));
            }
            if (shown().includes(marker)) inTime++;
          }
          if (i === pieces.length) return controller.close();
          controller.enqueue(new TextEncoder().encode(pieces[i++][0]));
        },
      }),
      { headers: { "content-type": type } },
    );
  });
  return Object.assign(live, { inTime: () => inTime });
}

test("cli prints NDJSON records on a terminal one by one as they arrive, pretty-printed", async () => {
  for (const type of ["application/x-ndjson", "application/jsonl", "application/stream+json"]) {
    const stdout = writer(true);
    const live = await liveServer(type, [
      ['{"token":"Hel', null],
      ['lo"}\n{"token":', '"Hello"'],
      ['" world"}\n', '" world"'],
    ], stdout.text);
    try {
      const code = await main([live.url], { stdout, stderr: writer(true), env: { NO_COLOR: "1" } });
      assert.equal(code, 0);
      assert.equal(stdout.text(), '{\n  "token": "Hello"\n}\n{\n  "token": " world"\n}\n', type);
      // The first piece is half a record: only the two complete ones are shown, each in time.
      assert.equal(live.inTime(), 2, type);
    } finally {
      await live.close();
    }
  }
});

test("cli prints a text/event-stream on a terminal line by line as it arrives", async () => {
  const stdout = writer(true);
  const live = await liveServer("text/event-stream; charset=utf-8", [
    ['event: token\ndata: {"t":"Hel"}\n\n', 'data\x1b[0m: {"t":"Hel"}'],
    [": keep-alive\nid: 2\ndata: lo\n\n", "data\x1b[0m: lo"],
  ], stdout.text);
  try {
    const code = await main([live.url], { stdout, stderr: writer(true), env: {} });
    assert.equal(code, 0);
    const key = (name: string) => `\x1b[34;1m${name}\x1b[0m`;
    assert.equal(
      stdout.text(),
      `${key("event")}: token\n${key("data")}: {"t":"Hel"}\n\n\x1b[2m: keep-alive\x1b[0m\n` +
        `${key("id")}: 2\n${key("data")}: lo\n\n`,
    );
    assert.equal(live.inTime(), 2);
  } finally {
    await live.close();
  }
});

test("cli pretty-prints JSON holding strings of megabytes and runs of escapes", async () => {
  const long = "a".repeat(10_000_000);
  const escapes = '\\u0000\\\\\\"'.repeat(200_000);
  const body = `{"blob":"${long}","esc":"${escapes}","n":[1]}`;
  const fetch = () => new Response(body, { headers: { "content-type": "application/json" } });
  const run = await onTerminal(["http://api.test/"], { fetch, env: { NO_COLOR: "1" } });
  assert.equal(run.code, 0, run.stderr.slice(0, 200));
  assert.equal(
    run.stdout,
    `{\n  "blob": "${long}",\n  "esc": "${escapes}",\n  "n": [\n    1\n  ]\n}\n`,
  );
});

/** Control characters a terminal would act on; our own output never holds them without color. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)/;
/** A hostile text body: retitles the window, clears it, rings, overwrites, and a C1 CSI. */
const HOSTILE = "a\x1b]0;pwned\x07b \x1b[2J\tc\r\nd\rX\x08Y\u009b31m\x7f\r\n";
const HOSTILE_SHOWN = "a\\x1b]0;pwned\\x07b \\x1b[2J\tc\r\nd\\x0dX\\x08Y\\x9b31m\\x7f\r\n";

test("cli main() shows control characters visibly on a terminal: text, events, NDJSON, JSON, headers", async () => {
  const cases: [string, BodyInit, string][] = [
    ["text/plain", HOSTILE, HOSTILE_SHOWN],
    // A CR at the end of one piece ends a CRLF or stands alone, as the next piece says.
    ["text/plain", pieces(["a\r", "\nb\r", "c\r"]), "a\r\nb\\x0dc\\x0d\n"],
    ["text/event-stream", "data: \x1b]0;pwned\x07\n\n", "data: \\x1b]0;pwned\\x07\n\n"],
    [
      "application/x-ndjson",
      '{"a":"x\x7f\u009b"}\n\x1b[2J\n',
      '{\n  "a": "x\\u007f\\u009b"\n}\n\\x1b[2J\n',
    ],
    ["application/json", "\x1b[2Jnot json", "\\x1b[2Jnot json\n"],
  ];
  for (const [type, body, shown] of cases) {
    const headers = { "content-type": type, "x-title": "a\x1b]0;pwned\x07b" };
    const fetch = () => new Response(body, { headers });
    const run = await onTerminal(["-v", "http://api.test/"], { fetch, env: { NO_COLOR: "1" } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, shown, type);
    assert.match(run.stderr, /^< x-title: a\\x1b\]0;pwned\\x07b$/m);
    assert.doesNotMatch(run.stdout + run.stderr, RAW_CONTROL, type);

    // Not a terminal: the exact bytes.
    const piped = writer(false);
    const fresh = () => new Response(typeof body === "string" ? body : HOSTILE, { headers });
    assert.equal(await main(["http://api.test/"], { stdout: piped, fetch: fresh }), 0);
    assert.equal(piped.text(), typeof body === "string" ? body : HOSTILE);
  }
});

/** A body that arrives as these pieces. */
function pieces(parts: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(encoder.encode(part));
      controller.close();
    },
  });
}

/** A raw server sending terminal escapes in bodies of each kind, a header and reason phrases. */
function hostileServer(): Promise<RawServer> {
  const bodies: Record<string, [string, string]> = {
    "/text": ["text/plain; charset=utf-8", HOSTILE],
    "/events": ["text/event-stream", "data: \x1b]0;pwned\x07\n\n"],
    "/ndjson": ["application/x-ndjson", '{"a":"\x7f"}\n\x1b[2J\n'],
    "/json": ["application/json", "\x1b[2J not json"],
  };
  return rawServer((socket, head) => {
    const target = head.split(" ")[1];
    if (target === "/reason") {
      socket.end(response("404 N\x1b[2Jo\x07", [["Content-Length", "0"]]));
      return;
    }
    const [type, body] = bodies[target];
    // \x9b is one byte in the head: a C1 CSI to the client, which reads heads as Latin-1.
    socket.end(sized("200 OK", [["Content-Type", type], ["X-Title", "a\x9b2Jb"]], body));
  });
}

/**
 * Runs the CLI under a pseudo-terminal (util-linux `script`); `stdout` is what the terminal got,
 * stdout and stderr merged.
 */
function cliOnTerminal(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const argv = IS_DENO ? [process.execPath, "run", "-A", cliPath] : [process.execPath, cliPath];
  const quoted = [...argv, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
  const child = spawn("script", ["-qec", quoted, "/dev/null"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const out: Uint8Array[] = [];
  let stderr = "";
  child.stdout.on("data", (chunk: Uint8Array) => out.push(chunk));
  child.stderr.on("data", (chunk) => stderr += chunk);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      // The terminal writes each LF as CRLF: undone here, so that what the CLI wrote is seen.
      const stdout = new TextDecoder().decode(Buffer.concat(out)).replaceAll("\r\n", "\n");
      resolve({ code, stdout, stderr });
    })
  );
}

test("cli on a terminal shows a server's escapes visibly; a pipe and -o get the exact bytes", async () => {
  const server = await hostileServer();
  try {
    const runs = await Promise.all(
      ["/text", "/events", "/ndjson", "/json"].map((p) =>
        cliOnTerminal(["-v", `${server.url}${p}`], { NO_COLOR: "1" })
      ),
    );
    for (const run of runs) {
      assert.equal(run.code, 0, run.stdout);
      assert.doesNotMatch(run.stdout, RAW_CONTROL, JSON.stringify(run.stdout));
      assert.match(run.stdout, /^< x-title: a\\x9b2Jb$/m);
    }
    const [text, events, ndjson, json] = runs.map((run) => run.stdout);
    assert.ok(text.endsWith(`< x-title: a\\x9b2Jb\n${HOSTILE_SHOWN}`), text);
    assert.ok(events.endsWith("\ndata: \\x1b]0;pwned\\x07\n\n"), events);
    assert.ok(ndjson.endsWith('\n{\n  "a": "\\u007f"\n}\n\\x1b[2J\n'), ndjson);
    assert.ok(json.endsWith("\n\\x1b[2J not json\n"), json);

    // A reason phrase on stderr ("HTTP 404 ..."), by the path that lets one through: a GET with
    // a body goes by node:http (where the runtime's fetch would refuse the response).
    const reason = await cliOnTerminal(["GET", `${server.url}/reason`, "--json", "{}"]);
    assert.equal(reason.code, 4, reason.stdout);
    assert.doesNotMatch(reason.stdout, RAW_CONTROL, JSON.stringify(reason.stdout));
    assert.match(reason.stdout, /^HTTP 404 (N\\x1b\[2Jo\\x07|Not Found)$/m);

    const piped = await cli([`${server.url}/text`]);
    assert.equal(piped.stdout, HOSTILE);
    const file = path.join(tmp, "hostile.txt");
    const saved = await cliOnTerminal([`${server.url}/text`, "-o", file]);
    assert.equal(saved.code, 0, saved.stdout);
    assert.equal(fs.readFileSync(file, "utf8"), HOSTILE);
  } finally {
    await server.close();
  }
});
