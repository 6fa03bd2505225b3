import { test } from "node:test";
import assert from "node:assert/strict";
import { type Cookie, CookieJar } from "../src/cookies.ts";

// Iteration, get(), size and toObject() use the clock, so the fixtures are set at the real time.
const NOW = Date.now();
const HOUR = 3_600_000;

function jarFrom(url: string, ...lines: string[]): CookieJar {
  const jar = new CookieJar();
  jar.setFromResponse(new URL(url), lines, NOW);
  return jar;
}

function header(jar: CookieJar, url: string, now: number = NOW): string | null {
  return jar.cookieHeader(new URL(url), now);
}

function only(jar: CookieJar): Cookie {
  const cookies = [...jar];
  assert.equal(cookies.length, 1);
  return cookies[0];
}

test("jar stores name and value and sends them back to the same host", () => {
  const jar = jarFrom("http://example.com/", "a=1");
  assert.equal(header(jar, "http://example.com/"), "a=1");
});

test("jar trims spaces around the name and value but never decodes them", () => {
  const jar = jarFrom("http://example.com/", ' \tsid = "a%20b=c" ; Path=/');
  assert.equal(header(jar, "http://example.com/"), 'sid="a%20b=c"');
});

test("jar ignores a Set-Cookie line without '=' or with an empty name", () => {
  const jar = jarFrom("http://example.com/", "novalue", "=x", "justname; Path=/");
  assert.equal(jar.size, 0);
});

test("jar ignores a cookie holding a control character", () => {
  const jar = jarFrom("http://example.com/", "a=x\x01y", "b\x7f=1");
  assert.equal(jar.size, 0);
});

test("jar keeps a cookie without a Domain attribute for the exact host only", () => {
  const jar = jarFrom("http://www.example.com/", "a=1");
  const cookie = only(jar);
  assert.equal(cookie.hostOnly, true);
  assert.equal(cookie.domain, "www.example.com");
  assert.equal(header(jar, "http://www.example.com/"), "a=1");
  assert.equal(header(jar, "http://sub.www.example.com/"), null);
  assert.equal(header(jar, "http://example.com/"), null);
});

test("jar sends a Domain cookie to the domain and its subdomains only", () => {
  const jar = jarFrom("http://www.example.com/", "a=1; Domain=example.com");
  const cookie = only(jar);
  assert.equal(cookie.hostOnly, false);
  assert.equal(cookie.domain, "example.com");
  assert.equal(header(jar, "http://example.com/"), "a=1");
  assert.equal(header(jar, "http://deep.api.example.com/"), "a=1");
  assert.equal(header(jar, "http://badexample.com/"), null);
  assert.equal(header(jar, "http://example.org/"), null);
});

test("jar ignores a leading dot and letter case in the Domain attribute", () => {
  const jar = jarFrom("http://WWW.Example.COM/", "a=1; domain=.EXAMPLE.com");
  assert.equal(only(jar).domain, "example.com");
  assert.equal(header(jar, "http://Api.EXAMPLE.com/"), "a=1");
});

test("jar refuses a Domain attribute for a foreign domain", () => {
  const jar = jarFrom(
    "http://example.com/",
    "a=1; Domain=evil.com",
    "b=2; Domain=sub.example.com",
    "c=3; Domain=ample.com",
  );
  assert.equal(jar.size, 0);
});

test("jar refuses a Domain attribute that is not a host name", () => {
  const jar = jarFrom(
    "http://example.com/",
    "a=1; Domain=example.com/x",
    "b=2; Domain=u@example.com",
    "c=3; Domain=example.com:80",
  );
  assert.equal(jar.size, 0);
});

test("jar treats an empty Domain attribute as absent", () => {
  const jar = jarFrom("http://www.example.com/", "a=1; Domain=");
  assert.equal(only(jar).hostOnly, true);
});

test("jar refuses a single-label Domain unless it is the host, then keeps it host-only", () => {
  assert.equal(jarFrom("http://example.com/", "a=1; Domain=com").size, 0);
  assert.equal(jarFrom("http://example.com/", "a=1; Domain=.com").size, 0);
  const jar = jarFrom("http://localhost:8000/", "a=1; Domain=localhost");
  const cookie = only(jar);
  assert.equal(cookie.hostOnly, true);
  assert.equal(cookie.domain, "localhost");
  assert.equal(header(jar, "http://sub.localhost/"), null);
});

