// The rules of RFC 9111 (and RFC 5861, RFC 9211) as the cache applies them, section by section,
// each a table of cases over stored entries, requests and a clock.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Entry, type Field, storedFields, updatedFields, withDate } from "../src/cache/_entry.ts";
import { type Found, plan, requestDirectives, selects } from "../src/cache/_engine.ts";
import { formatHttpDate, normalizeSelecting, parseCacheControl } from "../src/cache/_parse.ts";
import {
  currentAge,
  forwardStatus,
  freshnessLifetime,
  headMatches,
  hitStatus,
  invalidated,
  isStorable,
  isUnsafe,
  isUseful,
  judge,
  notModified,
  notModifiedFields,
  type Policy,
  revalidatedStatus,
  validates,
  validators,
} from "../src/cache/_policy.ts";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const PRIVATE: Policy = { shared: false, heuristic: true };
const SHARED: Policy = { shared: true, heuristic: true };

/** A date `s` seconds after T0, as an HTTP-date. */
function at(s: number): string {
  return formatHttpDate(T0 + s * 1000);
}

type HeaderSpec = Record<string, string> | readonly Field[];

function fields(spec: HeaderSpec): Field[] {
  return Array.isArray(spec)
    ? spec.map(([n, v]) => [n.toLowerCase(), v] as Field)
    : Object.entries(spec).map(([n, v]) => [n.toLowerCase(), v] as Field);
}

/** A header reader over a spec. */
function reader(spec: HeaderSpec = {}): Headers {
  return new Headers(fields(spec));
}

interface EntryOptions {
  status?: number;
  requestTime?: number;
  responseTime?: number;
  vary?: [string, string | null][];
  invalid?: boolean;
}

/** An entry received at T0 (Date T0 unless given), as the cache stores it. */
function entry(spec: HeaderSpec, options: EntryOptions = {}): Entry {
  const responseTime = options.responseTime ?? T0;
  return new Entry({
    status: options.status ?? 200,
    reason: "OK",
    headers: withDate(fields(spec), responseTime),
    requestTime: options.requestTime ?? responseTime,
    responseTime,
    vary: options.vary ?? [],
    decoded: true,
    invalid: options.invalid,
    body: new Uint8Array(0),
  });
}

// ---------------------------------------------------------------------------------------------
// §3 Storing Responses in Caches

interface StoreCase {
  name: string;
  status?: number;
  response: HeaderSpec;
  request?: HeaderSpec;
  method?: string;
  policy?: Policy;
  storable: boolean;
}

const STORABLE: readonly StoreCase[] = [
  { name: "max-age", response: { "cache-control": "max-age=60" }, storable: true },
  { name: "Expires", response: { expires: at(60) }, storable: true },
  {
    name: "an invalid Expires still makes it cacheable",
    response: { expires: "0" },
    storable: true,
  },
  { name: "public", status: 599, response: { "cache-control": "public" }, storable: true },
  { name: "private in a private cache", response: { "cache-control": "private" }, storable: true },
  { name: "a heuristically cacheable status", response: {}, storable: true },
  { name: "a 404", status: 404, response: {}, storable: true },
  { name: "a 201 without freshness", status: 201, response: {}, storable: false },
  { name: "a 302 without freshness", status: 302, response: {}, storable: false },
  {
    name: "a 302 with max-age",
    status: 302,
    response: { "cache-control": "max-age=5" },
    storable: true,
  },
  { name: "a 599 without freshness", status: 599, response: {}, storable: false },
  { name: "no-store", response: { "cache-control": "no-store" }, storable: false },
  { name: "NO-STORE", response: { "cache-control": "max-age=9, No-StOrE" }, storable: false },
  {
    name: "the request's no-store",
    request: { "cache-control": "no-store" },
    response: { "cache-control": "max-age=9" },
    storable: false,
  },
  {
    name: "must-understand with a known status",
    response: { "cache-control": "max-age=3600, no-store, must-understand" },
    storable: true,
  },
  {
    name: "must-understand with an unknown status",
    status: 599,
    response: { "cache-control": "max-age=3600, no-store, must-understand" },
    storable: false,
  },
  { name: "a 206", status: 206, response: { "cache-control": "max-age=60" }, storable: false },
  { name: "a 304", status: 304, response: { "cache-control": "max-age=60" }, storable: false },
  {
    name: "a 401 challenge",
    status: 401,
    response: { "cache-control": "max-age=60" },
    storable: false,
  },
  {
    name: "a 407 challenge",
    status: 407,
    response: { "cache-control": "max-age=60" },
    storable: false,
  },
  { name: "Vary: *", response: { "cache-control": "max-age=60", vary: "*" }, storable: false },
  {
    name: "Vary: Foo, *",
    response: { "cache-control": "max-age=60", vary: "Foo, *" },
    storable: false,
  },
  {
    name: "a HEAD response",
    method: "HEAD",
    response: { "cache-control": "max-age=60" },
    storable: false,
  },
  {
    name: "a POST response",
    method: "POST",
    response: { "cache-control": "max-age=60" },
    storable: false,
  },
  // §3.5 and §5.2.2.7 in a shared cache.
  {
    name: "private, shared",
    policy: SHARED,
    response: { "cache-control": "private, max-age=60" },
    storable: false,
  },
  {
    name: "Authorization, shared",
    policy: SHARED,
    request: { authorization: "Basic eDp5" },
    response: { "cache-control": "max-age=60" },
    storable: false,
  },
  {
    name: "Authorization and public, shared",
    policy: SHARED,
    request: { authorization: "Basic eDp5" },
    response: { "cache-control": "public" },
    storable: true,
  },
  {
    name: "Authorization and must-revalidate, shared",
    policy: SHARED,
    request: { authorization: "Basic eDp5" },
    response: { "cache-control": "max-age=60, must-revalidate" },
    storable: true,
  },
  {
    name: "Authorization and s-maxage, shared",
    policy: SHARED,
    request: { authorization: "Basic eDp5" },
    response: { "cache-control": "s-maxage=60" },
    storable: true,
  },
  {
    name: "Authorization, private cache",
    request: { authorization: "Basic eDp5" },
    response: { "cache-control": "max-age=60" },
    storable: true,
  },
  {
    name: "s-maxage alone, private cache, 599",
    status: 599,
    response: { "cache-control": "s-maxage=60" },
    storable: false,
  },
  {
    name: "s-maxage alone, shared, 599",
    status: 599,
    policy: SHARED,
    response: { "cache-control": "s-maxage=60" },
    storable: true,
  },
];

