// The contenders, each doing every scenario the way its documentation shows. Peers are
// imported lazily, so a child process that measures one contender loads only that one.
//
// The request shapes of the timing (bench/timing.ts), and what "the same wire work" means for
// raw fetch in each (bench/README.md has the table):
// - get:             GET, parse the JSON answer.
// - get_timeout:     the same with an `X-Trace: 1` header and a 10 s timeout; raw fetch sends
//                    the header and `signal: AbortSignal.timeout(10000)`, the peers their own
//                    `timeout` option.
// - post:            POST a small JSON document, parse the JSON answer.
// - session:         GET through a session made once (`new Session()`, `ky.create()`,
//                    `ofetch.create()`, `axios.create()`); raw fetch has no session, so it sends
//                    the plain GET, which is the same wire work.
// - session_cookies: the same, the session holding 10 cookies for the host: the module's jar
//                    holds them, the peers' instances and raw fetch send the same Cookie header
//                    (none of them has a jar, and the answer sets no cookie).
// - redirect:        GET a URL answering 302 to the JSON document; raw fetch and ky/ofetch let
//                    fetch follow it (`redirect: "follow"`, the default), axios its
//                    follow-redirects, the module follows it itself (SPEC: `redirect: "manual"`).
//
// Settings that are not defaults, and why (each is what a user who reads the docs would set):
// - ky: `timeout: false` for the 1 GB transfers (its default is 10 s for the whole exchange),
//   `retry: 0` for the upload (ky clones a request it may retry, and a cloned stream is teed,
//   i.e. buffered whole).
// - axios: `maxRedirects: 0` for the upload (follow-redirects keeps every written chunk to
//   replay it on a redirect), `maxBodyLength`/`maxContentLength: Infinity` (defaults: 10 MB).
//   On Deno and Bun axios picks its Node `http` adapter (there is no XMLHttpRequest).
// - ky, ofetch: they have no multipart from a stream (FormData needs a Blob, held in memory),
//   so they send the same hand-framed multipart stream as raw fetch.

import process from "node:process";

/** The sequential request shapes of the timing, in report order. */
export const SHAPES = [
  "get",
  "get_timeout",
  "post",
  "session",
  "session_cookies",
  "redirect",
] as const;
export type Shape = typeof SHAPES[number];

/** One request of one shape; resolves to the parsed JSON answer. */
export type Send = (url: string) => Promise<unknown>;

/** What every contender does; each returns a count so that no work is optimised away. */
export interface Contender {
  /** One request of each shape, written as the contender's documentation shows. */
  shapes: Record<Shape, Send>;
  /** GET a body into memory; returns its size. */
  getBytes(url: string): Promise<number>;
  /** GET a body chunk by chunk, never holding it whole; returns its size. */
  streamBytes(url: string): Promise<number>;
  /** POST `size` bytes from `file` as the multipart file field "f"; returns what the server read. */
  upload(
    url: string,
    file: ReadableStream<Uint8Array>,
    size: number,
  ): Promise<number>;
}

/** The contenders in report order; `fetch` is the baseline every ratio is taken to. */
export const NAMES = ["fetch", "requests", "ky", "ofetch", "axios"] as const;
export type Name = typeof NAMES[number];

/** The JSON document the post shape sends. */
export const PAYLOAD = {
  id: 7,
  name: "requests",
  tags: ["a", "b", "c"],
  nested: { ok: true, count: 3, ratio: 0.5 },
};
/** The header of the get_timeout shape. */
export const TRACE = { name: "X-Trace", value: "1" } as const;
/** The timeout of the get_timeout shape, in seconds. */
export const TIMEOUT_S = 10;
/** The host bench/server.ts listens on: the domain of the session's cookies. */
export const HOST = "127.0.0.1";
/** The 10 cookies of the session_cookies shape, in the order a jar sends them. */
export const COOKIES: readonly (readonly [string, string])[] = Array.from(
  { length: 10 },
  (_, i) => [`c${i}`, `value${i}`] as const,
);
/** The Cookie header those 10 cookies make. */
export const COOKIE_HEADER: string = COOKIES.map(([name, value]) => `${name}=${value}`).join("; ");

const CHUNK = 64 * 1024;

