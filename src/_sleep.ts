// The one way the module waits: timers past the 2^31 - 1 ms a timer can take, and sleeps that an
// AbortSignal ends.

/** The longest delay one timer takes (2^31 - 1 ms); a longer one would fire at once. */
export const MAX_DELAY = 2 ** 31 - 1;

/**
 * Calls `fire` after `ms` milliseconds, however long that is, unless the returned function is
 * called first.
 */
export function after(ms: number, fire: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const end = performance.now() + ms;
  const step = () => {
    const left = end - performance.now();
    if (left > MAX_DELAY) timer = setTimeout(step, MAX_DELAY);
    else timer = setTimeout(fire, Math.max(0, left));
  };
  step();
  return () => clearTimeout(timer);
}

/**
 * Resolves after `ms` milliseconds, or rejects with `signal`'s reason as soon as it aborts.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0 && signal === undefined) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(signal!.reason);
    };
    const cancel = after(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
