// The fixes of the security issue: control characters in URL text, a linear `Link` parser,
// messages that quote at most 200 characters, and `json` that refuses NaN and Infinity.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as requests from "../mod.ts";
import { InvalidURLError, RequestError, Response } from "../mod.ts";
import { clip } from "../src/errors.ts";
import { checkUrlText } from "../src/_url.ts";
import { parseLinks } from "../src/_links.ts";
import { closedPort } from "./_server.ts";
import { response, type Scripted, scripted } from "./_raw.ts";

let server: Scripted;
/** Locations the server sends, by path: `/to/<name>` answers 302 with `locations[name]`. */
const locations = new Map<string, string>();

before(async () => {
  server = await scripted((seen, socket) => {
    const name = seen.target.startsWith("/to/") ? seen.target.slice(4) : null;
    const location = name === null ? undefined : locations.get(name);
    socket.write(
      location === undefined
        ? response("200 OK", [["Content-Length", "2"]], "ok")
        : response("302 Found", [["Location", location], ["Content-Length", "0"]]),
    );
  });
});
after(() => server.close());

/** The rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, String(error));
    return error;
  }
  assert.fail("expected a rejection");
}

/** A `fetch` that counts its calls and answers `answer()`. */
function spy(answer: () => globalThis.Response = () => new globalThis.Response("ok")) {
  const calls: string[] = [];
  const fetch = (input: RequestInfo | URL): Promise<globalThis.Response> => {
    calls.push(input instanceof Request ? input.url : String(input));
    return Promise.resolve(answer());
  };
  return { calls, fetch };
}

const hex = (code: number) => code.toString(16).toUpperCase().padStart(4, "0");
const CONTROLS = [...Array.from({ length: 32 }, (_, i) => i), 0x7f];