/** A stream of `size` zero bytes in 64 KiB chunks, produced as the consumer pulls. */
export function source(size: number): ReadableStream<Uint8Array> {
  let left = size;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const n = Math.min(CHUNK, left);
      controller.enqueue(new Uint8Array(n));
      left -= n;
      if (left === 0) controller.close();
    },
  }, { highWaterMark: 0 });
}

/** Multipart framing around one streamed file, as one would write it by hand for fetch. */
function framed(
  file: ReadableStream<Uint8Array>,
): [ReadableStream<Uint8Array>, string] {
  const boundary = `bench${crypto.randomUUID().replaceAll("-", "")}`;
  const encoder = new TextEncoder();
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="name.bin"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const reader = file.getReader();
  let started = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(head);
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.enqueue(tail);
        controller.close();
      } else {
        controller.enqueue(value);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return [body, `multipart/form-data; boundary=${boundary}`];
}

async function drain(body: ReadableStream<Uint8Array> | null): Promise<number> {
  if (body === null) return 0;
  const reader = body.getReader();
  let n = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    n += r.value.byteLength;
  }
  return n;
}

/** The size of the file part as the server counted it. */
function uploaded(answer: unknown): number {
  return (answer as { file: number }).file;
}

function rawFetch(): Promise<Contender> {
  const get: Send = async (url) => (await fetch(url)).json();
  const cookies = { cookie: COOKIE_HEADER };
  return Promise.resolve({
    shapes: {
      get,
      get_timeout: async (url) =>
        (await fetch(url, {
          headers: { [TRACE.name]: TRACE.value },
          signal: AbortSignal.timeout(TIMEOUT_S * 1000),
        })).json(),
      post: async (url) =>
        (await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(PAYLOAD),
        })).json(),
      session: get,
      session_cookies: async (url) => (await fetch(url, { headers: cookies })).json(),
      redirect: get,
    },
    async getBytes(url) {
      const res = await fetch(url);
      return new Uint8Array(await res.arrayBuffer()).byteLength;
    },
    async streamBytes(url) {
      const res = await fetch(url);
      return await drain(res.body);
    },
    async upload(url, file) {
      const [body, type] = framed(file);
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": type },
        body,
        duplex: "half",
      } as RequestInit);
      return uploaded(await res.json());
    },
  });
}

/**
 * The module under test: `../mod.ts`, or the `mod.ts` named by REQUESTS_MODULE, to compare a
 * change against the same run's fetch (e.g. a worktree of another branch).
 */
function requestsSpecifier(): string {
  const path = process.env.REQUESTS_MODULE;
  if (path === undefined || path === "") return "../mod.ts";
  return new URL(path, `file://${process.cwd()}/`).href;
}

/** The module under test, as {@linkcode requestsSpecifier} names it. */
export function loadRequests(): Promise<typeof import("../mod.ts")> {
  return import(requestsSpecifier());
}

async function requestsModule(): Promise<Contender> {
  const requests = await loadRequests();
  const session = new requests.Session();
  const withCookies = new requests.Session();
  for (const [name, value] of COOKIES) {
    withCookies.cookies.set(name, value, { domain: HOST });
  }
  const get: Send = async (url) => (await requests.get(url)).json();
  return {
    shapes: {
      get,
      get_timeout: async (url) =>
        (await requests.get(url, {
          headers: { [TRACE.name]: TRACE.value },
          timeout: TIMEOUT_S,
        })).json(),
      post: async (url) => (await requests.post(url, { json: PAYLOAD })).json(),
      session: async (url) => (await session.get(url)).json(),
      session_cookies: async (url) => (await withCookies.get(url)).json(),
      redirect: get,
    },
    async getBytes(url) {
      return (await requests.get(url)).bytes.byteLength;
    },
    async streamBytes(url) {
      const r = await requests.get(url, { stream: true });
      let n = 0;
      for await (const chunk of r.iter_content(CHUNK)) n += chunk.byteLength;
      return n;
    },
    async upload(url, file) {
      const r = await requests.post(url, { files: { f: ["name.bin", file] } });
      return uploaded(r.json());
    },
  };
}

