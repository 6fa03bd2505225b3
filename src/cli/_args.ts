// The command line of cli.ts, httpie style: `[METHOD] URL [ITEM ...]` plus flags, parsed into
// one checked request description. Usage errors never repeat a header value or a password.

import { redactUrl } from "../_url.ts";

/** A mistake on the command line (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The request body the items and flags describe. */
export type CliBody =
  | { kind: "json"; text: string }
  | { kind: "form"; fields: [string, string][] }
  | { kind: "file"; path: string };

/** What the command line asks for. */
export interface CliRequest {
  help: boolean;
  method: string;
  url: string;
  headers: [string, string][];
  params: [string, string][];
  body: CliBody | null;
  output: string | null;
  verbose: boolean;
  timeout: number | undefined;
  auth: [string, string] | undefined;
  follow: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const METHOD = /^[A-Za-z]+$/;
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** Methods whose `key=value` items are query parameters rather than body fields. */
const QUERY_METHODS = new Set(["GET", "HEAD", "DELETE"]);
/** Leftmost separator wins; at one position the longer one (`:=` over `:`, `==` over `=`). */
const SEPARATOR = /:=|==|=|:/;

function needsValue(name: string): never {
  throw new UsageError(`Option ${name} needs a value`);
}

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(":");
  const name = colon < 0 ? text.trim() : text.slice(0, colon).trim();
  if (colon < 0 || !TOKEN.test(name)) {
    throw new UsageError(
      `Invalid header for -H: expected 'Name: value' with a token name, got a name of ${
        JSON.stringify(name.slice(0, 40))
      }`,
    );
  }
  return [name, text.slice(colon + 1).trim()];
}

function parseTimeout(text: string): number {
  const seconds = Number(text);
  if (text.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`Invalid --timeout ${JSON.stringify(text)}: expected seconds above 0`);
  }
  return seconds;
}

function parseAuth(text: string): [string, string] {
  const colon = text.indexOf(":");
  if (colon < 0) throw new UsageError("Invalid --auth: expected USER:PASS");
  return [text.slice(0, colon), text.slice(colon + 1)];
}

/** `:3000/x` is localhost; a URL without a scheme is http. */
function parseUrl(text: string): string {
  let candidate = text;
  if (candidate.startsWith(":")) candidate = `http://localhost${candidate}`;
  else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(candidate)) candidate = `http://${candidate}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new UsageError(`Invalid URL ${JSON.stringify(redactUrl(text))}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(
      `Invalid URL ${JSON.stringify(redactUrl(text))}: only http:// and https:// are supported`,
    );
  }
  return url.href;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The flags, with the positionals left in order. */
interface Flags {
  request: CliRequest;
  positionals: string[];
  json: string | undefined;
  form: boolean;
}

/** `key=value` and `key:=json` items, as [name, JSON text, plain text or null]. */
type Field = [string, string, string | null];

function parseFlags(args: readonly string[]): Flags {
  const request: CliRequest = {
    help: false,
    method: "GET",
    url: "",
    headers: [],
    params: [],
    body: null,
    output: null,
    verbose: false,
    timeout: undefined,
    auth: undefined,
    follow: true,
  };
  const flags: Flags = { request, positionals: [], json: undefined, form: false };
  let rest = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (rest || arg === "-" || !arg.startsWith("-")) {
      flags.positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      rest = true;
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const value = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      if (i + 1 >= args.length) needsValue(name);
      return args[++i];
    };
    switch (name) {
      case "-h":
      case "--help":
        request.help = true;
        break;
      case "-v":
      case "--verbose":
        request.verbose = true;
        break;
      case "-f":
      case "--form":
        flags.form = true;
        break;
      case "--no-follow":
        request.follow = false;
        break;
      case "-H":
      case "--header":
        request.headers.push(parseHeader(value()));
        break;
      case "--json":
        flags.json = value();
        if (!isJson(flags.json)) throw new UsageError("Invalid --json: not valid JSON");
        break;
      case "-o":
      case "--output":
        request.output = value();
        if (request.output === "") throw new UsageError("Invalid --output: empty file name");
        break;
      case "--timeout":
        request.timeout = parseTimeout(value());
        break;
      case "-a":
      case "--auth":
        request.auth = parseAuth(value());
        break;
      default:
        throw new UsageError(`Unknown option ${JSON.stringify(name)}`);
    }
  }
  return flags;
}

