// ServiceRegistry on the embedded SQLite file: one row per (host, binary), the id from
// SQLite's AUTOINCREMENT (Magnum's magnum_service table has the same shape). A beat is one
// UPSERT, so two processes beating the same row at once still count both. Ids only grow but
// may have gaps: SQLite advances the AUTOINCREMENT sequence on every UPSERT, even one that
// updates (as the DynamoDB adapter skips the ids of lost races).
import { checkService, type ServiceRecord, type ServiceRegistry } from "../../ports/service-registry.ts";
import { durable, type SqliteDatabase } from "./sqlite.ts";

const COLUMNS = "id, host, binary, report_count, created_at, updated_at";

export class SqliteServiceRegistry implements ServiceRegistry {
  private readonly sql;

  constructor(private readonly db: SqliteDatabase) {
    this.sql = {
      beat: db.prepare<[string, string, string], ServiceRecord>(
        `INSERT INTO services (host, binary, report_count, created_at) VALUES (?, ?, 1, ?)
         ON CONFLICT (host, binary) DO UPDATE SET report_count = report_count + 1, updated_at = excluded.created_at
         RETURNING ${COLUMNS}`,
      ),
      list: db.prepare<[], ServiceRecord>(`SELECT ${COLUMNS} FROM services ORDER BY id`),
    };
  }

  async beat(host: string, binary: string, at: string): Promise<ServiceRecord> {
    checkService(host, binary);
    return durable(this.db, () => this.sql.beat.get(host, binary, at)!);
  }

  async list(): Promise<ServiceRecord[]> {
    return this.sql.list.all();
  }
}
