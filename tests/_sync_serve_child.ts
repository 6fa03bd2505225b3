// The test server of sync_test.ts, in its own process (a blocking caller cannot answer itself):
// the echo routes of _server.ts, plus `/digest/<user>/<password>`, a Digest (MD5, qop=auth)
// protected route that checks the response hash and answers with the nonce count it was sent.
// Prints its URL on one line, then serves until its stdin closes.

import { createHash } from "node:crypto";
import process from "node:process";
import { echo, serve } from "./_server.ts";

const REALM = "sync";
const NONCE = crypto.randomUUID();
const md5 = (text: string) => createHash("md5").update(text, "utf8").digest("hex");

function params(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]*)/g)) {
    out[m[1]] = m[2].startsWith('"') ? m[2].slice(1, -1) : m[2];
  }
  return out;
}

function digest(req: Request, user: string, password: string): Response {
  const header = req.headers.get("authorization") ?? "";
  const url = new URL(req.url);
  if (header.startsWith("Digest ")) {
    const p = params(header);
    const ha1 = md5(`${user}:${REALM}:${password}`);
    const ha2 = md5(`${req.method}:${url.pathname}${url.search}`);
    const expected = md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
    if (p.username === user && p.nonce === NONCE && p.response === expected) {
      return Response.json({ user, nc: p.nc });
    }
  }
  return new Response("unauthorized", {
    status: 401,
    headers: {
      "www-authenticate": `Digest realm="${REALM}", nonce="${NONCE}", qop="auth", algorithm=MD5`,
    },
  });
}

const server = await serve((req) => {
  const parts = new URL(req.url).pathname.split("/");
  return parts[1] === "digest" ? digest(req, parts[2], parts[3]) : echo(req);
});
process.stdout.write(`${server.url}\n`);
process.stdin.on("data", () => {});
process.stdin.on("end", async () => {
  await server.close();
  process.exit(0);
});
