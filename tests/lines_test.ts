// r.iter_lines() and r.iter_json(): CR, LF and CRLF wherever the pieces split them, decoding
// with the response's encoding, time linear in the body, and NDJSON with numbered errors.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../mod.ts";
import { cut, heldBack, splits, streamed } from "./_pieces.ts";

const encoder = new TextEncoder();

const LINE_CASES = [
  { name: "LF", input: "alpha\nbeta\n", lines: ["alpha", "beta"] },
  { name: "CRLF", input: "alpha\r\nbeta\r\n", lines: ["alpha", "beta"] },
  { name: "CR", input: "alpha\rbeta\r", lines: ["alpha", "beta"] },
  { name: "no ending on the last line", input: "alpha\nbeta", lines: ["alpha", "beta"] },
  {
    name: "empty lines",
    input: "a\n\n\nb\r\n\r\nc\r\rd",
    lines: ["a", "", "", "b", "", "c", "", "d"],
  },
  { name: "CR then CRLF is two endings", input: "a\r\r\nb", lines: ["a", "", "b"] },
  { name: "LF then CR is two endings", input: "a\n\rb", lines: ["a", "", "b"] },
  { name: "only an ending", input: "\r\n", lines: [""] },
  { name: "an empty body", input: "", lines: [] },
  { name: "a lone CR at the end", input: "a\r", lines: ["a"] },
  {
    name: "mixed endings",
    input: "one\rtwo\r\nthree\nfour\r\n\rfive",
    lines: ["one", "two", "three", "four", "", "five"],
  },
  {
    name: "text of 2, 3 and 4 UTF-8 bytes",
    input: "h\u00e9\r\n\u20ac\n\ud834\udd1e\r",
    lines: ["h\u00e9", "\u20ac", "\ud834\udd1e"],
  },
  {
    name: "a leading BOM is dropped, a later one kept",
    input: "\uFEFFa\n\uFEFFb",
    lines: [
      "a",
      "\uFEFFb",
    ],
  },
] as const;

async function linesOf(
  pieces: readonly Uint8Array[],
  headers?: Record<string, string>,
): Promise<string[]> {
  const r = await streamed(pieces, headers);
  const out: string[] = [];
  for await (const line of r.iter_lines()) out.push(line);
  return out;
}

describe("iter_lines() splits at CR, LF and CRLF however the pieces fall", () => {
  LINE_CASES.forEach((c, index) => {
    test(c.name, async () => {
      for (const [how, pieces] of splits(encoder.encode(c.input), index + 1)) {
        assert.deepEqual(await linesOf(pieces), c.lines, `${c.name}, ${how}`);
      }
    });
  });
});

test("iter_lines() joins a CRLF whose CR ends one piece and whose LF opens the next", async () => {
  const pieces = ["first\r", "\nsecond\r", "\n", "\r", "\nthird"].map((p) => encoder.encode(p));
  assert.deepEqual(await linesOf(pieces), ["first", "second", "", "third"]);
});

test("iter_lines() yields a line as soon as its ending arrives", async () => {
  const { response, release } = await heldBack("first\r", "\nsecond\n");
  const lines: string[] = [];
  for await (const line of response.iter_lines()) {
    lines.push(line);
    release(); // the rest is sent only after the first line (ended by a lone CR so far) is seen
  }
  assert.deepEqual(lines, ["first", "second"]);
});

test("iter_lines() decodes with the response's encoding", async () => {
  const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x6f, 0x6b]);
  for (const [how, pieces] of splits(latin1, 7)) {
    assert.deepEqual(
      await linesOf(pieces, { "content-type": "text/plain; charset=iso-8859-1" }),
      ["caf\u00e9", "ok"],
      how,
    );
  }
  // UTF-16: the line endings are found in the decoded text, never in the bytes.
  const utf16 = new Uint8Array([0xff, 0xfe, 0x61, 0, 0x0d, 0, 0x0a, 0, 0x0a, 0x01, 0x0a, 0]);
  for (const [how, pieces] of splits(utf16, 8)) {
    assert.deepEqual(
      await linesOf(pieces, { "content-type": "text/plain; charset=utf-16le" }),
      ["a", "\u010a"],
      how,
    );
  }
});

