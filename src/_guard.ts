// One call's deadlines and cancellation: the timeouts, `total_timeout` and the caller's signal,
// the mapping of platform failures to the error family, and the one way the module waits
// (timers past the 2^31 - 1 ms a timer can take, sleeps that an AbortSignal ends).

import { redactUrl } from "./_url.ts";
import { ConnectionError, RequestError, type RequestInfo, TimeoutError } from "./errors.ts";
import { CallerError } from "./transport/_sender.ts";

type Timer = ReturnType<typeof setTimeout>;

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

/** Lets a pending timer not keep the process alive (a streamed body may never be read). */
function unref(timer: Timer): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
  } else {
    const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
    deno?.unrefTimer?.(timer as unknown as number);
  }
}

/**
 * A point in time at which a call fails, unless it is withdrawn first. Every deadline of every
 * call is watched by one shared, unref'd timer: starting and clearing a timer per request (or per
 * body read) cost more than the request's own JavaScript. The timer is re-armed only when it
 * fires or when a deadline comes before the one it waits for.
 */
class Deadline {
  at = Infinity;
  readonly expire: () => void;
  constructor(expire: () => void) {
    this.expire = expire;
  }
}

const watched = new Set<Deadline>();
let sharedTimer: Timer | undefined;
let sharedAt = Infinity;

function watch(deadline: Deadline, at: number): void {
  deadline.at = at;
  watched.add(deadline);
  if (at < sharedAt) arm(at);
}

function unwatch(deadline: Deadline | undefined): void {
  if (deadline !== undefined) watched.delete(deadline);
}

function arm(at: number): void {
  if (sharedTimer !== undefined) clearTimeout(sharedTimer);
  sharedAt = at;
  sharedTimer = setTimeout(tick, Math.min(Math.max(0, at - performance.now()), MAX_DELAY));
  unref(sharedTimer);
}

function tick(): void {
  sharedTimer = undefined;
  sharedAt = Infinity;
  // Within half a millisecond counts as due: timers have millisecond resolution.
  const now = performance.now() + 0.5;
  for (const deadline of watched) {
    if (deadline.at <= now) {
      watched.delete(deadline);
      deadline.expire();
    }
  }
  let next = Infinity;
  for (const deadline of watched) if (deadline.at < next) next = deadline.at;
  if (next < sharedAt) arm(next);
}

/** The deadlines and cancellation of one call (all its hops, retries and its body). */
export class CallGuard {
  /** The request the next error is about: the current hop. */
  info: RequestInfo;
  /** True once a streamed body's reader took the call over: it finishes the guard. */
  handedOff = false;
  /** The signal to hand to `fetch`, when anything can cancel this call. */
  readonly signal: AbortSignal | undefined;
  #controller: AbortController | undefined;
  #failure: unknown = undefined;
  #failed = false;
  #rejectFailed: ((reason: unknown) => void) | undefined;
  #failedPromise: Promise<never> | undefined;
  #total: Deadline | undefined;
  #wait: Deadline | undefined;
  #waitMs = 0;
  #waitWhat = "";
  #shared: boolean;
  #userSignal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #cleanups: { release(): void }[] | undefined;

  /**
   * @param info The request, for error messages.
   * @param totalMs `total_timeout` in milliseconds, or null.
   * @param userSignal The caller's `signal`.
   * @param timeouts True when `timeout` is set: a timed-out wait must abort the fetch too, or
   * the connection would stay open.
   * @param runtimeFetch True when only the runtime's fetch is waited for (no custom fetch or
   * hook): its pending operation keeps the process alive, so waits can use the shared unref'd
   * timer. A custom fetch may wait on nothing at all, and then a wait keeps its own timer.
   */
  constructor(
    info: RequestInfo,
    totalMs: number | null,
    userSignal: AbortSignal | undefined,
    timeouts = false,
    runtimeFetch = false,
  ) {
    this.info = info;
    this.#shared = runtimeFetch;
    if (totalMs === null && userSignal === undefined && !timeouts) return;
    this.#controller = new AbortController();
    this.signal = this.#controller.signal;
    if (userSignal !== undefined) {
      if (userSignal.aborted) {
        this.fail(userSignal.reason);
      } else {
        this.#userSignal = userSignal;
        this.#onAbort = () => this.fail(userSignal.reason);
        userSignal.addEventListener("abort", this.#onAbort, { once: true });
      }
    }
    if (totalMs !== null && !this.#failed) {
      this.#total = new Deadline(() => {
        this.fail(
          new TimeoutError(`Request took longer than total_timeout (${totalMs / 1000} s)`, {
            request: this.info,
          }),
        );
      });
      watch(this.#total, performance.now() + totalMs);
    }
  }

