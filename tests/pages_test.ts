// Pages: paginate() and session.paginate() against real in-process servers: Link headers and
// cursors, laziness, limits, loops, errors, and the redirect rules a next URL is held to.

import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
// @ts-types="./deps/node_modules/zod/index.d.ts"
import * as z from "./deps/node_modules/zod/index.js";
// @ts-types="./deps/node_modules/valibot/dist/index.d.mts"
import * as v from "./deps/node_modules/valibot/dist/index.mjs";
import * as requests from "../mod.ts";
import { serve, type TestServer } from "./_server.ts";

/** One request a server saw. */
interface Seen {
  line: string;
  headers: Headers;
}

let api: TestServer;
let other: TestServer;
const seen: Seen[] = [];
const otherSeen: Seen[] = [];
const lines = () => seen.map((s) => s.line);

/** Routes of the API: each takes the URL and the body and gives the response. */
const routes: Record<string, (url: URL, body: string) => Response> = {
  // ?pages=P: page N (default 1) holds two items and links to N+1 until P.
  "/items": (url) => {
    const page = Number(url.searchParams.get("page") ?? 1);
    const pages = Number(url.searchParams.get("pages") ?? 3);
    const headers = new Headers();
    if (page < pages) headers.set("link", `</items?page=${page + 1}&pages=${pages}>; rel="next"`);
    return Response.json([`p${page}a`, `p${page}b`], { headers });
  },
  // ?link=...: that Link header, and the URL's page as the one item.
  "/linked": (url) => {
    const headers = new Headers();
    for (const link of url.searchParams.getAll("link")) headers.append("link", link);
    return Response.json({ page: url.searchParams.get("page") }, { headers });
  },
  // A cursor API: ?cursor=N (or {"cursor": N} in a POST body) gives N and N+1, next N+2 < 6.
  "/cursor": (url, body) => {
    const cursor = Number(
      url.searchParams.get("cursor") ?? (body === "" ? 0 : JSON.parse(body).cursor ?? 0),
    );
    const next = cursor + 2 < 6 ? cursor + 2 : null;
    return Response.json({ data: [cursor, cursor + 1], next });
  },
  "/self": () => Response.json(["self"], { headers: { link: '</self>; rel="next"' } }),
  "/to-self": () => new Response(null, { status: 302, headers: { location: "/self" } }),
  "/loop-a": () => Response.json(["a"], { headers: { link: '</loop-b>; rel="next"' } }),
  "/loop-b": () =>
    Response.json(["b"], { headers: { link: `<${api.url}/loop-a#again>; rel="next"` } }),
  "/fail": () => Response.json({ error: "down" }, { status: 503 }),
  // /tagged?page=N of 3: validated by ETag (no-cache), a 304 to a matching If-None-Match.
  "/tagged": (url) => {
    const page = Number(url.searchParams.get("page") ?? 1);
    const headers = new Headers({ "cache-control": "no-cache", etag: `"page-${page}"` });
    if (page < 3) headers.set("link", `</tagged?page=${page + 1}>; rel="next"`);
    if (taggedSeen.at(-1) === `"page-${page}"`) return new Response(null, { status: 304, headers });
    return Response.json([`t${page}a`, `t${page}b`], { headers });
  },
  "/redirect": () => new Response(null, { status: 302, headers: { location: "/sub/start" } }),
  "/sub/start": () =>
    Response.json(["start"], { headers: { link: '<next-page?pages=1>; rel="next"' } }),
};

/** The If-None-Match of each request to /tagged, in order ("" when none). */
const taggedSeen: string[] = [];

before(async () => {
  api = await serve(async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/tagged") taggedSeen.push(req.headers.get("if-none-match") ?? "");
    const body = req.method === "GET" || req.method === "HEAD" ? "" : await req.text();
    seen.push({
      line: `${req.method} ${url.pathname}${url.search} ${body}`.trim(),
      headers: req.headers,
    });
    const route = routes[url.pathname] ??
      (url.pathname.startsWith("/sub/next-page") ? routes["/items"] : undefined);
    return route === undefined ? new Response("not found", { status: 404 }) : route(url, body);
  });
  other = await serve((req) => {
    const url = new URL(req.url);
    otherSeen.push({ line: `${req.method} ${url.pathname}${url.search}`, headers: req.headers });
    return Response.json(["foreign"]);
  });
});
after(async () => {
  await api.close();
  await other.close();
});
beforeEach(() => {
  seen.length = 0;
  otherSeen.length = 0;
});