test("iter_lines() takes time linear in the body: an 8 MB line in 4 KiB pieces", async () => {
  const bytes = encoder.encode(`${"x".repeat(8 << 20)}\nnext\r\n`);
  const started = performance.now();
  const lines = await linesOf(cut(bytes, 4096));
  const took = performance.now() - started;
  assert.deepEqual(lines.map((l) => l.length), [8 << 20, 4]);
  // The quadratic version took minutes here; linear work takes well under a second.
  assert.ok(took < 5000, `took ${took.toFixed(0)} ms`);

  const many = encoder.encode("0123456789abcde\r".repeat(1 << 18));
  const count = (await linesOf(cut(many, 65536))).length;
  assert.equal(count, 1 << 18);
});

test("iter_lines() of a buffered body, and of a response built by hand", async () => {
  const fetch = () => new Response("a\r\nb\rc");
  const r = await requests.get("http://lines.test/", { fetch });
  const lines: string[] = [];
  for await (const line of r.iter_lines()) lines.push(line);
  assert.deepEqual(lines, ["a", "b", "c"]);
  const byHand = new requests.Response(200, "OK", null, "x\ny\n");
  const more: string[] = [];
  for await (const line of byHand.iter_lines()) more.push(line);
  assert.deepEqual(more, ["x", "y"]);
});

const JSON_CASES = [
  {
    name: "one value per line, any JSON type",
    input: '{"a":1}\n[2,3]\n"x"\n4.5\ntrue\nnull\n',
    values: [{ a: 1 }, [2, 3], "x", 4.5, true, null],
  },
  { name: "no ending on the last line", input: '{"a":1}\n{"a":2}', values: [{ a: 1 }, { a: 2 }] },
  { name: "CRLF endings", input: "1\r\n2\r\n", values: [1, 2] },
  { name: "blank lines are skipped", input: "1\n\n  \n\t\n \t \n2\n\n", values: [1, 2] },
  { name: "spaces around a value", input: '  {"a": 1}  \n', values: [{ a: 1 }] },
  {
    name: "text of several UTF-8 bytes",
    input: '"\u00e9\u20ac\ud834\udd1e"\n',
    values: [
      "\u00e9\u20ac\ud834\udd1e",
    ],
  },
  { name: "an empty body", input: "", values: [] },
] as const;

describe("iter_json() parses NDJSON / JSON Lines", () => {
  JSON_CASES.forEach((c, index) => {
    test(c.name, async () => {
      for (const [how, pieces] of splits(encoder.encode(c.input), index + 1)) {
        const r = await streamed(pieces);
        const values: unknown[] = [];
        for await (const value of r.iter_json()) values.push(value);
        assert.deepEqual(values, c.values, `${c.name}, ${how}`);
      }
    });
  });
});

test("iter_json() throws JSONDecodeError naming the bad line, after the good ones", async () => {
  const bad = '{"oops": ' + "x".repeat(300);
  const r = await streamed([encoder.encode(`1\r\n\n2\n${bad}\n3\n`)], {
    "content-type": "application/x-ndjson",
  });
  const values: unknown[] = [];
  const error = await (async () => {
    for await (const value of r.iter_json()) values.push(value);
  })().catch((e) => e);
  assert.deepEqual(values, [1, 2]);
  assert.ok(error instanceof requests.JSONDecodeError, String(error));
  assert.match(error.message, /^Response body line 4 is not valid JSON \(200 OK, content type/);
  assert.match(error.message, /"application\/x-ndjson"/);
  assert.ok(error.message.includes(`"{\\"oops\\": ${"x".repeat(71)}..."`), error.message);
  assert.ok(error.message.length < 300, "the message quotes only the start of the line");
  assert.equal(error.response, r);
  assert.ok(error.cause instanceof SyntaxError);
  // Where JSONDecodeError keeps the text it could not parse, it is the whole line.
  if ("doc" in error) assert.equal((error as { doc: unknown }).doc, bad);
});
