// Every script in examples/ runs to completion on this runtime and prints what it should. On
// Deno it runs with exactly the permissions its header documents: the first comment line of the
// form `//   deno run FLAGS examples/NAME.ts`, which examples/README.md must list the same way.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import process from "node:process";
import { IS_DENO } from "./_raw.ts";
import { redisMissing as missingRedis, startRedis } from "./_redis.ts";

const root = new URL("..", import.meta.url).pathname;
const readme = fs.readFileSync(`${root}examples/README.md`, "utf8");

/** The Deno flags the header of `script` documents. */
function documentedFlags(script: string): string[] {
  const header = fs.readFileSync(`${root}${script}`, "utf8").split("\n");
  const name = script.replace(/[.]/g, "\\.");
  const line = new RegExp(`^//\\s+deno run((?:\\s+-\\S+)*)\\s+${name}(?:\\s|$)`);
  for (const text of header) {
    if (!text.startsWith("//")) break;
    const match = line.exec(text);
    if (match !== null) return match[1].trim().split(/\s+/).filter(Boolean);
  }
  assert.fail(`${script} has no '//   deno run FLAGS ${script}' line in its first comment`);
}

function run(
  script: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, args] = IS_DENO
    ? [process.execPath, ["run", ...documentedFlags(script), script, ...extra]]
    : [process.execPath, [script, ...extra]];
  const options = { cwd: root, timeout: 60_000, env: { ...process.env, NO_COLOR: "1", ...env } };
  return new Promise((resolve) => {
    execFile(cmd, args, options, (
      error,
      stdout,
      stderr,
    ) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const expectations: [string, RegExp][] = [
  ["examples/quickstart.ts", /200 OK[\s\S]*x-source[\s\S]*openmv/i],
  ["examples/upload_snapshot.ts", /200[\s\S]*received_bytes/],
  ["examples/poll_with_retries.ts", /reading 3:[\s\S]*temperature/],
  ["examples/download_progress.ts", /saved 5000000 bytes/],
  ["examples/session_login.ts", /session[\s\S]*opensesame[\s\S]*200[\s\S]*camera-01/],
  [
    "examples/paginate.ts",
    /^camera-01 ★7\n[\s\S]*\n9 repositories; most starred: camera-08 \(★16\)\n$/,
  ],
  [
    "examples/login_persist.ts",
    /^(logged in; cookies saved to|reused the cookies saved in) .+\n200 [\s\S]*camera-01/,
  ],
  ["examples/stream_lines.ts", /event 1: motion detected[\s\S]*event 5: motion detected/],
  ["examples/stream_tokens.ts", /^Hello, camera-01! Tokens arrive as they come\.\n11 tokens\n$/],
  [
    "examples/upload_progress.ts",
    /^uploaded 16777216 bytes; progress reported ([2-9]|\d{2,}) times, last 16777216 of 16777216\n$/,
  ],
];

/** Scripts that need a service: run with what it needs, or not run, saying why. */
const SERVICES: Record<string, RegExp> = {
  "examples/cache_redis.ts":
    /^worker 1: \{"sky":"clear","served":1\} from_cache=false \(requests; fwd=uri-miss; fwd-status=200; stored\)\nworker 2: \{"sky":"clear","served":1\} from_cache=true \(requests; hit; ttl=(58|59|60)\)\n$/,
};

test("examples: every script in examples/ is run here, and listed in examples/README.md", () => {
  const scripts = fs.readdirSync(`${root}examples`)
    .filter((name) => name.endsWith(".ts") && !name.startsWith("_"))
    .map((name) => `examples/${name}`)
    .sort();
  const known = [...expectations.map(([script]) => script), ...Object.keys(SERVICES)];
  assert.deepEqual(scripts, known.sort());
  for (const script of scripts) {
    const command = ["deno run", ...documentedFlags(script), script].join(" ");
    assert.ok(readme.includes(`\n${command}\n`), `examples/README.md lacks '${command}'`);
  }
});

for (const [script, expected] of expectations) {
  test(`example ${script} runs with its documented permissions and prints its result`, async () => {
    const { code, stdout, stderr } = await run(script);
    assert.equal(code, 0, stderr);
    assert.match(stdout, expected);
  });
}

test("example examples/login_persist.ts logs in on the first run and not on the second", async () => {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/login-persist-`);
  try {
    const file = `${dir}/cookies.txt`;
    const first = await run("examples/login_persist.ts", ["", file]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^logged in; cookies saved to .*\n200 [\s\S]*camera-01/);
    assert.match(
      fs.readFileSync(file, "utf8"),
      /^# Netscape HTTP Cookie File\n[\s\S]*\tsession\topensesame\n/,
    );
    const second = await run("examples/login_persist.ts", ["", file]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^reused the cookies saved in .*: no login\n200 [\s\S]*camera-01/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const redisMissing = missingRedis();
test(
  "example examples/cache_redis.ts shares a cache between two workers through Redis",
  redisMissing === null ? {} : { skip: redisMissing },
  async () => {
    const redis = await startRedis();
    try {
      const { code, stdout, stderr } = await run("examples/cache_redis.ts", [], {
        REDIS_URL: redis.url,
      });
      assert.equal(code, 0, stderr);
      assert.match(stdout, SERVICES["examples/cache_redis.ts"]);
    } finally {
      await redis.stop();
    }
  },
);
if (redisMissing !== null) console.log(`examples/cache_redis.ts not run: ${redisMissing}`);
