// Poll a JSON API that is sometimes busy: retries with backoff on 502/503/504, honouring
// Retry-After, within a total time budget per reading.
//
//   deno run --allow-net examples/poll_with_retries.ts [base-url]

import * as requests from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

const { base, done } = await baseUrl();
try {
  for (let reading = 1; reading <= 3; reading++) {
    const r = await requests.get(`${base}/flaky`, {
      retries: { total: 5, backoff_factor: 0.1, status_forcelist: [502, 503, 504] },
      timeout: 5,
      total_timeout: 20,
    });
    r.raise_for_status();
    console.log(`reading ${reading}:`, r.json());
  }
} finally {
  done();
}
