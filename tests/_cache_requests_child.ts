// A process of the multi-process cache test: sends its share of requests through an HttpCache
// over one SQLite file that other processes use at the same time, then asks for each response
// again with only-if-cached, and prints what it saw as JSON.
//   <runtime> tests/_cache_requests_child.ts <file> <base URL> <worker> <count>

import process from "node:process";
import * as requests from "../mod.ts";

const [file, base, worker, count] = process.argv.slice(-4);
const cache = new requests.HttpCache({ store: new requests.SqliteCacheStore(file) });
const n = Number(count);
let errors = 0;
let stored = 0;
for (let i = 0; i < n; i++) {
  try {
    const r = await requests.get(`${base}/item/${worker}/${i}`, { cache });
    if (
      (r.json() as { id: string }).id === `${worker}/${i}` && r.cache_status?.endsWith("; stored")
    ) stored++;
  } catch {
    errors++;
  }
}
await cache.flush();
let hits = 0;
for (let i = 0; i < n; i++) {
  const headers = { "cache-control": "only-if-cached" };
  const r = await requests.get(`${base}/item/${worker}/${i}`, { cache, headers }).catch(() => null);
  if (
    r?.from_cache === true && r.status_code === 200 &&
    (r.json() as { id: string }).id === `${worker}/${i}`
  ) hits++;
}
console.log(JSON.stringify({ errors, stored, hits }));
