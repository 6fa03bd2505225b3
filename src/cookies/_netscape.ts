// The Netscape `cookies.txt` format that curl (-b/-c), wget, yt-dlp and Python's
// MozillaCookieJar read and write, and the file access behind `jar.save()` and
// `CookieJar.load()`. Reading is lenient line by line (a line that is not a cookie is skipped);
// the jar's own rules are applied by the jar.

import { builtin, RUNTIME } from "../_runtime.ts";
import type { Cookie } from "./jar.ts";
import { canonicalDomain, CONTROL, longerThan, MAX_LINE_BYTES, MAX_TIME } from "./_set_cookie.ts";

/** The first line of a cookie file; Python's MozillaCookieJar refuses a file without it. */
const HEADER = "# Netscape HTTP Cookie File";
const HTTP_ONLY = "#HttpOnly_";
/** Longest expiry written, as curl caps it (RFC 6265bis §5.5: 400 days). */
const MAX_AGE_MS = 400 * 24 * 60 * 60 * 1000;
/** A line longer than this (in UTF-16 code units) is skipped without being split. */
const MAX_FILE_LINE = 4 * MAX_LINE_BYTES;
const DIGITS = /^\d+$/;
const FLAGS: Readonly<Record<string, boolean>> = { TRUE: true, FALSE: false };
/** Characters that would end a name or value in the Cookie header, or a field of the file. */
const NOT_IN_NAME = /[=;\t]/;
const NOT_IN_VALUE = /[;\t]/;

/**
 * The cookies as a Netscape cookie file: the header line, then one tab-separated line per cookie
 * (`domain`, include-subdomains, `path`, secure, expiry in seconds, `name`, `value`), LF endings.
 * An expired cookie is left out, and so is one the format cannot hold: set for every host
 * (domain `""`), or with a tab in its name or value. A session cookie's expiry is `0`; any other
 * is capped at 400 days from `now`.
 */
export function formatCookies(cookies: Iterable<Cookie>, now: number): string {
  let text = `${HEADER}\n`;
  const latest = Math.floor((now + MAX_AGE_MS) / 1000);
  for (const cookie of cookies) {
    if (cookie.expires !== null && cookie.expires <= now) continue;
    if (cookie.domain === "" || /\t/.test(cookie.name) || /\t/.test(cookie.value)) continue;
    const expiry = cookie.expires === null ? 0 : Math.min(Math.ceil(cookie.expires / 1000), latest);
    const fields = [
      `${cookie.httpOnly ? HTTP_ONLY : ""}${cookie.hostOnly ? "" : "."}${cookie.domain}`,
      cookie.hostOnly ? "FALSE" : "TRUE",
      cookie.path,
      cookie.secure ? "TRUE" : "FALSE",
      String(expiry),
      cookie.name,
      cookie.value,
    ];
    text += `${fields.join("\t")}\n`;
  }
  return text;
}

/**
 * The cookies of a Netscape cookie file, in file order, each as its line says (the jar then
 * applies its rules). CRLF and a byte order mark are accepted; a line that is not a cookie is
 * skipped: a comment, one with a control character, too long, with other than six or seven
 * fields (six: the value is empty), a flag other than `TRUE` / `FALSE`, a path not starting with
 * `/`, an expiry that is not a number of seconds (`0` or empty: a session cookie), a domain that
 * is not a host name, or a name or value the `Cookie` header cannot carry.
 */
export function parseCookies(text: string): Cookie[] {
  const cookies: Cookie[] = [];
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  for (let start = 0; start < text.length;) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end > start && text[end - 1] === "\r" ? end - 1 : end);
    start = end + 1;
    const cookie = parseLine(line);
    if (cookie !== null) cookies.push(cookie);
  }
  return cookies;
}

/** One line of a cookie file as a cookie, or null when it is not one. */
function parseLine(line: string): Cookie | null {
  if (line.length > MAX_FILE_LINE) return null;
  const httpOnly = line.startsWith(HTTP_ONLY);
  if (httpOnly) line = line.slice(HTTP_ONLY.length);
  else if (line.startsWith("#")) return null;
  if (CONTROL.test(line)) return null;
  const fields = line.split("\t");
  if (fields.length !== 6 && fields.length !== 7) return null;
  const [domainField, subdomains, path, secure, expiry, name] = fields;
  const value = fields[6] ?? "";
  const include = FLAGS[subdomains.toUpperCase()];
  const isSecure = FLAGS[secure.toUpperCase()];
  if (include === undefined || isSecure === undefined || !path.startsWith("/")) return null;
  if (name === "" || NOT_IN_NAME.test(name) || NOT_IN_VALUE.test(value)) return null;
  if (longerThan(`${name}=${value}`, MAX_LINE_BYTES)) return null;
  let expires: number | null = null;
  if (expiry !== "" && expiry !== "0") {
    if (!DIGITS.test(expiry)) return null;
    expires = Math.min(Number(expiry) * 1000, MAX_TIME);
  }
  const domain = canonicalDomain(domainField);
  if (domain === null) return null;
  return {
    name,
    value,
    domain,
    path,
    expires,
    secure: isSecure,
    httpOnly,
    hostOnly: !include,
    sameSite: null,
  };
}

