import { test } from "node:test";
import assert from "node:assert/strict";
import { type Cookie, CookieJar } from "../src/cookies/jar.ts";
import { get, Response as RequestsResponse, Session } from "../mod.ts";
import { serve } from "./_server.ts";

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

test("jar refuses a Domain that is a public suffix, ICANN or private", () => {
  const cases = [
    ["https://www.example.co.uk/", "co.uk", "example.co.uk"],
    ["https://shop.example.com.au/", "com.au", "example.com.au"],
    ["https://me.github.io/", "github.io", "me.github.io"],
    // The URL parser gives hosts in punycode; the rule 公司.cn is stored that way too.
    ["https://www.例子.公司.cn/", "公司.cn", "例子.公司.cn"],
  ] as const;
  for (const [url, suffix, site] of cases) {
    const jar = jarFrom(url, `a=1; Domain=${suffix}`, `b=2; Domain=.${suffix.toUpperCase()}`);
    assert.equal(jar.size, 0, suffix);
    const kept = jarFrom(url, `c=3; Domain=${site}`);
    assert.equal(only(kept).hostOnly, false, site);
    assert.equal(header(kept, url.replace("://", "://deep.")), "c=3", site);
  }
});

test("jar applies wildcard and exception rules of the public suffix list", () => {
  // *.ck makes every name under ck a public suffix; !www.ck makes www.ck registrable.
  assert.equal(jarFrom("https://a.b.ck/", "a=1; Domain=b.ck").size, 0);
  assert.equal(only(jarFrom("https://a.b.ck/", "a=1; Domain=a.b.ck")).hostOnly, false);
  const www = jarFrom("https://a.www.ck/", "a=1; Domain=www.ck");
  assert.equal(only(www).hostOnly, false);
  assert.equal(header(www, "https://www.ck/"), "a=1");
  assert.equal(jarFrom("https://x.y.kawasaki.jp/", "a=1; Domain=y.kawasaki.jp").size, 0);
  assert.equal(jarFrom("https://a.city.kawasaki.jp/", "a=1; Domain=city.kawasaki.jp").size, 1);
  assert.equal(jarFrom("https://x.a.sch.uk/", "a=1; Domain=a.sch.uk").size, 0);
});

