// The runtime's SQLite, reached on first use through `process.getBuiltinModule` and never
// imported, so the module still loads where there is none: `bun:sqlite` on Bun, `node:sqlite`
// on Deno and Node (22.13+). One small synchronous interface over both.

import { builtin, RUNTIME, RUNTIME_NAME } from "../_runtime.ts";

/** A value bound to or read from a statement. */
export type SqlValue = string | number | bigint | Uint8Array | null;
/** A row, column name to value. */
export type Row = Record<string, SqlValue>;

/** A prepared statement. */
export interface Statement {
  run(...params: SqlValue[]): unknown;
  /** The first row, or undefined. */
  get(...params: SqlValue[]): Row | undefined;
  all(...params: SqlValue[]): Row[];
}

/** An open database. */
export interface Database {
  /** The builtin module it was opened with. */
  readonly driver: "bun:sqlite" | "node:sqlite";
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

interface BunStatement {
  run(...params: SqlValue[]): unknown;
  get(...params: SqlValue[]): Row | null;
  all(...params: SqlValue[]): Row[];
}
interface BunDatabase {
  exec(sql: string): void;
  prepare(sql: string): BunStatement;
  close(): void;
}
interface BunSqlite {
  Database: new (path: string, options: { create: boolean }) => BunDatabase;
}
interface NodeSqlite {
  DatabaseSync: new (path: string) => Omit<Database, "driver">;
}
interface NodeFs {
  openSync(path: string, flags: string, mode: number): number;
  closeSync(fd: number): void;
}
/** Bun's statements answer a missing row with null; node:sqlite with undefined. */
function fromBun(db: BunDatabase): Database {
  return {
    driver: "bun:sqlite",
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const statement = db.prepare(sql);
      return {
        run: (...params) => statement.run(...params),
        get: (...params) => statement.get(...params) ?? undefined,
        all: (...params) => statement.all(...params),
      };
    },
    close: () => db.close(),
  };
}

function fromNode(db: Omit<Database, "driver">): Database {
  return {
    driver: "node:sqlite",
    exec: (sql) => db.exec(sql),
    prepare: (sql) => db.prepare(sql),
    close: () => db.close(),
  };
}

/**
 * Creates the file with mode 0600 when it does not exist (SQLite would make it 0644; its -wal
 * and -shm files take the database file's mode).
 */
function createPrivate(path: string): void {
  if (path === ":memory:" || path === "" || path.startsWith("file:")) return;
  const fs = builtin<NodeFs>("node:fs");
  if (fs === null) return;
  fs.closeSync(fs.openSync(path, "a", 0o600));
}

/** The runtime's SQLite module. */
type Driver = { bun: BunSqlite; node?: undefined } | { bun?: undefined; node: NodeSqlite };

/** Whether workerd's node:sqlite opened a database (it has the module but opens none). */
let probed: boolean | undefined;

/**
 * The runtime's SQLite, or a TypeError naming `owner` where there is none that opens a
 * database: a browser, workerd (tried by opening one, as SPEC D says), Node before 22.13.
 */
export function sqliteDriver(owner: string): Driver {
  const bun = RUNTIME === "bun" ? builtin<BunSqlite>("bun:sqlite") : null;
  if (typeof bun?.Database === "function") return { bun };
  const node = builtin<NodeSqlite>("node:sqlite");
  if (typeof node?.DatabaseSync === "function") {
    if (RUNTIME === "deno" || RUNTIME === "bun" || RUNTIME === "node") return { node };
    probed ??= opens(node);
    if (probed) return { node };
  }
  throw new TypeError(
    `${owner} needs the runtime's SQLite (node:sqlite or bun:sqlite), which ${RUNTIME_NAME} lacks`,
  );
}

function opens(node: NodeSqlite): boolean {
  try {
    new node.DatabaseSync(":memory:").close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens (creating it when missing, mode 0600) the SQLite database at `path`.
 *
 * @throws {TypeError} Naming `owner`, where the runtime has no SQLite (see `sqliteDriver`).
 */
export function openDatabase(path: string, owner: string): Database {
  const driver = sqliteDriver(owner);
  createPrivate(path);
  return driver.bun !== undefined
    ? fromBun(new driver.bun.Database(path, { create: true }))
    : fromNode(new driver.node.DatabaseSync(path));
}

/** Whether an error is SQLite's SQLITE_BUSY or SQLITE_LOCKED (any extended code): worth retrying. */
export function isBusy(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const { errcode, code, message } = error as {
    errcode?: unknown;
    code?: unknown;
    message?: unknown;
  };
  if (typeof errcode === "number" && ((errcode & 0xff) === 5 || (errcode & 0xff) === 6)) {
    return true;
  }
  if (typeof code === "string" && /^SQLITE_(BUSY|LOCKED)/.test(code)) return true;
  return typeof message === "string" &&
    /database (table )?is locked|database is busy/i.test(message);
}
