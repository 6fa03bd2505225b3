// The origin server and the runner of the HTTP cache's conformance table: each case is a
// sequence of requests through one HttpCache to a node:http origin that answers each step as
// the case says, on a clock the cache and the origin share (so a pause costs no time). The
// table's shape follows the http-tests/cache-tests suite that undici runs.

import http from "node:http";
import type net from "node:net";
import { engineFor } from "../src/cache/_engine.ts";
import { formatHttpDate } from "../src/cache/_parse.ts";
import type { HttpCache, HttpCacheOptions } from "../src/cache/http_cache.ts";

/** A header field of a step; a number in a date field is seconds from the step's now. */
export type StepField = readonly [string, string | number];

/** One request of a case, what the origin answers to it, and what is expected. */
export interface Step {
  /** Seconds the clock moves before this step. */
  pause?: number;
  /** A path below the case's URL (`/target`). */
  path?: string;
  method?: string;
  headers?: readonly StepField[];
  body?: string;
  /** The origin's answer. */
  status?: number;
  reason?: string;
  response?: readonly StepField[];
  /** The origin's body; the case id when absent. */
  responseBody?: string;
  /** The origin drops the connection instead of answering. */
  disconnect?: boolean;
  /**
   * cached: the origin did not answer this step; not_cached: it did; validated: it received a
   * conditional request and answered 304.
   */
  expect?: "cached" | "not_cached" | "validated";
  expectStatus?: number;
  /** Fields the response has (a RegExp matches the value). */
  expectHeaders?: readonly (readonly [string, string | RegExp])[];
  expectMissing?: readonly string[];
  /** Fields the origin received with this step (null: absent). */
  expectSent?: readonly (readonly [string, string | RegExp | null])[];
  /** The method the origin received. */
  expectMethod?: string;
  expectBody?: string;
  expectCacheStatus?: string | RegExp | null;
  expectFromCache?: boolean;
  /** The call rejects. */
  expectError?: boolean;
}

/** One case of the table. */
export interface Case {
  /** Its id (the cache-tests id when it comes from there). */
  id: string;
  options?: HttpCacheOptions;
  /** A path below the case's own, for cases about other URLs. */
  steps: readonly Step[];
}

/** What a call through the cache gave. */
export interface Driven {
  status: number;
  headers: Headers;
  text: string;
  fromCache: boolean;
  cacheStatus: string | null;
}

/** Sends one request through `cache`: the module's request() in the end, a stand-in before. */
export type Driver = (
  cache: HttpCache,
  method: string,
  url: string,
  headers: readonly (readonly [string, string])[],
  body: string | null,
) => Promise<Driven>;

interface Seen {
  step: number;
  method: string;
  headers: http.IncomingHttpHeaders;
  status: number;
}

const DATE_FIELDS = new Set(["date", "expires", "last-modified", "if-modified-since"]);

/** The shared clock: the cache's and the origin's. */
export const clock = { now: Date.now() };

function value(name: string, v: string | number, id = ""): string {
  if (typeof v === "string") return v.replaceAll("{case}", id);
  if (!DATE_FIELDS.has(name.toLowerCase())) return String(v);
  return formatHttpDate(clock.now + v * 1000);
}

/** A step's fields: a date field's number made a date, "{case}" the case's id. */
function fieldsOf(list: readonly StepField[] | undefined, id = ""): [string, string][] {
  return (list ?? []).map(([name, v]) => [name, value(name, v, id)]);
}

/** The origin: answers /<case>/<path> with the step named by the X-Step field. */
export class Origin {
  readonly #server: http.Server;
  readonly #cases = new Map<string, Case>();
  readonly #seen = new Map<string, Seen[]>();
  /** The fields each step was answered with, by case. */
  readonly #sent = new Map<string, Map<number, [string, string][]>>();
  readonly #sockets = new Set<net.Socket>();
  url = "";

