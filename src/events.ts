/**
 * Server-sent events across reconnections: {@linkcode events} reads a `text/event-stream` as
 * `EventSource` does, reconnecting with `Last-Event-ID` when the connection drops.
 *
 * @module
 */

import { EventStreamParser } from "./_event_stream.ts";
import { redactUrl } from "./_url.ts";
import {
  ConnectionError,
  HTTPError,
  RequestError,
  type RequestInfo,
  TimeoutError,
} from "./errors.ts";
import {
  checkSignal,
  count,
  type HeaderInput,
  ownOptions,
  type RequestOptions,
  totalMs,
} from "./options.ts";
import { request } from "./request.ts";
import type { Response, ServerSentEvent } from "./response.ts";

/** The longest delay timers take (2^31 - 1 ms); a longer wait is taken in steps. */
const MAX_DELAY = 2 ** 31 - 1;
const DEFAULT_DELAY_MS = 3000;
const DEFAULT_MAX_RECONNECTS = 5;
/** A timer may fire a little before its time: a TimeoutError this close to the end is its. */
const DEADLINE_SLACK_MS = 5;

/** The options of {@linkcode events}: the request options, and how to reconnect. */
export interface EventsOptions extends RequestOptions {
  /**
   * Seconds to wait before reconnecting, until the stream sets its own reconnection time with a
   * `retry` field.
   * @default 3
   */
  reconnect_delay?: number;
  /**
   * How many reconnections in a row may fail before the iteration ends with the last failure's
   * error. A connection fails when it cannot be made, or ends (or breaks) before delivering an
   * event; one that delivers an event resets the count. `0` never reconnects.
   * @default 5
   */
  max_reconnects?: number;
}

/** How every connection of one iteration is made: the options, checked once. */
interface Plan {
  /** The options each request is sent with, but `headers` and `total_timeout`. */
  options: RequestOptions;
  headers: HeaderInput | undefined;
  delayMs: number;
  maxReconnects: number;
  totalMs: number | null;
  signal: AbortSignal | undefined;
}

/** What outlives a connection: the event source's state. */
interface Source {
  lastEventId: string;
  retry: number | null;
  /** The request errors are about: the latest one sent. */
  info: RequestInfo;
  /** When `total_timeout` runs out (performance.now() time), or null. */
  deadline: number | null;
}

/** How one connection ended. */
interface Outcome {
  /** A 204: the server asks not to reconnect. */
  done: boolean;
  delivered: boolean;
  /** Why it ended, or null when it ended cleanly after delivering an event. */
  error: unknown;
}

/**
 * The events of a `text/event-stream` at `url`, across reconnections, as `EventSource`
 * receives them. Each connection sends `Accept: text/event-stream` (unless `headers` gives an
 * `Accept`) and `Cache-Control: no-cache`, and streams the body; every event is parsed as
 * {@linkcode Response.iter_events} does.
 *
 * When a connection drops (the body ends, or breaks with a `ConnectionError`, or a read waits
 * longer than `timeout`), it waits the stream's `retry` time, or `reconnect_delay`, and connects
 * again with `Last-Event-ID` set to the last event ID (none while it is `""`; a `Last-Event-ID`
 * in `headers` is the one to start from). A 204 ends the iteration; a status other than 2xx ends
 * it with an `HTTPError`, and a Content-Type other than `text/event-stream` with a
 * `RequestError`, both carrying the response. After `max_reconnects` failed reconnections in a
 * row it ends with the last failure's error. `total_timeout` bounds the whole iteration,
 * reconnections and waits included (a `TimeoutError`); `signal` aborts it at any point, the wait
 * included, with the signal's reason. Leaving the loop (`break`, `return`, a throw) closes the
 * connection.
 *
 * Nothing is sent until the iteration starts; misuse of an option is a `TypeError` there.
 *
 * @param url An absolute `http://` or `https://` URL.
 * @param options The request options (sent on every connection; `stream` is always true), and
 * `reconnect_delay` and `max_reconnects`.
 * @returns An async iterable of {@linkcode ServerSentEvent}s.
 *
 * @example Follow a feed
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * // An in-process web handler stands in for a server; with a real URL, drop `fetch`.
 * const fetch = () =>
 *   new Response("retry: 1000\nid: 41\ndata: hello\n\n", {
 *     headers: { "content-type": "text/event-stream" },
 *   });
 * for await (const event of requests.events("http://feed.test/updates", { fetch })) {
 *   assert.deepEqual(event, { event: "message", data: "hello", id: "41", retry: 1000 });
 *   break; // closes the connection
 * }
 * ```
 */
export function events(
  url: string | URL,
  options?: EventsOptions,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  return eventsVia(request, url, options);
}

