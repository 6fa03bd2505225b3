// Bodies that arrive in exactly the pieces a test chooses, and the ways to cut a body into
// pieces: whole, one byte at a time, at every single point, and in seeded random pieces.

import * as requests from "../mod.ts";

/** A streamed response whose body arrives in exactly these pieces (no socket involved). */
export function streamed(
  pieces: readonly Uint8Array[],
  headers: Record<string, string> = {},
): Promise<requests.Response> {
  const fetch = () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const piece of pieces) controller.enqueue(piece);
          controller.close();
        },
      }),
      { headers },
    );
  return requests.get("http://pieces.test/", { stream: true, fetch });
}

/**
 * A streamed response that sends `first`, then holds `rest` back until `release()` is called:
 * a test releases it only once it has seen what `first` carries, so nothing can wait for the
 * end of the body.
 */
export async function heldBack(
  first: string,
  rest: string,
): Promise<{ response: requests.Response; release: () => void }> {
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  const encoder = new TextEncoder();
  const fetch = () =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode(first));
          await released;
          controller.enqueue(encoder.encode(rest));
          controller.close();
        },
      }),
    );
  const response = await requests.get("http://pieces.test/", { stream: true, fetch });
  return { response, release };
}

/** A small seeded generator (mulberry32): the same pieces on every run. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The ways `bytes` is cut for a test, each named: whole, byte by byte, every point, random. */
export function splits(bytes: Uint8Array, seed: number): [string, Uint8Array[]][] {
  const ways: [string, Uint8Array[]][] = [
    ["whole", [bytes]],
    ["one byte at a time", Array.from(bytes, (b) => new Uint8Array([b]))],
  ];
  for (let at = 1; at < bytes.byteLength; at++) {
    ways.push([`split at ${at}`, [bytes.subarray(0, at), bytes.subarray(at)]]);
  }
  const next = random(seed);
  for (let round = 0; round < 5; round++) {
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < bytes.byteLength;) {
      const size = 1 + Math.floor(next() * 6);
      pieces.push(bytes.subarray(at, at + size));
      at += size;
    }
    ways.push([`random split ${round}`, pieces]);
  }
  return ways;
}

/** `bytes` in pieces of `size` bytes. */
export function cut(bytes: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.byteLength; at += size) pieces.push(bytes.subarray(at, at + size));
  return pieces;
}
