// Batches (POST /v1/batches, `bayforge apply -f`): the manifest as accepted, and what the
// worker's fan-out did for each bay. Locally SQLite tables (shared/adapters/local); on AWS the
// DynamoDB table (shared/adapters/dynamodb: a batch record + one item per bay, the lease as a
// conditional update). test/support/batch-store-contract.ts is what both must do.
import type { Manifest } from "../domain/manifest.ts";

export type BatchItemAction = "pending" | "create" | "scale" | "unchanged" | "failed";

/** One bay of the manifest (same index as manifest.bays). */
export interface BatchItem {
  name: string;
  action: BatchItemAction;
  bay_uuid?: string;
  /** why it failed, or a note (e.g. "master_count differs; only node_count is applied") */
  reason?: string;
  at?: string;
}

export interface Batch {
  id: string;
  project_id: string;
  user_id: string;
  created_at: string;
  updated_at: string | null;
  /** "applying" until the worker's fan-out has handled every bay, then "applied" */
  status: "applying" | "applied";
  manifest: Manifest;
  items: BatchItem[];
  /** the request that accepted it (the bays it creates carry it as their request_id) */
  request_id: string;
  /**
   * Keystone mode: the caller's token, encrypted with the key vault (context `batch:<id>:token`),
   * which the fan-out needs to make each bay's trusts as the caller. Removed (null) when the
   * fan-out ends; never served.
   */
  token_encrypted?: string | null;
  /** the caller's roles and names at submission (Keystone mode), for the fan-out */
  caller?: { roles?: string[]; user_name?: string; project_name?: string; is_admin?: boolean; token_expires_at?: string };
}

/** A batch without its manifest and items (listings). */
export type BatchHeader = Pick<Batch, "id" | "project_id" | "created_at" | "status">;

export interface BatchStore {
  /** Insert the batch with its items (all "pending"). */
  createBatch(batch: Batch): Promise<void>;
  getBatch(id: string): Promise<Batch | undefined>;
  /** The project's batches, oldest first (by created_at, then id). */
  listBatches(projectId: string): Promise<BatchHeader[]>;
  /** Writes the batch's own fields (not its items). */
  updateBatch(batch: Batch): Promise<void>;
  /** Records what happened to the bay at `index`. */
  setItem(id: string, index: number, item: BatchItem): Promise<void>;
  /**
   * Takes (or renews) the batch's fan-out lease for `holder` until `until`, if nobody else holds
   * an unexpired one. True when `holder` holds it afterwards. Keeps two deliveries of the same
   * batch.apply message from fanning out at once.
   */
  lease(id: string, holder: string, until: Date, now: Date): Promise<boolean>;
  release(id: string, holder: string): Promise<void>;
}