/**
 * {@linkcode events} over any way of sending a request, such as a session's.
 *
 * @param send Sends one request and returns its response (`stream: true` is passed).
 * @param url The URL of the event stream, as `send` takes it.
 * @param options As for {@linkcode events}.
 * @returns An async iterable of {@linkcode ServerSentEvent}s.
 */
export async function* eventsVia(
  send: (method: string, url: string | URL, options: RequestOptions) => Promise<Response>,
  url: string | URL,
  options?: EventsOptions,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const plan = prepare(options);
  const source: Source = {
    lastEventId: initialLastEventId(plan.headers),
    retry: null,
    info: { method: "GET", url: redactUrl(String(url)) },
    deadline: plan.totalMs === null ? null : performance.now() + plan.totalMs,
  };
  for (let reconnects = 0;;) {
    const outcome = yield* connection(send, url, plan, source);
    if (outcome.done) return;
    if (outcome.delivered) reconnects = 0;
    if (reconnects === plan.maxReconnects) {
      if (outcome.error !== null) throw outcome.error;
      return;
    }
    reconnects++;
    await pause(source.retry ?? plan.delayMs, plan, source);
  }
}

/** Checks the options once and splits off what is not a request option. */
function prepare(options: EventsOptions | undefined): Plan {
  if (options === undefined || options === null) options = {};
  if (typeof options !== "object") {
    throw new TypeError("Invalid 'options': expected an object of request options");
  }
  const { reconnect_delay, max_reconnects, total_timeout, headers, stream, ...rest } = ownOptions(
    options,
  );
  if (stream !== undefined && stream !== null && stream !== true) {
    throw new TypeError("Invalid 'stream': events() always streams the body; leave it out");
  }
  let delayMs = DEFAULT_DELAY_MS;
  if (reconnect_delay !== undefined && reconnect_delay !== null) {
    if (
      typeof reconnect_delay !== "number" || !(reconnect_delay >= 0) || reconnect_delay === Infinity
    ) {
      throw new TypeError("Invalid 'reconnect_delay': expected a number of seconds of 0 or more");
    }
    delayMs = reconnect_delay * 1000;
  }
  return {
    options: rest,
    headers: headers ?? undefined,
    delayMs,
    maxReconnects: count(max_reconnects, "max_reconnects", DEFAULT_MAX_RECONNECTS),
    totalMs: totalMs(total_timeout),
    signal: checkSignal(rest.signal),
  };
}

/** One connection: its events, then how it ended. Leaving early closes it. */
async function* connection(
  send: (method: string, url: string | URL, options: RequestOptions) => Promise<Response>,
  url: string | URL,
  plan: Plan,
  source: Source,
): AsyncGenerator<ServerSentEvent, Outcome, undefined> {
  let response: Response;
  try {
    response = await send("GET", url, {
      ...plan.options,
      headers: streamHeaders(plan.headers, source.lastEventId),
      stream: true,
      total_timeout: remainingSeconds(plan, source),
    });
  } catch (error) {
    return { done: false, delivered: false, error: dropped(error, plan, source) };
  }
  try {
    if (response.request.url !== "") source.info = response.request;
    if (response.status_code === 204) return { done: true, delivered: false, error: null };
    refuse(response, source.info);
    const parser = new EventStreamParser(source.lastEventId, source.retry);
    const keep = () => {
      source.lastEventId = parser.lastEventId;
      source.retry = parser.retry;
    };
    let delivered = false;
    try {
      for await (const chunk of response.iter_content()) {
        parser.feed(chunk);
        for (let event = parser.next(); event !== null; event = parser.next()) {
          delivered = true;
          keep();
          yield event;
        }
        keep();
      }
    } catch (error) {
      keep();
      return { done: false, delivered, error: dropped(error, plan, source) };
    }
    const error = delivered ? null : new ConnectionError(
      "The event stream ended before sending an event",
      { request: source.info, response },
    );
    return { done: false, delivered, error };
  } finally {
    response.close();
  }
}

/**
 * The error of a dropped connection, to reconnect after; any other failure is thrown: the
 * caller's abort, `total_timeout`, a refused option or URL, a body over `max_bytes`.
 */
function dropped(error: unknown, plan: Plan, source: Source): unknown {
  if (plan.signal?.aborted) throw plan.signal.reason;
  if (error instanceof RequestError) source.info = error.request;
  if (
    error instanceof TimeoutError && source.deadline !== null &&
    performance.now() >= source.deadline - DEADLINE_SLACK_MS
  ) {
    throw totalTimeout(plan, source, error);
  }
  if (error instanceof ConnectionError || error instanceof TimeoutError) return error;
  throw error;
}

function totalTimeout(plan: Plan, source: Source, cause?: unknown): TimeoutError {
  return new TimeoutError(
    `Event stream took longer than total_timeout (${(plan.totalMs ?? 0) / 1000} s)`,
    { request: source.info, cause },
  );
}

