// The Worker that tests/workers/run.ts bundles with mod.ts into one ES module and runs in workerd
// (through Miniflare), with no compatibility flags and with `nodejs_compat`. Each check runs
// requests in the Worker against real servers on loopback (httpbin, and the runner's own server
// for what httpbin cannot do) and returns plain data; the runner asserts on it. A request to
// `/<check name>` runs one check and answers `{ value }`, or `{ thrown }` when it threw.

import * as requests from "../../mod.ts";

/** The bindings the runner gives the Worker. */
export interface Env {
  /** httpbin's base URL. */
  HTTPBIN: string;
  /** The runner's own server: event streams, header echo, held-back lines, a request log. */
  SIDE: string;
  /** This configuration's name, so the runner's server keeps each run apart. */
  RUN: string;
}

/** What a rejection or throw looked like, as data. */
export interface Failure {
  name: string;
  message: string;
  typeError: boolean;
  requestError: boolean;
  /** For a TooManyRedirectsError: the last redirect's status and the statuses before it. */
  response?: { status: number; history: number[] };
}

function failure(error: unknown): Failure {
  if (!(error instanceof Error)) {
    return { name: "not an Error", message: String(error), typeError: false, requestError: false };
  }
  const out: Failure = {
    name: error.name,
    message: error.message,
    typeError: error instanceof TypeError,
    requestError: error instanceof requests.RequestError,
  };
  if (error instanceof requests.TooManyRedirectsError && error.response !== undefined) {
    const r = error.response;
    out.response = { status: r.status_code, history: r.history.map((h) => h.status_code) };
  }
  return out;
}

/** The rejection of `promise` as data, or a Failure named "resolved" when it did not reject. */
async function rejection(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return failure(error);
  }
  return { name: "resolved", message: "", typeError: false, requestError: false };
}

type HttpbinJson = {
  args: Record<string, string | string[]>;
  headers: Record<string, string>;
  json: unknown;
  form: Record<string, string>;
  files: Record<string, string>;
  cookies: Record<string, string>;
};

const httpbinJson = (r: requests.Response) => r.json() as HttpbinJson;

/** A hop as data: status, URL and the Set-Cookie cookies it carried. */
const hop = (r: requests.Response) => ({
  status: r.status_code,
  url: r.url,
  cookies: r.cookies,
});

