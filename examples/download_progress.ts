// Download a file to disk with a progress line, streaming: the body is never held in memory.
//
//   deno run --allow-net --allow-env=TMPDIR,TMP,TEMP --allow-write examples/download_progress.ts [base-url] [file]
//
// (`os.tmpdir()` reads TMPDIR, TMP and TEMP; give a file to write elsewhere.)

import fs from "node:fs";
import os from "node:os";
import process from "node:process";
import * as requests from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

const { base, done } = await baseUrl();
const target = process.argv[3] ?? `${os.tmpdir()}/requests-download.bin`;
try {
  await using r = await requests.get(`${base}/download?bytes=5000000`, {
    stream: true,
    timeout: [5, 30],
    progress: (loaded, total) => {
      const percent = total === null ? "?" : ((loaded / total) * 100).toFixed(0);
      process.stderr.write(`\r${loaded} bytes (${percent}%)`);
    },
  });
  r.raise_for_status();
  const file = fs.openSync(target, "w");
  let saved = 0;
  try {
    for await (const chunk of r.iter_content(64 * 1024)) saved += fs.writeSync(file, chunk);
  } finally {
    fs.closeSync(file);
  }
  process.stderr.write("\n");
  console.log(`saved ${saved} bytes to ${target}`);
} finally {
  done();
}