  constructor() {
    this.#server = http.createServer((req, res) => this.#answer(req, res));
    this.#server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address() as net.AddressInfo;
    this.url = `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  register(c: Case): void {
    this.#cases.set(c.id, c);
    this.#seen.set(c.id, []);
    this.#sent.set(c.id, new Map());
  }

  seen(id: string): readonly Seen[] {
    return this.#seen.get(id) ?? [];
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const id = String(req.headers["x-case"]);
    const index = Number(req.headers["x-step"]);
    const c = this.#cases.get(id);
    const step = c?.steps[index];
    req.resume();
    if (c === undefined || step === undefined) {
      res.writeHead(400).end();
      return;
    }
    if (step.disconnect) {
      this.#seen.get(id)!.push({
        step: index,
        method: req.method!,
        headers: req.headers,
        status: 0,
      });
      req.socket.destroy();
      return;
    }
    const fields = fieldsOf(step.response, id);
    const status = this.#notModified(c.id, index, step, req.headers) ? 304 : step.status ?? 200;
    this.#sent.get(id)!.set(index, fields);
    this.#seen.get(id)!.push({ step: index, method: req.method!, headers: req.headers, status });
    res.sendDate = false;
    const grouped = new Map<string, string[]>();
    for (const [name, v] of fields) grouped.set(name, [...grouped.get(name) ?? [], v]);
    if (!grouped.has("Date") && !grouped.has("date")) grouped.set("Date", [value("date", 0)]);
    if (![...grouped.keys()].some((name) => name.toLowerCase() === "content-type")) {
      grouped.set("Content-Type", ["text/plain"]);
    }
    grouped.set("X-Served", [String(index)]);
    for (const [name, values] of grouped) {
      // A "-" value asks for no such field at all.
      if (values[0] !== "-") res.setHeader(name, values.length === 1 ? values[0] : values);
    }
    res.statusCode = status;
    if (step.reason !== undefined) res.statusMessage = step.reason;
    const noBody = status === 304 || status === 204 || req.method === "HEAD";
    res.end(noBody ? undefined : step.responseBody ?? id);
  }

  /** A conditional request carrying the validators of the last response that had some. */
  #notModified(id: string, index: number, step: Step, headers: http.IncomingHttpHeaders): boolean {
    if (step.expect !== "validated") return false;
    const sent = this.#sent.get(id)!;
    for (let i = index - 1; i >= 0; i--) {
      const fields = sent.get(i) ?? [];
      const etag = fields.find(([name]) => name.toLowerCase() === "etag")?.[1];
      const modified = fields.find(([name]) => name.toLowerCase() === "last-modified")?.[1];
      if (etag === undefined && modified === undefined) continue;
      return (etag !== undefined && headers["if-none-match"] === etag) ||
        (modified !== undefined && headers["if-modified-since"] === modified);
    }
    return false;
  }
}

/** Runs a case through a new cache; returns what went wrong, one line each. */
export async function runCase(
  origin: Origin,
  c: Case,
  driver: Driver,
  makeCache: (options?: HttpCacheOptions) => HttpCache,
): Promise<string[]> {
  origin.register(c);
  clock.now = Date.now();
  const cache = makeCache(c.options);
  engineFor(cache).now = () => clock.now;
  const problems: string[] = [];
  for (const [index, step] of c.steps.entries()) {
    clock.now += (step.pause ?? 0) * 1000;
    const url = `${origin.url}/${c.id}${step.path ?? ""}`;
    const headers: [string, string][] = [
      ...fieldsOf(step.headers, c.id),
      ["x-case", c.id],
      ["x-step", String(index)],
    ];
    const problem = (text: string) => problems.push(`step ${index + 1}: ${text}`);
    let driven: Driven;
    try {
      driven = await driver(cache, step.method ?? "GET", url, headers, step.body ?? null);
    } catch (error) {
      if (!step.expectError) problem(`rejected: ${error}`);
      continue;
    }
    if (step.expectError) problem(`resolved with ${driven.status}`);
    check(origin, c, index, step, driven, problem);
    // Stores and background validations (stale-while-revalidate) settle before the next step.
    await cache.flush();
  }
  return problems;
}

function check(
  origin: Origin,
  c: Case,
  index: number,
  step: Step,
  driven: Driven,
  problem: (text: string) => void,
): void {
  const answered = driven.headers.get("x-served") === String(index);
  const seen = origin.seen(c.id).filter((s) => s.step === index);
  if (step.expect === "cached" && answered) problem("answered by the origin, not the cache");
  if (step.expect === "not_cached" && !answered) problem("answered by the cache");
  if (step.expect === "validated" && !seen.some((s) => s.status === 304)) {
    problem("no conditional request answered 304");
  }
  const status = step.expectStatus ?? (step.expect === "validated" ? undefined : step.status);
  if (status !== undefined && driven.status !== status) {
    problem(`status ${driven.status}, not ${status}`);
  }
  for (const [name, want] of step.expectHeaders ?? []) {
    const got = driven.headers.get(name);
    const ok = got !== null && (typeof want === "string" ? got === want : want.test(got));
    if (!ok) problem(`${name} is ${JSON.stringify(got)}, not ${want}`);
  }
  for (const name of step.expectMissing ?? []) {
    if (driven.headers.has(name)) problem(`${name} present: ${driven.headers.get(name)}`);
  }
  for (const [name, want] of step.expectSent ?? []) {
    const sent = seen.at(-1)?.headers[name] ?? null;
    const ok = want instanceof RegExp ? typeof sent === "string" && want.test(sent) : sent === want;
    if (!ok) problem(`sent ${name}: ${JSON.stringify(sent)}, not ${want}`);
  }
  if (step.expectMethod !== undefined && seen.at(-1)?.method !== step.expectMethod) {
    problem(`the origin received ${seen.at(-1)?.method}, not ${step.expectMethod}`);
  }
  if (step.expectBody !== undefined && driven.text !== step.expectBody) {
    problem(
      `body ${JSON.stringify(driven.text.slice(0, 80))}, not ${JSON.stringify(step.expectBody)}`,
    );
  }
  const cs = step.expectCacheStatus;
  if (cs !== undefined) {
    const ok = cs === null || typeof cs === "string"
      ? driven.cacheStatus === cs
      : driven.cacheStatus !== null && cs.test(driven.cacheStatus);
    if (!ok) problem(`cache_status ${JSON.stringify(driven.cacheStatus)}, not ${cs}`);
  }
  if (step.expectFromCache !== undefined && driven.fromCache !== step.expectFromCache) {
    problem(`from_cache ${driven.fromCache}`);
  }
}
