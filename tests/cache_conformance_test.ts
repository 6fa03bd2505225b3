// The HTTP cache against a real origin, section by section of RFC 9111 (and RFC 5861, RFC
// 9211): a table of request sequences in the shape of the http-tests/cache-tests suite (ids
// from there where a case comes from there), run as a private and, where it matters, a
// shared cache, over the memory and the SQLite store.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Case, Origin, runCase, type Step, type StepField } from "./_cache_fixture.ts";
import { driver } from "./_cache_driver.ts";
import { HttpCache, type HttpCacheOptions } from "../src/cache/http_cache.ts";
import { SqliteCacheStore } from "../src/cache/sqlite_store.ts";

const cc = (value: string): StepField => ["Cache-Control", value];
const SHARED: HttpCacheOptions = { shared: true };

/** `template` with `extra`, whose fields replace the template's of the same name. */
function merged(template: readonly StepField[], extra: readonly StepField[]): StepField[] {
  const names = new Set(extra.map(([name]) => name.toLowerCase()));
  return [...template.filter(([name]) => !names.has(name.toLowerCase())), ...extra];
}

/** A response fresh for a long time. */
function fresh(extra: readonly StepField[] = [], step: Step = {}): Step {
  return { response: merged([cc("max-age=100000"), ["Date", 0]], extra), ...step };
}

/** A response fresh for 2 seconds: stale after the next step's 3-second pause. */
function becomeStale(extra: readonly StepField[] = [], step: Step = {}): Step {
  return { response: merged([cc("max-age=2"), ["Date", 0], ["Template-A", "1"]], extra), ...step };
}

/** A response stale from the start, with a validator. */
function stale(extra: readonly StepField[] = [], step: Step = {}): Step {
  const template: StepField[] = [["Expires", -5000], ["Last-Modified", -100000], ["Date", 0]];
  return { response: merged(template, extra), ...step };
}

const later = (step: Step): Step => ({ pause: 3, ...step });
const cached: Step = later({ expect: "cached" });
const notCached: Step = later({ expect: "not_cached" });

/** A case of a response and a second request that reuses it (or not). */
function reuse(
  id: string,
  response: readonly StepField[],
  reused: boolean,
  extra: Partial<Case> = {},
): Case {
  return { id, steps: [{ response }, reused ? cached : notCached], ...extra };
}

// §4.2.1 freshness lifetime, §5.2.2.1 max-age, §5.2.2.10 s-maxage (cache-tests cc-freshness)
const FRESHNESS: Case[] = [
  reuse("freshness-none", [], false),
  reuse("freshness-max-age", [cc("max-age=3600")], true),
  { id: "freshness-max-age-stale", steps: [becomeStale(), notCached] },
  reuse("freshness-max-age-0", [cc("max-age=0")], false),
  reuse("freshness-max-age-max-minus-1", [cc("max-age=2147483647")], true),
  reuse("freshness-max-age-max", [cc("max-age=2147483648")], true),
  reuse("freshness-max-age-max-plus-1", [cc("max-age=2147483649")], true),
  reuse("freshness-max-age-max-plus", [cc("max-age=99999999999")], true),
  reuse("freshness-max-age-age", [["Date", 0], cc("max-age=3600"), ["Age", "7200"]], false),
  reuse("freshness-max-age-date", [["Date", -7200], cc("max-age=3600")], false),
  reuse("freshness-max-age-expires", [cc("max-age=3600"), ["Expires", -7200], ["Date", 0]], true),
  reuse(
    "freshness-max-age-expires-invalid",
    [cc("max-age=3600"), ["Expires", "0"], ["Date", 0]],
    true,
  ),
  reuse("freshness-max-age-0-expires", [["Expires", 3600], cc("max-age=0"), ["Date", 0]], false),
  reuse("freshness-max-age-extension", [cc("foobar, max-age=3600")], true),
  reuse("freshness-max-age-case-insenstive", [cc("MaX-aGe=3600")], true),
  reuse("freshness-max-age-negative", [cc("max-age=-3600")], false),
  reuse("freshness-max-age-s-maxage-private", [cc("s-maxage=3600, max-age=1")], false),
  reuse(
    "freshness-max-age-s-maxage-private-multiple",
    [cc("s-maxage=3600"), cc("max-age=1")],
    false,
  ),
  reuse("freshness-s-maxage-shared", [cc("s-maxage=3600")], true, { options: SHARED }),
  reuse("freshness-max-age-s-maxage-shared-longer", [cc("max-age=3600, s-maxage=1")], false, {
    options: SHARED,
  }),
  reuse(
    "freshness-max-age-s-maxage-shared-longer-reversed",
    [cc("s-maxage=1, max-age=3600")],
    false,
    { options: SHARED },
  ),
  reuse(
    "freshness-max-age-s-maxage-shared-longer-multiple",
    [cc("max-age=3600"), cc("s-maxage=1")],
    false,
    { options: SHARED },
  ),
  reuse("freshness-max-age-s-maxage-shared-shorter", [cc("max-age=1, s-maxage=3600")], true, {
    options: SHARED,
  }),
  reuse(
    "freshness-max-age-s-maxage-shared-shorter-expires",
    [["Expires", -10], cc("max-age=0, s-maxage=3600")],
    true,
    { options: SHARED },
  ),
];

// §5.2 Cache-Control parsing (cache-tests cc-parse)
const PARSING: Case[] = [
  reuse("freshness-max-age-two-fresh-stale-sameline", [cc("max-age=1800, max-age=1")], true),
  reuse("freshness-max-age-two-fresh-stale-sepline", [cc("max-age=1800"), cc("max-age=1")], true),
  reuse("freshness-max-age-quoted", [cc('max-age="3600"')], true),
  reuse("freshness-max-age-ignore-quoted", [cc('extension="max-age=3600", max-age=1')], false),
  reuse("freshness-max-age-ignore-quoted-rev", [cc('max-age=1, extension="max-age=3600"')], false),
  reuse("freshness-max-age-space-before-equals", [cc("max-age =3600")], false),
  reuse("freshness-max-age-space-after-equals", [cc("max-age= 3600")], false),
  reuse("freshness-max-age-leading-zero", [cc("max-age=003600")], true),
  reuse("freshness-max-age-single-quoted", [cc("max-age='3600'")], false),
  reuse("freshness-max-age-decimal-five", [cc("max-age=3600.5")], false),
  reuse("freshness-max-age-100a", [cc("max-age=3600a")], false),
];

