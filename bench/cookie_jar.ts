// The cookie jar's two costs that grow with its size: storing a cookie once the jar is full, and
// building the Cookie header of a request. Prints one line per scenario, the median of the rounds.
//
//   deno run -A bench/cookie_jar.ts [--rounds=N] [--module=path/to/cookies.ts]
//   bun bench/cookie_jar.ts [--rounds=N] [--module=path/to/cookies.ts]
//
// `--module` measures another copy of src/cookies/jar.ts (the one before a change, say) in the same
// run conditions.
//
// - insert, one host: 24,000 cookies from one host; the cost of each insert past the 3,000th.
// - insert, many sites: 24,000 cookies from 2,400 sites (10 each); the same measure.
// - header: 3,000 cookies from 300 sites (10 each, half with `Domain`); the cost of one
//   `cookieHeader()` for a URL of one of them.
// - first Domain cookie: the first cookie of the process with a `Domain` attribute, which reads
//   the Public Suffix List (once, so one measure, taken before the others).

import process from "node:process";

interface Jar {
  setFromResponse(url: URL, setCookie: readonly string[], now?: number): void;
  cookieHeader(url: URL, now?: number): string | null;
  readonly size: number;
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined =>
  args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(option("rounds") ?? 7);
const modulePath = option("module");
const specifier = modulePath === undefined
  ? new URL("../src/cookies/jar.ts", import.meta.url).href
  : new URL(modulePath, `file://${process.cwd()}/`).href;
const { CookieJar } = await import(specifier) as { CookieJar: new () => Jar };

const TOTAL = 24_000;
const CAP = 3_000;

/** Microseconds per insert past the cap, for `TOTAL` cookies spread over `sites` hosts. */
function insertCost(sites: number): number {
  const jar = new CookieJar();
  const now = Date.now();
  const urls = Array.from(
    { length: sites },
    (_, i) => new URL(`https://www.site${i}.test/`),
  );
  let started = 0;
  for (let i = 0; i < TOTAL; i++) {
    if (i === CAP) started = performance.now();
    const site = sites === 1 ? 0 : i % sites;
    jar.setFromResponse(
      urls[site],
      [`c${Math.floor(i / sites)}=${i}; Path=/`],
      now,
    );
  }
  const elapsed = performance.now() - started;
  if (jar.size > CAP) throw new Error(`Jar holds ${jar.size} cookies`);
  return (elapsed * 1000) / (TOTAL - CAP);
}

/** Microseconds per `cookieHeader()` with `CAP` cookies over 300 sites in the jar. */
function headerCost(): number {
  const jar = new CookieJar();
  const now = Date.now();
  for (let site = 0; site < 300; site++) {
    const url = new URL(`https://www.site${site}.test/app/page`);
    const lines = Array.from(
      { length: 10 },
      (_, i) => i % 2 === 0 ? `h${i}=${site}` : `d${i}=${site}; Domain=site${site}.test; Path=/`,
    );
    jar.setFromResponse(url, lines, now);
  }
  if (jar.size !== CAP) {
    throw new Error(`Jar holds ${jar.size} cookies, not ${CAP}`);
  }
  const url = new URL("https://www.site150.test/app/page");
  const expected = jar.cookieHeader(url, now);
  if (expected === null || expected.split("; ").length !== 10) {
    throw new Error(`Unexpected header ${JSON.stringify(expected)}`);
  }
  const calls = 2_000;
  const started = performance.now();
  for (let i = 0; i < calls; i++) jar.cookieHeader(url, now);
  return ((performance.now() - started) * 1000) / calls;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(name: string, run: () => number): void {
  run();
  const times = Array.from({ length: rounds }, run);
  const spread = `${Math.min(...times).toFixed(2)}-${Math.max(...times).toFixed(2)}`;
  console.log(
    `${name.padEnd(22)} ${median(times).toFixed(2).padStart(8)} µs  (${spread})`,
  );
}

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
console.log(
  `${runtime} ${modulePath ?? "src/cookies/jar.ts"}, ${rounds} rounds, median (min-max)`,
);
const first = performance.now();
new CookieJar().setFromResponse(new URL("https://www.example.co.uk/"), [
  "a=1; Domain=example.co.uk",
]);
console.log(
  `${"first Domain cookie".padEnd(22)} ${((performance.now() - first) * 1000).toFixed(0)} µs`,
);
measure("insert, one host", () => insertCost(1));
measure("insert, many sites", () => insertCost(2_400));
measure("header, 3000 cookies", headerCost);
