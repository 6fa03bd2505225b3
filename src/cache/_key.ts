// The key of a stored response (SPEC C "The key"): the URL without fragment, the SHA-256 of the
// request body when there is one, and an identity digest: an HMAC-SHA-256, keyed with a secret
// the store keeps, of the credentials and the Cookie field sent. One store shared by several
// identities never serves one's response to another, and no credential is stored in clear.

import type { CacheStore } from "./store.ts";

/** What identifies the caller of one hop. Every part may be absent. */
export interface Identity {
  /** The Authorization value of a Basic or bearer hop (static credentials). */
  authorization: string | null;
  /** Digest credentials: their user and password (the header changes on every hop). */
  digest: { user: string; password: string } | null;
  /** The Cookie field sent. */
  cookie: string | null;
  /** Other fields holding credentials (the call's `sensitive_headers`), name and value. */
  secrets: readonly (readonly [string, string])[];
}

/** The identities remembered per cache, so a repeated one costs no HMAC. */
const REMEMBERED = 256;

function hex(bytes: ArrayBuffer): string {
  let out = "";
  for (const byte of new Uint8Array(bytes)) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** The text an identity is digested from; null for an anonymous caller. */
export function identityText(identity: Identity): string | null {
  const { authorization, digest, cookie, secrets } = identity;
  if (authorization === null && digest === null && cookie === null && secrets.length === 0) {
    return null;
  }
  return JSON.stringify([
    authorization,
    digest === null ? null : [digest.user, digest.password],
    cookie,
    secrets,
  ]);
}

/** The SHA-256 of a request body, in hex. */
export async function bodyDigest(body: Uint8Array<ArrayBuffer>): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", body));
}

/** The key of a URL, identity digest and body digest. */
export function composeKey(url: string, identity: string | null, body: string | null): string {
  return `${url} ${identity ?? "-"}${body === null ? "" : ` ${body}`}`;
}

/** Identity digests under one store's secret. */
export class IdentityDigests {
  readonly #store: CacheStore;
  #hmac: Promise<CryptoKey> | undefined;
  readonly #known = new Map<string, string>();

  constructor(store: CacheStore) {
    this.#store = store;
  }

  /** The digest of `text` (see {@linkcode identityText}), hex. */
  async digest(text: string): Promise<string> {
    const known = this.#known.get(text);
    if (known !== undefined) return known;
    const key = await (this.#hmac ??= this.#importKey());
    const digest = hex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
    if (this.#known.size >= REMEMBERED) this.#known.delete(this.#known.keys().next().value!);
    this.#known.set(text, digest);
    return digest;
  }

  async #importKey(): Promise<CryptoKey> {
    try {
      const proposal = crypto.getRandomValues(new Uint8Array(32));
      const secret = await this.#store.identityKey(proposal);
      if (!(secret instanceof Uint8Array) || secret.byteLength < 16) {
        throw new TypeError("The cache store's identity key must be 16 bytes or more");
      }
      return await crypto.subtle.importKey(
        "raw",
        new Uint8Array(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
    } catch (error) {
      // A later call asks the store again rather than failing forever.
      this.#hmac = undefined;
      throw error;
    }
  }
}
