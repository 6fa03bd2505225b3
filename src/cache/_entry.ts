// A stored response: what is kept of a response (RFC 9111 §3.1 and SPEC C "What is stored"),
// its serialized form, the update of its header fields by a newer response (§3.2), and the
// values computed from those fields once.

import {
  type Directives,
  formatHttpDate,
  parseAge,
  parseCacheControl,
  parseEntityTags,
  parseHttpDate,
} from "./_parse.ts";

/** A header field: lower-case name, value. */
export type Field = [name: string, value: string];

/** A selecting request field recorded with a response that has Vary: name, normalized value. */
export type Selecting = [name: string, value: string | null];

/** The serialized head of an entry, as stores keep it. */
interface Head {
  version: 1;
  status: number;
  reason: string;
  headers: Field[];
  request_time: number;
  response_time: number;
  vary: Selecting[];
  decoded: boolean;
  invalid?: boolean;
}

/** The connection's own fields, never stored (RFC 9110 §7.6.1, RFC 9111 §3.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "proxy-authentication-info",
  "proxy-authorization",
]);
/** What is never stored: the connection's own fields, and Set-Cookie. */
const NEVER_STORED: ReadonlySet<string> = new Set([...HOP_BY_HOP, "set-cookie"]);
/** Fields a newer response never replaces in a stored one (§3.2, and what the body depends on). */
const KEEP_ON_UPDATE = new Set([
  "content-length",
  "content-encoding",
  "content-range",
  "transfer-encoding",
]);

/** What of a response is stored. */
export interface EntryInit {
  status: number;
  reason: string;
  headers: Field[];
  requestTime: number;
  responseTime: number;
  vary: Selecting[];
  decoded: boolean;
  invalid?: boolean;
  body: Uint8Array;
}

/** One stored response, with the values the freshness rules read parsed on first use. */
export class Entry {
  readonly status: number;
  readonly reason: string;
  /** The stored header fields, lower-case names, in the order received. */
  readonly headers: readonly Field[];
  /** When the request that fetched or last validated this response was sent (ms). */
  readonly requestTime: number;
  /** When its response arrived (ms). */
  readonly responseTime: number;
  /** The selecting request fields, when the response had Vary; `[]` otherwise. */
  readonly vary: readonly Selecting[];
  /** False when the body is still Content-Encoded (the core decodes it after the cache). */
  readonly decoded: boolean;
  /** True once a HEAD response showed the stored one outdated: stale until validated. */
  readonly invalid: boolean;
  readonly body: Uint8Array;
  #cc: Readonly<Directives> | undefined;
  #initialAge: number | undefined;
  /**
   * A Response of the stored status, reason and fields but Age, which each response served
   * from the entry clones (cloning copies the checked fields; building one checks them again).
   */
  template: globalThis.Response | undefined;

  constructor(init: EntryInit) {
    this.status = init.status;
    this.reason = init.reason;
    this.headers = init.headers;
    this.requestTime = init.requestTime;
    this.responseTime = init.responseTime;
    this.vary = init.vary;
    this.decoded = init.decoded;
    this.invalid = init.invalid === true;
    this.body = init.body;
  }

  /** The value of a field: several lines joined by ", ", or null when absent. */
  get(name: string): string | null {
    let value: string | null = null;
    for (const [key, v] of this.headers) {
      if (key === name) value = value === null ? v : `${value}, ${v}`;
    }
    return value;
  }

  /** The response's Cache-Control directives. */
  get cc(): Readonly<Directives> {
    return this.#cc ??= parseCacheControl(this.get("cache-control"));
  }

  /** Its entity-tag, or null. */
  get etag(): string | null {
    return parseEntityTags(this.get("etag"))[0] ?? null;
  }

  /** The Date value (ms), or the time the response arrived when Date is missing or invalid. */
  get date(): number {
    return parseHttpDate(this.get("date")) ?? this.responseTime;
  }

