/**
 * A fetch-compatible sender over the runtime's `node:http` / `node:https` client, for what the
 * platform's fetch refuses: a body on GET or HEAD (Elasticsearch's `GET _search` takes a JSON
 * query), and the later hops of such a call whose TLS settings the runtime's fetch cannot carry.
 * It sends exactly what it is given, follows no redirect and decodes no Content-Encoding: the
 * core does both, as it does for fetch. The modules are reached through
 * `process.getBuiltinModule`, never imported, so the file still loads in a browser or a Worker.
 *
 * @module
 */

import { builtin, NODE_HTTP } from "../_runtime.ts";
import { NO_BODY_STATUS } from "../_status.ts";
import { DEFAULT_CLIENT, type NodeAgent, type RuntimeClient } from "./_clients.ts";
import { nodeTls } from "./_settings.ts";
import type { Scheme } from "./_settings.ts";

/** What {@linkcode nodeFetch} sends. */
export interface NodeFetchInit {
  /** The method, sent as given. */
  method: string;
  /** Lower-case header names to values, already checked by the core. */
  headers: Record<string, string>;
  /** The body: sent with Content-Length when its size is known, else chunked. */
  body: Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | string | null;
  /** Aborting rejects with the signal's reason and destroys the connection. */
  signal?: AbortSignal;
  /** The TLS settings and keep-alive agents to use; the runtime's defaults when absent. */
  client?: RuntimeClient;
}

// Local shapes of the node:http API used, so the file type-checks without Node's types.
interface Emitter {
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}
interface Destroyable {
  destroy(error?: unknown): unknown;
}
interface IncomingMessage extends Emitter, Destroyable {
  socket?: { ref?(): unknown; unref?(): unknown } | null;
  statusCode?: number;
  statusMessage?: string;
  rawHeaders: string[];
  pause(): unknown;
  resume(): unknown;
}
interface ClientRequest extends Emitter, Destroyable {
  destroyed: boolean;
  strictContentLength?: boolean;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
}
interface HttpModule {
  request(options: Record<string, unknown>): ClientRequest;
  Agent: new (options: Record<string, unknown>) => NodeAgent;
}

/** `node:http` or `node:https`, through `process.getBuiltinModule`, never imported. */
function load(scheme: Scheme): HttpModule {
  const module = NODE_HTTP ? builtin<HttpModule>(`node:${scheme}`) : null;
  if (module === null) {
    throw new TypeError(
      "Cannot send a GET or HEAD request with a body: this runtime has no node:http client " +
        "reachable through process.getBuiltinModule",
    );
  }
  return module;
}

const encoder = new TextEncoder();

/** The body as bytes to write at once, or a stream to pump, and its size when known. */
interface Outgoing {
  bytes: Uint8Array | null;
  stream: ReadableStream<Uint8Array> | null;
  size: number | null;
}

function outgoing(body: NodeFetchInit["body"]): Outgoing {
  if (body === null || body === undefined) return { bytes: null, stream: null, size: null };
  if (typeof body === "string") body = encoder.encode(body);
  if (body instanceof ArrayBuffer) body = new Uint8Array(body);
  if (body instanceof Uint8Array) return { bytes: body, stream: null, size: body.byteLength };
  if (body instanceof Blob) return { bytes: null, stream: body.stream(), size: body.size };
  if (body instanceof ReadableStream) return { bytes: null, stream: body, size: null };
  throw new TypeError(
    "Cannot send the request: its body must be a string, Uint8Array, ArrayBuffer, Blob or " +
      "ReadableStream",
  );
}

/**
 * Sends one request through `node:http` / `node:https` and resolves with a web `Response` once
 * the response headers arrive; its body streams from the connection with backpressure.
 *
 * The request carries exactly `init.method`, `init.headers` and `init.body` (plus `Host` and
 * `Connection: keep-alive`, which the client adds): Content-Length is set from the body's size
 * when known (a Content-Length given for a stream is kept and enforced), else the body is sent
 * chunked. Redirects are returned as they are; the body is never decoded. Connections are kept
 * alive, one agent per TLS setting. Failures are the runtime's own errors (`ECONNREFUSED`,
 * `ECONNRESET`, `HPE_*` parse errors, TLS errors); a response a web `Response` cannot represent
 * (101, a status outside 200-599) rejects with an `Error` whose message starts with
 * "Invalid HTTP response".
 *
 * @example A GET with a JSON body
 * ```ts ignore
 * const res = await nodeFetch("http://127.0.0.1:9200/_search", {
 *   method: "GET",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query: { match_all: {} } }),
 * });
 * console.log(res.status, await res.json());
 * ```
 *
 * @param url An absolute `http:` or `https:` URL (without credentials: they are not sent).
 * @param init What to send.
 * @returns The response, its body not yet read.
 * @throws {TypeError} For a URL that is not http(s) or a body of another kind.
 */
