// TLS material for `verify` and `cert`: PEM text as given, or read once from the files named.

import { clip } from "../_clip.ts";
import { builtin, RUNTIME_NAME } from "../_runtime.ts";
import type { Scheme, Settings } from "./_settings.ts";

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
