/**
 * Pages: {@linkcode paginate} walks a paginated API (a `Link: <...>; rel="next"` header, or a
 * cursor of your own) and yields the items of each page, fetching the next page only when the
 * loop asks for more.
 *
 * @module
 */

import {
  defaultItems,
  linkNext,
  nextRequest,
  type PageRequest,
  type Plan,
  planOf,
  requestKey,
  withoutCredentials,
} from "./_pages.ts";
import { clip } from "./_clip.ts";
import { sleep } from "./_sleep.ts";
import { validate } from "./_validate.ts";
import { HTTPError } from "./errors.ts";
import type { RequestOptions } from "./options.ts";
import { request } from "./request.ts";
import type { Response } from "./response.ts";
import type { StandardSchemaV1 } from "./standard_schema.ts";

/** What `pagination.next` may return: the next page's URL or request options, or null to stop. */
export type NextPage = string | URL | PageOptions | null | undefined;

/**
 * The next page as request options, merged into the previous page's request: `params`,
 * `headers`, `json` and `data` entry by entry when both are plain objects, any other option
 * replaced. A `url` (resolved against the page's URL) and a `method` may be among them.
 */
export interface PageOptions extends RequestOptions {
  /** Where the next page is; the previous page's URL when absent. */
  url?: string | URL;
  /** The method of the next request; the previous one when absent. */
  method?: string;
}

/** How {@linkcode paginate} finds the items and the next page, and when it stops. */
export interface PaginationOptions<Item = unknown> {
  /**
   * The items of a page (an iterable or async iterable; a promise of one is awaited).
   * @default the parsed JSON body: an array's elements, anything else as one item
   */
  items?: (response: Response) => unknown;
  /**
   * The next page, from the page and its items (as yielded): a URL (resolved against
   * `response.url`), request options merged into this page's request (a cursor in the query or
   * the body), or null to stop.
   * @default the `Link` header's link whose `rel` holds `next` (RFC 8288)
   */
  next?: (response: Response, items: Item[]) => NextPage | Promise<NextPage>;
  /** The most pages fetched. @default 1000 */
  max_pages?: number;
  /** The most items yielded. @default undefined (no limit) */
  max_items?: number;
  /** Seconds to wait before fetching each page after the first. @default 0 */
  delay?: number;
  /**
   * A Standard Schema (Zod, Valibot, ArkType...) each item is validated with; the walk yields
   * its output. A failure is a `SchemaValidationError` naming the item and the page.
   */
  schema?: StandardSchemaV1<unknown, Item>;
}

/** The options of {@linkcode paginate}: the request options, `method` and `pagination`. */
export interface PaginateOptions<Item = unknown> extends RequestOptions {
  /** The method of the first request. @default "GET" */
  method?: string;
  /** How to find the items and the next page. */
  pagination?: PaginationOptions<Item>;
}

/**
 * @internal Sends one page: `origin` is the first page's origin, the only one the session's own
 * credentials may go to when it has no base URL.
 */
export type PageSender = (
  method: string,
  url: string | URL,
  options: RequestOptions,
  origin: string | null,
) => Promise<Response>;

/** @internal Where a walk's URLs go: how the first resolves, and the base URL they stay under. */
export interface PageScope {
  /** The absolute URL of the first request, or null when the request will refuse it. */
  resolve: (url: string | URL) => URL | null;
  /** A session's base URL: a next page under it is sent as a path joined to it. */
  base: URL | null;
}

/**
 * The items of every page of a paginated resource, fetched one page at a time as the loop asks
 * for more: leaving the loop after two items of the first page sends one request.
 *
 * Each page is requested with `options` (and `method`, default GET) and must answer 2xx, else
 * the walk ends with an `HTTPError` carrying the response (after the earlier pages' items were
 * yielded). Its items are `pagination.items(response)`, by default the parsed JSON (an array's
 * elements, anything else as one item), each validated with `pagination.schema` when given. The
 * next page is `pagination.next(response, items)`, by default the `Link` header's `rel="next"`
 * link: a URL (resolved against the page's URL; the first request's `params` are not added to
 * it), or request options merged into the previous request's (a cursor in a query or a POST
 * body), or null to stop.
 *
 * The walk stops after `max_pages` pages (default 1000) or `max_items` items, and at a request
 * already sent in this walk (the same method, URL and body), so a `Link` that points back
 * cannot loop. A next URL is held to the rules of a redirect's Location: `http(s)` only
 * (else `InvalidURLError`), and on another origin than the first page's it gets none of the
 * credentials: `auth`, `cookies`, and the Authorization, Proxy-Authorization, Cookie and
 * `sensitive_headers` among `headers`. What `items` and `next` throw ends the walk unchanged.
 *
 * Nothing is sent until the iteration starts; misuse of an option is a `TypeError` there.
 *
 * @typeParam Item The type of the items: the output of `pagination.schema` when given.
 * @param url An absolute `http://` or `https://` URL: the first page.
 * @param options The request options of every page, plus `method` and `pagination`.
 * @returns An async iterable of the items.
 *
 * @example Walk a GitHub-style API paged by Link headers
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * // An in-process web handler stands in for a server; with a real URL, drop `fetch`.
 * const fetch = (req: Request) => {
 *   const page = Number(new URL(req.url).searchParams.get("page") ?? 1);
 *   const headers = page < 3 ? { link: `</items?page=${page + 1}>; rel="next"` } : undefined;
 *   return Response.json([`item ${2 * page - 1}`, `item ${2 * page}`], { headers });
 * };
 * const items: unknown[] = [];
 * for await (const item of requests.paginate("http://api.test/items", { fetch })) {
 *   items.push(item);
 * }
 * assert.deepEqual(items, ["item 1", "item 2", "item 3", "item 4", "item 5", "item 6"]);
 * ```
 *
 * @example A cursor in the body of a POST
 * ```ts
 * import * as requests from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const fetch = async (req: Request) => {
 *   const { cursor } = await req.json();
 *   return Response.json({ results: [cursor ?? 0], next: cursor === 2 ? null : (cursor ?? 0) + 1 });
 * };
 * const seen: unknown[] = [];
 * const pages = requests.paginate("http://api.test/search", {
 *   method: "POST",
 *   json: { query: "cats", cursor: null },
 *   fetch,
 *   pagination: {
 *     items: (r) => (r.json() as { results: number[] }).results,
 *     next: (r) => {
 *       const { next } = r.json() as { next: number | null };
 *       return next === null ? null : { json: { cursor: next } };
 *     },
 *   },
 * });
 * for await (const item of pages) seen.push(item);
 * assert.deepEqual(seen, [0, 1, 2]);
 * ```
 */