/** Sorts the items into headers and query parameters of `request`, body fields, and the @FILE. */
function parseItems(
  items: readonly string[],
  request: CliRequest,
): { fields: Field[]; file: string | null } {
  const fields: Field[] = [];
  let file: string | null = null;
  for (const item of items) {
    if (item.startsWith("@")) {
      if (item === "@") throw new UsageError("Invalid item '@': expected @FILE");
      if (file !== null) throw new UsageError("Cannot send more than one @FILE body");
      file = item.slice(1);
      continue;
    }
    const match = SEPARATOR.exec(item);
    if (match === null) {
      throw new UsageError(
        `Invalid item ${
          JSON.stringify(item.slice(0, 40))
        }: expected Name:value, key=value, key:=json, key==value or @FILE`,
      );
    }
    const name = item.slice(0, match.index);
    const value = item.slice(match.index + match[0].length);
    if (name === "") throw new UsageError(`Invalid item: nothing before '${match[0]}'`);
    switch (match[0]) {
      case "==":
        request.params.push([name, value]);
        break;
      case "=":
        fields.push([name, JSON.stringify(value), value]);
        break;
      case ":=":
        if (!isJson(value)) {
          throw new UsageError(`Invalid item ${JSON.stringify(`${name}:=`)}: not valid JSON`);
        }
        fields.push([name, value.trim(), null]);
        break;
      default:
        if (!TOKEN.test(name)) {
          throw new UsageError(`Invalid header name ${JSON.stringify(name.slice(0, 40))}`);
        }
        request.headers.push([name, value.trim()]);
    }
  }
  return { fields, file };
}

/** The body the fields, --json, --form and @FILE describe; fields of GET, HEAD, DELETE are params. */
function bodyOf(
  request: CliRequest,
  fields: readonly Field[],
  flags: Flags,
  file: string | null,
): CliBody | null {
  if (fields.length > 0 && QUERY_METHODS.has(request.method)) {
    for (const [name, text, plain] of fields) {
      const parsed = plain === null ? JSON.parse(text) : plain;
      request.params.push([name, typeof parsed === "string" ? parsed : text]);
    }
    fields = [];
  }
  if (file !== null) {
    if (flags.json !== undefined || flags.form || fields.length > 0) {
      throw new UsageError("Cannot combine an @FILE body with --json, --form or body fields");
    }
    return { kind: "file", path: file };
  }
  if (flags.json !== undefined) {
    if (fields.length > 0) {
      throw new UsageError("Cannot combine --json with key=value or key:=json items");
    }
    return { kind: "json", text: flags.json };
  }
  if (fields.length === 0) return null;
  if (flags.form) {
    const raw = fields.find(([, , plain]) => plain === null);
    if (raw !== undefined) {
      throw new UsageError(`Cannot send ${JSON.stringify(`${raw[0]}:=`)} in a --form body`);
    }
    return { kind: "form", fields: fields.map(([name, , plain]) => [name, plain!]) };
  }
  const members = fields.map(([name, text]) => `${JSON.stringify(name)}:${text}`);
  return { kind: "json", text: `{${members.join(",")}}` };
}

/**
 * Parses the arguments after the program name.
 *
 * @throws {UsageError} For anything the user has to fix.
 */
export function parseArgs(args: readonly string[]): CliRequest {
  const flags = parseFlags(args);
  const { request, positionals } = flags;
  if (request.help) return request;

  let method: string | null = null;
  if (
    positionals.length >= 2 && METHOD.test(positionals[0]) &&
    (KNOWN_METHODS.has(positionals[0].toUpperCase()) ||
      positionals[0] === positionals[0].toUpperCase())
  ) {
    method = positionals.shift()!.toUpperCase();
  }
  if (positionals.length === 0) throw new UsageError("Missing URL");
  request.url = parseUrl(positionals.shift()!);
  const { fields, file } = parseItems(positionals, request);
  request.method = method ??
    (fields.length > 0 || flags.json !== undefined || file !== null ? "POST" : "GET");
  request.body = bodyOf(request, fields, flags, file);
  return request;
}
