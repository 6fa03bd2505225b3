// Runs the whole suite on Deno, Bun and Node, then the browser test (tests/browser/run.ts, in
// headless Chromium) and the Workers test (tests/workers/run.ts, in workerd through Miniflare),
// and prints one line with the totals:
//   deno task test            (or: npx -y deno@2 task test)
//   deno task test node       (one of them: deno, bun, node, browser or workers)
// Starts a real httpbin on loopback for the interop tests when one can be had and HTTPBIN_URL
// is not set; without it those tests say loudly that they skipped. Node 24+ is the one on PATH
// or the `node` package from the npm registry; the browser test installs playwright-core into
// tests/browser/deps/node_modules when it is missing and needs Debian's chromium; the Workers
// test installs Miniflare (and with it workerd) into tests/workers/deps/node_modules. The dev-only
// packages of tests/deps (Zod, Valibot) are installed the same way.

const root = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();

interface Tally {
  runtime: string;
  passed: number;
  failed: number;
  skipped: number;
  ok: boolean;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function works(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** Starts httpbin under gunicorn when Debian's python3-httpbin and gunicorn are installed. */
async function startHttpbin(): Promise<{ url: string; stop(): Promise<void> } | null> {
  for (const python of ["/usr/bin/python3", "python3"]) {
    if (!await works(python, ["-c", "import httpbin, gunicorn"])) continue;
    const port = freePort();
    const child = new Deno.Command(python, {
      args: ["-m", "gunicorn", "-b", `127.0.0.1:${port}`, "--threads", "16", "httpbin:app"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
    };
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`${url}/get`);
        await res.body?.cancel();
        if (res.ok) return { url, stop };
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 200));
    }
    await stop();
    console.error(`httpbin did not start on ${url}`);
  }
  return null;
}

/** Runs a command, streaming its output, and returns what it printed. */
async function run(cmd: string, args: string[], env: Record<string, string>): Promise<
  { code: number; text: string }
> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: root,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const pump = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      await sink.write(chunk);
    }
  };
  await Promise.all([pump(child.stdout, Deno.stdout), pump(child.stderr, Deno.stderr)]);
  return { code: (await child.status).code, text };
}

// deno-lint-ignore no-control-regex
const strip = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

function number(text: string, pattern: RegExp): number {
  const matches = [...text.matchAll(pattern)];
  return matches.length === 0 ? 0 : Number(matches[matches.length - 1][1]);
}

async function bunCommand(): Promise<[string, string[]]> {
  if (await works("bun", ["--version"])) return ["bun", []];
  return ["npx", ["-y", "bun@1"]];
}

/** The tests use `await using`, which Node 22's V8 cannot parse; Node 24 strips types too. */
const NODE_MAJOR = 24;

/** The path of a Node of NODE_MAJOR or newer: the one on PATH, else `npx -y node@NODE_MAJOR`. */
async function nodePath(): Promise<string | null> {
  const probe = ["-p", "JSON.stringify([process.versions.node, process.execPath])"];
  const npx = ["-y", `node@${NODE_MAJOR}`, ...probe];
  for (const [cmd, args] of [["node", probe], ["npx", npx]] as const) {
    try {
      const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
      if (!out.success) continue;
      const [version, path] = JSON.parse(decoder.decode(out.stdout)) as [string, string];
      if (Number(version.split(".")[0]) >= NODE_MAJOR) return path;
    } catch { /* not installed, or not this version */ }
  }
  return null;
}

function missing(runtime: string, why: string): Tally {
  console.log(`${runtime}: ${why}`);
  return { runtime, passed: 0, failed: 1, skipped: 0, ok: false };
}

/** Node's own test runner over the same files. */
async function nodeTally(node: string): Promise<Tally> {
  const { code, text } = await run(
    node,
    ["--test", "--test-reporter=spec", "--test-timeout=60000", "tests/**/*_test.ts"],
    env,
  );
  const plain = strip(text);
  return {
    runtime: "node",
    passed: number(plain, /^ℹ pass (\d+)$/gm),
    failed: number(plain, /^ℹ fail (\d+)$/gm) + number(plain, /^ℹ cancelled (\d+)$/gm),
    skipped: number(plain, /^ℹ skipped (\d+)$/gm),
    ok: code === 0,
  };
}

/**
 * Installs the dev-only npm packages of `dir` (its package-lock.json) when they are missing;
 * null when they are there, else why not.
 */
async function npmDeps(dir: string): Promise<string | null> {
  try {
    Deno.statSync(`${root}${dir}/node_modules/.package-lock.json`);
    return null;
  } catch {
    const args = ["ci", "--prefix", dir, "--no-audit", "--no-fund"];
    return (await run("npm", args, env)).code === 0 ? null : `'npm ${args.join(" ")}' failed`;
  }
}

