// What the runtime's fetch needs for `verify`, `cert` and `proxies`: `{ client }` from
// `Deno.createHttpClient` on Deno, `{ tls, proxy }` on Bun. Found by feature detection.

import { clip } from "../_clip.ts";
import { RUNTIME, RUNTIME_NAME } from "../_runtime.ts";
import { nodeTls, type Tls } from "./_pem.ts";
import {
  hasCredentials,
  type ProxyTarget,
  type Scheme,
  SCHEMES,
  type Settings,
} from "./_settings.ts";

/** Fields to spread into a fetch init, per scheme; never mutated. */
export type FetchInit = Readonly<Record<string, unknown>>;

/** The fetch fields of one set of settings, and how to let go of what they hold. */
export interface FetchFields {
  readonly inits: Readonly<Record<Scheme, FetchInit>>;
  close(): void;
}

/** The shared empty init: nothing to add for this scheme. */
export const NO_FIELDS: FetchInit = Object.freeze({});

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
export function fetchFields(settings: Settings, tls: () => Tls | null): FetchFields {
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
