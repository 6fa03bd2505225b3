/**
 * The runtime-specific transport behind `verify`, `cert` and `proxies`: extra trust anchors,
 * disabled verification, client certificates and explicit proxies. Deno gets them from
 * `Deno.createHttpClient`, Bun from its fetch `tls` and `proxy` options; both are found by
 * feature detection, never imported, so the module still loads on other runtimes.
 *
 * @module
 */

import { clip } from "../_clip.ts";
import { controlCharacter } from "../_url.ts";

/** The TLS and proxy settings of a request or session, as the user gave them. */
export interface TransportOptions {
  /**
   * How to verify the server's certificate: `true` uses the runtime's trust store, `false`
   * skips verification (Bun only), a string is a CA bundle given as PEM text (starting with
   * `-----BEGIN`) or as the path of a PEM file. On Deno the bundle is trusted in addition to
   * the default roots.
   *
   * @default {true}
   */
  verify?: boolean | string;
  /** A client certificate as `[certificate, privateKey]`, each PEM text or the path of a PEM file. */
  cert?: readonly [string, string];
  /**
   * The proxy to use per target scheme, e.g. `{ https: "http://user:pass@127.0.0.1:3128" }`.
   * Credentials in a proxy URL are sent to the proxy as `Proxy-Authorization: Basic`.
   */
  proxies?: { http?: string; https?: string };
}

/** The runtime's way of applying {@linkcode TransportOptions} to `fetch`. */
export interface Transport {
  /**
   * Extra `RequestInit` fields to merge into the fetch init for a request to `url`
   * (`{ client }` on Deno; `{ tls, proxy }` on Bun). Returns a shared frozen empty object when
   * nothing is needed.
   *
   * @param url The URL the request goes to; its scheme picks the proxy.
   * @returns The fields to spread into the fetch init; never mutate them.
   */
  init(url: URL): Readonly<Record<string, unknown>>;
  /** Release runtime clients (`Deno.HttpClient.close()`). Idempotent. */
  close(): void;
}

/**
 * Build the transport for TLS and proxy options, or `null` when they ask for nothing special
 * (verification on, no client certificate, no proxies): the caller then uses plain fetch.
 *
 * PEM file paths are read here, once.
 *
 * @example Trust a private CA for one request
 * ```ts ignore
 * const transport = createTransport({ verify: "/etc/ssl/private-ca.pem" });
 * const url = new URL("https://internal.example/");
 * try {
 *   const res = await fetch(url, { ...transport?.init(url) });
 * } finally {
 *   transport?.close();
 * }
 * ```
 *
 * @param options The `verify`, `cert` and `proxies` options.
 * @returns The transport, or `null` when plain fetch will do.
 * @throws {TypeError} When an option is malformed (wrong type, a proxy URL that is not
 * http(s), a PEM file that cannot be read or holds no PEM block), or when this runtime cannot
 * do what an option asks; the message names the option and, for the latter, the runtime.
 */
