// Real TLS and proxy traffic on loopback: a test CA made with openssl, node:https servers (one of
// them demanding a client certificate), a plain node:http origin and a forwarding proxy written
// with node:net that speaks both absolute-form forwarding and CONNECT. Node's fetch has no TLS or
// proxy options, so on Node each of these tests checks instead that its options are refused.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { RuntimeClient } from "../src/transport/_clients.ts";
import { settingsOf, type TransportOptions } from "../src/transport/_settings.ts";
import * as requests from "../mod.ts";
import { Session } from "../mod.ts";
import { IS_BUN, IS_DENO, IS_NODE, response } from "./_server.ts";
import { makeTestPki } from "./_tls.ts";

/** The runtime's fetch fields for `options`, as the module's transport makes them. */
interface Transport {
  init(url: URL): Readonly<Record<string, unknown>>;
  close(): void;
}

/**
 * A runtime client for `options` seen from fetch (null when they ask for nothing special); what
 * this runtime's fetch cannot carry throws, as it does for a request.
 */
function createTransport(options: TransportOptions): Transport | null {
  const settings = settingsOf(options);
  if (settings === null) return null;
  const client = new RuntimeClient(settings);
  client.fetchInit("https");
  return {
    init: (url) => client.fetchInit(url.protocol === "https:" ? "https" : "http"),
    close: () => client.close(),
  };
}

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
  authorized?: boolean;
  peer?: string | null;
}
interface ProxySeen {
  method: string;
  target: string;
  proxyAuthorization: string | null;
}
interface PeerSocket {
  authorized?: boolean;
  getPeerCertificate?(): { subject?: { CN?: string } } | undefined;
}

let dir = "";
const pem = { ca: "", cert: "", key: "" };
const files = { ca: "", cert: "", key: "" };
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
const seenByHttps: Seen[] = [];
const seenByMtls: Seen[] = [];
const seenByHttp: Seen[] = [];
const seenByProxy: ProxySeen[] = [];
let httpsUrl = "";
let mtlsUrl = "";
let httpUrl = "";
let proxyUrl = "";
let proxyHost = "";

function makeCertificates(): void {
  const pki = makeTestPki();
  dir = pki.dir;
  files.ca = pki.caFile;
  files.cert = pki.clientCertFile;
  files.key = pki.clientKeyFile;
  pem.ca = pki.ca;
  pem.cert = pki.clientCert;
  pem.key = pki.clientKey;
}

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

function recorder(log: Seen[]): http.RequestListener {
  return (req, res) => {
    const socket = req.socket as unknown as PeerSocket;
    log.push({
      url: req.url ?? "",
      headers: req.headers,
      authorized: socket.authorized,
      peer: socket.getPeerCertificate?.()?.subject?.CN ?? null,
    });
    res.setHeader("content-type", "text/plain");
    res.end(`hello ${req.url}`);
  };
}

/** A forwarding proxy: absolute-form requests are re-sent in origin form, CONNECT is tunnelled. */
function proxyConnection(client: net.Socket): void {
  let buffered = new Uint8Array(0);
  client.on("error", () => client.destroy());
  const onData = (chunk: Uint8Array): void => {
    const joined = new Uint8Array(buffered.length + chunk.length);
    joined.set(buffered);
    joined.set(chunk, buffered.length);
    buffered = joined;
    const text = new TextDecoder("latin1").decode(buffered);
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return;
    client.off("data", onData);
    client.pause();
    const [requestLine, ...lines] = text.slice(0, end).split("\r\n");
    const [method, target, version] = requestLine.split(" ");
    const headers = lines.map((line) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon), line.slice(colon + 1).trim()] as const;
    });
    const auth = headers.find(([name]) => name.toLowerCase() === "proxy-authorization");
    seenByProxy.push({ method, target, proxyAuthorization: auth?.[1] ?? null });
    const rest = buffered.subarray(end + 4);
    let host: string;
    let port: number;
    let head: string | null = null;
    if (method === "CONNECT") {
      const colon = target.lastIndexOf(":");
      host = target.slice(0, colon);
      port = Number(target.slice(colon + 1));
    } else {
      const url = new URL(target);
      host = url.hostname;
      port = Number(url.port || 80);
      // A proxy consumes Proxy-Authorization and the hop-by-hop headers.
      const kept = headers.filter(([name]) =>
        !/^(proxy-authorization|proxy-connection|connection|keep-alive)$/i.test(name)
      );
      head = [
        `${method} ${url.pathname}${url.search} ${version}`,
        ...kept.map(([name, value]) => `${name}: ${value}`),
        "Connection: close",
        "",
        "",
      ].join("\r\n");
    }
    const upstream = net.connect(port, host, () => {
      if (head === null) client.write(response("200 Connection Established"));
      else upstream.write(head);
      if (rest.length > 0) upstream.write(rest);
      upstream.pipe(client);
      client.pipe(upstream);
      client.resume();
    });
    sockets.add(upstream);
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on("close", () => upstream.destroy());
  };
  client.on("data", onData);
}

