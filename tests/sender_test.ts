// How a hop is sent, one sender per call: a call's TLS settings win over its session's and are
// kept by every hop of the call, whichever way (fetch or node:http) it leaves; runtime clients
// are shared and reference-counted, so closing one session leaves others' connections alone.
// Real https servers with a throwaway CA (openssl), on loopback.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import type http from "node:http";
import type net from "node:net";
import * as requests from "../mod.ts";
import { Session } from "../mod.ts";
import { IS_BUN, IS_DENO, IS_NODE } from "./_raw.ts";
import { makeTestPki, type TestPki } from "./_tls.ts";

interface Hit {
  method: string;
  url: string;
  body: string;
  /** Whether the client presented a certificate the server's CA signed. */
  authorized: boolean;
}

interface Origin {
  url: string;
  hits: Hit[];
  /** TLS connections accepted (handshake done). */
  readonly connections: number;
  close(): Promise<void>;
}

let pki: TestPki;
let other: TestPki;

before(() => {
  pki = makeTestPki();
  other = makeTestPki();
});

after(() => {
  pki.remove();
  other.remove();
});

/**
 * An https origin with the test CA's certificate: `/start/<status>` redirects to `/end` with that
 * status; `/slow` sends half its body, the rest 300 ms later; anything else answers 200 with what
 * it saw. It asks for a client certificate but
 * serves without one.
 */