// §5.1 Age (cache-tests age-parse)
const AGE: Case[] = [
  ["age-parse-nonnumeric", ["abc"], true],
  ["age-parse-negative", ["-7200"], true],
  ["age-parse-float", ["7200.0"], true],
  ["age-parse-large-minus-one", ["2147483647"], false],
  ["age-parse-large", ["2147483648"], false],
  ["age-parse-larger", ["2147483649"], false],
  ["age-parse-suffix", ["7200, 0"], false],
  ["age-parse-prefix", ["0, 7200"], true],
  ["age-parse-suffix-twoline", ["7200", "0"], false],
  ["age-parse-prefix-twoline", ["0", "7200"], true],
  ["age-parse-dup-0", ["0, 0"], true],
  ["age-parse-dup-0-twoline", ["0", "0"], true],
].map(([id, ages, reused]) =>
  reuse(
    id as string,
    [["Date", 0], cc("max-age=3600"), ...(ages as string[]).map((a): StepField => ["Age", a])],
    reused as boolean,
  )
);

// §5.3 Expires (cache-tests expires, expires-parse)
const EXPIRES: Case[] = [
  reuse("freshness-expires-future", [["Expires", 3600], ["Date", 0]], true),
  reuse("freshness-expires-past", [["Expires", -3600], ["Date", 0]], false),
  reuse("freshness-expires-present", [["Expires", 0], ["Date", 0]], false),
  reuse("freshness-expires-old-date", [["Expires", -1], ["Date", 1]], false),
  reuse("freshness-expires-invalid", [["Expires", "0"], ["Date", 0]], false),
  reuse("freshness-expires-invalid-date", [["Expires", 3600], ["Date", "foo"]], true),
  reuse("freshness-expires-age-slow-date", [["Expires", 10], ["Date", -10], ["Age", "25"]], false),
  reuse("freshness-expires-age-fast-date", [["Expires", 30], ["Date", 10], ["Age", "25"]], false),
  ...[
    ["freshness-expires-32bit", "Tue, 19 Jan 2038 14:14:08 GMT", true],
    ["freshness-expires-far-future", "Sun, 21 Nov 2286 04:46:39 GMT", true],
    ["freshness-expires-rfc850", "Thursday, 18-Aug-50 02:01:18 GMT", true],
    ["freshness-expires-ansi-c", "Thu Aug  8 02:01:18 2050", true],
    ["freshness-expires-wrong-case-weekday", "THU, 18 Aug 2050 02:01:18 GMT", true],
    ["freshness-expires-wrong-case-month", "Thu, 18 AUG 2050 02:01:18 GMT", true],
    ["freshness-expires-wrong-case-tz", "Thu, 18 Aug 2050 02:01:18 gMT", true],
    ["freshness-expires-invalid-utc", "Thu, 18 Aug 2050 02:01:18 UTC", false],
    ["freshness-expires-invalid-aest", "Thu, 18 Aug 2050 02:01:18 AEST", false],
    ["freshness-expires-invalid-2-digit-year", "Thu, 18 Aug 50 02:01:18 GMT", false],
    ["freshness-expires-invalid-no-comma", "Thu 18 Aug 2050 02:01:18 GMT", false],
    ["freshness-expires-invalid-multiple-spaces", "Thu, 18  Aug  2050 02:01:18 GMT", false],
    ["freshness-expires-invalid-date-dashes", "Thu, 18-Aug-2050 02:01:18 GMT", false],
    ["freshness-expires-invalid-time-periods", "Thu, 18 Aug 2050 02.01.18 GMT", false],
    ["freshness-expires-invalid-1-digit-hour", "Thu, 18 Aug 2050 2:01:18 GMT", false],
  ].map(([id, expires, reused]) =>
    reuse(id as string, [["Expires", expires as string], ["Date", 0]], reused as boolean)
  ),
  reuse("freshness-expires-invalid-multiple-lines", [
    ["Expires", "Thu, 18 Aug 2050 02:01:18 GMT"],
    ["Expires", "Thu, 18 Aug 2050 02:01:19 GMT"],
    ["Date", 0],
  ], false),
];