before(async () => {
  makeCertificates();
  const key = fs.readFileSync(`${dir}/server.key`);
  const cert = fs.readFileSync(`${dir}/server.pem`);
  const httpsPort = await listen(https.createServer({ key, cert }, recorder(seenByHttps)));
  const mtlsPort = await listen(
    https.createServer(
      { key, cert, ca: pem.ca, requestCert: true, rejectUnauthorized: true },
      recorder(seenByMtls),
    ),
  );
  const httpPort = await listen(http.createServer(recorder(seenByHttp)));
  const proxyPort = await listen(net.createServer(proxyConnection));
  httpsUrl = `https://127.0.0.1:${httpsPort}/`;
  mtlsUrl = `https://localhost:${mtlsPort}/`;
  httpUrl = `http://127.0.0.1:${httpPort}/`;
  proxyHost = `127.0.0.1:${proxyPort}`;
  proxyUrl = `http://${proxyHost}`;
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Fetch `url` with the transport's init merged in, and read the body. */
async function get(
  url: string,
  transport: Transport | null,
): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const response = await fetch(target, { ...transport?.init(target) });
  return { status: response.status, text: await response.text() };
}

async function withTransport(
  options: TransportOptions,
  body: (transport: Transport) => Promise<void>,
): Promise<void> {
  const transport = createTransport(options);
  assert.ok(transport !== null, "expected a transport");
  try {
    await body(transport);
  } finally {
    transport.close();
  }
}

// Deno's node:test never runs `after` once a test was skipped, so a runtime-specific test is
// registered only on its runtime instead of using `{ skip }`.
function testOn(
  runtime: "Deno" | "Bun" | "Node",
  name: string,
  body: () => void | Promise<void>,
): void {
  if (runtime === "Deno" ? IS_DENO : runtime === "Bun" ? IS_BUN : IS_NODE) test(name, body);
}

/**
 * On Node, checks that `options` are refused with a TypeError naming the first of them and
 * Node.js, by createTransport(), request() and a Session alike, before anything is sent and
 * without showing proxy credentials; returns true there, so the test ends. Elsewhere returns
 * false at once, and the test goes on to check what the options do.
 */
async function refusedOnNode(options: TransportOptions): Promise<boolean> {
  if (!IS_NODE) return false;
  const first = options.verify !== undefined && options.verify !== true
    ? "verify"
    : options.cert !== undefined
    ? "cert"
    : "proxies";
  const check = (error: unknown): true => {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${error}`);
    assert.match(
      error.message,
      new RegExp(`^Option '${first}' is not supported on this runtime \\(Node\\.js\\)`),
    );
    assert.ok(!/@|hunter2|s3cret|p%3Ass/.test(error.message), error.message);
    return true;
  };
  const seen = () => [seenByHttp, seenByHttps, seenByMtls, seenByProxy].map((l) => l.length);
  const before = seen();
  assert.throws(() => createTransport(options), check);
  await assert.rejects(requests.get(httpUrl, options), check);
  await assert.rejects(requests.post(httpsUrl, { ...options, json: { a: 1 } }), check);
  const session = new Session(options);
  await assert.rejects(session.get(httpUrl), check);
  session.close();
  assert.deepEqual(seen(), before);
  return true;
}

function typeErrorOf(options: unknown): TypeError {
  try {
    createTransport(options as TransportOptions)?.close();
  } catch (error) {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${error}`);
    return error;
  }
  assert.fail(`expected createTransport(${JSON.stringify(options)}) to throw`);
}