export function paginate<Item = unknown>(
  url: string | URL,
  options?: PaginateOptions<Item>,
): AsyncGenerator<Item, void, undefined> {
  return paginateVia((method, target, own) => request(method, target, own), url, options, {
    resolve: absoluteUrl,
    base: null,
  }) as AsyncGenerator<Item, void, undefined>;
}

/**
 * @internal {@linkcode paginate} over any way of sending a page, such as a session's.
 *
 * @param send Sends one page.
 * @param url The first page's URL, as `send` takes it.
 * @param options As for {@linkcode paginate}.
 * @param scope How the first URL resolves, and the base URL the walk stays under.
 * @returns An async iterable of the items.
 */
export async function* paginateVia(
  send: PageSender,
  url: string | URL,
  options: object | undefined,
  scope: PageScope,
): AsyncGenerator<unknown, void, undefined> {
  const plan = planOf(url, options, scope.resolve);
  const origin = plan.first.url?.origin ?? null;
  const sent = new Set<string>();
  let page: PageRequest | null = plan.first;
  let yielded = 0;
  for (let number = 1; page !== null && number <= plan.maxPages; number++) {
    if (yielded >= plan.maxItems) return;
    if (number > 1 && plan.delayMs > 0) await sleep(plan.delayMs, plan.signal);
    if (!firstTime(sent, requestKey(page))) return;
    const response = await sendPage(send, page, number, plan, origin, scope.base);
    // Where it was asked for and came from (after redirects): URLs with their params in them.
    const bare = { ...page.options, params: undefined };
    for (const url of arrivedAt(response)) {
      firstTime(sent, requestKey({ ...page, url, options: bare }));
    }
    const items: unknown[] = [];
    for await (const raw of await pageItems(plan, response)) {
      if (yielded >= plan.maxItems) return;
      const item = plan.schema === null ? raw : await validate(plan.schema, raw, {
        what: `Item ${items.length + 1} of page ${number}`,
        response,
      });
      items.push(item);
      yielded++;
      yield item;
    }
    if (yielded >= plan.maxItems) return;
    const next = plan.next === null ? linkNext(response) : await plan.next(response, items);
    page = nextRequest(page, next, response);
  }
}

/** Sends one page; a status other than 2xx is an HTTPError carrying the response. */
async function sendPage(
  send: PageSender,
  page: PageRequest,
  number: number,
  plan: Plan,
  origin: string | null,
  base: URL | null,
): Promise<Response> {
  const foreign = page.url !== null && origin !== null && page.url.origin !== origin;
  const options = foreign ? withoutCredentials(page.options, plan.sensitive) : page.options;
  let target = page.target;
  // A session's next page under its base URL goes as a path joined to it, so the session's own
  // rules (allow_absolute_urls: false included) hold for it as for any path.
  if (number > 1 && base !== null && target instanceof URL) target = underBase(target, base);
  const response = await send(page.method, target, options, origin);
  const status = response.status_code;
  if (status < 200 || status > 299) {
    throw new HTTPError(`Page ${number} answered ${status} ${clip(response.reason)}`, {
      request: response.request,
      response,
    });
  }
  return response;
}

/** `url` as a path joined to `base` (`./` first: never a scheme nor a network path), if under. */
function underBase(url: URL, base: URL): string | URL {
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) return url;
  return `./${url.pathname.slice(base.pathname.length)}${url.search}`;
}

/** The URLs a response was asked for and came from (before and after redirects). */
function arrivedAt(response: Response): URL[] {
  const urls: URL[] = [];
  for (const text of [response.url, response.history[0]?.url]) {
    if (text === undefined || text === "") continue;
    try {
      urls.push(new URL(text));
    } catch { /* a response of a custom fetch without a usable URL */ }
  }
  return urls;
}

/** Adds `key` to `sent`; false when it was there: the request was already sent in this walk. */
function firstTime(sent: Set<string>, key: string | null): boolean {
  if (key === null) return true;
  if (sent.has(key)) return false;
  sent.add(key);
  return true;
}

/** The items of a page: what `pagination.items` gives (awaited), or the parsed JSON. */
async function pageItems(
  plan: Plan,
  response: Response,
): Promise<Iterable<unknown> | AsyncIterable<unknown>> {
  const items = plan.items === null ? defaultItems(response) : await plan.items(response);
  if (
    typeof items === "object" && items !== null &&
    (Symbol.iterator in items || Symbol.asyncIterator in items)
  ) {
    return items as Iterable<unknown> | AsyncIterable<unknown>;
  }
  throw new TypeError("Invalid result of 'pagination.items': expected an iterable of items");
}

/** The first page's URL, or null for text the request will refuse. */
function absoluteUrl(url: string | URL): URL | null {
  try {
    return new URL(url instanceof URL ? url.href : url);
  } catch {
    return null;
  }
}
