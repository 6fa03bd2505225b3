// The parts of a paginated walk that are not the walk itself: the options checked once, the
// next request worked out from what `next` returned (or the Link header), the key that tells a
// request already sent, and the credentials a page on another origin must not get.

import { isCredential } from "./_headers.ts";
import { appendParams, parseTarget, redactUrl } from "./_url.ts";
import { checkSchema } from "./_validate.ts";
import { clip, InvalidURLError } from "./errors.ts";
import {
  checkSignal,
  count,
  type FormFields,
  type HeaderInput,
  ownOptions,
  type RequestOptions,
} from "./options.ts";
import type { Response } from "./response.ts";
import type { StandardSchemaV1 } from "./standard_schema.ts";

const PAGINATION_KEYS = new Set(["items", "next", "max_pages", "max_items", "delay", "schema"]);
/** The options `next` may return that merge entry by entry into the previous request's. */
const MERGED = ["params", "headers", "json", "data"] as const;
const DEFAULT_MAX_PAGES = 1000;

/** The request options of one page, and where it goes. */
export interface PageRequest {
  method: string;
  /** What the sender is given: the caller's URL for the first page (a session joins a path). */
  target: string | URL;
  /** The URL the request goes to, params not yet added; null when it could not be worked out. */
  url: URL | null;
  /** The request options but `method`, `pagination` and a URL. */
  options: RequestOptions;
}

/** A walk's options, checked once. */
export interface Plan {
  first: PageRequest;
  items: ((response: Response) => unknown) | null;
  next: ((response: Response, items: unknown[]) => unknown) | null;
  maxPages: number;
  maxItems: number;
  delayMs: number;
  schema: StandardSchemaV1 | null;
  signal: AbortSignal | undefined;
  /** Header names, lower-cased, that go with the credentials (`sensitive_headers`). */
  sensitive: string[];
}

/** Checks the walk's options; a TypeError names the first one that is wrong. */
export function planOf(
  url: string | URL,
  options: object | undefined,
  resolve: (url: string | URL) => URL | null,
): Plan {
  if (options === undefined || options === null) options = {};
  if (typeof options !== "object") {
    throw new TypeError("Invalid 'options': expected an object of request options");
  }
  const { method, pagination, ...rest } = ownOptions(
    options as RequestOptions & { method?: unknown; pagination?: unknown },
  );
  if (method !== undefined && method !== null && typeof method !== "string") {
    throw new TypeError("Invalid 'method': expected a string such as \"GET\"");
  }
  if (rest.stream !== undefined && rest.stream !== null && rest.stream !== false) {
    throw new TypeError("Invalid 'stream': paginate() reads each page whole; leave it out");
  }
  const given = paginationOf(pagination);
  const sensitive = rest.sensitive_headers;
  return {
    first: {
      method: typeof method === "string" ? method.toUpperCase() : "GET",
      target: url,
      url: resolve(url),
      options: rest,
    },
    items: callbackOf(given.items, "pagination.items"),
    next: callbackOf(given.next, "pagination.next"),
    maxPages: count(given.max_pages, "pagination.max_pages", DEFAULT_MAX_PAGES),
    maxItems: count(given.max_items, "pagination.max_items", Infinity),
    delayMs: delayOf(given.delay),
    schema: given.schema === undefined || given.schema === null
      ? null
      : checkSchema(given.schema, "pagination.schema"),
    signal: checkSignal(rest.signal),
    sensitive: Array.isArray(sensitive)
      ? sensitive.filter((name) => typeof name === "string").map((name) => name.toLowerCase())
      : [],
  };
}

function paginationOf(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object") {
    throw new TypeError("Invalid 'pagination': expected an object such as { max_pages: 10 }");
  }
  const own = ownOptions(value as Record<string, unknown>);
  for (const name of Object.keys(own)) {
    if (!PAGINATION_KEYS.has(name)) {
      throw new TypeError(`Unknown option 'pagination.${clip(name)}'`);
    }
  }
  return own;
}

function callbackOf<T>(value: unknown, option: string): T | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "function") throw new TypeError(`Invalid '${option}': expected a function`);
  return value as T;
}

function delayOf(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== "number" || !(value >= 0) || value === Infinity) {
    throw new TypeError("Invalid 'pagination.delay': expected a number of seconds of 0 or more");
  }
  return value * 1000;
}

/** The default `items`: the parsed JSON, an array spread into its items, anything else one. */
export function defaultItems(response: Response): unknown[] {
  const value = response.json();
  return Array.isArray(value) ? value : [value];
}

/**
 * The default `next`: the target of the `Link` header's link whose `rel` holds `next` among its
 * space-separated values, compared case-insensitively (RFC 8288 §3.3); null when there is none.
 */
export function linkNext(response: Response): string | null {
  for (const link of Object.values(response.links)) {
    const rel = link.rel;
    if (rel !== undefined && rel.toLowerCase().split(/[ \t]+/).includes("next")) return link.url;
  }
  return null;
}

/**
 * The request after `previous`, from what `next` returned: a URL (resolved against the page's
 * URL; the previous params dropped, the URL being whole), or request options merged into the
 * previous request's (`params`, `headers`, `json` and `data` entry by entry when both are
 * plain objects; a `url` and `method` among them taken as given). Null ends the walk.
 */