async function collect<T>(walk: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of walk) items.push(item);
  return items;
}

/** The items yielded before the walk failed, and the failure. */
async function collectUntilError<T>(walk: AsyncIterable<T>): Promise<[T[], unknown]> {
  const items: T[] = [];
  try {
    for await (const item of walk) items.push(item);
  } catch (error) {
    return [items, error];
  }
  assert.fail(`the walk ended without an error after ${items.length} items`);
}

const linked = (...links: string[]) => {
  const url = new URL(`${api.url}/linked?page=1`);
  for (const link of links) url.searchParams.append("link", link);
  return url.href;
};

test("paginate() follows Link rel=next across pages, one request per page, in order", async () => {
  const items = await collect(requests.paginate(`${api.url}/items`));
  assert.deepEqual(items, ["p1a", "p1b", "p2a", "p2b", "p3a", "p3b"]);
  assert.deepEqual(lines(), [
    "GET /items",
    "GET /items?page=2&pages=3",
    "GET /items?page=3&pages=3",
  ]);
});

test("pages are fetched as the loop asks: leaving after two items of the first page sends one request", async () => {
  const taken: unknown[] = [];
  for await (const item of requests.paginate(`${api.url}/items`)) {
    taken.push(item);
    if (taken.length === 2) break;
  }
  assert.deepEqual(taken, ["p1a", "p1b"]);
  assert.deepEqual(lines(), ["GET /items"]);
  // The second page only when its first item is asked for.
  const walk = requests.paginate(`${api.url}/items`);
  for (let i = 0; i < 2; i++) await walk.next();
  assert.equal(seen.length, 2);
  assert.deepEqual(await walk.next(), { value: "p2a", done: false });
  assert.equal(seen.length, 3);
  await walk.return();
});

test("max_pages and max_items stop the walk without another request", async () => {
  assert.deepEqual(
    await collect(requests.paginate(`${api.url}/items`, { pagination: { max_items: 3 } })),
    ["p1a", "p1b", "p2a"],
  );
  assert.equal(seen.length, 2);
  seen.length = 0;
  assert.deepEqual(
    await collect(requests.paginate(`${api.url}/items`, { pagination: { max_pages: 2 } })),
    ["p1a", "p1b", "p2a", "p2b"],
  );
  assert.equal(seen.length, 2);
  seen.length = 0;
  assert.deepEqual(
    await collect(requests.paginate(`${api.url}/items`, { pagination: { max_items: 0 } })),
    [],
  );
  assert.deepEqual(
    await collect(requests.paginate(`${api.url}/items`, { pagination: { max_pages: 0 } })),
    [],
  );
  assert.equal(seen.length, 0);
  // Exactly at a page's end: the next page is not fetched.
  assert.deepEqual(
    await collect(requests.paginate(`${api.url}/items`, { pagination: { max_items: 2 } })),
    ["p1a", "p1b"],
  );
  assert.equal(seen.length, 1);
});

test("the default items: a JSON array spread, anything else one item; items() picks them", async () => {
  // /linked answers an object: one item per page.
  const next = `<${api.url}/linked?page=2>; rel="next"`;
  assert.deepEqual(await collect(requests.paginate(linked(next))), [{ page: "1" }, { page: "2" }]);
  const picked = await collect(requests.paginate(`${api.url}/cursor`, {
    pagination: { items: (r) => (r.json() as { data: number[] }).data, next: () => null },
  }));
  assert.deepEqual(picked, [0, 1]);
  // An async iterable works too, e.g. the lines of an NDJSON page.
  const fromLines = await collect(requests.paginate(`${api.url}/items?pages=1`, {
    pagination: { items: (r) => r.iter_lines() },
  }));
  assert.deepEqual(fromLines, ['["p1a","p1b"]']);
  await assert.rejects(
    collect(requests.paginate(`${api.url}/items`, { pagination: { items: () => 42 } })),
    /Invalid result of 'pagination\.items'/,
  );
});