async function origin(): Promise<Origin> {
  const hits: Hit[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = https.createServer({
    key: pki.serverKey,
    cert: pki.serverCert,
    ca: pki.ca,
    requestCert: true,
    rejectUnauthorized: false,
  }, (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (piece: string) => body += piece);
    req.on("end", () => {
      const authorized = (req.socket as unknown as { authorized: boolean }).authorized;
      hits.push({ method: req.method ?? "", url: req.url ?? "", body, authorized });
      const redirect = /^\/start\/(\d{3})$/.exec(req.url ?? "");
      if (req.url === "/slow") {
        res.write("first ");
        setTimeout(() => res.end("second"), 300);
      } else if (redirect !== null) {
        res.writeHead(Number(redirect[1]), { location: "/end", "content-length": "0" });
        res.end();
      } else {
        res.end(`${req.method} ${req.url} ${body}`);
      }
    });
  });
  server.on("secureConnection", (socket: net.Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    hits,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The two ways a hop leaves: fetch, and node:http for a GET with a body (not on Node: fetch). */
const PATHS = [
  ...(IS_NODE ? [] : [["fetch", {}] as const]),
  ["node:http", { data: "q" }] as const,
];

describe("a call's verify wins over its session's", () => {
  for (const [path, body] of PATHS) {
    it(`verify: true over a session's CA bundle is checked against the system store (${path})`, async () => {
      const server = await origin();
      await using session = new Session({ verify: pki.caFile });
      try {
        assert.equal((await session.get(`${server.url}/trusted`, body)).status_code, 200);
        const seen = server.hits.length;
        const error = await session.get(`${server.url}/strict`, { ...body, verify: true })
          .catch((e) => e);
        assert.ok(error instanceof requests.ConnectionError, String(error));
        assert.match(error.message, /^TLS handshake failed/);
        assert.equal(server.hits.length, seen, "the server saw the request");
      } finally {
        await server.close();
      }
    });

    it(`another CA bundle over a session's is the one checked (${path})`, async () => {
      const server = await origin();
      await using session = new Session({ verify: pki.caFile });
      try {
        const error = await session.get(`${server.url}/other`, { ...body, verify: other.ca })
          .catch((e) => e);
        assert.ok(error instanceof requests.ConnectionError, String(error));
        assert.equal(server.hits.length, 0);
      } finally {
        await server.close();
      }
    });

    it(`verify: true and null over a session's verify: false (${path})`, async () => {
      if (IS_DENO && path === "fetch") return; // Deno's fetch cannot turn verification off
      const server = await origin();
      await using session = new Session({ verify: false });
      try {
        assert.equal((await session.get(`${server.url}/lax`, body)).status_code, 200);
        for (const verify of [true, null]) {
          const error = await session.get(`${server.url}/strict`, { ...body, verify })
            .catch((e) => e);
          assert.ok(error instanceof requests.ConnectionError, `${verify}: ${error}`);
        }
        assert.equal(server.hits.length, 1);
      } finally {
        await server.close();
      }
    });
  }
});

describe("a GET with a body keeps its TLS settings on every hop", () => {
  for (const status of [302, 303, 307] as const) {
    it(`across a ${status}: verify and cert hold on the next hop`, async () => {
      const server = await origin();
      try {
        const r = await requests.get(`${server.url}/start/${status}`, {
          data: "q",
          verify: pki.caFile,
          cert: [pki.clientCertFile, pki.clientKeyFile],
        });
        assert.equal(r.status_code, 200);
        assert.equal(r.history.length, 1);
        const kept = status === 307;
        assert.equal(r.content, `GET /end ${kept ? "q" : ""}`);
        assert.deepEqual(server.hits.map((hit) => hit.authorized), [true, true]);
        assert.deepEqual(server.hits.map((hit) => hit.body), ["q", kept ? "q" : ""]);
      } finally {
        await server.close();
      }
    });
  }
});

describe("runtime clients are shared and released by whoever leased them", () => {
  for (const [path, body] of PATHS) {
    it(`closing one session leaves another's connections reused (${path})`, async () => {
      const server = await origin();
      const first = new Session({ verify: pki.caFile });
      const second = new Session({ verify: pki.caFile });
      try {
        await first.get(`${server.url}/a`, body);
        await second.get(`${server.url}/b`, body);
        const before = server.connections;
        first.close();
        await second.get(`${server.url}/c`, body);
        await second.get(`${server.url}/d`, body);
        assert.equal(server.connections, before, "closing the first session closed the second's");
        await first.get(`${server.url}/e`, body); // a closed session stays usable
      } finally {
        first.close();
        second.close();
        await server.close();
      }
    });
  }

  for (const [path, body] of PATHS) {
    it(`closing a session leaves its own calls in flight whole (${path})`, async () => {
      const server = await origin();
      const session = new Session({ verify: pki.caFile });
      try {
        const r = await session.get(`${server.url}/slow`, { ...body, stream: true });
        session.close();
        await r.read();
        assert.equal(r.content, "first second");
        // Once the call is over, the client is closed: a new call makes a new connection (Bun's
        // fetch keeps its connections in a pool of its own, which no client holds).
        const before = server.connections;
        await session.get(`${server.url}/again`, body);
        if (!(IS_BUN && path === "fetch")) assert.equal(server.connections, before + 1);
      } finally {
        session.close();
        await server.close();
      }
    });
  }

  it("closing a session with no TLS settings of its own closes nothing of anyone's", async () => {
    const server = await origin();
    try {
      const call = { data: "q", verify: pki.caFile };
      await requests.get(`${server.url}/a`, call);
      await requests.get(`${server.url}/b`, call);
      const before = server.connections;
      new Session().close();
      new Session({ verify: other.ca }).close();
      await requests.get(`${server.url}/c`, call);
      assert.equal(server.connections, before);
    } finally {
      await server.close();
    }
  });

  it("calls with the same settings share one connection on both paths", async () => {
    const server = await origin();
    try {
      for (let i = 0; i < 5; i++) {
        await requests.get(`${server.url}/n${i}`, { data: "q", verify: pki.ca });
      }
      assert.equal(server.connections, 1);
      if (!IS_NODE) {
        for (let i = 0; i < 5; i++) await requests.get(`${server.url}/f${i}`, { verify: pki.ca });
        assert.ok(server.connections <= 2, String(server.connections));
      }
    } finally {
      await server.close();
    }
  });
});

describe("what fetch cannot carry stays on node:http", () => {
  it("settings the runtime's fetch cannot carry keep every hop of a GET with a body on node:http", async () => {
    // Node's fetch has no TLS options; Deno's cannot turn verification off. Bun's can do both.
    const server = await origin();
    try {
      const verify = IS_BUN ? pki.ca : IS_DENO ? false : pki.ca;
      const r = await requests.get(`${server.url}/start/302`, { data: "q", verify });
      assert.equal(r.status_code, 200);
      assert.equal(r.content, "GET /end ");
      assert.equal(server.hits.length, 2);
    } finally {
      await server.close();
    }
  });
});
