// The walk of `paginate()` (src/pages.ts, which loads this file when a first walk starts): pages
// sent one at a time as the loop asks, each held to a redirect's rules, items validated, and the
// walk ended by a page already sent.

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
import { sleep } from "./_guard.ts";
import { validate } from "./_validate.ts";
import { clip, HTTPError } from "./errors.ts";
import type { PageScope, PageSender } from "./pages.ts";
import type { Response } from "./response.ts";

/**
 * The walk of `paginateVia()`: one page at a time, as the loop asks for more.
 *
 * @param send Sends one page.
 * @param url The first page's URL, as `send` takes it.
 * @param options As for `paginate()`.
 * @param scope How the first URL resolves, and the base URL the walk stays under.
 * @returns An async iterable of the items.
 */
export async function* walk(
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
