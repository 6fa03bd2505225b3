// Validated JSON: r.json(schema) and r.iter_json(schema) with real Standard Schema libraries
// (Zod 4 and Valibot 1, dev-only packages in tests/deps, installed by `npm ci --prefix
// tests/deps`), transforms, defaults and async schemas included.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
// Imported by path: no package.json governs the repository root. Deno reads Valibot's types
// from its single declaration file; Zod's declarations import `.js` paths that Deno resolves to
// the JavaScript, so Zod is untyped under `deno check` and the type tests use Valibot.
// @ts-types="./deps/node_modules/zod/index.d.ts"
import * as z from "./deps/node_modules/zod/index.js";
// @ts-types="./deps/node_modules/valibot/dist/index.d.mts"
import * as v from "./deps/node_modules/valibot/dist/index.mjs";
import * as requests from "../mod.ts";
import * as sync from "../sync.ts";
import { serve, type TestServer } from "./_server.ts";

const USER = { id: 7, name: "Ada", tags: ["x"], items: [{ id: 1 }, { id: "two" }] };
const LINES = '{"id":1,"name":"a"}\n\n{"id":2}\n{"id":"three","name":"c"}\n';

let server: TestServer;
before(async () => {
  server = await serve((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/lines") {
      return new Response(LINES, { headers: { "content-type": "application/x-ndjson" } });
    }
    if (path === "/missing") return Response.json({ error: "nope" }, { status: 404 });
    return Response.json(USER);
  });
});
after(() => server.close());

const zodUser = z.object({
  id: z.number().transform((id: number) => `user-${id}`),
  name: z.string(),
  role: z.string().default("guest"),
});
const valibotUser = v.object({
  id: v.pipe(v.number(), v.transform((id) => `user-${id}`)),
  name: v.string(),
  role: v.optional(v.string(), "guest"),
});

/** The error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail("nothing was thrown");
}

test("json(schema) returns the schema's output: Zod transforms and defaults applied", async () => {
  const r = await requests.get(`${server.url}/user`);
  assert.deepEqual(r.json(zodUser), { id: "user-7", name: "Ada", role: "guest" });
  // Without a schema: the parsed body, as before.
  assert.deepEqual(r.json(), USER);
});

test("json(schema) with Valibot: transforms, defaults, and the output type", async () => {
  const r = await requests.get(`${server.url}/user`);
  const user: { id: string; name: string; role: string } = r.json(valibotUser);
  assert.deepEqual(user, { id: "user-7", name: "Ada", role: "guest" });
  const names: string[] = r.json(
    v.pipe(v.object({ name: v.string() }), v.transform((u) => [u.name])),
  );
  assert.deepEqual(names, ["Ada"]);
});

test("a value that does not validate is a SchemaValidationError naming status, URL, path, message", async () => {
  const url = `${server.url}/user`;
  const r = await requests.get(url);
  const items = z.object({ items: z.array(z.object({ id: z.number() })) });
  const error = thrown(() => r.json(items)) as requests.SchemaValidationError;
  assert.ok(error instanceof requests.SchemaValidationError);
  assert.ok(error instanceof requests.RequestError);
  assert.equal(error.name, "SchemaValidationError");
  assert.equal(error.response, r);
  assert.deepEqual(error.request, { method: "GET", url });
  assert.deepEqual(error.issues.map((issue) => issue.path), [["items", 1, "id"]]);
  assert.equal(
    error.message,
    `Response body does not match the schema at items[1].id: ${error.issues[0].message} ` +
      `(200 OK): GET ${url}`,
  );
  assert.match(error.issues[0].message, /expected number/i);
  // Valibot's path segments are objects with a key.
  const valibot = thrown(() =>
    r.json(v.object({ items: v.array(v.object({ id: v.number() })) }))
  ) as requests.SchemaValidationError;
  assert.match(
    valibot.message,
    /^Response body does not match the schema at items\[1\]\.id: Invalid type/,
  );
  assert.equal(valibot.issues.length, 1);
});

test("the message counts the other issues and quotes at most 200 characters of the first", async () => {
  const r = await requests.get(`${server.url}/user`);
  const long = "x".repeat(1000);
  const schema = z.object({ id: z.string({ error: long }), name: z.number(), tags: z.number() });
  const error = thrown(() => r.json(schema)) as requests.SchemaValidationError;
  assert.equal(error.issues.length, 3);
  assert.ok(error.message.includes(` at id: ${"x".repeat(190)}`));
  assert.ok(!error.message.includes("x".repeat(201)));
  assert.match(error.message, /\.\.\. \(and 2 more issues\) \(200 OK\): GET /);
  // Keys that are not identifiers, a root issue, a symbol.
  const custom = (path: requests.StandardSchemaIssue["path"]) => ({
    "~standard": {
      version: 1 as const,
      vendor: "test",
      validate: () => ({ issues: [{ message: "bad", path }] }),
    },
  });
  const message = (path: requests.StandardSchemaIssue["path"]) =>
    (thrown(() => r.json(custom(path))) as Error).message.replace(/ \(200 OK\).*/, "");
  assert.equal(
    message(["a b", 0, { key: "c" }, { key: 2 }]),
    'Response body does not match the schema at ["a b"][0].c[2]: bad',
  );
  assert.equal(message([]), "Response body does not match the schema: bad");
  assert.equal(message(undefined), "Response body does not match the schema: bad");
  assert.equal(
    message([Symbol("s")]),
    "Response body does not match the schema at [Symbol(s)]: bad",
  );
});

