// Follow a line-oriented stream (a log, server events) as it arrives.
//
//   deno run --allow-net examples/stream_lines.ts [base-url]

import * as requests from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

const { base, done } = await baseUrl();
try {
  await using r = await requests.get(`${base}/events`, { stream: true, timeout: [5, 10] });
  for await (const line of r.iter_lines()) {
    console.log(new Date().toISOString(), line);
  }
} finally {
  done();
}