test("§3: a response is stored only as RFC 9111 §3 and §3.5 allow", () => {
  for (const c of STORABLE) {
    const request = reader(c.request);
    const response = reader(c.response);
    const storable = isStorable(
      {
        method: c.method ?? "GET",
        cc: requestDirectives(request),
        authorization: request.has("authorization"),
      },
      c.status ?? 200,
      parseCacheControl(response.get("cache-control")),
      response,
      c.policy ?? PRIVATE,
    );
    assert.equal(storable, c.storable, c.name);
  }
});

test("§3: a stored response is worth keeping only when it can be fresh, validated or served stale", () => {
  const cases: readonly (readonly [string, HeaderSpec, boolean])[] = [
    ["fresh", { "cache-control": "max-age=60" }, true],
    ["an ETag", { etag: '"v1"' }, true],
    ["a Last-Modified", { "last-modified": at(-10) }, true],
    ["stale-if-error", { "cache-control": "max-age=0, stale-if-error=60" }, true],
    ["stale-while-revalidate", { "cache-control": "max-age=0, stale-while-revalidate=60" }, true],
    ["nothing", {}, false],
    ["max-age=0 only", { "cache-control": "max-age=0" }, false],
  ];
  for (const [name, spec, useful] of cases) {
    assert.equal(isUseful(entry(spec), PRIVATE), useful, name);
  }
});

// §3.1 Storing Header and Trailer Fields, and SPEC C "What is stored".
test("§3.1: the connection's own fields, the ones Connection names, and Set-Cookie are not stored", () => {
  const received: Field[] = [
    ["Connection", "a, B"],
    ["a", "1"],
    ["b", "2"],
    ["c", "3"],
    ["keep-alive", "timeout=5"],
    ["proxy-connection", "keep-alive"],
    ["te", "trailers"],
    ["transfer-encoding", "chunked"],
    ["upgrade", "h2c"],
    ["proxy-authenticate", "Basic"],
    ["proxy-authentication-info", "x"],
    ["proxy-authorization", "Basic eDp5"],
    ["set-cookie", "id=1"],
    ["set-cookie2", "id=1"],
    ["content-encoding", "gzip"],
    ["content-length", "10"],
  ];
  const stored = storedFields(received, parseCacheControl(null), false);
  assert.deepEqual(stored.map(([name]) => name), [
    "c",
    "set-cookie2",
    "content-encoding",
    "content-length",
  ]);
});

test("§5.2.2.4/§5.2.2.7: the fields a qualified no-cache (or, shared, private) names are not stored", () => {
  const received: Field[] = [["a", "1"], ["b", "2"], ["c", "3"], ["x-user", "me"]];
  const noCache = parseCacheControl('no-cache="a, B", private="x-user"');
  assert.deepEqual(storedFields(received, noCache, false).map(([n]) => n), ["c", "x-user"]);
  assert.deepEqual(storedFields(received, noCache, true).map(([n]) => n), ["c"]);
});

