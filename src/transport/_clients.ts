// One cache of runtime clients, shared by the fetch and node:http paths: for each set of TLS and
// proxy settings, the fields the runtime's fetch takes (a Deno HttpClient, Bun's tls/proxy) and
// the node:http keep-alive agents, made on first use and reference-counted, so that calls with
// the same settings share connections and a session releases only what it leased.

import { loadTls, nodeTls, type Tls } from "./_pem.ts";
import { type FetchFields, fetchFields, type FetchInit, NO_FIELDS } from "./_fetch_fields.ts";
import type { Scheme, Settings } from "./_settings.ts";

/** The part of a node:http Agent the module uses. */
export interface NodeAgent {
  destroy(): void;
}
/** Makes a keep-alive agent with the given connection options. */
export type AgentFactory = (options: Record<string, unknown>) => NodeAgent;

/** How many distinct settings keep their clients while no call uses them. */
const CACHED = 16;

/** The runtime's means of sending with one set of settings (null: the defaults). */
export class RuntimeClient {
  /** The settings, or null for the runtime's defaults. */
  readonly settings: Settings | null;
  #tls: Tls | null | undefined;
  #fields: FetchFields | undefined;
  #agents: Partial<Record<Scheme, NodeAgent>> = {};
  #users = 0;
  #cached = true;
  #closed = false;
  /** Set once a session let go of it: the last user closes it. */
  #closeWhenIdle = false;

  /** @param settings The checked settings, or null. */
  constructor(settings: Settings | null) {
    this.settings = settings;
  }

  /**
   * The TLS material, PEM files read on first use.
   *
   * @throws {TypeError} A PEM file that cannot be read.
   */
  get tls(): Tls | null {
    return this.#tls ??= this.settings === null ? null : loadTls(this.settings);
  }

  /**
   * The fields to add to a fetch init for a request with this scheme; the shared empty one for
   * the defaults.
   *
   * @throws {TypeError} Where the runtime's fetch cannot do what the settings ask.
   */
  fetchInit(scheme: Scheme): FetchInit {
    if (this.settings === null) return NO_FIELDS;
    this.#fields ??= fetchFields(this.settings, () => this.tls);
    return this.#fields.inits[scheme];
  }

  /** Whether the runtime's fetch can send with these settings. */
  get fetchable(): boolean {
    try {
      this.fetchInit("https");
      return true;
    } catch {
      return false;
    }
  }

  /** The keep-alive node:http agent for `scheme`, made with `make` the first time. */
  agent(scheme: Scheme, make: AgentFactory): NodeAgent {
    return this.#agents[scheme] ??= make({ ...nodeTls(this.tls, scheme), keepAlive: true });
  }

  /** Lets go of every client and connection; the next use makes new ones. */
  close(): void {
    this.#fields?.close();
    this.#fields = undefined;
    for (const agent of Object.values(this.#agents)) agent?.destroy();
    this.#agents = {};
    this.#closed = true;
  }

  /** @internal Counts a user; see {@linkcode leaseClient}. */
  lease(): void {
    this.#users++;
  }

  /**
   * @internal One user fewer; closes when none is left and the cache no longer holds it, or a
   * session let go of it (`closeWhenIdle`), now or while calls still used it.
   */
  unlease(closeWhenIdle: boolean): void {
    this.#closeWhenIdle ||= closeWhenIdle;
    if (--this.#users > 0) return;
    if (this.#closeWhenIdle && this.#cached) uncache(this);
    if (!this.#cached && !this.#closed) this.close();
  }

  /** @internal The cache let go of it: it closes once no call uses it. */
  evict(): void {
    this.#cached = false;
    if (this.#users === 0) this.close();
  }
}

/** The runtime's defaults: plain fetch, and node:http agents without TLS options. */
export const DEFAULT_CLIENT: RuntimeClient = new RuntimeClient(null);
/** Clients by settings key, least recently leased first. */
const clients = new Map<string, RuntimeClient>();

function uncache(client: RuntimeClient): void {
  if (client === DEFAULT_CLIENT) return;
  const key = client.settings!.key;
  if (clients.get(key) === client) clients.delete(key);
  client.evict();
}

/** A runtime client in use; `release()` once, when the user is done. */
export interface ClientLease {
  readonly client: RuntimeClient;
  release(): void;
}

/** The defaults are never closed: their idle connections do not hold the process. */
const DEFAULT_LEASE: ClientLease = Object.freeze({ client: DEFAULT_CLIENT, release() {} });

/**
 * The client for `settings`, shared with every call and session using the same settings.
 * A call's lease (`closeWhenIdle` false) leaves the client cached for the next call; a
 * session's (`closeWhenIdle` true, its `close()`) closes it when no one else uses it.
 *
 * @throws {TypeError} A PEM file that cannot be read.
 */
export function leaseClient(settings: Settings | null, closeWhenIdle: boolean): ClientLease {
  if (settings === null) return DEFAULT_LEASE;
  const key = settings.key;
  let client = clients.get(key);
  if (client === undefined) {
    client = new RuntimeClient(settings);
    if (clients.size >= CACHED) {
      const oldest = clients.values().next().value;
      if (oldest !== undefined) uncache(oldest);
    }
  } else {
    clients.delete(key);
  }
  clients.set(key, client);
  return leaseOf(client, closeWhenIdle);
}

/**
 * One more lease on `client`, for one call of the session that holds it: the client stays open
 * until the call is over, even when the session closes first.
 */
export function leaseForCall(client: RuntimeClient): ClientLease {
  return client === DEFAULT_CLIENT ? DEFAULT_LEASE : leaseOf(client, false);
}

function leaseOf(client: RuntimeClient, closeWhenIdle: boolean): ClientLease {
  client.lease();
  let released = false;
  return {
    client,
    release() {
      if (released) return;
      released = true;
      client.unlease(closeWhenIdle);
    },
  };
}
