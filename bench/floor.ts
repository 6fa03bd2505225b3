// The floor: how close to raw fetch any wrapper that does what SPEC.md asks can get, measured
// beside the module in paired rounds. Backs the numbers in bench/NOTES.md.
//
//   deno run -A bench/floor.ts [--rounds=60] [--scenario=get|post|flight]
//   bun bench/floor.ts [--rounds=60] [--scenario=get|post|flight]
//
// Starts bench/server.ts in its own process, then runs every variant below for one batch per
// round (100 sequential requests, or 1000 with 100 in flight), the order rotating each round.
// Prints the median µs per request and the median of the per-round ratios to `fetch` with their
// interquartile range. REQUESTS_MODULE=path/to/mod.ts measures another copy of the module.
//
// Variants, for the small GET (the other scenarios change the request and the body read alike):
// - fetch:    `(await fetch(url)).json()`, the baseline.
// - requests: `(await requests.get(url)).json()`.
// - ofetch:   `ofetch(url)`.
// - floor:    what SPEC leaves a wrapper at the least: a function the caller awaits (one async
//             layer), the URL checked (a regular expression, cheaper than `new URL`, once per
//             URL), `redirect: "manual"` (the module follows redirects itself) in a Request built
//             once per URL (fetch copies it for less than it converts an init; POST uses a fresh
//             init), the body kept as bytes (`bytes()`, as `r.bytes` must exist), then a shared
//             TextDecoder and JSON.parse.
// - +headers: the floor reading the two headers the module must read: Content-Encoding (Deno
//             leaves deflate and stacked codings to the module) and Content-Type (the charset).
// - +response: that, plus the module's Response object and its json() (hand-built, so without
//             the module's request path).
// - no-init:  the floor without `redirect: "manual"`, i.e. what that costs by itself.

import { spawn } from "node:child_process";
import process from "node:process";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ??
    fallback;
const rounds = Number(option("rounds", "60"));
const scenario = option("scenario", "get") as "get" | "post" | "flight";
if (!["get", "post", "flight"].includes(scenario) || !(rounds > 0)) {
  throw new TypeError(
    "Usage: floor.ts [--rounds=N] [--scenario=get|post|flight]",
  );
}

const here = new URL(".", import.meta.url).pathname;
const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
const serverArgs = isDeno ? ["run", "-A", `${here}server.ts`] : [`${here}server.ts`];
const server = spawn(process.execPath, serverArgs, {
  stdio: ["ignore", "pipe", "inherit"],
});
const port = await new Promise<number>((resolve, reject) => {
  let out = "";
  server.stdout.setEncoding("utf8");
  server.stdout.on("data", (text: string) => {
    out += text;
    const line = /^\{.*\}$/m.exec(out);
    if (line !== null) resolve(JSON.parse(line[0]).port);
  });
  server.on(
    "close",
    (code) => reject(new Error(`The server exited with ${code}`)),
  );
});

const specifier = process.env.REQUESTS_MODULE
  ? new URL(process.env.REQUESTS_MODULE, `file://${process.cwd()}/`).href
  : "../mod.ts";
const requests: typeof import("../mod.ts") = await import(specifier);
const { ofetch } = await import("ofetch");

