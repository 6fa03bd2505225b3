// data / json / files -> the body to send and its content type.

import { clip } from "./errors.ts";
import { eachField, encodeForm } from "./_url.ts";
import type { FormFields } from "./options.ts";
import { type FileSpec, MultipartBuilder } from "./multipart.ts";

/** A raw request body for `data`, or form fields as a plain object. */
export type DataBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array>
  | URLSearchParams
  | FormData
  | FormFields;

/** A body ready for `fetch`, with the Content-Type it implies. */
export interface EncodedBody {
  /** What `fetch` sends; `null` for no body. */
  body: BodyInit | null;
  /** The Content-Type this body implies, or null to add none. */
  contentType: string | null;
  /** False for a stream: it can be sent once only (no redirect replay, no retry). */
  replayable: boolean;
}

const NO_BODY: EncodedBody = Object.freeze({ body: null, contentType: null, replayable: true });
const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";
const encoder = new TextEncoder();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** True when `text`, a JSON text, holds a `null` token (not only the word inside a string). */
function hasNullToken(text: string): boolean {
  for (let at = text.indexOf("null"); at >= 0; at = text.indexOf("null", at + 4)) {
    const before = text.charCodeAt(at - 1);
    // Outside a string a value follows `[`, `:` or `,`, or is the whole text.
    if (at === 0 || before === 0x5b || before === 0x3a || before === 0x2c) return true;
  }
  return false;
}

/** `json.items[2].value` for the first `length` keys from the root (whose key is ""). */
function formatPath(keys: readonly (string | number)[], length: number): string {
  let path = "json";
  for (let i = 1; i < length; i++) {
    const key = keys[i];
    path += typeof key === "number"
      ? `[${key}]`
      : IDENTIFIER.test(key)
      ? `.${key}`
      : `[${JSON.stringify(clip(key))}]`;
  }
  return path;
}

/**
 * The path and text (`["json.items[2].value", "NaN"]`) of the first NaN or Infinity that
 * `JSON.stringify(root)` writes as `null`, or null. It walks what stringify serialises, in its
 * order: each member read when its turn comes, the result of `toJSON(key)`, boxed numbers
 * unboxed, array items and own enumerable keys; so getters and `toJSON` run a second time.
 * Iterative, so a nesting stringify managed cannot overflow the stack here.
 */
function nonFinite(root: unknown): [string, string] | null {
  // The stack of members still to visit, three slots each: holder, key, depth.
  const stack: unknown[] = [{ "": root }, "", 0];
  // Depth first, so entries 0..depth-1 are the keys and objects above the current member.
  const path: (string | number)[] = [];
  const above: unknown[] = [];
  while (stack.length > 0) {
    const depth = stack.pop() as number;
    const key = stack.pop() as string | number;
    let value = (stack.pop() as Record<string | number, unknown>)[key];
    path[depth] = key;
    if ((typeof value === "object" && value !== null) || typeof value === "bigint") {
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") value = toJSON.call(value, String(key));
    }
    if (value instanceof Number) value = Number(value);
    if (typeof value === "number") {
      if (value - value !== 0) return [formatPath(path, depth + 1), String(value)];
      continue;
    }
    if (
      typeof value !== "object" || value === null || value instanceof String ||
      value instanceof Boolean || isAbove(above, depth, value)
    ) continue;
    above[depth] = value;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value, i, depth + 1);
    } else {
      const names = Object.keys(value);
      for (let i = names.length - 1; i >= 0; i--) stack.push(value, names[i], depth + 1);
    }
  }
  return null;
}

/**
 * True when `value` is one of the first `depth` objects of `above`: a cycle, which stringify
 * refused already unless a toJSON or getter answered differently the second time. The walk
 * stops there rather than loop.
 */
function isAbove(above: readonly unknown[], depth: number, value: object): boolean {
  for (let i = 0; i < depth; i++) if (above[i] === value) return true;
  return false;
}

