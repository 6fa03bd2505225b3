// The jar's storage: cookies in creation order, indexed by domain, within the caps of RFC 6265
// §6.1 (per site and in all), removed in the order §5.3 step 12 gives.

import type { Cookie } from "./jar.ts";

/** One stored cookie with its place in the creation order. */
export interface Entry {
  /** The cookie's identity: name, domain and path. */
  readonly key: string;
  /** The cookie; replaced in place when a cookie with the same key arrives. */
  item: Cookie;
  /** Increases with each new key: the creation order, kept across replacements. */
  readonly order: number;
  /** The site the cookie counts against; `null` until the store starts counting. */
  site: string | null;
}

/** The caps and how a domain maps to the site it counts against. */
export interface StoreLimits {
  /** The most cookies one site keeps. */
  readonly perSite: number;
  /** The most cookies the store keeps. */
  readonly total: number;
  /** The site of a domain: its registrable domain, say. Called only once the store is crowded. */
  readonly siteOf: (domain: string) => string;
}

/** Entries keyed by name, domain and path, in creation order. */
type Bucket = Map<string, Entry>;

/**
 * The jar's storage: entries in creation order, indexed by domain so a request looks only at
 * cookies that can match its host, and kept within RFC 6265 §6.1's limits (a cap per site and one
 * in all) by §5.3's order of removal: expired cookies first, then the oldest of the most crowded
 * site.
 */
export class CookieStore {
  readonly #limits: StoreLimits;
  #entries: Bucket = new Map();
  #domains: Map<string, Bucket> = new Map();
  /**
   * The entries of each site. Counting starts only once the store holds more than `perSite`
   * cookies, before which no site can be over its cap: a small jar never looks a site up.
   */
  #sites: Map<string, Bucket> | null = null;
  /** `#crowds[n]`: the sites holding `n` cookies, in the order they reached `n`. */
  #crowds: Set<string>[] = [];
  #largest = 0;
  /** No cookie expires before this; a sweep for expired cookies is due only from then on. */
  #nextExpiry = Infinity;
  #created = 0;
  /** Counts every change: what was computed from the entries at one version holds until it. */
  version = 0;

  constructor(limits: StoreLimits) {
    this.#limits = limits;
  }

  /** The number of entries, expired ones not yet removed included. */
  get size(): number {
    return this.#entries.size;
  }

  /** Every entry in creation order; deleting while iterating is safe. */
  values(): IterableIterator<Entry> {
    return this.#entries.values();
  }

  /** The entries whose `domain` is exactly `domain`, in creation order. */
  inDomain(domain: string): IterableIterator<Entry> | undefined {
    return this.#domains.get(domain)?.values();
  }

  /**
   * Stores `item` under `key`: an existing entry is replaced in place (keeping its creation
   * order), an expired item only deletes, and a new entry may push out others to keep the caps.
   */
  put(key: string, item: Cookie, now: number): void {
    this.version++;
    if (item.expires !== null && item.expires <= now) {
      this.delete(key);
      return;
    }
    if (item.expires !== null && item.expires < this.#nextExpiry) this.#nextExpiry = item.expires;
    const old = this.#entries.get(key);
    if (old !== undefined) {
      old.item = item;
      return;
    }
    const entry: Entry = { key, item, order: this.#created++, site: null };
    this.#entries.set(key, entry);
    let bucket = this.#domains.get(item.domain);
    if (bucket === undefined) this.#domains.set(item.domain, bucket = new Map());
    bucket.set(key, entry);
    if (this.#sites !== null) this.#join(entry);
    else if (this.#entries.size > this.#limits.perSite) this.#startCounting();
    this.#keepCaps(entry, now);
  }

  /** Removes the entry under `key`; whether there was one. */
  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.version++;
    this.#entries.delete(key);
    const bucket = this.#domains.get(entry.item.domain)!;
    bucket.delete(key);
    if (bucket.size === 0) this.#domains.delete(entry.item.domain);
    if (entry.site !== null) this.#leave(entry);
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.version++;
    this.#entries.clear();
    this.#domains.clear();
    this.#sites = null;
    this.#crowds = [];
    this.#largest = 0;
    this.#nextExpiry = Infinity;
  }

  /** RFC 6265 §5.3 step 12: expired cookies go first, then the crowded site's oldest. */
  #keepCaps(added: Entry, now: number): void {
    const sites = this.#sites;
    if (sites === null) return;
    const { perSite, total } = this.#limits;
    const site = added.site!;
    if (sites.get(site)!.size <= perSite && this.#entries.size <= total) return;
    if (this.#nextExpiry <= now) this.#sweep(now);
    let crowd = sites.get(site);
    while (crowd !== undefined && crowd.size > perSite) {
      this.delete(crowd.keys().next().value!);
      crowd = sites.get(site);
    }
    while (this.#entries.size > total) {
      // The site of the cookie that overflowed pays when it is among the most crowded.
      const largest = this.#crowds[this.#largest];
      const victim = largest.has(site) ? site : largest.values().next().value!;
      this.delete(sites.get(victim)!.keys().next().value!);
    }
  }

  /** Removes every expired entry and learns when the next one expires. */
  #sweep(now: number): void {
    let next = Infinity;
    for (const entry of this.#entries.values()) {
      const expires = entry.item.expires;
      if (expires === null) continue;
      if (expires <= now) this.delete(entry.key);
      else if (expires < next) next = expires;
    }
    this.#nextExpiry = next;
  }

  #startCounting(): void {
    this.#sites = new Map();
    for (const entry of this.#entries.values()) this.#join(entry);
  }

  /** Counts `entry` against its site. */
  #join(entry: Entry): void {
    const site = entry.site ??= this.#limits.siteOf(entry.item.domain);
    const sites = this.#sites!;
    let bucket = sites.get(site);
    if (bucket === undefined) sites.set(site, bucket = new Map());
    this.#crowds[bucket.size]?.delete(site);
    bucket.set(entry.key, entry);
    (this.#crowds[bucket.size] ??= new Set()).add(site);
    if (bucket.size > this.#largest) this.#largest = bucket.size;
  }

  /** Stops counting a removed `entry` against its site. */
  #leave(entry: Entry): void {
    const site = entry.site!;
    const sites = this.#sites!;
    const bucket = sites.get(site)!;
    this.#crowds[bucket.size].delete(site);
    bucket.delete(entry.key);
    if (bucket.size === 0) sites.delete(site);
    else this.#crowds[bucket.size].add(site);
    // Counts move by one, so the largest drops by at most one.
    if (this.#crowds[this.#largest]?.size === 0 && this.#largest > 0) this.#largest--;
  }
}
