/**
 * Server-sent events across reconnections: {@linkcode events} reads a `text/event-stream` as
 * `EventSource` does, reconnecting with `Last-Event-ID` when the connection drops.
 *
 * @module
 */

import { addHeaders, blockValues, HeaderMap, utf8ByteString } from "./_headers.ts";
import { sleep } from "./_guard.ts";
import { redactUrl } from "./_url.ts";
import {
  ConnectionError,
  HTTPError,
  RequestError,
  type RequestInfo,
  TimeoutError,
} from "./errors.ts";
import { checkSignal, count, ownOptions, type RequestOptions, totalMs } from "./options.ts";
import { request } from "./request.ts";
import type { Response, ServerSentEvent } from "./response.ts";

/** The event-stream parser, loaded by the first connection. */
let eventStream: Promise<typeof import("./_event_stream.ts")> | undefined;
const DEFAULT_DELAY_MS = 3000;
/**
 * The floor under every reconnection wait. Firefox's EventSource clamps `retry` to 500 ms (Chrome
 * does not clamp): a stream that says `retry: 0` gets at most two connections a second from it.
 */
const DEFAULT_MIN_DELAY_MS = 500;
/** The back-off stops growing at this many times the floor (30 s by default). */
const CAP_FLOORS = 60;
/** A connection open for less than this many times the floor (5 s by default) ended quickly. */
const QUICK_FLOORS = 10;
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
   * The shortest wait before reconnecting, in seconds: a stream's `retry` or `reconnect_delay`
   * below it is raised to it. It also sets the back-off (see {@linkcode events}): a connection
   * open for less than 10 times it ended quickly, and the back-off stops at 60 times it (or at
   * the stream's `retry`, when that is longer). Lower it only for a server you trust (a test
   * server, say); raise it to be gentler.
   * @default 0.5
   */
  min_reconnect_delay?: number;
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
  /** The caller's headers, checked. */
  headers: HeaderMap;
  /** The names the caller's headers set to null: a session's header of that name is not sent. */
  unset: readonly string[];
  delayMs: number;
  /** The floor under every wait (`min_reconnect_delay`). */
  floorMs: number;
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
 * again with `Last-Event-ID` set to the last event ID, encoded as UTF-8 (none while it is `""`;
 * a `Last-Event-ID` in `headers` is the one to start from). A 204 ends the iteration; a status
 * other than 2xx ends it with an `HTTPError`, and a Content-Type other than `text/event-stream`
 * with a `RequestError`, both carrying the response. After `max_reconnects` failed
 * reconnections in a row it ends with the last failure's error. `total_timeout` bounds the whole
 * iteration, reconnections and waits included (a `TimeoutError`); `signal` aborts it at any
 * point, the wait included, with the signal's reason. Leaving the loop (`break`, `return`, a
 * throw) closes the connection.
 *
 * Reconnections are bounded so that no stream can make it hammer a server: a wait is never
 * shorter than `min_reconnect_delay` (0.5 s, the floor Firefox's `EventSource` puts under
 * `retry`), and it backs off when connections keep ending quickly. A connection open for less
 * than 10 times that floor (5 s) ended quickly, whether or not it delivered events (one that
 * could not be made counts too); from the second such connection in a row, each wait doubles,
 * up to 60 times the floor (30 s) or the stream's `retry` when that is longer, and is drawn at
 * random from the upper half of that (never below the plain wait), so that clients dropped
 * together do not return together. A connection that stays open longer brings the wait back to
 * the stream's `retry`. A server that sends `retry: 0` and one event, then closes, thus sees its
 * second connection 0.5 s after the first, then waits of up to 1, 2, 4 ... s, and in the end one
 * connection every 15 to 30 s.
 *
 * Nothing is sent until the iteration starts; misuse of an option is a `TypeError` there.
 *
 * @param url An absolute `http://` or `https://` URL.
 * @param options The request options (sent on every connection; `stream` is always true), and
 * `reconnect_delay`, `min_reconnect_delay` and `max_reconnects`.
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
    lastEventId: plan.headers.get(LAST_EVENT_ID) ?? "",
    retry: null,
    info: { method: "GET", url: redactUrl(String(url)) },
    deadline: plan.totalMs === null ? null : performance.now() + plan.totalMs,
  };
  // `reconnects` counts failures in a row (for max_reconnects); `quick` counts connections in a
  // row that ended quickly, events or not (for the back-off).
  for (let reconnects = 0, quick = 0;;) {
    const started = performance.now();
    const outcome = yield* connection(send, url, plan, source);
    if (outcome.done) return;
    if (outcome.delivered) reconnects = 0;
    if (reconnects === plan.maxReconnects) {
      if (outcome.error !== null) throw outcome.error;
      return;
    }
    reconnects++;
    quick = performance.now() - started < plan.floorMs * QUICK_FLOORS ? quick + 1 : 0;
    await pause(reconnectDelay(plan, source, quick), plan, source);
  }
}

