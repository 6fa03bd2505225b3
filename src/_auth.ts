// Basic and bearer credentials as an Authorization header; digest lives in digest_auth.ts.

import type { Auth } from "./options.ts";
import { HTTPDigestAuth } from "./digest_auth.ts";

const encoder = new TextEncoder();
type ToBase64 = { toBase64?: () => string };

/** Standard base64 of `bytes`, with the platform's fastest means. */
export function base64(bytes: Uint8Array): string {
  const native = (bytes as ToBase64).toBase64;
  if (typeof native === "function") return native.call(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** `Basic base64(utf8(user:password))`. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${base64(encoder.encode(`${user}:${password}`))}`;
}

/** Checks the shape of `auth`; a TypeError naming it (never showing a secret) when wrong. */
export function checkAuth(auth: unknown): Auth | null {
  if (auth === undefined || auth === null) return null;
  if (auth instanceof HTTPDigestAuth) return auth;
  if (Array.isArray(auth)) {
    if (auth.length === 2 && typeof auth[0] === "string" && typeof auth[1] === "string") {
      return auth as unknown as Auth;
    }
  } else if (
    typeof auth === "object" && typeof (auth as { bearer?: unknown }).bearer === "string"
  ) {
    const token = (auth as { bearer: string }).bearer;
    if (/[\r\n\0]/.test(token)) {
      throw new TypeError("Invalid 'auth': the bearer token contains CR, LF or NUL");
    }
    return auth as Auth;
  }
  throw new TypeError(
    "Invalid 'auth': expected [user, password], { bearer: token } or an HTTPDigestAuth",
  );
}

/** The Authorization header for Basic or bearer `auth`; null for digest (it answers a 401). */
export function staticAuthorization(auth: Auth): string | null {
  if (Array.isArray(auth)) return basicAuthorization(auth[0], auth[1]);
  if (auth instanceof HTTPDigestAuth) return null;
  return `Bearer ${(auth as { bearer: string }).bearer}`;
}