test("rel=next is matched case-insensitively among space-separated values, resolved against the page URL", async () => {
  const cases: [string[], string | null][] = [
    [['</linked?page=2>; rel="NEXT"'], "2"],
    [['</linked?page=2>; rel="prev next last"'], "2"],
    [["</linked?page=2>; rel=Next"], "2"],
    [['</linked?page=9>; rel="nextish", </linked?page=2>; title="x"; rel="next"'], "2"],
    [['</linked?page=9>; rel="prev"', '</linked?page=2>; rel="next"'], "2"],
    [['</linked?page=9>; rel="prev"'], null],
    [['<linked?page=2>; rel="next"'], "2"],
  ];
  for (const [links, expected] of cases) {
    const pages = await collect(requests.paginate(linked(...links)));
    assert.deepEqual(
      pages.map((p) => (p as { page: string }).page),
      expected === null ? ["1"] : ["1", expected],
      links.join(" | "),
    );
  }
  // After a redirect, a relative link resolves against where the page came from.
  seen.length = 0;
  assert.deepEqual(await collect(requests.paginate(`${api.url}/redirect`)), [
    "start",
    "p1a",
    "p1b",
  ]);
  assert.deepEqual(lines(), ["GET /redirect", "GET /sub/start", "GET /sub/next-page?pages=1"]);
});

