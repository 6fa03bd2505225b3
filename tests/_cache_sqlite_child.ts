// A process of the multi-process SQLite test: writes and reads back its share of records
// through one SqliteCacheStore file while other processes do the same, reads theirs as they
// appear, and prints what it saw as JSON.
//   <runtime> tests/_cache_sqlite_child.ts <file> <worker> <count> <workers>

import process from "node:process";
import { SqliteCacheStore } from "../src/cache/sqlite_store.ts";

const [file, worker, count, workers] = process.argv.slice(-4);
const n = Number(count);
const store = new SqliteCacheStore(file);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const body = (w: number | string, i: number) => `worker ${w} record ${i} `.repeat(8);

let mismatched = 0;
let seenOthers = 0;
const secret = await store.identityKey(crypto.getRandomValues(new Uint8Array(32)));
for (let i = 0; i < n; i++) {
  const key = `http://cache.test/${worker}/${i} -`;
  await store.put(key, {
    url: `http://cache.test/${worker}/${i}`,
    variant: "",
    head: JSON.stringify({ worker, i }),
    body: encoder.encode(body(worker, i)),
  });
  const [mine] = await store.get(key);
  if (mine === undefined || decoder.decode(mine.body) !== body(worker, i)) mismatched++;
  const other = (Number(worker) + 1) % Number(workers);
  const [theirs] = await store.get(`http://cache.test/${other}/${i} -`);
  if (theirs !== undefined) {
    seenOthers++;
    if (decoder.decode(theirs.body) !== body(other, i)) mismatched++;
  }
  if (i % 100 === 0) await store.purge(`http://cache.test/gone/${worker}`);
}
store.close();
console.log(JSON.stringify({ mismatched, seenOthers, secret: [...secret].join(",") }));
