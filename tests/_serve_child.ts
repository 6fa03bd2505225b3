// A test server in its own process, for callers that block their own thread (the sync API):
// prints its URL on one line, then serves until its stdin closes.

import process from "node:process";
import { serve } from "./_server.ts";

const server = await serve();
process.stdout.write(`${server.url}\n`);
process.stdin.on("data", () => {});
process.stdin.on("end", async () => {
  await server.close();
  process.exit(0);
});
