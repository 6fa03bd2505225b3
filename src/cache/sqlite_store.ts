/**
 * {@linkcode SqliteCacheStore}: a {@linkcode CacheStore} in one SQLite file, kept across runs
 * and shared by the processes that open it, over the runtime's own SQLite (`node:sqlite` on
 * Deno and Node 22.13+, `bun:sqlite` on Bun), loaded on first use.
 *
 * @module
 */

import { builtin, RUNTIME, RUNTIME_NAME } from "../_runtime.ts";
import { sleep } from "../_guard.ts";
import { bytesOption, type CacheRecord, type CacheStore, recordSize } from "./store.ts";

// The runtime's SQLite, reached through `process.getBuiltinModule` and never imported, so the
// module still loads where there is none: `bun:sqlite` on Bun, `node:sqlite` on Deno and Node
// (22.13+). One small synchronous interface over both.

/** A value bound to or read from a statement. */
type SqlValue = string | number | bigint | Uint8Array | null;
/** A row, column name to value. */
type Row = Record<string, SqlValue>;

/** A prepared statement. */
interface Statement {
  run(...params: SqlValue[]): unknown;
  /** The first row, or undefined. */
  get(...params: SqlValue[]): Row | undefined;
  all(...params: SqlValue[]): Row[];
}

/** An open database. */
interface Database {
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
function sqliteDriver(owner: string): Driver {
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
 * @internal Opens (creating it when missing, mode 0600) the SQLite database at `path`.
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
function isBusy(error: unknown): boolean {
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

/** Options of {@linkcode SqliteCacheStore}. */
export interface SqliteCacheStoreOptions {
  /**
   * The most bytes kept (bodies and the text of heads and keys); beyond it the least recently
   * used records go first. The file itself does not shrink: SQLite reuses the freed pages.
   *
   * @default {209715200} (200 MiB)
   */
  max_bytes?: number;
  /**
   * The largest record kept; a larger one is not stored (and the one it would replace goes).
   *
   * @default {20971520} (20 MiB)
   */
  max_entry_bytes?: number;
}

const SCHEMA_VERSION = 1;
/** How long one statement waits for another process's write lock before the retry loop. */
const BUSY_TIMEOUT_MS = 250;
/** How many times a statement meeting a lock is tried again, with growing pauses. */
const BUSY_RETRIES = 60;
/** A record read within this long of its last use keeps its place in the LRU order: a hit
 * writes at most once a second. */
const TOUCH_MS = 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  variant TEXT NOT NULL,
  url TEXT NOT NULL,
  head TEXT NOT NULL,
  body BLOB NOT NULL,
  size INTEGER NOT NULL,
  used INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS entries_key ON entries (key, variant);
CREATE INDEX IF NOT EXISTS entries_url ON entries (url);
CREATE INDEX IF NOT EXISTS entries_used ON entries (used, id);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value);
INSERT OR IGNORE INTO meta (name, value) VALUES ('bytes', 0);
CREATE TRIGGER IF NOT EXISTS entries_insert AFTER INSERT ON entries BEGIN
  UPDATE meta SET value = value + new.size WHERE name = 'bytes';
END;
CREATE TRIGGER IF NOT EXISTS entries_delete AFTER DELETE ON entries BEGIN
  UPDATE meta SET value = value - old.size WHERE name = 'bytes';
END;
CREATE TRIGGER IF NOT EXISTS entries_update AFTER UPDATE OF size ON entries BEGIN
  UPDATE meta SET value = value - old.size + new.size WHERE name = 'bytes';
END;
PRAGMA user_version = ${SCHEMA_VERSION};
`;

/** The statements the store runs, prepared once. */
interface Prepared {
  db: Database;
  select: Statement;
  upsert: Statement;
  remove: Statement;
  purge: Statement;
  touch: Statement;
  bytes: Statement;
  oldest: Statement;
  removeId: Statement;
  offerSecret: Statement;
  secret: Statement;
}

/** Runs `work`, again after a pause while another process holds the lock. */
async function retrying<T>(work: () => T): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || attempt >= BUSY_RETRIES) throw error;
      await sleep(2 + Math.random() * 4 * Math.min(attempt + 1, 25));
    }
  }
}

/** Runs `work` in a write transaction (BEGIN IMMEDIATE: the lock is taken at once). */
function transaction<T>(db: Database, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    try {
      db.exec("ROLLBACK");
    } catch { /* no transaction left to roll back */ }
    throw error;
  }
}

function pathOf(path: string | URL): string {
  if (path instanceof URL) {
    if (path.protocol !== "file:") {
      throw new TypeError("Invalid 'path': expected a file path or a file: URL");
    }
    const pathname = decodeURIComponent(path.pathname);
    return /^\/[A-Za-z]:/.test(pathname) ? pathname.slice(1) : pathname;
  }
  if (typeof path !== "string" || path.length === 0) {
    throw new TypeError("Invalid 'path': expected a file path or a file: URL");
  }
  return path;
}

/**
 * A {@linkcode CacheStore} in a SQLite file: responses survive restarts, and several processes
 * may use one file at once (WAL journal, a busy timeout and retries: a lock never reaches a
 * request). The file is created with mode 0600. It keeps at most `max_bytes` (least recently
 * used records go first) and never a record over `max_entry_bytes`.
 *
 * The runtime's SQLite is reached when the store is made (`process.getBuiltinModule`, never by
 * importing the module); where the runtime has none (a browser, Workers), making one is a
 * TypeError naming it. Once made, a store that fails (locked, full, corrupt) never fails a
 * request through an {@linkcode HttpCache}: the entry is a miss.
 *
 * @example
 * ```ts
 * import { HttpCache, SqliteCacheStore } from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = new SqliteCacheStore(`${dir}/http-cache.sqlite`);
 * const cache = new HttpCache({ store });
 * await store.put("key", { url: "https://example.com/", variant: "", head: "{}", body: new Uint8Array(3) });
 * assert.equal((await store.get("key")).length, 1);
 * assert.ok(cache instanceof HttpCache);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SqliteCacheStore implements CacheStore {
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #maxEntryBytes: number;
  #opened: Promise<Prepared> | undefined;

  /**
   * Names the file; it is opened when the store is first used.
   *
   * @param path The SQLite file (created when missing), or `":memory:"`.
   * @param options Its limits.
   * @throws {TypeError} Where the runtime has no SQLite that opens a database (a browser,
   * Workers), or for an invalid option.
   */
  constructor(path: string | URL, options: SqliteCacheStoreOptions = {}) {
    this.#path = pathOf(path);
    sqliteDriver("SqliteCacheStore");
    if (options === null || typeof options !== "object") {
      throw new TypeError("Invalid 'options': expected an object");
    }
    this.#maxBytes = bytesOption(options.max_bytes, "max_bytes", 200 * 1024 * 1024);
    this.#maxEntryBytes = bytesOption(
      options.max_entry_bytes,
      "max_entry_bytes",
      20 * 1024 * 1024,
    );
  }

  /** The largest record kept, in bytes. */
  get max_entry_bytes(): number {
    return this.#maxEntryBytes;
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /**
   * The records stored under `key`; each counts as used.
   *
   * @param key The key.
   * @returns Its records.
   */
  async get(key: string): Promise<CacheRecord[]> {
    const s = await this.#open();
    const rows = await retrying(() => s.select.all(key));
    const now = Date.now();
    const records: CacheRecord[] = [];
    for (const row of rows) {
      records.push(toRecord(row));
      if (Number(row.used) < now - TOUCH_MS) {
        try {
          s.touch.run(now, row.id);
        } catch { /* the order of use is a hint: a busy file keeps the old one */ }
      }
    }
    return records;
  }

  /**
   * Stores `record` under `key`, replacing the record of its variant, then drops the least
   * recently used records beyond `max_bytes`.
   *
   * @param key The key.
   * @param record The record.
   */
  async put(key: string, record: CacheRecord): Promise<void> {
    const s = await this.#open();
    const size = recordSize(key, record);
    if (size > this.#maxEntryBytes || size > this.#maxBytes) {
      await retrying(() => s.remove.run(key, record.variant));
      return;
    }
    const { url, variant, head, body } = record;
    await retrying(() =>
      transaction(s.db, () => {
        s.upsert.run(key, variant, url, head, body, size, Date.now());
        this.#evict(s);
      })
    );
  }

  /**
   * Removes the record of `variant` under `key`.
   *
   * @param key The key.
   * @param variant The variant.
   */
  async delete(key: string, variant: string): Promise<void> {
    const s = await this.#open();
    await retrying(() => s.remove.run(key, variant));
  }

  /**
   * Removes every record of `url`.
   *
   * @param url The URL.
   */
  async purge(url: string): Promise<void> {
    const s = await this.#open();
    await retrying(() => s.purge.run(url));
  }

  /**
   * The file's identity secret: `proposal` when the file has none yet.
   *
   * @param proposal The secret to keep when there is none.
   * @returns The secret kept.
   */
  async identityKey(proposal: Uint8Array): Promise<Uint8Array> {
    const s = await this.#open();
    return await retrying(() => {
      s.offerSecret.run(proposal);
      const value = s.secret.get()?.value;
      if (!(value instanceof Uint8Array)) throw new Error("The cache file's secret is damaged");
      return new Uint8Array(value);
    });
  }

  /** Closes the file; a later use opens it again. */
  close(): void {
    const opened = this.#opened;
    this.#opened = undefined;
    opened?.then((s) => s.db.close(), () => {});
  }

  /** Drops the least recently used records until the store is within `max_bytes`. */
  #evict(s: Prepared): void {
    let total = Number(s.bytes.get()?.value ?? 0);
    while (total > this.#maxBytes) {
      const rows = s.oldest.all();
      if (rows.length === 0) return;
      for (const row of rows) {
        if (total <= this.#maxBytes) return;
        s.removeId.run(row.id);
        total -= Number(row.size);
      }
    }
  }

  #open(): Promise<Prepared> {
    const opening = this.#opened ??= open(this.#path);
    // A failed open is tried again on the next use.
    opening.catch(() => {
      if (this.#opened === opening) this.#opened = undefined;
    });
    return opening;
  }
}

function toRecord(row: Row): CacheRecord {
  return {
    url: String(row.url),
    variant: String(row.variant),
    head: String(row.head),
    body: row.body as Uint8Array,
  };
}

/** Opens the file, sets WAL and the busy timeout, creates the tables, prepares statements. */
async function open(path: string): Promise<Prepared> {
  const db = openDatabase(path, "SqliteCacheStore");
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    await retrying(() => db.exec("PRAGMA journal_mode = WAL"));
    db.exec("PRAGMA synchronous = NORMAL");
    const version = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
    if (version > SCHEMA_VERSION) {
      throw new Error(`The cache file was written by a newer version (schema ${version})`);
    }
    if (version < SCHEMA_VERSION) await retrying(() => transaction(db, () => db.exec(SCHEMA)));
    return prepare(db);
  } catch (error) {
    db.close();
    throw error;
  }
}

function prepare(db: Database): Prepared {
  return {
    db,
    select: db.prepare("SELECT id, variant, url, head, body, used FROM entries WHERE key = ?"),
    upsert: db.prepare(
      `INSERT INTO entries (key, variant, url, head, body, size, used) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key, variant) DO UPDATE SET url = excluded.url, head = excluded.head,
       body = excluded.body, size = excluded.size, used = excluded.used`,
    ),
    remove: db.prepare("DELETE FROM entries WHERE key = ? AND variant = ?"),
    purge: db.prepare("DELETE FROM entries WHERE url = ?"),
    touch: db.prepare("UPDATE entries SET used = ? WHERE id = ?"),
    bytes: db.prepare("SELECT value FROM meta WHERE name = 'bytes'"),
    oldest: db.prepare("SELECT id, size FROM entries ORDER BY used, id LIMIT 16"),
    removeId: db.prepare("DELETE FROM entries WHERE id = ?"),
    offerSecret: db.prepare("INSERT OR IGNORE INTO meta (name, value) VALUES ('identity', ?)"),
    secret: db.prepare("SELECT value FROM meta WHERE name = 'identity'"),
  };
}