async function kyModule(): Promise<Contender> {
  const { default: ky } = await import("ky");
  const session = ky.create({});
  const withCookies = ky.create({ headers: { cookie: COOKIE_HEADER } });
  const get: Send = (url) => ky.get(url).json();
  return {
    shapes: {
      get,
      get_timeout: (url) =>
        ky.get(url, {
          headers: { [TRACE.name]: TRACE.value },
          timeout: TIMEOUT_S * 1000,
        }).json(),
      post: (url) => ky.post(url, { json: PAYLOAD }).json(),
      session: (url) => session.get(url).json(),
      session_cookies: (url) => withCookies.get(url).json(),
      redirect: get,
    },
    async getBytes(url) {
      return (await ky.get(url).arrayBuffer()).byteLength;
    },
    async streamBytes(url) {
      const res = await ky.get(url, { timeout: false });
      return await drain(res.body);
    },
    async upload(url, file) {
      const [body, type] = framed(file);
      const answer = await ky.post(url, {
        body,
        headers: { "content-type": type },
        timeout: false,
        retry: 0,
      }).json();
      return uploaded(answer);
    },
  };
}

async function ofetchModule(): Promise<Contender> {
  const { ofetch } = await import("ofetch");
  const session = ofetch.create({});
  const withCookies = ofetch.create({ headers: { cookie: COOKIE_HEADER } });
  const get: Send = (url) => ofetch(url);
  return {
    shapes: {
      get,
      get_timeout: (url) =>
        ofetch(url, {
          headers: { [TRACE.name]: TRACE.value },
          timeout: TIMEOUT_S * 1000,
        }),
      post: (url) => ofetch(url, { method: "POST", body: PAYLOAD }),
      session: (url) => session(url),
      session_cookies: (url) => withCookies(url),
      redirect: get,
    },
    async getBytes(url) {
      return (await ofetch(url, { responseType: "arrayBuffer" })).byteLength;
    },
    async streamBytes(url) {
      return await drain(await ofetch(url, { responseType: "stream" }));
    },
    async upload(url, file) {
      const [body, type] = framed(file);
      const answer = await ofetch(url, {
        method: "POST",
        body,
        headers: { "content-type": type },
      });
      return uploaded(answer);
    },
  };
}

async function axiosModule(): Promise<Contender> {
  const { default: axios } = await import("axios");
  const { default: FormData } = await import("form-data");
  const { Readable } = await import("node:stream");
  const big = { maxBodyLength: Infinity, maxContentLength: Infinity };
  const session = axios.create({});
  const withCookies = axios.create({ headers: { Cookie: COOKIE_HEADER } });
  const get: Send = async (url) => (await axios.get(url)).data;
  return {
    shapes: {
      get,
      get_timeout: async (url) =>
        (await axios.get(url, {
          headers: { [TRACE.name]: TRACE.value },
          timeout: TIMEOUT_S * 1000,
        })).data,
      post: async (url) => (await axios.post(url, PAYLOAD)).data,
      session: async (url) => (await session.get(url)).data,
      session_cookies: async (url) => (await withCookies.get(url)).data,
      redirect: get,
    },
    async getBytes(url) {
      const res = await axios.get(url, {
        responseType: "arraybuffer",
        ...big,
      });
      return (res.data as ArrayBuffer).byteLength;
    },
    async streamBytes(url) {
      const res = await axios.get(url, {
        responseType: "stream",
        ...big,
      });
      let n = 0;
      for await (const chunk of res.data as AsyncIterable<Uint8Array>) {
        n += chunk.byteLength;
      }
      return n;
    },
    async upload(url, file, size) {
      const form = new FormData();
      // deno-lint-ignore no-explicit-any
      form.append("f", Readable.fromWeb(file as any), {
        filename: "name.bin",
        contentType: "application/octet-stream",
        knownLength: size,
      });
      const res = await axios.post(url, form, { ...big, maxRedirects: 0 });
      return uploaded(res.data);
    },
  };
}

/** Loads one contender (and only its peer library). */
export function load(name: Name): Promise<Contender> {
  switch (name) {
    case "fetch":
      return rawFetch();
    case "requests":
      return requestsModule();
    case "ky":
      return kyModule();
    case "ofetch":
      return ofetchModule();
    case "axios":
      return axiosModule();
  }
}
