// Request header input: validation and conversion to the platform's Headers.

import { bare } from "./_runtime.ts";
import { InvalidHeaderError, type RequestInfo } from "./errors.ts";
import type { HeaderInput } from "./options.ts";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;
/** The other control characters RFC 9110 forbids in a field value (tab is allowed). */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const NON_LATIN1 = /[\u0100-\uffff]/;
// deno-lint-ignore no-control-regex -- the whole ASCII range is the point
const ASCII = /^[\x00-\x7f]*$/;
const encoder = new TextEncoder();

/** A header value as the ByteString `Headers` wants: text beyond Latin-1 is sent as UTF-8. */
function byteString(value: string): string {
  return NON_LATIN1.test(value) ? utf8ByteString(value) : value;
}

/**
 * `text` as the ByteString of its UTF-8 encoding, a character per byte (`é` as C3 A9, where a
 * header value of Latin-1 characters goes out a byte per character).
 */
export function utf8ByteString(text: string): string {
  if (ASCII.test(text)) return text;
  let out = "";
  for (const byte of encoder.encode(text)) out += String.fromCharCode(byte);
  return out;
}

function quoteName(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}...` : name);
}

/** Checks one header; throws `InvalidHeaderError` naming it (never showing its value). */
export function checkHeader(name: string, value: string, request: RequestInfo): void {
  if (!TOKEN.test(name)) {
    throw new InvalidHeaderError(
      `Invalid header name ${quoteName(name)}: only token characters are allowed`,
      { request },
    );
  }
  if (BAD_VALUE.test(value)) {
    throw new InvalidHeaderError(
      `Invalid value for header ${quoteName(name)}: it contains CR, LF or NUL`,
      { request },
    );
  }
  if (CONTROL.test(value)) {
    throw new InvalidHeaderError(
      `Invalid value for header ${quoteName(name)}: it contains a control character`,
      { request },
    );
  }
}

/** Where `addHeaders` writes: the platform's `Headers`, or the module's own `HeaderMap`. */
export interface HeaderSink {
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  delete(name: string): void;
}

const EDGE_SPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

/** HTTP whitespace: tab, LF, CR, space. */
function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** A value without leading and trailing HTTP whitespace, as `Headers` keeps it. */
function normalize(value: string): string {
  return isSpace(value.charCodeAt(0)) || isSpace(value.charCodeAt(value.length - 1))
    ? value.replace(EDGE_SPACE, "")
    : value;
}

/**
 * The headers of an outgoing request, as a plain record that `fetch` takes as it is: fetch copies
 * a `Headers` object entry by entry through its iterator, which costs more than the request's
 * own JavaScript. Names are lower-cased and values normalised as `Headers` does; callers add
 * only values `checkHeader` has passed.
 */
export class HeaderMap implements HeaderSink {
  /** The record handed to fetch (nothing inherited is sent). */
  readonly fields: Record<string, string> = bare();

  /** A copy to change without changing this one. */
  clone(): HeaderMap {
    const copy = new HeaderMap();
    Object.assign(copy.fields, this.fields);
    return copy;
  }

  has(name: string): boolean {
    return name.toLowerCase() in this.fields;
  }

  get(name: string): string | null {
    return this.fields[name.toLowerCase()] ?? null;
  }

  set(name: string, value: string): void {
    this.fields[name.toLowerCase()] = normalize(value);
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const normal = normalize(value);
    const before = this.fields[key];
    this.fields[key] = before === undefined ? normal : `${before}, ${normal}`;
  }

  delete(name: string): void {
    delete this.fields[name.toLowerCase()];
  }
}

/** A `Headers` that counts its changes. */
interface TrackedHeaders extends Headers {
  readonly version: number;
}

/**
 * The class of session headers, defined on first use: on Deno, touching `Headers` loads the
 * fetch extension, which would add milliseconds to importing the module.
 */
let Tracked: (new () => TrackedHeaders) | undefined;

/**
 * A new, empty `headers` for a session: a `Headers` that counts its changes, so that the checked
 * copy a session sends with every request is made again only after one (iterating a `Headers` and
 * checking each field cost more than the rest of a request's JavaScript).
 */
export function trackedHeaders(): Headers {
  Tracked ??= class extends Headers {
    #version = 0;

    get version(): number {
      return this.#version;
    }

    override append(name: string, value: string): void {
      super.append(name, value);
      this.#version++;
    }

    override delete(name: string): void {
      super.delete(name);
      this.#version++;
    }

    override set(name: string, value: string): void {
      super.set(name, value);
      this.#version++;
    }
  };
  return new Tracked();
}

const checkedCopies = new WeakMap<Headers, { version: number; fields: [string, string][] }>();

/**
 * A session's headers, checked, as a new HeaderMap (null when there are none): from the copy
 * checked last time while `input` has not changed since (a `TrackedHeaders`), else checked field
 * by field.
 */
export function sessionHeaders(input: Headers, request: RequestInfo): HeaderMap | null {
  if (Tracked === undefined || !(input instanceof Tracked)) {
    const map = new HeaderMap();
    addHeaders(map, input, request);
    return map;
  }
  const version = (input as TrackedHeaders).version;
  let copy = checkedCopies.get(input);
  if (copy === undefined || copy.version !== version) {
    const fields: [string, string][] = [];
    for (const [name, value] of input) {
      checkHeader(name, value, request);
      fields.push([name, value]);
    }
    copy = { version, fields };
    checkedCopies.set(input, copy);
  }
  if (copy.fields.length === 0) return null;
  const map = new HeaderMap();
  for (const [name, value] of copy.fields) map.set(name, value);
  return map;
}

/**
 * Copies `input` into `into`, validating every name and value; a name given here replaces what
 * `into` had (session defaults), and a null value removes it. The caller's object is only read.
 */
export function addHeaders(into: HeaderSink, input: HeaderInput, request: RequestInfo): void {
  if (input instanceof Headers) {
    for (const [name, value] of input) {
      checkHeader(name, value, request);
      into.set(name, value);
    }
    return;
  }
  if (Array.isArray(input)) {
    const seen = new Set<string>();
    for (const pair of input as readonly unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError("Invalid 'headers': every item must be a [name, value] pair");
      }
      const [name, value] = pair as [unknown, unknown];
      if (typeof name !== "string" || typeof value !== "string") {
        throw new TypeError("Invalid 'headers': names and values must be strings");
      }
      checkHeader(name, value, request);
      if (!seen.has(name.toLowerCase())) {
        seen.add(name.toLowerCase());
        into.delete(name);
      }
      into.append(name, byteString(value));
    }
    return;
  }
  if (typeof input !== "object" || input === null) {
    throw new TypeError("Invalid 'headers': expected an object, Headers or [name, value] pairs");
  }
  for (const name of Object.keys(input)) {
    const raw = (input as Record<string, unknown>)[name];
    if (raw === undefined) continue;
    if (raw === null) {
      if (TOKEN.test(name)) into.delete(name);
      continue;
    }
    const type = typeof raw;
    if (type !== "string" && type !== "number" && type !== "boolean") {
      throw new TypeError(`Invalid 'headers': value of ${quoteName(name)} must be a string`);
    }
    const value = String(raw);
    checkHeader(name, value, request);
    into.set(name, byteString(value));
  }
}

/**
 * The values of the field `name` (lower-case) in a header block of `name: value` lines, as the
 * seed's `Response` holds one, in order.
 */
export function blockValues(block: string, name: string): string[] {
  const values: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) {
      values.push(line.slice(colon + 1).trim());
    }
  }
  return values;
}

// The one table of header fields that carry credentials. Every rule about credentials reads it:
// redirects drop them across origins, `r.request` and the CLI mask them, and a session's are
// sent only to its base URL's origin.

/** The header fields that always carry credentials, lower-case. */
export const CREDENTIAL_HEADERS: readonly string[] = Object.freeze([
  "authorization",
  "proxy-authorization",
  "cookie",
]);

const CREDENTIALS: ReadonlySet<string> = new Set(CREDENTIAL_HEADERS);

/**
 * Whether the field `name` (lower-case) carries credentials: one of
 * {@linkcode CREDENTIAL_HEADERS}, or one of the call's `sensitive_headers` (lower-case).
 */
export function isCredential(name: string, sensitive: readonly string[]): boolean {
  return CREDENTIALS.has(name) || (sensitive.length > 0 && sensitive.includes(name));
}

/** Removes every credential field (the table's and `sensitive`) from `headers`. */
export function dropCredentials(
  headers: { delete(name: string): void },
  sensitive: readonly string[],
): void {
  for (const name of CREDENTIAL_HEADERS) headers.delete(name);
  for (const name of sensitive) headers.delete(name);
}