test("SPEC C: a Date is added to a response that had none, and kept when it had one", () => {
  assert.deepEqual(withDate([["a", "1"]], T0), [["a", "1"], ["date", at(0)]]);
  // An HTTP-date has whole seconds: the arrival is rounded up, so it adds no age of its own.
  assert.deepEqual(withDate([], T0 + 200), [["date", at(1)]]);
  const dated: Field[] = [["date", at(-50)]];
  assert.deepEqual(withDate(dated, T0), dated);
});

// §3.2 Updating Stored Header Fields.
test("§3.2: a newer response replaces each field it has, but not the framing and coding fields", () => {
  const stored: Field[] = [
    ["content-length", "10"],
    ["content-encoding", "gzip"],
    ["content-range", "bytes 0-9/10"],
    ["cache-control", "max-age=2"],
    ["x-a", "1"],
    ["x-b", "old1"],
    ["x-b", "old2"],
    ["age", "30"],
    ["date", at(-100)],
  ];
  const received: Field[] = [
    ["Content-Length", "0"],
    ["Content-Encoding", "br"],
    ["Content-Range", "bytes 0-0/1"],
    ["Transfer-Encoding", "chunked"],
    ["Cache-Control", "max-age=60"],
    ["X-B", "new"],
    ["Set-Cookie", "id=2"],
    ["Connection", "close"],
  ];
  const updated = updatedFields(stored, received, T0, false);
  const get = (name: string) => updated.filter(([n]) => n === name).map(([, v]) => v);
  assert.deepEqual(get("content-length"), ["10"]);
  assert.deepEqual(get("content-encoding"), ["gzip"]);
  assert.deepEqual(get("content-range"), ["bytes 0-9/10"]);
  assert.deepEqual(get("transfer-encoding"), []);
  assert.deepEqual(get("cache-control"), ["max-age=60"]);
  assert.deepEqual(get("x-a"), ["1"]);
  assert.deepEqual(get("x-b"), ["new"]);
  assert.deepEqual(get("set-cookie"), []);
  assert.deepEqual(get("connection"), []);
  // The newer response's Date (here: none, so its arrival) and Age (none) replace the stored.
  assert.deepEqual(get("date"), [at(0)]);
  assert.deepEqual(get("age"), []);
});

// ---------------------------------------------------------------------------------------------
// §4.1 Calculating Cache Keys with the Vary Header Field

test("§4.1: a stored response is selected only when every Vary field matches the request", () => {
  const vary = (names: string[], request: HeaderSpec) =>
    names.map((n) => [n, normalizeSelecting(n, reader(request).get(n))] as [string, string | null]);
  const cases: readonly (readonly [string, string[], HeaderSpec, HeaderSpec, boolean])[] = [
    ["same value", ["foo"], { foo: "1" }, { foo: "1" }, true],
    ["another value", ["foo"], { foo: "1" }, { foo: "2" }, false],
    ["the stored request lacked it", ["foo"], {}, { foo: "1" }, false],
    ["the new request lacks it", ["foo"], { foo: "1" }, {}, false],
    ["both lack it", ["foo", "bar"], { foo: "1" }, { foo: "1", other: "x" }, true],
    ["two fields match", ["bar", "foo"], { foo: "1", bar: "abc" }, { bar: "abc", foo: "1" }, true],
    ["one of three differs", ["bar", "baz", "foo"], { foo: "1", bar: "abc", baz: "789" }, {
      foo: "1",
      baz: "789",
      bar: "abcde",
    }, false],
    ["whitespace in a list", ["foo"], { foo: "1,2" }, { foo: " 1, 2 " }, true],
    ["lines combined", ["foo"], [["foo", "1, 2"]], [["foo", "1"], ["foo", "2"]], true],
    ["language case", ["accept-language"], { "accept-language": "en, de" }, {
      "accept-language": "eN, De",
    }, true],
    [
      "other fields do not count",
      ["foo"],
      { foo: "1", other: "2" },
      { foo: "1", other: "3" },
      true,
    ],
  ];
  for (const [name, names, stored, request, expected] of cases) {
    const e = entry({ "cache-control": "max-age=60" }, { vary: vary(names, stored) });
    assert.equal(selects(e, { headers: reader(request), secrets: [] }), expected, name);
  }
});

// ---------------------------------------------------------------------------------------------
// §4.2.1 Calculating Freshness Lifetime, §4.2.2 Heuristic Freshness

