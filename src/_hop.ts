// One hop of a request: what it sends, recorded for `r.request`, handed to the call's sender
// under the call's deadlines.

import type { CallGuard } from "./_guard.ts";
import { type HeaderMap, isCredential } from "./_headers.ts";
import type { CallerCookies, Prepared } from "./_prepare.ts";
import { bare } from "./_runtime.ts";
import { redactUrl } from "./_url.ts";
import type { SentRequest } from "./response.ts";
import type { Exchange } from "./transport/_sender.ts";

const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze(bare<Record<string, string>>());
const NO_NAMES: readonly string[] = Object.freeze([]);

/**
 * What one hop sent: its method, redacted URL and masked header fields, each computed only when
 * an error or `r.request` needs it.
 */
export class HopInfo implements SentRequest {
  readonly method: string;
  #url: URL | string;
  #text: string | undefined;
  #fields: Readonly<Record<string, string>> = NO_FIELDS;
  #sensitive: readonly string[] = NO_NAMES;
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
      const secret = isCredential(name, this.#sensitive);
      masked[name] = secret ? "***" : this.#fields[name];
    }
    return this.#masked = Object.freeze(masked);
  }

  toJSON(): SentRequest {
    return { method: this.method, url: this.url, headers: this.headers };
  }
}

/** Where the hop loop is: what the next hop sends, and what it did. */
export interface Hop extends Exchange {
  /** True while `headers` may not be changed: the prepared request's, or already sent. */
  shared: boolean;
  info: HopInfo;
  /** The fragment of `r.url`: the request's, until a Location brings its own. */
  fragment: string;
  /** The caller's own cookies, until a redirect leaves the origin. */
  cookies: CallerCookies | null;
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

/** Sends one hop; the promise of its response headers, no longer than the call allows. */
export function sendHop(
  prepared: Prepared,
  hop: Hop,
  guard: CallGuard,
): Promise<globalThis.Response> {
  hop.info.sent(hop.headers?.fields ?? null, prepared.sensitive);
  hop.shared = true;
  hop.cache = null;
  const sender = prepared.sender;
  return guard.race(
    sender.send(hop, guard.signal),
    prepared.headersMs,
    "No response received",
    sender.aborts,
  );
}
