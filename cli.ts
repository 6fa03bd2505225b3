/**
 * `requests` on the command line, in the spirit of httpie:
 *
 * ```sh
 * deno run -A jsr:@requests/requests/cli GET http://127.0.0.1:8000/get page==2
 * bun cli.ts POST http://127.0.0.1:8000/post name=cam count:=3 X-Source:openmv
 * deno task cli http://127.0.0.1:8000/big.bin -o big.bin
 * ```
 *
 * `key=value` items are JSON body fields (`key:=json` for raw JSON) of POST, PUT and PATCH,
 * and query parameters of GET, HEAD and DELETE; `key==value` is always a query parameter and
 * `Name:value` a header. Exit codes: 0 for 2xx and 3xx, 4 for 4xx, 5 for 5xx, 1 for network
 * errors, 2 for usage errors.
 *
 * @module
 */

import { open } from "node:fs/promises";
import path from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { type CliRequest, parseArgs, UsageError } from "./src/_cli_args.ts";
import { formatBytes, formatJson, ProgressBar } from "./src/_cli_output.ts";
import { appendParams, redactUrl } from "./src/_url.ts";
import { RequestError } from "./src/errors.ts";
import type { FetchLike, RequestOptions } from "./src/options.ts";
import { nextHop } from "./src/redirects.ts";
import { request } from "./src/request.ts";
import type { Response } from "./src/response.ts";

/** Where {@linkcode main} writes: standard output or standard error, or a stand-in for tests. */
export interface CliWriter {
  /** Writes bytes; the returned promise settles when they are written. */
  write(chunk: Uint8Array): void | Promise<void>;
  /** True when this is a terminal: JSON is then pretty-printed and a download shows progress. */
  readonly isTerminal: boolean;
  /** The terminal width. @default 80 */
  readonly columns?: number;
}

/** Options of {@linkcode main}; each defaults to the process's own. */
export interface CliOptions {
  /** Where the body goes. @default process.stdout */
  stdout?: CliWriter;
  /** Where `-v`, progress and errors go. @default process.stderr */
  stderr?: CliWriter;
  /** The environment; `NO_COLOR` turns colors off. @default process.env */
  env?: Record<string, string | undefined>;
  /** What to send with (see the `fetch` request option). @default globalThis.fetch */
  fetch?: FetchLike;
}

/** The text of `--help`. */
const USAGE = `Usage: requests [METHOD] URL [ITEM ...] [OPTIONS]

Send an HTTP request and print the response body.

  METHOD   GET, POST, PUT, PATCH, DELETE, HEAD, ... (default: GET, or POST when
           there are body items or --json)
  URL      http:// or https:// URL; "example.com" means http://example.com and
           ":8000/path" means http://localhost:8000/path

Items:
  key=value      a JSON string field of the body (a query parameter for GET,
                 HEAD and DELETE)
  key:=json      a raw JSON field, e.g. count:=3 tags:='["a","b"]'
  key==value     a query parameter
  Name:value     a request header

Options:
  -H, --header 'Name: value'  add a request header (repeatable)
      --json TEXT             send TEXT as the JSON body
  -f, --form                  send key=value items as a form, not JSON
  -o, --output FILE           save the body to FILE (streamed, with progress
                              on a terminal)
  -v, --verbose               print the request line and the response status
                              and headers to stderr
      --timeout SECONDS       wait at most this long for the headers and for
                              each piece of the body
  -a, --auth USER:PASS        basic authentication
      --no-follow             do not follow redirects
  -h, --help                  show this help

Exit codes: 0 for 2xx and 3xx, 4 for 4xx, 5 for 5xx, 1 for a network error,
2 for a usage error. NO_COLOR turns colors off.
`;

const encoder = new TextEncoder();
const SECRET_HEADER = /authorization|cookie|token|secret|password|api-?key/i;

