/**
 * Where an {@linkcode HttpCache} keeps responses: the {@linkcode CacheStore} interface, small
 * and asynchronous so that a shared store (Redis, Deno KV, a database) is a short adapter, and
 * {@linkcode MemoryCacheStore}, the in-process store.
 *
 * @module
 */

/**
 * One stored response, as a store keeps it: opaque text and bytes that the cache wrote and
 * reads back. A store never needs to look inside `head`.
 */
export interface CacheRecord {
  /**
   * The URL of the response, without fragment. {@linkcode CacheStore.purge} removes every
   * record stored with it (all identities and variants), when a POST, PUT or DELETE changed it.
   */
  readonly url: string;
  /**
   * Tells apart the responses stored under one key that `Vary` selects between; `""` for a
   * response without `Vary`. A key holds one record per variant.
   */
  readonly variant: string;
  /** The status, header fields and times, serialized by the cache (JSON text). */
  readonly head: string;
  /** The body. */
  readonly body: Uint8Array;
}

/**
 * The storage under an {@linkcode HttpCache}. A key names one URL for one identity (and one
 * request body, for a GET that has one); it holds one {@linkcode CacheRecord} per variant.
 * The cache treats any rejection as a miss (and retries nothing), so a store need not hide its
 * failures; it must not return a record under a key it was not put under.
 *
 * Keys are printable text of at most a few kilobytes (the URL, then digests); `url` and
 * `variant` too. A store may drop any record at any time (to stay within its size).
 *
 * @example A store over a `Map` (what `MemoryCacheStore` does, without its size limits)
 * ```ts
 * import { type CacheRecord, type CacheStore, HttpCache } from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * class MapStore implements CacheStore {
 *   #keys = new Map<string, Map<string, CacheRecord>>();
 *   #secret: Uint8Array | undefined;
 *   get(key: string): Promise<CacheRecord[]> {
 *     return Promise.resolve([...this.#keys.get(key)?.values() ?? []]);
 *   }
 *   put(key: string, record: CacheRecord): Promise<void> {
 *     const variants = this.#keys.get(key) ?? new Map<string, CacheRecord>();
 *     variants.set(record.variant, record);
 *     this.#keys.set(key, variants);
 *     return Promise.resolve();
 *   }
 *   delete(key: string, variant: string): Promise<void> {
 *     this.#keys.get(key)?.delete(variant);
 *     return Promise.resolve();
 *   }
 *   purge(url: string): Promise<void> {
 *     for (const variants of this.#keys.values()) {
 *       for (const [variant, record] of variants) if (record.url === url) variants.delete(variant);
 *     }
 *     return Promise.resolve();
 *   }
 *   identityKey(proposal: Uint8Array): Promise<Uint8Array> {
 *     return Promise.resolve(this.#secret ??= proposal);
 *   }
 * }
 *
 * const cache = new HttpCache({ store: new MapStore() });
 * assert.ok(cache instanceof HttpCache);
 * ```
 */
export interface CacheStore {
  /**
   * The records stored under `key`, in any order; `[]` when there are none.
   *
   * @param key The key.
   * @returns Its records.
   */
  get(key: string): Promise<CacheRecord[]>;
  /**
   * Stores `record` under `key`, replacing the record of the same `variant` there.
   *
   * @param key The key.
   * @param record The record.
   */
  put(key: string, record: CacheRecord): Promise<void>;
  /**
   * Removes the record of `variant` under `key`, if there is one.
   *
   * @param key The key.
   * @param variant The variant.
   */
  delete(key: string, variant: string): Promise<void>;
  /**
   * Removes every record stored with this `url`, under any key.
   *
   * @param url The URL, without fragment.
   */
  purge(url: string): Promise<void>;
  /**
   * The secret the cache keys identities with (an HMAC key): the one the store keeps, or
   * `proposal` (32 random bytes), kept from now on, when it keeps none yet. Concurrent callers,
   * in other processes too, must all get the same bytes: store `proposal` only if absent (as
   * `SET NX`, `INSERT OR IGNORE`), then read back what is stored.
   *
   * @param proposal The secret to keep when the store has none.
   * @returns The secret the store keeps.
   */
  identityKey(proposal: Uint8Array): Promise<Uint8Array>;
  /**
   * The largest record (in bytes, body and text) the store keeps, if it has such a limit: the
   * cache stops collecting a body to store once it is larger.
   */
  readonly max_entry_bytes?: number;
}

/** Options of {@linkcode MemoryCacheStore}. */
export interface MemoryCacheStoreOptions {
  /**
   * The most bytes kept (bodies and the text of heads and keys); beyond it the least recently
   * used records go first.
   *
   * @default {52428800} (50 MiB)
   */
  max_bytes?: number;
  /**
   * The largest record kept; a larger one is not stored (and the one it would replace goes).
   *
   * @default {5242880} (5 MiB)
   */
  max_entry_bytes?: number;
}

/** A stored record, with what the limits need. */
interface Slot {
  key: string;
  record: CacheRecord;
  size: number;
}

