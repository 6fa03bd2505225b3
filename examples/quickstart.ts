// The seed's example, line for line: GET a JSON resource, then POST JSON with a header.
//
//   deno run --allow-net examples/quickstart.ts            (an embedded local server)
//   bun examples/quickstart.ts http://127.0.0.1:8080       (any httpbin-like server)

import * as requests from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

const { base, done } = await baseUrl();
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
  done();
}
