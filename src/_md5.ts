// MD5 (RFC 1321), needed only for HTTP Digest authentication: WebCrypto has no MD5.

/** Per-step additive constants: floor(abs(sin(i + 1)) * 2^32), written out so no engine's sin is trusted. */
const K: Int32Array = new Int32Array([
  0xd76aa478,
  0xe8c7b756,
  0x242070db,
  0xc1bdceee,
  0xf57c0faf,
  0x4787c62a,
  0xa8304613,
  0xfd469501,
  0x698098d8,
  0x8b44f7af,
  0xffff5bb1,
  0x895cd7be,
  0x6b901122,
  0xfd987193,
  0xa679438e,
  0x49b40821,
  0xf61e2562,
  0xc040b340,
  0x265e5a51,
  0xe9b6c7aa,
  0xd62f105d,
  0x02441453,
  0xd8a1e681,
  0xe7d3fbc8,
  0x21e1cde6,
  0xc33707d6,
  0xf4d50d87,
  0x455a14ed,
  0xa9e3e905,
  0xfcefa3f8,
  0x676f02d9,
  0x8d2a4c8a,
  0xfffa3942,
  0x8771f681,
  0x6d9d6122,
  0xfde5380c,
  0xa4beea44,
  0x4bdecfa9,
  0xf6bb4b60,
  0xbebfbc70,
  0x289b7ec6,
  0xeaa127fa,
  0xd4ef3085,
  0x04881d05,
  0xd9d4d039,
  0xe6db99e5,
  0x1fa27cf8,
  0xc4ac5665,
  0xf4292244,
  0x432aff97,
  0xab9423a7,
  0xfc93a039,
  0x655b59c3,
  0x8f0ccc92,
  0xffeff47d,
  0x85845dd1,
  0x6fa87e4f,
  0xfe2ce6e0,
  0xa3014314,
  0x4e0811a1,
  0xf7537e82,
  0xbd3af235,
  0x2ad7d2bb,
  0xeb86d391,
]);

/** Left-rotation amounts, four per round. */
const S: Uint8Array = new Uint8Array([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);

/** Mixes the 64-byte block of `bytes` at `offset` into `state`, using `x` as scratch for its words. */
function transform(state: Int32Array, x: Int32Array, bytes: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const p = offset + i * 4;
    x[i] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    // Four int32 values sum exactly in a double, so one `| 0` wraps them like uint32 addition.
    const sum = (a + f + K[i] + x[g]) | 0;
    const s = S[((i >> 4) << 2) | (i & 3)];
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
}

/**
 * Computes the MD5 digest of `data` (RFC 1321).
 *
 * MD5 is broken for security purposes; it is here only because HTTP Digest
 * authentication still names it.
 *
 * @param data The bytes to hash.
 * @returns The 16-byte digest.
 *
 * @example Hash a string
 * ```ts
 * import { md5 } from "./_md5.ts";
 * import assert from "node:assert/strict";
 *
 * const digest = md5(new TextEncoder().encode("abc"));
 * const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
 * assert.equal(hex, "900150983cd24fb0d6963f7d28e17f72");
 * ```
 */
export function md5(data: Uint8Array): Uint8Array {
  const state = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
  const x = new Int32Array(16);
  const length = data.length;
  const whole = length - (length % 64);
  for (let offset = 0; offset < whole; offset += 64) transform(state, x, data, offset);

  // The tail, a 0x80 byte, zeros, and the bit length fill one or two final blocks.
  const rest = length - whole;
  const tail = new Uint8Array(rest < 56 ? 64 : 128);
  tail.set(data.subarray(whole));
  tail[rest] = 0x80;
  const view = new DataView(tail.buffer);
  view.setUint32(tail.length - 8, (length * 8) >>> 0, true);
  view.setUint32(tail.length - 4, Math.floor(length / 0x20000000) >>> 0, true);
  for (let offset = 0; offset < tail.length; offset += 64) transform(state, x, tail, offset);

  const out = new Uint8Array(16);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) outView.setInt32(i * 4, state[i], true);
  return out;
}
