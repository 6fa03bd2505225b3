// The cache at work: keys, finding the stored responses a request may use (RFC 9111 §4.1),
// planning what to do with them, building what is stored from a response, updating and
// invalidating, over a store whose every failure is a miss (a corrupt record is removed).

import { Entry, type Field, parseEntry, storedFields, updatedFields, withDate } from "./_entry.ts";
import { composeKey, type Identity, IdentityDigests, identityText } from "./_key.ts";
import { type Directives, normalizeSelecting, parseCacheControl, parseVary } from "./_parse.ts";
import {
  currentAge,
  type Forward,
  freshnessLifetime,
  isConditional,
  isStorable,
  isUseful,
  judge,
  type Judgement,
  notModified,
  type Policy,
  validators,
} from "./_policy.ts";
import type { CacheRecord, CacheStore } from "./store.ts";
import type { HttpCache } from "./http_cache.ts";

/** Reads request or response header fields by lower-case name. */
export interface Fields {
  get(name: string): string | null;
}

/** One hop as the cache sees it. */
export interface CacheRequest {
  /** Upper-case. */
  method: string;
  /** Without fragment. */
  url: string;
  headers: Fields;
  /** Its key (see {@linkcode CacheEngine.key}). */
  key: string;
  /** Names of other fields that hold credentials (`sensitive_headers`), lower-case. */
  secrets: readonly string[];
}

/** What a key holds for a request. */
export interface Found {
  /** The stored responses whose selecting fields match the request, most recent first. */
  matches: Entry[];
  /** Whether the key holds any response (a miss is then a `vary-miss`). */
  any: boolean;
}

/** What to do for a request. */
export type Plan =
  /** Answer from `entry` (a 304 when `notModified`); validate in the background if asked. */
  | {
    kind: "serve";
    entry: Entry;
    judgement: Judgement;
    notModified: boolean;
    background: boolean;
  }
  /** Send the request on, adding `conditional` (the entry's validators) when not empty. */
  | {
    kind: "forward";
    fwd: Forward;
    entry: Entry | null;
    conditional: readonly Field[];
    judgement: Judgement | null;
  }
  /** `only-if-cached` and nothing usable: a 504 made by the cache. */
  | { kind: "gateway-timeout" };

/** What of a response the cache needs to store it. */
export interface Received {
  status: number;
  reason: string;
  headers: Iterable<readonly [string, string]> & Fields;
  /** False when the body is still Content-Encoded. */
  decoded: boolean;
}

/** The largest body collected for storing when the store names no limit. */
const DEFAULT_MAX_ENTRY = 64 * 1024 * 1024;

/**
 * The request's Cache-Control directives; with no Cache-Control, `Pragma: no-cache` counts as
 * `no-cache` (RFC 9111 §5.4).
 */
export function requestDirectives(headers: Fields): Readonly<Directives> {
  const cc = headers.get("cache-control");
  if (cc !== null) return parseCacheControl(cc);
  const pragma = headers.get("pragma");
  if (pragma !== null && /(^|,)\s*no-cache\s*(,|$)/i.test(pragma)) {
    return parseCacheControl("no-cache");
  }
  return parseCacheControl(null);
}

/** Fields whose values are part of the key's identity digest. */
const IDENTITY_FIELDS = new Set(["authorization", "proxy-authorization", "cookie"]);
/** What a selecting field that holds credentials is recorded as: never its value. */
const IN_IDENTITY = "(in the identity digest)";

/**
 * A selecting request field as recorded with a stored response (RFC 9111 §4.1): normalized;
 * a field holding credentials only as present or absent, since the identity digest in the key
 * already tells its values apart (so no credential is stored in clear).
 */
export function selecting(name: string, req: Pick<CacheRequest, "headers" | "secrets">) {
  const value = req.headers.get(name);
  if (value === null) return null;
  if (IDENTITY_FIELDS.has(name) || req.secrets.includes(name)) return IN_IDENTITY;
  return normalizeSelecting(name, value);
}

/** Whether the stored response was selected with the request's values of its Vary fields. */
export function selects(entry: Entry, req: Pick<CacheRequest, "headers" | "secrets">): boolean {
  for (const [name, value] of entry.vary) {
    if (selecting(name, req) !== value) return false;
  }
  return true;
}

/**
 * What to do for a request, given what its key holds (RFC 9111 §4): a usable stored response
 * is served (a 304 when the request's own conditional matches it); one to validate is
 * forwarded with its validators; nothing usable and `only-if-cached` is a 504; a request
 * with `no-store` uses nothing stored.
 */