describe("control characters in URL text", () => {
  test("get() refuses every C0 control and DEL in the URL text, naming it and its position", async () => {
    for (const code of CONTROLS) {
      const before = server.connections;
      const url = `${server.url}/a${String.fromCharCode(code)}b`;
      const error = await failure(requests.get(url));
      assert.ok(error instanceof InvalidURLError, `U+${hex(code)}: ${error}`);
      const at = server.url.length + 2;
      assert.equal(
        error.message,
        `Invalid URL: control character U+${hex(code)} at position ${at}`,
      );
      assert.equal(error.request.method, "GET");
      assert.equal(server.connections, before, `U+${hex(code)} reached the server`);
    }
  });

  test('get("http://a.com/\\r\\nX: y") is refused, not sent as GET /X:%20y', async () => {
    const { calls, fetch } = spy();
    const error = await failure(requests.get("http://a.com/\r\nX: y", { fetch }));
    assert.ok(error instanceof InvalidURLError, String(error));
    assert.equal(error.message, "Invalid URL: control character U+000D at position 13");
    assert.deepEqual(calls, []);
  });

  test("the first control character is the one named, wherever it is", async () => {
    for (
      const [url, message] of [
        ["\thttp://a.test/", "U+0009 at position 0"],
        ["http://a.test/\u007f", "U+007F at position 14"],
        ["http://a\u0000.test/\n", "U+0000 at position 8"],
        ["http://u:p@a.test/?q=\u001b[31m", "U+001B at position 21"],
      ] as const
    ) {
      const error = await failure(requests.post(url, { json: {} }));
      assert.ok(error instanceof InvalidURLError, String(error));
      assert.equal(error.message, `Invalid URL: control character ${message}`);
    }
  });

  test("text that only looks like a control character, and non-ASCII text, are accepted", async () => {
    const { calls, fetch } = spy();
    await requests.get("http://a.test/%0D%0A/\u0080/\u00a0/é", { fetch });
    assert.equal(calls.length, 1);
    assert.ok(calls[0].startsWith("http://a.test/%0D%0A/%C2%80/%C2%A0/"), calls[0]);
  });

  test("a URL object is already parsed: it is sent as the parser left it", async () => {
    const r = await requests.get(new URL(`${server.url}/a\tb`));
    assert.equal(r.url, `${server.url}/ab`);
  });

  test("checkUrlText() throws the same InvalidURLError, and passes clean text", () => {
    assert.doesNotThrow(() => checkUrlText("/items?q=1", "GET"));
    assert.throws(
      () => checkUrlText("/items\n", "PUT"),
      (error: unknown) =>
        error instanceof InvalidURLError && error.request.method === "PUT" &&
        error.message === "Invalid URL: control character U+000A at position 6",
    );
  });

  test("a redirect Location with a tab is refused, naming the position, and not followed", async () => {
    locations.set("tab", "/a\tb");
    const before = server.seen.length;
    const error = await failure(requests.get(`${server.url}/to/tab`));
    assert.ok(error instanceof InvalidURLError, String(error));
    assert.match(
      error.message,
      /^Redirect refused: Location .*control character U\+0009 at position 2/,
    );
    assert.equal(server.seen.length, before + 1, "the Location was followed");
  });

  test("a redirect Location with any control character a Headers object allows is refused", async () => {
    for (const code of CONTROLS) {
      if (code === 0 || code === 10 || code === 13) continue; // Headers refuses these itself
      const location = `/x${String.fromCharCode(code)}y`;
      let headers: Headers;
      try {
        headers = new Headers({ location });
      } catch {
        continue; // this runtime's Headers refuses it: it can never arrive
      }
      const { calls, fetch } = spy(() => new globalThis.Response(null, { status: 302, headers }));
      const error = await failure(requests.get("http://a.test/", { fetch }));
      assert.ok(error instanceof InvalidURLError, `U+${hex(code)}: ${error}`);
      // A Headers object trims leading and trailing whitespace, never the middle.
      assert.match(error.message, new RegExp(`control character U\\+${hex(code)} at position 2`));
      assert.equal(calls.length, 1, `U+${hex(code)} was followed`);
    }
  });

  test("a proxy URL with a control character is a TypeError naming the option and position", async () => {
    const { calls, fetch } = spy();
    for (const [key, proxy] of [["http", "http://127.0.0.1:3128/\n"], ["https", "http://a\tb/"]]) {
      const error = await failure(
        requests.get("http://a.test/", { proxies: { [key]: proxy }, fetch }),
      );
      assert.ok(error instanceof TypeError, String(error));
      const at = proxy.search(/[\t\n]/);
      assert.match(
        error.message,
        new RegExp(
          `^Option 'proxies\\.${key}' is not a valid URL: control character U\\+000[9A] at position ${at}$`,
        ),
      );
    }
    assert.deepEqual(calls, []);
  });
});

