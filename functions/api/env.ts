// What the API's handlers get from the composition root and from middleware.
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { WorkQueue } from "../../shared/ports/work-queue.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { Identity } from "../../shared/ports/identity.ts";
import type { DiscoveryStore } from "../../shared/ports/discovery-store.ts";
import type { BatchStore } from "../../shared/ports/batch-store.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import type { Version } from "./microversion.ts";

/** Who is calling: the project every read and write is scoped to. */
export interface Caller {
  projectId: string;
  userId: string;
  /** admins see every project's bays and baymodels */
  isAdmin: boolean;
  /** the caller's Keystone token (to create trusts as the caller); never log or echo it */
  token?: string;
  /** the token's role names (Keystone auth only) */
  roles?: string[];
  userName?: string;
  projectName?: string;
  /** set when the caller is a bay's nodes holding its bootstrap token: that bay only */
  bootstrapBay?: string;
}

export interface ApiDeps {
  table: BayTable;
  queue: WorkQueue;
  /** decrypts a bay's CA key to sign CSRs, encrypts the keys of a rotated CA (the worker's vault) */
  vault: KeyVault;
  log: Logger;
  /** etcd discovery directories for bays that name no discovery_url (served at /v1/discovery) */
  discovery?: DiscoveryStore;
  /** batch manifests (POST /v1/batches); absent → /v1/batches is not served */
  batches?: BatchStore;
  /** Keystone mode: trusts and trustees made with the caller's token; absent in noauth mode */
  identity?: Identity;
  /** Resolves the caller of a request, or throws ApiError 401/403. */
  authenticate(headers: Headers): Promise<Caller>;
  /** minutes used when a bay names no bay_create_timeout (Magnum: 60) */
  defaultTimeoutMinutes: number;
  /** minutes past Heat's timeout after which Bayforge fails a bay itself */
  deadlineGraceMinutes: number;
  /** public base URL for links and Location; default: the request's own origin */
  publicUrl?: string;
  /** largest request body accepted, bytes */
  maxBodyBytes: number;
  /** largest batch manifest (POST /v1/batches) accepted, bytes; default DEFAULT_MAX_MANIFEST_BYTES */
  maxManifestBytes?: number;
  now?: () => Date;
}

export type ApiEnv = {
  Variables: { version: Version; requestId: string; caller: Caller; base: string };
};