export function plan(
  found: Found,
  req: Readonly<Directives>,
  headers: Fields,
  now: number,
  policy: Policy,
): Plan {
  const entry = found.matches[0];
  if (entry === undefined) {
    if (req.onlyIfCached) return { kind: "gateway-timeout" };
    const fwd = found.any ? "vary-miss" : "uri-miss";
    return { kind: "forward", fwd, entry: null, conditional: [], judgement: null };
  }
  if (req.noStore) {
    return { kind: "forward", fwd: "request", entry: null, conditional: [], judgement: null };
  }
  const judgement = judge(entry, req, now, policy);
  if (judgement.verdict !== "validate") {
    return {
      kind: "serve",
      entry,
      judgement,
      notModified: isConditional(headers) && notModified(entry, headers),
      background: judgement.verdict === "background" && !req.onlyIfCached,
    };
  }
  if (req.onlyIfCached) return { kind: "gateway-timeout" };
  return {
    kind: "forward",
    fwd: judgement.byRequest ? "request" : "stale",
    entry,
    // A request with validators of its own is sent as it is (RFC 9111 §4.3.2).
    conditional: isConditional(headers) ? [] : validators(entry),
    judgement,
  };
}

/** The engine of each HttpCache, made on its first use (never public). */
const engines = new WeakMap<HttpCache, CacheEngine>();

/** The engine of an HttpCache: its policy, methods and identity secret over its store. */
export function engineFor(cache: HttpCache): CacheEngine {
  let engine = engines.get(cache);
  if (engine === undefined) {
    const policy = { shared: cache.shared, heuristic: cache.heuristic };
    engine = new CacheEngine(cache.store, policy, new Set(cache.methods));
    engines.set(cache, engine);
  }
  return engine;
}

/** Settles once `cache`'s stores and background validations in flight have (see flush()). */
export function flushOf(cache: HttpCache): Promise<void> {
  return engines.get(cache)?.flush() ?? Promise.resolve();
}

/** The cache's state over one store: its policy, methods and identity secret. */
export class CacheEngine {
  readonly store: CacheStore;
  readonly policy: Policy;
  /** The methods looked up and stored (GET, HEAD). */
  readonly methods: ReadonlySet<string>;
  /** The clock (ms); tests move it. */
  now: () => number = Date.now;
  readonly #digests: IdentityDigests;
  /** Entries parsed from records, so a store that returns the same record parses it once. */
  readonly #parsed = new WeakMap<CacheRecord, Entry>();
  /** Stores in flight, by key: a lookup waits for them, so a response read is found next. */
  readonly #saving = new Map<string, Promise<void>>();
  /** Background validations in flight, by key and variant: one per entry. */
  readonly #validating = new Map<string, Promise<void>>();

  constructor(store: CacheStore, policy: Policy, methods: ReadonlySet<string>) {
    this.store = store;
    this.policy = policy;
    this.methods = methods;
    this.#digests = new IdentityDigests(store);
  }

  /** The largest body collected for storing. */
  get maxEntryBytes(): number {
    const limit = this.store.max_entry_bytes;
    return typeof limit === "number" && limit >= 0 ? limit : DEFAULT_MAX_ENTRY;
  }

  /**
   * The key of a hop: its URL, identity digest and body digest (hex SHA-256, or null without a
   * body). Null when the identity cannot be digested (the store is failing, or there is no
   * WebCrypto): such a hop bypasses the cache.
   */
  async key(url: string, identity: Identity, body: string | null): Promise<string | null> {
    const text = identityText(identity);
    if (text === null) return composeKey(url, null, body);
    try {
      return composeKey(url, await this.#digests.digest(text), body);
    } catch {
      return null;
    }
  }

  /** The stored responses the request may use (RFC 9111 §4.1); a failing store has none. */
  async find(req: CacheRequest): Promise<Found> {
    const saving = this.#saving.get(req.key);
    if (saving !== undefined) await saving;
    let records: CacheRecord[];
    try {
      records = await this.store.get(req.key);
    } catch {
      return { matches: [], any: false };
    }
    const matches: Entry[] = [];
    for (const record of records) {
      const entry = this.#entryOf(record);
      if (entry === null) {
        this.store.delete(req.key, String(record?.variant)).catch(() => {});
      } else if (selects(entry, req)) matches.push(entry);
    }
    // The most recent response (by Date, then by arrival) is the one used.
    matches.sort((a, b) => b.date - a.date || b.responseTime - a.responseTime);
    return { matches, any: records.length > 0 };
  }

  /**
   * The record a store keeps for `entry`; remembered as the entry's, so that a store that hands
   * the same record back (the memory store) costs no parsing.
   */
  #recordOf(req: CacheRequest, entry: Entry): CacheRecord {
    const record = {
      url: req.url,
      variant: entry.variant,
      head: entry.serialize(),
      body: entry.body,
    };
    this.#parsed.set(record, entry);
    return record;
  }

