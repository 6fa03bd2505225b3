// multipart/form-data the module builds: field names and filenames with quotes, CR and LF cannot
// forge parts or headers, and boundaries stay unpredictable when Math.random is replaced
// (undici CVE-2025-22150).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../../mod.ts";
import { headerOf, ok, type Scripted, scripted, type Seen } from "../_raw.ts";

let server: Scripted;

before(async () => {
  server = await scripted((_seen, socket) => socket.write(ok("ok")));
});

after(() => server.close());

interface Part {
  headers: string[];
  content: string;
}

/** The boundary of a seen multipart request. */
function boundaryOf(seen: Seen): string {
  const type = headerOf(seen, "content-type") ?? "";
  const match = /^multipart\/form-data; boundary=([^;\s]+)$/.exec(type);
  assert.ok(match, `not multipart: ${type}`);
  return match[1];
}

/** The parts of a multipart body, split on its boundary exactly as a server would. */
function partsOf(seen: Seen): Part[] {
  const boundary = boundaryOf(seen);
  const body = new TextDecoder("latin1").decode(seen.body);
  const pieces = body.split(`--${boundary}`);
  assert.equal(pieces[0], "", "nothing before the first boundary");
  assert.equal(pieces[pieces.length - 1], "--\r\n", "the body ends with the closing boundary");
  return pieces.slice(1, -1).map((piece) => {
    assert.ok(piece.startsWith("\r\n") && piece.endsWith("\r\n"), JSON.stringify(piece));
    const end = piece.indexOf("\r\n\r\n");
    return {
      headers: piece.slice(2, end).split("\r\n"),
      content: piece.slice(end + 4, -2),
    };
  });
}

async function post(options: requests.RequestOptions): Promise<Seen> {
  const start = server.seen.length;
  await requests.post(server.url, options);
  assert.equal(server.seen.length, start + 1);
  return server.seen[start];
}

/** Names an attacker would use to close the header and start a part of their own. */
const FORGERIES = [
  'a"; filename="../../etc/passwd',
  'x"\r\nContent-Type: text/html\r\n\r\n<script>',
  'x\r\n\r\n--boundary\r\nContent-Disposition: form-data; name="admin"\r\n\r\ntrue',
  'x\n\nadmin"',
  'x\r"',
  "\r\n",
  '"',
  'multi"line"\r\n"name',
] as const;

for (const evil of FORGERIES) {
  test(`the name ${JSON.stringify(evil.slice(0, 40))} cannot forge a part or a header`, async () => {
    const seen = await post({
      data: { [evil]: "field value", plain: "p" },
      files: {
        [evil]: [evil, "file content", "text/plain"],
        upload: [evil, new Uint8Array([1, 2, 3])],
      },
    });
    const parts = partsOf(seen);
    assert.equal(parts.length, 4, "exactly the parts that were given");
    parts.forEach((part, i) => {
      // Two plain fields, then two files: the header lines are exactly the expected ones.
      assert.equal(part.headers.length, i < 2 ? 1 : 2, JSON.stringify(part.headers));
      assert.match(
        part.headers[0],
        /^Content-Disposition: form-data; name="[^"\r\n]*"(; filename="[^"\r\n]*")?$/,
      );
      if (i >= 2) {
        assert.match(part.headers[1], /^Content-Type: (text\/plain|application\/octet-stream)$/);
      }
    });
    const escaped = evil.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
    assert.equal(parts[0].headers[0], `Content-Disposition: form-data; name="${escaped}"`);
    assert.equal(parts[0].content, "field value");
    assert.equal(
      parts[2].headers[0],
      `Content-Disposition: form-data; name="${escaped}"; filename="${escaped}"`,
    );
    assert.equal(parts[2].content, "file content");
  });
}

test("a FormData and a File with hostile names are escaped the same way", async () => {
  const form = new FormData();
  form.append('a"\r\nX-Injected: 1', "v");
  form.append("f", new File(["data"], 'evil"\r\n\r\n.txt', { type: "text/plain" }));
  const parts = partsOf(await post({ data: form }));
  assert.equal(parts.length, 2);
  assert.equal(
    parts[0].headers[0],
    'Content-Disposition: form-data; name="a%22%0D%0AX-Injected: 1"',
  );
  assert.equal(
    parts[1].headers[0],
    'Content-Disposition: form-data; name="f"; filename="evil%22%0D%0A%0D%0A.txt"',
  );
});

test("a content type with CR or LF is refused, not sent", async () => {
  const start = server.seen.length;
  for (const type of ["text/plain\r\nX-Injected: 1", "text/plain\n", "a\0b"]) {
    await assert.rejects(
      requests.post(server.url, { files: { f: ["a.txt", "x", type] } }),
      TypeError,
    );
  }
  const blob = new Blob(["x"], { type: "text/plain" });
  const parts = partsOf(await post({ files: { f: blob } }));
  assert.match(parts[0].headers[1], /^Content-Type: text\/plain(;charset=utf-8)?$/);
  assert.equal(server.seen.length, start + 1);
});

test("a streamed file with a hostile name is escaped and streamed whole", async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("chunk one, "));
      controller.enqueue(new TextEncoder().encode("chunk two"));
      controller.close();
    },
  });
  const parts = partsOf(await post({ files: { 'f"\r\n': ['s"\r\n.bin', stream] } }));
  assert.equal(parts.length, 1);
  assert.equal(
    parts[0].headers[0],
    'Content-Disposition: form-data; name="f%22%0D%0A"; filename="s%22%0D%0A.bin"',
  );
  assert.equal(parts[0].content, "chunk one, chunk two");
});

test("boundaries stay unpredictable when Math.random is replaced", async () => {
  const random = Math.random;
  Math.random = () => 0.5;
  const boundaries = new Set<string>();
  try {
    for (let i = 0; i < 20; i++) {
      const seen = await post({ files: { f: ["a.txt", "same content"] } });
      boundaries.add(boundaryOf(seen));
    }
  } finally {
    Math.random = random;
  }
  assert.equal(boundaries.size, 20, "every boundary is fresh");
  for (const boundary of boundaries) {
    // 16 bytes from crypto.getRandomValues, hex: 128 bits nobody can guess.
    assert.match(boundary, /^[0-9a-f]{32}$/);
  }
  const bits = [...boundaries].map((b) => BigInt(`0x${b}`).toString(2).padStart(128, "0"));
  const ones = bits.join("").split("").filter((c) => c === "1").length;
  assert.ok(ones > 1100 && ones < 1460, `${ones} of 2560 bits set: not random`);
});

test("a file whose content holds a boundary-like line cannot end its part early", async () => {
  // The boundary is random, so the content cannot know it; a fixed guess is just data.
  const guess = "\r\n--0123456789abcdef0123456789abcdef\r\nContent-Disposition: form-data; " +
    'name="admin"\r\n\r\ntrue';
  const parts = partsOf(await post({ files: { f: ["a.txt", guess] } }));
  assert.equal(parts.length, 1);
  assert.equal(parts[0].content, guess);
});
