// `retries` with urllib3's meaning: which failures are retried, and how long to wait.

import { ownOptions, type RetryOptions } from "./options.ts";

/** `retries` normalized: every field present and checked. */
export interface RetryPolicy {
  total: number;
  backoffFactor: number;
  statuses: ReadonlySet<number>;
  methods: ReadonlySet<string>;
  respectRetryAfter: boolean;
  backoffMaxMs: number;
}

const IDEMPOTENT = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "PUT", "TRACE"]);
/** The statuses whose Retry-After urllib3 honours. */
const RETRY_AFTER_STATUSES = new Set([413, 429, 503]);
const NO_STATUSES: ReadonlySet<number> = new Set();

/** No retries: the default. */
export const NO_RETRIES: RetryPolicy = Object.freeze({
  total: 0,
  backoffFactor: 0,
  statuses: NO_STATUSES,
  methods: IDEMPOTENT,
  respectRetryAfter: true,
  backoffMaxMs: 120_000,
});

function nonNegative(value: unknown, name: string): number {
  if (typeof value !== "number" || !(value >= 0) || value === Infinity) {
    throw new TypeError(`Invalid 'retries': '${name}' must be a number of 0 or more`);
  }
  return value;
}

/** Checks and completes `retries`; a TypeError naming the field when wrong. */
export function retryPolicy(value: number | RetryOptions | undefined | null): RetryPolicy {
  if (value === undefined || value === null || value === 0) return NO_RETRIES;
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) {
      throw new TypeError("Invalid 'retries': expected a whole number of 0 or more, or options");
    }
    return { ...NO_RETRIES, total: value };
  }
  if (typeof value !== "object") {
    throw new TypeError("Invalid 'retries': expected a whole number of 0 or more, or options");
  }
  value = ownOptions(value);
  const total = nonNegative(value.total ?? 0, "total");
  if (!Number.isInteger(total)) throw new TypeError("Invalid 'retries': 'total' must be whole");
  const statuses = value.status_forcelist ?? [];
  if (!Array.isArray(statuses) || !statuses.every((s) => Number.isInteger(s))) {
    throw new TypeError("Invalid 'retries': 'status_forcelist' must be an array of statuses");
  }
  const methods = value.allowed_methods ?? [...IDEMPOTENT];
  if (!Array.isArray(methods) || !methods.every((m) => typeof m === "string")) {
    throw new TypeError("Invalid 'retries': 'allowed_methods' must be an array of methods");
  }
  const respect = value.respect_retry_after ?? true;
  if (typeof respect !== "boolean") {
    throw new TypeError("Invalid 'retries': 'respect_retry_after' must be true or false");
  }
  return {
    total,
    backoffFactor: nonNegative(value.backoff_factor ?? 0, "backoff_factor"),
    statuses: new Set(statuses),
    methods: new Set(methods.map((m) => m.toUpperCase())),
    respectRetryAfter: respect,
    backoffMaxMs: nonNegative(value.backoff_max ?? 120, "backoff_max") * 1000,
  };
}

/**
 * Milliseconds to wait before retry number `retry` (1 for the first): urllib3 2's
 * `backoff_factor * 2 ** (retry - 1)`, none before the first retry, capped by `backoff_max`;
 * a `Retry-After` (seconds or HTTP-date) on 413/429/503 takes precedence when respected.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  status: number | null,
  retryAfter: string | null,
  now: number = Date.now(),
): number {
  if (
    status !== null && retryAfter !== null && policy.respectRetryAfter &&
    RETRY_AFTER_STATUSES.has(status)
  ) {
    const after = parseRetryAfter(retryAfter, now);
    if (after !== null) return Math.min(after, policy.backoffMaxMs);
  }
  if (retry <= 1) return 0;
  return Math.min(policy.backoffFactor * 1000 * 2 ** (retry - 1), policy.backoffMaxMs);
}

/** A Retry-After value in milliseconds from `now`, or null when it is not valid. */
export function parseRetryAfter(value: string, now: number = Date.now()): number | null {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
