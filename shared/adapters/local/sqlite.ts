// The one SQLite file behind the embedded default stores: the bay table and the work queue
// live side by side in `<dataDir>/bayforge.sqlite`, so one process (or several) needs no
// server. This module opens it with the settings durability depends on and migrates it.
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

export type SqliteDatabase = Database.Database;

export const DEFAULT_DB_FILE = "bayforge.sqlite";

export interface OpenDatabaseOptions {
  /** file name inside dataDir (default bayforge.sqlite) */
  fileName?: string;
  /**
   * "process" (default) → WAL + synchronous=NORMAL. Every transaction is appended to the
   * WAL file with write() before its call returns, so killing the process at any point
   * (SIGKILL, OOM, crash) loses nothing that was acknowledged: the next open replays the
   * WAL. What it does NOT survive: an OS crash or power loss can roll back the last
   * transactions committed since the previous WAL fsync (done at checkpoints), because
   * they may still sit in the kernel's page cache. The file never ends up corrupt, only
   * slightly older.
   * "power" → WAL + synchronous=FULL: fsync of the WAL at every commit, so acknowledged
   * writes also survive power loss, at the price of one fsync per write.
   */
  durability?: "process" | "power";
  /** how long a writer waits for another process's write lock before SQLITE_BUSY (ms) */
  busyTimeoutMs?: number;
}

/**
 * Schema migrations, applied in order; the database's `user_version` is how many have run.
 * Append new entries, never edit old ones.
 */