test("json(schema) of a response built by hand names no URL", () => {
  const r = new requests.Response(201, "", null, '{"id": "x"}');
  const error = thrown(() => r.json(z.object({ id: z.number() }))) as Error;
  assert.match(
    error.message,
    /^Response body does not match the schema at id: .* \(201 Created\)$/,
  );
});

test("json(schema) still throws JSONDecodeError for a body that is not JSON", () => {
  const r = new requests.Response(200, "", null, "<html>");
  assert.throws(() => r.json(zodUser), requests.JSONDecodeError);
});

test("json() refuses something that is not a Standard Schema with a TypeError naming it", async () => {
  const r = await requests.get(`${server.url}/user`);
  for (const schema of [{}, "schema", 42, { "~standard": { version: 2, validate() {} } }, z]) {
    assert.throws(() => r.json(schema as never), /Invalid 'schema': expected a Standard Schema/);
  }
});

test("json(schema) with an async schema is a TypeError, and its promise is never left unhandled", async () => {
  const unhandled: unknown[] = [];
  const listen = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", listen);
  try {
    const r = await requests.get(`${server.url}/user`);
    const slow = z.object({ id: z.number() }).refine(() => Promise.resolve(true));
    assert.throws(
      () => r.json(slow),
      /Cannot validate in 'json\(\)': the schema validates asynchronously/,
    );
    // A schema whose promise rejects: the rejection is handled. (Not a Zod one: Zod's validate
    // first tries synchronously, and leaves that try's rejected refinement unhandled itself.)
    const handWritten: requests.StandardSchemaV1 = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: () => Promise.reject(new Error("late")),
      },
    };
    assert.throws(() => r.json(handWritten), TypeError);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", listen);
  }
});

test("iter_json(schema) validates each line, Zod and Valibot alike, and names the failing line", async () => {
  const record = z.object({ id: z.number(), name: z.string().default("?") });
  const r = await requests.get(`${server.url}/lines`, { stream: true });
  const seen: unknown[] = [];
  const error = await (async () => {
    for await (const value of r.iter_json(record)) seen.push(value);
  })().catch((e) => e);
  assert.deepEqual(seen, [{ id: 1, name: "a" }, { id: 2, name: "?" }]);
  assert.ok(error instanceof requests.SchemaValidationError);
  assert.match(error.message, /^Response body line 4 does not match the schema at id: /);
  assert.match(error.message, /\(200 OK\): GET http:\/\/127\.0\.0\.1:\d+\/lines$/);

  const buffered = await requests.get(`${server.url}/lines`);
  const ids: string[] = [];
  const valibot = v.object({ id: v.pipe(v.union([v.number(), v.string()]), v.transform(String)) });
  for await (const { id } of buffered.iter_json(valibot)) ids.push(id);
  assert.deepEqual(ids, ["1", "2", "three"]);
});

test("iter_json(schema) awaits an async schema", async () => {
  const r = await requests.get(`${server.url}/lines`);
  const schema = z.object({ id: z.union([z.number(), z.string()]) }).refine(
    async (value: { id: unknown }) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return typeof value.id === "number";
    },
    { message: "id must be a number" },
  );
  const seen: unknown[] = [];
  const error = await (async () => {
    for await (const value of r.iter_json(schema)) seen.push(value);
  })().catch((e) => e);
  assert.deepEqual(seen, [{ id: 1 }, { id: 2 }]);
  assert.ok(error instanceof requests.SchemaValidationError, String(error));
  assert.match(
    error.message,
    /^Response body line 4 does not match the schema: id must be a number/,
  );
});

test("iter_json() refuses a schema that is not one, at the first step", async () => {
  const r = await requests.get(`${server.url}/lines`);
  await assert.rejects(r.iter_json({} as never).next(), /Invalid 'schema'/);
});

test("SchemaValidationError is part of the sync API's family too", () => {
  assert.equal(sync.SchemaValidationError, requests.SchemaValidationError);
});