const checks = {
  async params({ HTTPBIN }: Env) {
    const r = await requests.get(`${HTTPBIN}/get`, {
      params: { q: "two words", n: 1, many: ["a", "b"], none: null },
    });
    return { url: r.url, args: httpbinJson(r).args };
  },

  async headers({ HTTPBIN }: Env) {
    const r = await requests.get(`${HTTPBIN}/headers`, {
      headers: { "X-Custom": "yes", "User-Agent": "worker-check/1" },
    });
    return { sent: httpbinJson(r).headers, block: r.headers };
  },

  async json({ HTTPBIN }: Env) {
    const r = await requests.post(`${HTTPBIN}/post`, {
      json: { id: 1, name: "ünï", list: [1, 2] },
    });
    const body = httpbinJson(r);
    return { json: body.json, contentType: body.headers["Content-Type"] };
  },

  async seedResponse({ HTTPBIN }: Env) {
    const r = await requests.get(`${HTTPBIN}/robots.txt`);
    const missing = await requests.get(`${HTTPBIN}/status/404`);
    let raised: Failure | null = null;
    try {
      missing.raise_for_status();
    } catch (error) {
      raised = failure(error);
    }
    const built = new requests.Response(200, "", "content-type: application/json", '{"id": 1}');
    return {
      status: r.status_code,
      reason: r.reason,
      ok: r.ok,
      block: r.headers,
      content: r.content,
      text: r.text,
      bytes: r.bytes.byteLength,
      missing: { status: missing.status_code, ok: missing.ok, raised },
      built: { status: built.status_code, reason: built.reason, json: built.json() },
    };
  },

  async multipart({ HTTPBIN }: Env) {
    const r = await requests.post(`${HTTPBIN}/post`, {
      data: { field: "v", many: ["1", "2"] },
      files: {
        upload: ["notes.txt", "hello", "text/plain"],
        blob: new Blob([new Uint8Array([0x62, 0x79, 0x74, 0x65, 0x73])]),
      },
    });
    const body = httpbinJson(r);
    return { form: body.form, files: body.files, contentType: body.headers["Content-Type"] };
  },

  async digest({ HTTPBIN }: Env) {
    const auth = new requests.HTTPDigestAuth("user", "passwd");
    const path = "/digest-auth/auth/user/passwd";
    const direct = await requests.get(`${HTTPBIN}${path}`, { auth });
    const via = await requests.get(`${HTTPBIN}/redirect-to`, { params: { url: path }, auth });
    const wrong = await requests.get(`${HTTPBIN}${path}`, {
      auth: new requests.HTTPDigestAuth("user", "wrong"),
    });
    return {
      direct: { status: direct.status_code, json: direct.json(), history: direct.history.map(hop) },
      afterRedirect: { status: via.status_code, history: via.history.map((h) => h.status_code) },
      wrong: wrong.status_code,
    };
  },

  async timeouts({ HTTPBIN }: Env) {
    const started = Date.now();
    const slow = await rejection(requests.get(`${HTTPBIN}/delay/3`, { timeout: 0.5 }));
    const ms = Date.now() - started;
    const fast = await requests.get(`${HTTPBIN}/get`, { timeout: [2, 2] });
    return { slow, ms, fast: fast.status_code };
  },

  async iterLines({ HTTPBIN, SIDE }: Env) {
    const r = await requests.get(`${HTTPBIN}/stream/4`, { stream: true });
    const ids: number[] = [];
    for await (const line of r.iter_lines()) ids.push((JSON.parse(line) as { id: number }).id);
    // The runner's /lines sends "alpha" and holds the rest back for 500 ms.
    const held = await requests.get(`${SIDE}/lines`, { stream: true });
    const lines: [string, number][] = [];
    const t0 = Date.now();
    for await (const line of held.iter_lines()) lines.push([line, Date.now() - t0]);
    return { ids, lines };
  },

  async encodings({ HTTPBIN, SIDE }: Env) {
    const texts: Record<string, string> = {};
    for (const path of ["gzip", "deflate"]) {
      texts[path] = (await requests.get(`${HTTPBIN}/${path}`)).text.slice(0, 500);
    }
    // The runner's /encoded applies each coding listed, left to right.
    for (const coding of ["x-gzip", "br", "gzip, gzip", "identity, gzip", "deflate, gzip"]) {
      const r = await requests.get(`${SIDE}/encoded`, { params: { coding } });
      texts[coding] = r.text.slice(0, 500);
    }
    return texts;
  },

  async uploadProgress({ HTTPBIN }: Env) {
    const seen: [number, number | null][] = [];
    const r = await requests.post(`${HTTPBIN}/post`, {
      data: "x".repeat(100_000),
      upload_progress: (sent, total) => seen.push([sent, total]),
    });
    return { seen, received: (r.json() as { data: string }).data.length };
  },

  async tlsOptions({ SIDE, RUN }: Env) {
    const pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
    const url = `${SIDE}/log/${RUN}/tls-options`;
    const refused = [
      await rejection(requests.get(url, { verify: false })),
      await rejection(requests.get(url, { verify: pem })),
      await rejection(requests.get(url, { cert: [pem, "-----BEGIN PRIVATE KEY-----"] })),
      await rejection(requests.get(url, { proxies: { http: "http://127.0.0.1:9" } })),
      await rejection(new requests.Session({ verify: false }).get(url)),
    ];
    return refused;
  },

  async redirects({ HTTPBIN }: Env) {
    const r = await requests.get(`${HTTPBIN}/redirect/2`);
    const manual = await requests.get(`${HTTPBIN}/redirect/1`, { allow_redirects: false });
    const tooMany = await rejection(requests.get(`${HTTPBIN}/redirect/3`, { max_redirects: 2 }));
    const to303 = await requests.post(`${HTTPBIN}/redirect-to`, {
      params: { url: "/anything", status_code: 303 },
      data: "dropped",
    });
    const seen = to303.json() as { method: string; data: string };
    return {
      status: r.status_code,
      url: r.url,
      history: r.history.map(hop),
      nested: r.history.at(-1)?.history.length ?? null,
      manual: { status: manual.status_code, location: manual.raw?.headers.get("location") },
      tooMany,
      after303: { method: seen.method, data: seen.data, history: to303.history.length },
    };
  },

  async credentials({ HTTPBIN, SIDE, RUN }: Env) {
    const options = {
      auth: ["user", "secret"] as [string, string],
      headers: { "X-Api-Key": "k-1", "X-Kept": "kept" },
      sensitive_headers: ["X-Api-Key"],
    };
    const same = await requests.get(`${HTTPBIN}/redirect-to`, {
      ...options,
      params: { url: "/headers" },
    });
    const cross = await requests.get(`${HTTPBIN}/redirect-to`, {
      ...options,
      params: { url: `${SIDE}/echo?run=${RUN}` },
    });
    return {
      same: httpbinJson(same).headers,
      cross: cross.json() as Record<string, string>,
      crossHistory: cross.history.length,
    };
  },

  async sessionCookies({ HTTPBIN }: Env) {
    await using session = new requests.Session();
    const set = await session.get(`${HTTPBIN}/cookies/set`, { params: { flavour: "oat" } });
    const jar = session.cookies.get("flavour");
    const later = await session.get(`${HTTPBIN}/cookies`);
    const deleted = await session.get(`${HTTPBIN}/cookies/delete`, { params: { flavour: "" } });
    return {
      final: httpbinJson(set).cookies,
      history: set.history.map(hop),
      jar,
      later: httpbinJson(later).cookies,
      afterDelete: { jar: session.cookies.get("flavour") ?? null, sent: httpbinJson(deleted) },
    };
  },

  async events({ SIDE, RUN }: Env) {
    const seen: requests.ServerSentEvent[] = [];
    for await (const event of requests.events(`${SIDE}/events?run=${RUN}`, { timeout: 5 })) {
      seen.push(event);
    }
    return seen;
  },

  async httpCache({ HTTPBIN }: Env) {
    const cache = new requests.HttpCache({ store: new requests.MemoryCacheStore() });
    const url = `${HTTPBIN}/cache/60`;
    const first = await requests.get(url, { cache });
    await cache.flush();
    const second = await requests.get(url, { cache });
    await using session = new requests.Session({ cache: true });
    await session.get(url);
    const again = await session.get(url);
    return {
      first: { fromCache: first.from_cache, status: first.cache_status },
      second: { fromCache: second.from_cache, status: second.cache_status, body: second.content },
      sameBody: second.content === first.content,
      session: again.from_cache,
      sqlite: await rejection(Promise.resolve().then(() => new requests.SqliteCacheStore("x"))),
    };
  },

  async bodyOnGet({ SIDE, RUN }: Env) {
    return [
      await rejection(requests.get(`${SIDE}/log/${RUN}/get-body`, { data: "x" })),
      await rejection(requests.head(`${SIDE}/log/${RUN}/head-body`, { json: { a: 1 } })),
      await rejection(requests.request("GET", `${SIDE}/log/${RUN}/get-files`, {
        files: { f: ["a.txt", "a"] },
      })),
    ];
  },
};

/** The checks and the data each returns. */
export type Checks = typeof checks;

/** The name of a check. */
export type CheckName = keyof Checks;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const name = new URL(request.url).pathname.slice(1);
    if (!Object.hasOwn(checks, name)) {
      return globalThis.Response.json({ thrown: `No check named '${name}'` }, { status: 404 });
    }
    try {
      const value = await checks[name as CheckName](env);
      return globalThis.Response.json({ value });
    } catch (error) {
      const thrown = error instanceof Error ? (error.stack ?? String(error)) : String(error);
      return globalThis.Response.json({ thrown });
    }
  },
};
