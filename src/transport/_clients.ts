// One cache of runtime clients, shared by the fetch and node:http paths: for each set of TLS and
// proxy settings, the fields the runtime's fetch takes (a Deno HttpClient, Bun's tls/proxy) and
// the node:http keep-alive agents, made on first use and reference-counted, so that calls with
// the same settings share connections and a session releases only what it leased.

import { clip } from "../errors.ts";
import { RUNTIME, RUNTIME_NAME } from "../_runtime.ts";
import {
  hasCredentials,
  loadTls,
  nodeTls,
  type ProxyTarget,
  type Scheme,
  SCHEMES,
  type Settings,
  type Tls,
} from "./_settings.ts";

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

// What the runtime's fetch needs for `verify`, `cert` and `proxies`: `{ client }` from
// `Deno.createHttpClient` on Deno, `{ tls, proxy }` on Bun. Found by feature detection.

/** Fields to spread into a fetch init, per scheme; never mutated. */
type FetchInit = Readonly<Record<string, unknown>>;

/** The fetch fields of one set of settings, and how to let go of what they hold. */
interface FetchFields {
  readonly inits: Readonly<Record<Scheme, FetchInit>>;
  close(): void;
}

/** The shared empty init: nothing to add for this scheme. */
const NO_FIELDS: FetchInit = Object.freeze({});

// Local shapes of the runtime APIs used, so the file type-checks without Bun's types.
interface DenoHttpClient {
  close(): void;
}
interface DenoClientOptions {
  caCerts?: string[];
  cert?: string;
  key?: string;
  proxy?: { url: string; basicAuth?: { username: string; password: string } };
}
type CreateHttpClient = (options: DenoClientOptions) => DenoHttpClient;

/**
 * The fetch fields for `settings` on this runtime; `tls` reads the PEM files, once it is known
 * that the runtime's fetch can use them.
 *
 * @throws {TypeError} Where this runtime's fetch cannot do what an option asks, naming it; a PEM
 * file that cannot be read.
 */
function fetchFields(settings: Settings, tls: () => Tls | null): FetchFields {
  if (RUNTIME === "bun") return bunFields(settings, tls());
  const deno = (globalThis as { Deno?: { createHttpClient?: CreateHttpClient } }).Deno;
  if (RUNTIME === "deno" && typeof deno?.createHttpClient === "function") {
    return denoFields(settings, tls, deno.createHttpClient.bind(deno));
  }
  const option = settings.verify !== true
    ? "verify"
    : settings.cert !== undefined
    ? "cert"
    : "proxies";
  throw new TypeError(
    `Option '${option}' is not supported on this runtime (${
      RUNTIME === "deno" ? "Deno without createHttpClient" : RUNTIME_NAME
    }): it needs Deno.createHttpClient or Bun's fetch '${
      option === "proxies" ? "proxy" : "tls"
    }' option`,
  );
}

function bunFields(settings: Settings, tls: Tls | null): FetchFields {
  // Bun's `tls` takes node:tls's names.
  const tlsInit = tls === null ? undefined : Object.freeze(nodeTls(tls, "https"));
  const inits = {} as Record<Scheme, FetchInit>;
  for (const scheme of SCHEMES) {
    const proxy = settings.proxies[scheme];
    const init: Record<string, unknown> = {};
    if (tlsInit !== undefined) init.tls = tlsInit;
    if (proxy !== undefined) init.proxy = proxy.href;
    inits[scheme] = proxy === undefined && tlsInit === undefined ? NO_FIELDS : Object.freeze(init);
  }
  return { inits, close() {} };
}

function denoFields(
  settings: Settings,
  loadTls: () => Tls | null,
  createHttpClient: CreateHttpClient,
): FetchFields {
  if (settings.verify === false) {
    throw new TypeError(
      "Option 'verify' set to false is not supported on this runtime (Deno): " +
        "Deno.createHttpClient cannot turn certificate verification off; pass the server's " +
        "CA bundle as 'verify', or run Deno with --unsafely-ignore-certificate-errors",
    );
  }
  const { http, https } = settings.proxies;
  // Deno 2.9 adds the proxy's Proxy-Authorization to the request itself whenever the proxy URL
  // is http://, so through a CONNECT tunnel the origin server would receive the credentials.
  if (https !== undefined && !https.secure && hasCredentials(https)) {
    throw new TypeError(
      "Option 'proxies.https' with credentials in an http:// proxy URL is not supported on " +
        "this runtime (Deno): Deno.createHttpClient would send the Proxy-Authorization header " +
        "on to the origin server through the CONNECT tunnel",
    );
  }
  // ...and for an https:// proxy it never sends them with a forwarded http request.
  if (http !== undefined && http.secure && hasCredentials(http)) {
    throw new TypeError(
      "Option 'proxies.http' with credentials in an https:// proxy URL is not supported on " +
        "this runtime (Deno): Deno.createHttpClient does not send them with forwarded requests",
    );
  }
  const tls = loadTls();
  const base: DenoClientOptions = {};
  if (tls?.ca !== undefined) base.caCerts = [tls.ca];
  if (tls?.cert !== undefined) {
    base.cert = tls.cert;
    base.key = tls.key;
  }
  const clients = new Map<string, DenoHttpClient>();
  const close = () => {
    for (const client of clients.values()) client.close();
    clients.clear();
  };
  const inits = {} as Record<Scheme, FetchInit>;
  try {
    for (const scheme of SCHEMES) {
      const proxy = settings.proxies[scheme];
      if (proxy === undefined && tls === null) {
        inits[scheme] = NO_FIELDS;
        continue;
      }
      const key = proxy?.href ?? "";
      let client = clients.get(key);
      if (client === undefined) {
        client = denoClient(createHttpClient, base, proxy);
        clients.set(key, client);
      }
      inits[scheme] = Object.freeze({ client });
    }
  } catch (error) {
    close();
    throw error;
  }
  return { inits, close };
}

function denoClient(
  createHttpClient: CreateHttpClient,
  base: DenoClientOptions,
  proxy: ProxyTarget | undefined,
): DenoHttpClient {
  const options: DenoClientOptions = { ...base };
  if (proxy !== undefined) {
    options.proxy = hasCredentials(proxy)
      ? { url: proxy.origin, basicAuth: { username: proxy.username, password: proxy.password } }
      : { url: proxy.origin };
  }
  try {
    return createHttpClient(options);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const option = blame(createHttpClient, base, proxy);
    throw new TypeError(
      `Option '${option}' was rejected by Deno.createHttpClient: ${clip(error.message)}`,
      { cause: error },
    );
  }
}

/** Which option made `Deno.createHttpClient` fail, found by retrying with less. */
function blame(
  createHttpClient: CreateHttpClient,
  base: DenoClientOptions,
  proxy: ProxyTarget | undefined,
): string {
  const accepts = (options: DenoClientOptions): boolean => {
    try {
      createHttpClient(options).close();
      return true;
    } catch {
      return false;
    }
  };
  if (base.caCerts !== undefined && !accepts({ caCerts: base.caCerts })) return "verify";
  if (base.cert !== undefined && !accepts({ cert: base.cert, key: base.key })) return "cert";
  return proxy?.option ?? "cert";
}
