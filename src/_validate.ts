// Validating a parsed JSON value with a Standard Schema, for `r.json(schema)`,
// `r.iter_json(schema)` and `pagination.schema`: the schema is checked once, a failure becomes a
// SchemaValidationError whose message names the first issue.

import { clip, SchemaValidationError } from "./errors.ts";
import type { Response } from "./response.ts";
import type {
  StandardSchemaIssue,
  StandardSchemaResult,
  StandardSchemaV1,
} from "./standard_schema.ts";

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** What a failure is about: the value's place and the response it came in. */
export interface Subject {
  /** Where the value came from, the start of the message: "Response body", "Item 2 of page 1". */
  what: string;
  response: Response;
}

/** `schema` when it is a Standard Schema; a TypeError naming `option` otherwise. */
export function checkSchema(schema: unknown, option: string): StandardSchemaV1 {
  const standard = (typeof schema === "object" || typeof schema === "function") && schema !== null
    ? (schema as { "~standard"?: { version?: unknown; validate?: unknown } })["~standard"]
    : undefined;
  if (standard?.version !== 1 || typeof standard.validate !== "function") {
    throw new TypeError(
      `Invalid '${option}': expected a Standard Schema (an object with a '~standard' property ` +
        "of version 1, as Zod, Valibot and ArkType schemas have)",
    );
  }
  return schema as StandardSchemaV1;
}

/**
 * The schema's output for `value`, found synchronously. A schema that answers with a promise is
 * a TypeError (the promise gets a rejection handler, so it never goes unhandled).
 */
export function validateNow(
  schema: StandardSchemaV1,
  value: unknown,
  subject: Subject,
  method: string,
): unknown {
  const result = schema["~standard"].validate(value);
  if (isThenable(result)) {
    result.then(undefined, () => {});
    throw new TypeError(
      `Cannot validate in '${method}': the schema validates asynchronously; ` +
        "await its '~standard'.validate() instead",
    );
  }
  return outcome(result, subject);
}

/** The schema's output for `value`, the schema's answer awaited. */
export async function validate(
  schema: StandardSchemaV1,
  value: unknown,
  subject: Subject,
): Promise<unknown> {
  return outcome(await schema["~standard"].validate(value), subject);
}

function outcome(result: StandardSchemaResult<unknown>, subject: Subject): unknown {
  if (result.issues === undefined) return result.value;
  throw failure(result.issues, subject);
}

/** The error for `issues`: the first one's path and message, cut to 200 characters. */
function failure(issues: readonly StandardSchemaIssue[], subject: Subject): SchemaValidationError {
  const detail = issues.length === 0 ? ": the schema gave no issue" : issueText(issues[0]);
  const more = issues.length > 1
    ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? "s" : ""})`
    : "";
  const { response } = subject;
  return new SchemaValidationError(
    `${subject.what} does not match the schema${clip(detail)}${more} (${response.status_code} ${
      clip(response.reason)
    })`,
    { request: response.request, response, issues },
  );
}

/** ` at items[0].id: Expected number` (or `: message` for the root), for the message. */
function issueText(issue: StandardSchemaIssue): string {
  const path = formatPath(issue.path);
  const message = typeof issue.message === "string" ? issue.message : String(issue.message);
  return path === "" ? `: ${message}` : ` at ${path}: ${message}`;
}

/** An issue's path as code would write it: `items[0].id`, `["a b"]`. */
export function formatPath(path: StandardSchemaIssue["path"]): string {
  if (path === undefined || path === null) return "";
  let text = "";
  for (const segment of path) {
    const key = typeof segment === "object" && segment !== null ? segment.key : segment;
    if (typeof key === "number") text += `[${key}]`;
    else if (typeof key === "symbol") text += `[${String(key)}]`;
    else if (IDENTIFIER.test(key)) text += text === "" ? key : `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