// §3, §5.2.2 response directives (cache-tests cc-response)
const RESPONSE_DIRECTIVES: Case[] = [
  reuse("cc-resp-private-shared", [cc("private, max-age=3600")], false, { options: SHARED }),
  reuse("cc-resp-private-private", [cc("private, max-age=3600")], true),
  reuse("cc-resp-no-store", [cc("no-store")], false),
  reuse("cc-resp-no-store-case-insensitive", [cc("No-StOrE")], false),
  reuse(
    "cc-resp-no-store-fresh",
    [cc("max-age=10000, no-store"), ["Expires", 10000], ["Date", 0]],
    false,
  ),
  reuse(
    "cc-resp-no-cache",
    [cc("max-age=10000, no-cache"), ["Expires", 10000], ["Date", 0]],
    false,
  ),
  reuse("cc-resp-no-cache-case-insensitive", [cc("max-age=10000, No-CaChE")], false),
  {
    id: "cc-resp-no-cache-revalidate",
    steps: [{ response: [cc("no-cache"), ["ETag", '"abcd"']] }, later({ expect: "validated" })],
  },
  {
    id: "cc-resp-no-cache-revalidate-fresh",
    steps: [
      {
        response: [cc("max-age=10000, no-cache"), ["Expires", 10000], ["Date", 0], [
          "ETag",
          '"abcd"',
        ]],
      },
      later({ expect: "validated" }),
    ],
  },
  reuse(
    "cc-resp-must-revalidate-fresh",
    [cc("max-age=10000, must-revalidate"), ["ETag", '"abcd"']],
    true,
  ),
  {
    id: "cc-resp-must-revalidate-stale",
    steps: [
      { response: [cc("max-age=2, must-revalidate"), ["ETag", '"abcd"']] },
      later({
        response: [cc("max-age=2, must-revalidate"), ["ETag", '"abcd"']],
        expect: "validated",
      }),
    ],
  },
  {
    id: "headers-omit-headers-listed-in-Cache-Control-no-cache",
    steps: [
      {
        response: [cc('no-cache="a, b"'), ["a", "1"], ["b", "2"], ["c", "3"], cc("max-age=3600"), [
          "Date",
          0,
        ]],
      },
      later({ expect: "cached", expectHeaders: [["c", "3"]], expectMissing: ["a", "b"] }),
    ],
  },
  {
    id: "cc-resp-no-store-old-new",
    steps: [
      { response: [cc("max-age=10000"), ["Expires", 10000], ["Date", 0], ["A", "1"]] },
      later({
        headers: [cc("no-cache")],
        response: [cc("no-store"), ["Date", 0], ["A", "2"]],
        expect: "not_cached",
      }),
      later({ expect: "cached", expectHeaders: [["a", "1"]] }),
    ],
  },
];

// RFC 9111 §4.2.4, RFC 5861 (cache-tests stale)
const STALE: Case[] = [
  {
    id: "stale-while-revalidate",
    steps: [
      { response: [cc("max-age=1, stale-while-revalidate=3600"), ["ETag", '"abc"']] },
      later({ expect: "cached", expectCacheStatus: /^requests; hit; ttl=-\d+$/ }),
    ],
  },
  {
    id: "stale-while-revalidate-window",
    steps: [
      { response: [cc("max-age=1, stale-while-revalidate=4"), ["ETag", '"abc"']] },
      // Served stale; the origin's answer to the background validation is stored.
      later({ response: [cc("no-cache"), ["ETag", '"def"']], expect: "cached" }),
      later({ expect: "not_cached" }),
    ],
  },
  {
    id: "stale-close",
    steps: [becomeStale(), later({ disconnect: true, expectError: true })],
  },
  {
    id: "stale-503",
    steps: [becomeStale(), later({ status: 503, expect: "not_cached", expectStatus: 503 })],
  },
  {
    id: "stale-sie-close",
    steps: [
      { response: [cc("max-age=2, stale-if-error=60")] },
      later({ disconnect: true, expect: "cached", expectStatus: 200, expectFromCache: true }),
    ],
  },
  {
    id: "stale-sie-503",
    steps: [
      { response: [cc("max-age=2, stale-if-error=60")] },
      later({
        status: 503,
        expect: "cached",
        expectStatus: 200,
        expectCacheStatus: /^requests; hit; ttl=-/,
      }),
    ],
  },
  {
    id: "stale-sie-500-request",
    steps: [
      { response: [cc("max-age=2")] },
      later({
        headers: [cc("stale-if-error=60")],
        status: 500,
        expect: "cached",
        expectStatus: 200,
      }),
    ],
  },
  {
    id: "stale-sie-404-passes",
    steps: [
      { response: [cc("max-age=2, stale-if-error=60")] },
      later({ status: 404, expect: "not_cached", expectStatus: 404 }),
    ],
  },
  {
    id: "stale-sie-window-closed",
    steps: [
      { response: [cc("max-age=2, stale-if-error=1")] },
      later({ status: 503, expect: "not_cached", expectStatus: 503 }),
    ],
  },
  ...["must-revalidate", "no-cache"].map((directive): Case => ({
    id: `stale-close-${directive}`,
    steps: [
      { response: [cc(`max-age=2, stale-if-error=60, ${directive}`)] },
      later({ disconnect: true, expectError: true }),
    ],
  })),
  {
    id: "stale-close-proxy-revalidate",
    options: SHARED,
    steps: [
      { response: [cc("max-age=2, stale-if-error=60, proxy-revalidate")] },
      later({ disconnect: true, expectError: true }),
    ],
  },
  {
    id: "stale-close-s-maxage=2",
    options: SHARED,
    steps: [
      { response: [cc("s-maxage=2, stale-if-error=60")] },
      later({ disconnect: true, expectError: true }),
    ],
  },
];

// §4.2.2 heuristic freshness (cache-tests heuristic)
const HEURISTIC: Case[] = [
  ...[
    [200, true],
    [201, false],
    [202, false],
    [203, true],
    [204, true],
    [403, false],
    [404, true],
    [405, true],
    [410, true],
    [414, true],
    [501, true],
    [502, false],
    [503, false],
    [504, false],
    [599, false],
  ].map(([status, reused]): Case => ({
    id: `heuristic-${status}-${reused ? "cached" : "not_cached"}`,
    steps: [
      { status: status as number, response: [["Last-Modified", -100000], ["Date", 0]] },
      later({ expect: reused ? "cached" : "not_cached", status: status as number }),
    ],
  })),
  {
    id: "heuristic-599-cached",
    steps: [
      { status: 599, response: [["Last-Modified", -100000], ["Date", 0], cc("public")] },
      later({ expect: "cached", status: 599 }),
    ],
  },
  {
    id: "heuristic-off",
    options: { heuristic: false },
    steps: [
      { response: [["Last-Modified", -100000], ["Date", 0]] },
      later({ expect: "validated" }),
    ],
  },
  ...[[5, false], [60, true]].map(([delta, reused]): Case => ({
    id: `heuristic-delta-${delta}`,
    steps: [
      { response: [["Last-Modified", -(delta as number)], ["Date", 0]] },
      later({ expect: reused ? "cached" : "validated" }),
    ],
  })),
];