test("§4.2.1: the freshness lifetime comes from s-maxage (shared), max-age, then Expires - Date", () => {
  const cases: readonly (readonly [string, HeaderSpec, Policy, number])[] = [
    ["max-age", { "cache-control": "max-age=60" }, PRIVATE, 60],
    ["max-age beats Expires", { "cache-control": "max-age=60", expires: at(-7200) }, PRIVATE, 60],
    [
      "max-age=0 beats a future Expires",
      { "cache-control": "max-age=0", expires: at(3600) },
      PRIVATE,
      0,
    ],
    [
      "s-maxage ignored by a private cache",
      { "cache-control": "s-maxage=3600, max-age=1" },
      PRIVATE,
      1,
    ],
    [
      "s-maxage first in a shared cache",
      { "cache-control": "max-age=3600, s-maxage=1" },
      SHARED,
      1,
    ],
    [
      "longer s-maxage in a shared cache",
      { "cache-control": "max-age=1, s-maxage=3600" },
      SHARED,
      3600,
    ],
    ["Expires - Date", { expires: at(90), date: at(0) }, PRIVATE, 90],
    ["Expires before Date", { expires: at(-10), date: at(0) }, PRIVATE, 0],
    ["an invalid Expires is in the past", { expires: "0" }, PRIVATE, 0],
    ["two Expires lines are invalid", [["expires", at(60)], ["expires", at(61)]], PRIVATE, 0],
    [
      "max-age with an invalid Expires",
      { "cache-control": "max-age=60", expires: "0" },
      PRIVATE,
      60,
    ],
    [
      "Expires with an invalid Date uses the arrival",
      { expires: at(30), date: "yesterday" },
      PRIVATE,
      30,
    ],
    ["2^31 at most", { "cache-control": "max-age=99999999999" }, PRIVATE, 2147483648],
    ["nothing", {}, { shared: false, heuristic: false }, 0],
    ["invalidated by a HEAD", { "cache-control": "max-age=60" }, PRIVATE, -1],
  ];
  for (const [name, spec, policy, expected] of cases) {
    const e = expected === -1 ? entry(spec, { invalid: true }) : entry(spec);
    assert.equal(freshnessLifetime(e, policy), Math.max(expected, 0), name);
  }
});

test("§4.2.2: heuristic freshness is 10% of Date - Last-Modified, at most 7 days, for the statuses allowed", () => {
  const modified = (s: number) => ({ "last-modified": at(-s) });
  const cases: readonly (readonly [string, number, HeaderSpec, Policy, number])[] = [
    ["200", 200, modified(1000), PRIVATE, 100],
    ["404", 404, modified(1000), PRIVATE, 100],
    ["capped at 7 days", 200, modified(1e8), PRIVATE, 7 * 24 * 3600],
    ["Last-Modified after Date", 200, { "last-modified": at(60) }, PRIVATE, 0],
    ["201", 201, modified(1000), PRIVATE, 0],
    ["403", 403, modified(1000), PRIVATE, 0],
    ["502", 502, modified(1000), PRIVATE, 0],
    ["599", 599, modified(1000), PRIVATE, 0],
    ["599 with public", 599, { ...modified(1000), "cache-control": "public" }, PRIVATE, 100],
    ["heuristic: false", 200, modified(1000), { shared: false, heuristic: false }, 0],
    ["explicit Expires wins", 200, { ...modified(1000), expires: at(5) }, PRIVATE, 5],
  ];
  for (const [name, status, spec, policy, expected] of cases) {
    assert.equal(freshnessLifetime(entry(spec, { status }), policy), expected, name);
  }
});

// §4.2.3 Calculating Age
test("§4.2.3: the current age counts Age, the response delay, the apparent age and the time resident", () => {
  const cases: readonly (readonly [string, HeaderSpec, EntryOptions, number, number])[] = [
    ["just received", {}, {}, 0, 0],
    ["resident 10 s", {}, {}, 10, 10],
    ["Age: 30", { age: "30" }, {}, 0, 30],
    ["Age plus the response delay", { age: "30" }, { requestTime: T0 - 2000 }, 5, 37],
    ["apparent age from an old Date", { date: at(-100) }, {}, 0, 100],
    ["a Date in the future counts nothing", { date: at(100) }, {}, 1, 1],
    ["a malformed Age is ignored", { age: "-7200" }, {}, 0, 0],
    ["a huge Age", { age: "99999999999" }, {}, 0, 2147483648],
    ["the first Age counts", { age: "7200, 0" }, {}, 0, 7200],
  ];
  for (const [name, spec, options, resident, expected] of cases) {
    assert.equal(currentAge(entry(spec, options), T0 + resident * 1000), expected, name);
  }
});

