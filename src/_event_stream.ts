// The `text/event-stream` parser: the WHATWG HTML standard's "parsing an event stream" and
// "interpreting an event stream" (§9.2.5-9.2.6), step by step, fed bytes as they arrive.

import { LineSplitter, StreamDecoder } from "./_lines.ts";
import type { ServerSentEvent } from "./response.ts";

const DIGITS = /^[0-9]+$/;
const SPACE = 32;

/**
 * One event stream being parsed. Feed it bytes, then take the events they completed with
 * {@linkcode EventStreamParser.next} until it returns null. An event is complete at the blank
 * line that ends it; what is pending when the stream ends is dropped, as the standard says.
 */
export class EventStreamParser {
  /**
   * The last event ID string of the event source: set from the `id` buffer at every dispatch,
   * including one that fires no event.
   */
  lastEventId: string;
  /** The reconnection time in milliseconds the stream last set with a valid `retry`, or null. */
  retry: number | null;
  // UTF-8 always, whatever the Content-Type says; one leading BOM is dropped, any later one is
  // data.
  #decoder = new StreamDecoder("utf-8");
  #lines = new LineSplitter();
  #data: string[] = [];
  #type = "";
  #idBuffer: string;

  /**
   * @param lastEventId The last event ID string carried over from an earlier connection of the
   * same source (its `id` buffer starts from it, as Chromium's parser does, so that events of a
   * resumed stream without an `id` field keep the ID in force).
   * @param retry The reconnection time carried over, or null.
   */
  constructor(lastEventId = "", retry: number | null = null) {
    this.lastEventId = lastEventId;
    this.#idBuffer = lastEventId;
    this.retry = retry;
  }

  /** Takes the next bytes of the stream; their events must be taken before the next feed. */
  feed(bytes: Uint8Array): void {
    this.#lines.feed(this.#decoder.decode(bytes));
  }

  /** The next event completed by the bytes fed so far, or null. */
  next(): ServerSentEvent | null {
    for (let line = this.#lines.next(); line !== null; line = this.#lines.next()) {
      const event = this.#line(line);
      if (event !== null) return event;
    }
    return null;
  }

  #line(line: string): ServerSentEvent | null {
    if (line === "") return this.#dispatch();
    const colon = line.indexOf(":");
    if (colon === 0) return null; // a comment
    if (colon === -1) {
      this.#field(line, "");
    } else {
      const from = line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
      this.#field(line.slice(0, colon), line.slice(from));
    }
    return null;
  }

  #field(name: string, value: string): void {
    switch (name) {
      case "event":
        this.#type = value;
        break;
      case "data":
        this.#data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.#idBuffer = value;
        break;
      case "retry":
        if (DIGITS.test(value)) this.retry = Number(value);
        break;
        // Any other field is ignored.
    }
  }

  /**
   * "Dispatch the event". The data buffer is every `data` value followed by LF, less the last
   * LF: the values joined by LF. It is empty only when no `data` field came.
   */
  #dispatch(): ServerSentEvent | null {
    this.lastEventId = this.#idBuffer;
    const data = this.#data;
    const type = this.#type;
    this.#type = "";
    if (data.length === 0) return null;
    this.#data = [];
    return {
      event: type === "" ? "message" : type,
      data: data.length === 1 ? data[0] : data.join("\n"),
      id: this.lastEventId,
      retry: this.retry,
    };
  }
}
