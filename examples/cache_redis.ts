// A cache shared by a fleet of workers: an HttpCache over Redis, through the official `redis`
// npm client (a dev-only dependency of the examples: npm ci --prefix examples/deps). Two
// workers, each with its own Redis connection and HttpCache, ask for the same forecast: the
// first fetches it, the second is served from Redis.
//
//   deno run --allow-net --allow-read --allow-env examples/cache_redis.ts [base-url]
//
// Redis is REDIS_URL (default redis://127.0.0.1:6379). Give Redis a `maxmemory` and an LRU
// `maxmemory-policy` to bound it: the store itself sets only an expiry per key.

import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import process from "node:process";
import { type CacheRecord, type CacheStore, HttpCache, request } from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

/** The parts of the redis client used here (its own types live in deps/node_modules). */
interface RedisClient {
  connect(): Promise<unknown>;
  close(): Promise<void>;
  on(event: "error", listener: (error: unknown) => void): unknown;
  withTypeMapping(mapping: Record<number, unknown>): RedisClient;
  hGetAll(key: string): Promise<Record<string, Uint8Array>>;
  hSet(key: string, field: string, value: Buffer): Promise<number>;
  hDel(key: string, field: string): Promise<number>;
  sAdd(key: string, member: string): Promise<number>;
  sMembers(key: string): Promise<Uint8Array[]>;
  expire(key: string, seconds: number): Promise<unknown>;
  set(key: string, value: Buffer, options: { NX: true }): Promise<unknown>;
  get(key: string): Promise<Uint8Array | null>;
}

interface Redis {
  createClient(options: { url: string }): RedisClient;
  RESP_TYPES: { BLOB_STRING: number };
}

/** The redis package from examples/deps (CommonJS, so required rather than imported). */
function loadRedis(): Redis {
  const require = createRequire(import.meta.url);
  try {
    return require("./deps/node_modules/redis") as Redis;
  } catch (error) {
    throw new Error("The redis client is not installed: npm ci --prefix examples/deps", {
      cause: error,
    });
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A record as one value: the length of its JSON part (4 bytes), that part, then the body. */
function encode(record: CacheRecord): Buffer {
  const meta = encoder.encode(JSON.stringify({ url: record.url, head: record.head }));
  const out = Buffer.alloc(4 + meta.byteLength + record.body.byteLength);
  out.writeUInt32BE(meta.byteLength, 0);
  out.set(meta, 4);
  out.set(record.body, 4 + meta.byteLength);
  return out;
}

function decode(variant: string, value: Uint8Array): CacheRecord {
  const length = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0);
  const { url, head } = JSON.parse(decoder.decode(value.subarray(4, 4 + length)));
  return { url, variant, head, body: value.slice(4 + length) };
}

/**
 * A {@linkcode CacheStore} in Redis: a hash per key (one field per variant), a set per URL
 * naming the keys that hold it, and the identity secret under one key of its own.
 */
export class RedisCacheStore implements CacheStore {
  readonly max_entry_bytes: number;
  #client: RedisClient;
  #prefix: string;
  #ttl: number;

  /**
   * @param client A connected client of the `redis` package.
   * @param options The prefix of every key, an expiry (seconds) per key, the largest record.
   */
  constructor(
    client: RedisClient,
    options: { prefix?: string; ttl_seconds?: number; max_entry_bytes?: number } = {},
  ) {
    // Values come back as bytes, not text.
    this.#client = client.withTypeMapping({ [loadRedis().RESP_TYPES.BLOB_STRING]: Buffer });
    this.#prefix = options.prefix ?? "requests:cache:";
    this.#ttl = options.ttl_seconds ?? 7 * 24 * 3600;
    this.max_entry_bytes = options.max_entry_bytes ?? 5 * 1024 * 1024;
  }

  async get(key: string): Promise<CacheRecord[]> {
    const fields = await this.#client.hGetAll(this.#prefix + key);
    return Object.entries(fields).map(([variant, value]) => decode(variant, value));
  }

  async put(key: string, record: CacheRecord): Promise<void> {
    const value = encode(record);
    if (value.byteLength > this.max_entry_bytes) return await this.delete(key, record.variant);
    await this.#client.hSet(this.#prefix + key, record.variant, value);
    await this.#client.expire(this.#prefix + key, this.#ttl);
    await this.#client.sAdd(`${this.#prefix}url:${record.url}`, key);
    await this.#client.expire(`${this.#prefix}url:${record.url}`, this.#ttl);
  }

  async delete(key: string, variant: string): Promise<void> {
    await this.#client.hDel(this.#prefix + key, variant);
  }

  async purge(url: string): Promise<void> {
    for (const member of await this.#client.sMembers(`${this.#prefix}url:${url}`)) {
      const key = decoder.decode(member);
      for (const record of await this.get(key)) {
        if (record.url === url) await this.delete(key, record.variant);
      }
    }
  }

  async identityKey(proposal: Uint8Array): Promise<Uint8Array> {
    const name = `${this.#prefix}identity`;
    await this.#client.set(name, Buffer.from(proposal), { NX: true });
    return (await this.#client.get(name))!;
  }
}

/** Connects a client of the `redis` package. */
export async function connect(url: string): Promise<RedisClient> {
  const client = loadRedis().createClient({ url });
  client.on("error", () => {}); // a lost connection rejects the commands: a cache miss
  await client.connect();
  return client;
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const { base, done } = await baseUrl();
  const clients = [await connect(redisUrl), await connect(redisUrl)];
  // A prefix of this run's own, so runs never see each other's entries.
  const prefix = `requests-example:${crypto.randomUUID()}:`;
  try {
    for (const [n, client] of clients.entries()) {
      const cache = new HttpCache({ store: new RedisCacheStore(client, { prefix }) });
      const r = await request("GET", `${base}/forecast`, { cache });
      const forecast = JSON.stringify(r.json());
      console.log(`worker ${n + 1}: ${forecast} from_cache=${r.from_cache} (${r.cache_status})`);
      // In Redis before the next worker asks (a response is stored as its body is read).
      await cache.flush();
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    done();
  }
}

if (import.meta.main) await main();