/** What is left of `total_timeout` for the next connection, in seconds. */
function remainingSeconds(plan: Plan, source: Source): number | undefined {
  if (source.deadline === null) return undefined;
  const left = source.deadline - performance.now();
  if (left <= 0) throw totalTimeout(plan, source);
  return left / 1000;
}

/** Throws the HTTPError or RequestError for a response that is not an event stream. */
function refuse(response: Response, info: RequestInfo): void {
  const status = response.status_code;
  if (status < 200 || status > 299) {
    response.raise_for_status();
    throw new HTTPError(
      `Expected a 2xx status for an event stream, got ${status} ${response.reason}`,
      { request: info, response },
    );
  }
  const type = contentType(response);
  if (type.split(";", 1)[0].trim().toLowerCase() !== "text/event-stream") {
    const shown = type === "" ? "none" : JSON.stringify(type.slice(0, 200));
    throw new RequestError(
      `Expected Content-Type text/event-stream for an event stream, got ${shown}`,
      { request: info, response },
    );
  }
}

function contentType(response: Response): string {
  const raw = response.raw;
  if (raw !== null) return raw.headers.get("content-type") ?? "";
  for (const line of response.headers.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === "content-type") {
      return line.slice(colon + 1).trim();
    }
  }
  return "";
}

/** Waits `ms` before reconnecting: no longer than `total_timeout` allows, and not past `signal`. */
function pause(ms: number, plan: Plan, source: Source): Promise<void> {
  const { signal } = plan;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const until = performance.now() + ms;
  const late = source.deadline !== null && until >= source.deadline;
  const end = late ? source.deadline! : until;
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const step = () => {
      const left = end - performance.now();
      if (left > 0) {
        timer = setTimeout(step, Math.min(left, MAX_DELAY));
        return;
      }
      signal?.removeEventListener("abort", onAbort);
      if (late) reject(totalTimeout(plan, source));
      else resolve();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    step();
  });
}

const LAST_EVENT_ID = "last-event-id";
type HeaderRecord = Record<string, string | number | boolean | null | undefined>;

/** The `Last-Event-ID` the caller's headers start from, or `""`. */
function initialLastEventId(input: HeaderInput | undefined): string {
  if (input === undefined || input === null || typeof input !== "object") return "";
  if (input instanceof Headers) return input.get(LAST_EVENT_ID) ?? "";
  if (Array.isArray(input)) {
    const pair = input.find((p) => isNamed(p, LAST_EVENT_ID));
    return pair === undefined ? "" : String(pair[1]);
  }
  const record = input as HeaderRecord;
  const key = Object.keys(record).find((k) => k.toLowerCase() === LAST_EVENT_ID);
  const value = key === undefined ? null : record[key];
  return value === undefined || value === null ? "" : String(value);
}

function isNamed(pair: unknown, name: string): boolean {
  return Array.isArray(pair) && typeof pair[0] === "string" && pair[0].toLowerCase() === name;
}

/**
 * The caller's headers (of the same kind, the caller's object untouched) with `Accept` and
 * `Cache-Control` added where absent and `Last-Event-ID` set to the event source's, or removed
 * while it is `""`.
 */
function streamHeaders(input: HeaderInput | undefined, lastEventId: string): HeaderInput {
  const defaults: [string, string][] = [["accept", "text/event-stream"], [
    "cache-control",
    "no-cache",
  ]];
  if (input instanceof Headers) {
    const headers = new Headers(input);
    for (const [name, value] of defaults) if (!headers.has(name)) headers.set(name, value);
    headers.delete(LAST_EVENT_ID);
    if (lastEventId !== "") headers.set(LAST_EVENT_ID, lastEventId);
    return headers;
  }
  if (Array.isArray(input)) {
    const pairs = input.filter((pair) => !isNamed(pair, LAST_EVENT_ID));
    for (const field of defaults) {
      if (!pairs.some((pair) => isNamed(pair, field[0]))) pairs.push(field);
    }
    if (lastEventId !== "") pairs.push([LAST_EVENT_ID, lastEventId]);
    return pairs;
  }
  // Anything else that is not a record is passed on for the request to refuse.
  if (input !== undefined && input !== null && typeof input !== "object") return input;
  const record: HeaderRecord = { ...(input as HeaderRecord | undefined) };
  const names = Object.keys(record).map((name) => name.toLowerCase());
  for (const name of Object.keys(record)) {
    if (name.toLowerCase() === LAST_EVENT_ID) delete record[name];
  }
  for (const [name, value] of defaults) if (!names.includes(name)) record[name] = value;
  if (lastEventId !== "") record[LAST_EVENT_ID] = lastEventId;
  return record;
}
