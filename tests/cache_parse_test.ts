// The field values the HTTP cache reads, parsed as RFC 9111 §5.1, §5.2 and RFC 9110 §5.6.7,
// §8.8.3, §12.5.5 say, in time linear in their size.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  deltaSeconds,
  formatHttpDate,
  MAX_SECONDS,
  normalizeSelecting,
  parseAge,
  parseCacheControl,
  parseEntityTags,
  parseHttpDate,
  parseVary,
  strongMatch,
  weakMatch,
} from "../src/cache/_parse.ts";

type Expect = Partial<ReturnType<typeof parseCacheControl>>;

// RFC 9111 §5.2: `#( token [ "=" ( token / quoted-string ) ] )`, case-insensitive names.
const CACHE_CONTROL: readonly (readonly [string, Expect])[] = [
  ["max-age=3600", { maxAge: 3600 }],
  ["MaX-AgE=3600", { maxAge: 3600 }],
  ["foobar, max-age=3600", { maxAge: 3600 }],
  ['max-age="3600"', { maxAge: 3600 }],
  ["max-age=003600", { maxAge: 3600 }],
  ["max-age=0", { maxAge: 0 }],
  // Quoted strings are values: a directive inside one is never read.
  ['extension="max-age=3600", max-age=1', { maxAge: 1 }],
  ['max-age=1, extension="max-age=3600"', { maxAge: 1 }],
  ['ext="a, \\"max-age=9\\", b", max-age=2', { maxAge: 2 }],
  // Malformed numbers are ignored (§1.2.2 delta-seconds is 1*DIGIT).
  ["max-age=-3600", { maxAge: null }],
  ["max-age=3600.0", { maxAge: null }],
  ["max-age=3600a", { maxAge: null }],
  ["max-age=a3600", { maxAge: null }],
  ["max-age='3600'", { maxAge: null }],
  ["max-age=", { maxAge: null }],
  ["max-age", { maxAge: null }],
  // No whitespace around "=": such a member is skipped, the next one still read.
  ["max-age =3600", { maxAge: null }],
  ["max-age= 3600", { maxAge: null }],
  ["max-age =3600, no-store", { maxAge: null, noStore: true }],
  // 2^31 and more are 2^31 (§1.2.2).
  ["max-age=2147483647", { maxAge: 2147483647 }],
  ["max-age=2147483648", { maxAge: MAX_SECONDS }],
  ["max-age=2147483649", { maxAge: MAX_SECONDS }],
  ["max-age=99999999999999999999999", { maxAge: MAX_SECONDS }],
  // Duplicates: the first well-formed value counts (§4.2.1).
  ["max-age=1800, max-age=1", { maxAge: 1800 }],
  ["max-age=1, max-age=1800", { maxAge: 1 }],
  ["max-age=x, max-age=60", { maxAge: 60 }],
  // Conflicting directives are all kept; the most restrictive reading is the rules' job.
  ["max-age=10000, no-cache", { maxAge: 10000, noCache: true }],
  ["No-StOrE", { noStore: true }],
  ["s-maxage=3600, max-age=1", { sMaxage: 3600, maxAge: 1 }],
  ["public, private, must-revalidate, proxy-revalidate, must-understand", {
    public: true,
    private: true,
    mustRevalidate: true,
    proxyRevalidate: true,
    mustUnderstand: true,
  }],
  // Qualified no-cache and private name fields; a bare one beside them wins.
  ['no-cache="Set-Cookie, X-A"', { noCache: false, noCacheFields: ["set-cookie", "x-a"] }],
  ["no-cache=x-b", { noCache: false, noCacheFields: ["x-b"] }],
  ['no-cache="a", no-cache', { noCache: true, noCacheFields: ["a"] }],
  ['private="x-user"', { private: false, privateFields: ["x-user"] }],
  // Request directives.
  ["max-stale", { maxStale: Infinity }],
  ["max-stale=30", { maxStale: 30 }],
  ["max-stale=x", { maxStale: null }],
  ["min-fresh=5, only-if-cached, no-store", { minFresh: 5, onlyIfCached: true, noStore: true }],
  ["stale-while-revalidate=30, stale-if-error=60", {
    staleWhileRevalidate: 30,
    staleIfError: 60,
  }],
  // Junk is skipped, never thrown.
  ['"quoted", ,,, =5, max-age=7', { maxAge: 7 }],
  ['max-age="12', { maxAge: null }],
  ["max-age=12 junk, no-store", { maxAge: null, noStore: true }],
  ["", {}],
];