// ---------------------------------------------------------------------------------------------
// §4.2.4 Serving Stale Responses, §5.2.1 request and §5.2.2 response directives, RFC 5861

interface JudgeCase {
  name: string;
  response: HeaderSpec;
  request?: string;
  after: number;
  policy?: Policy;
  verdict: "fresh" | "stale" | "background" | "validate";
  byRequest?: boolean;
  ifError?: boolean;
}

const JUDGE: readonly JudgeCase[] = [
  { name: "fresh", response: { "cache-control": "max-age=60" }, after: 10, verdict: "fresh" },
  { name: "stale", response: { "cache-control": "max-age=60" }, after: 61, verdict: "validate" },
  {
    name: "exactly at its lifetime",
    response: { "cache-control": "max-age=60" },
    after: 60,
    verdict: "validate",
  },
  { name: "max-age=0", response: { "cache-control": "max-age=0" }, after: 0, verdict: "validate" },
  {
    name: "Age beyond max-age",
    response: { "cache-control": "max-age=3600", age: "7200" },
    after: 0,
    verdict: "validate",
  },
  {
    name: "Age 2^31 - 1",
    response: { "cache-control": "max-age=3600", age: "2147483647" },
    after: 0,
    verdict: "validate",
  },
  { name: "past Expires", response: { expires: at(-5000) }, after: 0, verdict: "validate" },
  {
    name: "Expires with Age beyond",
    response: { expires: at(30), age: "60" },
    after: 0,
    verdict: "validate",
  },
  {
    name: "no-cache even when fresh",
    response: { "cache-control": "max-age=10000, no-cache" },
    after: 0,
    verdict: "validate",
  },
  {
    name: "qualified no-cache does not force validation",
    response: { "cache-control": 'max-age=100, no-cache="x-a"' },
    after: 0,
    verdict: "fresh",
  },
  {
    name: "must-revalidate while fresh",
    response: { "cache-control": "max-age=100, must-revalidate" },
    after: 10,
    verdict: "fresh",
  },
  // §5.2.1 request directives.
  {
    name: "request no-cache",
    response: { "cache-control": "max-age=100" },
    request: "no-cache",
    after: 0,
    verdict: "validate",
    byRequest: true,
  },
  {
    name: "request max-age=0",
    response: { "cache-control": "max-age=100" },
    request: "max-age=0",
    after: 1,
    verdict: "validate",
    byRequest: true,
  },
  {
    name: "request max-age above the age",
    response: { "cache-control": "max-age=100" },
    request: "max-age=50",
    after: 10,
    verdict: "fresh",
  },
  {
    name: "request max-age below an Age",
    response: { "cache-control": "max-age=3600", age: "1800" },
    request: "max-age=600",
    after: 0,
    verdict: "validate",
    byRequest: true,
  },
  {
    name: "request min-fresh not met",
    response: { "cache-control": "max-age=100" },
    request: "min-fresh=95",
    after: 10,
    verdict: "validate",
    byRequest: true,
  },
  {
    name: "request min-fresh met",
    response: { "cache-control": "max-age=100" },
    request: "min-fresh=50",
    after: 10,
    verdict: "fresh",
  },
  {
    name: "request max-stale with a value",
    response: { "cache-control": "max-age=10" },
    request: "max-stale=30",
    after: 30,
    verdict: "stale",
  },
  {
    name: "request max-stale exceeded",
    response: { "cache-control": "max-age=10" },
    request: "max-stale=5",
    after: 30,
    verdict: "validate",
  },
  {
    name: "request max-stale without a value",
    response: { "cache-control": "max-age=10" },
    request: "max-stale",
    after: 1e6,
    verdict: "stale",
  },
  {
    name: "Pragma-less request no-cache wins over max-stale",
    response: { "cache-control": "max-age=10" },
    request: "max-stale, no-cache",
    after: 20,
    verdict: "validate",
  },
  // §5.2.2 response directives that forbid serving stale.
  {
    name: "must-revalidate forbids max-stale",
    response: { "cache-control": "max-age=10, must-revalidate" },
    request: "max-stale",
    after: 20,
    verdict: "validate",
  },
  {
    name: "no-cache forbids max-stale",
    response: { "cache-control": "max-age=10, no-cache" },
    request: "max-stale",
    after: 20,
    verdict: "validate",
  },
  {
    name: "proxy-revalidate, private cache",
    response: { "cache-control": "max-age=10, proxy-revalidate" },
    request: "max-stale",
    after: 20,
    verdict: "stale",
  },
  {
    name: "proxy-revalidate, shared cache",
    response: { "cache-control": "max-age=10, proxy-revalidate" },
    request: "max-stale",
    after: 20,
    policy: SHARED,
    verdict: "validate",
  },
  {
    name: "s-maxage, shared cache",
    response: { "cache-control": "s-maxage=10" },
    request: "max-stale",
    after: 20,
    policy: SHARED,
    verdict: "validate",
  },
  // RFC 5861 stale-while-revalidate.
  {
    name: "within stale-while-revalidate",
    response: { "cache-control": "max-age=1, stale-while-revalidate=4" },
    after: 3,
    verdict: "background",
  },
  {
    name: "after stale-while-revalidate",
    response: { "cache-control": "max-age=1, stale-while-revalidate=4" },
    after: 6,
    verdict: "validate",
  },
  {
    name: "stale-while-revalidate with must-revalidate",
    response: { "cache-control": "max-age=1, stale-while-revalidate=60, must-revalidate" },
    after: 3,
    verdict: "validate",
  },
  // RFC 5861 stale-if-error, from the response or the request.
  {
    name: "within the response's stale-if-error",
    response: { "cache-control": "max-age=2, stale-if-error=60" },
    after: 3,
    verdict: "validate",
    ifError: true,
  },
  {
    name: "after the response's stale-if-error",
    response: { "cache-control": "max-age=2, stale-if-error=60" },
    after: 70,
    verdict: "validate",
    ifError: false,
  },
  {
    name: "within the request's stale-if-error",
    response: { "cache-control": "max-age=2" },
    request: "stale-if-error=60",
    after: 3,
    verdict: "validate",
    ifError: true,
  },
  {
    name: "stale-if-error with must-revalidate",
    response: { "cache-control": "max-age=2, stale-if-error=60, must-revalidate" },
    after: 3,
    verdict: "validate",
    ifError: false,
  },
  {
    name: "stale-if-error with no-cache",
    response: { "cache-control": "max-age=2, stale-if-error=60, no-cache" },
    after: 3,
    verdict: "validate",
    ifError: false,
  },
  {
    name: "stale-if-error, shared, proxy-revalidate",
    response: { "cache-control": "max-age=2, stale-if-error=60, proxy-revalidate" },
    after: 3,
    policy: SHARED,
    verdict: "validate",
    ifError: false,
  },
  {
    name: "no stale-if-error for a fresh one the request refused",
    response: { "cache-control": "max-age=100, stale-if-error=60" },
    request: "no-cache",
    after: 3,
    verdict: "validate",
    ifError: false,
    byRequest: true,
  },
];

