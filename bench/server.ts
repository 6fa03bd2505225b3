// The loopback server of the benchmark, run in its own process by bench/run.ts on the same
// runtime (Deno.serve or Bun.serve). It prints one line, `{"port": N}`, once it listens.
//
//   GET  /json          a small JSON document (about 300 bytes)
//   POST /json          echoes the JSON body it receives
//   GET  /redirect      302 to /json (or to the path in `to`), no body
//   GET  /headers       the request's header fields as a JSON object (names lower-cased), and
//                       `id: 1042` as /json has, so a contender's answer check passes on both
//   GET  /bytes?n=N     N bytes with a Content-Length; beyond 1 MiB streamed from one
//                       64 KiB block, never buffered whole
//   POST /upload        reads a multipart body of one part to the end and answers
//                       {"bytes": body size, "file": size of the part's content}
//   GET  /fresh         /json with Cache-Control: max-age=3600 (an HTTP cache serves it)
//   GET  /etag          /json with Cache-Control: no-cache and an ETag; 304 to If-None-Match
//   GET  /nostore       /json with Cache-Control: no-store (an HTTP cache never keeps it)
//   GET  /fresh-bytes?n=N&i=I
//                       /bytes?n=N with Cache-Control: max-age=3600; `i` is ignored, so each
//                       value of it is a distinct URL (a distinct entry) for an HTTP cache

const BLOCK = 64 * 1024;
const block = new Uint8Array(BLOCK).map((_, i) => i & 0xff);
const JSON_HEADERS = { "content-type": "application/json" };
const latin1 = new TextDecoder("latin1");
const OCTET_HEADERS = { "content-type": "application/octet-stream" };
const small = JSON.stringify({
  id: 1042,
  name: "requests benchmark",
  tags: ["http", "client", "deno", "bun"],
  ok: true,
  ratio: 0.97,
  owner: { login: "bench", id: 7, site_admin: false },
  items: [1, 2, 3, 4, 5, 6, 7, 8],
  url: "http://127.0.0.1/json",
  created_at: "2025-01-01T00:00:00Z",
  description: "A small JSON document, of the size a typical REST API answers with.",
});

function bytes(n: number, extra: Record<string, string> = {}): Response {
  const headers = { ...OCTET_HEADERS, ...extra, "content-length": String(n) };
  if (n <= 1024 * 1024) {
    const body = new Uint8Array(n);
    for (let i = 0; i < n; i += BLOCK) {
      body.set(block.subarray(0, Math.min(BLOCK, n - i)), i);
    }
    return new Response(body, { headers });
  }
  let left = n;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const size = Math.min(BLOCK, left);
      // A fresh view per chunk: the runtime may hold on to an enqueued chunk until it is written.
      controller.enqueue(size === BLOCK ? block.slice() : block.slice(0, size));
      left -= size;
      if (left === 0) controller.close();
    },
  });
  return new Response(stream, { headers });
}

/**
 * Counts a one-part multipart body as it streams by: the part's content is the body less its
 * headers (up to the first blank line) and less the closing `\r\n--BOUNDARY--\r\n`.
 */
async function countUpload(
  req: Request,
): Promise<{ bytes: number; file: number }> {
  const boundary = /boundary=("?)([^";]+)\1/.exec(
    req.headers.get("content-type") ?? "",
  )?.[2];
  let total = 0;
  let head = "";
  let headLength = -1;
  if (req.body !== null) {
    const reader = req.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      if (headLength < 0 && head.length < 8192) {
        head += latin1.decode(r.value.subarray(0, 8192));
        const end = head.indexOf("\r\n\r\n");
        if (end >= 0) headLength = end + 4;
      }
      total += r.value.byteLength;
    }
  }
  const tail = boundary === undefined ? 0 : `\r\n--${boundary}--\r\n`.length;
  return {
    bytes: total,
    file: headLength < 0 ? -1 : total - headLength - tail,
  };
}

/** 64 KiB bodies are what the throughput scenario asks for; keep one ready. */
const cached = new Map<number, Uint8Array<ArrayBuffer>>();

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  switch (url.pathname) {
    case "/json":
      if (req.method === "POST") {
        return new Response(await req.text(), { headers: JSON_HEADERS });
      }
      return new Response(small, { headers: JSON_HEADERS });
    case "/redirect":
      return new Response(null, {
        status: 302,
        headers: { location: url.searchParams.get("to") ?? "/json" },
      });
    case "/headers":
      return Response.json({ id: 1042, headers: Object.fromEntries(req.headers) });
    case "/bytes": {
      const n = Number(url.searchParams.get("n") ?? BLOCK);
      if (n === BLOCK) {
        let body = cached.get(n);
        if (body === undefined) {
          body = block.slice();
          cached.set(n, body);
        }
        return new Response(body, { headers: OCTET_HEADERS });
      }
      return bytes(n);
    }
    case "/upload":
      return Response.json(await countUpload(req));
    case "/fresh":
      return new Response(small, {
        headers: { ...JSON_HEADERS, "cache-control": "max-age=3600" },
      });
    case "/etag": {
      const headers = { ...JSON_HEADERS, "cache-control": "no-cache", etag: '"v1"' };
      if (req.headers.get("if-none-match") === '"v1"') {
        return new Response(null, { status: 304, headers });
      }
      return new Response(small, { headers });
    }
    case "/fresh-bytes":
      return bytes(Number(url.searchParams.get("n") ?? BLOCK), { "cache-control": "max-age=3600" });
    case "/nostore":
      return new Response(small, { headers: { ...JSON_HEADERS, "cache-control": "no-store" } });
    default:
      return new Response("not found", { status: 404 });
  }
}

type DenoServe = (
  options: { port: number; hostname: string; onListen?: () => void },
  handler: (req: Request) => Promise<Response>,
) => { addr: { port: number } };
type BunServe = (options: {
  port: number;
  hostname: string;
  fetch: (req: Request) => Promise<Response>;
  idleTimeout: number;
  maxRequestBodySize: number;
}) => { port: number };

const runtime = globalThis as unknown as {
  Deno?: { serve: DenoServe };
  Bun?: { serve: BunServe };
};
let port: number;
if (runtime.Deno !== undefined) {
  port = runtime.Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    handle,
  ).addr.port;
} else if (runtime.Bun !== undefined) {
  port = runtime.Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: handle,
    idleTimeout: 0,
    maxRequestBodySize: 2 ** 42,
  }).port;
} else {
  throw new Error("bench/server.ts runs on Deno or Bun");
}
console.log(JSON.stringify({ port }));
