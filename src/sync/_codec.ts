// The caller's side of the sync API's wire: options into a form that can be copied to the
// worker thread (a TypeError naming what cannot), and records back into the async module's
// Response and error classes.

import type { Channel } from "./_channel.ts";
import { redactUrl } from "../_url.ts";
import type {
  WireAsk,
  WireCall,
  WireDigest,
  WireError,
  WireOptions,
  WireResponse,
  WireResult,
  WireSessionState,
} from "./_wire.ts";
import { HTTPDigestAuth as AsyncDigestAuth } from "../digest_auth.ts";
import {
  ERROR_CLASSES,
  RequestError,
  type RequestErrorOptions,
  type RequestInfo,
} from "../errors.ts";
import { type Response, responseFrom, type SentRequest } from "../response.ts";
import { digestWire, HTTPDigestAuth } from "./digest_auth.ts";

const EMPTY = new Uint8Array(0);

function refuse(what: string, why: string): TypeError {
  return new TypeError(`Cannot use ${what} with the sync API: ${why}`);
}

/** `auth` as it crosses: the sync HTTPDigestAuth by id; the async one refused. */
export function encodeAuth(auth: unknown, name: string): { auth: unknown; digest?: WireDigest } {
  if (auth instanceof HTTPDigestAuth) return { auth: undefined, digest: digestWire(auth) };
  if (auth instanceof AsyncDigestAuth) {
    throw refuse(
      `an HTTPDigestAuth from mod.ts as '${name}'`,
      "its state lives in one thread; use the HTTPDigestAuth from ./sync",
    );
  }
  return { auth };
}

function refuseFunctions(copy: Record<string, unknown>): void {
  for (const name of ["fetch", "progress"]) {
    if (copy[name] !== undefined && copy[name] !== null) {
      throw refuse(`'${name}'`, "a function cannot be passed to the worker thread");
    }
  }
  if (copy.signal !== undefined && copy.signal !== null) {
    throw refuse(
      "'signal'",
      "the calling thread is blocked and cannot abort; use 'timeout' or 'total_timeout'",
    );
  }
  if (copy.stream === true) {
    throw refuse("'stream: true'", "the body is read before the call returns; use mod.ts");
  }
  if (typeof copy.cache === "object" && copy.cache !== null) {
    throw refuse(
      "an HttpCache as 'cache'",
      "it lives in one thread; a sync Session takes 'cache: true' (a cache in its worker)",
    );
  }
}

/**
 * Bytes as an ArrayBuffer of their own, which the body takes alike: every runtime copies it to a
 * worker at memory speed, where Deno's node:worker_threads copies a Uint8Array at a few MB/s.
 */
function bytesOut(value: unknown): unknown {
  if (!(value instanceof Uint8Array)) return value;
  return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
}

function encodeFiles(files: unknown): unknown {
  if (typeof files !== "object" || files === null || Array.isArray(files)) return files;
  const specs: Record<string, unknown> = { ...files };
  for (const [field, spec] of Object.entries(specs)) {
    if (Array.isArray(spec) && spec[1] instanceof ReadableStream) {
      throw refuse(
        `a ReadableStream in 'files' (${JSON.stringify(field)})`,
        "pass a string, bytes or a Blob",
      );
    }
    if (spec instanceof File && spec.name !== "") specs[field] = [spec.name, spec];
    else if (Array.isArray(spec)) specs[field] = [spec[0], bytesOut(spec[1]), ...spec.slice(2)];
    else specs[field] = bytesOut(spec);
  }
  return specs;
}

/** Request or session options in a form that can be copied; a TypeError for what cannot. */
export function encodeOptions(options: unknown): WireOptions {
  if (typeof options !== "object" || options === null) return { options };
  const copy: Record<string, unknown> = { ...options };
  const wire: WireOptions = { options: copy };
  refuseFunctions(copy);
  const { digest } = encodeAuth(copy.auth, "auth");
  if (digest !== undefined) {
    delete copy.auth;
    wire.digest = digest;
  }
  if (copy.headers instanceof Headers) copy.headers = [...copy.headers];
  if (copy.params instanceof URLSearchParams) copy.params = [...copy.params];
  if (copy.base_url instanceof URL) copy.base_url = copy.base_url.href;
  const data = copy.data;
  if (data instanceof ReadableStream) {
    throw refuse("a ReadableStream as 'data'", "pass a string, bytes or a Blob");
  } else if (data instanceof URLSearchParams) {
    copy.data = data.toString();
    wire.dataKind = "search-params";
  } else if (data instanceof FormData) {
    // Node's workers receive a File as a plain Blob: its name travels beside it.
    copy.data = [...data].map(([name, value]) =>
      typeof value === "string" ? [name, value] : [name, value, value.name]
    );
    wire.dataKind = "form-data";
  } else if (data instanceof Uint8Array) {
    copy.data = bytesOut(data);
  }
  if ("files" in copy) copy.files = encodeFiles(copy.files);
  return wire;
}

/** A request as it crosses; a TypeError for an option that cannot. */
export function encodeCall(method: unknown, url: unknown, options: unknown): WireCall {
  return {
    kind: "call",
    method,
    url: url instanceof URL ? url.href : url,
    ...encodeOptions(options),
  };
}

/** The request an error about a call that never got an answer is about. */
export function callInfo(method: unknown, url: unknown): RequestInfo {
  return {
    method: typeof method === "string" ? method.toUpperCase() : "",
    url: url instanceof URL || typeof url === "string" ? redactUrl(url) : "",
  };
}