test("createTransport() returns null when the options ask for nothing special", () => {
  const plain = [
    {},
    { verify: true },
    { verify: undefined, cert: undefined, proxies: undefined },
    { proxies: {} },
    { proxies: { http: undefined } },
  ] as const satisfies readonly TransportOptions[];
  for (const options of plain) assert.equal(createTransport(options), null);
});

test("plain fetch rejects the test server's certificate (verification is on by default)", async () => {
  await assert.rejects(get(httpsUrl, null), (error: unknown) => {
    assert.ok(error instanceof TypeError, `expected fetch's TypeError, got ${error}`);
    // What it is about: the issuer (the test CA) is unknown. Deno says so in the cause's
    // message, Bun in the error's code, Node in the cause's code.
    type Coded = { code?: string; message?: string };
    const { code, cause } = error as TypeError & Coded & { cause?: Coded };
    const about = `${error.message} ${code} ${cause?.code} ${cause?.message}`;
    assert.match(about, /invalid peer certificate: UnknownIssuer|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    return true;
  });
});

test("verify as PEM text trusts the test CA", async () => {
  if (await refusedOnNode({ verify: pem.ca })) return;
  await withTransport({ verify: pem.ca }, async (transport) => {
    assert.deepEqual(await get(`${httpsUrl}pem-text`, transport), {
      status: 200,
      text: "hello /pem-text",
    });
  });
});

test("verify as a file path trusts the test CA, for localhost too", async () => {
  if (await refusedOnNode({ verify: files.ca })) return;
  await withTransport({ verify: files.ca }, async (transport) => {
    const localhost = httpsUrl.replace("127.0.0.1", "localhost");
    assert.equal((await get(`${localhost}by-path`, transport)).text, "hello /by-path");
  });
});

testOn("Bun", "verify: false accepts an untrusted certificate on Bun", async () => {
  await withTransport({ verify: false }, async (transport) => {
    assert.equal((await get(`${httpsUrl}insecure`, transport)).status, 200);
  });
});

testOn("Node", "verify: false is a TypeError naming the option and Node.js on Node", () => {
  const error = typeErrorOf({ verify: false });
  assert.equal(
    error.message,
    "Option 'verify' is not supported on this runtime (Node.js): " +
      "it needs Deno.createHttpClient or Bun's fetch 'tls' option",
  );
});

testOn("Deno", "verify: false is a TypeError naming the option and Deno on Deno", () => {
  const error = typeErrorOf({ verify: false });
  assert.match(error.message, /^Option 'verify' set to false is not supported/);
  assert.match(error.message, /\(Deno\)/);
  assert.match(error.message, /--unsafely-ignore-certificate-errors/);
});

test("a transport's TLS settings do not leak into the next plain fetch", async () => {
  if (await refusedOnNode({ verify: pem.ca })) return;
  const relaxing: TransportOptions[] = [{ verify: pem.ca }];
  if (IS_BUN) relaxing.push({ verify: false });
  for (const options of relaxing) {
    await withTransport(options, async (transport) => {
      assert.equal((await get(`${httpsUrl}relaxed`, transport)).status, 200);
      await assert.rejects(get(`${httpsUrl}strict`, null));
      // And the other way round, while the relaxed connection may still be pooled.
      assert.equal((await get(`${httpsUrl}relaxed-again`, transport)).status, 200);
      await assert.rejects(get(`${httpsUrl}strict-again`, null));
    });
  }
});

test("cert presents the client certificate to a server that requires one", async () => {
  if (await refusedOnNode({ verify: pem.ca, cert: [pem.cert, pem.key] })) return;
  const pairs: [string, readonly [string, string]][] = [
    ["PEM text", [pem.cert, pem.key]],
    ["file paths", [files.cert, files.key]],
  ];
  for (const [label, cert] of pairs) {
    seenByMtls.length = 0;
    await withTransport({ verify: pem.ca, cert }, async (transport) => {
      assert.equal((await get(`${mtlsUrl}mtls`, transport)).status, 200, label);
    });
    assert.equal(seenByMtls.length, 1, label);
    assert.equal(seenByMtls[0].authorized, true, label);
    // Bun's node:https does not expose the peer certificate; Deno's does.
    if (seenByMtls[0].peer !== null) assert.equal(seenByMtls[0].peer, "test client", label);
  }
});

test("PEM text after a preamble (openssl pkcs12's Bag Attributes) is PEM, never quoted as a path", async () => {
  const bag = "Bag Attributes\n    localKeyID: 01 02 03\n";
  const secret = pem.key.split("\n")[1];
  for (const cert of [[pem.cert, `${bag}${pem.key}`], [`${bag}${pem.cert}`, `${bag}${pem.key}`]]) {
    seenByMtls.length = 0;
    // A GET with a body goes through node:http, which takes TLS settings on every runtime.
    const r = await requests.get(`${mtlsUrl}bag`, {
      data: "q",
      verify: pem.ca,
      cert: cert as [string, string],
    }).catch((e) => e);
    assert.ok(!String(r?.message).includes(secret), "the message shows the private key");
    assert.equal(r.status_code, 200, String(r));
    assert.equal(seenByMtls.length, 1);
    assert.equal(seenByMtls[0].authorized, true);
  }
});

test("the server requiring a client certificate rejects a request without one", async () => {
  if (await refusedOnNode({ verify: pem.ca })) return;
  seenByMtls.length = 0;
  await withTransport({ verify: pem.ca }, async (transport) => {
    await assert.rejects(get(`${mtlsUrl}no-cert`, transport));
  });
  assert.equal(seenByMtls.length, 0);
});

test("malformed options are TypeErrors naming the option", () => {
  const cases = [
    [{ verify: 1 }, /^Option 'verify' must be a boolean or a CA bundle .*got a number$/],
    [{ verify: "  " }, /^Option 'verify' .*got an empty string$/],
    [{ cert: "client.pem" }, /^Option 'cert' must be a \[certificate, key\] pair.*got a string$/],
    [{ cert: ["client.pem"] }, /^Option 'cert' .*got an array of length 1$/],
    [{ cert: ["client.pem", 2] }, /^Option 'cert' /],
    [{ proxies: "http://127.0.0.1:3128" }, /^Option 'proxies' must be an object/],
    [{ proxies: { ftp: "http://127.0.0.1:3128" } }, /^Option 'proxies' has an unknown key 'ftp'/],
    [{ proxies: { http: 3128 } }, /^Option 'proxies\.http' must be a proxy URL string/],
    [
      { proxies: { https: "socks5://127.0.0.1:1080" } },
      /^Option 'proxies\.https' must be an http:\/\/ or https:\/\/ proxy URL, got 'socks5:\/\/127\.0\.0\.1:1080'$/,
    ],
    [{ proxies: { http: "127.0.0.1:3128" } }, /^Option 'proxies\.http' is not a valid URL/],
    [{ proxies: { http: "http://%zz:x@127.0.0.1:3128" } }, /^Option 'proxies\.http' has malformed/],
  ] as const;
  for (const [options, message] of cases) {
    assert.match(typeErrorOf(options).message, message, JSON.stringify(options));
  }
});

test("unreadable or non-PEM files are TypeErrors naming the option, the path and why", async () => {
  if (await refusedOnNode({ verify: `${dir}/missing.pem` })) return;
  const missing = `${dir}/missing.pem`;
  const cases = [
    [
      { verify: missing },
      `Cannot read the CA bundle of option 'verify' from '${missing}': no such file`,
    ],
    [
      { cert: [dir, files.key] },
      `Cannot read the certificate of option 'cert' from '${dir}': it is a directory`,
    ],
    [
      { verify: files.key },
      `Cannot use the CA bundle of option 'verify': '${files.key}' holds no PEM certificate`,
    ],
    [
      { cert: [files.cert, files.cert] },
      `Cannot use the key of option 'cert': '${files.cert}' holds no PEM private key`,
    ],
    [
      { verify: pem.key },
      "Cannot use the CA bundle of option 'verify': the text holds no PEM certificate",
    ],
  ] as const;
  for (const [options, message] of cases) {
    const error = typeErrorOf(options);
    assert.equal(error.message, message);
    if (message.startsWith("Cannot read")) assert.ok(error.cause instanceof Error);
  }
});

test("errors about a proxy URL never show its credentials", () => {
  const secrets = [
    { proxies: { https: "socks5://alice:hunter2@127.0.0.1:1080" } },
    { proxies: { http: "http://alice:hunter2@" } },
    { proxies: { http: "alice:hunter2@127.0.0.1:3128" } },
  ];
  for (const options of secrets) {
    const { message } = typeErrorOf(options);
    assert.ok(!message.includes("hunter2") && !message.includes("alice"), message);
  }
});

test("init() gives the shared frozen empty object to a scheme that needs nothing", async () => {
  if (await refusedOnNode({ proxies: { http: proxyUrl } })) return;
  const transport = createTransport({ proxies: { http: proxyUrl } });
  assert.ok(transport !== null);
  try {
    const first = transport.init(new URL("https://127.0.0.1/"));
    assert.deepEqual(Object.keys(first), []);
    assert.ok(Object.isFrozen(first));
    assert.equal(transport.init(new URL("https://localhost/other")), first);
    const routed = transport.init(new URL("http://127.0.0.1/"));
    assert.deepEqual(Object.keys(routed), [IS_DENO ? "client" : "proxy"]);
    assert.ok(Object.isFrozen(routed));
  } finally {
    transport.close();
  }
});

test("close() is idempotent and a use after close() makes a new client", async () => {
  if (await refusedOnNode({ verify: pem.ca })) return;
  const transport = createTransport({ verify: pem.ca });
  assert.ok(transport !== null);
  const before = transport.init(new URL(httpsUrl));
  transport.close();
  transport.close();
  const after = transport.init(new URL(httpsUrl));
  assert.notEqual(after, before);
  assert.equal((await get(httpsUrl, transport)).status, 200);
  transport.close();
});

test("proxies.http sends an http request through the proxy in absolute form", async () => {
  if (await refusedOnNode({ proxies: { http: proxyUrl } })) return;
  seenByProxy.length = 0;
  seenByHttp.length = 0;
  await withTransport({ proxies: { http: proxyUrl } }, async (transport) => {
    const url = `${httpUrl}via-proxy?q=1`;
    assert.deepEqual(await get(url, transport), { status: 200, text: "hello /via-proxy?q=1" });
    assert.deepEqual(seenByProxy, [{ method: "GET", target: url, proxyAuthorization: null }]);
    assert.equal(seenByHttp.at(-1)?.url, "/via-proxy?q=1");
  });
});

test("proxies.https tunnels through CONNECT to the HTTPS server", async () => {
  if (await refusedOnNode({ verify: pem.ca, proxies: { https: proxyUrl } })) return;
  seenByProxy.length = 0;
  await withTransport({ verify: pem.ca, proxies: { https: proxyUrl } }, async (transport) => {
    assert.equal((await get(`${httpsUrl}tunnelled`, transport)).text, "hello /tunnelled");
  });
  assert.deepEqual(seenByProxy, [{
    method: "CONNECT",
    target: new URL(httpsUrl).host,
    proxyAuthorization: null,
  }]);
});

test("the proxy is chosen by the target's scheme", async () => {
  if (await refusedOnNode({ verify: pem.ca, proxies: { http: proxyUrl } })) return;
  seenByProxy.length = 0;
  await withTransport({ verify: pem.ca, proxies: { http: proxyUrl } }, async (transport) => {
    assert.equal((await get(`${httpsUrl}direct`, transport)).status, 200);
    assert.equal(seenByProxy.length, 0, "an https request must not use proxies.http");
    assert.equal((await get(`${httpUrl}proxied`, transport)).status, 200);
    assert.equal(seenByProxy.length, 1);
  });
});

test("credentials in the proxy URL reach the proxy as Proxy-Authorization", async () => {
  if (await refusedOnNode({ proxies: { http: `http://us%40er:p%3Ass@${proxyHost}` } })) return;
  seenByProxy.length = 0;
  const proxy = `http://us%40er:p%3Ass@${proxyHost}`;
  await withTransport({ proxies: { http: proxy } }, async (transport) => {
    assert.equal((await get(`${httpUrl}with-auth`, transport)).status, 200);
  });
  assert.equal(seenByProxy.length, 1);
  assert.equal(seenByProxy[0].proxyAuthorization, `Basic ${btoa("us@er:p:ss")}`);
});

testOn("Bun", "through a CONNECT tunnel the origin never sees Proxy-Authorization", async () => {
  seenByProxy.length = 0;
  seenByHttps.length = 0;
  const proxies = { https: `http://alice:hunter2@${proxyHost}` };
  await withTransport({ verify: pem.ca, proxies }, async (transport) => {
    assert.equal((await get(`${httpsUrl}secret-tunnel`, transport)).status, 200);
  });
  assert.equal(seenByProxy[0].method, "CONNECT");
  assert.equal(seenByProxy[0].proxyAuthorization, `Basic ${btoa("alice:hunter2")}`);
  assert.equal(seenByHttps.length, 1);
  assert.equal(seenByHttps[0].headers["proxy-authorization"], undefined);
});

testOn(
  "Deno",
  "Deno refuses credentials in an http:// proxy URL for https targets, without showing them",
  () => {
    const error = typeErrorOf({ proxies: { https: `http://alice:hunter2@${proxyHost}` } });
    assert.match(error.message, /^Option 'proxies\.https' with credentials .* \(Deno\)/);
    assert.ok(!error.message.includes("hunter2"));
    // Deno never sends an https:// proxy's credentials with a forwarded http request either.
    const forwarded = typeErrorOf({ proxies: { http: `https://alice:hunter2@${proxyHost}` } });
    assert.match(forwarded.message, /^Option 'proxies\.http' with credentials .* \(Deno\)/);
    assert.ok(!forwarded.message.includes("hunter2"));
    // Without credentials, or for http targets, the same proxy is fine.
    createTransport({ proxies: { https: proxyUrl } })?.close();
    createTransport({ proxies: { http: `http://alice:hunter2@${proxyHost}` } })?.close();
  },
);

testOn(
  "Deno",
  "Deno.createHttpClient still sends Proxy-Authorization through CONNECT (why Deno refuses it)",
  async () => {
    // If this starts failing, Deno fixed the leak and 'proxies.https' may accept credentials.
    seenByHttps.length = 0;
    const client = Deno.createHttpClient({
      caCerts: [pem.ca],
      proxy: { url: proxyUrl, basicAuth: { username: "alice", password: "hunter2" } },
    });
    try {
      const response = await fetch(`${httpsUrl}leak`, { client });
      await response.body?.cancel();
    } finally {
      client.close();
    }
    assert.equal(seenByHttps[0]?.headers["proxy-authorization"], `Basic ${btoa("alice:hunter2")}`);
  },
);

testOn(
  "Deno",
  "without Deno or Bun powers, createTransport() names the option and the runtime",
  () => {
    // A child Deno with its `Deno` global hidden looks like Node.js to the module.
    const script = `
      void process.versions;
      Object.defineProperty(globalThis, "Deno", { value: undefined, configurable: true });
      const { RuntimeClient } = await import(${
      JSON.stringify(new URL("../src/transport/_clients.ts", import.meta.url).href)
    });
      const { settingsOf } = await import(${
      JSON.stringify(new URL("../src/transport/_settings.ts", import.meta.url).href)
    });
      const createTransport = (options) => {
        const settings = settingsOf(options);
        if (settings === null) return null;
        return new RuntimeClient(settings).fetchInit("https");
      };
      const results = [];
      for (const options of ${
      JSON.stringify([
        { verify: true },
        { verify: false },
        { cert: ["a.pem", "a.key"] },
        { proxies: { https: "http://127.0.0.1:3128" } },
      ])
    }) {
        try {
          results.push(String(createTransport(options)));
        } catch (error) {
          results.push(error.name + ": " + error.message);
        }
      }
      console.log(JSON.stringify(results));`;
    const output = execFileSync(Deno.execPath(), ["eval", script], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(output), [
      "null",
      "TypeError: Option 'verify' is not supported on this runtime (Node.js): " +
      "it needs Deno.createHttpClient or Bun's fetch 'tls' option",
      "TypeError: Option 'cert' is not supported on this runtime (Node.js): " +
      "it needs Deno.createHttpClient or Bun's fetch 'tls' option",
      "TypeError: Option 'proxies' is not supported on this runtime (Node.js): " +
      "it needs Deno.createHttpClient or Bun's fetch 'proxy' option",
    ]);
  },
);

test("requests: proxies route a request and the origin never sees Proxy-Authorization", async () => {
  if (await refusedOnNode({ proxies: { http: `http://bob:s3cret@${proxyHost}` } })) return;
  seenByProxy.length = 0;
  seenByHttp.length = 0;
  const r = await requests.get(`${httpUrl}through-module`, {
    proxies: { http: `http://bob:s3cret@${proxyHost}` },
  });
  assert.equal(r.content, "hello /through-module");
  assert.equal(seenByProxy[0].target, `${httpUrl}through-module`);
  assert.equal(seenByProxy[0].proxyAuthorization, `Basic ${btoa("bob:s3cret")}`);
  assert.equal(seenByHttp.at(-1)?.headers["proxy-authorization"], undefined);
});

test("requests: a Session tunnels https through the proxy with its own CA", async () => {
  if (await refusedOnNode({ verify: pem.ca, proxies: { https: proxyUrl } })) return;
  seenByProxy.length = 0;
  await using session = new Session({ verify: pem.ca, proxies: { https: proxyUrl } });
  // By name: Bun keeps the tunnel an earlier test opened to 127.0.0.1 with the same settings.
  const origin = httpsUrl.replace("127.0.0.1", "localhost");
  assert.equal((await session.get(`${origin}one`)).content, "hello /one");
  assert.equal((await session.get(`${origin}two`)).content, "hello /two");
  assert.ok(seenByProxy.length > 0, "the proxy saw nothing");
  assert.ok(seenByProxy.every((seen) => seen.method === "CONNECT"));
});

test("requests: cert presents a client certificate; without it the handshake fails", async () => {
  if (await refusedOnNode({ verify: files.ca, cert: [files.cert, files.key] })) return;
  seenByMtls.length = 0;
  const r = await requests.get(`${mtlsUrl}module-mtls`, {
    verify: files.ca,
    cert: [files.cert, files.key],
  });
  assert.equal(r.status_code, 200);
  assert.equal(seenByMtls.at(-1)?.authorized, true);
  await assert.rejects(
    requests.get(`${mtlsUrl}module-no-cert`, { verify: files.ca }),
    requests.ConnectionError,
  );
});

// Node's fetch has no TLS options (verify is a TypeError there, tested above).
if (!IS_NODE) {
  test("per-call verify reuses one client and its connections across calls", async () => {
    const { tlsServer } = await import("./_tls.ts");
    const server = await tlsServer((_req, res) => res.end("ok"));
    try {
      for (let i = 0; i < 20; i++) {
        const r = await requests.get(`${server.url}/n${i}`, { verify: server.ca });
        assert.equal(r.content, "ok");
      }
      assert.equal(server.connections, 1);
    } finally {
      await server.close();
    }
  });
}