test("§4.2.4/§5.2/RFC 5861: a stored response is served fresh, served stale, or validated", () => {
  for (const c of JUDGE) {
    const e = entry(c.response);
    const j = judge(
      e,
      parseCacheControl(c.request ?? null),
      T0 + c.after * 1000,
      c.policy ?? PRIVATE,
    );
    assert.equal(j.verdict, c.verdict, c.name);
    if (c.byRequest !== undefined) assert.equal(j.byRequest, c.byRequest, `${c.name}: byRequest`);
    if (c.ifError !== undefined) assert.equal(j.ifError, c.ifError, `${c.name}: ifError`);
  }
});

test("§5.4: a request's Pragma: no-cache counts only without Cache-Control", () => {
  assert.equal(requestDirectives(reader({ pragma: "no-cache" })).noCache, true);
  assert.equal(requestDirectives(reader({ pragma: "foo" })).noCache, false);
  assert.equal(
    requestDirectives(reader({ pragma: "no-cache", "cache-control": "max-stale" })).noCache,
    false,
  );
});

// ---------------------------------------------------------------------------------------------
// §4.3 Validation

test("§4.3.1: a stored response is validated with its ETag and its Last-Modified", () => {
  assert.deepEqual(validators(entry({ etag: '"v1"', "last-modified": at(-60) })), [
    ["if-none-match", '"v1"'],
    ["if-modified-since", at(-60)],
  ]);
  assert.deepEqual(validators(entry({ etag: 'W/"v1"' })), [["if-none-match", 'W/"v1"']]);
  assert.deepEqual(validators(entry({ "last-modified": "garbage" })), []);
  assert.deepEqual(validators(entry({ etag: "unquoted" })), []);
  assert.deepEqual(validators(entry({})), []);
});

