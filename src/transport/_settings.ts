// The `verify`, `cert` and `proxies` options, checked once (the only shape the transport sees),
// and their TLS material: PEM text as given, or read once from the files named.

import { clip } from "../errors.ts";
import { controlCharacter, redactUrl } from "../_url.ts";
import { builtin, RUNTIME_NAME } from "../_runtime.ts";

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

/** TLS material after PEM files were read, in the names node:tls and Bun take. */
export interface Tls {
  /** Skip verification of the server's certificate. */
  insecure: boolean;
  /** Trust anchors (PEM text). */
  ca?: string;
  /** Client certificate (PEM text); `key` with it. */
  cert?: string;
  /** The client certificate's private key (PEM text). */
  key?: string;
}

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

interface DenoFiles {
  readTextFileSync?: (path: string) => string;
}
interface NodeFs {
  readFileSync(path: string, encoding: "utf8"): string;
}

/**
 * The TLS material of `settings`, PEM files read; null when they ask for nothing TLS-related.
 *
 * @throws {TypeError} A file that cannot be read or holds no PEM block of the kind needed.
 */
export function loadTls(settings: Settings): Tls | null {
  const { verify, cert } = settings;
  if (verify === true && cert === undefined) return null;
  const tls: Tls = { insecure: verify === false };
  if (typeof verify === "string") {
    tls.ca = loadPem(verify, "the CA bundle of option 'verify'", CERTIFICATE, "certificate");
  }
  if (cert !== undefined) {
    tls.cert = loadPem(cert[0], "the certificate of option 'cert'", CERTIFICATE, "certificate");
    tls.key = loadPem(cert[1], "the key of option 'cert'", PRIVATE_KEY, "private key");
  }
  return tls;
}

function loadPem(value: string, what: string, block: RegExp, blockName: string): string {
  // Anywhere in the text: openssl writes "Bag Attributes" lines before the block, and a value
  // taken for a path is quoted in messages, which must never show a private key.
  if (value.includes(PEM_START)) {
    if (!block.test(value)) {
      throw new TypeError(`Cannot use ${what}: the text holds no PEM ${blockName}`);
    }
    return value;
  }
  const text = readText(value, what);
  if (!block.test(text)) {
    throw new TypeError(`Cannot use ${what}: '${clip(value)}' holds no PEM ${blockName}`);
  }
  return text;
}

function readText(path: string, what: string): string {
  const read = fileReader();
  if (read === null) {
    throw new TypeError(
      `Cannot read ${what} from '${clip(path)}': this runtime (${RUNTIME_NAME}) cannot read ` +
        "files synchronously; pass PEM text instead",
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

function fileReader(): ((path: string) => string) | null {
  const deno = (globalThis as { Deno?: DenoFiles }).Deno;
  const readTextFileSync = deno?.readTextFileSync;
  if (typeof readTextFileSync === "function") return (path) => readTextFileSync.call(deno, path);
  const fs = builtin<NodeFs>("node:fs");
  if (typeof fs?.readFileSync === "function") return (path) => fs.readFileSync(path, "utf8");
  return null;
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

/** TLS options in the names node:tls takes (Bun's fetch `tls` too), for an https connection. */
export function nodeTls(tls: Tls | null, scheme: Scheme): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (tls === null || scheme !== "https") return options;
  if (tls.insecure) options.rejectUnauthorized = false;
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.cert !== undefined) {
    options.cert = tls.cert;
    options.key = tls.key;
  }
  return options;
}