// §3 statuses (cache-tests status)
const STATUSES: Case[] = [
  ...[200, 203, 204, 299, 301, 302, 303, 307, 308, 400, 404, 410, 499, 500, 502, 503, 504, 599]
    .flatMap((status): Case[] => [
      {
        id: `status-${status}-fresh`,
        steps: [fresh([], { status }), later({ status, expect: "cached" })],
      },
      {
        id: `status-${status}-stale`,
        steps: [stale([], { status }), later({ status, expect: "not_cached" })],
      },
    ]),
  reuse("status-599-must-understand", [cc("max-age=3600, no-store, must-understand")], false, {
    steps: [
      { status: 599, response: [cc("max-age=3600, no-store, must-understand")] },
      later({ status: 599, expect: "not_cached" }),
    ],
  }),
  reuse("status-200-must-understand", [cc("max-age=3600, no-store, must-understand")], true),
];

// §5.2.1 request directives and §5.4 Pragma (cache-tests cc-request, pragma)
const REQUEST_DIRECTIVES: Case[] = [
  {
    id: "ccreq-ma0",
    steps: [
      fresh(),
      later({
        headers: [cc("max-age=0")],
        expect: "not_cached",
        expectCacheStatus: "requests; fwd=request; fwd-status=200",
      }),
    ],
  },
  {
    id: "ccreq-ma1",
    steps: [fresh([["Age", "100"]]), later({ headers: [cc("max-age=1")], expect: "not_cached" })],
  },
  {
    id: "ccreq-ma-enough",
    steps: [fresh(), later({ headers: [cc("max-age=60")], expect: "cached" })],
  },
  {
    id: "ccreq-max-stale",
    steps: [becomeStale(), later({ headers: [cc("max-stale=1000")], expect: "cached" })],
  },
  {
    id: "ccreq-max-stale-age",
    steps: [
      { response: [cc("max-age=1500"), ["Age", "2000"]] },
      { headers: [cc("max-stale=1000")], expect: "cached" },
    ],
  },
  {
    id: "ccreq-max-stale-too-old",
    steps: [becomeStale(), later({ headers: [cc("max-stale=0")], expect: "not_cached" })],
  },
  {
    id: "ccreq-min-fresh",
    steps: [
      fresh([], { response: [cc("max-age=1500")] }),
      later({ headers: [cc("min-fresh=2000")], expect: "not_cached" }),
    ],
  },
  {
    id: "ccreq-min-fresh-age",
    steps: [
      fresh([], { response: [cc("max-age=1500"), ["Age", "1000"]] }),
      later({ headers: [cc("min-fresh=1000")], expect: "not_cached" }),
    ],
  },
  {
    id: "ccreq-no-cache",
    steps: [fresh(), later({ headers: [cc("no-cache")], expect: "not_cached" })],
  },
  {
    id: "ccreq-no-cache-etag",
    steps: [
      fresh([["ETag", '"abc"']]),
      later({
        headers: [cc("no-cache")],
        expect: "validated",
        expectCacheStatus: /^requests; fwd=request; fwd-status=304; ttl=\d+$/,
      }),
    ],
  },
  {
    id: "ccreq-no-cache-lm",
    steps: [
      fresh([["Last-Modified", -10000]]),
      later({ headers: [cc("no-cache")], expect: "validated" }),
    ],
  },
  {
    id: "ccreq-no-store",
    steps: [
      fresh(),
      later({ headers: [cc("no-store")], expect: "not_cached" }),
      later({ expect: "cached", expectHeaders: [["x-served", "0"]] }),
    ],
  },
  {
    id: "ccreq-oic",
    steps: [{
      headers: [cc("only-if-cached")],
      expectStatus: 504,
      expectFromCache: true,
      expectCacheStatus: null,
      expectBody: "",
    }],
  },
  {
    id: "ccreq-oic-fresh",
    steps: [fresh(), later({ headers: [cc("only-if-cached")], expect: "cached" })],
  },
  {
    id: "ccreq-oic-stale",
    steps: [becomeStale(), later({ headers: [cc("only-if-cached")], expectStatus: 504 })],
  },
  {
    id: "pragma-request-no-cache",
    steps: [fresh(), later({ headers: [["Pragma", "no-cache"]], expect: "not_cached" })],
  },
  {
    id: "pragma-request-extension",
    steps: [fresh(), later({ headers: [["Pragma", "unrecognised-extension"]], expect: "cached" })],
  },
  { id: "pragma-response-no-cache", steps: [fresh([["Pragma", "no-cache"]]), cached] },
];

