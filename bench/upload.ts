// What `upload_progress` costs: uploads of the same bytes to a loopback server that discards
// them, with raw fetch and the bytes, raw fetch and a plain stream of 64 KiB views (the cost of
// streaming alone), and raw fetch and countedBody(); then the peak RSS of 1 GB counted uploads,
// each in a fresh process.
//
//   deno run -A bench/upload.ts [--rounds=N] [--mb=N]
//   bun bench/upload.ts [--rounds=N] [--mb=N]
//
// Rounds are finely interleaved: each round runs every contender once, in a shuffled order (a
// seeded shuffle, the same in every run); reported are the medians of the per-round figures.
// The server runs in its own process on the same runtime (`--serve`): a node:net server that
// counts each request's body by its Content-Length or chunked framing and answers 200.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import process from "node:process";
import { countedBody, UPLOAD_PIECE } from "../src/_upload.ts";
import { RUNTIME } from "../src/_runtime.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const found = args.find((a) => a.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.slice(name.length + 3));
};
const MB = 1024 * 1024;
const latin1 = new TextDecoder("latin1");

/** The discarding server: prints `{"port": N}` once it listens. */
function serveDiscard(): void {
  const server = net.createServer((socket) => {
    let head = new Uint8Array(0);
    let left = -1;
    let chunked = false;
    let tail = "";
    socket.on("error", () => {});
    socket.on("data", (data: Uint8Array) => {
      let chunk = data;
      if (left < 0 && !chunked) {
        const joined = new Uint8Array(head.byteLength + chunk.byteLength);
        joined.set(head);
        joined.set(chunk, head.byteLength);
        // Latin-1 decodes one character per byte: an index in the text is one in the bytes.
        const end = latin1.decode(joined.subarray(0, 64 * 1024)).indexOf(
          "\r\n\r\n",
        );
        if (end < 0) {
          head = joined;
          return;
        }
        const lower = latin1.decode(joined.subarray(0, end)).toLowerCase();
        chunked = lower.includes("transfer-encoding: chunked");
        left = chunked ? 0 : Number(/content-length: *(\d+)/.exec(lower)?.[1] ?? 0);
        chunk = joined.subarray(end + 4);
        head = new Uint8Array(0);
      }
      let done: boolean;
      if (chunked) {
        // The body ends with the last chunk "0\r\n\r\n"; nothing else in it is inspected.
        tail = (tail +
          latin1.decode(chunk.subarray(Math.max(0, chunk.byteLength - 8))))
          .slice(-8);
        done = tail.endsWith("\r\n0\r\n\r\n");
      } else {
        left -= chunk.byteLength;
        done = left <= 0;
      }
      if (done) {
        left = -1;
        chunked = false;
        tail = "";
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      }
    });
  });
  server.listen(0, "127.0.0.1", () => {
    console.log(
      JSON.stringify({ port: (server.address() as net.AddressInfo).port }),
    );
  });
}

/** This file run again on the same runtime, with `extra` arguments. */
function child(extra: string[]) {
  const file = new URL(import.meta.url).pathname;
  const argv = RUNTIME === "deno" ? ["run", "-A", file, ...extra] : [file, ...extra];
  return spawn(process.execPath, argv, {
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** The first line the child prints, parsed. */
function firstLine<T>(proc: ReturnType<typeof child>): Promise<T> {
  return new Promise((resolve, reject) => {
    let text = "";
    proc.stdout!.on("data", (chunk: Uint8Array) => {
      text += new TextDecoder().decode(chunk);
      const end = text.indexOf("\n");
      if (end >= 0) resolve(JSON.parse(text.slice(0, end)));
    });
    proc.on(
      "exit",
      (code) => reject(new Error(`child exited with ${code}: ${text}`)),
    );
  });
}

type Contender = "fetch bytes" | "fetch plain stream" | "fetch counted";
const CONTENDERS: readonly Contender[] = [
  "fetch bytes",
  "fetch plain stream",
  "fetch counted",
];

/** 64 KiB views of `bytes`, without counting: what streaming costs by itself. */
function plainStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset += UPLOAD_PIECE));
    },
  }, { highWaterMark: 0 });
}

async function upload(
  url: string,
  contender: Contender,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<number> {
  // Bun and Node send a stream with the Content-Length given; Deno sends it chunked anyway.
  const length = { "content-length": String(bytes.byteLength) };
  let init: RequestInit & { duplex?: "half" };
  let calls = 0;
  if (contender === "fetch bytes") {
    init = { method: "POST", body: bytes };
  } else if (contender === "fetch plain stream") {
    init = {
      method: "POST",
      body: plainStream(bytes),
      headers: length,
      duplex: "half",
    };
  } else {
    const counted = countedBody(bytes, () => calls++);
    init = {
      method: "POST",
      body: counted.body,
      headers: length,
      duplex: "half",
    };
  }
  const started = performance.now();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`${contender}: status ${res.status}`);
  if (
    contender === "fetch counted" && calls < bytes.byteLength / UPLOAD_PIECE
  ) {
    throw new Error(`${contender}: progress was called ${calls} times`);
  }
  return ms;
}

