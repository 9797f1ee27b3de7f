// What the bay operations need, and who they act for. The API, the chat-ops webhook and the
// worker's batch fan-out each build this from their own composition root; none builds another's.
import type { BayTable } from "../ports/bay-table.ts";
import type { WorkQueue } from "../ports/work-queue.ts";
import type { KeyVault } from "../ports/key-vault.ts";
import type { Identity } from "../ports/identity.ts";
import type { DiscoveryStore } from "../ports/discovery-store.ts";
import type { QuotaStore } from "../ports/quota-store.ts";
import type { Logger } from "../observability/logger.ts";

/** Who is calling: the project every read and write is scoped to. */
export interface Caller {
  projectId: string;
  userId: string;
  /** admins see every project's bays and baymodels */
  isAdmin: boolean;
  /** the caller's Keystone token (to create trusts as the caller); never log or echo it */
  token?: string;
  /** when Keystone stops accepting `token` (Keystone auth only) */
  tokenExpiresAt?: Date;
  /** the token's role names (Keystone auth only) */
  roles?: string[];
  userName?: string;
  projectName?: string;
  /** chat-ops: the mapping whose application credential the worker acts with (no token, no trust) */
  chatopsMapping?: string;
  /** set when the caller is a bay's nodes holding its bootstrap token: that bay only */
  bootstrapBay?: string;
  /** with bootstrapBay: the node role the token was verified for (its subject policy) */
  bootstrapRole?: "master" | "minion";
}

export interface BayOpsDeps {
  table: BayTable;
  queue: WorkQueue;
  /** encrypts the nodes' trustee password */
  vault: KeyVault;
  log: Logger;
  /** etcd discovery directories for bays that name no discovery_url (served at /v1/discovery) */
  discovery?: DiscoveryStore;
  /** Keystone mode: trusts and trustees made with the caller's token; absent in noauth mode */
  identity?: Identity;
  /** minutes used when a bay names no bay_create_timeout (Magnum: 60) */
  defaultTimeoutMinutes: number;
  /** minutes past Heat's timeout after which Bayforge fails a bay itself */
  deadlineGraceMinutes: number;
  /** the most masters, and the most worker nodes, a bay may have (Settings.maxNodesPerBay); default 1,000 */
  maxNodesPerBay?: number;
  /** project quotas (/v1/quotas); absent: only the default limit (maxClustersPerProject) applies */
  quotas?: QuotaStore;
  /** the clusters a project without a quota may have (Magnum's max_clusters_per_project, 20) */
  maxClustersPerProject?: number;
  /** public base URL (links, discovery URLs); default: the request's own origin */
  publicUrl?: string;
  now?: () => Date;
}