function processWriter(stream: typeof process.stdout | typeof process.stderr): CliWriter {
  // A failed write is reported to its callback; without a listener it would also be thrown.
  stream.on("error", () => {});
  return {
    isTerminal: stream.isTTY === true,
    columns: stream.columns,
    write: (chunk) =>
      new Promise<void>((resolve, reject) => {
        stream.write(chunk, (error) => error ? reject(error) : resolve());
      }),
  };
}

/** The request options for what the command line asks. */
function requestOptions(req: CliRequest, fetch: FetchLike | undefined): RequestOptions {
  const headers = new Headers();
  for (const [name, value] of req.headers) headers.append(name, value);
  const options: RequestOptions = {
    params: req.params,
    stream: true,
    allow_redirects: req.follow,
  };
  if (req.body?.kind === "json") {
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    if (!headers.has("accept")) headers.set("accept", "application/json, */*;q=0.5");
    options.data = req.body.text;
  } else if (req.body?.kind === "form") {
    options.data = new URLSearchParams(req.body.fields);
  }
  options.headers = headers;
  if (req.timeout !== undefined) options.timeout = req.timeout;
  if (req.auth !== undefined) options.auth = req.auth;
  if (fetch !== undefined) options.fetch = fetch;
  return options;
}

/** `-v`: the request line and the headers the user gave, secrets masked. */
function requestLines(req: CliRequest, options: RequestOptions): string {
  const url = new URL(req.url);
  if (req.params.length > 0) appendParams(url, req.params);
  let text = `> ${req.method} ${redactUrl(url)}\n`;
  for (const [name, value] of options.headers as Headers) {
    text += `> ${name}: ${SECRET_HEADER.test(name) ? "***" : value}\n`;
  }
  if (req.auth !== undefined || url.username !== "") text += "> authorization: Basic ***\n";
  return text;
}

/** `-v`: each response's status and headers, with the request line of each redirect hop. */
function responseLines(r: Response, method: string): string {
  const chain = [...r.history, r];
  let text = "";
  for (let i = 0; i < chain.length; i++) {
    const hop = chain[i];
    if (i > 0) {
      const previous = chain[i - 1];
      const location = previous.raw?.headers.get("location");
      if (location) {
        try {
          method = nextHop(previous.status_code, location, new URL(previous.url), method).method;
        } catch { /* it was followed, so it parsed */ }
      }
      text += `> ${method} ${redactUrl(hop.url)}\n`;
    }
    text += `< ${hop.status_code} ${hop.reason}\n`;
    for (const line of hop.headers.split("\r\n")) if (line !== "") text += `< ${line}\n`;
  }
  return text;
}

function exitCode(status: number): number {
  if (status >= 500 && status < 600) return 5;
  if (status >= 400 && status < 500) return 4;
  return 0;
}

/** Streams the body to `file`, with a progress bar on a terminal. */
async function saveBody(
  r: Response,
  file: string,
  stderr: CliWriter,
  bar: ProgressBar | null,
): Promise<number> {
  const handle = await open(file, "w");
  let written = 0;
  try {
    for await (const chunk of r.iter_content()) {
      await handle.write(chunk);
      written += chunk.byteLength;
    }
  } finally {
    await handle.close();
  }
  if (bar !== null) {
    bar.done();
    await stderr.write(encoder.encode(`Saved ${formatBytes(written)} to ${file}\n`));
  }
  return written;
}

/** Writes the body to stdout: pretty JSON on a terminal, else the bytes as they arrive. */
async function printBody(
  r: Response,
  stdout: CliWriter,
  stderr: CliWriter,
  color: boolean,
): Promise<void> {
  const type = r.raw?.headers.get("content-type") ?? "";
  if (stdout.isTerminal && /\bjson\b|\+json\b/i.test(type)) {
    await r.read();
    const pretty = formatJson(r.content, color);
    const text = pretty ?? r.content;
    await stdout.write(encoder.encode(text.endsWith("\n") ? text : `${text}\n`));
    return;
  }
  let last = 10;
  for await (const chunk of r.iter_content()) {
    if (stdout.isTerminal && chunk.includes(0)) {
      r.close();
      await stderr.write(
        encoder.encode("requests: binary body not shown on a terminal; use -o FILE to save it\n"),
      );
      return;
    }
    await stdout.write(chunk);
    last = chunk[chunk.byteLength - 1];
  }
  if (stdout.isTerminal && last !== 10) await stdout.write(encoder.encode("\n"));
}

