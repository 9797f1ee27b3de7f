// Tells whether anything was written to a Bayforge SQLite file, read directly (its own
// read-only connection, not the stores' code): every table — bays, baymodels, certificates,
// events, queue messages and dead letters, discovery directories, batches, quotas — but the
// heartbeats' (written on a timer). SQLite's
// data_version moves whenever another connection commits, so an unchanged one proves
// nothing was written; when it moved, the tables' contents decide.
import Database from "better-sqlite3";
import { createHash } from "node:crypto";

/** Tables written on a timer, not by requests. */
const IGNORED = ["services", "sqlite_sequence"];

export class WriteProbe {
  private readonly db: Database.Database;
  private version: number;
  private digest: string;
  private tables: string[];

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.tables = this.db
      .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .all()
      .map((r) => r.name)
      // the running parts' heartbeats (/v1/mservices) are written every 10 s whatever is asked
      .filter((t) => !IGNORED.includes(t));
    this.version = this.dataVersion();
    this.digest = this.contents();
  }

  /** Table name → row count, read directly. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.tables.map((t) => [t, (this.db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get() as { n: number }).n]));
  }

  /** True when the contents changed since the last call (or construction); then it is the new baseline. */
  changed(): boolean {
    const v = this.dataVersion();
    if (v === this.version) return false;
    this.version = v;
    const d = this.contents();
    if (d === this.digest) return false;
    this.digest = d;
    return true;
  }

  /** Takes the current contents as the baseline without reporting (after the test's own writes). */
  rebase(): void {
    this.version = this.dataVersion();
    this.digest = this.contents();
  }

  close(): void {
    this.db.close();
  }

  private dataVersion(): number {
    return Number(this.db.pragma("data_version", { simple: true }));
  }

  /** A digest of every row of every table, in rowid order. */
  private contents(): string {
    const h = createHash("sha256");
    for (const t of this.tables) {
      h.update(`\u0000${t}\u0000`);
      for (const row of this.db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).iterate()) h.update(JSON.stringify(row));
    }
    return h.digest("hex");
  }
}
