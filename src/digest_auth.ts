import { digestAuthorization, type DigestChallenge, parseDigestChallenge } from "./_digest.ts";

/**
 * Whether two challenges ask for the same answer: a repeat means the answer given was refused.
 * Another realm with the same nonce (a protection space of its own) is a new challenge.
 */
function sameChallenge(a: DigestChallenge, b: DigestChallenge): boolean {
  return a.nonce === b.nonce && a.realm === b.realm && a.algorithm === b.algorithm &&
    a.opaque === b.opaque;
}

/** What is known about one origin: its latest challenge and how often its nonce was used. */
interface OriginState {
  challenge: DigestChallenge;
  nc: number;
}

/** The password of each HTTPDigestAuth, for {@linkcode digestIdentity} alone. */
const passwords = new WeakMap<HTTPDigestAuth, string>();

/**
 * The user and password of digest credentials: they, not the Authorization field (which
 * changes on every request), identify the caller in an HTTP cache's key. Internal to the
 * module: `mod.ts` does not export it.
 *
 * @param auth The credentials.
 * @returns Their user and password.
 */
export function digestIdentity(auth: HTTPDigestAuth): { user: string; password: string } {
  return { user: auth.username, password: passwords.get(auth) ?? "" };
}

/**
 * HTTP Digest authentication (RFC 7616) for `auth`.
 *
 * One object may serve a whole session: it remembers the latest challenge per origin, so later
 * requests to that origin are authorized pre-emptively, reusing the nonce with an incremented
 * nonce count. Supports MD5, SHA-256 and their -sess variants, `qop=auth`, `userhash`, and the
 * RFC 2069 form for servers that offer no qop. The password is never printed or serialized.
 *
 * @example Authenticate after a 401
 * ```ts
 * import { HTTPDigestAuth } from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const auth = new HTTPDigestAuth("Mufasa", "Circle of Life");
 * const url = new URL("https://example.org/dir/index.html");
 * assert.equal(await auth.authorize("GET", url), null);
 *
 * // The server answered 401 with this WWW-Authenticate header:
 * assert.ok(auth.challenge(url, 'Digest realm="example", nonce="abc", qop="auth"'));
 * const header = await auth.authorize("GET", url);
 * assert.match(header ?? "", /^Digest username="Mufasa", realm="example", uri="\/dir\/index.html"/);
 * assert.match(header ?? "", /nc=00000001/);
 * assert.equal(String(auth), "HTTPDigestAuth(Mufasa)");
 * ```
 */
export class HTTPDigestAuth {
  /** The user name. */
  readonly username: string;
  #password: string;
  #origins: Map<string, OriginState> = new Map();

  /**
   * Creates Digest credentials.
   *
   * @param username The user name.
   * @param password The password.
   * @throws {TypeError} If either argument is not a string.
   */
  constructor(username: string, password: string) {
    if (typeof username !== "string") {
      throw new TypeError(
        `Cannot create HTTPDigestAuth: 'username' must be a string, got ${typeof username}`,
      );
    }
    if (typeof password !== "string") {
      throw new TypeError(
        `Cannot create HTTPDigestAuth: 'password' must be a string, got ${typeof password}`,
      );
    }
    this.username = username;
    this.#password = password;
    passwords.set(this, password);
  }

  /**
   * The Authorization header for a request, when a challenge for this origin is already known
   * (pre-emptive auth reusing the nonce with an incremented nonce count), else null.
   *
   * @param method The request method.
   * @param url The full request URL; the digest uri is its pathname plus search.
   * @returns The header value, or null when no challenge for `url.origin` is known yet.
   *
   * @example Nothing to send before the first challenge
   * ```ts
   * import { HTTPDigestAuth } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const auth = new HTTPDigestAuth("user", "passwd");
   * assert.equal(await auth.authorize("GET", new URL("http://localhost/")), null);
   * ```
   */
  authorize(method: string, url: URL): Promise<string | null> {
    const state = this.#origins.get(url.origin);
    if (!state) return Promise.resolve(null);
    state.nc += 1;
    return digestAuthorization(state.challenge, {
      username: this.username,
      password: this.#password,
      method,
      uri: url.pathname + url.search,
      nc: state.nc,
    });
  }

  /**
   * Learns the Digest challenge of a 401 response to `url`.
   *
   * A new nonce (including one sent with `stale=true`) replaces the origin's challenge and
   * resets the nonce count. A repeat of the known nonce is answered once, until authorize() has
   * used it; after that, the server rejected it and a retry would loop. Callers should still
   * retry at most once per request, since some servers send a fresh nonce with every 401.
   *
   * @param url The URL the 401 response answered.
   * @param wwwAuthenticate The response's WWW-Authenticate header value, or null when absent.
   * @returns True when the request should be sent again with authorize(); false when there is
   *   no usable Digest challenge or its nonce already failed.
   *
   * @example One retry per challenge
   * ```ts
   * import { HTTPDigestAuth } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * const auth = new HTTPDigestAuth("user", "wrong");
   * const url = new URL("http://localhost/private");
   * const header = 'Digest realm="r", nonce="n1", qop="auth"';
   * assert.equal(auth.challenge(url, header), true);
   * await auth.authorize("GET", url);
   * assert.equal(auth.challenge(url, header), false);
   * assert.equal(auth.challenge(url, null), false);
   * ```
   */
  challenge(url: URL, wwwAuthenticate: string | null): boolean {
    const challenge = wwwAuthenticate === null ? null : parseDigestChallenge(wwwAuthenticate);
    if (!challenge) return false;
    const known = this.#origins.get(url.origin);
    if (known && known.nc > 0 && sameChallenge(known.challenge, challenge)) return false;
    this.#origins.set(url.origin, { challenge, nc: 0 });
    return true;
  }

  /**
   * Describes the credentials without the password.
   *
   * @returns `HTTPDigestAuth(username)`.
   *
   * @example
   * ```ts
   * import { HTTPDigestAuth } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * assert.equal(`${new HTTPDigestAuth("user", "secret")}`, "HTTPDigestAuth(user)");
   * ```
   */
  toString(): string {
    return `HTTPDigestAuth(${this.username})`;
  }

  /**
   * The JSON form, without the password.
   *
   * @returns An object holding only the username.
   *
   * @example
   * ```ts
   * import { HTTPDigestAuth } from "@requests/requests";
   * import assert from "node:assert/strict";
   *
   * assert.equal(JSON.stringify(new HTTPDigestAuth("user", "secret")), '{"username":"user"}');
   * ```
   */
  toJSON(): { username: string } {
    return { username: this.username };
  }

  /**
   * How Deno.inspect and console.log in Deno show the object: as toString().
   *
   * @returns The same as toString().
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /**
   * How node:util inspect, Bun.inspect and console.log in Bun show the object: as toString().
   *
   * @returns The same as toString().
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