test("jar ignores the port when matching hosts", () => {
  const jar = jarFrom("http://example.com:8080/", "a=1");
  assert.equal(header(jar, "http://example.com:9090/"), "a=1");
  assert.equal(header(jar, "http://example.com/"), "a=1");
});

test("jar keeps IP host cookies for that exact address", () => {
  const jar = jarFrom("http://127.0.0.1:8000/", "a=1", "b=2; Domain=127.0.0.1");
  assert.equal(header(jar, "http://127.0.0.1/"), "a=1; b=2");
  assert.equal(header(jar, "http://127.0.0.2/"), null);
  for (const cookie of jar) assert.equal(cookie.hostOnly, true);
});

test("jar refuses a Domain that is an IP address different from the host", () => {
  assert.equal(jarFrom("http://127.0.0.1/", "a=1; Domain=127.0.0.2").size, 0);
  assert.equal(jarFrom("http://example.com/", "a=1; Domain=93.184.216.34").size, 0);
  assert.equal(jarFrom("http://1.2.3.4/", "a=1; Domain=2.3.4").size, 0);
});

test("jar keeps IPv6 host cookies for that exact address", () => {
  const jar = jarFrom("http://[::1]:8000/", "a=1", "b=2; Domain=[0:0::1]", "c=3; Domain=[::2]");
  assert.equal(header(jar, "http://[::1]/"), "a=1; b=2");
  assert.equal(header(jar, "http://[::2]/"), null);
});

test("jar refuses a Secure cookie received over plain http", () => {
  const jar = jarFrom("http://example.com/", "a=1; Secure", "b=2");
  assert.equal(header(jar, "https://example.com/"), "b=2");
});

test("jar sends a Secure cookie to https only, localhost included", () => {
  const jar = new CookieJar();
  jar.setFromResponse(new URL("https://example.com/"), ["a=1; Secure"], NOW);
  jar.setFromResponse(new URL("https://localhost/"), ["b=2; Secure"], NOW);
  for (const cookie of jar) assert.equal(cookie.secure, true);
  assert.equal(header(jar, "https://example.com/"), "a=1");
  assert.equal(header(jar, "http://example.com/"), null);
  assert.equal(header(jar, "ws://example.com/"), null);
  assert.equal(header(jar, "http://localhost/"), null);
  assert.equal(header(jar, "https://localhost/"), "b=2");
});

test("jar reads attribute names in any case and the last one wins", () => {
  const jar = jarFrom(
    "https://example.com/a/b",
    "a=1; PATH=/x; path=/a; SECURE; hTTPoNLY; SameSite=strict; MAX-AGE=60",
  );
  const cookie = only(jar);
  assert.equal(cookie.path, "/a");
  assert.equal(cookie.secure, true);
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.expires, NOW + 60_000);
});

test("jar records SameSite values and null for an unknown one", () => {
  const cases = [
    ["SameSite=Lax", "Lax"],
    ["samesite=NONE", "None"],
    ["SameSite=Strict", "Strict"],
    ["SameSite=bogus", null],
    ["Path=/", null],
  ] as const;
  for (const [attribute, expected] of cases) {
    const jar = jarFrom("https://example.com/", `a=1; ${attribute}`);
    assert.equal(only(jar).sameSite, expected, attribute);
  }
});

test("jar keeps a cookie without Max-Age or Expires as a session cookie", () => {
  const jar = jarFrom("http://example.com/", "a=1");
  assert.equal(only(jar).expires, null);
  assert.equal(header(jar, "http://example.com/", NOW + 1000 * 365 * 24 * HOUR), "a=1");
});

test("jar expires a cookie after Max-Age seconds", () => {
  const jar = jarFrom("http://example.com/", "a=1; Max-Age=10");
  assert.equal(only(jar).expires, NOW + 10_000);
  assert.equal(header(jar, "http://example.com/", NOW + 9_999), "a=1");
  assert.equal(header(jar, "http://example.com/", NOW + 10_000), null);
});

