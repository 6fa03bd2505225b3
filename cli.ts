/**
 * `requests` on the command line, in the spirit of httpie:
 *
 * ```sh
 * deno run -A jsr:@requests/requests/cli GET http://127.0.0.1:8000/get page==2
 * bun cli.ts POST http://127.0.0.1:8000/post name=cam count:=3 X-Source:openmv
 * deno task cli http://127.0.0.1:8000/big.bin -o big.bin
 * deno task cli PUT http://127.0.0.1:8000/upload @snapshot.jpg Content-Type:image/jpeg
 * ```
 *
 * `key=value` items are JSON body fields (`key:=json` for raw JSON) of POST, PUT and PATCH,
 * and query parameters of GET, HEAD and DELETE; `key==value` is always a query parameter,
 * `Name:value` a header and `@FILE` a body sent from a file. On a terminal, JSON is
 * pretty-printed, `text/event-stream` and NDJSON bodies are printed line by line as they arrive,
 * control characters from the server (terminal escapes such as `ESC ] 0 ; title BEL`) are shown
 * as `\x1b`-style escapes in the body, the status line and the headers (a pipe or `-o` gets the
 * exact bytes), and `-o` downloads and `@FILE` uploads show a progress bar on stderr.
 *
 * Exit codes: 0 for 2xx and 3xx, 4 for 4xx, 5 for 5xx, 1 for network errors, 2 for usage
 * errors, 3 when a local file (`-o FILE`, `@FILE`) cannot be written or read, 130 when
 * interrupted (Ctrl-C). A download that fails or is interrupted removes its partial file and
 * says so on stderr.
 *
 * Run as a program from Deno, against a server on the loopback (Bun and Node run `cli.ts`
 * directly):
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * import type { AddressInfo } from "node:net";
 *
 * // A local server that says what it received.
 * const server = createServer((req, res) => {
 *   let body = "";
 *   req.on("data", (chunk) => body += chunk).on("end", () => {
 *     res.writeHead(req.url === "/missing" ? 404 : 200, { "content-type": "application/json" });
 *     res.end(JSON.stringify({ method: req.method, url: req.url, body }));
 *   });
 * });
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as AddressInfo;
 *
 * // `deno run -A jsr:@requests/requests/cli ARGS`, resolved as this script resolves it.
 * const cli = (...args: string[]) =>
 *   new Deno.Command(Deno.execPath(), {
 *     args: ["run", "-A", import.meta.resolve("@requests/requests/cli"), ...args],
 *   }).output();
 *
 * const posted = await cli(`127.0.0.1:${port}/items`, "page==2", "name=cam", "count:=3");
 * assert.equal(posted.code, 0);
 * assert.deepEqual(JSON.parse(new TextDecoder().decode(posted.stdout)), {
 *   method: "POST",
 *   url: "/items?page=2",
 *   body: '{"name":"cam","count":3}',
 * });
 *
 * const missing = await cli(`127.0.0.1:${port}/missing`);
 * assert.equal(missing.code, 4); // a 4xx response; the body is still printed
 * assert.equal(JSON.parse(new TextDecoder().decode(missing.stdout)).url, "/missing");
 * server.close();
 * ```
 *
 * @module
 */

import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type CliRequest, parseArgs, UsageError } from "./src/cli/_args.ts";
import { createOutput, FileError, localPath, openUpload } from "./src/cli/_files.ts";
import {
  formatBytes,
  formatEventLine,
  formatJson,
  ProgressBar,
  visible,
  VisibleText,
} from "./src/cli/_output.ts";
import { isCredential } from "./src/_headers.ts";
import { appendParams, redactUrl } from "./src/_url.ts";
import { RequestError } from "./src/errors.ts";
import type { FetchLike, RequestOptions } from "./src/options.ts";
import { request } from "./src/request.ts";
import type { Response, SentRequest } from "./src/response.ts";

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
  @FILE          send the bytes of FILE as the body (with a progress bar on a
                 terminal); add a Content-Type:... item to say what it is

