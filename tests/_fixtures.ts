// Watchdogs and waits for every test file: a bound on how long a promise may take, the error a
// promise must reject with, and polling until a condition holds.

import assert from "node:assert/strict";
import { RequestError } from "../mod.ts";

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rejects if `promise` takes longer than `ms`: the watchdog that turns a hang into a failure. */
export async function within<T>(ms: number, promise: Promise<T>, what = "the call"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung for more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

/** The rejection of `promise` (within `ms`), asserting that it rejected. */
export async function failure(promise: Promise<unknown>, ms = 10_000): Promise<Error> {
  let result: unknown;
  try {
    result = await within(ms, promise);
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    assert.doesNotMatch(error.message, /hung for more than/, error.message);
    return error;
  }
  assert.fail(`expected a rejection, got ${String(result)}`);
}

/** The rejection of `promise`, asserting it is an instance of `type` (a RequestError kind). */
export async function rejectsWith<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
  ms = 10_000,
): Promise<T> {
  const error = await failure(promise, ms);
  assert.ok(
    error instanceof type,
    `expected ${type.name}, got ${error.name}: ${error.message}`,
  );
  if (type !== (TypeError as unknown)) assert.ok(error instanceof RequestError);
  return error as T;
}

/** Polls `check` every 20 ms until it holds or `ms` passes; returns whether it held. */
export async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
}