test("jar keeps a Domain that is a public suffix and the host itself as host-only", () => {
  for (const host of ["github.io", "co.uk", "b.ck"]) {
    const jar = jarFrom(`https://${host}/`, `a=1; Domain=${host}`);
    const cookie = only(jar);
    assert.equal(cookie.hostOnly, true, host);
    assert.equal(cookie.domain, host);
    assert.equal(header(jar, `https://${host}/`), "a=1", host);
    assert.equal(header(jar, `https://sub.${host}/`), null, host);
  }
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

test("jar sends a Secure cookie to https and to loopback hosts only", () => {
  const jar = new CookieJar();
  jar.setFromResponse(new URL("https://example.com/"), ["a=1; Secure"], NOW);
  jar.setFromResponse(new URL("https://localhost/"), ["b=2; Secure"], NOW);
  jar.setFromResponse(new URL("https://127.0.0.1/"), ["c=3; Secure"], NOW);
  for (const cookie of jar) assert.equal(cookie.secure, true);
  assert.equal(header(jar, "https://example.com/"), "a=1");
  assert.equal(header(jar, "http://example.com/"), null);
  assert.equal(header(jar, "ws://example.com/"), null);
  assert.equal(header(jar, "http://localhost/"), "b=2");
  assert.equal(header(jar, "https://localhost/"), "b=2");
  assert.equal(header(jar, "http://127.0.0.1:8080/"), "c=3");
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

/** `count` cookies named `prefix0`, `prefix1`... set by `url`, one response each. */
function flood(jar: CookieJar, url: string, prefix: string, count: number, now = NOW): void {
  const target = new URL(url);
  for (let i = 0; i < count; i++) jar.setFromResponse(target, [`${prefix}${i}=${i}`], now);
}

function namesOf(jar: CookieJar, prefix: string): string[] {
  return [...jar].map((cookie) => cookie.name).filter((name) => name.startsWith(prefix));
}

test("jar keeps at most 180 cookies per site and drops that site's oldest", () => {
  const jar = new CookieJar();
  flood(jar, "http://example.com/", "c", 3005);
  assert.equal(jar.size, 180);
  assert.equal(jar.get("c2824"), undefined);
  assert.deepEqual(namesOf(jar, "c"), Array.from({ length: 180 }, (_, i) => `c${2825 + i}`));
});

test("one host flooding the jar evicts none of another host's cookies", () => {
  const jar = new CookieJar();
  jar.setFromResponse(new URL("https://bank.test/"), ["sid=secret; Secure; HttpOnly"], NOW);
  flood(jar, "http://flood.test/", "f", 5000);
  assert.equal(jar.get("sid"), "secret");
  assert.equal(header(jar, "https://bank.test/"), "sid=secret");
  assert.equal(namesOf(jar, "f").length, 180);
  // When the other host floods too, each loses only its own oldest.
  flood(jar, "https://bank.test/", "b", 5000);
  assert.deepEqual(namesOf(jar, "f"), Array.from({ length: 180 }, (_, i) => `f${4820 + i}`));
  assert.deepEqual(namesOf(jar, "b"), Array.from({ length: 180 }, (_, i) => `b${4820 + i}`));
  assert.equal(jar.get("sid"), undefined);
  assert.equal(jar.size, 360);
});

test("jar counts subdomains against their registrable domain, per the public suffix list", () => {
  const jar = new CookieJar();
  for (let host = 0; host < 100; host++) flood(jar, `http://h${host}.flood.co.uk/`, `f${host}-`, 5);
  assert.equal(jar.size, 180);
  // github.io is a public suffix: each project under it is a site of its own.
  flood(jar, "https://one.github.io/", "one", 200);
  flood(jar, "https://two.github.io/", "two", 200);
  assert.equal(namesOf(jar, "one").length, 180);
  assert.equal(namesOf(jar, "two").length, 180);
  assert.equal(jar.size, 540);
});

test("jar keeps at most 3000 cookies, taken from the most crowded sites", () => {
  const jar = new CookieJar();
  jar.setFromResponse(new URL("https://bank.test/"), ["sid=secret; Secure"], NOW);
  flood(jar, "http://medium.test/", "m", 50);
  for (let site = 0; site < 30; site++) flood(jar, `http://s${site}.test/`, `s${site}-`, 180);
  assert.equal(jar.size, 3000);
  assert.equal(jar.get("sid"), "secret");
  assert.equal(namesOf(jar, "m").length, 50);
  const perSite = new Map<string, number>();
  for (const cookie of jar) {
    if (/^s\d/.test(cookie.name)) {
      perSite.set(cookie.domain, (perSite.get(cookie.domain) ?? 0) + 1);
    }
  }
  // The flooding sites were evened out: the one that overflowed paid while it was as crowded.
  const counts = [...perSite.values()];
  assert.equal(perSite.size, 30);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, counts.join(" "));
  assert.equal(jar.get("s29-179"), "179");
  // A site that overflows the jar when it is as crowded as any pays with its own oldest.
  const fewest = [...perSite].find(([, count]) => count === Math.min(...counts))!;
  const before = [...jar].map((cookie) => cookie.name);
  jar.setFromResponse(new URL(`http://${fewest[0]}/`), ["extra=1"], NOW);
  const lost = before.filter((name) => jar.get(name) === undefined);
  assert.equal(lost.length, 1);
  assert.ok(lost[0].startsWith(fewest[0].replace(".test", "-")), `${lost[0]} from ${fewest[0]}`);
});

test("jar drops expired cookies before live ones when a site is full", () => {
  const jar = new CookieJar();
  const url = new URL("http://example.com/");
  jar.setFromResponse(url, ["live=1"], NOW);
  jar.setFromResponse(url, Array.from({ length: 179 }, (_, i) => `c${i}=1; Max-Age=1`), NOW);
  jar.setFromResponse(url, ["late=1"], NOW + 2000);
  assert.deepEqual([...jar].map((cookie) => cookie.name), ["live", "late"]);
});

test("jar drops expired cookies before live ones when it is full", () => {
  const jar = new CookieJar();
  jar.setFromResponse(new URL("http://keep.test/"), ["live=1"], NOW);
  for (let site = 0; site < 20; site++) {
    const lines = Array.from({ length: site === 0 ? 149 : 150 }, (_, i) => `c${i}=1; Max-Age=1`);
    jar.setFromResponse(new URL(`http://s${site}.test/`), lines, NOW);
  }
  jar.setFromResponse(new URL("http://late.test/"), ["late=1"], NOW + 2000);
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

test("jar refuses a Secure cookie from plain http, but keeps it from a loopback host", () => {
  for (const url of ["ws://example.com/", "http://example.com/", "http://127.example.com/"]) {
    assert.equal(jarFrom(url, "a=1; Secure").size, 0, url);
  }
  const loopback = [
    "http://localhost/",
    "http://app.localhost:3000/",
    "http://127.0.0.1/",
    "http://127.1.2.3:8000/",
    "http://[::1]/",
  ];
  for (const url of loopback) {
    assert.equal(jarFrom(url, "a=1; Secure").size, 1, url);
    assert.equal(jarFrom(url, "__Secure-a=1; Secure").size, 1, url);
  }
});

test("jar enforces the __Secure- and __Host- prefixes, matched in any case", () => {
  const cases = [
    ["__Secure-a=1", false],
    ["__secure-a=1; Path=/", false],
    ["__Secure-a=1; Secure", true],
    ["__SECURE-a=1; Secure; Domain=example.com", true],
    ["__Host-a=1; Secure; Path=/", true],
    ["__host-a=1; Secure; Path=/; HttpOnly", true],
    ["__Host-a=1; Path=/", false],
    ["__HOST-a=1; Path=/", false],
    ["__Host-a=1; Secure; Path=/; Domain=example.com", false],
    ["__Host-a=1; Secure; Path=/; Domain=www.example.com", false],
    ["__Host-a=1; Secure; Path=/app", false],
    // A Path attribute is required, even where the default path would be "/".
    ["__Host-a=1; Secure", false],
    ["x__Host-a=1", true],
    ["__Hosta=1", true],
  ] as const;
  for (const [line, kept] of cases) {
    assert.equal(jarFrom("https://www.example.com/", line).size, kept ? 1 : 0, line);
  }
  assert.equal(jarFrom("http://www.example.com/", "__Host-a=1; Secure; Path=/").size, 0);
  assert.equal(jarFrom("http://www.example.com/", "__Secure-a=1; Secure").size, 0);
});

test("set() throws for a __Secure- or __Host- cookie that breaks its prefix's rules", () => {
  const jar = new CookieJar();
  const cases = [
    ["__Secure-a", {}, /Cannot set cookie '__Secure-a': a '__Secure-' cookie must be secure/],
    ["__secure-a", { path: "/x" }, /a '__Secure-' cookie must be secure/],
    ["__Host-a", {}, /Cannot set cookie '__Host-a': a '__Host-' cookie must be secure/],
    ["__HOST-a", { domain: "example.com" }, /a '__Host-' cookie must be secure/],
    ["__Host-a", { secure: true, domain: "example.com" }, /must have no domain/],
    ["__Host-a", { secure: true, path: "/app" }, /a '__Host-' cookie must have the path '\/'/],
  ] as const;
  for (const [name, options, message] of cases) {
    assert.throws(() => jar.set(name, "1", options), { name: "TypeError", message }, name);
  }
  assert.equal(jar.size, 0);
  jar.set("__Secure-a", "1", { secure: true, domain: "example.com", path: "/x" });
  jar.set("__Host-b", "2", { secure: true });
  assert.equal(header(jar, "https://example.com/x"), "__Secure-a=1; __Host-b=2");
});

/** A seeded generator of numbers in [0, 1) (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The RFC 6265 §5.4 Cookie header computed the plain way: every cookie of the jar looked at. */
function referenceHeader(cookies: readonly Cookie[], url: URL, now: number): string | null {
  const host = url.hostname;
  const isIp = host.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(host);
  const matches = cookies.filter((cookie) => {
    if (cookie.expires !== null && cookie.expires <= now) return false;
    const loopback = /^(?:localhost|.*\.localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(host);
    if (cookie.secure && url.protocol !== "https:" && !loopback) return false;
    const domainOk = cookie.hostOnly
      ? cookie.domain === host
      : cookie.domain === "" || cookie.domain === host ||
        (host.endsWith(`.${cookie.domain}`) && !isIp);
    const path = url.pathname;
    const pathOk = path === cookie.path ||
      (path.startsWith(cookie.path) &&
        (cookie.path.endsWith("/") || path[cookie.path.length] === "/"));
    return domainOk && pathOk;
  });
  if (matches.length === 0) return null;
  matches.sort((a, b) => b.path.length - a.path.length);
  return matches.map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
}

test("cookieHeader() of the indexed jar equals a scan of every cookie, for random jars", () => {
  const hosts = [
    "example.com",
    "www.example.com",
    "a.www.example.com",
    "api.example.com",
    "example.org",
    "x.example.org",
    "b.c.test",
    "c.test",
    "example.com.",
    "localhost",
    "127.0.0.1",
    "[::1]",
  ];
  const paths = ["/", "/a", "/a/", "/a/b", "/ab", "/a/b/c"];
  for (let seed = 1; seed <= 20; seed++) {
    const next = random(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
    const jar = new CookieJar();
    for (let i = 0; i < 300; i++) {
      const host = pick(hosts);
      const scheme = next() < 0.5 ? "https" : "http";
      if (next() < 0.1) {
        const domain = next() < 0.5 ? undefined : pick(hosts.slice(0, 8));
        jar.set(`n${Math.floor(next() * 40)}`, `${i}`, { domain, path: pick(paths) });
        continue;
      }
      const parts = [`n${Math.floor(next() * 40)}=${i}`];
      if (next() < 0.4) parts.push(`Domain=${pick(hosts)}`);
      if (next() < 0.6) parts.push(`Path=${pick(paths)}`);
      if (next() < 0.3) parts.push("Secure");
      if (next() < 0.3) parts.push(`Max-Age=${Math.floor(next() * 20) - 2}`);
      jar.setFromResponse(new URL(`${scheme}://${host}${pick(paths)}x`), [parts.join("; ")], NOW);
    }
    assert.ok(jar.size > 40, `seed ${seed}: ${jar.size} cookies`);
    for (let i = 0; i < 200; i++) {
      const url = new URL(`${next() < 0.5 ? "https" : "http"}://${pick(hosts)}${pick(paths)}`);
      const now = NOW + Math.floor(next() * 20_000);
      const expected = referenceHeader([...jar], url, now);
      assert.equal(jar.cookieHeader(url, now), expected, `seed ${seed}: ${url} at +${now - NOW}`);
    }
  }
});

test("cookieHeader() looks only at cookies stored for the request host and its domains", () => {
  // An expired cookie is removed when a lookup meets it; one for another site must not be met.
  const jar = new CookieJar();
  const early = Date.now() - 5_000;
  jar.setFromResponse(new URL("http://other.test/"), ["far=1; Max-Age=10"], early);
  jar.setFromResponse(new URL("http://www.example.com/"), ["near=1; Max-Age=10"], early);
  jar.setFromResponse(new URL("http://www.example.com/"), ["kept=1"], early);
  const later = Date.now() + 6_000;
  assert.equal(jar.cookieHeader(new URL("http://www.example.com/"), later), "kept=1");
  assert.deepEqual([...jar].map((cookie) => cookie.name), ["far", "kept"]);
});

test("r.cookies lists only what a jar keeps from a real response", async () => {
  const server = await serve(() => {
    const headers = new Headers();
    for (
      const line of [
        "k=1; Path=/",
        "e=5; Max-Age=0",
        "h=8; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "g=7; Domain=example.com",
        "d=4",
        "d=; Max-Age=-1",
        "s=3; Secure",
        "__Host-x=9; Path=/",
        "m=6; Max-Age=60",
      ]
    ) headers.append("set-cookie", line);
    return new Response("ok", { headers });
  });
  try {
    const r = await get(`${server.url}/set`);
    assert.equal(r.headers.split("\r\n").filter((line) => line.startsWith("set-cookie")).length, 9);
    // From a loopback host a Secure cookie is kept: it is a secure context, as in browsers.
    assert.deepEqual(Object.entries(r.cookies), [["k", "1"], ["s", "3"], ["m", "6"]]);
    assert.equal(Object.getPrototypeOf(r.cookies), null);
  } finally {
    await server.close();
  }
});

test("r.cookies of a response built by hand drops only what its lines delete or expire", () => {
  const r = new RequestsResponse(
    200,
    "OK",
    [
      "Set-Cookie: a=1",
      "Set-Cookie: e=5; Max-Age=0",
      "Set-Cookie: h=8; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
      "Set-Cookie: g=7; Domain=example.com",
      "Set-Cookie: s=3; Secure",
      "Set-Cookie: b=2; Max-Age=60",
      "Set-Cookie: a=; Max-Age=0",
    ].join("\r\n"),
  );
  assert.equal(r.url, "");
  assert.deepEqual(Object.entries(r.cookies), [["g", "7"], ["s", "3"], ["b", "2"]]);
});

test("a Session logs in to a local http server whose cookies are Secure, and sends them back", async () => {
  const server = await serve((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/login") {
      const headers = new Headers();
      headers.append("set-cookie", "sid=1; Secure; HttpOnly; Path=/");
      headers.append("set-cookie", "__Host-csrf=2; Secure; Path=/");
      return new Response("welcome", { headers });
    }
    return new Response(req.headers.get("cookie") ?? "none");
  });
  try {
    await using session = new Session();
    await session.post(`${server.url}/login`);
    assert.equal((await session.get(`${server.url}/me`)).content, "sid=1; __Host-csrf=2");
    // localhost is loopback too, but another host: its own cookies only.
    const local = server.url.replace("127.0.0.1", "localhost");
    assert.equal((await session.get(`${local}/me`)).content, "none");
  } finally {
    await server.close();
  }
});

test("a Session still refuses Secure cookies from a plain http origin that is not loopback", async () => {
  const fetch = (req: Request) =>
    new URL(req.url).pathname === "/login"
      ? new Response("welcome", { headers: { "set-cookie": "sid=1; Secure; Path=/" } })
      : new Response(req.headers.get("cookie") ?? "none");
  await using session = new Session({ fetch });
  await session.post("http://app.example/login");
  assert.equal(session.cookies.size, 0);
  assert.equal((await session.get("http://app.example/me")).content, "none");
  await session.post("https://app.example/login");
  assert.equal((await session.get("https://app.example/me")).content, "sid=1");
  assert.equal((await session.get("http://app.example/me")).content, "none");
});

test("a Cookie header built once per URL follows every change of the jar and every expiry", () => {
  const jar = new CookieJar();
  const url = new URL("https://example.com/a/b?q=1");
  jar.setFromResponse(url, ["a=1; Max-Age=10", "b=2; Path=/"], NOW);
  assert.equal(jar.cookieHeader(url, NOW), "a=1; b=2");
  assert.equal(jar.cookieHeader(url.href, NOW), "a=1; b=2");
  jar.setFromResponse(url, ["c=3; Path=/a/b"], NOW);
  assert.equal(jar.cookieHeader(url, NOW), "c=3; a=1; b=2");
  jar.set("b", "changed", { domain: "example.com", path: "/" });
  assert.equal(jar.cookieHeader(url, NOW), "c=3; a=1; b=changed");
  jar.delete("c");
  assert.equal(jar.cookieHeader(url.href, NOW), "a=1; b=changed");
  // `a` expires 10 s after NOW: the header built before no longer holds.
  assert.equal(jar.cookieHeader(url, NOW + 10_001), "b=changed");
  jar.clear();
  assert.equal(jar.cookieHeader(url, NOW), null);
  // Another path or scheme of the same host is its own header.
  jar.setFromResponse(url, ["d=4; Secure; Path=/a"], NOW);
  assert.equal(jar.cookieHeader(new URL("https://example.com/a/"), NOW), "d=4");
  assert.equal(jar.cookieHeader(new URL("http://example.com/a/"), NOW), null);
  assert.equal(jar.cookieHeader(new URL("https://example.com/"), NOW), null);
});