  /** The error that ended this call, if any. */
  get failure(): unknown {
    return this.#failure;
  }

  /** True once the call has failed (timed out or aborted). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Ends the call with `error`: every pending wait rejects with it and the transfer is aborted. */
  fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = error;
    this.#rejectFailed?.(error);
    this.#controller?.abort(error);
    this.finish();
  }

  /**
   * Waits for `promise`, but no longer than the call may last, nor than `ms` when given (then
   * the call fails with a TimeoutError saying `what` did not come in time). `aborts` is true when
   * `promise` is the runtime's own operation given this guard's `signal` (a fetch, or reading its
   * body): the call's failure aborts it, so it needs no race.
   */
  race<T>(promise: Promise<T>, ms: number | null, what: string, aborts = false): Promise<T> {
    if (this.#failed) {
      promise.catch(() => {});
      return Promise.reject(this.#failure);
    }
    if (ms === null && this.#controller === undefined) return promise;
    const settled = aborts ? promise : this.#raced(promise);
    if (ms === null) return settled;
    if (this.#shared) {
      this.#waitMs = ms;
      this.#waitWhat = what;
      const wait = this.#wait ??= new Deadline(() => {
        this.fail(
          new TimeoutError(`${this.#waitWhat} within ${this.#waitMs / 1000} s`, {
            request: this.info,
          }),
        );
      });
      watch(wait, performance.now() + ms);
      return settled.finally(() => unwatch(wait));
    }
    const cancel = after(ms, () => {
      this.fail(new TimeoutError(`${what} within ${ms / 1000} s`, { request: this.info }));
    });
    return settled.finally(cancel);
  }

  /** `promise`, or the call's failure if that comes first. */
  #raced<T>(promise: Promise<T>): Promise<T> {
    this.#failedPromise ??= new Promise<never>((_, reject) => {
      this.#rejectFailed = reject;
    });
    this.#failedPromise.catch(() => {});
    return Promise.race([promise, this.#failedPromise]);
  }

  /** Calls `held.release()` once, when the call is over (body read, failed or closed). */
  onFinish(held: { release(): void }): void {
    (this.#cleanups ??= []).push(held);
  }

  /** Clears the deadline and lets go of the caller's signal; call once the call is over. */
  finish(): void {
    const cleanups = this.#cleanups;
    this.#cleanups = undefined;
    for (const held of cleanups ?? []) held.release();
    unwatch(this.#total);
    unwatch(this.#wait);
    if (this.#onAbort !== undefined) {
      this.#userSignal?.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
  }

  /**
   * The error to report for `error`, thrown while sending or while reading the body: the call's
   * own failure if it failed; what the caller's own code threw as it is (a custom fetch's as the
   * cause of a RequestError); a RequestError as it is; anything else, which the runtime's
   * transport raised, as a typed ConnectionError (or TimeoutError for a platform timeout).
   */
  wrap(error: unknown, phase: "send" | "body"): unknown {
    if (this.#failed) return this.#failure;
    if (error instanceof CallerError) {
      const thrown = error.error;
      return !error.fromFetch || thrown instanceof RequestError ? thrown : new RequestError(
        "The 'fetch' option failed",
        { request: this.info, cause: thrown },
      );
    }
    if (error instanceof RequestError) return error;
    const [kind, message] = classify(error, phase);
    const options = { request: this.info, cause: scrub(error) };
    return kind === "timeout"
      ? new TimeoutError(message, options)
      : kind === "decode"
      ? new RequestError(message, options)
      : new ConnectionError(message, options);
  }
}

/** What Deno's and Bun's decompressors say about a body that does not decode. */
const UNDECODABLE =
  /decompress|zlib|gzip|deflate|inflate|brotli|corrupt|incorrect header|unexpected end of file/;
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'()]+/gi;
/**
 * Deno's (hyper), Bun's, Node's (undici: a parser error, Content-Length values that
 * disagree, too large a header block) words for a response that breaks HTTP/1.1 framing or
 * syntax.
 */
const MALFORMED =
  /invalid (?:http|content-length)|invalidcontentlength|malformed_http|message head is too large|headerstoolarge|does not match the http\/1\.1 protocol|und_err_res_content_length_mismatch|und_err_headers_overflow|hpe_[a-z_]+|parse error/;

/**
 * The platform's error as a cause fit to be shown: runtimes quote the URL in their messages and
 * fields (Bun's `path` keeps the query), so such an error is copied with every URL redacted.
 */
function scrub(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error) || depth > 4) return error;
  const fields = error as unknown as Record<string, unknown>;
  const cause = scrub(error.cause, depth + 1);
  const quotes = (text: unknown) => typeof text === "string" && text.includes("://");
  if (
    cause === error.cause && !quotes(error.message) &&
    !Object.keys(error).some((key) => quotes(fields[key]))
  ) {
    return error;
  }
  const redact = (text: string) => text.replace(URL_IN_TEXT, (url) => redactUrl(url));
  const copy = new Error(redact(error.message), cause === undefined ? undefined : { cause });
  copy.name = error.name;
  for (const key of Object.keys(error)) {
    const value = fields[key];
    if (key !== "cause" && (typeof value !== "object" || value === null)) {
      Object.assign(copy, { [key]: typeof value === "string" ? redact(value) : value });
    }
  }
  return copy;
}

/** The text of an error and its causes, for classification only (never shown). */
function describe(error: unknown): string {
  let text = "";
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    if (typeof e === "object") {
      const { message, code, name } = e as { message?: unknown; code?: unknown; name?: unknown };
      text += ` ${String(name ?? "")} ${String(code ?? "")} ${String(message ?? "")}`;
      e = (e as { cause?: unknown }).cause;
    } else {
      text += ` ${String(e)}`;
      break;
    }
  }
  // Runtimes quote the URL in their messages; a path such as "/reset" must not classify.
  return text.replace(URL_IN_TEXT, " ").toLowerCase();
}

function classify(
  error: unknown,
  phase: "send" | "body",
): ["timeout" | "connection" | "decode", string] {
  const text = describe(error);
  if (
    phase === "body" && UNDECODABLE.test(text)
  ) {
    return ["decode", "Could not decode the response body (its Content-Encoding is broken)"];
  }
  // Node's fetch (undici) refuses a long chain of codings before handing over the headers.
  const stacked = /too many content-encodings in response: (\d+), maximum allowed is (\d+)/
    .exec(text);
  if (stacked !== null) {
    return [
      "connection",
      `Refused a body with ${stacked[1]} stacked Content-Encodings (at most ${stacked[2]})`,
    ];
  }
  if (MALFORMED.test(text)) return ["connection", "The server sent an invalid HTTP response"];
  if (/refused/.test(text)) return ["connection", "Connection refused"];
  if (/reset|econnreset|broken pipe|epipe/.test(text)) {
    return ["connection", "Connection reset by the server"];
  }
  if (/certificate|tls|ssl|handshake|unknownissuer|self.signed/.test(text)) {
    return ["connection", "TLS handshake failed (the certificate is not trusted or invalid)"];
  }
  if (/dns|enotfound|getaddrinfo|name resolution|failed to lookup|resolve/.test(text)) {
    return ["connection", "Could not resolve the host"];
  }
  if (/timed ?out|timeout/.test(text)) return ["timeout", "Connection timed out"];
  if (/unsupported protocol|invalid url|url is invalid/.test(text)) {
    return ["connection", "The runtime refused the URL"];
  }
  return phase === "body"
    ? ["connection", "Connection closed before the body was complete"]
    : ["connection", "Connection failed before a response arrived"];
}