export function createTransport(options: TransportOptions): Transport | null {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot create a transport: options must be an object, got ${kind(options)}`,
    );
  }
  const settings = normalize(options);
  if (settings === null) return null;
  const g = globalThis as unknown as RuntimeGlobals;
  if (g.Bun !== undefined) return bunTransport(settings, g);
  const deno = g.Deno;
  if (deno !== undefined && typeof deno.createHttpClient === "function") {
    return denoTransport(settings, deno, deno.createHttpClient.bind(deno));
  }
  const name = runtimeName(g);
  if (settings.verify !== true) throw unsupported("verify", name, "tls");
  if (settings.cert !== undefined) throw unsupported("cert", name, "tls");
  throw unsupported("proxies", name, "proxy");
}

type Scheme = "http" | "https";
type Init = Readonly<Record<string, unknown>>;

const SCHEMES: readonly Scheme[] = ["http", "https"];
const NOTHING: Init = Object.freeze({});
const PEM_START = "-----BEGIN";
const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;

/** Why a file read failed, by Node error code or Deno error class name. */
const READ_FAILURES: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  NotFound: "no such file",
  EISDIR: "it is a directory",
  IsADirectory: "it is a directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  PermissionDenied: "permission denied",
  NotCapable: "read access was not granted (--allow-read)",
};

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
interface DenoPowers {
  createHttpClient?: (options: DenoClientOptions) => DenoHttpClient;
  readTextFileSync?: (path: string) => string;
}
interface NodeFs {
  readFileSync(path: string, encoding: "utf8"): string;
}
interface RuntimeGlobals {
  Deno?: DenoPowers;
  Bun?: unknown;
  process?: {
    versions?: { node?: string };
    getBuiltinModule?: (id: string) => unknown;
  };
  document?: unknown;
  WorkerGlobalScope?: unknown;
}

/** A proxy URL, parsed once; `href` keeps the credentials and is never put in a message. */
interface ProxyTarget {
  option: string;
  href: string;
  /** Scheme, host and port only. */
  origin: string;
  secure: boolean;
  username: string;
  password: string;
}

/** The options after validation: the only shape the rest of the file sees. */
interface Settings {
  verify: boolean | string;
  cert?: readonly [string, string];
  proxies: Partial<Record<Scheme, ProxyTarget>>;
}

/** TLS material after PEM files were read. */
interface Tls {
  insecure: boolean;
  ca?: string;
  cert?: string;
  key?: string;
}

class RuntimeTransport implements Transport {
  #inits: Readonly<Record<Scheme, Init>>;
  #clients: DenoHttpClient[];
  #closed = false;

  constructor(inits: Readonly<Record<Scheme, Init>>, clients: DenoHttpClient[]) {
    this.#inits = inits;
    this.#clients = clients;
  }

  init(url: URL): Init {
    if (this.#closed) throw new TypeError("Cannot use the transport: it was closed");
    const scheme = url.protocol.slice(0, -1);
    return scheme === "http" || scheme === "https" ? this.#inits[scheme] : NOTHING;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const client of this.#clients) client.close();
    this.#clients = [];
  }
}

function normalize(options: TransportOptions): Settings | null {
  const { verify = true, cert, proxies } = options;
  if (typeof verify !== "boolean" && typeof verify !== "string") {
    throw new TypeError(
      `Option 'verify' must be a boolean or a CA bundle (PEM text or a file path), got ${
        kind(verify)
      }`,
    );
  }
  if (typeof verify === "string" && verify.trim() === "") {
    throw new TypeError("Option 'verify' must be a boolean or a CA bundle, got an empty string");
  }
  if (
    cert !== undefined &&
    (!Array.isArray(cert) || cert.length !== 2 ||
      !cert.every((part) => typeof part === "string" && part.trim() !== ""))
  ) {
    throw new TypeError(
      `Option 'cert' must be a [certificate, key] pair of PEM texts or file paths, got ${
        kind(cert)
      }`,
    );
  }
  const targets = normalizeProxies(proxies);
  if (verify === true && cert === undefined && Object.keys(targets).length === 0) {
    return null;
  }
  return { verify, cert, proxies: targets };
}

function normalizeProxies(proxies: unknown): Partial<Record<Scheme, ProxyTarget>> {
  if (proxies === undefined) return {};
  if (typeof proxies !== "object" || proxies === null || Array.isArray(proxies)) {
    throw new TypeError(
      `Option 'proxies' must be an object such as { https: "http://127.0.0.1:3128" }, got ${
        kind(proxies)
      }`,
    );
  }
  const targets: Partial<Record<Scheme, ProxyTarget>> = {};
  for (const [key, value] of Object.entries(proxies)) {
    if (key !== "http" && key !== "https") {
      throw new TypeError(
        `Option 'proxies' has an unknown key '${clip(key)}': expected 'http' or 'https'`,
      );
    }
    if (value !== undefined) targets[key] = parseProxy(`proxies.${key}`, value);
  }
  return targets;
}

function parseProxy(option: string, value: unknown): ProxyTarget {
  if (typeof value !== "string") {
    throw new TypeError(`Option '${option}' must be a proxy URL string, got ${kind(value)}`);
  }
  // The URL parser would drop tab, CR and LF: the proxy used would not be the one written.
  const control = controlCharacter(value);
  if (control !== null) throw new TypeError(`Option '${option}' is not a valid URL: ${control}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not kept as the cause: the platform's error quotes the input, credentials and all.
    throw new TypeError(`Option '${option}' is not a valid URL: '${clip(redact(value))}'`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new TypeError(
      `Option '${option}' must be an http:// or https:// proxy URL, got '${clip(redact(value))}'`,
    );
  }
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  } catch (error) {
    throw new TypeError(`Option '${option}' has malformed percent-encoding in its credentials`, {
      cause: error,
    });
  }
  return {
    option,
    href: url.href,
    origin: `${url.protocol}//${url.host}`,
    secure: url.protocol === "https:",
    username,
    password,
  };
}

