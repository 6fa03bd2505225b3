// multipart/form-data built by the module: a cryptographically random boundary, WHATWG escaping
// of names, and streamed parts that are never buffered whole.

import { clip } from "./errors.ts";

/** The content of an uploaded file. */
export type FileObject = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

/**
 * One entry of `files`: `[filename, content]`, `[filename, content, contentType]`, or a
 * `File`/`Blob` alone (its name, or the field name, is the filename).
 */
export type FileSpec =
  | Blob
  | readonly [filename: string, content: FileObject]
  | readonly [filename: string, content: FileObject, contentType: string];

/** One part: its header text and its content. */
interface Part {
  head: string;
  content: string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;
}

const encoder = new TextEncoder();
const ESCAPES = /["\r\n]/g;
const ESCAPED: Record<string, string> = { '"': "%22", "\r": "%0D", "\n": "%0A" };
const BAD_TYPE = /[\r\n\0]/;

function escapeName(name: string): string {
  return name.replace(ESCAPES, (c) => ESCAPED[c]);
}

function isFileObject(value: unknown): value is FileObject {
  return typeof value === "string" || value instanceof Uint8Array ||
    value instanceof ArrayBuffer || value instanceof Blob || value instanceof ReadableStream;
}

/** A fresh boundary: 16 bytes from `crypto.getRandomValues`, as hex. */
function newBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = "";
  for (const b of bytes) hex += (b < 16 ? "0" : "") + b.toString(16);
  return hex;
}

/** The multipart body being assembled. */
export class MultipartBuilder {
  /** The boundary between parts. */
  readonly boundary: string = newBoundary();
  #parts: Part[] = [];

  /** Adds a plain form field. */
  field(name: string, value: string): void {
    this.#parts.push({
      head: `--${this.boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"` +
        `\r\n\r\n`,
      content: value,
    });
  }

  /** Adds a file part from a `files` entry; throws a TypeError naming it when malformed. */
  file(name: string, spec: FileSpec): void {
    let filename: string;
    let content: FileObject;
    let type: string | undefined;
    if (spec instanceof Blob) {
      filename = spec instanceof File && spec.name !== "" ? spec.name : name;
      content = spec;
      type = spec.type || undefined;
    } else if (Array.isArray(spec) && (spec.length === 2 || spec.length === 3)) {
      [filename, content, type] = spec as [string, FileObject, string | undefined];
      if (typeof filename !== "string") {
        throw new TypeError(
          `Invalid 'files[${JSON.stringify(clip(name))}]': filename must be a string`,
        );
      }
      if (!isFileObject(content)) {
        throw new TypeError(
          `Invalid 'files[${JSON.stringify(clip(name))}]': content must be a string, Uint8Array, ` +
            "ArrayBuffer, Blob or ReadableStream",
        );
      }
      if (type !== undefined && (typeof type !== "string" || BAD_TYPE.test(type))) {
        throw new TypeError(
          `Invalid 'files[${JSON.stringify(clip(name))}]': content type must be a one-line string`,
        );
      }
      if (type === undefined && content instanceof Blob && content.type) type = content.type;
    } else {
      throw new TypeError(
        `Invalid 'files[${JSON.stringify(clip(name))}]': expected [filename, content], ` +
          "[filename, content, contentType] or a File/Blob",
      );
    }
    this.#parts.push({
      head: `--${this.boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"; ` +
        `filename="${escapeName(filename)}"\r\nContent-Type: ${
          type ?? "application/octet-stream"
        }\r\n\r\n`,
      content,
    });
  }

  /** The `Content-Type` header value. */
  get contentType(): string {
    return `multipart/form-data; boundary=${this.boundary}`;
  }

  /**
   * The body: a `Blob` (its size known, so Content-Length is sent) when no part is a stream,
   * else a `ReadableStream` that pulls each part in turn.
   */
  body(): Blob | ReadableStream<Uint8Array> {
    const tail = `--${this.boundary}--\r\n`;
    if (!this.#parts.some((p) => p.content instanceof ReadableStream)) {
      const pieces: (string | Uint8Array | ArrayBuffer | Blob)[] = [];
      for (const part of this.#parts) {
        pieces.push(part.head, part.content as string | Uint8Array | ArrayBuffer | Blob, "\r\n");
      }
      pieces.push(tail);
      return new Blob(pieces as BlobPart[]);
    }
    return streamParts(this.#parts, tail);
  }
}

/** A stream of the parts, reading streamed contents chunk by chunk as the consumer pulls. */
function streamParts(parts: Part[], tail: string): ReadableStream<Uint8Array> {
  let index = 0;
  let current: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (current !== null) {
        const { done, value } = await current.read();
        if (!done) {
          controller.enqueue(value);
          return;
        }
        current = null;
        controller.enqueue(encoder.encode("\r\n"));
        return;
      }
      if (index === parts.length) {
        controller.enqueue(encoder.encode(tail));
        controller.close();
        return;
      }
      const part = parts[index++];
      controller.enqueue(encoder.encode(part.head));
      const content = part.content;
      if (content instanceof ReadableStream) {
        current = content.getReader();
      } else if (content instanceof Blob) {
        current = content.stream().getReader();
      } else {
        controller.enqueue(
          typeof content === "string"
            ? encoder.encode(content)
            : content instanceof Uint8Array
            ? content
            : new Uint8Array(content),
        );
        controller.enqueue(encoder.encode("\r\n"));
      }
    },
    async cancel(reason) {
      await current?.cancel(reason);
      for (const part of parts.slice(index)) {
        if (part.content instanceof ReadableStream) await part.content.cancel(reason);
      }
    },
  });
}