// §4.1 Vary (cache-tests vary, vary-parse)
const varySetup = (vary = "Foo", request: StepField[] = [["Foo", "1"]]): Step => ({
  headers: request,
  response: [cc("max-age=5000"), ["Last-Modified", -3000], ["Date", 0], ["Vary", vary]],
});
const VARY: Case[] = [
  { id: "vary-match", steps: [varySetup(), later({ headers: [["Foo", "1"]], expect: "cached" })] },
  {
    id: "vary-no-match",
    steps: [varySetup(), later({ headers: [["Foo", "2"]], expect: "not_cached" })],
  },
  {
    id: "vary-omit-stored",
    steps: [varySetup("Foo", []), later({ headers: [["Foo", "1"]], expect: "not_cached" })],
  },
  { id: "vary-omit", steps: [varySetup(), later({ expect: "not_cached" })] },
  {
    id: "vary-invalidate",
    steps: [
      { ...varySetup(), responseBody: "foo_1" },
      later({
        headers: [["Foo", "2"]],
        response: varySetup().response,
        responseBody: "foo_2",
        expect: "not_cached",
      }),
      later({ headers: [["Foo", "1"]], expect: "cached", expectBody: "foo_1" }),
      later({ headers: [["Foo", "2"]], expect: "cached", expectBody: "foo_2" }),
    ],
  },
  {
    id: "vary-cache-key",
    steps: [
      varySetup("Foo", [["Foo", "1"], ["Other", "2"]]),
      later({ headers: [["Foo", "1"], ["Other", "3"]], expect: "cached" }),
    ],
  },
  {
    id: "vary-2-match",
    steps: [
      varySetup("Foo, Bar", [["Foo", "1"], ["Bar", "abc"]]),
      later({ headers: [["Foo", "1"], ["Bar", "abc"]], expect: "cached" }),
    ],
  },
  {
    id: "vary-2-no-match",
    steps: [
      varySetup("Foo, Bar", [["Foo", "1"], ["Bar", "abc"]]),
      later({ headers: [["Foo", "2"], ["Bar", "abc"]], expect: "not_cached" }),
    ],
  },
  {
    id: "vary-2-match-omit",
    steps: [varySetup("Foo, Bar", [["Foo", "1"], ["Bar", "abc"]]), later({ expect: "not_cached" })],
  },
  {
    id: "vary-3-order",
    steps: [
      varySetup("Foo, Bar, Baz", [["Foo", "1"], ["Bar", "abc"], ["Baz", "789"]]),
      later({ headers: [["Foo", "1"], ["Baz", "789"], ["Bar", "abcde"]], expect: "not_cached" }),
    ],
  },
  {
    id: "vary-3-omit",
    steps: [
      varySetup("Foo, Bar, Baz", [["Foo", "1"], ["Baz", "789"]]),
      later({ headers: [["Foo", "1"], ["Baz", "789"]], expect: "cached" }),
    ],
  },
  {
    id: "vary-normalise-combine",
    steps: [
      varySetup("Foo", [["Foo", "1, 2"]]),
      later({ headers: [["Foo", "1"], ["Foo", "2"]], expect: "cached" }),
    ],
  },
  {
    id: "vary-normalise-space",
    steps: [
      varySetup("Foo", [["Foo", "1,2"]]),
      later({ headers: [["Foo", " 1, 2 "]], expect: "cached" }),
    ],
  },
  {
    id: "vary-normalise-lang-case",
    steps: [
      varySetup("Accept-Language", [["Accept-Language", "en, de"]]),
      later({ headers: [["Accept-Language", "eN, De"]], expect: "cached" }),
    ],
  },
  {
    id: "vary-normalise-lang-space",
    steps: [
      varySetup("Accept-Language", [["Accept-Language", "en, de"]]),
      later({ headers: [["Accept-Language", " en ,   de"]], expect: "cached" }),
    ],
  },
  ...["*", "*, *", ", *", "*, Foo", "Foo, *"].map((vary, i): Case => ({
    id: `vary-syntax-${i}`,
    steps: [
      varySetup(vary, [["Foo", "1"]]),
      later({ headers: [["Foo", "1"]], expect: "not_cached" }),
    ],
  })),
  {
    id: "vary-syntax-star-star-lines",
    steps: [
      { headers: [["Foo", "1"]], response: [cc("max-age=5000"), ["Vary", "*"], ["Vary", "*"]] },
      later({ headers: [["Foo", "1"]], expect: "not_cached" }),
    ],
  },
  {
    id: "vary-miss-status",
    steps: [
      varySetup(),
      later({
        headers: [["Foo", "2"]],
        response: [cc("max-age=60"), ["Vary", "Foo"]],
        expectCacheStatus: "requests; fwd=vary-miss; fwd-status=200; stored",
      }),
    ],
  },
];