const base = `http://127.0.0.1:${port}`;
const url = scenario === "flight" ? `${base}/bytes?n=65536` : `${base}/json`;
const PAYLOAD = {
  id: 7,
  name: "requests",
  tags: ["a", "b", "c"],
  nested: { ok: true, count: 3 },
};
const SIMPLE = /^https?:\/\/[a-z0-9.-]+(?::[0-9]{1,5})?\/[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*$/;
const decoder = new TextDecoder();
const GET = Object.freeze({ redirect: "manual" as const });
const JSON_TYPE = Object.freeze({ "content-type": "application/json" });

const templates = new Map<string, Request>();
/** A GET of `href` with `redirect: "manual"`, built once: fetch copies it for less than an init. */
function template(href: string): Request {
  let request = templates.get(href);
  if (request === undefined) {
    templates.set(check(href), request = new Request(href, GET));
  }
  return request;
}

interface Received {
  bytes: Uint8Array;
  status: number;
  statusText: string;
  headers: [string | null, string | null] | null;
}

/** The floor's request function; with `headers`, it also reads the two headers. */
async function floorGet(href: string, headers: boolean): Promise<Received> {
  const raw = await fetch(template(href));
  const read: Received["headers"] = headers
    ? [raw.headers.get("content-encoding"), raw.headers.get("content-type")]
    : null;
  return {
    bytes: await raw.bytes(),
    status: raw.status,
    statusText: raw.statusText,
    headers: read,
  };
}

function check(href: string): string {
  if (!SIMPLE.test(href)) throw new TypeError(`Not a simple URL: ${href}`);
  return href;
}

/** One request of each variant; returns something that depends on the whole body. */
const one: Record<string, () => Promise<unknown>> = scenario === "get"
  ? {
    fetch: async () => (await fetch(url)).json(),
    requests: async () => (await requests.get(url)).json(),
    ofetch: () => ofetch(url),
    floor: async () => JSON.parse(decoder.decode((await floorGet(url, false)).bytes)),
    "+headers": async () => JSON.parse(decoder.decode((await floorGet(url, true)).bytes)),
    "+response": async () => {
      const got = await floorGet(url, true);
      return new requests.Response(got.status, got.statusText, null, got.bytes).json();
    },
    "no-init": async () => JSON.parse(decoder.decode(await (await fetch(check(url))).bytes())),
  }
  : scenario === "post"
  ? {
    fetch: async () =>
      (await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(PAYLOAD),
      })).json(),
    requests: async () => (await requests.post(url, { json: PAYLOAD })).json(),
    ofetch: () => ofetch(url, { method: "POST", body: PAYLOAD }),
    floor: async () => {
      const init = {
        method: "POST",
        redirect: "manual" as const,
        headers: JSON_TYPE,
        body: JSON.stringify(PAYLOAD),
      };
      return JSON.parse(
        decoder.decode(await (await fetch(check(url), init)).bytes()),
      );
    },
  }
  : {
    fetch: async () => new Uint8Array(await (await fetch(url)).arrayBuffer()).byteLength,
    requests: async () => (await requests.get(url)).bytes.byteLength,
    ofetch: async () => (await ofetch(url, { responseType: "arrayBuffer" })).byteLength,
    floor: async () => (await (await fetch(check(url), GET)).bytes()).byteLength,
  };

const names = Object.keys(one);
const batch = async (f: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  if (scenario === "flight") {
    let next = 0;
    const worker = async () => {
      while (next < 1000) {
        next++;
        await f();
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
    return (performance.now() - started) * 1000 / 1000;
  }
  for (let i = 0; i < 100; i++) await f();
  return (performance.now() - started) * 1000 / 100;
};

const samples: Record<string, number[]> = Object.fromEntries(
  names.map((n) => [n, []]),
);
for (let round = -5; round < rounds; round++) {
  const shift = ((round % names.length) + names.length) % names.length;
  for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
    const us = await batch(one[name]);
    if (round >= 0) samples[name].push(us);
  }
}
server.kill("SIGTERM");

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const runtime = isDeno
  ? `Deno ${
    (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno
      .version.deno
  }`
  : `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`;
console.log(
  `${runtime}, ${scenario}, ${rounds} rounds: µs per request, ratio to fetch [IQR]`,
);
for (const name of names) {
  const ratios = samples[name].map((us, i) => us / samples.fetch[i]);
  console.log(
    `${name.padEnd(9)} ${quantile(samples[name], 0.5).toFixed(1).padStart(8)} µs  ` +
      `${quantile(ratios, 0.5).toFixed(3)} [${quantile(ratios, 0.25).toFixed(3)}-${
        quantile(ratios, 0.75).toFixed(3)
      }]`,
  );
}
process.exit(0);