Options:
  -H, --header 'Name: value'  add a request header (repeatable)
      --json TEXT             send TEXT as the JSON body
  -f, --form                  send key=value items as a form, not JSON
  -o, --output FILE           save the body to FILE (streamed, with progress
                              on a terminal); a download that fails or is
                              interrupted removes the partial file
  -v, --verbose               print the request line and the response status
                              and headers to stderr
      --timeout SECONDS       wait at most this long for the headers and for
                              each piece of the body
  -a, --auth USER:PASS        basic authentication
      --no-follow             do not follow redirects
  -h, --help                  show this help

On a terminal, JSON is pretty-printed, text/event-stream and NDJSON bodies are
printed as each line arrives, and an error status with an empty body is shown
as "HTTP 404 Not Found" on stderr. Control characters from the server (terminal
escapes) are shown there as \\x1b-style escapes, in the body, the status line
and the headers; a pipe or -o gets the exact bytes.

Under "deno task cli", relative -o and @FILE paths are taken from the directory
you ran it from (INIT_CWD), not the repository root.

Exit codes: 0 for 2xx and 3xx, 4 for 4xx, 5 for 5xx, 1 for a network error,
2 for a usage error, 3 when a local file (-o FILE, @FILE) cannot be written or
read, 130 when interrupted (Ctrl-C). NO_COLOR turns colors off.
`;

const encoder = new TextEncoder();
/**
 * Header names the command line takes for secrets besides the credential table's: given to the
 * request as `sensitive_headers`, so they are masked in `-v` output and dropped across origins.
 */
const SECRET_NAME = /token|secret|password|api-?key/i;
const EVENT_STREAM = /^\s*text\/event-stream\b/i;
const JSON_LINES =
  /^\s*application\/(?:x-)?(?:ndjson|jsonl|jsonlines|json-lines|json-stream|stream\+json)\b/i;
const JSON_TYPE = /\bjson\b|\+json\b/i;
/** The directory of this file when it runs from a checkout (see `localPath`). */
const OWN_DIR = import.meta.url.startsWith("file:")
  ? path.dirname(fileURLToPath(import.meta.url))
  : null;

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

/** Ctrl-C during `-o`: stop the transfer so that the partial file is removed, not left. */
class Interrupt {
  #controller = new AbortController();
  #listener = (): void => {
    // A second Ctrl-C while the first is being handled ends the process at once.
    if (this.happened) process.exit(130);
    this.#controller.abort(new Error("Interrupted"));
  };

  constructor() {
    process.on("SIGINT", this.#listener);
  }

  /** Aborts on Ctrl-C. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once Ctrl-C was pressed. */
  get happened(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Gives Ctrl-C back its default (ending the process). */
  dispose(): void {
    process.off("SIGINT", this.#listener);
  }
}

/** What one run of the CLI works with. */
interface Run {
  req: CliRequest;
  stdout: CliWriter;
  stderr: CliWriter;
  env: Record<string, string | undefined>;
  fetch: FetchLike | undefined;
  interrupt: Interrupt | null;
  /** The partial -o file removed after a failure, for the error report. */
  removed: string | null;
}

/** Writes to stderr; on a terminal, control characters (a server's reason phrase, say) visibly. */
function say(run: Run, text: string): void | Promise<void> {
  return run.stderr.write(encoder.encode(run.stderr.isTerminal ? visible(text) : text));
}

/** The request options for what the command line asks. */
async function requestOptions(run: Run): Promise<RequestOptions> {
  const { req } = run;
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
  } else if (req.body?.kind === "file") {
    options.data = await openUpload(localPath(req.body.path, run.env, OWN_DIR));
  }
  options.headers = headers;
  options.sensitive_headers = [...headers.keys()].filter((name) => SECRET_NAME.test(name));
  if (req.timeout !== undefined) options.timeout = req.timeout;
  if (req.auth !== undefined) options.auth = req.auth;
  if (run.fetch !== undefined) options.fetch = run.fetch;
  if (run.interrupt !== null) options.signal = run.interrupt.signal;
  return options;
}

/** A progress bar on stderr when it is a terminal, else null. */
function progressBar(run: Run): ProgressBar | null {
  const { stderr } = run;
  if (!stderr.isTerminal) return null;
  return new ProgressBar((text) => void stderr.write(encoder.encode(text)), stderr.columns ?? 80);
}

/** `-v`: the request line and the headers the user gave, secrets masked. */
function requestLines(req: CliRequest, options: RequestOptions): string {
  const url = new URL(req.url);
  if (req.params.length > 0) appendParams(url, req.params);
  let text = `> ${req.method} ${redactUrl(url)}\n`;
  const sensitive = options.sensitive_headers ?? [];
  for (const [name, value] of options.headers as Headers) {
    text += `> ${name}: ${isCredential(name, sensitive) ? "***" : value}\n`;
  }
  if (req.auth !== undefined || url.username !== "") text += "> authorization: Basic ***\n";
  return text;
}

/** `-v`: what a redirect hop sent, as the response records it (credentials already masked). */
function sentLines(sent: SentRequest): string {
  let text = `> ${sent.method} ${sent.url}\n`;
  for (const [name, value] of Object.entries(sent.headers)) text += `> ${name}: ${value}\n`;
  return text;
}

/** `-v`: each response's status and headers, after the request each redirect hop sent. */
function responseLines(r: Response): string {
  const chain = [...r.history, r];
  let text = "";
  for (let i = 0; i < chain.length; i++) {
    const hop = chain[i];
    if (i > 0) text += sentLines(hop.request);
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

/**
 * Streams the body to the -o file, with a progress bar on a terminal; returns the bytes
 * written. On any failure, Ctrl-C included, the partial file is removed.
 */
async function saveBody(r: Response, run: Run, bar: ProgressBar | null): Promise<number> {
  const file = localPath(run.req.output!, run.env, OWN_DIR);
  const output = await createOutput(file);
  let written = 0;
  try {
    for await (const chunk of r.iter_content()) {
      await output.write(chunk);
      written += chunk.byteLength;
    }
    // Closing the response on Ctrl-C may end the body quietly rather than with an error.
    if (run.interrupt?.happened) throw run.interrupt.signal.reason;
    await output.close();
  } catch (error) {
    if (await output.discard()) run.removed = file;
    throw error;
  }
  if (bar !== null) {
    bar.done();
    await say(run, `Saved ${formatBytes(written)} to ${file}\n`);
  }
  return written;
}

/** Writes each line as it arrives, as `format` shows it (null: not at all); returns the bytes seen. */
async function printLines(
  r: Response,
  stdout: CliWriter,
  format: (line: string) => string | null,
): Promise<number> {
  let seen = 0;
  for await (const line of r.iter_lines()) {
    seen += line.length + 1;
    const text = format(line);
    if (text !== null) await stdout.write(encoder.encode(`${text}\n`));
  }
  return seen;
}

/**
 * Writes the body to stdout and returns its size in bytes. On a terminal: pretty JSON, an
 * event stream or JSON lines line by line as they arrive, other text as it arrives, control
 * characters shown as `\x1b` escapes; elsewhere the exact bytes as they arrive.
 */
async function printBody(r: Response, stdout: CliWriter, run: Run): Promise<number> {
  const type = r.raw?.headers.get("content-type") ?? "";
  const color = !run.env.NO_COLOR;
  if (!stdout.isTerminal) {
    let size = 0;
    for await (const chunk of r.iter_content()) {
      size += chunk.byteLength;
      await stdout.write(chunk);
    }
    return size;
  }
  if (EVENT_STREAM.test(type)) {
    return await printLines(r, stdout, (line) => formatEventLine(visible(line), color));
  }
  if (JSON_LINES.test(type)) {
    return await printLines(
      r,
      stdout,
      (line) => line.trim() === "" ? null : formatJson(line, color) ?? visible(line),
    );
  }
  if (JSON_TYPE.test(type)) {
    await r.read();
    if (r.bytes.byteLength === 0) return 0;
    const text = formatJson(r.content, color) ?? visible(r.content);
    await stdout.write(encoder.encode(text.endsWith("\n") ? text : `${text}\n`));
    return r.bytes.byteLength;
  }
  return await printText(r, stdout, run);
}

/**
 * Writes a body to a terminal as it arrives, control characters made visible, and returns its
 * size in bytes; a body holding a NUL byte is binary and not shown.
 */
async function printText(r: Response, stdout: CliWriter, run: Run): Promise<number> {
  const shown = new VisibleText();
  let size = 0;
  let endsLine = true;
  const show = async (text: string) => {
    if (text === "") return;
    await stdout.write(encoder.encode(text));
    endsLine = text.endsWith("\n");
  };
  for await (const chunk of r.iter_content()) {
    size += chunk.byteLength;
    if (chunk.includes(0)) {
      r.close();
      await say(run, "requests: binary body not shown on a terminal; use -o FILE to save it\n");
      return size;
    }
    await show(shown.push(chunk));
  }
  await show(shown.end());
  if (!endsLine) await stdout.write(encoder.encode("\n"));
  return size;
}

/** Sends the request and writes the response; returns the exit code. */
async function send(run: Run): Promise<number> {
  const { req } = run;
  const opts = await requestOptions(run);
  const upload = opts.data instanceof Blob ? progressBar(run) : null;
  let uploaded: number | null = null;
  if (upload !== null) {
    opts.upload_progress = (sent, total) => {
      uploaded = sent;
      upload.update(sent, total);
    };
  }
  const download = req.output !== null ? progressBar(run) : null;
  if (download !== null) opts.progress = (loaded, total) => download.update(loaded, total);
  if (req.verbose) await say(run, requestLines(req, opts));
  const r = await request(req.method, req.url, opts);
  run.interrupt?.signal.addEventListener("abort", () => r.close(), { once: true });
  try {
    if (upload !== null && uploaded !== null) {
      upload.done();
      await say(run, `Sent ${formatBytes(uploaded)} from ${(req.body as { path: string }).path}\n`);
    }
    if (req.verbose) await say(run, responseLines(r));
    const size = req.output !== null
      ? await saveBody(r, run, download)
      : await printBody(r, run.stdout, run);
    // Nothing else would show that anything went wrong (the exit code aside).
    if (size === 0 && r.status_code >= 400 && !req.verbose) {
      await say(run, `HTTP ${r.status_code} ${r.reason}\n`);
    }
  } catch (error) {
    // The reader of stdout went away (`requests URL | head`): stop quietly, as other tools do.
    if ((error as { code?: unknown })?.code !== "EPIPE") throw error;
  } finally {
    r.close();
  }
  return exitCode(r.status_code);
}

/** Reports a failure of `send` on stderr and returns its exit code. */
async function failed(run: Run, error: unknown): Promise<number> {
  const removed = run.removed === null ? "" : `; removed the partial file ${run.removed}`;
  if (run.interrupt?.happened) {
    await say(run, `requests: interrupted${removed}\n`);
    return 130;
  }
  let code = 1;
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof RequestError) message = `${error.name}: ${error.message}`;
  else if (error instanceof FileError) code = 3;
  else if (error instanceof TypeError || error instanceof RangeError) code = 2;
  await say(run, `requests: ${message}${removed}\n`);
  return code;
}

/**
 * Runs the command line `args` (the arguments after the program name) and returns the exit
 * code: 0 for a 2xx or 3xx response, 4 for 4xx, 5 for 5xx, 1 for a network error, 2 for a
 * usage error, 3 when a local file (`-o FILE`, `@FILE`) cannot be written or read and 130 when
 * interrupted. The body goes to `stdout` (or to the `-o` file); `-v`, progress and errors go to
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
  let req: CliRequest;
  try {
    req = parseArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const text = `requests: ${error.message}\nRun 'requests --help' for usage.\n`;
    await stderr.write(encoder.encode(stderr.isTerminal ? visible(text) : text));
    return 2;
  }
  if (req.help) {
    await stdout.write(encoder.encode(USAGE));
    return 0;
  }
  const run: Run = {
    req,
    stdout,
    stderr,
    env: options.env ?? process.env,
    fetch: options.fetch,
    interrupt: req.output !== null ? new Interrupt() : null,
    removed: null,
  };
  try {
    return await send(run);
  } catch (error) {
    return await failed(run, error);
  } finally {
    run.interrupt?.dispose();
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