// §4.3 validation (cache-tests conditional-lm, conditional-etag)
const VALIDATION: Case[] = [
  {
    id: "conditional-lm-fresh",
    steps: [
      fresh([["Last-Modified", -3000]]),
      later({ headers: [["If-Modified-Since", -3000]], expect: "cached", expectStatus: 304 }),
    ],
  },
  {
    id: "conditional-lm-fresh-earlier",
    steps: [
      fresh([["Last-Modified", -3000]]),
      later({ headers: [["If-Modified-Since", -2000]], expect: "cached", expectStatus: 304 }),
    ],
  },
  {
    id: "conditional-lm-fresh-no-lm",
    steps: [
      fresh([["Date", -10000]]),
      later({ headers: [["If-Modified-Since", -3000]], expect: "cached", expectStatus: 304 }),
    ],
  },
  {
    id: "conditional-lm-stale",
    steps: [stale(), later({ response: [["Last-Modified", -100000]], expect: "validated" })],
  },
  {
    id: "conditional-lm-generate",
    steps: [
      becomeStale([["Last-Modified", -100]]),
      later({ expect: "validated", expectSent: [["if-modified-since", /GMT$/]] }),
    ],
  },
  {
    id: "conditional-etag-strong-respond",
    steps: [
      fresh([["ETag", '"abcdef"']]),
      later({ headers: [["If-None-Match", '"abcdef"']], expect: "cached", expectStatus: 304 }),
    ],
  },
  {
    id: "conditional-304-etag",
    steps: [
      fresh([["ETag", '"abcdef"']]),
      later({
        headers: [["If-None-Match", '"abcdef"']],
        expect: "cached",
        expectStatus: 304,
        expectHeaders: [["etag", '"abcdef"']],
      }),
    ],
  },
  {
    id: "conditional-etag-precedence",
    steps: [
      fresh([["Last-Modified", -5000], ["ETag", '"abcdef"']]),
      later({
        headers: [["If-None-Match", '"abcdef"'], ["If-Modified-Since", -10000]],
        expect: "cached",
        expectStatus: 304,
      }),
    ],
  },
  {
    id: "conditional-etag-weak-respond",
    steps: [
      fresh([["ETag", 'W/"abcdef"']]),
      later({ headers: [["If-None-Match", 'W/"abcdef"']], expect: "cached", expectStatus: 304 }),
    ],
  },
  ...['"abcdef", "1234", "5678"', '"1234", "abcdef", "5678"', '"1234", "5678", "abcdef"'].map((
    inm,
    i,
  ): Case => ({
    id: `conditional-etag-strong-respond-multiple-${i}`,
    steps: [
      fresh([["ETag", '"abcdef"']]),
      later({ headers: [["If-None-Match", inm]], expect: "cached", expectStatus: 304 }),
    ],
  })),
  {
    id: "conditional-etag-no-match",
    steps: [
      fresh([["ETag", '"abcdef"']]),
      later({ headers: [["If-None-Match", '"other"']], expect: "cached", expectStatus: 200 }),
    ],
  },
  {
    id: "conditional-etag-vary-headers",
    steps: [
      {
        headers: [["Abc", "123"]],
        response: [["Expires", 1], ["ETag", '"abcdef"'], ["Date", 0], ["Vary", "Abc"]],
      },
      later({ headers: [["Abc", "123"]], expect: "validated", expectSent: [["abc", "123"]] }),
    ],
  },
  {
    id: "conditional-etag-strong-generate",
    steps: [
      becomeStale([["ETag", '"abcdef"']]),
      later({ expect: "validated", expectSent: [["if-none-match", '"abcdef"']] }),
    ],
  },
  {
    // A validation carries the validators and nothing else the caller did not send: Node's
    // fetch adds `Pragma: no-cache` and `Cache-Control: no-cache` to a conditional request in
    // the default cache mode, which would make every cache on the way forward it too.
    id: "conditional-generate-adds-no-directives",
    steps: [
      becomeStale([["ETag", '"abcdef"'], ["Last-Modified", -100]]),
      later({
        expect: "validated",
        expectSent: [["if-none-match", '"abcdef"'], ["cache-control", null], ["pragma", null]],
      }),
    ],
  },
  {
    // cache-tests cc-resp-immutable-stale: the request's own max-age=0 reaches the server as it is.
    id: "cc-resp-immutable-stale",
    steps: [
      becomeStale([cc("max-age=2, immutable"), ["ETag", '"abcd"']]),
      later({
        headers: [cc("max-age=0")],
        expect: "validated",
        expectSent: [["cache-control", "max-age=0"], ["pragma", null]],
      }),
    ],
  },
  {
    id: "conditional-etag-weak-generate-weak",
    steps: [
      becomeStale([["ETag", 'W/"abcdef"']]),
      later({ expect: "validated", expectSent: [["if-none-match", 'W/"abcdef"']] }),
    ],
  },
  {
    id: "conditional-etag-forward",
    steps: [{
      headers: [["If-None-Match", '"abcdef"']],
      expectSent: [["if-none-match", '"abcdef"']],
    }],
  },
  {
    id: "revalidated-status",
    steps: [
      becomeStale([["ETag", '"v"']]),
      later({
        response: [cc("max-age=60"), ["ETag", '"v"']],
        expect: "validated",
        expectStatus: 200,
        expectFromCache: true,
        expectCacheStatus: /^requests; fwd=stale; fwd-status=304; ttl=(58|59|60)$/,
      }),
    ],
  },
  {
    id: "conditional-own-stale-passes-304",
    steps: [
      becomeStale([["ETag", '"v"']]),
      // The request's own validators go as they are; the 304 is the caller's, and freshens the
      // stored response too.
      later({
        headers: [["If-None-Match", '"v"']],
        response: [cc("max-age=3600"), ["ETag", '"v"']],
        expect: "validated",
        expectStatus: 304,
        expectFromCache: false,
        expectCacheStatus: "requests; fwd=stale; fwd-status=304",
      }),
      { expect: "cached", expectStatus: 200, expectHeaders: [["cache-control", "max-age=3600"]] },
    ],
  },
  {
    id: "revalidated-another-etag",
    steps: [
      becomeStale([["ETag", '"v1"']]),
      // A 304 for another representation than the stored one: asked again, unconditionally.
      later({
        response: [cc("max-age=60"), ["ETag", '"v2"']],
        expect: "not_cached",
        expectStatus: 200,
      }),
    ],
  },
];

// §3.1 and SPEC C "What is stored" (cache-tests headers)
const STORED_FIELDS: Case[] = [
  {
    id: "headers-omit-headers-listed-in-Connection",
    steps: [
      fresh([["Connection", "a, b"], ["a", "1"], ["b", "2"], ["c", "3"]]),
      later({ expect: "cached", expectHeaders: [["c", "3"]], expectMissing: ["a", "b"] }),
    ],
  },
  ...[
    "Test-Header",
    "X-Test-Header",
    "Content-Foo",
    "Content-Location",
    "Content-MD5",
    "Content-Security-Policy",
    "ETag",
    "Expires",
    "Public-Key-Pins",
    "Set-Cookie2",
    "X-Frame-Options",
    "X-XSS-Protection",
  ].map((name): Case => ({
    id: `headers-store-${name}`,
    steps: [
      fresh([[name, `${name}-store-value`]]),
      later({ expect: "cached", expectHeaders: [[name, `${name}-store-value`]] }),
    ],
  })),
  // A deliberate user-agent deviation (SPEC C): cookies act only from the network.
  {
    id: "headers-store-Set-Cookie",
    steps: [
      fresh([["Set-Cookie", "a=c"]]),
      later({ expect: "cached", expectMissing: ["set-cookie"] }),
    ],
  },
  ...[
    "Keep-Alive",
    "Proxy-Authenticate",
    "Proxy-Authentication-Info",
    "Proxy-Connection",
    "Upgrade",
  ].map((name): Case => ({
    id: `headers-store-${name}`,
    steps: [fresh([[name, "x"]]), later({ expect: "cached", expectMissing: [name] })],
  })),
  {
    id: "date-added",
    steps: [fresh([["Date", "-"]]), later({ expect: "cached", expectHeaders: [["date", /GMT$/]] })],
  },
];

