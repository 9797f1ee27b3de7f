// The embedded default stores in one call: the bay table, the work queue, the etcd
// discovery directories, the batches, the project quotas and the services' heartbeats on one SQLite file under dataDir,
// sharing one connection (one handle per process is enough).
import { join } from "node:path";
import { SqliteBayTable } from "./bay-table.ts";
import { SqliteBatchStore } from "./batch-store.ts";
import { SqliteChatOpsMappings } from "./chatops-mappings.ts";
import type { KeyVault } from "../../ports/key-vault.ts";
import { SqliteDiscoveryStore } from "./discovery-store.ts";
import { SqliteQuotaStore } from "./quota-store.ts";
import { SqliteServiceRegistry } from "./service-registry.ts";
import { DEFAULT_DB_FILE, flushWrites, openDatabase, type OpenDatabaseOptions } from "./sqlite.ts";
import { SqliteWorkQueue, type SqliteWorkQueueOptions } from "./work-queue.ts";

export { SqliteBayTable } from "./bay-table.ts";
export { SqliteDiscoveryStore } from "./discovery-store.ts";
export { SqliteBatchStore } from "./batch-store.ts";
export { SqliteChatOpsMappings } from "./chatops-mappings.ts";
export { SqliteQuotaStore } from "./quota-store.ts";
export { SqliteServiceRegistry } from "./service-registry.ts";
export { SqliteWorkQueue } from "./work-queue.ts";
export type { DeadLetter, DeadLetterHandler, QueueStats, SqliteWorkQueueOptions } from "./work-queue.ts";
export { openDatabase, integrityCheck, SCHEMA_VERSION } from "./sqlite.ts";
export type { OpenDatabaseOptions, SqliteDatabase } from "./sqlite.ts";

export interface LocalStoresOptions extends OpenDatabaseOptions {
  queue?: SqliteWorkQueueOptions;
}

export interface LocalStores {
  table: SqliteBayTable;
  queue: SqliteWorkQueue;
  discovery: SqliteDiscoveryStore;
  /** batch manifests (POST /v1/batches) and their fan-out */
  batches: SqliteBatchStore;
  /** project quotas (/v1/quotas) */
  quotas: SqliteQuotaStore;
  /** Bayforge's own services and their heartbeats (/v1/mservices) */
  services: SqliteServiceRegistry;
  /** chat-ops mappings, their application credentials' secrets encrypted with `vault` */
  chatops(vault: KeyVault): SqliteChatOpsMappings;
  /** the database file */
  file: string;
  /** Closes the connection (checkpoints the WAL when it is the last one). Idempotent. */
  close(): Promise<void>;
}

export function openLocalStores(dataDir: string, options: LocalStoresOptions = {}): LocalStores {
  const db = openDatabase(dataDir, options);
  return {
    table: new SqliteBayTable(db),
    queue: new SqliteWorkQueue(db, options.queue),
    discovery: new SqliteDiscoveryStore(db),
    batches: new SqliteBatchStore(db),
    quotas: new SqliteQuotaStore(db),
    services: new SqliteServiceRegistry(db),
    chatops: (vault) => new SqliteChatOpsMappings(db, vault),
    file: join(dataDir, options.fileName ?? DEFAULT_DB_FILE),
    async close() {
      if (!db.open) return;
      flushWrites(db);
      db.close();
    },
  };
}