  /** corrected_initial_age of RFC 9111 §4.2.3, in seconds. */
  get initialAge(): number {
    if (this.#initialAge !== undefined) return this.#initialAge;
    const apparent = Math.max(0, (this.responseTime - this.date) / 1000);
    const delay = Math.max(0, (this.responseTime - this.requestTime) / 1000);
    const corrected = (parseAge(this.get("age")) ?? 0) + delay;
    return this.#initialAge = Math.max(apparent, corrected);
  }

  /** The Selecting fields as one string that tells the variants of one key apart. */
  get variant(): string {
    return variantOf(this.vary);
  }

  /** The head, serialized for a store. */
  serialize(): string {
    const head: Head = {
      version: 1,
      status: this.status,
      reason: this.reason,
      headers: this.headers as Field[],
      request_time: this.requestTime,
      response_time: this.responseTime,
      vary: this.vary as Selecting[],
      decoded: this.decoded,
    };
    if (this.invalid) head.invalid = true;
    return JSON.stringify(head);
  }

  /** A copy with other fields (a 304 or HEAD update, an invalidation mark). */
  with(changes: Partial<EntryInit>): Entry {
    return new Entry({ ...this, ...changes });
  }
}

/** The variant string of Selecting fields: "" without Vary. */
export function variantOf(vary: readonly Selecting[]): string {
  return vary.length === 0 ? "" : JSON.stringify(vary);
}

function isField(value: unknown): value is Field {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "string" &&
    typeof value[1] === "string";
}

function isSelecting(value: unknown): value is Selecting {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "string" &&
    (typeof value[1] === "string" || value[1] === null);
}

/** An entry from a stored head and body, or null when the head is not one this cache wrote. */
export function parseEntry(head: string, body: Uint8Array): Entry | null {
  let data: Partial<Head>;
  try {
    data = JSON.parse(head);
  } catch {
    return null;
  }
  if (
    data === null || typeof data !== "object" || data.version !== 1 ||
    !Number.isInteger(data.status) || data.status! < 200 || data.status! > 599 ||
    typeof data.reason !== "string" || typeof data.request_time !== "number" ||
    typeof data.response_time !== "number" || typeof data.decoded !== "boolean" ||
    !Array.isArray(data.headers) || !data.headers.every(isField) ||
    !Array.isArray(data.vary) || !data.vary.every(isSelecting) || !(body instanceof Uint8Array)
  ) return null;
  return new Entry({
    status: data.status!,
    reason: data.reason,
    headers: data.headers,
    requestTime: data.request_time,
    responseTime: data.response_time,
    vary: data.vary,
    decoded: data.decoded,
    invalid: data.invalid === true,
    body,
  });
}

/**
 * The fields of a response that are stored: less the connection's own (and those `Connection`
 * names), less `Set-Cookie` (cookies act only from the network), less those a qualified
 * `no-cache` (or, in a shared cache, `private`) names.
 */
export function storedFields(
  received: Iterable<readonly [string, string]>,
  cc: Readonly<Directives>,
  shared: boolean,
): Field[] {
  const all: Field[] = [];
  // Most responses name nothing more to drop: no set is made for them.
  let named: Set<string> | null = null;
  for (const [key, value] of received) {
    const name = key.toLowerCase();
    all.push([name, value]);
    if (name !== "connection") continue;
    for (const listed of value.split(",")) (named ??= new Set()).add(listed.trim().toLowerCase());
  }
  for (const name of cc.noCacheFields ?? []) (named ??= new Set()).add(name);
  if (shared) { for (const name of cc.privateFields ?? []) (named ??= new Set()).add(name); }
  return all.filter(([name]) => !NEVER_STORED.has(name) && named?.has(name) !== true);
}

/**
 * `fields` with a Date added when it has none: the time the response arrived, to the next whole
 * second (an HTTP-date has no fractions; rounding down would age the response by them).
 */
export function withDate(fields: Field[], responseTime: number): Field[] {
  if (fields.some(([name]) => name === "date")) return fields;
  return [...fields, ["date", formatHttpDate(Math.ceil(responseTime / 1000) * 1000)]];
}

/**
 * The fields of a stored response updated by a newer one (a 304, or a 200 to HEAD): each field
 * the newer one has replaces the stored lines of that name, except the framing and coding
 * fields the stored body depends on (RFC 9111 §3.2). A newer response without Date is dated
 * `responseTime`, as a stored one is.
 */
export function updatedFields(
  stored: readonly Field[],
  received: Iterable<readonly [string, string]>,
  responseTime: number,
  shared: boolean,
): Field[] {
  const fresh = withDate(
    storedFields(received, NO_QUALIFIED, shared).filter(([name]) => !KEEP_ON_UPDATE.has(name)),
    responseTime,
  );
  // The newer response's Date and Age describe the response as validated now: a stored Age
  // the newer one lacks would count the time before the validation twice.
  const replaced = new Set(fresh.map(([name]) => name));
  replaced.add("age");
  const kept = stored.filter(([name]) => !replaced.has(name));
  const merged = [...kept, ...fresh];
  // The merged Cache-Control may qualify no-cache or private anew.
  return storedFields(merged, parseCacheControl(joined(merged, "cache-control")), shared);
}

const NO_QUALIFIED: Readonly<Directives> = parseCacheControl(null);

function joined(fields: readonly Field[], name: string): string | null {
  const values = fields.filter(([key]) => key === name).map(([, value]) => value);
  return values.length === 0 ? null : values.join(", ");
}