// §3.2, §4.3.4 freshening upon a 304 (cache-tests update304)
const UPDATE_304: Case[] = [
  {
    id: "304-lm-use-stored-Test-Header",
    steps: [
      {
        response: [
          cc("max-age=2"),
          ["Last-Modified", "Wed, 01 Jan 2020 00:00:00 GMT"],
          ["Date", 0],
          ["Test-Header", "A"],
        ],
      },
      later({
        response: [["Last-Modified", "Wed, 01 Jan 2020 00:00:00 GMT"], ["Date", 0]],
        expect: "validated",
        expectHeaders: [["test-header", "A"]],
      }),
    ],
  },
  ...["Test-Header", "X-Test-Header", "Content-Foo", "X-Content-Foo", "Cache-Control"].map(
    (name): Case => {
      const response = (
        v: string,
      ): StepField[] => [
        ["Date", 0],
        [name, v],
        ...(name === "Cache-Control" ? [] : [cc("max-age=2")]),
        ["ETag", '"v"'],
      ];
      const a = name === "Cache-Control" ? "max-age=2" : "A";
      const b = name === "Cache-Control" ? "max-age=3600" : "B";
      return {
        id: `304-etag-update-response-${name}`,
        steps: [
          { response: response(a) },
          later({ response: response(b), expect: "validated", expectHeaders: [[name, b]] }),
          name === "Cache-Control"
            ? later({ expect: "cached", expectHeaders: [[name, b]] })
            : { expect: "cached", expectHeaders: [[name, b]] },
        ],
      };
    },
  ),
  {
    id: "304-etag-update-response-Content-Length",
    steps: [
      { response: [["Date", 0], cc("max-age=2"), ["ETag", '"v"']], responseBody: "0123456789" },
      later({
        response: [["Date", 0], cc("max-age=2"), ["ETag", '"v"'], ["Content-Length", "3"]],
        expect: "validated",
        expectHeaders: [["content-length", "10"]],
        expectBody: "0123456789",
      }),
    ],
  },
  {
    id: "304-set-cookie-not-stored",
    steps: [
      { response: [["Date", 0], cc("max-age=2"), ["ETag", '"v"']] },
      later({
        response: [["Date", 0], cc("max-age=60"), ["ETag", '"v"'], ["Set-Cookie", "a=1"]],
        expect: "validated",
        expectHeaders: [["set-cookie", "a=1"]],
      }),
      { expect: "cached", expectMissing: ["set-cookie"] },
    ],
  },
];

// §4.3.5 HEAD (cache-tests updateHead)
const HEAD: Case[] = [
  {
    id: "head-from-get",
    steps: [fresh(), later({ method: "HEAD", expect: "cached", expectBody: "" })],
  },
  {
    id: "head-not-stored",
    steps: [fresh([], { method: "HEAD" }), later({ expect: "not_cached" })],
  },
  {
    id: "head-writethrough",
    steps: [becomeStale(), later({ method: "HEAD", expect: "not_cached", expectMethod: "HEAD" })],
  },
  {
    id: "head-200-update",
    steps: [
      becomeStale([["ETag", '"v"']]),
      later({
        method: "HEAD",
        response: [["Template-A", "2"], cc("max-age=1000"), ["ETag", '"v"']],
      }),
      { expect: "cached", expectHeaders: [["template-a", "2"]] },
    ],
  },
  {
    id: "head-200-retain",
    steps: [
      becomeStale([["ETag", '"v"']]),
      later({ method: "HEAD", response: [cc("max-age=1000"), ["ETag", '"v"']] }),
      { expect: "cached", expectHeaders: [["template-a", "1"]] },
    ],
  },
  {
    id: "head-200-mismatch-stale",
    steps: [
      fresh([["ETag", '"v1"']]),
      {
        method: "HEAD",
        headers: [cc("no-cache")],
        response: [cc("max-age=1000"), ["ETag", '"v2"']],
      },
      { expect: "not_cached" },
    ],
  },
  {
    id: "head-410-no-update",
    steps: [
      becomeStale([["ETag", '"v"']]),
      later({
        method: "HEAD",
        status: 410,
        response: [["Template-A", "2"], cc("max-age=1000"), ["ETag", '"v"']],
      }),
      { expect: "not_cached" },
    ],
  },
];

// §4.4 invalidation (cache-tests invalidation)
const INVALIDATION: Case[] = ["POST", "PUT", "DELETE", "M-SEARCH", "PATCH"].flatMap((
  method,
): Case[] => [
  {
    id: `invalidate-${method}`,
    steps: [fresh(), { method, body: "abc", expectCacheStatus: "requests; fwd=method" }, {
      expect: "not_cached",
    }],
  },
  {
    id: `invalidate-${method}-failed`,
    steps: [fresh(), { method, body: "abc", status: 500 }, { expect: "cached" }],
  },
]);

// §4.4: Location and Content-Location of the same origin
const INVALIDATION_LOCATIONS: Case[] = [
  ...[["Location", true], ["Content-Location", true]].map(([name, relative]): Case => ({
    id: `invalidate-POST-${String(name).toLowerCase()}`,
    steps: [
      fresh([], { path: "/target" }),
      {
        method: "POST",
        body: "abc",
        status: 201,
        response: [[name as string, relative ? "/{case}/target" : ""]],
      },
      { path: "/target", expect: "not_cached" },
    ],
  })),
  {
    id: "invalidate-POST-location-other-origin",
    steps: [
      fresh([], { path: "/target" }),
      {
        method: "POST",
        body: "abc",
        status: 201,
        response: [["Location", "http://localhost:1/{case}/target"]],
      },
      { path: "/target", expect: "cached" },
    ],
  },
];