/**
 * The body for `json`: a TypeError naming the option when `JSON.stringify` cannot encode it, or
 * when it would write a NaN or Infinity as `null` (Python `requests` refuses them too).
 */
function encodeJson(value: unknown): EncodedBody {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new TypeError(
      `Invalid 'json': JSON.stringify failed (${clip((cause as Error).message)})`,
      { cause },
    );
  }
  if (text === undefined) {
    throw new TypeError(`Invalid 'json': a ${typeof value} cannot be encoded as JSON`);
  }
  // Every NaN and Infinity becomes a null token: text without one needs no second look.
  const bad = hasNullToken(text) ? nonFinite(value) : null;
  if (bad !== null) {
    throw new TypeError(`Invalid 'json': ${bad[1]} at ${clip(bad[0])} cannot be sent as JSON`);
  }
  return { body: text, contentType: JSON_TYPE, replayable: true };
}

/** The body for `data` alone. */
function encodeData(data: DataBody): EncodedBody {
  if (typeof data === "string") {
    // Bytes, not a string: fetch would add "text/plain" to a string body, and `data` adds none.
    return { body: encoder.encode(data), contentType: null, replayable: true };
  }
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
    return { body: data as BodyInit, contentType: null, replayable: true };
  }
  if (data instanceof Blob) return { body: data, contentType: null, replayable: true };
  if (data instanceof ReadableStream) return { body: data, contentType: null, replayable: false };
  if (data instanceof FormData) return encodeMultipart(data, undefined);
  if (data instanceof URLSearchParams || Array.isArray(data) || isPlainObject(data)) {
    return { body: encoder.encode(encodeForm(data, "data")), contentType: FORM, replayable: true };
  }
  throw new TypeError(
    "Invalid 'data': expected a string, Uint8Array, ArrayBuffer, Blob, ReadableStream, " +
      "URLSearchParams, FormData or a plain object of form fields",
  );
}

/** The multipart body for `files`, with the fields of a `FormData` or plain-object `data`. */
function encodeMultipart(
  data: FormData | FormFields | undefined,
  files: Record<string, FileSpec> | undefined,
): EncodedBody {
  const builder = new MultipartBuilder();
  if (data instanceof FormData) {
    for (const [name, value] of data) {
      if (typeof value === "string") builder.field(name, value);
      else builder.file(name, value);
    }
  } else if (data !== undefined) {
    eachField(data, "data", (name, value) => builder.field(name, value));
  }
  if (files !== undefined) {
    for (const name of Object.keys(files)) builder.file(name, files[name]);
  }
  const body = builder.body();
  return {
    body,
    contentType: builder.contentType,
    replayable: !(body instanceof ReadableStream),
  };
}

/**
 * Encodes the body options of one request. Conflicting options are a TypeError naming both;
 * nothing has been sent when it throws.
 */
export function encodeBody(
  data: DataBody | undefined,
  json: unknown,
  files: Record<string, FileSpec> | undefined,
): EncodedBody {
  if (json !== undefined) {
    if (data !== undefined) {
      throw new TypeError("Cannot send request: 'data' and 'json' were both given");
    }
    if (files !== undefined) {
      throw new TypeError("Cannot send request: 'files' and 'json' were both given");
    }
    return encodeJson(json);
  }
  if (files !== undefined) {
    if (typeof files !== "object" || files === null || Array.isArray(files)) {
      throw new TypeError("Invalid 'files': expected an object of field name to file");
    }
    if (
      data !== undefined && !(data instanceof FormData) && !(data instanceof URLSearchParams) &&
      !Array.isArray(data) && !isPlainObject(data)
    ) {
      throw new TypeError(
        "Cannot send request: 'files' needs 'data' to be form fields (a plain object), " +
          "not a raw body",
      );
    }
    return encodeMultipart(data as FormData | FormFields | undefined, files);
  }
  if (data === undefined || data === null) return NO_BODY;
  return encodeData(data);
}