export async function nodeFetch(url: string, init: NodeFetchInit): Promise<globalThis.Response> {
  const target = new URL(url);
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new TypeError(`Cannot send the request: '${url.slice(0, 200)}' is not an http(s) URL`);
  }
  const scheme: Scheme = target.protocol === "https:" ? "https" : "http";
  const { signal } = init;
  if (signal?.aborted) throw signal.reason;
  const body = outgoing(init.body);
  const module = load(scheme);
  const headers: Record<string, string> = { ...init.headers };
  if (body.size !== null) {
    headers["content-length"] = String(body.size);
    delete headers["transfer-encoding"];
  } else if (body.stream !== null && headers["content-length"] === undefined) {
    // node:http frames no body on GET, HEAD or DELETE unless told to.
    headers["transfer-encoding"] = "chunked";
  }
  const client = init.client ?? DEFAULT_CLIENT;
  const agent = client.agent(scheme, (options) => new module.Agent(options));
  const options = requestOptions(target, { ...init, headers }, agent, nodeTls(client.tls, scheme));
  return await exchange(module, options, init.signal, body);
}

/** The request on the wire, settled once: a Response, or the first failure. */
function exchange(
  module: HttpModule,
  options: Record<string, unknown>,
  signal: AbortSignal | undefined,
  body: Outgoing,
): Promise<globalThis.Response> {
  const method = options.method as string;
  const lengthGiven = (options.headers as Record<string, string>)["content-length"] !== undefined;
  return new Promise((resolve, reject) => {
    let settled = false;
    let finished = false;
    let req: ClientRequest | undefined;
    let res: IncomingMessage | undefined;
    let failBody: ((error: unknown) => void) | undefined;
    const upload = body.stream?.getReader();
    const finish = () => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (error: unknown) => {
      finish();
      if (!settled) {
        settled = true;
        reject(error);
      }
      failBody?.(error);
      upload?.cancel(error).catch(() => {});
      res?.destroy();
      req?.destroy();
    };
    const onAbort = () => fail(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      req = module.request(options);
    } catch (error) {
      fail(error);
      return;
    }
    // A reused socket may have been let go of by an unread body before (see `idle`).
    req.on("socket", (socket: { ref?(): unknown }) => socket.ref?.());
    req.on("error", (error: unknown) => {
      // After the response arrived its own stream reports a broken connection.
      if (!settled) fail(error);
    });
    const refuse = (...args: never[]) => {
      const [answer, socket] = args as unknown as [IncomingMessage, Destroyable];
      socket.destroy();
      fail(new Error(`Invalid HTTP response: ${describeStatus(answer)} switches protocols`));
    };
    req.on("upgrade", refuse);
    req.on("connect", refuse);
    req.on("response", (answer: IncomingMessage) => {
      res = answer;
      const response = webResponse(answer, method, finish, (close) => failBody = close);
      if (response instanceof Error) {
        fail(response);
        return;
      }
      settled = true;
      // Without a body the exchange is over: resolving at its end hands the connection back
      // to the agent before the caller's next request looks for one.
      if (response.body === null && !finished) {
        answer.once("end", () => resolve(response));
        answer.once("close", () => resolve(response));
      } else {
        resolve(response);
      }
    });
    if (lengthGiven) req.strictContentLength = true;
    writeBody(req, body.bytes, upload, fail);
  });
}