export function nextRequest(
  previous: PageRequest,
  returned: unknown,
  response: Response,
): PageRequest | null {
  if (returned === undefined || returned === null) return null;
  if (typeof returned === "string" || returned instanceof URL) {
    const url = nextUrl(returned, response, previous.method);
    const { params: _, ...options } = previous.options;
    return { method: previous.method, target: url, url, options };
  }
  if (typeof returned !== "object") {
    throw new TypeError(
      "Invalid result of 'pagination.next': expected a URL, request options or null",
    );
  }
  const { url, method, ...given } = ownOptions(
    returned as RequestOptions & { url?: unknown; method?: unknown },
  );
  if (method !== undefined && method !== null && typeof method !== "string") {
    throw new TypeError("Invalid 'method' of 'pagination.next': expected a string");
  }
  if (url !== undefined && url !== null && typeof url !== "string" && !(url instanceof URL)) {
    throw new TypeError("Invalid 'url' of 'pagination.next': expected a string or URL");
  }
  const options: RequestOptions = { ...previous.options, ...given };
  for (const name of MERGED) {
    const before = previous.options[name];
    const after = given[name];
    if (isRecord(before) && isRecord(after)) {
      (options as Record<string, unknown>)[name] = { ...before, ...after };
    }
  }
  const next: PageRequest = {
    method: typeof method === "string" ? method.toUpperCase() : previous.method,
    target: previous.target,
    url: previous.url,
    options,
  };
  if (url !== undefined && url !== null) {
    next.url = next.target = nextUrl(url, response, next.method);
    if (given.params === undefined) delete options.params;
  }
  return next;
}

/**
 * A next page's URL, resolved against the page's: `http(s)` only, as a redirect's Location;
 * credentials in it are dropped (a server's link never becomes Basic auth).
 */
function nextUrl(text: string | URL, response: Response, method: string): URL {
  try {
    const url = parseTarget(text, method, new URL(response.url)).url;
    url.hash = "";
    return url;
  } catch (cause) {
    throw new InvalidURLError(
      `Next page refused: ${JSON.stringify(clip(redactUrl(String(text))))} is not an http(s) URL`,
      { request: { method, url: redactUrl(response.url) }, cause },
    );
  }
}

/** A plain object (not an array, `URLSearchParams`, `Headers`...): merged entry by entry. */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Bodies that cannot be compared by value: each counts as its own. */
const identities = new WeakMap<object, number>();
let nextIdentity = 0;

/**
 * What tells a request already sent in the walk: its method, URL with params and body; null
 * when the URL could not be worked out (the request itself will say why).
 */
export function requestKey(request: PageRequest): string | null {
  if (request.url === null) return null;
  const url = new URL(request.url.href);
  url.hash = "";
  const params = request.options.params;
  try {
    if (params !== undefined && params !== null) appendParams(url, params as FormFields);
    return JSON.stringify([request.method, url.href, bodyKey(request.options)]);
  } catch {
    return null;
  }
}

function bodyKey(options: RequestOptions): string {
  const { json, data, files } = options;
  if (files !== undefined && files !== null) return `files:${identity(files)}`;
  if (json !== undefined) return `json:${JSON.stringify(json)}`;
  if (data === undefined || data === null) return "";
  if (typeof data === "string") return `text:${data}`;
  if (data instanceof URLSearchParams) return `form:${data}`;
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    return `bytes:${Array.from(bytes, (b) => String.fromCharCode(b)).join("")}`;
  }
  if (isRecord(data)) return `form:${JSON.stringify(data)}`;
  return `body:${identity(data as object)}`;
}

function identity(value: object): number {
  let id = identities.get(value);
  if (id === undefined) identities.set(value, id = nextIdentity++);
  return id;
}

/**
 * The options of a page on another origin than the first page's: without `auth`, `cookies`,
 * nor the Authorization, Proxy-Authorization, Cookie and `sensitive_headers` among `headers`.
 */
export function withoutCredentials(options: RequestOptions, sensitive: string[]): RequestOptions {
  const { auth: _auth, cookies: _cookies, ...rest } = options;
  if (rest.headers !== undefined && rest.headers !== null) {
    rest.headers = filterHeaders(
      rest.headers,
      (name) => !isCredential(name.toLowerCase(), sensitive),
    );
  }
  return rest;
}

function filterHeaders(input: HeaderInput, keep: (name: string) => boolean): HeaderInput {
  if (input instanceof Headers) {
    const headers = new Headers();
    for (const [name, value] of input) if (keep(name)) headers.append(name, value);
    return headers;
  }
  if (Array.isArray(input)) {
    return input.filter((pair) =>
      !Array.isArray(pair) || typeof pair[0] !== "string" || keep(pair[0])
    );
  }
  // Anything else that is not a record is passed on for the request to refuse.
  if (typeof input !== "object") return input;
  const record: Record<string, string | number | boolean | null | undefined> = {};
  for (const name of Object.keys(input)) {
    if (keep(name)) record[name] = (input as Record<string, string>)[name];
  }
  return record;
}