/** The browser test, after installing its dev-only npm packages when they are missing. */
async function browserTally(node: string): Promise<Tally> {
  const why = await npmDeps("tests/browser/deps");
  if (why !== null) return missing("browser", why);
  const { code, text } = await run(node, ["tests/browser/run.ts"], {
    ...env,
    DENO: Deno.execPath(),
  });
  const plain = strip(text);
  return {
    runtime: "browser",
    passed: number(plain, /^browser: (\d+) passed/gm),
    failed: number(plain, /^browser: \d+ passed, (\d+) failed/gm),
    skipped: 0,
    ok: code === 0,
  };
}

/** The Workers test (node:test in Node), after installing Miniflare when it is missing. */
async function workersTally(node: string): Promise<Tally> {
  const why = await npmDeps("tests/workers/deps");
  if (why !== null) return missing("workers", why);
  const { code, text } = await run(node, ["--test-reporter=spec", "tests/workers/run.ts"], {
    ...env,
    DENO: Deno.execPath(),
  });
  const plain = strip(text);
  return {
    runtime: "workers",
    passed: number(plain, /^ℹ pass (\d+)$/gm),
    failed: number(plain, /^ℹ fail (\d+)$/gm) + number(plain, /^ℹ cancelled (\d+)$/gm),
    skipped: number(plain, /^ℹ skipped (\d+)$/gm),
    ok: code === 0,
  };
}

const only = Deno.args[0]; // "deno", "bun", "node", "browser" or "workers" to run one of them
const env: Record<string, string> = { NO_COLOR: "1" };
let httpbin: Awaited<ReturnType<typeof startHttpbin>> = null;
if (!Deno.env.get("HTTPBIN_URL") && only !== "browser") {
  httpbin = await startHttpbin();
  if (httpbin !== null) {
    env.HTTPBIN_URL = httpbin.url;
    console.log(`httpbin: ${httpbin.url}`);
  } else {
    console.log("httpbin: not available (install python3-httpbin and gunicorn)");
  }
}

const tallies: Tally[] = [];
// Zod and Valibot for the validation tests, and the redis client of the shared-cache example, on
// every runtime.
if (only !== "browser" && only !== "workers") {
  for (const dir of ["tests/deps", "examples/deps"]) {
    const why = await npmDeps(dir);
    if (why !== null) console.log(`${dir}: ${why}`);
  }
}
try {
  if (only === undefined || only === "deno") {
    const { code, text } = await run(
      Deno.execPath(),
      [
        "test",
        "-A",
        "--doc",
        "tests/",
        "mod.ts",
        "sync.ts",
        "cli.ts",
        "src/",
        "README.md",
        "docs/",
      ],
      env,
    );
    const plain = strip(text);
    tallies.push({
      runtime: "deno",
      passed: number(plain, /(\d+) passed/g),
      failed: number(plain, /(\d+) failed/g),
      skipped: number(plain, /(\d+) ignored/g),
      ok: code === 0,
    });
  }
  if (only === undefined || only === "bun") {
    const [cmd, pre] = await bunCommand();
    const { code, text } = await run(cmd, [...pre, "test", "--timeout", "60000", "tests/"], env);
    const plain = strip(text);
    tallies.push({
      runtime: "bun",
      passed: number(plain, /^\s*(\d+) pass$/gm),
      failed: number(plain, /^\s*(\d+) fail$/gm),
      skipped: number(plain, /^\s*(\d+) skip$/gm),
      ok: code === 0,
    });
  }
  if (only === undefined || only === "node" || only === "browser" || only === "workers") {
    const node = await nodePath();
    const why = `cannot obtain Node ${NODE_MAJOR}+ (npx -y node@${NODE_MAJOR})`;
    if (only === undefined || only === "node") {
      tallies.push(node === null ? missing("node", why) : await nodeTally(node));
    }
    if (only === undefined || only === "browser") {
      tallies.push(node === null ? missing("browser", why) : await browserTally(node));
    }
    if (only === undefined || only === "workers") {
      tallies.push(node === null ? missing("workers", why) : await workersTally(node));
    }
  }
} finally {
  await httpbin?.stop();
}

let passed = 0;
let failed = 0;
console.log("");
for (const t of tallies) {
  // A runner that exits non-zero with no failed test counted still failed (e.g. a crash).
  const runFailed = t.failed === 0 && !t.ok ? 1 : t.failed;
  console.log(`${t.runtime}: ${t.passed} passed, ${runFailed} failed, ${t.skipped} skipped`);
  passed += t.passed;
  failed += runFailed;
}
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 && passed > 0 ? 0 : 1);