test("§4.3.2: a fresh stored response answers the request's own conditional with 304", () => {
  const stored = entry({
    etag: '"abcdef"',
    "last-modified": at(-5000),
    "cache-control": "max-age=100",
  });
  const cases: readonly (readonly [string, HeaderSpec, boolean])[] = [
    ["matching If-None-Match", { "if-none-match": '"abcdef"' }, true],
    ["weak comparison", { "if-none-match": 'W/"abcdef"' }, true],
    ["one of several", { "if-none-match": '"1234", "abcdef", "5678"' }, true],
    ["*", { "if-none-match": "*" }, true],
    ["not matching", { "if-none-match": '"other"' }, false],
    ["If-None-Match wins over If-Modified-Since", {
      "if-none-match": '"abcdef"',
      "if-modified-since": at(-10000),
    }, true],
    [
      "If-None-Match that fails wins too",
      { "if-none-match": '"x"', "if-modified-since": at(0) },
      false,
    ],
    ["If-Modified-Since at Last-Modified", { "if-modified-since": at(-5000) }, true],
    ["If-Modified-Since later", { "if-modified-since": at(-10) }, true],
    ["If-Modified-Since earlier", { "if-modified-since": at(-10000) }, false],
    ["an invalid If-Modified-Since", { "if-modified-since": "yesterday" }, false],
    ["no conditional", {}, false],
  ];
  for (const [name, request, expected] of cases) {
    assert.equal(notModified(stored, reader(request)), expected, name);
  }
  // Without Last-Modified, the stored Date stands for it.
  const noLm = entry({ "cache-control": "max-age=100", date: at(-100) });
  assert.equal(notModified(noLm, reader({ "if-modified-since": at(-50) })), true);
  assert.equal(notModified(noLm, reader({ "if-modified-since": at(-150) })), false);
  // Only a 2xx response is a representation a 304 can stand for.
  const missing = entry({ etag: '"abcdef"' }, { status: 404 });
  assert.equal(notModified(missing, reader({ "if-none-match": '"abcdef"' })), false);
  // A 304 from the cache carries the fields RFC 9110 §15.4.5 lists.
  const kept = notModifiedFields(
    fields({ etag: '"x"', "content-type": "text/plain", vary: "a", expires: at(1) }),
  );
  assert.deepEqual(kept.map(([n]) => n), ["etag", "vary", "expires"]);
});

test("§4.3.4: a 304 validates the stored response when its entity-tag, if any, is the stored one", () => {
  const stored = entry({ etag: '"v1"' });
  assert.equal(validates(stored, reader({ etag: '"v1"' })), true);
  assert.equal(validates(stored, reader({ etag: 'W/"v1"' })), true);
  assert.equal(validates(stored, reader({ etag: '"v2"' })), false);
  assert.equal(validates(stored, reader({})), true);
  assert.equal(validates(entry({}), reader({ etag: '"v1"' })), false);
});

test("§4.3.5: a 200 to HEAD updates stored responses its validators match, else makes them stale", () => {
  const stored = entry({ etag: '"v1"', "last-modified": at(-60), "content-length": "10" });
  const cases: readonly (readonly [string, HeaderSpec, boolean])[] = [
    ["same ETag", { etag: '"v1"' }, true],
    ["same ETag and Last-Modified", { etag: '"v1"', "last-modified": at(-60) }, true],
    ["another ETag", { etag: '"v2"' }, false],
    ["another Last-Modified", { etag: '"v1"', "last-modified": at(-30) }, false],
    ["same validators, another Content-Length", { etag: '"v1"', "content-length": "11" }, false],
    ["same validators and Content-Length", { etag: '"v1"', "content-length": "10" }, true],
    ["no validator", { "content-length": "10" }, false],
  ];
  for (const [name, head, expected] of cases) {
    assert.equal(headMatches(stored, reader(head)), expected, name);
  }
});

// ---------------------------------------------------------------------------------------------
// §4.4 Invalidating Stored Responses

test("§4.4: a non-error response to an unsafe method invalidates the target and same-origin locations", () => {
  const target = "http://a.test/items/1";
  const cases: readonly (readonly [string, string, number, HeaderSpec, string[]])[] = [
    ["POST 200", "POST", 200, {}, [target]],
    ["PUT 204", "PUT", 204, {}, [target]],
    ["DELETE 301", "DELETE", 301, {}, [target]],
    ["M-SEARCH", "M-SEARCH", 200, {}, [target]],
    ["POST 500", "POST", 500, {}, []],
    ["POST 404", "POST", 404, {}, []],
    ["GET", "GET", 200, {}, []],
    ["OPTIONS", "OPTIONS", 200, {}, []],
    [
      "Location and Content-Location, relative",
      "POST",
      201,
      { location: "/items/2#x", "content-location": "3" },
      [target, "http://a.test/items/2", "http://a.test/items/3"],
    ],
    ["another origin's Location", "POST", 201, { location: "http://b.test/items/2" }, [target]],
    ["a Location that is no URL", "POST", 201, { location: "http://[" }, [target]],
  ];
  for (const [name, method, status, headers, expected] of cases) {
    assert.deepEqual(invalidated(method, target, status, reader(headers)), expected, name);
  }
  assert.equal(isUnsafe("GET"), false);
  assert.equal(isUnsafe("TRACE"), false);
  assert.equal(isUnsafe("PATCH"), true);
});

