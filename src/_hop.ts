// One hop of a request: the init for fetch, the fetch itself (the platform's, a custom one, or
// through request hooks), under the call's deadlines.

import type { CallGuard } from "./_guard.ts";
import type { HeaderMap } from "./_headers.ts";
import type { Prepared } from "./_prepare.ts";
import { bare, RUNTIME } from "./_runtime.ts";
import { redactUrl } from "./_url.ts";
import { nodeFetch, type NodeFetchInit } from "./transport/_node_http.ts";
import { countedBody } from "./_upload.ts";
import type { HTTPDigestAuth } from "./digest_auth.ts";
import type { SentRequest } from "./response.ts";

/**
 * A browser answers `redirect: "manual"` with an opaque response that hides the status and the
 * Location, so there the browser follows redirects itself and `history` stays empty.
 */
export const BROWSER_FOLLOWS: boolean = RUNTIME === "browser";
/** The shared init of a bare GET: nothing but the module's redirect handling. */
const GET_INIT: RequestInit = Object.freeze(
  Object.assign(bare<RequestInit>(), { redirect: "manual" as const }),
);
const MASKED = new Set(["authorization", "proxy-authorization", "cookie"]);
const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze(bare<Record<string, string>>());
const NO_FIELDS_SENSITIVE: readonly string[] = Object.freeze([]);

type Init = RequestInit & { duplex?: "half"; decompress?: boolean };

/**
 * What one hop sent: its method, redacted URL and masked header fields, each computed only when
 * an error or `r.request` needs it.
 */
export class HopInfo implements SentRequest {
  readonly method: string;
  #url: URL | string;
  #text: string | undefined;
  #fields: Readonly<Record<string, string>> = NO_FIELDS;
  #sensitive: readonly string[] = NO_FIELDS_SENSITIVE;
  #masked: Readonly<Record<string, string>> | undefined;

  constructor(method: string, url: URL | string) {
    this.method = method;
    this.#url = url;
  }

  get url(): string {
    return this.#text ??= redactUrl(this.#url);
  }

  /**
   * Records the header fields sent. Not a copy: the hop loop never changes fields once sent
   * (it copies them first, see `ownHeaders`).
   */
  sent(fields: Record<string, string> | null, sensitive: readonly string[]): void {
    this.#fields = fields ?? NO_FIELDS;
    this.#sensitive = sensitive;
    this.#masked = undefined;
  }