test("jar lets Max-Age take precedence over Expires in either order", () => {
  const future = "Wed, 21 Oct 2099 07:28:00 GMT";
  const before = jarFrom("http://example.com/", `a=1; Expires=${future}; Max-Age=60`);
  assert.equal(only(before).expires, NOW + 60_000);
  const after = jarFrom("http://example.com/", `a=1; Max-Age=60; Expires=${future}`);
  assert.equal(only(after).expires, NOW + 60_000);
  const past = "Wed, 21 Oct 2015 07:28:00 GMT";
  assert.equal(jarFrom("http://example.com/", `a=1; Expires=${past}; Max-Age=60`).size, 1);
});

test("jar ignores a Max-Age that is not an integer", () => {
  for (const value of ["1.5", "abc", "+5", "", "5s"]) {
    const jar = jarFrom("http://example.com/", `a=1; Max-Age=${value}`);
    assert.equal(only(jar).expires, null, value);
  }
});

test("jar deletes a stored cookie when Max-Age is zero or negative", () => {
  for (const value of ["0", "-1"]) {
    const jar = jarFrom("http://example.com/", "a=1", "b=2");
    jar.setFromResponse(new URL("http://example.com/"), [`a=gone; Max-Age=${value}`], NOW);
    assert.equal(header(jar, "http://example.com/"), "b=2", value);
  }
});