/** Today's (quadratic) parser, kept as the oracle for headers it parses in reasonable time. */
function regexLinks(header: string): Record<string, Record<string, string>> {
  const links: Record<string, Record<string, string>> = Object.create(null);
  for (const entry of header.match(/<[^>]*>(?:\s*;\s*[^,;=]+(?:=(?:"[^"]*"|[^,;]*))?)*/g) ?? []) {
    const close = entry.indexOf(">");
    const link: Record<string, string> = Object.create(null);
    link.url = entry.slice(1, close);
    for (
      const param of entry.slice(close + 1).matchAll(
        /;\s*([^=;\s]+)\s*(?:=\s*(?:"([^"]*)"|([^;]*)))?/g,
      )
    ) {
      link[param[1].toLowerCase()] = (param[2] ?? param[3] ?? "").trim();
    }
    links[link.rel ?? link.url] = link;
  }
  return links;
}

/** A `Link` header of a response, parsed by `r.links` (the header block trims the value). */
function links(header: string): Record<string, Record<string, string>> {
  return new Response(200, "OK", `Link: ${header}\r\n`).links;
}

describe("Response.links", () => {
  const VALID = [
    '<https://api.test/items?page=2>; rel="next", <https://api.test/items?page=9>; rel="last"',
    "<https://api.test/a>; rel=next; title=Next",
    '<https://a.test/front.jpeg>; rel=front; type="image/jpeg",<http://a.test/back.jpeg>; rel=back;type="image/jpeg"',
    "<https://a.test/x>",
    "<https://a.test/x>, <https://a.test/y>",
    '<https://a.test/x> ; REL = "Preload" ; AS=style ; crossorigin',
    '<https://a.test/x>;rel="next last";title="The end"',
    "  <https://a.test/x>; rel=next ,  <https://a.test/y>; rel=prev  ",
    '<https://a.test/x>; rel="alternate"; hreflang=de; title="Über uns"',
    "<>; rel=self",
    "<a>; rel=next; rel=prev",
    '<a>; title="x;y"; rel=next',
  ];
  for (const header of VALID) {
    test(`parses ${JSON.stringify(header.slice(0, 60))} as before`, () => {
      assert.deepEqual({ ...links(header) }, { ...regexLinks(header.trim()) });
    });
  }

  test("a comma or semicolon inside a quoted value or inside <...> is part of it", () => {
    const parsed = links(
      '<https://a.test/?a=1,2;b=3>; rel="next"; title="a, b; c", <https://a.test/z>; rel=last',
    );
    assert.deepEqual(Object.keys(parsed), ["next", "last"]);
    assert.equal(parsed.next.url, "https://a.test/?a=1,2;b=3");
    assert.equal(parsed.next.title, "a, b; c");
    assert.equal(parsed.last.url, "https://a.test/z");
  });

  test("a quoted-pair in a quoted value is unescaped (RFC 9110 quoted-string)", () => {
    const parsed = links('<a>; rel=next; title="say \\"hi\\", then \\\\go"');
    assert.equal(parsed.next.title, 'say "hi", then \\go');
  });

  test("a link without rel is keyed by its URL; names are lower-cased; keys are plain", () => {
    const parsed = links('<https://a.test/x>; Title="T", <https://a.test/y>; rel=__proto__');
    assert.deepEqual({ ...parsed["https://a.test/x"] }, { url: "https://a.test/x", title: "T" });
    assert.equal(parsed["__proto__"].url, "https://a.test/y");
    assert.equal(Object.getPrototypeOf(parsed), null);
  });

  test("agrees with the former parser on 2,000 generated well-formed headers", () => {
    let seed = 7;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const TOKENS = ["next", "prev", "Last", "alternate", "x-y", "a.b", "1"];
    const QUOTED = ["a b", "x, y", "p;q", "", "<u>", "é"];
    const URLS = ["https://a.test/", "/p?x=1,2", "a;b", "", "http://h:1/<x", "u v"];
    for (let i = 0; i < 2000; i++) {
      const entries: string[] = [];
      for (let e = next(4); e >= 0; e--) {
        let entry = `<${URLS[next(URLS.length)]}>`;
        for (let p = next(4); p > 0; p--) {
          const name = ["rel", "title", "Type", "anchor", "hreflang"][next(5)];
          const value = next(2) === 0
            ? TOKENS[next(TOKENS.length)]
            : `"${QUOTED[next(QUOTED.length)]}"`;
          entry += `${[";", "; ", " ;"][next(3)]}${name}${next(5) === 0 ? "" : `=${value}`}`;
        }
        entries.push(entry);
      }
      const header = entries.join([",", ", ", " , "][next(3)]);
      assert.deepEqual({ ...links(header) }, { ...regexLinks(header.trim()) }, header);
    }
  });

  const MB = 1 << 20;
  const HOSTILE = {
    "<<<<...": "<".repeat(MB),
    "<a>;;;;;...": `<a>${";".repeat(MB)}`,
    "<a>; ; ; ...": `<a>${"; ".repeat(MB / 2)}`,
    '<a>; x=" unterminated': `<a>; x="${"a".repeat(MB)}`,
    '<a>; x=" then <<<...': `<a>; x="${"<".repeat(MB)}`,
    ",,,,,...": ",".repeat(MB),
    "<a>, <a>, ...": "<a>, ".repeat(MB / 5),
    "<a>; a=1; a=1...": `<a>${"; a=1".repeat(MB / 6)}`,
    "<a>; a=b c d ...": `<a>; a=${"b ".repeat(MB / 2)}`,
    "<a>;x x x x...": `<a>;${"x ".repeat(MB / 2)}`,
    "<a>; x=\\\\\\...": `<a>; x="${"\\".repeat(MB)}`,
  };
  for (const [shape, header] of Object.entries(HOSTILE)) {
    test(`a 1 MB hostile header ${JSON.stringify(shape)} is parsed in well under 1 s`, () => {
      const started = performance.now();
      parseLinks(header);
      const ms = performance.now() - started;
      assert.ok(ms < 1000, `${shape}: ${ms.toFixed(0)} ms`);
    });
  }
});

describe("message size", () => {
  test("clip() keeps 200 characters and adds an ellipsis, never halving a surrogate pair", () => {
    assert.equal(clip("a".repeat(200)), "a".repeat(200));
    assert.equal(clip("a".repeat(201)), `${"a".repeat(200)}...`);
    assert.equal(clip(`${"a".repeat(199)}😀b`), `${"a".repeat(199)}...`);
    assert.equal(clip("abcdef", 3), "abc...");
  });

  test("RequestError clips the URL it appends; request.url stays whole", () => {
    const url = `http://a.test/${"x".repeat(100_000)}`;
    const error = new RequestError("Connection refused", { request: { method: "GET", url } });
    assert.ok(
      error.message === `Connection refused: GET ${clip(url)}`,
      error.message.slice(0, 300),
    );
    assert.ok(error.request.url === url, "request.url was cut");
    const method = "M".repeat(100_000);
    const long = new RequestError("Connection refused", { request: { method, url: "http://a/" } });
    assert.equal(long.message, `Connection refused: ${clip(method)} http://a/`);
  });

  test("a huge field name in 'files' gives a short TypeError", async () => {
    const name = "n".repeat(100_000);
    for (const spec of [[1, "x"], ["a.txt", 1], ["a.txt", "x", 1], 42]) {
      const files = { [name]: spec } as unknown as Record<string, [string, string]>;
      const error = await failure(requests.post("http://a.test/", { files, fetch: spy().fetch }));
      assert.ok(error instanceof TypeError, String(error).slice(0, 300));
      assert.ok(error.message.length < 600, String(error.message.length));
      assert.ok(error.message.startsWith(`Invalid 'files["nnnn`), error.message.slice(0, 80));
    }
  });

  /** Asserts `error` is short and still says which call it was about. */
  function assertShort(error: Error, start: string): void {
    assert.ok(error instanceof RequestError, String(error).slice(0, 300));
    assert.ok(
      error.message.length < 600,
      `${error.message.length}: ${error.message.slice(0, 300)}`,
    );
    assert.ok(error.message.includes(`: GET ${start}`), error.message.slice(0, 300));
  }

  for (const [name, size] of [["12 KB", 12_000], ["200 KB", 200_000]] as const) {
    test(`a ${name} ftp: Location gives a short message`, async () => {
      locations.set(`ftp${size}`, `ftp://x.test/${"a".repeat(size)}`);
      const url = `${server.url}/to/ftp${size}`;
      const error = await failure(requests.get(url));
      assertShort(error, url);
      // Node's HTTP parser refuses a head over 16 KB: a ConnectionError then, as short.
      if (error instanceof InvalidURLError) {
        assert.ok(error.message.startsWith('Redirect refused: Location "ftp://x.test/aaaa'));
      }
    });
  }

  for (const [name, size] of [["12 KB", 12_000], ["1 MB", 1 << 20]] as const) {
    test(`a ${name} http Location to a closed port gives a short message`, async () => {
      const target = `http://127.0.0.1:${await closedPort()}/${"b".repeat(size)}`;
      locations.set(`big${size}`, target);
      const error = await failure(requests.get(`${server.url}/to/big${size}`, { timeout: 5 }));
      // Followed where the runtime takes such a head (the error names the new URL), else refused
      // by its parser (the error names the first).
      const followed = error.message.includes(target.slice(0, 100));
      assertShort(error, followed ? target.slice(0, 100) : `${server.url}/to/big${size}`);
    });
  }

  test("a 50 MB data: URL given to get() gives a short message", async () => {
    const url = `data:text/plain,${"a".repeat(50_000_000)}`;
    const error = await failure(requests.get(url));
    assert.ok(error instanceof InvalidURLError, String(error).slice(0, 300));
    assertShort(error, "data:text/plain,aaaa");
    assert.equal(error.request.url.length, url.length);
  });

  test("a huge unparseable URL and a huge proxy URL give short messages", async () => {
    const url = `http://exa mple/${"c".repeat(100_000)}`;
    const error = await failure(requests.get(url));
    assert.ok(error instanceof InvalidURLError);
    assert.ok(error.message.length < 600, String(error.message.length));
    assert.ok(error.message.startsWith('Invalid URL "http://exa mple/ccc'));
    for (const proxy of [`http://exa mple/${"c".repeat(100_000)}`, `ftp://p/${"c".repeat(1e5)}`]) {
      const error = await failure(requests.get(server.url, { proxies: { http: proxy } }));
      assert.ok(error instanceof TypeError, String(error).slice(0, 300));
      assert.ok(error.message.length < 600, String(error.message.length));
      assert.ok(error.message.includes("'proxies.http'"));
    }
  });
});

describe("json with NaN or Infinity", () => {
  const REFUSED = [
    [NaN, "NaN at json"],
    [{ a: Infinity }, "Infinity at json.a"],
    [{ items: [0, 1, { value: NaN }] }, "NaN at json.items[2].value"],
    [[[[-Infinity]]], "-Infinity at json[0][0][0]"],
    [{ "a b": { "": NaN } }, 'NaN at json["a b"][""]'],
    [{ n: new Number(NaN) }, "NaN at json.n"],
    [{ t: { toJSON: () => NaN } }, "NaN at json.t"],
    [{ t: { toJSON: () => ({ deep: [Infinity] }) } }, "Infinity at json.t.deep[0]"],
    [{ ok: null, s: "null", bad: [null, NaN] }, "NaN at json.bad[1]"],
    [{ "0": { $a_1: NaN } }, 'NaN at json["0"].$a_1'],
    // toJSON gets the key as stringify passes it: "" for the root, "0" for an item
    [[{ toJSON: (key: string) => (key === "0" ? Infinity : 1) }], "Infinity at json[0]"],
    [{ toJSON: (key: string) => (key === "" ? -Infinity : 1) }, "-Infinity at json"],
  ] as const;
  for (const [value, where] of REFUSED) {
    test(`refuses ${where} with a TypeError naming the path`, async () => {
      const { calls, fetch } = spy();
      const error = await failure(requests.post("http://a.test/", { json: value, fetch }));
      assert.ok(error instanceof TypeError, String(error));
      assert.equal(error.message, `Invalid 'json': ${where} cannot be sent as JSON`);
      assert.deepEqual(calls, []);
    });
  }

  test("sends what JSON.stringify sends when no NaN or Infinity is serialised", async () => {
    const values = [
      { ok: null, s: "null", list: [null, 1.5, -0], when: new Date(0) },
      { skipped: () => NaN, gone: undefined, map: new Map([["k", NaN]]) },
      { toJSON: () => ({ replaced: true }), bad: NaN },
      { nested: { toJSON: (key: string) => `key ${key}` } },
    ];
    for (const value of values) {
      let sent: string | null = null;
      const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
        sent = await new Request(input, init).text();
        return new globalThis.Response("ok");
      };
      await requests.post("http://a.test/", { json: value, fetch });
      assert.equal(sent, JSON.stringify(value));
    }
  });

  test("a toJSON that answers with a cycle the second time cannot make the check loop", async () => {
    let calls = 0;
    const cyclic: Record<string, unknown> = { n: null };
    cyclic.self = cyclic;
    const value = { a: null, b: { toJSON: () => (++calls === 1 ? 1 : cyclic) } };
    let sent: string | null = null;
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      sent = await new Request(input, init).text();
      return new globalThis.Response("ok");
    };
    await requests.post("http://a.test/", { json: value, fetch });
    assert.equal(sent, '{"a":null,"b":1}');
    assert.equal(calls, 2);
  });

  test("a deep array with a NaN at the bottom is refused, not a stack overflow", async () => {
    let value: unknown = NaN;
    for (let i = 0; i < 2000; i++) value = [value];
    const error = await failure(
      requests.post("http://a.test/", { json: value, fetch: spy().fetch }),
    );
    assert.ok(error instanceof TypeError);
    assert.ok(
      error.message.startsWith("Invalid 'json': NaN at json[0][0]"),
      error.message.slice(0, 80),
    );
    assert.ok(error.message.length < 600, String(error.message.length));
  });
});