function requestOptions(
  target: URL,
  init: NodeFetchInit,
  agent: NodeAgent,
  tls: Record<string, unknown>,
): Record<string, unknown> {
  return {
    ...tls,
    protocol: target.protocol,
    // node:http wants an IPv6 host without its brackets.
    hostname: target.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: target.port === "" ? undefined : Number(target.port),
    path: `${target.pathname}${target.search}`,
    method: init.method,
    headers: init.headers,
    agent,
  };
}

/** Writes the body: at once when in memory, else pumped from `upload`. */
function writeBody(
  req: ClientRequest,
  bytes: Uint8Array | null,
  upload: ReadableStreamDefaultReader<Uint8Array> | undefined,
  fail: (error: unknown) => void,
): void {
  if (upload !== undefined) {
    pump(req, upload).catch(fail);
    return;
  }
  try {
    req.end(bytes ?? undefined);
  } catch (error) {
    fail(error);
  }
}

/** Writes a streamed body piece by piece, as fast as the socket drains. */
async function pump(
  req: ClientRequest,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<void> {
  for (;;) {
    const { done, value } = await reader.read();
    if (req.destroyed) {
      await reader.cancel().catch(() => {});
      return;
    }
    if (done) break;
    if (!req.write(value)) await drained(req);
  }
  req.end();
}

/** Resolves when `req` can take more, or has closed. */
function drained(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off("drain", done);
      req.off("close", done);
      resolve();
    };
    req.on("drain", done);
    req.on("close", done);
  });
}

function describeStatus(answer: IncomingMessage): string {
  return `${answer.statusCode ?? "no status"} ${(answer.statusMessage ?? "").slice(0, 200)}`
    .trim();
}

/**
 * The web Response for `answer`, or the Error to reject with when a Response cannot carry it.
 * `finish` runs once the body is done with; `onFail` receives the way to fail the body stream.
 */
function webResponse(
  answer: IncomingMessage,
  method: string,
  finish: () => void,
  onFail: (fail: (error: unknown) => void) => void,
): globalThis.Response | Error {
  const status = answer.statusCode ?? 0;
  if (status < 200 || status > 599) {
    return new Error(
      `Invalid HTTP response: status ${describeStatus(answer)} is outside 200-599, ` +
        "which a web Response cannot represent",
    );
  }
  const headers = new Headers();
  const raw = answer.rawHeaders;
  try {
    for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  } catch (cause) {
    return new Error("Invalid HTTP response: a header a web Response cannot hold", { cause });
  }
  let body: ReadableStream<Uint8Array> | null = null;
  if (method === "HEAD" || NO_BODY_STATUS.has(status)) {
    answer.on("error", () => {});
    answer.on("end", finish);
    answer.on("close", finish);
    answer.resume();
  } else {
    body = bodyStream(answer, finish, onFail);
  }
  const init = { status, statusText: answer.statusMessage ?? "", headers };
  try {
    return new globalThis.Response(body, init);
  } catch {
    // A reason phrase the Response constructor refuses: the core falls back to the standard one.
    return new globalThis.Response(body, { status, headers });
  }
}

/**
 * The response body as a web stream, read from the connection only while a read waits for it
 * (a queue of nothing: the socket's own buffer holds what came early), destroyed on cancel. The
 * socket holds the process open only while a read waits, so an unread streamed response lets
 * the process end, as fetch does.
 */
function bodyStream(
  answer: IncomingMessage,
  finish: () => void,
  onFail: (fail: (error: unknown) => void) => void,
): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const end = (error?: unknown) => {
        if (!open) return;
        open = false;
        finish();
        if (error === undefined) controller.close();
        else controller.error(error);
      };
      onFail(end);
      answer.on("data", (chunk: Uint8Array) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) idle(answer);
      });
      answer.on("end", () => end());
      answer.on("error", (error: unknown) => end(error));
      answer.on("close", () => {
        const error = new Error("aborted: the connection closed before the body was complete");
        end(Object.assign(error, { code: "ECONNRESET" }));
      });
      idle(answer);
    },
    pull() {
      answer.socket?.ref?.();
      answer.resume();
    },
    cancel() {
      open = false;
      finish();
      answer.destroy();
    },
  }, { highWaterMark: 0 });
}

/** Stops reading `answer` until the next read, and lets its socket not hold the process. */
function idle(answer: IncomingMessage): void {
  answer.pause();
  answer.socket?.unref?.();
}