// ---------------------------------------------------------------------------------------------
// §4 Constructing Responses from Caches: the plan for one request

test("§4: the plan serves, forwards with validators, or answers only-if-cached with 504", () => {
  const now = T0 + 10_000;
  const fresh = entry({ "cache-control": "max-age=60", etag: '"v1"' });
  const stale = entry({ "cache-control": "max-age=5", etag: '"v1"' });
  const none: Found = { matches: [], any: false };
  const cc = (text: string | null) => parseCacheControl(text);

  assert.deepEqual(plan(none, cc(null), reader(), now, PRIVATE), {
    kind: "forward",
    fwd: "uri-miss",
    entry: null,
    conditional: [],
    judgement: null,
  });
  const varyMiss = plan({ matches: [], any: true }, cc(null), reader(), now, PRIVATE);
  assert.equal(varyMiss.kind === "forward" && varyMiss.fwd, "vary-miss");
  assert.equal(plan(none, cc("only-if-cached"), reader(), now, PRIVATE).kind, "gateway-timeout");

  const hit = plan({ matches: [fresh], any: true }, cc(null), reader(), now, PRIVATE);
  assert.equal(hit.kind, "serve");
  assert.equal(hit.kind === "serve" && hit.notModified, false);
  const conditional = plan(
    { matches: [fresh], any: true },
    cc(null),
    reader({ "if-none-match": '"v1"' }),
    now,
    PRIVATE,
  );
  assert.equal(conditional.kind === "serve" && conditional.notModified, true);

  const validate = plan({ matches: [stale], any: true }, cc(null), reader(), now, PRIVATE);
  assert.equal(validate.kind, "forward");
  if (validate.kind === "forward") {
    assert.equal(validate.fwd, "stale");
    assert.equal(validate.entry, stale);
    assert.deepEqual(validate.conditional, [["if-none-match", '"v1"']]);
  }
  // The request's own validators go as they are.
  const own = plan(
    { matches: [stale], any: true },
    cc(null),
    reader({ "if-none-match": '"v0"' }),
    now,
    PRIVATE,
  );
  assert.deepEqual(own.kind === "forward" && own.conditional, []);
  const forced = plan({ matches: [fresh], any: true }, cc("no-cache"), reader(), now, PRIVATE);
  assert.equal(forced.kind === "forward" && forced.fwd, "request");
  assert.equal(
    plan({ matches: [stale], any: true }, cc("only-if-cached"), reader(), now, PRIVATE).kind,
    "gateway-timeout",
  );
  const stored = plan({ matches: [fresh], any: true }, cc("no-store"), reader(), now, PRIVATE);
  assert.deepEqual(stored.kind === "forward" && [stored.fwd, stored.entry], ["request", null]);
  // only-if-cached takes a response within stale-while-revalidate, with no revalidation.
  const swr = entry({ "cache-control": "max-age=5, stale-while-revalidate=60" });
  const quiet = plan({ matches: [swr], any: true }, cc("only-if-cached"), reader(), now, PRIVATE);
  assert.deepEqual(quiet.kind === "serve" && [quiet.judgement.verdict, quiet.background], [
    "background",
    false,
  ]);
  const loud = plan({ matches: [swr], any: true }, cc(null), reader(), now, PRIVATE);
  assert.equal(loud.kind === "serve" && loud.background, true);
});

// RFC 9211 Cache-Status, as SPEC C lists the values.
test("RFC 9211: the Cache-Status values", () => {
  assert.equal(hitStatus(58.7), "requests; hit; ttl=58");
  assert.equal(hitStatus(0.2), "requests; hit; ttl=0");
  assert.equal(hitStatus(-3.2), "requests; hit; ttl=-4");
  assert.equal(revalidatedStatus("stale", 60), "requests; fwd=stale; fwd-status=304; ttl=60");
  assert.equal(
    forwardStatus("uri-miss", 200, true),
    "requests; fwd=uri-miss; fwd-status=200; stored",
  );
  assert.equal(forwardStatus("vary-miss", 404), "requests; fwd=vary-miss; fwd-status=404");
  assert.equal(forwardStatus("bypass"), "requests; fwd=bypass");
  assert.equal(forwardStatus("method"), "requests; fwd=method");
});