function shuffled(round: number): Contender[] {
  let seed = 0x2545f491 ^ (round + 1000);
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const order = [...CONTENDERS];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Peak RSS of one 1 GB counted upload, measured in this (fresh) process. */
async function memory(url: string, kind: "bytes" | "stream"): Promise<void> {
  const size = 1024 * MB;
  const block = new Uint8Array(UPLOAD_PIECE).fill(7);
  let made = 0;
  // The bytes case holds the whole body in memory first; the stream case makes it as pulled.
  const body: BodyInit = kind === "bytes"
    ? new Uint8Array(size).fill(7)
    : new ReadableStream<Uint8Array>({
      pull(controller) {
        if (made >= size) return controller.close();
        made += UPLOAD_PIECE;
        controller.enqueue(block.slice());
      },
    }, { highWaterMark: 0 });
  const before = rss();
  resetPeak();
  let calls = 0;
  const counted = countedBody(body, () => calls++, { total: size });
  const started = performance.now();
  const res = await fetch(url, {
    method: "POST",
    body: counted.body,
    headers: { "content-length": String(size) },
    duplex: "half",
  } as RequestInit);
  await res.arrayBuffer();
  const ms = performance.now() - started;
  const peak = peakRss();
  console.log(
    JSON.stringify({ kind, before, peak, growth: peak - before, ms, calls }),
  );
}

function status(field: string): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
    fs.readFileSync("/proc/self/status", "utf8"),
  );
  return match === null ? NaN : Number(match[1]) * 1024;
}
const rss = (): number => status("VmRSS");
const peakRss = (): number => status("VmHWM");
function resetPeak(): void {
  fs.writeFileSync("/proc/self/clear_refs", "5");
}

async function main(): Promise<void> {
  if (args.includes("--serve")) return serveDiscard();
  const memoryArg = args.find((a) => a.startsWith("--memory="));
  const urlArg = args.find((a) => a.startsWith("--url="));
  if (memoryArg !== undefined && urlArg !== undefined) {
    return memory(urlArg.slice(6), memoryArg.slice(9) as "bytes" | "stream");
  }
  const rounds = option("rounds", 15);
  const size = option("mb", 256) * MB;
  const server = child(["--serve"]);
  try {
    const { port } = await firstLine<{ port: number }>(server);
    const url = `http://127.0.0.1:${port}/upload`;
    const bytes = new Uint8Array(size).map((_, i) => i & 0xff);
    for (const contender of CONTENDERS) {
      await upload(url, contender, bytes.subarray(0, 16 * MB));
    }
    const rates: Record<Contender, number[]> = {
      "fetch bytes": [],
      "fetch plain stream": [],
      "fetch counted": [],
    };
    const ratios: number[] = [];
    const streamRatios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const ms: Partial<Record<Contender, number>> = {};
      for (const contender of shuffled(round)) {
        ms[contender] = await upload(url, contender, bytes);
      }
      for (const contender of CONTENDERS) {
        rates[contender].push(size / MB / (ms[contender]! / 1000));
      }
      ratios.push(ms["fetch bytes"]! / ms["fetch counted"]!);
      streamRatios.push(ms["fetch plain stream"]! / ms["fetch counted"]!);
    }
    console.log(
      `${RUNTIME}: ${rounds} rounds of ${size / MB} MB uploads, medians of rounds`,
    );
    for (const contender of CONTENDERS) {
      console.log(
        `  ${contender.padEnd(20)} ${median(rates[contender]).toFixed(0)} MB/s`,
      );
    }
    const spread = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const quartile = (q: number) => sorted[Math.floor(q * (sorted.length - 1))].toFixed(3);
      return `${median(values).toFixed(3)} (IQR ${quartile(0.25)}-${quartile(0.75)})`;
    };
    console.log(`  throughput ratio counted / bytes:        ${spread(ratios)}`);
    console.log(
      `  throughput ratio counted / plain stream: ${spread(streamRatios)}`,
    );
    for (const kind of ["bytes", "stream"] as const) {
      const sample = await firstLine<
        { before: number; peak: number; growth: number; ms: number }
      >(
        child([`--memory=${kind}`, `--url=${url}`]),
      );
      console.log(
        `  1 GB counted upload from ${kind === "bytes" ? "a 1 GB Uint8Array" : "a stream"}: ` +
          `peak RSS ${(sample.peak / MB).toFixed(0)} MB (${(sample.growth / MB).toFixed(0)} MB ` +
          `over the ${(sample.before / MB).toFixed(0)} MB before), ` +
          `${(1024 / (sample.ms / 1000)).toFixed(0)} MB/s`,
      );
    }
  } finally {
    server.kill();
  }
}

await main();
