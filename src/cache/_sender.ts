// The caching sender: wraps the sender of a call (see src/transport/_sender.ts) so that each
// hop is looked up, answered from the cache, validated, stored, or invalidates, as RFC 9111 and
// SPEC C say. The hop loop sees native Responses either way; `x.cache` says what the cache did.

import { HeaderMap } from "../_headers.ts";
import { digestIdentity } from "../digest_auth.ts";
import {
  type CacheEngine,
  type CacheRequest,
  engineFor,
  type Found,
  plan,
  requestDirectives,
} from "./_engine.ts";
import type { Entry } from "./_entry.ts";
import { forwardHop } from "./_forward.ts";
import { bodyDigest, type Identity } from "./_key.ts";
import { forwardStatus, hitStatus, invalidated, isUnsafe, validators } from "./_policy.ts";
import { gatewayTimeout, notModifiedResponse, outcome, rebuilt } from "./_respond.ts";
import type { Exchange, Sender } from "../transport/_sender.ts";
import type { HttpCache } from "./http_cache.ts";

/** Request fields that make a stored response unfit, or its reuse unsafe: sent on as they are. */
const BYPASS_FIELDS = ["range", "if-range", "if-match", "if-unmodified-since"];
const NO_MATCH: Found = { matches: [], any: false };

/**
 * `inner` wrapped by `cache`, for one call.
 *
 * @param cache The call's cache.
 * @param inner The sender it wraps.
 * @param sensitive The call's `sensitive_headers`, lower-case: their values are credentials.
 * @returns The sender the hop loop uses.
 */
export function wrapSender(cache: HttpCache, inner: Sender, sensitive: readonly string[]): Sender {
  return new CachingSender(engineFor(cache), inner, sensitive);
}

/** The SHA-256 of a (replayable) request body. */
async function payloadDigest(payload: BodyInit): Promise<string> {
  const bytes = payload instanceof Uint8Array
    ? payload
    : new Uint8Array(await new globalThis.Response(payload).arrayBuffer());
  return await bodyDigest(new Uint8Array(bytes));
}

/** A sender that answers from the cache what it can. */
class CachingSender implements Sender {
  readonly #engine: CacheEngine;
  readonly #inner: Sender;
  readonly #sensitive: readonly string[];
  /** The SHA-256 of the request body, once a hop with one needed it. */
  #digest: Promise<string> | undefined;
  /** Background validations this call started: the inner sender is released after them. */
  readonly #background = new Set<Promise<void>>();
  #released = false;

  constructor(engine: CacheEngine, inner: Sender, sensitive: readonly string[]) {
    this.#engine = engine;
    this.#inner = inner;
    this.#sensitive = sensitive;
  }

  get aborts(): boolean {
    return this.#inner.aborts;
  }

  get leased(): boolean {
    return this.#inner.leased;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#background.size === 0) this.#inner.release();
    else Promise.allSettled([...this.#background]).then(() => this.#inner.release());
  }

  send(x: Exchange, signal: AbortSignal | undefined): Promise<globalThis.Response> {
    const engine = this.#engine;
    if (isUnsafe(x.method)) return this.#unsafe(x, signal);
    if (!engine.methods.has(x.method)) return this.#pass(x, signal, "method");
    return this.#lookup(x, signal);
  }

  async #lookup(x: Exchange, signal: AbortSignal | undefined): Promise<globalThis.Response> {
    const engine = this.#engine;
    // A streamed body cannot be digested for the key (it is sent once): such a hop bypasses.
    const streamed = x.payload instanceof ReadableStream;
    if (streamed || BYPASS_FIELDS.some((name) => x.headers?.has(name))) {
      return await this.#pass(x, signal, "bypass");
    }
    const req = await this.#request(x);
    if (req === null) return await this.#pass(x, signal, "bypass");
    const found = await engine.find(req);
    const decided = plan(
      found,
      requestDirectives(req.headers),
      req.headers,
      engine.now(),
      engine.policy,
    );
    if (decided.kind === "gateway-timeout") {
      x.cache = outcome(true, null);
      return gatewayTimeout();
    }
    if (decided.kind === "forward") {
      return await forwardHop({ engine, inner: this.#inner, req, found, plan: decided }, x, signal);
    }
    const { entry, judgement } = decided;
    const now = engine.now();
    const response = decided.notModified
      ? notModifiedResponse(entry, now)
      : rebuilt(entry, now, []);
    if (response === null) {
      // A stored response that makes no Response is corrupt: removed, and the hop a miss.
      await engine.remove(req, entry);
      const miss = {
        kind: "forward",
        fwd: "uri-miss",
        entry: null,
        conditional: [],
        judgement: null,
      } as const;
      return await forwardHop(
        { engine, inner: this.#inner, req, found: NO_MATCH, plan: miss },
        x,
        signal,
      );
    }
    if (decided.background) this.#revalidate(x, req, entry);
    x.decoded = entry.decoded;
    x.cache = outcome(true, hitStatus(judgement.ttl), decided.notModified ? undefined : entry);
    return response;
  }

  /** Sends without the cache, saying why. */
  #pass(x: Exchange, signal: AbortSignal | undefined, why: "method" | "bypass") {
    x.cache = outcome(false, forwardStatus(why));
    return this.#inner.send(x, signal);
  }

  /** An unsafe method: sent on; a non-error response invalidates what it changed (§4.4). */
  async #unsafe(x: Exchange, signal: AbortSignal | undefined): Promise<globalThis.Response> {
    x.cache = outcome(false, forwardStatus("method"));
    const response = await this.#inner.send(x, signal);
    await this.#engine.purge(invalidated(x.method, x.href, response.status, response.headers));
    return response;
  }

  /** The hop as the cache sees it, with its key; null when it cannot be keyed. */
  async #request(x: Exchange): Promise<CacheRequest | null> {
    const headers = x.headers ?? new HeaderMap();
    const sensitive = this.#sensitive;
    const identity: Identity = {
      // A digest hop's Authorization changes every time: its user and password identify it.
      authorization: x.digest === null ? headers.get("authorization") : null,
      digest: x.digest === null ? null : digestIdentity(x.digest),
      cookie: headers.get("cookie"),
      secrets: sensitive.flatMap((name) => {
        const value = headers.get(name);
        return value === null ? [] : [[name, value] as const];
      }),
    };
    let body: string | null = null;
    if (x.payload !== null) {
      try {
        body = await (this.#digest ??= payloadDigest(x.payload));
      } catch {
        return null;
      }
    }
    const key = await this.#engine.key(x.href, identity, body);
    return key === null
      ? null
      : { method: x.method, url: x.href, headers, key, secrets: sensitive };
  }

  /**
   * Validates a stale entry in the background (stale-while-revalidate): once per entry however
   * many hops serve it meanwhile; its failure reaches no one.
   */
  #revalidate(x: Exchange, req: CacheRequest, entry: Entry): void {
    const engine = this.#engine;
    const inner = this.#inner;
    const task = engine.revalidate(req, entry, async () => {
      const copy: Exchange = { ...x, cache: null, decoded: true };
      const background = { ...req, headers: copy.headers ?? new HeaderMap() };
      const validate = {
        kind: "forward",
        fwd: "stale",
        entry,
        conditional: validators(entry),
        judgement: null,
      } as const;
      const f = {
        engine,
        inner,
        req: background,
        found: { matches: [entry], any: true },
        plan: validate,
      };
      const response = await forwardHop({ ...f, background: true }, copy, undefined);
      await response.body?.cancel();
    });
    if (task === null) return;
    this.#background.add(task);
    task.then(() => this.#background.delete(task));
  }
}
