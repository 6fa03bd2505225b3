// HTTP Digest authentication (RFC 7616, with the RFC 2617 and RFC 2069 forms it grew from):
// reading the challenge and computing the answer. The per-origin bookkeeping lives in digest_auth.ts.

/** MD5, loaded by the first answer that needs it (most servers ask for SHA-256 or MD5 rarely). */
let md5Module: Promise<typeof import("./_md5.ts")> | undefined;

/** A parsed `Digest` challenge from a `WWW-Authenticate` header, limited to what this module can answer. */
export interface DigestChallenge {
  /** The protection space, echoed back unchanged. */
  realm: string;
  /** The server's nonce, echoed back unchanged. */
  nonce: string;
  /** Opaque server data to echo back, or null when the server sent none. */
  opaque: string | null;
  /** The hash algorithm; "MD5" when the server named none. */
  algorithm: "MD5" | "MD5-sess" | "SHA-256" | "SHA-256-sess";
  /** The offered qualities of protection; empty for an RFC 2069 challenge. */
  qop: ("auth" | "auth-int")[];
  /** Whether the server rejected a previous nonce as stale rather than the credentials. */
  stale: boolean;
  /** Whether the server wants the username hashed (RFC 7616 section 3.4.4). */
  userhash: boolean;
}

/** The details of one request that a Digest Authorization header answers for. */
export interface DigestRequest {
  /** The user name. */
  username: string;
  /** The password. */
  password: string;
  /** The request method, as sent. */
  method: string;
  /** The request target as sent: path plus query. */
  uri: string;
  /** How many requests this nonce has answered, including this one (1 for the first). */
  nc: number;
  /** The client nonce; 16 random bytes in hex when omitted. */
  cnonce?: string;
}

const ALGORITHMS: ReadonlyMap<string, DigestChallenge["algorithm"]> = new Map([
  ["md5", "MD5"],
  ["md5-sess", "MD5-sess"],
  ["sha-256", "SHA-256"],
  ["sha-256-sess", "SHA-256-sess"],
]);

