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