function bunTransport(settings: Settings, g: RuntimeGlobals): Transport {
  const tls = loadTls(settings, g, "Bun");
  let tlsInit: Init | undefined;
  if (tls !== null) {
    const fields: Record<string, unknown> = {};
    if (tls.insecure) fields.rejectUnauthorized = false;
    if (tls.ca !== undefined) fields.ca = tls.ca;
    if (tls.cert !== undefined) {
      fields.cert = tls.cert;
      fields.key = tls.key;
    }
    tlsInit = Object.freeze(fields);
  }
  const inits = {} as Record<Scheme, Init>;
  for (const scheme of SCHEMES) {
    const proxy = settings.proxies[scheme];
    if (proxy === undefined && tlsInit === undefined) {
      inits[scheme] = NOTHING;
      continue;
    }
    const init: Record<string, unknown> = {};
    if (tlsInit !== undefined) init.tls = tlsInit;
    if (proxy !== undefined) init.proxy = proxy.href;
    inits[scheme] = Object.freeze(init);
  }
  return new RuntimeTransport(inits, []);
}

function denoTransport(
  settings: Settings,
  deno: DenoPowers,
  createHttpClient: (options: DenoClientOptions) => DenoHttpClient,
): Transport {
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
  const tls = loadTls(settings, { Deno: deno }, "Deno");
  const base: DenoClientOptions = {};
  if (tls?.ca !== undefined) base.caCerts = [tls.ca];
  if (tls?.cert !== undefined) {
    base.cert = tls.cert;
    base.key = tls.key;
  }
  const clients = new Map<string, DenoHttpClient>();
  const inits = {} as Record<Scheme, Init>;
  try {
    for (const scheme of SCHEMES) {
      const proxy = settings.proxies[scheme];
      if (proxy === undefined && tls === null) {
        inits[scheme] = NOTHING;
        continue;
      }
      const key = proxy?.href ?? "";
      let client = clients.get(key);
      if (client === undefined) {
        client = createDenoClient(createHttpClient, base, proxy);
        clients.set(key, client);
      }
      inits[scheme] = Object.freeze({ client });
    }
  } catch (error) {
    for (const client of clients.values()) client.close();
    throw error;
  }
  return new RuntimeTransport(inits, [...clients.values()]);
}

function createDenoClient(
  createHttpClient: (options: DenoClientOptions) => DenoHttpClient,
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
      {
        cause: error,
      },
    );
  }
}

/** Which option made `Deno.createHttpClient` fail, found by retrying with less. */
function blame(
  createHttpClient: (options: DenoClientOptions) => DenoHttpClient,
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

function loadTls(settings: Settings, g: RuntimeGlobals, runtime: string): Tls | null {
  const { verify, cert } = settings;
  if (verify === true && cert === undefined) return null;
  const tls: Tls = { insecure: verify === false };
  if (typeof verify === "string") {
    tls.ca = loadPem(
      verify,
      "the CA bundle of option 'verify'",
      CERTIFICATE,
      "certificate",
      g,
      runtime,
    );
  }
  if (cert !== undefined) {
    tls.cert = loadPem(
      cert[0],
      "the certificate of option 'cert'",
      CERTIFICATE,
      "certificate",
      g,
      runtime,
    );
    tls.key = loadPem(cert[1], "the key of option 'cert'", PRIVATE_KEY, "private key", g, runtime);
  }
  return tls;
}

function loadPem(
  value: string,
  what: string,
  block: RegExp,
  blockName: string,
  g: RuntimeGlobals,
  runtime: string,
): string {
  if (value.trimStart().startsWith(PEM_START)) {
    if (!block.test(value)) {
      throw new TypeError(`Cannot use ${what}: the text holds no PEM ${blockName}`);
    }
    return value;
  }
  const text = readText(value, what, g, runtime);
  if (!block.test(text)) {
    throw new TypeError(`Cannot use ${what}: '${clip(value)}' holds no PEM ${blockName}`);
  }
  return text;
}

function readText(path: string, what: string, g: RuntimeGlobals, runtime: string): string {
  const read = fileReader(g);
  if (read === undefined) {
    throw new TypeError(
      `Cannot read ${what} from '${
        clip(path)
      }': this runtime (${runtime}) cannot read files synchronously; pass PEM text instead`,
    );
  }
  try {
    return read(path);
  } catch (error) {
    throw new TypeError(`Cannot read ${what} from '${clip(path)}': ${clip(readFailure(error))}`, {
      cause: error,
    });
  }
}

function fileReader(g: RuntimeGlobals): ((path: string) => string) | undefined {
  const deno = g.Deno;
  const readTextFileSync = deno?.readTextFileSync;
  if (typeof readTextFileSync === "function") return (path) => readTextFileSync.call(deno, path);
  const fs = g.process?.getBuiltinModule?.("node:fs") as NodeFs | undefined;
  if (typeof fs?.readFileSync === "function") return (path) => fs.readFileSync(path, "utf8");
  return undefined;
}

function readFailure(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code in READ_FAILURES) return READ_FAILURES[code];
    if (error.name in READ_FAILURES) return READ_FAILURES[error.name];
    return error.message;
  }
  return String(error);
}

