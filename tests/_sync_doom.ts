// Loaded into the sync API's worker thread by tests/_sync_dying_worker.ts, beside the real
// worker module: it makes that thread fail for real in the middle of a call. A call to a URL
// with `doom=exit` ends the thread; one with `doom=spin` stops its event loop for good.

import process from "node:process";
import { parentPort } from "node:worker_threads";

parentPort?.on("message", (message: { url?: unknown }) => {
  const url = typeof message?.url === "string" ? message.url : "";
  // Later than the call's start, so the worker is waiting for the server when it fails.
  if (url.includes("doom=exit")) setTimeout(() => process.exit(1), 200);
  if (url.includes("doom=spin")) {
    setTimeout(() => {
      for (;;) { /* never returns: the heartbeat timer can no longer run */ }
    }, 200);
  }
});
