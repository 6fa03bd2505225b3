// r.iter_events(): the WHATWG HTML standard's event stream interpretation, rule by rule, each
// input fed whole, one byte at a time, split at every point, and in seeded random pieces.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../mod.ts";
import type { ServerSentEvent } from "../mod.ts";
import { cut, heldBack, splits, streamed } from "./_pieces.ts";

const encoder = new TextEncoder();

/** An expected event; absent members take the defaults of a block that did not set them. */
interface Expected {
  data: string;
  event?: string;
  id?: string;
  retry?: number;
}

/** Each rule of the standard, with an input and the events EventSource would dispatch. */
const CASES = [
  { rule: "one data line", input: "data: hello\n\n", events: [{ data: "hello" }] },
  {
    rule: "data lines joined by LF, the last LF dropped",
    input: "data: YHOO\ndata: +2\ndata: 10\n\n",
    events: [{ data: "YHOO\n+2\n10" }],
  },
  {
    rule: "the standard's example: comment, id, id reset, one leading space removed",
    input: ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n" +
      "data:  third event\n\n",
    events: [
      { data: "first event", id: "1" },
      { data: "second event", id: "" },
      { data: " third event", id: "" },
    ],
  },
  {
    rule: "a data field alone dispatches an empty string; two give one LF; unterminated dropped",
    input: "data\n\ndata\ndata\n\ndata:",
    events: [{ data: "" }, { data: "\n" }],
  },
  {
    rule: "a space after the colon is optional",
    input: "data:test\n\ndata: test\n\n",
    events: [{ data: "test" }, { data: "test" }],
  },
  {
    rule: "data: with an empty value, or a single space, is an empty string",
    input: "data:\n\ndata: \n\n",
    events: [{ data: "" }, { data: "" }],
  },
  {
    rule: "event types, reset after each dispatch",
    input: "event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\ndata: plain\n\n",
    events: [
      { event: "add", data: "73857293" },
      { event: "remove", data: "2153" },
      { data: "plain" },
    ],
  },
  {
    rule: "an empty event field means message",
    input: "event:\ndata: x\n\nevent\ndata: y\n\n",
    events: [{ data: "x" }, { data: "y" }],
  },
  {
    rule: "a block without data fires nothing, and its event type does not leak",
    input: "event: ping\n\ndata: x\n\n",
    events: [{ data: "x" }],
  },
  {
    rule: "the last event ID stays in force",
    input: "id: 7\ndata: a\n\ndata: b\n\n",
    events: [{ data: "a", id: "7" }, { data: "b", id: "7" }],
  },
  {
    rule: "an id after the data of the same block applies to it",
    input: "data: a\nid: 4\n\n",
    events: [{ data: "a", id: "4" }],
  },
  {
    rule: "an id block without data still sets the last event ID",
    input: "id: 9\n\ndata: a\n\n",
    events: [{ data: "a", id: "9" }],
  },
  {
    rule: "an id containing NUL is ignored",
    input: "id: 1\ndata: a\n\nid: 2\u0000x\ndata: b\n\n",
    events: [{ data: "a", id: "1" }, { data: "b", id: "1" }],
  },
  {
    rule: "an empty id resets the last event ID",
    input: "id: 3\ndata: a\n\nid:\ndata: b\n\nid: 5\ndata: c\n\nid\ndata: d\n\n",
    events: [
      { data: "a", id: "3" },
      { data: "b", id: "" },
      { data: "c", id: "5" },
      { data: "d", id: "" },
    ],
  },
  {
    rule: "an id of an unfinished block never applies",
    input: "data: a\n\nid: 5\ndata: b\n",
    events: [{ data: "a" }],
  },
  {
    rule: "retry of ASCII digits only sets the reconnection time, which stays in force",
    input: "retry: 1500\ndata: a\n\nretry: 15x\ndata: b\n\nretry: -1\nretry: 1e3\nretry:\n" +
      "retry:  100\nretry: 0x10\ndata: c\n\nretry: 007\ndata: d\n\n",
    events: [
      { data: "a", retry: 1500 },
      { data: "b", retry: 1500 },
      { data: "c", retry: 1500 },
      { data: "d", retry: 7 },
    ],
  },
  {
    rule: "retry in a block that fires nothing still counts",
    input: "retry: 10\n\ndata: a\n\n",
    events: [{ data: "a", retry: 10 }],
  },
  {
    rule: "retry with a non-ASCII digit is ignored",
    input: "retry: \u0661\u0662\ndata: a\n\n",
    events: [{ data: "a" }],
  },
  {
    rule: "CR ends lines",
    input: "data: a\rdata: b\r\rdata: c\r\r",
    events: [{ data: "a\nb" }, { data: "c" }],
  },
  {
    rule: "CRLF ends lines",
    input: "data: a\r\ndata: b\r\n\r\nid: 2\r\ndata: c\r\n\r\n",
    events: [{ data: "a\nb" }, { data: "c", id: "2" }],
  },
  {
    rule: "CR, LF and CRLF mixed; CR CRLF is two line ends",
    input: "data: a\r\ndata: b\rdata: c\n\ndata: d\r\r\ndata: e\n\r\n",
    events: [{ data: "a\nb\nc" }, { data: "d" }, { data: "e" }],
  },
  {
    rule: "a CR ending the stream completes the blank line",
    input: "data: a\n\r",
    events: [{ data: "a" }],
  },
  {
    rule: "one leading BOM is dropped",
    input: "\uFEFFdata: a\n\n",
    events: [{ data: "a" }],
  },
  {
    rule: "a second BOM is part of the first field's name (an unknown field)",
    input: "\uFEFF\uFEFFdata: a\n\ndata: b\n\n",
    events: [{ data: "b" }],
  },
  {
    rule: "a BOM later on is data",
    input: "data: \uFEFFx\n\n",
    events: [{ data: "\uFEFFx" }],
  },
  {
    rule: "only the first colon separates name and value",
    input: "data: a:b: c\n\ndata::\n\n",
    events: [{ data: "a:b: c" }, { data: ":" }],
  },
  {
    rule: "field names are exact: unknown, upper-case or spaced names are ignored",
    input: "foo: bar\nDATA: up\ndata : spaced\nretry : 5\ndata: x\n\n",
    events: [{ data: "x" }],
  },
  {
    rule: "comments, alone or between fields, are ignored",
    input: ":\n: keep-alive\n\ndata: a\n:comment\ndata: b\n\n",
    events: [{ data: "a\nb" }],
  },
  {
    rule: "an unterminated last event is dropped at the end of the stream",
    input: "data: a\n\ndata: b\n",
    events: [{ data: "a" }],
  },
  { rule: "an empty stream", input: "", events: [] },
  {
    rule: "UTF-8 text of 2, 3 and 4 bytes",
    input: "data: h\u00e9llo \u20ac \ud834\udd1e\n\n",
    events: [{ data: "h\u00e9llo \u20ac \ud834\udd1e" }],
  },
  {
    rule: "spaces are kept except the one after the colon",
    input: "data:   a  \n\n",
    events: [{ data: "  a  " }],
  },
] as const;

