// BatchStore on the embedded SQLite file: the batch as a JSON document (without its items),
// one row per bay item, and the fan-out lease as two columns updated conditionally.
import type { Batch, BatchHeader, BatchItem, BatchStore } from "../../ports/batch-store.ts";
import { checkBatchItems } from "../../ports/preconditions.ts";
import { durable, type SqliteDatabase } from "./sqlite.ts";

export class SqliteBatchStore implements BatchStore {
  private readonly insert: (batch: Batch) => void;

  constructor(private readonly db: SqliteDatabase) {
    const insertBatch = db.prepare(`INSERT INTO batches (id, project_id, created_at, doc) VALUES (?, ?, ?, ?)`);
    const insertItem = db.prepare(`INSERT INTO batch_items (batch_id, idx, doc) VALUES (?, ?, ?)`);
    this.insert = db.transaction((batch: Batch) => {
      const { items, ...doc } = batch;
      insertBatch.run(batch.id, batch.project_id, batch.created_at, JSON.stringify(doc));
      items.forEach((it, i) => insertItem.run(batch.id, i, JSON.stringify(it)));
    });
  }

  async createBatch(batch: Batch): Promise<void> {
    checkBatchItems(batch);
    await durable(this.db, () => this.insert(batch));
  }

  async getBatch(id: string): Promise<Batch | undefined> {
    const row = this.db.prepare<[string], { doc: string }>(`SELECT doc FROM batches WHERE id = ?`).get(id);
    if (!row) return undefined;
    const items = this.db
      .prepare<[string], { doc: string }>(`SELECT doc FROM batch_items WHERE batch_id = ? ORDER BY idx`)
      .all(id)
      .map((r) => JSON.parse(r.doc) as BatchItem);
    return { ...(JSON.parse(row.doc) as Omit<Batch, "items">), items };
  }

  async listBatches(projectId: string): Promise<BatchHeader[]> {
    return this.db
      .prepare<[string], { doc: string }>(`SELECT doc FROM batches WHERE project_id = ? ORDER BY created_at, id`)
      .all(projectId)
      .map((r) => {
        const b = JSON.parse(r.doc) as Batch;
        return { id: b.id, project_id: b.project_id, created_at: b.created_at, status: b.status };
      });
  }

  async updateBatch(batch: Batch): Promise<void> {
    const { items: _items, ...doc } = batch;
    await durable(this.db, () => this.db.prepare(`UPDATE batches SET doc = ? WHERE id = ?`).run(JSON.stringify(doc), batch.id));
  }

  async setItem(id: string, index: number, item: BatchItem): Promise<void> {
    await durable(this.db, () => this.db.prepare(`UPDATE batch_items SET doc = ? WHERE batch_id = ? AND idx = ?`).run(JSON.stringify(item), id, index));
  }

  async lease(id: string, holder: string, until: Date, now: Date): Promise<boolean> {
    const r = await durable(this.db, () =>
      this.db
        .prepare(`UPDATE batches SET lease_holder = ?, lease_until = ? WHERE id = ? AND (lease_holder IS NULL OR lease_holder = ? OR lease_until < ?)`)
        .run(holder, until.getTime(), id, holder, now.getTime()),
    );
    return r.changes === 1;
  }

  async release(id: string, holder: string): Promise<void> {
    await durable(this.db, () => this.db.prepare(`UPDATE batches SET lease_holder = NULL, lease_until = NULL WHERE id = ? AND lease_holder = ?`).run(id, holder));
  }
}