test("next() returning options merges them: a cursor in the query, the other params kept", async () => {
  const walk = requests.paginate(`${api.url}/cursor`, {
    params: { limit: 2 },
    pagination: {
      items: (r) => (r.json() as { data: number[] }).data,
      next: (r) => {
        const { next } = r.json() as { next: number | null };
        return next === null ? null : { params: { cursor: next } };
      },
    },
  });
  assert.deepEqual(await collect(walk), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(lines(), [
    "GET /cursor?limit=2",
    "GET /cursor?limit=2&cursor=2",
    "GET /cursor?limit=2&cursor=4",
  ]);
});

test("next() returning options merges them: a cursor in a POST body, a method and a URL of their own", async () => {
  const walk = requests.paginate(`${api.url}/cursor`, {
    method: "post",
    json: { query: "cats" },
    pagination: {
      items: (r) => (r.json() as { data: number[] }).data,
      next: (r) => {
        const { next } = r.json() as { next: number | null };
        return next === null ? null : { json: { cursor: next } };
      },
    },
  });
  assert.deepEqual(await collect(walk), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(lines(), [
    'POST /cursor {"query":"cats"}',
    'POST /cursor {"query":"cats","cursor":2}',
    'POST /cursor {"query":"cats","cursor":4}',
  ]);
  seen.length = 0;
  const switched = requests.paginate(`${api.url}/cursor`, {
    pagination: {
      items: (r) => (r.json() as { data: number[] }).data,
      next: (_, items) =>
        items[0] === 0 ? { method: "PUT", url: "cursor?cursor=2", json: { x: 1 } } : null,
    },
  });
  assert.deepEqual(await collect(switched), [0, 1, 2, 3]);
  assert.deepEqual(lines(), ["GET /cursor", 'PUT /cursor?cursor=2 {"x":1}']);
});

test("a request already sent in the walk ends it: a self-referencing or cycling Link cannot loop", async () => {
  assert.deepEqual(await collect(requests.paginate(`${api.url}/self`)), ["self"]);
  assert.deepEqual(lines(), ["GET /self"]);
  seen.length = 0;
  // A page reached by a redirect counts as sent too.
  seen.length = 0;
  assert.deepEqual(await collect(requests.paginate(`${api.url}/to-self`)), ["self"]);
  assert.deepEqual(lines(), ["GET /to-self", "GET /self"]);
  seen.length = 0;
  // a -> b -> a again (absolute, with a fragment): two requests.
  assert.deepEqual(await collect(requests.paginate(`${api.url}/loop-a`)), ["a", "b"]);
  assert.deepEqual(lines(), ["GET /loop-a", "GET /loop-b"]);
  // cursor 0 -> 2 -> back to 0, given in params the first time: they count.
  seen.length = 0;
  const cycling = requests.paginate(`${api.url}/cursor`, {
    params: { cursor: 0 },
    pagination: {
      next: (_, items) => `/cursor?cursor=${(items[0] as { next: number }).next === 2 ? 2 : 0}`,
    },
  });
  assert.equal((await collect(cycling)).length, 2);
  assert.deepEqual(lines(), ["GET /cursor?cursor=0", "GET /cursor?cursor=2"]);
  // The same URL with another body is another request.
  seen.length = 0;
  const bodies = requests.paginate(`${api.url}/cursor`, {
    method: "POST",
    json: { cursor: 0 },
    pagination: {
      next: (r) => ({ json: { cursor: (r.json() as { next: number | null }).next ?? 0 } }),
    },
  });
  assert.equal((await collect(bodies)).length, 3);
  assert.equal(seen.length, 3);
});

test("a non-2xx page rejects with HTTPError after the earlier pages' items", async () => {
  const [items, error] = await collectUntilError(requests.paginate(linked(`</fail>; rel="next"`)));
  assert.deepEqual(items, [{ page: "1" }]);
  assert.ok(error instanceof requests.HTTPError, String(error));
  assert.equal(error.response?.status_code, 503);
  assert.match(
    error.message,
    /^Page 2 answered 503 Service Unavailable: GET http:\/\/127\.0\.0\.1:\d+\/fail$/,
  );
  // A 404 first page: nothing yielded.
  const [none, missing] = await collectUntilError(requests.paginate(`${api.url}/nowhere`));
  assert.deepEqual(none, []);
  assert.ok(missing instanceof requests.HTTPError);
});

test("a next URL that is not http(s) is refused with InvalidURLError and never fetched", async () => {
  for (
    const target of [
      "file:///etc/passwd",
      "javascript:alert(1)",
      "ftp://127.0.0.1/x",
      "data:,x",
      "http://[bad",
    ]
  ) {
    seen.length = 0;
    const [items, error] = await collectUntilError(
      requests.paginate(linked(`<${target}>; rel="next"`)),
    );
    assert.equal(items.length, 1, target);
    assert.ok(error instanceof requests.InvalidURLError, `${target}: ${error}`);
    assert.match(String((error as Error).message), /^Next page refused: /);
    assert.equal(seen.length, 1, target);
  }
  // Credentials in a server's link never become Basic auth.
  seen.length = 0;
  await collect(
    requests.paginate(
      linked(`<http://user:pw@${new URL(api.url).host}/linked?page=2>; rel="next"`),
    ),
  );
  assert.equal(seen[1].headers.get("authorization"), null);
});

test("a next page on another origin gets none of the call's credentials; the same origin keeps them", async () => {
  const foreign = `${other.url}/page`;
  const walk = requests.paginate(
    linked(`</linked?page=2&link=${encodeURIComponent(`<${foreign}>; rel="next"`)}>; rel="next"`),
    {
      auth: ["user", "secret"],
      headers: { "X-Api-Key": "k1", "Proxy-Authorization": "Basic eA==", "X-Plain": "p" },
      cookies: { sid: "s1" },
      sensitive_headers: ["X-Api-Key"],
    },
  );
  assert.equal((await collect(walk)).length, 3);
  for (const page of seen) {
    assert.match(page.headers.get("authorization") ?? "", /^Basic /);
    assert.equal(page.headers.get("x-api-key"), "k1");
    assert.equal(page.headers.get("cookie"), "sid=s1");
  }
  assert.equal(otherSeen.length, 1);
  const sent = otherSeen[0].headers;
  for (const name of ["authorization", "proxy-authorization", "x-api-key", "cookie"]) {
    assert.equal(sent.get(name), null, name);
  }
  assert.equal(sent.get("x-plain"), "p");
});

test("session.paginate(): the session's credentials stay on the base URL's origin, and on the first page's without one", async () => {
  const foreign = `<${other.url}/page>; rel="next"`;
  await using withBase = new requests.Session({
    base_url: `${api.url}/`,
    auth: ["user", "secret"],
    headers: { "X-Api-Key": "k1" },
    sensitive_headers: ["X-Api-Key"],
  });
  const path = `linked?page=1&link=${encodeURIComponent(foreign)}`;
  assert.equal((await collect(withBase.paginate(path))).length, 2);
  assert.match(seen[0].headers.get("authorization") ?? "", /^Basic /);
  assert.equal(otherSeen[0].headers.get("authorization"), null);
  assert.equal(otherSeen[0].headers.get("x-api-key"), null);
  // Without a base URL, the first page's origin is the one.
  otherSeen.length = 0;
  await using bare = new requests.Session({
    auth: ["user", "secret"],
    headers: { "X-Api-Key": "k1" },
    sensitive_headers: ["X-Api-Key"],
  });
  assert.equal((await collect(bare.paginate(`${api.url}/${path}`))).length, 2);
  assert.equal(otherSeen[0].headers.get("authorization"), null);
  assert.equal(otherSeen[0].headers.get("x-api-key"), null);
  // And a plain call of the same session still sends them anywhere, as before.
  otherSeen.length = 0;
  await bare.get(`${other.url}/direct`);
  assert.match(otherSeen[0].headers.get("authorization") ?? "", /^Basic /);
});

test("session.paginate(): a Link cannot leave base_url where allow_absolute_urls is false", async () => {
  await using confined = new requests.Session({
    base_url: `${api.url}/v1/`,
    allow_absolute_urls: false,
    auth: ["user", "secret"],
  });
  routes["/v1/linked"] = routes["/v1/linked:x"] = routes["/linked"];
  try {
    const host = new URL(other.url).host;
    const escapes = [
      `<${other.url}/page>`,
      `<//${host}/page>`,
      "</linked?page=2>", // the same origin, outside /v1/
      "<../linked?page=2>",
      "</v1/../linked?page=2>",
    ];
    for (const link of escapes) {
      seen.length = 0;
      const path = `linked?page=1&link=${encodeURIComponent(`${link}; rel="next"`)}`;
      const [items, error] = await collectUntilError(confined.paginate(path));
      assert.equal(items.length, 1, link);
      assert.ok(error instanceof requests.InvalidURLError, `${link}: ${error}`);
      assert.equal(seen.length, 1, link);
    }
    assert.equal(otherSeen.length, 0);
    // Under the base, every form of link is followed, as a path joined to it.
    for (
      const link of [
        `<${api.url}/v1/linked?page=2>`,
        "<linked?page=2>",
        "</v1/linked?page=2>",
        "<./linked:x?page=2>",
      ]
    ) {
      seen.length = 0;
      const path = `linked?page=1&link=${encodeURIComponent(`${link}; rel="next"`)}`;
      const pages = await collect(confined.paginate(path));
      assert.equal(pages.length, 2, link);
      assert.match(seen[1].headers.get("authorization") ?? "", /^Basic /);
    }
  } finally {
    delete routes["/v1/linked"];
    delete routes["/v1/linked:x"];
  }
});

test("what items() and next() throw ends the walk unchanged, never retried", async () => {
  const broken = new Error("my items broke");
  const [, itemsError] = await collectUntilError(requests.paginate(`${api.url}/items`, {
    retries: 3,
    pagination: {
      items: () => {
        throw broken;
      },
    },
  }));
  assert.equal(itemsError, broken);
  assert.equal(seen.length, 1);
  const rejected = new RangeError("my next broke");
  const [items, nextError] = await collectUntilError(requests.paginate(`${api.url}/items`, {
    pagination: { next: () => Promise.reject(rejected) },
  }));
  assert.deepEqual(items, ["p1a", "p1b"]);
  assert.equal(nextError, rejected);
  assert.equal(seen.length, 2);
});

test("misused options are TypeErrors naming them, before anything is sent", async () => {
  const bad: [unknown, RegExp][] = [
    ["options", /Invalid 'options'/],
    [{ pagination: "all" }, /Invalid 'pagination'/],
    [{ pagination: { pages: 2 } }, /Unknown option 'pagination\.pages'/],
    [{ pagination: { max_pages: -1 } }, /Invalid 'pagination\.max_pages'/],
    [{ pagination: { max_items: 1.5 } }, /Invalid 'pagination\.max_items'/],
    [{ pagination: { delay: -1 } }, /Invalid 'pagination\.delay'/],
    [{ pagination: { delay: "1" } }, /Invalid 'pagination\.delay'/],
    [{ pagination: { items: [] } }, /Invalid 'pagination\.items'/],
    [{ pagination: { next: "link" } }, /Invalid 'pagination\.next'/],
    [{ pagination: { schema: {} } }, /Invalid 'pagination\.schema'/],
    [{ stream: true }, /Invalid 'stream'/],
    [{ method: 5 }, /Invalid 'method'/],
    [{ method: "BAD METHOD" }, /Invalid 'method'/],
    [{ timeout: -1 }, /Invalid 'timeout'/],
  ];
  for (const [options, message] of bad) {
    await assert.rejects(
      collect(requests.paginate(`${api.url}/items`, options as requests.PaginateOptions)),
      (error) => {
        assert.ok(error instanceof TypeError, String(error));
        assert.match(error.message, message);
        return true;
      },
    );
  }
  await assert.rejects(
    collect(requests.paginate(`${api.url}/cursor`, { pagination: { next: () => 42 as never } })),
    /Invalid result of 'pagination\.next'/,
  );
  assert.deepEqual(lines(), ["GET /cursor"]);
});

test("pagination.schema validates each item with Zod, transforms applied; a failure names item and page", async () => {
  const Item = z.string().regex(/^p\da$/).transform((text: string) => text.toUpperCase());
  const walk = requests.paginate(`${api.url}/items`, { pagination: { schema: Item } });
  const [items, error] = await collectUntilError(walk);
  assert.deepEqual(items, ["P1A"]);
  assert.ok(error instanceof requests.SchemaValidationError, String(error));
  assert.match(
    error.message,
    /^Item 2 of page 1 does not match the schema: .* \(200 OK\): GET http:/,
  );
  assert.equal(seen.length, 1);
});

test("pagination.schema with Valibot types the items, and an async schema is awaited", async () => {
  const Item = v.pipeAsync(
    v.string(),
    v.checkAsync(async (text) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return text.startsWith("p");
    }, "not an item"),
    v.transform((text) => ({ id: text, length: text.length })),
  );
  const items: { id: string; length: number }[] = [];
  for await (
    const item of requests.paginate(`${api.url}/items`, { pagination: { schema: Item } })
  ) {
    items.push(item);
  }
  assert.deepEqual(items.map((item) => item.id), ["p1a", "p1b", "p2a", "p2b", "p3a", "p3b"]);
  assert.equal(items[0].length, 3);
});

test("delay waits between pages, and the signal ends the wait", async () => {
  const started = performance.now();
  await collect(requests.paginate(`${api.url}/items?pages=2`, { pagination: { delay: 0.15 } }));
  assert.ok(performance.now() - started >= 140, "the second page came too soon");
  const controller = new AbortController();
  const walk = requests.paginate(`${api.url}/items`, {
    signal: controller.signal,
    pagination: { delay: 30 },
  });
  await walk.next();
  await walk.next();
  setTimeout(() => controller.abort(new Error("stop")), 20);
  const waited = performance.now();
  await assert.rejects(walk.next(), /stop/);
  assert.ok(performance.now() - waited < 5000);
  assert.equal(seen.length, 3);
});

test("with a cache, a second walk revalidates each page by its ETag and yields the same items", async () => {
  await using session = new requests.Session({ cache: true });
  const first = await collect(session.paginate(`${api.url}/tagged`));
  assert.deepEqual(first, ["t1a", "t1b", "t2a", "t2b", "t3a", "t3b"]);
  assert.deepEqual(taggedSeen.splice(0), ["", "", ""]);
  const second = await collect(session.paginate(`${api.url}/tagged`));
  assert.deepEqual(second, first);
  assert.deepEqual(taggedSeen.splice(0), ['"page-1"', '"page-2"', '"page-3"']);
});