function full(expected: readonly Expected[]): ServerSentEvent[] {
  return expected.map((e) => ({
    event: e.event ?? "message",
    data: e.data,
    id: e.id ?? "",
    retry: e.retry ?? null,
  }));
}

async function eventsOf(pieces: readonly Uint8Array[]): Promise<ServerSentEvent[]> {
  const r = await streamed(pieces, { "content-type": "text/event-stream" });
  const out: ServerSentEvent[] = [];
  for await (const event of r.iter_events()) out.push(event);
  return out;
}

describe("iter_events() follows the event stream interpretation", () => {
  CASES.forEach((c, index) => {
    test(c.rule, async () => {
      const expected = full(c.events);
      for (const [how, pieces] of splits(encoder.encode(c.input), index + 1)) {
        assert.deepEqual(await eventsOf(pieces), expected, `${c.rule}, ${how}`);
      }
    });
  });
});

test("iter_events() turns bytes that are not UTF-8 into U+FFFD, whatever the charset", async () => {
  const bytes = new Uint8Array([
    ...encoder.encode("data: a"),
    0xff,
    0xe9,
    ...encoder.encode("\n\n"),
  ]);
  for (const [how, pieces] of splits(bytes, 99)) {
    assert.deepEqual(await eventsOf(pieces), full([{ data: "a\uFFFD\uFFFD" }]), how);
  }
  // A latin1 charset does not change the decoding: an event stream is always UTF-8.
  const fetch = () =>
    new Response(encoder.encode("data: \u00e9\n\n"), {
      headers: { "content-type": "text/event-stream; charset=iso-8859-1" },
    });
  const r = await requests.get("http://events.test/", { fetch });
  const seen: ServerSentEvent[] = [];
  for await (const event of r.iter_events()) seen.push(event);
  assert.deepEqual(seen, full([{ data: "\u00e9" }]));
});

test("iter_events() reads a buffered body, and a streamed one only once", async () => {
  const fetch = () => new Response("data: one\n\ndata: two\n\n");
  const buffered = await requests.get("http://events.test/", { fetch });
  const seen: string[] = [];
  for await (const event of buffered.iter_events()) seen.push(event.data);
  assert.deepEqual(seen, ["one", "two"]);

  const r = await streamed([encoder.encode("data: x\n\n")]);
  for await (const _ of r.iter_events()) { /* read to the end */ }
  await assert.rejects(async () => {
    for await (const _ of r.iter_events()) { /* a second time */ }
  }, /already consumed/);
});

test("iter_events() yields each event as its blank line arrives, not at the end", async () => {
  const { response, release } = await heldBack("data: first\n\n", "data: second\n\n");
  const seen: string[] = [];
  for await (const event of response.iter_events()) {
    seen.push(event.data);
    release(); // the second event is sent only once the first has been seen
  }
  assert.deepEqual(seen, ["first", "second"]);
});

test("iter_events() keeps memory and time linear on a long data line", async () => {
  const line = "x".repeat(4 << 20);
  const bytes = encoder.encode(`data: ${line}\n\n`);
  const started = performance.now();
  const seen = await eventsOf(cut(bytes, 4096));
  const took = performance.now() - started;
  assert.equal(seen.length, 1);
  assert.equal(seen[0].data.length, line.length);
  assert.ok(took < 5000, `a 4 MB line in 4 KiB pieces took ${took.toFixed(0)} ms`);
});