/**
 * Runs the command line `args` (the arguments after the program name) and returns the exit
 * code: 0 for a 2xx or 3xx response, 4 for 4xx, 5 for 5xx, 1 for a network error and 2 for a
 * usage error. The body goes to `stdout` (or to the `-o` file); `-v`, progress and errors go to
 * `stderr`. Errors print the typed error's message, in which credentials are redacted.
 *
 * @param args The arguments, e.g. `["POST", "http://127.0.0.1:8000/post", "name=cam"]`.
 * @param options Where to write, the environment, and a fetch for tests.
 * @returns The exit code.
 *
 * @example Run the CLI in-process against a handler
 * ```ts
 * import { main } from "@requests/requests/cli";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const stdout = {
 *   isTerminal: false,
 *   write: (chunk: Uint8Array) => void (out += new TextDecoder().decode(chunk)),
 * };
 * const fetch = async (req: Request) =>
 *   Response.json({ method: req.method, url: req.url, body: await req.json() });
 *
 * const code = await main(["api.test/items", "page==2", "name=cam", "count:=3"], { stdout, fetch });
 * assert.equal(code, 0);
 * assert.deepEqual(JSON.parse(out), {
 *   method: "POST",
 *   url: "http://api.test/items?page=2",
 *   body: { name: "cam", count: 3 },
 * });
 * ```
 */
export async function main(args: readonly string[], options: CliOptions = {}): Promise<number> {
  const stdout = options.stdout ?? processWriter(process.stdout);
  const stderr = options.stderr ?? processWriter(process.stderr);
  const env = options.env ?? process.env;
  const say = (text: string) => stderr.write(encoder.encode(text));

  let req: CliRequest;
  try {
    req = parseArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    await say(`requests: ${error.message}\nRun 'requests --help' for usage.\n`);
    return 2;
  }
  if (req.help) {
    await stdout.write(encoder.encode(USAGE));
    return 0;
  }

  const opts = requestOptions(req, options.fetch);
  const bar = req.output !== null && stderr.isTerminal
    ? new ProgressBar((text) => void stderr.write(encoder.encode(text)), stderr.columns ?? 80)
    : null;
  if (bar !== null) opts.progress = (loaded, total) => bar.update(loaded, total);
  if (req.verbose) await say(requestLines(req, opts));
  try {
    const r = await request(req.method, req.url, opts);
    try {
      if (req.verbose) await say(responseLines(r, req.method));
      if (req.output !== null) await saveBody(r, req.output, stderr, bar);
      else await printBody(r, stdout, stderr, !env.NO_COLOR);
    } catch (error) {
      // The reader of stdout went away (`requests URL | head`): stop quietly, as other tools do.
      if ((error as { code?: unknown })?.code !== "EPIPE") throw error;
    } finally {
      r.close();
    }
    return exitCode(r.status_code);
  } catch (error) {
    if (error instanceof RequestError) {
      await say(`requests: ${error.name}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof TypeError || error instanceof RangeError) {
      await say(`requests: ${error.message}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    await say(`requests: ${message}\n`);
    return 1;
  }
}

/** True when this module is the program being run (Deno and Bun say so; Node is asked). */
function isMain(): boolean {
  const meta = import.meta as ImportMeta & { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(path.resolve(script)).href === import.meta.url;
}

if (isMain()) process.exitCode = await main(process.argv.slice(2));