const WHITESPACE = /[ \t\r\n]/;
/** Characters that end a scheme, parameter name, token68 or unquoted value. */
const WORD_END = /[ \t\r\n,="]/;
/** What may appear in a quoted-string without switching to the `username*` form. */
const QUOTABLE = /^[\t\x20-\x7e]*$/;

const encoder = new TextEncoder();

interface RawChallenge {
  scheme: string;
  params: Map<string, string>;
}

/**
 * Splits a WWW-Authenticate value into challenges (RFC 7235 section 4.1). A token68 is read
 * as a parameter or scheme of no interest; only schemes and their parameters matter here.
 */
function splitChallenges(header: string): RawChallenge[] {
  const challenges: RawChallenge[] = [];
  let current: RawChallenge | null = null;
  let i = 0;

  const skipWhitespace = (): void => {
    while (i < header.length && WHITESPACE.test(header[i])) i++;
  };
  const readWord = (): string => {
    const start = i;
    while (i < header.length && !WORD_END.test(header[i])) i++;
    return header.slice(start, i);
  };
  const readQuoted = (): string => {
    let value = "";
    i++;
    while (i < header.length && header[i] !== '"') {
      if (header[i] === "\\" && i + 1 < header.length) i++;
      value += header[i++];
    }
    i++;
    return value;
  };

  while (i < header.length) {
    skipWhitespace();
    if (header[i] === ",") {
      i++;
      continue;
    }
    if (header[i] === '"') {
      readQuoted();
      continue;
    }
    const word = readWord();
    skipWhitespace();
    if (word === "") {
      i++;
    } else if (header[i] === "=") {
      i++;
      skipWhitespace();
      const value = header[i] === '"' ? readQuoted() : readWord();
      const name = word.toLowerCase();
      if (current && !current.params.has(name)) current.params.set(name, value);
      // Anything up to the next comma (such as a token68's trailing "=") is not ours to read.
      while (i < header.length && header[i] !== ",") {
        if (header[i] === '"') readQuoted();
        else i++;
      }
    } else {
      current = { scheme: word.toLowerCase(), params: new Map() };
      challenges.push(current);
    }
  }
  return challenges;
}

/** The challenge these parameters describe, or null when it cannot be answered. */
function toChallenge(params: Map<string, string>): DigestChallenge | null {
  const realm = params.get("realm");
  const nonce = params.get("nonce");
  if (realm === undefined || nonce === undefined) return null;

  const algorithm = ALGORITHMS.get((params.get("algorithm") ?? "MD5").toLowerCase());
  if (algorithm === undefined) return null;

  const qop: DigestChallenge["qop"] = [];
  const offered = params.get("qop");
  if (offered !== undefined) {
    for (const item of offered.split(",")) {
      const value = item.trim().toLowerCase();
      if ((value === "auth" || value === "auth-int") && !qop.includes(value)) qop.push(value);
    }
    // auth-int would need the request body hashed; a challenge without plain auth is unanswerable.
    if (!qop.includes("auth")) return null;
  }
  // RFC 2617 forbids a cnonce without qop, yet the -sess variants need one.
  if (qop.length === 0 && algorithm.endsWith("-sess")) return null;

  return {
    realm,
    nonce,
    opaque: params.get("opaque") ?? null,
    algorithm,
    qop,
    stale: params.get("stale")?.toLowerCase() === "true",
    userhash: params.get("userhash")?.toLowerCase() === "true",
  };
}

/**
 * Finds and parses the Digest challenge in a WWW-Authenticate value, which may list several
 * challenges (`Basic realm="x", Digest realm="y", nonce="z"`). Scheme and parameter names are
 * case-insensitive; quoted strings may hold commas and backslash-escaped quotes. When several
 * Digest challenges are offered, the first answerable one wins, as RFC 7616 section 3.7 asks.
 *
 * @param header The WWW-Authenticate header value.
 * @returns The challenge, or null if there is none, it lacks `realm` or `nonce`, names an
 *   unsupported algorithm, or offers only `qop=auth-int`.
 *
 * @example Pick the Digest challenge out of several
 * ```ts
 * import { parseDigestChallenge } from "./_digest.ts";
 * import assert from "node:assert/strict";
 *
 * const challenge = parseDigestChallenge(
 *   'Basic realm="x", Digest realm="a \\"b\\", c", nonce="n1", qop="auth,auth-int", algorithm=SHA-256',
 * );
 * assert.equal(challenge?.realm, 'a "b", c');
 * assert.equal(challenge?.algorithm, "SHA-256");
 * assert.deepEqual(challenge?.qop, ["auth", "auth-int"]);
 * ```
 */
export function parseDigestChallenge(header: string): DigestChallenge | null {
  for (const { scheme, params } of splitChallenges(header)) {
    if (scheme !== "digest") continue;
    const challenge = toChallenge(params);
    if (challenge) return challenge;
  }
  return null;
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

async function hashHex(algorithm: DigestChallenge["algorithm"], text: string): Promise<string> {
  const data = encoder.encode(text);
  if (algorithm.startsWith("SHA-256")) {
    return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
  }
  const { md5 } = await (md5Module ??= import("./_md5.ts"));
  return toHex(md5(data));
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}

/** The RFC 8187 ext-value of `value`: UTF-8, percent-encoded outside attr-char. */
function extValue(value: string): string {
  const encoded = encodeURIComponent(value).replace(
    /[*'()]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `UTF-8''${encoded}`;
}

/**
 * Builds the Authorization header value answering a Digest challenge (RFC 7616 section 3.4).
 * Answers with `qop=auth` when the challenge offers qop, and in the RFC 2069 form (no qop, nc or
 * cnonce) when it does not. A username that cannot be a quoted-string is sent as `username*`.
 *
 * @param challenge The challenge to answer, as from {@linkcode parseDigestChallenge}.
 * @param request The credentials and the request being authorized.
 * @returns The header value, starting with `Digest `.
 * @throws {RangeError} If `request.nc` is not an integer from 1 to 0xffffffff.
 * @throws {TypeError} If the challenge offers qop without `auth`, or a -sess algorithm without qop.
 *
 * @example Answer the RFC 7616 section 3.9.1 challenge
 * ```ts
 * import { digestAuthorization, parseDigestChallenge } from "./_digest.ts";
 * import assert from "node:assert/strict";
 *
 * const challenge = parseDigestChallenge(
 *   'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
 *     'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
 *     'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
 * );
 * assert.ok(challenge);
 * const header = await digestAuthorization(challenge, {
 *   username: "Mufasa",
 *   password: "Circle of Life",
 *   method: "GET",
 *   uri: "/dir/index.html",
 *   nc: 1,
 *   cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
 * });
 * assert.match(header, /response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"/);
 * ```
 */
export async function digestAuthorization(
  challenge: DigestChallenge,
  request: DigestRequest,
): Promise<string> {
  const { realm, nonce, algorithm } = challenge;
  const { username, password, method, uri } = request;
  if (!Number.isInteger(request.nc) || request.nc < 1 || request.nc > 0xffffffff) {
    throw new RangeError(
      `Cannot answer digest challenge: nonce count must be an integer from 1 to 4294967295, got '${request.nc}'`,
    );
  }
  const qop = challenge.qop.length > 0 ? "auth" : null;
  if (qop && !challenge.qop.includes("auth")) {
    throw new TypeError(
      `Cannot answer digest challenge: qop '${challenge.qop.join(", ")}' does not offer 'auth'`,
    );
  }
  const sess = algorithm.endsWith("-sess");
  if (sess && !qop) {
    throw new TypeError(`Cannot answer digest challenge: algorithm '${algorithm}' needs qop`);
  }

  const cnonce = request.cnonce ?? toHex(crypto.getRandomValues(new Uint8Array(16)));
  const nc = request.nc.toString(16).padStart(8, "0");

  let ha1 = await hashHex(algorithm, `${username}:${realm}:${password}`);
  if (sess) ha1 = await hashHex(algorithm, `${ha1}:${nonce}:${cnonce}`);
  const ha2 = await hashHex(algorithm, `${method}:${uri}`);
  const response = await hashHex(
    algorithm,
    qop ? `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}` : `${ha1}:${nonce}:${ha2}`,
  );

  const fields: string[] = [];
  if (challenge.userhash) {
    fields.push(`username=${quote(await hashHex(algorithm, `${username}:${realm}`))}`);
  } else if (QUOTABLE.test(username)) {
    fields.push(`username=${quote(username)}`);
  } else {
    fields.push(`username*=${extValue(username)}`);
  }
  fields.push(`realm=${quote(realm)}`, `uri=${quote(uri)}`, `algorithm=${algorithm}`);
  fields.push(`nonce=${quote(nonce)}`);
  if (qop) fields.push(`nc=${nc}`, `cnonce=${quote(cnonce)}`, `qop=${qop}`);
  fields.push(`response=${quote(response)}`);
  if (challenge.opaque !== null) fields.push(`opaque=${quote(challenge.opaque)}`);
  if (challenge.userhash) fields.push("userhash=true");
  return `Digest ${fields.join(", ")}`;
}