function hasCredentials(proxy: ProxyTarget): boolean {
  return proxy.username !== "" || proxy.password !== "";
}

function unsupported(option: string, runtime: string, field: "tls" | "proxy"): TypeError {
  return new TypeError(
    `Option '${option}' is not supported on this runtime (${runtime}): it needs ` +
      `Deno.createHttpClient or Bun's fetch '${field}' option`,
  );
}

function runtimeName(g: RuntimeGlobals): string {
  if (g.Deno !== undefined) return "Deno without createHttpClient";
  const node = g.process?.versions?.node;
  if (typeof node === "string") return "Node.js";
  return g.document !== undefined || g.WorkerGlobalScope !== undefined ? "a browser" : "unknown";
}

/** Everything before the last `@` could be credentials: hide it. */
function redact(value: string): string {
  const at = value.lastIndexOf("@");
  if (at < 0) return value;
  const separator = value.indexOf("://");
  const scheme = separator >= 0 && separator < at ? value.slice(0, separator + 3) : "";
  return `${scheme}***@${value.slice(at + 1)}`;
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value === undefined) return "undefined";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** A transport shared by every call with the same settings, and how many calls use it now. */
interface SharedEntry {
  transport: Transport;
  users: number;
  evicted: boolean;
}

/** Transports for per-call settings: one per distinct setting, at most this many kept. */
const SHARED_MAX = 16;
const shared = new Map<string, SharedEntry>();

/** A transport in use by one call; `release()` once the call is over. */
export interface TransportLease {
  /** The transport. */
  transport: Transport;
  /** Lets go of it; a transport pushed out of the cache is closed when its last call ends. */
  release(): void;
}

/**
 * {@linkcode createTransport} for one call, reusing the transport (and so the connections) of an
 * earlier call with the same settings: on Deno a client per call would open a connection per
 * call. Null when plain fetch will do.
 */
export function leaseTransport(options: TransportOptions): TransportLease | null {
  let key: string;
  try {
    key = JSON.stringify([options.verify ?? true, options.cert ?? null, options.proxies ?? null]);
  } catch {
    key = "";
  }
  let entry = key === "" ? undefined : shared.get(key);
  if (entry === undefined) {
    const transport = createTransport(options);
    if (transport === null) return null;
    entry = { transport, users: 0, evicted: key === "" };
    if (key !== "") {
      shared.set(key, entry);
      if (shared.size > SHARED_MAX) evictOldest();
    }
  }
  const lease = entry;
  lease.users++;
  let released = false;
  return {
    transport: lease.transport,
    release() {
      if (released) return;
      released = true;
      if (--lease.users === 0 && lease.evicted) lease.transport.close();
    },
  };
}

function evictOldest(): void {
  for (const [key, entry] of shared) {
    shared.delete(key);
    entry.evicted = true;
    if (entry.users === 0) entry.transport.close();
    return;
  }
}

/** TLS settings in the shape node:https takes (`tls.connect` options). */
export interface NodeTlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
}

/**
 * `verify` and `cert` for the node:http client (a GET with a body goes through it), PEM files
 * read; null when nothing special is asked. `proxies` cannot be honoured there: a TypeError.
 */
export function nodeTlsOptions(options: TransportOptions): NodeTlsOptions | null {
  const settings = normalize(options);
  if (settings === null) return null;
  if (Object.keys(settings.proxies).length > 0) {
    throw new TypeError(
      "Option 'proxies' is not supported for a GET or HEAD request with a body: it is sent " +
        "with the runtime's node:http client, which has no proxy support here",
    );
  }
  const g = globalThis as unknown as RuntimeGlobals;
  const tls = loadTls(settings, g, runtimeName(g));
  if (tls === null) return null;
  const out: NodeTlsOptions = {};
  if (tls.insecure) out.rejectUnauthorized = false;
  if (tls.ca !== undefined) out.ca = tls.ca;
  if (tls.cert !== undefined) {
    out.cert = tls.cert;
    out.key = tls.key;
  }
  return out;
}
