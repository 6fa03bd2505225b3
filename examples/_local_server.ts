// A small local server for the examples, so each one runs with no network: an httpbin-like
// echo plus the routes the examples need. Pass a base URL to an example to use a real server.

import http from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";

/** A running example server. */
export interface LocalServer {
  url: string;
  close(): void;
}

let flakyCalls = 0;
let forecasts = 0;

function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Uint8Array): void {
  const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
  const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify(value));
  };
  switch (url.pathname) {
    case "/upload":
      return json(200, {
        content_type: req.headers["content-type"],
        received_bytes: body.byteLength,
      });
    case "/flaky":
      // Busy twice out of three calls, like an overloaded sensor hub.
      if (++flakyCalls % 3 !== 0) return json(503, { error: "busy" }, { "Retry-After": "0" });
      return json(200, { temperature: 21.5, unit: "C" });
    case "/login":
      return json(200, { ok: true }, { "Set-Cookie": "session=opensesame; Path=/; HttpOnly" });
    case "/repos": {
      // Three repositories a page, three pages, linked GitHub-style.
      const page = Number(url.searchParams.get("page") ?? 1);
      const repos = [0, 1, 2].map((i) => {
        const n = (page - 1) * 3 + i + 1;
        return { name: `camera-${String(n).padStart(2, "0")}`, stars: n * 7 % 20, topics: [] };
      });
      const headers: Record<string, string> = {};
      if (page < 3) {
        headers.Link = `</repos?page=${page + 1}>; rel="next", </repos?page=3>; rel="last"`;
      }
      return json(200, repos, headers);
    }
    case "/me":
      return /session=opensesame/.test(req.headers.cookie ?? "")
        ? json(200, { user: "camera-01" })
        : json(401, { error: "log in first" });
    case "/download": {
      const size = Number(url.searchParams.get("bytes") ?? 1_000_000);
      res.writeHead(200, {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(size),
      });
      const chunk = new Uint8Array(64 * 1024);
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          const piece = chunk.subarray(0, Math.min(chunk.byteLength, size - sent));
          sent += piece.byteLength;
          if (!res.write(piece)) {
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    case "/events": {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
      let n = 0;
      const timer = setInterval(() => {
        n++;
        res.write(`event ${n}: motion detected\n`);
        if (n === 5) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      return;
    }
    case "/forecast":
      // Cacheable for a minute: a cache in front of this server asks once a minute at most.
      forecasts++;
      return json(200, { sky: "clear", served: forecasts }, { "Cache-Control": "max-age=60" });
    case "/v1/completions":
      return completion(res, body);
    default:
      return json(200, {
        method: req.method,
        url: url.href,
        headers: req.headers,
        data: new TextDecoder().decode(body),
      });
  }
}

/** The answer the model stand-in streams, one token at a time. */
const ANSWER = [
  "Hello",
  ",",
  " camera",
  "-01",
  "!",
  " Tokens",
  " arrive",
  " as",
  " they",
  " come",
  ".",
];

/**
 * A stand-in for a model server's streaming endpoint (as OpenAI-style APIs stream): the answer
 * as `text/event-stream`, one `data:` event per token every 30 ms, a keep-alive comment, then
 * `data: [DONE]`.
 */
function completion(res: http.ServerResponse, body: Uint8Array): void {
  const { prompt } = JSON.parse(new TextDecoder().decode(body) || "{}") as { prompt?: string };
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  res.write(`: answering ${JSON.stringify(prompt ?? "")}\n\n`);
  let n = 0;
  const timer = setInterval(() => {
    if (n < ANSWER.length) {
      res.write(`id: ${n + 1}\ndata: ${JSON.stringify({ token: ANSWER[n++] })}\n\n`);
      return;
    }
    clearInterval(timer);
    res.end("data: [DONE]\n\n");
  }, 30);
  res.on("close", () => clearInterval(timer));
}

/** Starts the example server on a free loopback port. */
export function startLocalServer(): Promise<LocalServer> {
  const server = http.createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", () => {
      const size = chunks.reduce((n, c) => n + c.byteLength, 0);
      const body = new Uint8Array(size);
      let offset = 0;
      for (const c of chunks) {
        body.set(c, offset);
        offset += c.byteLength;
      }
      handle(req, res, body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => {
          server.closeAllConnections?.();
          server.close();
        },
      });
    });
  });
}

/** The base URL from the command line, or (none, or "") a local server started for the example. */
export async function baseUrl(): Promise<{ base: string; done(): void }> {
  const given = process.argv[2];
  if (given !== undefined && given !== "") return { base: given.replace(/\/$/, ""), done() {} };
  const local = await startLocalServer();
  return { base: local.url, done: () => local.close() };
}
