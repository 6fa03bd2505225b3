/**
 * Pages: {@linkcode paginate} walks a paginated API (a `Link: <...>; rel="next"` header, or a
 * cursor of your own) and yields the items of each page, fetching the next page only when the
 * loop asks for more.
 *
 * @module
 */

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

/** The walk itself, loaded when a first walk starts (most scripts never page). */
let walker: Promise<typeof import("./_walk.ts")> | undefined;

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
  const { walk } = await (walker ??= import("./_walk.ts"));
  yield* walk(send, url, options, scope);
}

/** The first page's URL, or null for text the request will refuse. */
function absoluteUrl(url: string | URL): URL | null {
  try {
    return new URL(url instanceof URL ? url.href : url);
  } catch {
    return null;
  }
}