test("parseCacheControl reads each member as RFC 9111 §5.2 writes it", () => {
  for (const [value, expected] of CACHE_CONTROL) {
    const parsed = parseCacheControl(value);
    for (const [name, want] of Object.entries(expected)) {
      assert.deepEqual(parsed[name as keyof Expect], want, `${value}: ${name}`);
    }
  }
});

test("parseCacheControl of an absent value has no directive", () => {
  const none = parseCacheControl(null);
  assert.equal(none.maxAge, null);
  assert.equal(none.noStore, false);
  assert.equal(none.noCacheFields, null);
});

test("deltaSeconds takes digits only and caps at 2^31", () => {
  const cases: readonly (readonly [string | null, number | null])[] = [
    ["0", 0],
    ["60", 60],
    ["0060", 60],
    ["2147483648", MAX_SECONDS],
    ["12345678901", MAX_SECONDS],
    ["-1", null],
    ["+1", null],
    ["1.5", null],
    [" 1", null],
    ["", null],
    [null, null],
  ];
  for (const [value, expected] of cases) assert.equal(deltaSeconds(value), expected, `${value}`);
});

// RFC 9111 §5.1: Age = delta-seconds; a bad one is ignored; with several, the first counts.
test("parseAge reads the first member, ignores a malformed one and caps at 2^31", () => {
  const cases: readonly (readonly [string | null, number | null])[] = [
    ["0", 0],
    ["7200", 7200],
    ["abc", null],
    ["-7200", null],
    ["7200.0", null],
    ["7200;foo=bar", null],
    ["2147483647", 2147483647],
    ["2147483648", MAX_SECONDS],
    ["2147483649", MAX_SECONDS],
    ["7200, 0", 7200],
    ["0, 7200", 0],
    [" 30 ", 30],
    [null, null],
  ];
  for (const [value, expected] of cases) assert.equal(parseAge(value), expected, `${value}`);
});

// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms.
test("parseHttpDate accepts the three HTTP-date forms and nothing else", () => {
  const at = Date.UTC(2050, 7, 18, 2, 1, 18);
  const now = Date.UTC(2026, 0, 1);
  const valid = [
    "Thu, 18 Aug 2050 02:01:18 GMT",
    "THU, 18 Aug 2050 02:01:18 GMT",
    "Thu, 18 AUG 2050 02:01:18 GMT",
    "Thu, 18 Aug 2050 02:01:18 gMT",
    "Thursday, 18-Aug-50 02:01:18 GMT",
    "Thu Aug 18 02:01:18 2050",
  ];
  for (const value of valid) assert.equal(parseHttpDate(value, now), at, value);
  assert.equal(parseHttpDate("Sun Nov  6 08:49:37 1994", now), Date.UTC(1994, 10, 6, 8, 49, 37));
  // A two-digit year more than 50 years ahead is the last such year in the past.
  assert.equal(
    parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now),
    Date.UTC(1994, 10, 6, 8, 49, 37),
  );
  const invalid = [
    "0",
    "Thu, 18 Aug 2050 02:01:18 UTC",
    "Thu, 18 Aug 2050 02:01:18 AEST",
    "Thu, 18 Aug 50 02:01:18 GMT",
    "Thu 18 Aug 2050 02:01:18 GMT",
    "Thu, 18  Aug  2050 02:01:18 GMT",
    "Thu, 18-Aug-2050 02:01:18 GMT",
    "Thu, 18 Aug 2050 02.01.18 GMT",
    "Thu, 18 Aug 2050 2:01:18 GMT",
    "Thu, 18 Aug 2050 2:01:18 GMT, Thu, 18 Aug 2050 2:01:19 GMT",
    "Thu, 31 Feb 2050 02:01:18 GMT",
    "Thu, 18 Aug 2050 24:01:18 GMT",
    "",
  ];
  for (const value of invalid) assert.equal(parseHttpDate(value, now), null, value);
  assert.equal(parseHttpDate(formatHttpDate(at)), at);
});