// §3.5 Authorization in a shared cache (cache-tests auth)
const AUTHORIZATION: Case[] = [
  ...[["", false], ["public", true], ["must-revalidate", true], ["s-maxage=3600", true]].map((
    [extra, reused],
  ): Case => ({
    id: `other-authorization${extra ? `-${String(extra).split("=")[0]}` : ""}`,
    options: SHARED,
    steps: [
      {
        headers: [["Authorization", "FOO"]],
        response: [cc(`max-age=3600${extra ? `, ${extra}` : ""}`)],
      },
      later({ headers: [["Authorization", "FOO"]], expect: reused ? "cached" : "not_cached" }),
    ],
  })),
  // SPEC C: a private cache keys by identity; one identity never gets another's response.
  {
    id: "identity-not-crossed",
    steps: [
      {
        headers: [["Authorization", "Bearer alice"]],
        response: [cc("max-age=3600")],
        responseBody: "alice",
      },
      {
        headers: [["Authorization", "Bearer bob"]],
        expect: "not_cached",
        responseBody: "bob",
        expectBody: "bob",
      },
      { headers: [["Authorization", "Bearer alice"]], expect: "cached", expectBody: "alice" },
      { headers: [["Cookie", "sid=alice"]], expect: "not_cached" },
    ],
  },
];

// §4 constructing responses: Age, Date, keys (cache-tests other)
const OTHER: Case[] = [
  {
    id: "other-age-gen",
    steps: [fresh(), later({ expect: "cached", expectHeaders: [["age", /^[3-9]$/]] })],
  },
  {
    id: "other-age-update-expires",
    steps: [
      { response: [["Expires", 30 * 24 * 60 * 60], ["Date", 0], ["Age", "30"]] },
      later({ expect: "cached", expectHeaders: [["age", /^3[3-9]$/]] }),
    ],
  },
  {
    id: "other-age-update-max-age",
    steps: [
      fresh([["Age", "30"]]),
      later({ expect: "cached", expectHeaders: [["age", /^3[3-9]$/]] }),
    ],
  },
  {
    id: "other-date-update",
    steps: [fresh(), later({ expect: "cached", expectHeaders: [["date", /GMT$/]] })],
  },
  { id: "query-args-different", steps: [fresh(), later({ expect: "cached" })] },
  { id: "other-set-cookie", steps: [fresh([["Set-Cookie", "a=b"]]), cached] },
  {
    id: "other-cookie",
    steps: [fresh(), later({ headers: [["Cookie", "a=b"]], expect: "not_cached" })],
  },
  {
    id: "hit-status",
    steps: [
      fresh([], { response: [cc("max-age=60"), ["Date", 0]] }),
      later({
        expect: "cached",
        expectFromCache: true,
        expectCacheStatus: /^requests; hit; ttl=5[67]$/,
      }),
    ],
  },
  {
    id: "miss-status",
    steps: [{
      response: [cc("max-age=60")],
      expectFromCache: false,
      expectCacheStatus: "requests; fwd=uri-miss; fwd-status=200; stored",
    }],
  },
  {
    id: "not-stored-status",
    steps: [{
      response: [cc("no-store")],
      expectCacheStatus: "requests; fwd=uri-miss; fwd-status=200",
    }],
  },
];

// Range requests pass through; a 206 is never stored (SPEC C)
const PARTIAL: Case[] = [
  {
    id: "partial-passes-through",
    steps: [
      fresh([], { responseBody: "0123456789" }),
      {
        headers: [["Range", "bytes=0-1"]],
        status: 206,
        response: [cc("max-age=3600"), ["Content-Range", "bytes 0-1/10"]],
        responseBody: "01",
        expect: "not_cached",
        expectBody: "01",
        expectCacheStatus: "requests; fwd=bypass",
      },
      { expect: "cached", expectBody: "0123456789" },
    ],
  },
  {
    id: "partial-206-not-stored",
    steps: [
      {
        headers: [["Range", "bytes=0-1"]],
        status: 206,
        response: [cc("max-age=3600"), ["Content-Range", "bytes 0-1/10"]],
        responseBody: "01",
      },
      { expect: "not_cached" },
    ],
  },
];

const GROUPS: readonly (readonly [string, readonly Case[]])[] = [
  ["§4.2.1 freshness", FRESHNESS],
  ["§5.2 Cache-Control parsing", PARSING],
  ["§5.1 Age", AGE],
  ["§5.3 Expires", EXPIRES],
  ["§3, §5.2.2 response directives", RESPONSE_DIRECTIVES],
  ["§4.2.4, RFC 5861 serving stale", STALE],
  ["§4.2.2 heuristic freshness", HEURISTIC],
  ["§3 statuses", STATUSES],
  ["§5.2.1 request directives, §5.4 Pragma", REQUEST_DIRECTIVES],
  ["§4.1 Vary", VARY],
  ["§4.3 validation", VALIDATION],
  ["§3.1 stored fields", STORED_FIELDS],
  ["§3.2, §4.3.4 304 updates", UPDATE_304],
  ["§4.3.5 HEAD", HEAD],
  ["§4.4 invalidation", [...INVALIDATION, ...INVALIDATION_LOCATIONS]],
  ["§3.5 Authorization, identities", AUTHORIZATION],
  ["§4 Age, Date, keys, Cache-Status", OTHER],
  ["Range", PARTIAL],
];

const origin = new Origin();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "requests-cache-conformance-"));
before(() => origin.start());
after(async () => {
  await origin.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const STORES = [
  ["memory", (options?: HttpCacheOptions) => new HttpCache(options)],
  [
    "SQLite",
    (options?: HttpCacheOptions) =>
      new HttpCache({ ...options, store: new SqliteCacheStore(path.join(dir, "cache.sqlite")) }),
  ],
] as const;

for (const [section, cases] of GROUPS) {
  for (const [store, makeCache] of STORES) {
    test(`${section} (${store} store)`, async () => {
      const failures: string[] = [];
      for (const c of cases) {
        const id = `${c.id}-${store}`;
        const problems = await runCase(origin, { ...c, id }, driver, makeCache);
        for (const problem of problems) failures.push(`${c.id}: ${problem}`);
      }
      assert.deepEqual(failures, []);
    });
  }
}
