// The local files of cli.ts: the @FILE body it uploads and the -o file it writes. Every failure
// with them is a FileError (exit code 3), so that a full disk is not reported as a network error.

import fs from "node:fs";
import { type FileHandle, open, rm } from "node:fs/promises";
import path from "node:path";
import process from "node:process";

/** A local file could not be read or written (exit code 3). */
export class FileError extends Error {
  override name = "FileError";
}

function quote(file: string): string {
  return JSON.stringify(file.slice(0, 200));
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `file` as the user meant it. `deno task cli` runs cli.ts in the repository root, whatever
 * directory the user ran it from, and says where that was in `INIT_CWD` (as `npm run` does), so
 * when cli.ts runs in its own directory with `INIT_CWD` set, a relative path is taken from there.
 * Anywhere else (an installed CLI, another project's task) it is taken from the working directory.
 *
 * @param ownDir The directory of cli.ts when it is a local file, else null.
 */
export function localPath(
  file: string,
  env: Record<string, string | undefined>,
  ownDir: string | null,
): string {
  const from = env.INIT_CWD;
  if (path.isAbsolute(file) || !from || ownDir === null) return file;
  return path.resolve(process.cwd()) === path.resolve(ownDir) ? path.resolve(from, file) : file;
}

/**
 * The @FILE body as a Blob of known size, so Content-Length is sent and a 307 can send it again.
 * Node and Bun read the file as it is sent; Deno's `openAsBlob` reads it into memory first.
 */
export async function openUpload(file: string): Promise<Blob> {
  let handle: FileHandle | undefined;
  try {
    // Bun's openAsBlob is lazy: a missing file would only fail in the middle of the request.
    handle = await open(file, "r");
    if (!(await handle.stat()).isFile()) throw new Error("not a regular file");
    return await fs.openAsBlob(file);
  } catch (error) {
    throw new FileError(`Cannot read @FILE ${quote(file)}: ${reason(error)}`, { cause: error });
  } finally {
    await handle?.close();
  }
}

/** The -o file being written. */
export interface Output {
  /** Appends `chunk`. */
  write(chunk: Uint8Array): Promise<void>;
  /** Closes the file; safe to call more than once. */
  close(): Promise<void>;
  /** Closes and deletes the file when it is a regular file (never `/dev/null` or a pipe). */
  discard(): Promise<boolean>;
}

/** Creates (or truncates) the -o file. */
export async function createOutput(file: string): Promise<Output> {
  let handle: FileHandle;
  let regular: boolean;
  try {
    handle = await open(file, "w");
    regular = (await handle.stat()).isFile();
  } catch (error) {
    throw new FileError(`Cannot write -o ${quote(file)}: ${reason(error)}`, { cause: error });
  }
  let closed: Promise<void> | null = null;
  const close = () => closed ??= handle.close();
  return {
    async write(chunk) {
      try {
        await handle.write(chunk);
      } catch (error) {
        throw new FileError(`Cannot write -o ${quote(file)}: ${reason(error)}`, { cause: error });
      }
    },
    close,
    async discard() {
      await close().catch(() => {});
      if (!regular) return false;
      await rm(file, { force: true });
      return true;
    },
  };
}
