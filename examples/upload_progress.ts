// Upload a large body (a firmware image, a video) with a progress line: `upload_progress` is
// called as the body is handed to the transport, so the line moves during the upload.
//
//   deno run --allow-net examples/upload_progress.ts [base-url]

import process from "node:process";
import * as requests from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

const { base, done } = await baseUrl();
try {
  // Stand-in for a 16 MiB file; a Blob from `fs.openAsBlob(path)` or `Bun.file(path)` works too.
  const image = new Uint8Array(16 * 1024 * 1024).map((_, i) => i % 251);
  let reports = 0;
  let last = "";
  const r = await requests.put(`${base}/upload`, {
    data: image,
    headers: { "Content-Type": "application/octet-stream" },
    timeout: [5, 60],
    upload_progress: (sent, total) => {
      reports++;
      last = `${sent} of ${total ?? "?"}`;
      const fraction = total ? sent / total : 0;
      const bar = "#".repeat(Math.round(fraction * 30)).padEnd(30, "-");
      process.stderr.write(`\r[${bar}] ${(fraction * 100).toFixed(0)}% ${last} bytes`);
    },
  });
  process.stderr.write("\n");
  r.raise_for_status();
  const { received_bytes } = r.json() as { received_bytes: number };
  console.log(`uploaded ${received_bytes} bytes; progress reported ${reports} times, last ${last}`);
} finally {
  done();
}