  #entryOf(record: CacheRecord): Entry | null {
    if (record === null || typeof record !== "object") return null;
    const known = this.#parsed.get(record);
    if (known !== undefined) return known;
    if (typeof record.head !== "string") return null;
    const entry = parseEntry(record.head, record.body);
    if (entry !== null) this.#parsed.set(record, entry);
    return entry;
  }

  /**
   * The entry to store for a response to `req`, or null when it may not be stored or would
   * serve no purpose (RFC 9111 §3). `body` is read later: pass the bytes once they are whole.
   */
  entryFor(
    req: CacheRequest,
    received: Received,
    requestTime: number,
    responseTime: number,
    body: Uint8Array,
  ): Entry | null {
    const reqCc = requestDirectives(req.headers);
    const cc = parseCacheControl(received.headers.get("cache-control"));
    const authorization = req.headers.get("authorization") !== null;
    const storeReq = { method: req.method, cc: reqCc, authorization };
    if (!isStorable(storeReq, received.status, cc, received.headers, this.policy)) return null;
    const names = parseVary(received.headers.get("vary"));
    const entry = new Entry({
      status: received.status,
      reason: received.reason,
      headers: withDate(storedFields(received.headers, cc, this.policy.shared), responseTime),
      requestTime,
      responseTime,
      vary: names.map((name) => [name, selecting(name, req)]),
      decoded: received.decoded,
      body,
    });
    return isUseful(entry, this.policy) ? entry : null;
  }

  /** Whether a response to `req` may be stored, before its body is read. */
  storable(req: CacheRequest, received: Received): boolean {
    return this.entryFor(req, received, 0, 0, new Uint8Array(0)) !== null;
  }

  /**
   * Stores `entry` under the request's key, replacing the stored responses the request
   * selected (`found.matches`) that were of another variant.
   */
  save(req: CacheRequest, entry: Entry, found: Found): Promise<void> {
    const before = this.#saving.get(req.key);
    const task = (before ?? Promise.resolve()).then(() => this.#save(req, entry, found));
    this.#saving.set(req.key, task);
    task.then(() => {
      if (this.#saving.get(req.key) === task) this.#saving.delete(req.key);
    });
    return task;
  }

  async #save(req: CacheRequest, entry: Entry, found: Found): Promise<void> {
    const variant = entry.variant;
    try {
      await this.store.put(req.key, this.#recordOf(req, entry));
      for (const old of found.matches) {
        if (old.variant !== variant) await this.store.delete(req.key, old.variant);
      }
    } catch { /* a store that cannot keep it leaves a miss */ }
  }

  /**
   * `entry` updated by a newer response's fields (a 304, or a 200 to HEAD), with the times of
   * that exchange (RFC 9111 §3.2, §4.3.4).
   */
  freshen(
    entry: Entry,
    headers: Iterable<readonly [string, string]>,
    requestTime: number,
    responseTime: number,
  ): Entry {
    return entry.with({
      headers: updatedFields(entry.headers, headers, responseTime, this.policy.shared),
      requestTime,
      responseTime,
      invalid: false,
    });
  }

  /** Puts an updated entry back in place of the one it updates. */
  async replace(req: CacheRequest, entry: Entry): Promise<void> {
    try {
      await this.store.put(req.key, this.#recordOf(req, entry));
    } catch { /* the old entry stays; it is validated again next time */ }
  }

  /** Settles once the stores and background validations started so far have. */
  async flush(): Promise<void> {
    while (this.#saving.size > 0 || this.#validating.size > 0) {
      await Promise.allSettled([...this.#saving.values(), ...this.#validating.values()]);
    }
  }

  /** Removes a stored response (a corrupt one). */
  async remove(req: CacheRequest, entry: Entry): Promise<void> {
    try {
      await this.store.delete(req.key, entry.variant);
    } catch { /* a failing store is a miss anyway */ }
  }

  /** Freshness left to an entry now, seconds (negative when stale). */
  ttl(entry: Entry): number {
    return freshnessLifetime(entry, this.policy) - currentAge(entry, this.now());
  }

  /**
   * Runs `validate` for an entry in the background unless one already runs for it; its
   * failure reaches no one. The task, or null when one was running.
   */
  revalidate(
    req: CacheRequest,
    entry: Entry,
    validate: () => Promise<unknown>,
  ): Promise<void> | null {
    const id = `${req.key}\n${entry.variant}`;
    if (this.#validating.has(id)) return null;
    const task = Promise.resolve()
      .then(validate)
      .then(() => {}, () => {})
      .finally(() => this.#validating.delete(id));
    this.#validating.set(id, task);
    return task;
  }

  /** Removes every stored response of these URLs (RFC 9111 §4.4). */
  async purge(urls: readonly string[]): Promise<void> {
    for (const url of urls) {
      try {
        await this.store.purge(url);
      } catch { /* a store that cannot purge is failing: its entries are misses anyway */ }
    }
  }
}
