// The contenders, each doing every scenario the way its documentation shows. Peers are
// imported lazily, so a child process that measures one contender loads only that one.
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

/** What every contender does; each returns a count so that no work is optimised away. */
export interface Contender {
  /** GET a small JSON document and parse it. */
  getJson(url: string): Promise<unknown>;
  /** POST a small JSON document and parse the JSON answer. */
  postJson(url: string, body: unknown): Promise<unknown>;
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
  return Promise.resolve({
    async getJson(url) {
      const res = await fetch(url);
      return await res.json();
    },
    async postJson(url, body) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return await res.json();
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

async function requestsModule(): Promise<Contender> {
  const requests: typeof import("../mod.ts") = await import(
    requestsSpecifier()
  );
  return {
    async getJson(url) {
      return (await requests.get(url)).json();
    },
    async postJson(url, body) {
      return (await requests.post(url, { json: body })).json();
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
  return {
    getJson(url) {
      return ky.get(url).json();
    },
    postJson(url, body) {
      return ky.post(url, { json: body }).json();
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
  return {
    getJson(url) {
      return ofetch(url);
    },
    postJson(url, body) {
      return ofetch(url, {
        method: "POST",
        body: body as Record<string, unknown>,
      });
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
  return {
    async getJson(url) {
      return (await axios.get(url)).data;
    },
    async postJson(url, body) {
      return (await axios.post(url, body)).data;
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
