// BayTable on the embedded SQLite file: each item is a JSON document plus the columns its
// queries and conditions need. Every conditional write is a single statement, so two
// processes sharing the file can never both win a version.
import { BAY_STATUSES, isInProgress } from "../../domain/status.ts";
import type { Bay, BayCerts, BayEvent, BayModel } from "../../domain/model.ts";
import { AlreadyExists, CertsChanged, VersionConflict, type BayTable, type ListFilter } from "../../ports/bay-table.ts";
import { checkReplacementCerts } from "../../ports/preconditions.ts";
import { durable, type SqliteDatabase } from "./sqlite.ts";

interface DocRow {
  doc: string;
}
interface BayRow extends DocRow {
  version: number;
}

const IN_PROGRESS = BAY_STATUSES.filter(isInProgress);

function prepareStatements(db: SqliteDatabase) {
  const p = <R = unknown>(source: string) => db.prepare<unknown[], R>(source);
  return {
    putBayModel: p(
      `INSERT INTO baymodels (uuid, project_id, public, created_at, doc) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (uuid) DO UPDATE SET project_id = excluded.project_id, public = excluded.public,
         created_at = excluded.created_at, doc = excluded.doc`,
    ),
    getBayModel: p<DocRow>(`SELECT doc FROM baymodels WHERE uuid = ?`),
    listAllBayModels: p<DocRow>(`SELECT doc FROM baymodels ORDER BY created_at, uuid`),
    listBayModelsVisibleTo: p<DocRow>(
      `SELECT doc FROM baymodels WHERE project_id = ? OR public = 1 ORDER BY created_at, uuid`,
    ),
    // json_extract(doc, '$.name') as in the index baymodels_by_name (migration 7)
    listAllBayModelsNamed: p<DocRow>(`SELECT doc FROM baymodels WHERE json_extract(doc, '$.name') = ? ORDER BY created_at, uuid`),
    listBayModelsNamedVisibleTo: p<DocRow>(
      `SELECT doc FROM baymodels WHERE json_extract(doc, '$.name') = ? AND (project_id = ? OR public = 1) ORDER BY created_at, uuid`,
    ),
    deleteBayModel: p(`DELETE FROM baymodels WHERE uuid = ?`),

    createBay: p(
      `INSERT INTO bays (uuid, project_id, name, status, version, created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (uuid) DO NOTHING`,
    ),
    getBay: p<BayRow>(`SELECT doc, version FROM bays WHERE uuid = ?`),
    listAllBays: p<BayRow>(`SELECT doc, version FROM bays ORDER BY created_at, uuid`),
    listProjectBays: p<BayRow>(`SELECT doc, version FROM bays WHERE project_id = ? ORDER BY created_at, uuid`),
    countProjectBays: p<{ n: number }>(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM bays WHERE project_id = ? LIMIT ?)`),
    listBaysInProgress: p<BayRow>(
      `SELECT doc, version FROM bays WHERE status IN (${IN_PROGRESS.map(() => "?").join(", ")})
       ORDER BY created_at, uuid`,
    ),
    updateBay: p(
      `UPDATE bays SET project_id = ?, name = ?, status = ?, version = ?, created_at = ?, doc = ?
       WHERE uuid = ? AND version = ?`,
    ),
    deleteBay: p(`DELETE FROM bays WHERE uuid = ? AND version = ?`),

    insertCerts: p(`INSERT OR IGNORE INTO bay_certs (bay_uuid, created_at, doc) VALUES (?, ?, ?)`),
    getCerts: p<DocRow>(`SELECT doc FROM bay_certs WHERE bay_uuid = ?`),
    replaceCerts: p(`UPDATE bay_certs SET created_at = ?, doc = ? WHERE bay_uuid = ? AND created_at = ?`),
    deleteCerts: p(`DELETE FROM bay_certs WHERE bay_uuid = ?`),

    appendEvent: p(`INSERT INTO bay_events (bay_uuid, at, doc) VALUES (?, ?, ?)`),
    listEvents: p<DocRow>(`SELECT doc FROM bay_events WHERE bay_uuid = ? ORDER BY at, seq`),
  };
}

export class SqliteBayTable implements BayTable {
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly putCertsTx: (certs: BayCerts) => BayCerts;

  /** `db` must come from openDatabase (schema migrated); the caller owns and closes it. */
  constructor(private readonly db: SqliteDatabase) {
    this.sql = prepareStatements(db);
    // INSERT OR IGNORE is atomic: of two racing workers exactly one CA is stored, and both
    // read that one back (same transaction, so a concurrent deleteCerts cannot interleave).
    const tx = db.transaction((certs: BayCerts): BayCerts => {
      this.sql.insertCerts.run(certs.bay_uuid, certs.created_at, JSON.stringify(certs));
      const row = this.sql.getCerts.get(certs.bay_uuid);
      if (!row) throw new Error(`certs for bay ${certs.bay_uuid} vanished during putCertsIfAbsent`);
      return JSON.parse(row.doc) as BayCerts;
    });
    this.putCertsTx = (certs) => tx.immediate(certs);
  }

  async putBayModel(model: BayModel): Promise<void> {
    await durable(this.db, () => this.sql.putBayModel.run(model.uuid, model.project_id, model.public ? 1 : 0, model.created_at, JSON.stringify(model)));
  }

  async getBayModel(uuid: string): Promise<BayModel | undefined> {
    const row = this.sql.getBayModel.get(uuid);
    return row && (JSON.parse(row.doc) as BayModel);
  }

  async listBayModels(filter: ListFilter): Promise<BayModel[]> {
    const rows =
      filter.projectId === undefined
        ? this.sql.listAllBayModels.all()
        : this.sql.listBayModelsVisibleTo.all(filter.projectId);
    return rows.map((r) => JSON.parse(r.doc) as BayModel);
  }

  async listBayModelsNamed(name: string, filter: ListFilter): Promise<BayModel[]> {
    const rows =
      filter.projectId === undefined
        ? this.sql.listAllBayModelsNamed.all(name)
        : this.sql.listBayModelsNamedVisibleTo.all(name, filter.projectId);
    return rows.map((r) => JSON.parse(r.doc) as BayModel);
  }

  async deleteBayModel(uuid: string): Promise<void> {
    await durable(this.db, () => this.sql.deleteBayModel.run(uuid));
  }

  async createBay(bay: Bay): Promise<void> {
    await durable(this.db, () => {
      const r = this.sql.createBay.run(
        bay.uuid, bay.project_id, bay.name, bay.status, bay.version, bay.created_at, JSON.stringify(bay),
      );
      if (r.changes === 0) throw new AlreadyExists(bay.uuid);
    });
  }

  async getBay(uuid: string): Promise<Bay | undefined> {
    const row = this.sql.getBay.get(uuid);
    return row && toBay(row);
  }

  async listBays(filter: ListFilter): Promise<Bay[]> {
    const rows =
      filter.projectId === undefined ? this.sql.listAllBays.all() : this.sql.listProjectBays.all(filter.projectId);
    return rows.map(toBay);
  }

  async countBays(projectId: string, atMost: number): Promise<number> {
    return this.sql.countProjectBays.get(projectId, Math.max(0, atMost))?.n ?? 0;
  }

  async listBaysInProgress(): Promise<Bay[]> {
    return this.sql.listBaysInProgress.all(...IN_PROGRESS).map(toBay);
  }

  /** A bay that no longer exists also answers VersionConflict (nothing to update at that version). */
  async updateBay(bay: Bay, expectedVersion: number): Promise<Bay> {
    const stored: Bay = { ...bay, version: expectedVersion + 1 };
    const doc = JSON.stringify(stored);
    await durable(this.db, () => {
      const r = this.sql.updateBay.run(
        stored.project_id, stored.name, stored.status, stored.version, stored.created_at, doc,
        stored.uuid, expectedVersion,
      );
      if (r.changes === 0) throw new VersionConflict(bay.uuid, expectedVersion);
    });
    return JSON.parse(doc) as Bay; // as a read gives it back (undefined members dropped)
  }

  async deleteBay(uuid: string, expectedVersion: number): Promise<void> {
    await durable(this.db, () => {
      const r = this.sql.deleteBay.run(uuid, expectedVersion);
      if (r.changes === 0) throw new VersionConflict(uuid, expectedVersion);
    });
  }

  async putCertsIfAbsent(certs: BayCerts): Promise<BayCerts> {
    return durable(this.db, () => this.putCertsTx(certs));
  }

  async getCerts(bayUuid: string): Promise<BayCerts | undefined> {
    const row = this.sql.getCerts.get(bayUuid);
    return row && (JSON.parse(row.doc) as BayCerts);
  }

  /** One conditional UPDATE: of two rotations that read the same certs, exactly one wins. */
  async replaceCerts(certs: BayCerts, expectedCreatedAt: string): Promise<BayCerts> {
    checkReplacementCerts(certs, expectedCreatedAt);
    const doc = JSON.stringify(certs);
    await durable(this.db, () => {
      const r = this.sql.replaceCerts.run(certs.created_at, doc, certs.bay_uuid, expectedCreatedAt);
      if (r.changes === 0) throw new CertsChanged(certs.bay_uuid, expectedCreatedAt);
    });
    return JSON.parse(doc) as BayCerts;
  }

  async deleteCerts(bayUuid: string): Promise<void> {
    await durable(this.db, () => this.sql.deleteCerts.run(bayUuid));
  }

  /** Append-only; listEvents orders by `at`, ties in the order they were appended. */
  async appendEvent(event: BayEvent): Promise<void> {
    await durable(this.db, () => this.sql.appendEvent.run(event.bay_uuid, event.at, JSON.stringify(event)));
  }

  async listEvents(bayUuid: string): Promise<BayEvent[]> {
    return this.sql.listEvents.all(bayUuid).map((r) => JSON.parse(r.doc) as BayEvent);
  }
}

/** The version column is authoritative (it is what the conditions test). */
function toBay(row: BayRow): Bay {
  return { ...(JSON.parse(row.doc) as Bay), version: row.version };
}