// RFC 9110 §8.8.3: entity-tags, and the weak and strong comparisons of §8.8.3.2.
test("entity-tags are read as written and compared weakly or strongly", () => {
  assert.deepEqual(parseEntityTags('"abc"'), ['"abc"']);
  assert.deepEqual(parseEntityTags('W/"abc"'), ['W/"abc"']);
  assert.deepEqual(parseEntityTags('"a,b", W/"c" , "d"'), ['"a,b"', 'W/"c"', '"d"']);
  assert.deepEqual(parseEntityTags(" * "), ["*"]);
  assert.deepEqual(parseEntityTags('abc, "ok"'), ['"ok"']);
  assert.deepEqual(parseEntityTags('"unclosed'), []);
  assert.deepEqual(parseEntityTags(null), []);
  const table: readonly (readonly [string, string, boolean, boolean])[] = [
    ['W/"1"', 'W/"1"', false, true],
    ['W/"1"', 'W/"2"', false, false],
    ['W/"1"', '"1"', false, true],
    ['"1"', '"1"', true, true],
  ];
  for (const [a, b, strong, weak] of table) {
    assert.equal(strongMatch(a, b), strong, `strong ${a} ${b}`);
    assert.equal(weakMatch(a, b), weak, `weak ${a} ${b}`);
  }
});

test("parseVary lower-cases and sorts names, and any * member wins", () => {
  assert.deepEqual(parseVary("Foo, bar ,FOO"), ["bar", "foo"]);
  assert.deepEqual(parseVary(""), []);
  assert.deepEqual(parseVary(null), []);
  for (const value of ["*", "*, *", ", *", "*, Foo", "Foo, *"]) {
    assert.deepEqual(parseVary(value), ["*"], value);
  }
});

// RFC 9111 §4.1: selecting fields match after combining lines, dropping list whitespace and
// case-normalizing what is case-insensitive.
test("normalizeSelecting drops list whitespace and folds the case of Accept-* tokens", () => {
  assert.equal(normalizeSelecting("foo", " 1, 2 "), normalizeSelecting("foo", "1,2"));
  assert.equal(normalizeSelecting("foo", "1, 2"), "1,2");
  assert.notEqual(normalizeSelecting("foo", "A"), normalizeSelecting("foo", "a"));
  assert.equal(normalizeSelecting("accept-language", "eN, De"), "en,de");
  assert.equal(normalizeSelecting("foo", null), null);
  assert.notEqual(normalizeSelecting("foo", ""), null);
});

test("the parsers take time linear in a hostile 1 MB value", () => {
  const mb = 1 << 20;
  const hostile = [
    ",".repeat(mb),
    "a".repeat(mb),
    '"'.repeat(mb),
    "\\".repeat(mb),
    `x="${"\\a".repeat(mb / 2)}`,
    "max-age=1 ".repeat(mb / 10),
    'a="b",'.repeat(mb / 6),
    "=".repeat(mb),
    "no-cache=".repeat(mb / 9),
    `no-cache="${"a,".repeat(mb / 2)}"`,
    'no-cache="a", private="b",'.repeat(mb / 26),
    `W/"${"x".repeat(mb)}`,
    'W/"a",'.repeat(mb / 6),
  ];
  // A quadratic parser takes minutes on these; a linear one a few milliseconds each.
  const started = performance.now();
  for (const value of hostile) {
    parseCacheControl(value);
    parseAge(value);
    parseEntityTags(value);
    parseVary(value);
    parseHttpDate(value);
    normalizeSelecting("foo", value);
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 5000, `took ${elapsed} ms`);
});
