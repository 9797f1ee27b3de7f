// QuotaStore on the embedded SQLite file: one row per (project, resource), the id from
// SQLite's AUTOINCREMENT (Magnum's own quotas table has the same shape).
import { QuotaExists, type Quota, type QuotaResource, type QuotaStore } from "../../ports/quota-store.ts";
import { durable, type SqliteDatabase } from "./sqlite.ts";

const COLUMNS = "id, project_id, resource, hard_limit, created_at, updated_at";

export class SqliteQuotaStore implements QuotaStore {
  private readonly sql;

  constructor(private readonly db: SqliteDatabase) {
    this.sql = {
      // DO NOTHING on the (project, resource) key only, so any other constraint still throws.
      insert: db.prepare<[string, string, number, string]>(
        `INSERT INTO quotas (project_id, resource, hard_limit, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (project_id, resource) DO NOTHING`,
      ),
      get: db.prepare<[string, string], Quota>(`SELECT ${COLUMNS} FROM quotas WHERE project_id = ? AND resource = ?`),
      listAll: db.prepare<[], Quota>(`SELECT ${COLUMNS} FROM quotas ORDER BY id`),
      listProject: db.prepare<[string], Quota>(`SELECT ${COLUMNS} FROM quotas WHERE project_id = ? ORDER BY id`),
      update: db.prepare<[number, string, string, string], Quota>(
        `UPDATE quotas SET hard_limit = ?, updated_at = ? WHERE project_id = ? AND resource = ? RETURNING ${COLUMNS}`,
      ),
      remove: db.prepare<[string, string]>(`DELETE FROM quotas WHERE project_id = ? AND resource = ?`),
    };
  }

  async createQuota(q: Omit<Quota, "id" | "updated_at">): Promise<Quota> {
    return durable(this.db, () => {
      const r = this.sql.insert.run(q.project_id, q.resource, q.hard_limit, q.created_at);
      if (r.changes === 0) throw new QuotaExists(q.project_id, q.resource);
      return { id: Number(r.lastInsertRowid), project_id: q.project_id, resource: q.resource, hard_limit: q.hard_limit, created_at: q.created_at, updated_at: null };
    });
  }

  async getQuota(projectId: string, resource: QuotaResource): Promise<Quota | undefined> {
    return this.sql.get.get(projectId, resource);
  }

  async listQuotas(filter: { projectId?: string }): Promise<Quota[]> {
    return filter.projectId === undefined ? this.sql.listAll.all() : this.sql.listProject.all(filter.projectId);
  }

  async updateQuota(projectId: string, resource: QuotaResource, hardLimit: number, updatedAt: string): Promise<Quota | undefined> {
    return durable(this.db, () => this.sql.update.get(hardLimit, updatedAt, projectId, resource));
  }

  async deleteQuota(projectId: string, resource: QuotaResource): Promise<boolean> {
    const r = await durable(this.db, () => this.sql.remove.run(projectId, resource));
    return r.changes === 1;
  }
}
