// Argument rules of the storage ports that no storage engine enforces by itself: every adapter
// (SQLite, DynamoDB, SQS) calls these before it writes, so they cannot drift. The contract
// suites (test/support/*-contract.ts) hold each adapter to them.
import type { Batch } from "./batch-store.ts";
import type { BayCerts } from "../domain/model.ts";
import type { WorkMessage } from "./work-queue.ts";

/** BatchStore.createBatch: one item per bay of the manifest (items[i] is manifest.bays[i]'s outcome). */
export function checkBatchItems(batch: Batch): void {
  if (batch.items.length !== batch.manifest.bays.length)
    throw new RangeError(`batch ${batch.id} has ${batch.items.length} items for ${batch.manifest.bays.length} bays`);
}

/** BayTable.replaceCerts: created_at is the certs' version, so the replacement needs a new one. */
export function checkReplacementCerts(certs: BayCerts, expectedCreatedAt: string): void {
  if (certs.created_at === expectedCreatedAt)
    throw new RangeError(`replacement certs for bay ${certs.bay_uuid} must have a created_at other than ${expectedCreatedAt}`);
}

/** WorkQueue.send: a v1 WorkMessage naming its bay, and a delay that is not negative. */
export function checkWorkMessage(message: WorkMessage, delaySeconds: number): void {
  if (message?.v !== 1 || typeof message.kind !== "string" || typeof message.bayId !== "string") throw new TypeError("not a v1 WorkMessage");
  if (!Number.isFinite(delaySeconds) || delaySeconds < 0) throw new RangeError("delaySeconds must be a number of seconds ≥ 0");
}