test("jar deletes a stored cookie when Expires is in the past", () => {
  const jar = jarFrom("http://example.com/", "a=1");
  jar.setFromResponse(
    new URL("http://example.com/"),
    ["a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
    NOW,
  );
  assert.equal(jar.size, 0);
});

test("jar deletes only the cookie with the same name, domain and path", () => {
  const jar = jarFrom("http://example.com/a/b", "a=1; Path=/", "a=2; Path=/a");
  jar.setFromResponse(new URL("http://example.com/"), ["a=; Max-Age=0; Path=/a"], NOW);
  assert.equal(header(jar, "http://example.com/a/b"), "a=1");
});

/** Asserts that the jar sends its one cookie until just before `expires` and not at it. */
function assertExpiresAt(jar: CookieJar, expires: number, message: string): void {
  assert.equal(header(jar, "http://example.com/", expires - 1), "a=1", message);
  assert.equal(header(jar, "http://example.com/", expires), null, message);
}

test("jar parses the common Expires date formats", () => {
  const expected = Date.UTC(2015, 9, 21, 7, 28, 0);
  const cases = [
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "Wed, 21-Oct-2015 07:28:00 GMT",
    "Wednesday, 21-Oct-15 07:28:00 GMT",
    "Wed Oct 21 07:28:00 2015",
    "21 october 2015 7:28:0",
  ] as const;
  for (const date of cases) {
    assert.equal(jarFrom("http://example.com/", `a=1; Expires=${date}`).size, 0, date);
    const early = new CookieJar();
    early.setFromResponse(new URL("http://example.com/"), [`a=1; Expires=${date}`], 0);
    assertExpiresAt(early, expected, date);
  }
});

test("jar maps two-digit Expires years into 1970-2069", () => {
  const cases = [["70", 1970], ["99", 1999], ["00", 2000], ["69", 2069]] as const;
  for (const [year, full] of cases) {
    const jar = new CookieJar();
    const url = new URL("http://example.com/");
    jar.setFromResponse(url, [`a=1; Expires=1 Jan ${year} 00:00:00`], -1e15);
    assertExpiresAt(jar, Date.UTC(full, 0, 1), year);
  }
});

test("jar ignores an unusable Expires and keeps a session cookie", () => {
  const cases = [
    "not a date",
    "Wed, 31 Feb 2015 07:28:00 GMT",
    "Wed, 21 Oct 1600 07:28:00 GMT",
    "Wed, 21 Oct 2015 24:00:00 GMT",
    "Wed, 21 Oct 2015",
    "",
  ] as const;
  for (const date of cases) {
    const jar = jarFrom("http://example.com/", `a=1; Expires=${date}`);
    assert.equal(only(jar).expires, null, date);
  }
});

test("jar uses the directory of the request path as the default path", () => {
  const cases = [
    ["http://example.com/", "/"],
    ["http://example.com/page", "/"],
    ["http://example.com/a/b/page", "/a/b"],
    ["http://example.com/a/b/", "/a/b"],
  ] as const;
  for (const [url, path] of cases) {
    assert.equal(only(jarFrom(url, "a=1")).path, path, url);
    assert.equal(only(jarFrom(url, "a=1; Path=relative")).path, path, url);
    assert.equal(only(jarFrom(url, "a=1; Path=")).path, path, url);
  }
});

test("jar matches paths on whole segments", () => {
  const jar = jarFrom("http://example.com/", "a=1; Path=/docs", "b=2; Path=/docs/");
  const cases = [
    ["/docs", "a=1"],
    ["/docs/", "b=2; a=1"],
    ["/docs/page", "b=2; a=1"],
    ["/docsearch", null],
    ["/", null],
    ["/Docs", null],
  ] as const;
  for (const [path, expected] of cases) {
    assert.equal(header(jar, `http://example.com${path}`), expected, path);
  }
});

test("jar orders the Cookie header by longer path first, then creation time", () => {
  const jar = jarFrom(
    "http://example.com/",
    "root1=1; Path=/",
    "deep=2; Path=/a/b",
    "mid=3; Path=/a",
    "root2=4; Path=/",
    "deep2=5; Path=/a/b",
  );
  assert.equal(header(jar, "http://example.com/a/b/c"), "deep=2; deep2=5; mid=3; root1=1; root2=4");
});

test("jar replaces a cookie with the same name, domain and path in its creation order", () => {
  const jar = jarFrom("http://example.com/", "a=1", "b=2");
  jar.setFromResponse(new URL("http://example.com/"), ["a=3; HttpOnly"], NOW);
  assert.equal(header(jar, "http://example.com/"), "a=3; b=2");
  assert.equal(jar.size, 2);
  assert.equal([...jar][0].httpOnly, true);
});

test("jar keeps cookies with the same name but another domain or path apart", () => {
  const jar = jarFrom("http://www.example.com/", "a=1", "a=2; Domain=example.com", "a=3; Path=/x");
  assert.equal(jar.size, 3);
  assert.equal(header(jar, "http://www.example.com/x"), "a=3; a=1; a=2");
});

test("jar ignores a Set-Cookie line longer than 8192 bytes", () => {
  const fits = `a=${"x".repeat(8190)}`;
  const ascii = `b=${"x".repeat(8191)}`;
  const multibyte = `c=${"é".repeat(4096)}`;
  const jar = jarFrom("http://example.com/", fits, ascii, multibyte);
  assert.deepEqual([...jar].map((cookie) => cookie.name), ["a"]);
});

test("jar keeps at most 3000 cookies and drops the oldest", () => {
  const jar = new CookieJar();
  const url = new URL("http://example.com/");
  jar.setFromResponse(url, Array.from({ length: 3005 }, (_, i) => `c${i}=${i}`), NOW);
  assert.equal(jar.size, 3000);
  assert.equal(jar.get("c4"), undefined);
  assert.equal(jar.get("c5"), "5");
  assert.equal(jar.get("c3004"), "3004");
});

test("jar drops expired cookies before live ones when full", () => {
  const jar = new CookieJar();
  const url = new URL("http://example.com/");
  jar.setFromResponse(url, ["live=1"], NOW);
  jar.setFromResponse(url, Array.from({ length: 2999 }, (_, i) => `c${i}=1; Max-Age=1`), NOW);
  jar.setFromResponse(url, ["late=1"], NOW + 2000);
  assert.deepEqual([...jar].map((cookie) => cookie.name), ["live", "late"]);
});

test("jar removes an expired cookie when it is next encountered", () => {
  const jar = new CookieJar();
  jar.set("gone", "1", { expires: Date.now() + 50 });
  jar.set("kept", "2");
  assert.equal(jar.cookieHeader(new URL("http://example.com/"), Date.now() + 100), "kept=2");
  assert.equal(jar.size, 1);
  assert.equal(jar.get("gone"), undefined);
});

test("jar refuses cookies from a URL without a host", () => {
  const jar = new CookieJar();
  jar.setFromResponse(new URL("file:///tmp/x"), ["a=1"], NOW);
  assert.equal(jar.size, 0);
  assert.equal(new CookieJar({ a: "1" }).cookieHeader(new URL("file:///tmp/x")), null);
});

test("cookieHeader() returns null when nothing matches", () => {
  assert.equal(new CookieJar().cookieHeader(new URL("http://example.com/")), null);
});

test("constructor stores each pair for every host", () => {
  const jar = new CookieJar({ a: "1", b: "2" });
  assert.equal(jar.size, 2);
  assert.equal(header(jar, "http://one.test/deep/path"), "a=1; b=2");
  assert.equal(header(jar, "https://two.test/"), "a=1; b=2");
  const cookie = [...jar][0];
  assert.deepEqual(cookie, {
    name: "a",
    value: "1",
    domain: "",
    path: "/",
    expires: null,
    secure: false,
    httpOnly: false,
    hostOnly: false,
    sameSite: null,
  });
});

test("set() stores a cookie for a domain, path and Secure flag", () => {
  const jar = new CookieJar();
  jar.set("a", "1", { domain: ".Example.COM", path: "/app", secure: true, httpOnly: true });
  const cookie = only(jar);
  assert.equal(cookie.domain, "example.com");
  assert.equal(cookie.hostOnly, false);
  assert.equal(cookie.httpOnly, true);
  assert.equal(header(jar, "https://www.example.com/app/x"), "a=1");
  assert.equal(header(jar, "http://www.example.com/app/x"), null);
  assert.equal(header(jar, "https://www.example.com/other"), null);
  assert.equal(header(jar, "https://example.org/app"), null);
});

test("set() accepts expires as a Date or a number and deletes when it is past", () => {
  const jar = new CookieJar();
  const later = Date.now() + HOUR;
  jar.set("a", "1", { expires: new Date(later) });
  jar.set("b", "2", { expires: later });
  jar.set("c", "3", { expires: null });
  assert.deepEqual([...jar].map((cookie) => cookie.expires), [later, later, null]);
  jar.set("a", "", { expires: new Date(0) });
  assert.deepEqual(Object.keys(jar.toObject()), ["b", "c"]);
});

test("set() replaces a cookie and keeps its creation order", () => {
  const jar = new CookieJar({ a: "1", b: "2" });
  jar.set("a", "3");
  assert.deepEqual(Object.entries(jar.toObject()), [["a", "3"], ["b", "2"]]);
});

test("set() rejects names, values, domains, paths and times that cannot be sent", () => {
  const jar = new CookieJar();
  const cases = [
    ["", "1", {}, /name is empty or has/],
    ["a=b", "1", {}, /Cannot set cookie 'a=b'/],
    ["a;b", "1", {}, /name is empty or has/],
    ["a\r\n", "1", {}, /name is empty or has '=', ';' or a control character/],
    ["a", "1;b=2", {}, /value has ';' or a control character/],
    ["a", "1\n", {}, /value has/],
    ["a", "1", { domain: "example.com/x" }, /domain 'example.com\/x' is not a host name/],
    ["a", "1", { path: "app" }, /path 'app' does not start with '\/'/],
    ["a", "1", { expires: new Date("nope") }, /'expires' is not a valid time/],
    ["a", "1", { expires: Number.NaN }, /'expires' is not a valid time/],
  ] as const;
  for (const [name, value, options, message] of cases) {
    assert.throws(() => jar.set(name, value, options), { name: "TypeError", message }, name);
  }
  assert.equal(jar.size, 0);
});

test("get() returns the last created match and honours domain and path", () => {
  const jar = jarFrom("http://www.example.com/a/", "x=host", "x=dom; Domain=example.com; Path=/a");
  assert.equal(jar.get("x"), "dom");
  assert.equal(jar.get("x", { domain: "www.example.com" }), "host");
  assert.equal(jar.get("x", { domain: ".EXAMPLE.com" }), "dom");
  assert.equal(jar.get("x", { path: "/" }), undefined);
  assert.equal(jar.get("x", { path: "/a" }), "dom");
  assert.equal(jar.get("missing"), undefined);
});

test("get() skips expired cookies", () => {
  const jar = new CookieJar();
  jar.set("a", "1", { expires: Date.now() - 1 });
  jar.setFromResponse(new URL("http://example.com/"), ["b=2; Max-Age=1"], Date.now() - 5000);
  assert.equal(jar.get("a"), undefined);
  assert.equal(jar.get("b"), undefined);
});

test("delete() removes every match and reports whether any was removed", () => {
  const jar = jarFrom(
    "http://www.example.com/a/",
    "x=1",
    "x=2; Domain=example.com",
    "x=3; Path=/",
    "y=4",
  );
  assert.equal(jar.delete("x", { domain: "example.com" }), true);
  assert.equal(jar.get("x", { domain: "example.com" }), undefined);
  assert.equal(jar.size, 3);
  assert.equal(jar.delete("x", { path: "/" }), true);
  assert.equal(jar.size, 2);
  assert.equal(jar.delete("x"), true);
  assert.equal(jar.delete("x"), false);
  assert.deepEqual(Object.keys(jar.toObject()), ["y"]);
});

test("delete() returns false for a cookie that had already expired", () => {
  const jar = new CookieJar();
  jar.setFromResponse(new URL("http://example.com/"), ["a=1; Max-Age=1"], NOW - 5000);
  assert.equal(jar.delete("a"), false);
});

test("clear() empties the jar", () => {
  const jar = new CookieJar({ a: "1" });
  jar.clear();
  assert.equal(jar.size, 0);
  assert.equal(header(jar, "http://example.com/"), null);
});

test("size counts only unexpired cookies", () => {
  const jar = new CookieJar({ a: "1" });
  jar.setFromResponse(new URL("http://example.com/"), ["b=2; Max-Age=1"], Date.now() - 5000);
  jar.setFromResponse(new URL("http://example.com/"), ["c=3; Max-Age=60"]);
  assert.equal(jar.size, 2);
});

test("toObject() maps names to values, the last created winning, with a null prototype", () => {
  const jar = jarFrom("http://www.example.com/", "a=1", "b=2", "a=3; Domain=example.com");
  const object = jar.toObject();
  assert.equal(Object.getPrototypeOf(object), null);
  assert.deepEqual(Object.entries(object), [["a", "3"], ["b", "2"]]);
});

test("iteration yields copies of the cookies in creation order", () => {
  const jar = jarFrom("https://example.com/", "a=1; Secure", "b=2");
  const cookies = [...jar];
  assert.deepEqual(cookies.map((cookie) => [cookie.name, cookie.secure]), [["a", true], [
    "b",
    false,
  ]]);
  cookies[0].value = "changed";
  cookies[0].secure = false;
  assert.equal(header(jar, "http://example.com/"), "b=2");
  assert.equal(jar.get("a"), "1");
});

test("jar treats cookies named __proto__ and constructor like any other", () => {
  const init: Record<string, string> = Object.fromEntries([["__proto__", "p"], [
    "constructor",
    "c",
  ]]);
  assert.equal(Object.hasOwn(init, "__proto__"), true);
  const jar = new CookieJar(init);
  jar.setFromResponse(new URL("http://example.com/"), ["hasOwnProperty=h", "toString=t"], NOW);
  assert.equal(jar.size, 4);
  assert.equal(jar.get("__proto__"), "p");
  assert.equal(jar.get("constructor"), "c");
  assert.equal(jar.get("toString"), "t");
  const object = jar.toObject();
  assert.equal(Object.hasOwn(object, "__proto__"), true);
  assert.equal(Object.getPrototypeOf(object), null);
  assert.deepEqual(Object.entries(object), [
    ["__proto__", "p"],
    ["constructor", "c"],
    ["hasOwnProperty", "h"],
    ["toString", "t"],
  ]);
  assert.equal(
    header(jar, "http://example.com/"),
    "__proto__=p; constructor=c; hasOwnProperty=h; toString=t",
  );
  assert.equal(jar.delete("__proto__"), true);
  assert.equal(jar.get("__proto__"), undefined);
});

test("jar refuses a Secure cookie from any scheme but https", () => {
  assert.equal(jarFrom("ws://example.com/", "a=1; Secure").size, 0);
  assert.equal(jarFrom("http://localhost/", "a=1; Secure").size, 0);
  assert.equal(jarFrom("http://127.0.0.1/", "a=1; Secure").size, 0);
  assert.equal(jarFrom("http://[::1]/", "a=1; Secure").size, 0);
});
