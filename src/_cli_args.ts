// The command line of cli.ts, httpie style: `[METHOD] URL [ITEM ...]` plus flags, parsed into
// one checked request description. Usage errors never repeat a header value or a password.

import { redactUrl } from "./_url.ts";

/** A mistake on the command line (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The request body the items and flags describe. */
export type CliBody =
  | { kind: "json"; text: string }
  | { kind: "form"; fields: [string, string][] };

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

/**
 * Parses the arguments after the program name.
 *
 * @throws {UsageError} For anything the user has to fix.
 */
export function parseArgs(args: readonly string[]): CliRequest {
  const positionals: string[] = [];
  const headers: [string, string][] = [];
  let json: string | undefined;
  let form = false;
  let output: string | null = null;
  let verbose = false;
  let timeout: number | undefined;
  let auth: [string, string] | undefined;
  let follow = true;
  let help = false;
  let rest = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (rest || arg === "-" || !arg.startsWith("-")) {
      positionals.push(arg);
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
        help = true;
        break;
      case "-v":
      case "--verbose":
        verbose = true;
        break;
      case "-f":
      case "--form":
        form = true;
        break;
      case "--no-follow":
        follow = false;
        break;
      case "-H":
      case "--header":
        headers.push(parseHeader(value()));
        break;
      case "--json":
        json = value();
        if (!isJson(json)) throw new UsageError("Invalid --json: not valid JSON");
        break;
      case "-o":
      case "--output":
        output = value();
        if (output === "") throw new UsageError("Invalid --output: empty file name");
        break;
      case "--timeout":
        timeout = parseTimeout(value());
        break;
      case "-a":
      case "--auth":
        auth = parseAuth(value());
        break;
      default:
        throw new UsageError(`Unknown option ${JSON.stringify(name)}`);
    }
  }
  const request: CliRequest = {
    help,
    method: "GET",
    url: "",
    headers,
    params: [],
    body: null,
    output,
    verbose,
    timeout,
    auth,
    follow,
  };
  if (help) return request;

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

  /** `key=value` and `key:=json` items, as [name, JSON text, plain text or null]. */
  const fields: [string, string, string | null][] = [];
  for (const item of positionals) {
    const match = SEPARATOR.exec(item);
    if (match === null) {
      throw new UsageError(
        `Invalid item ${
          JSON.stringify(item.slice(0, 40))
        }: expected Name:value, key=value, key:=json or key==value`,
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
        headers.push([name, value.trim()]);
    }
  }

  request.method = method ?? (fields.length > 0 || json !== undefined ? "POST" : "GET");
  if (fields.length > 0 && QUERY_METHODS.has(request.method)) {
    for (const [name, text, plain] of fields) {
      const parsed = plain === null ? JSON.parse(text) : plain;
      request.params.push([name, typeof parsed === "string" ? parsed : text]);
    }
  } else if (fields.length > 0) {
    if (json !== undefined) {
      throw new UsageError("Cannot combine --json with key=value or key:=json items");
    }
    if (form) {
      const raw = fields.find(([, , plain]) => plain === null);
      if (raw !== undefined) {
        throw new UsageError(`Cannot send ${JSON.stringify(`${raw[0]}:=`)} in a --form body`);
      }
      request.body = { kind: "form", fields: fields.map(([name, , plain]) => [name, plain!]) };
    } else {
      const members = fields.map(([name, text]) => `${JSON.stringify(name)}:${text}`);
      request.body = { kind: "json", text: `{${members.join(",")}}` };
    }
  }
  if (json !== undefined) request.body = { kind: "json", text: json };
  return request;
}