  get headers(): Readonly<Record<string, string>> {
    if (this.#masked !== undefined) return this.#masked;
    const masked: Record<string, string> = {};
    for (const name of Object.keys(this.#fields)) {
      const secret = MASKED.has(name) || this.#sensitive.includes(name);
      masked[name] = secret ? "***" : this.#fields[name];
    }
    return this.#masked = Object.freeze(masked);
  }

  toJSON(): SentRequest {
    return { method: this.method, url: this.url, headers: this.headers };
  }
}

/** Where the hop loop is: what the next hop sends. */
export interface Hop {
  method: string;
  /** The URL sent, without credentials or fragment. */
  href: string;
  /** `href` parsed, once something needed it. */
  url: URL | null;
  /** The headers; the prepared ones until a hop must change them (see `ownHeaders`). */
  headers: HeaderMap | null;
  /** True while `headers` may not be changed: the prepared request's, or already sent. */
  shared: boolean;
  /** The body, or null once a redirect dropped it. */
  payload: BodyInit | null;
  info: HopInfo;
  /** True until the first hop has been sent. */
  first: boolean;
  /** The fragment of `r.url`: the request's, until a Location brings its own. */
  fragment: string;
  /** The caller's Cookie pairs, until a redirect leaves the origin. */
  cookies: string | null;
  /** Digest credentials, until a redirect leaves the origin. */
  digest: HTTPDigestAuth | null;
  /** False when the last hop's transport was asked not to decode the body (node:http, Bun's
   * `decompress: false`): the module decodes it. */
  decoded: boolean;
}

/** The parsed URL of the hop, parsed on first use. */
export function hopUrl(hop: Hop): URL {
  return hop.url ??= new URL(hop.href);
}

/**
 * The hop's headers, to change: copied first while they are shared (the prepared request's, or
 * those a response's `request` shows as sent).
 */
export function ownHeaders(hop: Hop): HeaderMap | null {
  if (hop.headers !== null && hop.shared) {
    hop.headers = hop.headers.clone();
    hop.shared = false;
  }
  return hop.headers;
}

/**
 * The init for one hop: only the fields that are set, because fetch converts every one it is
 * given (on Deno even an explicit `method: "GET"` costs a few percent of a loopback request), on
 * an object that inherits nothing a polluted `Object.prototype` could add.
 */
function hopInit(prepared: Prepared, hop: Hop, signal: AbortSignal | undefined): Init {
  const init: Init = bare();
  init.redirect = prepared.follow && BROWSER_FOLLOWS && prepared.custom === null
    ? "follow"
    : "manual";
  if (hop.method !== "GET") init.method = hop.method;
  if (hop.headers !== null) init.headers = hop.headers.fields;
  const payload = outgoing(prepared, hop);
  if (payload !== null) {
    init.body = payload.body;
    if (payload.body instanceof ReadableStream) init.duplex = "half";
    if (payload.length !== null) {
      init.headers = { ...init.headers, "content-length": String(payload.length) };
    }
  }
  if (signal !== undefined) init.signal = signal;
  if (prepared.inflateHere) init.decompress = false;
  return init;
}

/**
 * The body to send on this hop: the prepared one, or, with `upload_progress`, a stream over it
 * that counts what the transport takes (made anew on every hop, so a redirect or a retry sends
 * it again), with its length for the Content-Length header a stream would lose.
 */
function outgoing(
  prepared: Prepared,
  hop: Hop,
): { body: BodyInit; length: number | null } | null {
  if (hop.payload === null) return null;
  if (prepared.uploadProgress === null) return { body: hop.payload, length: null };
  const counted = countedBody(hop.payload, prepared.uploadProgress);
  return { body: counted.body, length: counted.total };
}

/** A GET or HEAD with a body, through the runtime's node:http client. */
function nodeHop(prepared: Prepared, hop: Hop, signal: AbortSignal | undefined) {
  const headers: Record<string, string> = { ...hop.headers?.fields };
  headers.accept ??= "*/*";
  headers["accept-encoding"] ??= "gzip, deflate";
  const payload = outgoing(prepared, hop)!;
  if (payload.length !== null) headers["content-length"] = String(payload.length);
  return nodeFetch(hop.href, {
    method: hop.method,
    headers,
    body: payload.body as NodeFetchInit["body"],
    signal,
    tls: prepared.nodeTls ?? undefined,
  });
}

/** Sends one hop; the promise of its response headers, no longer than the call allows. */
export function sendHop(
  prepared: Prepared,
  hop: Hop,
  guard: CallGuard,
): Promise<globalThis.Response> {
  const plain = prepared.transport === null && prepared.custom === null && prepared.hooks === null;
  hop.info.sent(hop.headers?.fields ?? null, prepared.sensitive);
  hop.shared = true;
  let sending: Promise<globalThis.Response>;
  hop.decoded = !prepared.inflateHere;
  if (prepared.viaNode && hop.payload !== null && (hop.method === "GET" || hop.method === "HEAD")) {
    hop.decoded = false;
    sending = nodeHop(prepared, hop, guard.signal);
  } else if (
    plain && !BROWSER_FOLLOWS && hop.first && prepared.canonical !== null && hop.method === "GET" &&
    hop.headers === null && guard.signal === undefined && !prepared.inflateHere
  ) {
    sending = fetch(prepared.canonical.get ??= new Request(hop.href, GET_INIT));
  } else if (plain) {
    sending = fetch(hop.href, hopInit(prepared, hop, guard.signal));
  } else {
    sending = dispatch(prepared, hop, hopInit(prepared, hop, guard.signal));
  }
  hop.first = false;
  // The platform's fetch (or node:http) was given the guard's signal: a failure aborts it.
  const aborts = prepared.custom === null && prepared.hooks === null;
  return guard.race(sending, prepared.headersMs, "No response received", aborts);
}

/** Sends `init` with a runtime transport, a custom fetch, or through request hooks. */
async function dispatch(
  prepared: Prepared,
  hop: Hop,
  init: Init,
): Promise<globalThis.Response> {
  const extra = prepared.transport === null ? null : prepared.transport.init(hopUrl(hop));
  if (prepared.custom === null && prepared.hooks === null) {
    return fetch(hop.href, extra === null ? init : { ...init, ...extra });
  }
  let req = new Request(hop.href, init);
  for (const hook of prepared.hooks ?? []) {
    const replaced = await hook(req);
    if (replaced instanceof Request) req = replaced;
  }
  // Fields a Request does not carry (Bun's `decompress`) are passed to fetch beside it.
  const platform = init.decompress === false ? { ...extra, decompress: false } : extra;
  const custom = prepared.custom;
  const res =
    await (custom !== null ? custom(req) : platform === null ? fetch(req) : fetch(req, platform));
  if (!(res instanceof globalThis.Response)) {
    throw new TypeError("Invalid 'fetch': it must return a Response");
  }
  return res;
}
