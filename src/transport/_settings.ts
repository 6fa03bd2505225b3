// The `verify`, `cert` and `proxies` options, checked once: the only shape the transport sees.

import { clip } from "../_clip.ts";
import { controlCharacter, redactUrl } from "../_url.ts";

/** The TLS and proxy settings of a request or session, as the user gave them. */
export interface TransportOptions {
  /**
   * How to verify the server's certificate: `true` uses the runtime's trust store, `false`
   * skips verification, a string is a CA bundle given as PEM text (holding `-----BEGIN`)
   * or as the path of a PEM file.
   *
   * @default {true}
   */
  verify?: boolean | string | null;
  /** A client certificate as `[certificate, privateKey]`, each PEM text or the path of a PEM file. */
  cert?: readonly [string, string] | null;
  /**
   * The proxy to use per target scheme, e.g. `{ https: "http://user:pass@127.0.0.1:3128" }`.
   * Credentials in a proxy URL are sent to the proxy as `Proxy-Authorization: Basic`.
   */
  proxies?: { http?: string; https?: string } | null;
}

/** A URL scheme the transport serves. */
export type Scheme = "http" | "https";

/** The schemes, in a fixed order. */
export const SCHEMES: readonly Scheme[] = ["http", "https"];

/** A proxy URL, parsed once; `href` keeps the credentials and is never put in a message. */
export interface ProxyTarget {
  option: string;
  href: string;
  /** Scheme, host and port only. */
  origin: string;
  secure: boolean;
  username: string;
  password: string;
}

/** Checked TLS and proxy settings that ask for something: never the defaults. */
export interface Settings {
  readonly verify: boolean | string;
  readonly cert: readonly [string, string] | undefined;
  readonly proxies: Readonly<Partial<Record<Scheme, ProxyTarget>>>;
  /** Equal for equal settings: what runtime clients are shared by. */
  readonly key: string;
}

/**
 * The settings of `options`, checked; null when they ask for nothing special (verification on,
 * no client certificate, no proxy). `null` and `undefined` values mean the default.
 *
 * @throws {TypeError} An option of the wrong type, or a proxy URL that is not http(s).
 */
export function settingsOf(options: TransportOptions): Settings | null {
  const verify = options.verify ?? true;
  const cert = options.cert ?? undefined;
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
  const proxies = proxyTargets(options.proxies ?? undefined);
  const schemes = SCHEMES.filter((scheme) => proxies[scheme] !== undefined);
  if (verify === true && cert === undefined && schemes.length === 0) return null;
  const key = JSON.stringify([
    verify,
    cert ?? null,
    schemes.map((scheme) => [scheme, proxies[scheme]!.href]),
  ]);
  return Object.freeze({ verify, cert: cert && [cert[0], cert[1]] as const, proxies, key });
}

function proxyTargets(proxies: unknown): Partial<Record<Scheme, ProxyTarget>> {
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
    throw new TypeError(`Option '${option}' is not a valid URL: '${clip(redactUrl(value))}'`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new TypeError(
      `Option '${option}' must be an http:// or https:// proxy URL, got '${
        clip(redactUrl(value))
      }'`,
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

/** Whether a proxy URL carries credentials. */
export function hasCredentials(proxy: ProxyTarget): boolean {
  return proxy.username !== "" || proxy.password !== "";
}

/** What a value is, for a message that must not quote it. */
export function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value === undefined) return "undefined";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