/**
 * How long to wait before the next connection, after `quick` connections in a row ended
 * quickly: the stream's `retry` (else `reconnect_delay`), no less than the floor; from the
 * second quick connection on, twice as long each time up to the cap, drawn at random from the
 * upper half of that (clients dropped together do not come back together), never below the
 * base wait.
 */
function reconnectDelay(plan: Plan, source: Source, quick: number): number {
  const base = Math.max(source.retry ?? plan.delayMs, plan.floorMs);
  if (quick < 2) return base;
  const full = Math.min(base * 2 ** (quick - 1), Math.max(base, plan.floorMs * CAP_FLOORS));
  return Math.max(base, full / 2 + Math.random() * full / 2);
}

/** Checks the options once and splits off what is not a request option. */
function prepare(options: EventsOptions | undefined): Plan {
  if (options === undefined || options === null) options = {};
  if (typeof options !== "object") {
    throw new TypeError("Invalid 'options': expected an object of request options");
  }
  const {
    reconnect_delay,
    min_reconnect_delay,
    max_reconnects,
    total_timeout,
    headers,
    stream,
    ...rest
  } = ownOptions(options);
  if (stream !== undefined && stream !== null && stream !== true) {
    throw new TypeError("Invalid 'stream': events() always streams the body; leave it out");
  }
  const map = new HeaderMap();
  const unset: string[] = [];
  if (headers !== undefined && headers !== null) {
    addHeaders(map, headers, { method: "GET", url: "" });
    if (!(headers instanceof Headers) && !Array.isArray(headers) && typeof headers === "object") {
      for (const [name, value] of Object.entries(headers)) if (value === null) unset.push(name);
    }
  }
  return {
    options: rest,
    headers: map,
    unset,
    delayMs: milliseconds(reconnect_delay, "reconnect_delay", DEFAULT_DELAY_MS, "of 0 or more"),
    floorMs: milliseconds(
      min_reconnect_delay,
      "min_reconnect_delay",
      DEFAULT_MIN_DELAY_MS,
      "above 0",
    ),
    maxReconnects: count(max_reconnects, "max_reconnects", DEFAULT_MAX_RECONNECTS),
    totalMs: totalMs(total_timeout),
    signal: checkSignal(rest.signal),
  };
}

/** A delay option given in seconds, in milliseconds (`fallback` when absent). */
function milliseconds(
  value: unknown,
  name: string,
  fallback: number,
  range: "of 0 or more" | "above 0",
): number {
  if (value === undefined || value === null) return fallback;
  const inRange = range === "above 0" ? value as number > 0 : value as number >= 0;
  if (typeof value !== "number" || !inRange || value === Infinity) {
    throw new TypeError(`Invalid '${name}': expected a number of seconds ${range}`);
  }
  return value * 1000;
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
      headers: streamHeaders(plan, source.lastEventId),
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
    const { EventStreamParser } = await (eventStream ??= import("./_event_stream.ts"));
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
  return blockValues(response.headers, "content-type")[0] ?? "";
}

/** Waits `ms` before reconnecting: no longer than `total_timeout` allows, and not past `signal`. */
async function pause(ms: number, plan: Plan, source: Source): Promise<void> {
  const until = performance.now() + ms;
  const late = source.deadline !== null && until >= source.deadline;
  await sleep((late ? source.deadline! : until) - performance.now(), plan.signal);
  if (late) throw totalTimeout(plan, source);
}

const LAST_EVENT_ID = "last-event-id";

/**
 * The headers of one connection: the caller's, `Accept: text/event-stream` and
 * `Cache-Control: no-cache` unless the caller gave them, and `Last-Event-ID` (none while it is
 * `""`), sent as UTF-8 as the WHATWG standard says.
 */
function streamHeaders(plan: Plan, id: string): Record<string, string | null> {
  const headers: Record<string, string | null> = { ...plan.headers.fields };
  for (const name of plan.unset) headers[name] = null;
  headers.accept ??= "text/event-stream";
  headers["cache-control"] ??= "no-cache";
  delete headers[LAST_EVENT_ID];
  if (id !== "") headers[LAST_EVENT_ID] = utf8ByteString(id);
  return headers;
}
