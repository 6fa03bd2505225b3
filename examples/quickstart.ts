// The seed's example, line for line: GET a JSON resource, then POST JSON with a header.
//
//   deno run --allow-net examples/quickstart.ts            (an embedded local server)
//   bun examples/quickstart.ts http://127.0.0.1:8080       (any httpbin-like server)

import http from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";
import * as requests from "../mod.ts";

/** A tiny httpbin look-alike: /get and /post echo what they received as JSON. */
function startLocalServer(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => body += chunk);
    req.on("end", () => {
      const url = `http://${req.headers.host}${req.url}`;
      const echo: Record<string, unknown> = { url, headers: req.headers };
      if (req.method === "POST") {
        echo.data = body;
        echo.json = req.headers["content-type"] === "application/json" ? JSON.parse(body) : null;
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(echo));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
    });
  });
}

const given = process.argv[2];
const local = given === undefined ? await startLocalServer() : null;
const base = given ?? local!.url;

try {
  // GET a JSON resource.
  let r = await requests.get(`${base}/get`);
  console.log(r.status_code, r.reason);
  console.log(r.json());

  // POST JSON.
  r = await requests.post(`${base}/post`, {
    json: { id: 1, value: 42 },
    headers: { "X-Source": "openmv" },
  });
  console.log(r.status_code, r.reason);
  console.log(r.json());
} finally {
  local?.close();
}