/**
 * Sends `message` through `channel` and blocks for the reply; a value that cannot be copied is
 * a TypeError naming its argument or option.
 */
export function exchange(
  channel: Channel,
  message: WireAsk,
  info: RequestInfo,
): [WireResult, Uint8Array] {
  try {
    return channel.send(message, info);
  } catch (error) {
    if (error instanceof RequestError) throw error;
    // DataCloneError on most runtimes, a TypeError on Deno: name the culprit if we can.
    throw uncopyable(message, error) ?? error;
  }
}

/** The argument or option of `message` that cannot be copied, as a TypeError naming it. */
function uncopyable(message: WireAsk, error: unknown): TypeError | null {
  const why = `it cannot be copied to the worker thread (${(error as Error)?.message})`;
  if (message.kind === "call") {
    if (!copies(message.method)) return refuse("this 'method'", why);
    if (!copies(message.url)) return refuse("this 'url'", why);
    if (message.session !== undefined) {
      for (const name of ["auth", "params"] as const) {
        if (!copies(message.session[name])) return refuse(`this session '${name}'`, why);
      }
    }
  }
  if (!copies(message.options)) {
    if (typeof message.options !== "object" || message.options === null) {
      return refuse("these 'options'", why);
    }
    const options = message.options as Record<string, unknown>;
    for (const name of Object.keys(options)) {
      if (!copies(options[name])) return refuse(`this '${name}'`, why);
    }
  }
  return null;
}

function copies(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function requestInfo(wire: RequestInfo | undefined): RequestInfo {
  return Object.freeze({ method: wire?.method ?? "", url: wire?.url ?? "" });
}

/** Redirects from their records; the history of each is the ones before it. */
function historyOf(hops: readonly WireResponse[]): Response[] {
  const history: Response[] = [];
  for (const hop of hops) history.push(oneResponse(hop, EMPTY, [...history]));
  return history;
}

/** A {@linkcode Response} and its redirects from a record. */
function toResponse(wire: WireResponse, body: Uint8Array): Response {
  return oneResponse(wire, body, historyOf(wire.history));
}

/** One response, around a native one where the platform allows. */
function oneResponse(wire: WireResponse, body: Uint8Array, history: Response[]): Response {
  const request: SentRequest = Object.freeze({
    method: wire.request.method,
    url: wire.request.url,
    headers: Object.freeze({ ...wire.request.headers }),
  });
  let raw: globalThis.Response | null = null;
  try {
    raw = new globalThis.Response(null, {
      status: wire.status,
      statusText: wire.reason,
      headers: wire.headers,
    });
  } catch { /* a status or reason fetch cannot represent (1xx, 600+): kept as a header block */ }
  return responseFrom({
    raw,
    url: wire.url,
    request,
    elapsed: wire.elapsed,
    history,
    body,
    reader: null,
    status: wire.status,
    reason: wire.reason,
    headerBlock: raw === null
      ? wire.headers.map(([name, value]) => `${name}: ${value}`).join("\r\n")
      : undefined,
    cache: wire.cache ?? null,
  });
}

const BUILTIN_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

function builtin(name: string): ErrorConstructor {
  return Object.hasOwn(BUILTIN_ERRORS, name) ? BUILTIN_ERRORS[name] : Error;
}

/** An error of the family, rebuilt from its record with the class of the same name. */
function familyError(wire: WireError & { request: RequestInfo }, cause: Error | undefined): Error {
  const request = requestInfo(wire.request);
  const suffix = `: ${request.method} ${request.url}`;
  // The constructor appends the method and URL again.
  const message = request.url !== "" && wire.message.endsWith(suffix)
    ? wire.message.slice(0, -suffix.length)
    : wire.message;
  const options: RequestErrorOptions & { history: readonly Response[]; doc?: string } = {
    request,
    response: wire.response === undefined ? undefined : toResponse(wire.response, EMPTY),
    cause,
    history: historyOf(wire.history ?? []),
  };
  if (wire.doc !== undefined) options.doc = wire.doc;
  const error = new ERROR_CLASSES[wire.name](message, options);
  if (wire.doc !== undefined && (error as { doc?: unknown }).doc !== wire.doc) {
    Object.defineProperty(error, "doc", { value: wire.doc, enumerable: true });
  }
  return error;
}

/** The error thrown in the worker, rebuilt as the same class with the same message. */
export function toError(wire: WireError): Error {
  let cause: Error | undefined;
  if (wire.cause !== undefined) {
    cause = new (builtin(wire.cause.name))(wire.cause.message);
    if (cause.name !== wire.cause.name) cause.name = wire.cause.name;
  }
  let error: Error;
  if (wire.request !== undefined && Object.hasOwn(ERROR_CLASSES, wire.name)) {
    error = familyError(wire as WireError & { request: RequestInfo }, cause);
  } else {
    error = new (builtin(wire.name))(wire.message, { cause });
    if (error.name !== wire.name) error.name = wire.name;
  }
  if (error.message !== wire.message) error.message = wire.message;
  return error;
}

/** The response of a call's result, or its error thrown. */
export function outcome(result: WireResult, body: Uint8Array): Response {
  if (!result.ok) throw toError(result.error);
  if (!("response" in result)) throw new Error("The sync worker answered a call with no response");
  return toResponse(result.response, body);
}

/** The state of a session the worker opened, or the error it threw. */
export function opened(result: WireResult): WireSessionState {
  if (!result.ok) throw toError(result.error);
  if (!("session" in result)) throw new Error("The sync worker answered an open with no session");
  return result.session;
}
