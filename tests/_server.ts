// Test servers: an in-process web-standard server (Deno.serve, Bun.serve, or node:http adapting
// the web handler on Node) with an echo handler and a few routes, and httpbin's URL. The raw
// node:net servers, the response builders and the runtime detection live in tests/_raw.ts and
// are re-exported here.

import http from "node:http";
import net from "node:net";
import process from "node:process";
import { Readable } from "node:stream";
import { RUNTIME } from "./_raw.ts";
export * from "./_raw.ts";

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Requests handled so far. */
  readonly hits: number;
  close(): Promise<void>;
}

type Handler = (req: Request) => Response | Promise<Response>;
type DenoServe = (
  options: { port: number; hostname: string; onListen?: () => void },
  handler: Handler,
) => { addr: { port: number }; shutdown(): Promise<void> };
type BunServe = (
  options: { port: number; hostname: string; fetch: Handler; idleTimeout?: number },
) => { port: number; stop(force?: boolean): Promise<void> | void };

const runtime = globalThis as unknown as {
  Deno?: { serve: DenoServe };
  Bun?: { serve: BunServe };
};

/** Serves `handler` on 127.0.0.1 with a free port. */
export async function serve(handler: Handler = echo): Promise<TestServer> {
  let hits = 0;
  const counted: Handler = (req) => {
    hits++;
    return handler(req);
  };
  if (RUNTIME === "deno" && runtime.Deno !== undefined) {
    const server = runtime.Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, counted);
    return {
      url: `http://127.0.0.1:${server.addr.port}`,
      get hits() {
        return hits;
      },
      close: () => server.shutdown(),
    };
  }
  if (RUNTIME === "bun" && runtime.Bun !== undefined) {
    const server = runtime.Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: counted,
      idleTimeout: 0,
    });
    return {
      url: `http://127.0.0.1:${server.port}`,
      get hits() {
        return hits;
      },
      close: async () => {
        await server.stop(true);
      },
    };
  }
  return await nodeServe(counted, () => hits);
}

/** Resolves with `SLOW` unless `promise` settles before a zero-delay timer fires. */
const SLOW = Symbol("slow");
function soon<T>(promise: Promise<T>): Promise<T | typeof SLOW> {
  return Promise.race([promise, new Promise<typeof SLOW>((r) => setTimeout(() => r(SLOW), 0))]);
}

/**
 * Node has neither Deno.serve nor Bun.serve: node:http with the web handler adapted. A body
 * that is complete at once gets a Content-Length (as the other runtimes give a buffered body);
 * one still arriving is sent chunked, with the headers sent before the first chunk.
 */
async function nodeServe(handler: Handler, hits: () => number): Promise<TestServer> {
  const server = http.createServer(async (req, res) => {
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    let response: Response;
    try {
      response = await handler(
        new Request(`http://${req.headers.host}${req.url}`, {
          method: req.method,
          headers,
          body: hasBody ? Readable.toWeb(req) as ReadableStream<Uint8Array> : null,
          signal: abort.signal,
          duplex: "half",
        } as RequestInit),
      );
    } catch (error) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(error));
      return;
    }
    res.statusCode = response.status;
    for (const [name, value] of response.headers) {
      if (name !== "set-cookie") res.setHeader(name, value);
    }
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) res.setHeader("set-cookie", cookies);
    const reader = response.body?.getReader();
    if (reader === undefined || req.method === "HEAD") {
      await reader?.cancel();
      res.end();
      return;
    }
    abort.signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
    const buffered: Uint8Array[] = [];
    try {
      for (;;) {
        const next = reader.read();
        const step = await soon(next);
        if (step === SLOW) {
          res.flushHeaders();
          for (const chunk of buffered.splice(0)) res.write(chunk);
          for (let r = await next; !r.done; r = await reader.read()) {
            if (!res.write(r.value)) await new Promise((ok) => res.once("drain", ok));
          }
          break;
        }
        if (step.done) {
          if (response.status !== 204 && response.status !== 304) {
            res.setHeader("content-length", buffered.reduce((n, c) => n + c.byteLength, 0));
          }
          for (const chunk of buffered) res.write(chunk);
          break;
        }
        buffered.push(step.value);
      }
      res.end();
    } catch {
      res.destroy();
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get hits() {
      return hits();
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** What the echo route reports about a request. */
export interface Echo {
  method: string;
  url: string;
  path: string;
  query: [string, string][];
  headers: [string, string][];
  body: string;
  body_base64: string;
  body_length: number;
}

/**
 * The default handler. Routes:
 * - `/status/:code` that status, body "status"
 * - `/redirect/:code?to=URL` a redirect
 * - `/bytes/:n` n bytes (value i % 256)
 * - `/slow/:ms` headers after a delay
 * - `/drip/:n/:ms` n chunks of "x", one every ms
 * - `/headers?name=value...` those response headers (repeatable)
 * - `/json?text=...` text sent as application/json
 * - anything else: an Echo of the request as JSON.
 */
export async function echo(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const parts = url.pathname.split("/").filter(Boolean);
  switch (parts[0]) {
    case "status":
      return new Response("status", { status: Number(parts[1]) });
    case "redirect": {
      const to = url.searchParams.get("to") ?? "/echo";
      return new Response(null, { status: Number(parts[1]), headers: { location: to } });
    }
    case "bytes": {
      const n = Number(parts[1]);
      const body = new Uint8Array(n);
      for (let i = 0; i < n; i++) body[i] = i % 256;
      return new Response(body, { headers: { "content-type": "application/octet-stream" } });
    }
    case "slow":
      await sleep(Number(parts[1]));
      return new Response("slow");
    case "drip": {
      const n = Number(parts[1]);
      const ms = Number(parts[2]);
      let sent = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (sent === n) return controller.close();
            await sleep(ms);
            sent++;
            controller.enqueue(encoder.encode("x"));
          },
        }),
      );
    }
    case "headers": {
      const headers = new Headers();
      for (const [name, value] of url.searchParams) headers.append(name, value);
      return new Response("headers", { headers });
    }
    case "json":
      return new Response(url.searchParams.get("text") ?? "", {
        headers: { "content-type": "application/json" },
      });
  }
  const body = new Uint8Array(await req.arrayBuffer());
  const report: Echo = {
    method: req.method,
    url: req.url,
    path: url.pathname,
    query: [...url.searchParams],
    headers: [...req.headers],
    body: new TextDecoder().decode(body),
    body_base64: base64(body),
    body_length: body.byteLength,
  };
  return Response.json(report);
}

/** A header of an Echo, or null. */
export function header(echoed: Echo, name: string): string | null {
  const found = echoed.headers.find(([n]) => n === name.toLowerCase());
  return found === undefined ? null : found[1];
}

/** The real httpbin's base URL, when the runner started one (HTTPBIN_URL). */
export const HTTPBIN: string | undefined = process.env.HTTPBIN_URL || undefined;

/** A port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