const MIGRATIONS: readonly string[] = [
  // 1: bay table (JSON documents + the columns queries need) and the work queue.
  `
  CREATE TABLE baymodels (
    uuid        TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL,
    public      INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    doc         TEXT NOT NULL
  );
  CREATE INDEX baymodels_by_project ON baymodels (project_id, created_at, uuid);
  CREATE INDEX baymodels_public ON baymodels (created_at, uuid) WHERE public = 1;

  CREATE TABLE bays (
    uuid        TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    doc         TEXT NOT NULL
  );
  CREATE INDEX bays_by_project ON bays (project_id, created_at, uuid);
  CREATE INDEX bays_by_status ON bays (status, created_at, uuid);

  CREATE TABLE bay_certs (
    bay_uuid    TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL,
    doc         TEXT NOT NULL
  );

  CREATE TABLE bay_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    bay_uuid    TEXT NOT NULL,
    at          TEXT NOT NULL,
    doc         TEXT NOT NULL
  );
  CREATE INDEX bay_events_by_bay ON bay_events (bay_uuid, at, seq);

  CREATE TABLE queue_messages (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    queue         TEXT NOT NULL,
    body          TEXT NOT NULL,
    visible_at    INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt       TEXT UNIQUE,
    created_at    INTEGER NOT NULL
  );
  CREATE INDEX queue_messages_visible ON queue_messages (queue, visible_at, seq);

  CREATE TABLE queue_dead_letters (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    queue         TEXT NOT NULL,
    body          TEXT NOT NULL,
    receive_count INTEGER NOT NULL,
    sent_at       INTEGER NOT NULL,
    dead_at       INTEGER NOT NULL,
    handled_at    INTEGER,
    hook_attempts INTEGER NOT NULL DEFAULT 0,
    hook_retry_at INTEGER NOT NULL,
    last_error    TEXT
  );
  CREATE INDEX queue_dead_letters_pending ON queue_dead_letters (queue, hook_retry_at) WHERE handled_at IS NULL;
  `,
  // 2: etcd discovery directories (discovery-store.ts); members are immutable once created.
  `
  CREATE TABLE discovery_dirs (
    token       TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    created_at  TEXT NOT NULL
  );

  CREATE TABLE discovery_members (
    token         TEXT NOT NULL,
    id            TEXT NOT NULL,
    value         TEXT NOT NULL,
    created_index INTEGER NOT NULL,
    PRIMARY KEY (token, id)
  );
  CREATE INDEX discovery_members_by_index ON discovery_members (token, created_index);
  `,
  // 3: batches (batch-store.ts): the batch document, one row per bay item, the fan-out lease.
  `
  CREATE TABLE batches (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    lease_holder  TEXT,
    lease_until   INTEGER,
    doc           TEXT NOT NULL
  );
  CREATE INDEX batches_by_project ON batches (project_id, created_at, id);

  CREATE TABLE batch_items (
    batch_id    TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (batch_id, idx)
  );
  `,
  // 4: project quotas (quota-store.ts). AUTOINCREMENT: a deleted quota's id is never reused.
  `
  CREATE TABLE quotas (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  TEXT NOT NULL,
    resource    TEXT NOT NULL,
    hard_limit  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT,
    UNIQUE (project_id, resource)
  );
  `,
  // 5: Bayforge's own services (service-registry.ts), one row per (host, binary), kept by heartbeats.
  `
  CREATE TABLE services (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    host          TEXT NOT NULL,
    binary        TEXT NOT NULL,
    report_count  INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT,
    UNIQUE (host, binary)
  );
  `,
  // 6: chat-ops mappings (chatops-mappings.ts): team/channel → project + application credential (secret encrypted).
  `
  CREATE TABLE chatops_mappings (
    key         TEXT PRIMARY KEY,
    doc         TEXT NOT NULL,
    created_at  TEXT NOT NULL
  );
  `,
  // 7: baymodels by name (a bay names its baymodel by name or uuid on every create); the
  // expression is the one bay-table.ts queries with, so SQLite uses this index.
  `
  CREATE INDEX baymodels_by_name ON baymodels (json_extract(doc, '$.name'), created_at, uuid);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Opens (creating if needed) `<dataDir>/bayforge.sqlite` and brings its schema up to date. */
export function openDatabase(dataDir: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, options.fileName ?? DEFAULT_DB_FILE);
  const created = !existsSync(file);
  const db = new Database(file);
  try {
    // The file holds bays and (encrypted) keys: owner only. SQLite gives -wal/-shm the same
    // mode. Only when we created it: an existing file's mode is its owner's choice.
    if (created) chmodSync(file, 0o600);
    // busy_timeout first: switching to WAL and migrating may wait for another process.
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (String(mode).toLowerCase() !== "wal") throw new Error(`${file}: cannot use WAL (journal_mode=${String(mode)})`);
    db.pragma(`synchronous = ${options.durability === "power" ? "FULL" : "NORMAL"}`);
    migrate(db, file);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function userVersion(db: SqliteDatabase): number {
  return Number(db.pragma("user_version", { simple: true }));
}

function migrate(db: SqliteDatabase, file: string): void {
  if (userVersion(db) === SCHEMA_VERSION) return;
  // IMMEDIATE: two processes opening a fresh file at once serialize here, and the second
  // sees the first one's user_version instead of creating the tables twice.
  db.transaction(() => {
    const from = userVersion(db);
    if (from > SCHEMA_VERSION) {
      throw new Error(
        `${file} has schema version ${from}, newer than this Bayforge understands (${SCHEMA_VERSION}); upgrade Bayforge or use another data dir`,
      );
    }
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** `PRAGMA integrity_check`: ["ok"] when the file is sound. */
export function integrityCheck(db: SqliteDatabase): string[] {
  return (db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check);
}

/**
 * Group commit: the writes asked for on `db` during one turn of the event loop run together
 * on setImmediate, in one transaction, and each write's promise settles after that COMMIT, so
 * "resolved" still means "durable" (the API answers 202 only once the bay and its message are
 * committed). Under load this turns the four commits of every accepted bay, times the
 * requests in flight, into one commit per turn. A write that throws is undone alone (its own
 * savepoint) and rejects with its error; the others commit. The write lock is held only while
 * the group runs, synchronously, so other connections (other processes, or several in one
 * process as in the tests) are never kept waiting across turns.
 */
export function durable<T>(db: SqliteDatabase, write: () => T): Promise<T> {
  let group = groups.get(db);
  if (!group) groups.set(db, (group = new GroupCommit(db)));
  return group.run(write);
}

/** Runs and commits the pending writes now (before closing the database, say). */
export function flushWrites(db: SqliteDatabase): void {
  groups.get(db)?.flush();
}

const groups = new WeakMap<SqliteDatabase, GroupCommit>();

interface PendingWrite {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
}

class GroupCommit {
  private pending: PendingWrite[] = [];
  private readonly begin;
  private readonly commit;
  private readonly rollback;
  private readonly savepoint;
  private readonly release;
  private readonly rollbackTo;

  constructor(private readonly db: SqliteDatabase) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
    this.savepoint = db.prepare("SAVEPOINT bf_write");
    this.release = db.prepare("RELEASE bf_write");
    this.rollbackTo = db.prepare("ROLLBACK TO bf_write");
  }

  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ write, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  flush(): void {
    const group = this.pending;
    if (group.length === 0) return;
    this.pending = [];
    if (!this.db.open) {
      for (const w of group) w.reject(new Error("the database is closed"));
      return;
    }
    try {
      this.begin.run();
    } catch (e) {
      for (const w of group) w.reject(e);
      return;
    }
    const done: Array<[PendingWrite, unknown]> = [];
    for (const w of group) {
      this.savepoint.run();
      try {
        done.push([w, w.write()]);
        this.release.run();
      } catch (e) {
        this.rollbackTo.run();
        this.release.run();
        w.reject(e);
      }
    }
    try {
      this.commit.run();
    } catch (e) {
      if (this.db.inTransaction) this.rollback.run();
      for (const [w] of done) w.reject(e);
      return;
    }
    for (const [w, result] of done) w.resolve(result);
  }
}