/** The parts of `node:fs/promises` used here. */
interface NodeFs {
  readFile(path: string | URL, encoding: "utf8"): Promise<string>;
  open(path: string | URL, flags: "wx", mode: number): Promise<NodeFileHandle>;
  rename(from: string | URL, to: string | URL): Promise<void>;
  rm(path: string | URL, options: { force: boolean }): Promise<void>;
}
interface NodeFileHandle {
  writeFile(data: string, encoding: "utf8"): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}
/** The parts of the `Deno` namespace used here. */
interface DenoFs {
  readTextFile(path: string | URL): Promise<string>;
  open(
    path: string | URL,
    options: { write: true; createNew: true; mode: number },
  ): Promise<DenoFile>;
  rename(from: string | URL, to: string | URL): Promise<void>;
  remove(path: string | URL): Promise<void>;
}
interface DenoFile {
  write(bytes: Uint8Array): Promise<number>;
  sync(): Promise<void>;
  close(): void;
}

/** The runtime's file access: Deno's namespace, or `node:fs/promises` on Bun and Node. */
function files(method: string): { deno: DenoFs } | { node: NodeFs } {
  const deno = (globalThis as { Deno?: DenoFs }).Deno;
  if (RUNTIME === "deno" && deno !== undefined) return { deno };
  const node = RUNTIME === "browser" ? null : builtin<NodeFs>("node:fs/promises");
  if (node !== null) return { node };
  throw new TypeError(`Cannot use '${method}': this runtime has no file access`);
}

/** Checks the `path` argument of `save()` and `load()`: a non-empty path or a `file:` URL. */
export function checkPath(path: unknown, method: string): string | URL {
  if (typeof path === "string" ? path !== "" : path instanceof URL && path.protocol === "file:") {
    return path as string | URL;
  }
  throw new TypeError(`Invalid 'path' of '${method}': expected a file path or a file: URL`);
}

/** The text of the file at `path`. */
export function readCookieFile(path: string | URL, method: string): Promise<string> {
  const fs = files(method);
  return "deno" in fs ? fs.deno.readTextFile(path) : fs.node.readFile(path, "utf8");
}

/**
 * Writes `text` to `path` whole or not at all: into a new file beside it (created exclusively,
 * mode 0600), flushed to disk, then renamed over `path`. On failure the temporary file is
 * removed and `path` is left as it was.
 */
export async function writeCookieFile(
  path: string | URL,
  text: string,
  method: string,
): Promise<void> {
  const fs = files(method);
  const temporary = siblingPath(path);
  let created = false;
  try {
    if ("deno" in fs) {
      const file = await fs.deno.open(temporary, { write: true, createNew: true, mode: 0o600 });
      created = true;
      try {
        const bytes = new TextEncoder().encode(text);
        for (let at = 0; at < bytes.byteLength;) at += await file.write(bytes.subarray(at));
        await file.sync();
      } finally {
        file.close();
      }
      await fs.deno.rename(temporary, path);
    } else {
      const file = await fs.node.open(temporary, "wx", 0o600);
      created = true;
      try {
        await file.writeFile(text, "utf8");
        await file.sync();
      } finally {
        await file.close();
      }
      await fs.node.rename(temporary, path);
    }
  } catch (error) {
    if (created) await removeQuietly(fs, temporary);
    throw error;
  }
}

async function removeQuietly(fs: { deno: DenoFs } | { node: NodeFs }, path: string | URL) {
  try {
    if ("deno" in fs) await fs.deno.remove(path);
    else await fs.node.rm(path, { force: true });
  } catch { /* the error that made the save fail is the one to report */ }
}

/** A new name in the directory of `path`: `path` plus a random suffix. */
function siblingPath(path: string | URL): string | URL {
  const random = crypto.getRandomValues(new Uint8Array(8));
  const suffix = `.${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}.tmp`;
  if (typeof path === "string") return `${path}${suffix}`;
  const sibling = new URL(path.href);
  sibling.pathname += suffix;
  return sibling;
}