/** The size a record counts for: its body and the text that names and describes it. */
export function recordSize(key: string, record: CacheRecord): number {
  return record.body.byteLength + record.head.length + key.length + record.url.length +
    record.variant.length;
}

/**
 * A number-of-bytes option: a whole number of 0 or more; `fallback` when undefined.
 *
 * @param value The value given.
 * @param name The option's name, for the error.
 * @param fallback The default.
 * @returns The number.
 */
export function bytesOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`Invalid '${name}': expected a whole number of bytes, 0 or more`);
  }
  return value;
}

/**
 * An in-process {@linkcode CacheStore}: gone when the process ends, shared by every
 * {@linkcode HttpCache} given it. It keeps at most `max_bytes` (least recently used records go
 * first) and never keeps a record over `max_entry_bytes`.
 *
 * @example
 * ```ts
 * import { HttpCache, MemoryCacheStore } from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryCacheStore({ max_bytes: 10 * 1024 * 1024 });
 * const cache = new HttpCache({ store });
 * assert.equal(store.size, 0);
 * assert.ok(cache instanceof HttpCache);
 * ```
 */
export class MemoryCacheStore implements CacheStore {
  readonly #maxBytes: number;
  readonly #maxEntryBytes: number;
  /** Key, then variant: the records. */
  readonly #keys = new Map<string, Map<string, Slot>>();
  /** Every slot, least recently used first (a Map keeps insertion order). */
  readonly #recent = new Set<Slot>();
  /** URL: the keys holding a record of it. */
  readonly #urls = new Map<string, Set<string>>();
  #bytes = 0;
  #secret: Uint8Array | undefined;

  /**
   * Makes an empty store.
   *
   * @param options Its limits.
   */
  constructor(options: MemoryCacheStoreOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("Invalid 'options': expected an object");
    }
    this.#maxBytes = bytesOption(options.max_bytes, "max_bytes", 50 * 1024 * 1024);
    this.#maxEntryBytes = bytesOption(options.max_entry_bytes, "max_entry_bytes", 5 * 1024 * 1024);
  }

  /** The largest record kept, in bytes. */
  get max_entry_bytes(): number {
    return this.#maxEntryBytes;
  }

  /** The bytes the records count for now (never more than `max_bytes`). */
  get size(): number {
    return this.#bytes;
  }

  /**
   * The records stored under `key`; each counts as used.
   *
   * @param key The key.
   * @returns Its records.
   */
  get(key: string): Promise<CacheRecord[]> {
    const variants = this.#keys.get(key);
    if (variants === undefined) return Promise.resolve([]);
    const records: CacheRecord[] = [];
    for (const slot of variants.values()) {
      this.#recent.delete(slot);
      this.#recent.add(slot);
      records.push(slot.record);
    }
    return Promise.resolve(records);
  }

  /**
   * Stores `record` under `key`, replacing the record of its variant; a record over
   * `max_entry_bytes` is not kept and the one it replaces goes.
   *
   * @param key The key.
   * @param record The record.
   */
  put(key: string, record: CacheRecord): Promise<void> {
    this.#remove(key, record.variant);
    const size = recordSize(key, record);
    if (size > this.#maxEntryBytes || size > this.#maxBytes) return Promise.resolve();
    const slot: Slot = { key, record, size };
    let variants = this.#keys.get(key);
    if (variants === undefined) this.#keys.set(key, variants = new Map());
    variants.set(record.variant, slot);
    this.#recent.add(slot);
    let keys = this.#urls.get(record.url);
    if (keys === undefined) this.#urls.set(record.url, keys = new Set());
    keys.add(key);
    this.#bytes += size;
    for (const oldest of this.#recent) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#remove(oldest.key, oldest.record.variant);
    }
    return Promise.resolve();
  }

  /**
   * Removes the record of `variant` under `key`.
   *
   * @param key The key.
   * @param variant The variant.
   */
  delete(key: string, variant: string): Promise<void> {
    this.#remove(key, variant);
    return Promise.resolve();
  }

  /**
   * Removes every record of `url`.
   *
   * @param url The URL.
   */
  purge(url: string): Promise<void> {
    for (const key of this.#urls.get(url) ?? []) {
      for (const slot of [...this.#keys.get(key)?.values() ?? []]) {
        if (slot.record.url === url) this.#remove(key, slot.record.variant);
      }
    }
    return Promise.resolve();
  }

  /**
   * The store's identity secret: `proposal` the first time.
   *
   * @param proposal The secret to keep when there is none.
   * @returns The secret kept.
   */
  identityKey(proposal: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(this.#secret ??= proposal);
  }

  #remove(key: string, variant: string): void {
    const variants = this.#keys.get(key);
    const slot = variants?.get(variant);
    if (variants === undefined || slot === undefined) return;
    variants.delete(variant);
    if (variants.size === 0) this.#keys.delete(key);
    this.#recent.delete(slot);
    this.#bytes -= slot.size;
    const url = slot.record.url;
    const keys = this.#urls.get(url);
    if (keys === undefined) return;
    for (const other of variants.values()) if (other.record.url === url) return;
    keys.delete(key);
    if (keys.size === 0) this.#urls.delete(url);
  }
}
