/**
 * {@linkcode HTTPDigestAuth} for the sync API: its state lives in the sync API's worker thread.
 *
 * @module
 */

import { free } from "./_channel.ts";
import type { WireDigest } from "./_wire.ts";

let nextId = 1;
/** Frees the worker's digest state once the object it belongs to is gone. */
const registry = new FinalizationRegistry<number>((id) => free({ kind: "free", digest: id }));

/** The wire form of each object: the password stays out of the object's own fields. */
const wires = new WeakMap<HTTPDigestAuth, WireDigest>();

/**
 * @internal The form in which `auth` crosses to the worker thread.
 *
 * @param auth The credentials.
 * @returns Their id, user name and password.
 */
export function digestWire(auth: HTTPDigestAuth): WireDigest {
  return wires.get(auth)!;
}

/**
 * HTTP Digest authentication (RFC 7616) for `auth` in the sync API, with the constructor of the
 * async module's `HTTPDigestAuth`.
 *
 * Its state (the latest challenge per origin and the nonce count) lives in the worker thread
 * that sends the requests, one state per object: a second request to the same origin is
 * authorized pre-emptively with the next nonce count. When that worker dies, the state goes
 * with it and the next request answers the server's 401 again. The password is never printed
 * or serialized.
 *
 * @example Digest credentials for blocking requests
 * ```ts ignore
 * import * as requests from "@requests/requests/sync";
 *
 * const auth = new requests.HTTPDigestAuth("user", "passwd");
 * const r = requests.get("http://127.0.0.1:8000/digest-auth/auth/user/passwd", { auth });
 * console.log(r.status_code);
 * ```
 */
export class HTTPDigestAuth {
  /** The user name. */
  readonly username: string;

  /**
   * Creates Digest credentials.
   *
   * @param username The user name.
   * @param password The password.
   * @throws {TypeError} If either argument is not a string.
   */
  constructor(username: string, password: string) {
    for (const [name, value] of [["username", username], ["password", password]] as const) {
      if (typeof value !== "string") {
        throw new TypeError(
          `Cannot create HTTPDigestAuth: '${name}' must be a string, got ${typeof value}`,
        );
      }
    }
    this.username = username;
    const id = nextId++;
    wires.set(this, { id, username, password });
    registry.register(this, id);
  }

  /**
   * Describes the credentials without the password.
   *
   * @returns `HTTPDigestAuth(username)`.
   *
   * @example
   * ```ts
   * import { HTTPDigestAuth } from "@requests/requests/sync";
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
