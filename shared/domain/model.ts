// BayModel and Bay as stored: Magnum mitaka's public fields plus the internal ones Magnum
// keeps off the API (project_id, user_id, ...) and Bayforge's own bookkeeping (version for
// conditional writes, the stack name fixed once per bay, the deadline).
import type { BayStatus } from "./status.ts";
import type { BootstrapRecord } from "./bootstrap-token.ts";
import type { HealthReason, HealthStatus } from "./health.ts";
import type { UpgradeRecord } from "./rollout.ts";
import type { CaRotationRecord } from "./ca-rotation.ts";

export interface BayModel {
  uuid: string;
  name: string | null;
  project_id: string;
  user_id: string;
  coe: "kubernetes";
  image_id: string;
  flavor_id: string | null;
  master_flavor_id: string | null;
  /** a cluster template may leave it to each cluster (modern Magnum); a baymodel always has one */
  keypair_id: string | null;
  external_network_id: string;
  fixed_network: string | null;
  fixed_subnet: string | null;
  dns_nameserver: string | null;
  docker_volume_size: number | null;
  docker_storage_driver: string | null;
  network_driver: string | null;
  volume_driver: string | null;
  apiserver_port: number | null;
  cluster_distro: string | null;
  labels: Record<string, string> | null;
  tls_disabled: boolean;
  public: boolean;
  server_type: string;
  http_proxy: string | null;
  https_proxy: string | null;
  no_proxy: string | null;
  registry_enabled: boolean;
  insecure_registry: string | null;
  master_lb_enabled: boolean;
  floating_ip_enabled: boolean;
  created_at: string;
  updated_at: string | null;
  /** modern Magnum's cluster template extras */
  hidden?: boolean;
  tags?: string | null;
}

/** What a cluster may set over its template (modern Magnum's cluster create fields). */
export type ClusterOverrides = Partial<
  Pick<BayModel, "keypair_id" | "docker_volume_size" | "labels" | "master_flavor_id" | "flavor_id" | "fixed_network" | "fixed_subnet" | "floating_ip_enabled" | "master_lb_enabled">
>;

export interface Bay {
  uuid: string;
  name: string;
  project_id: string;
  user_id: string;
  baymodel_id: string;
  node_count: number;
  master_count: number;
  discovery_url: string | null;
  /** minutes, resolved at accept time (absent → configured default): >0 → Heat timeout, 0 → none */
  bay_create_timeout: number;
  status: BayStatus;
  status_reason: string | null;
  stack_id: string | null;
  api_address: string | null;
  node_addresses: string[];
  master_addresses: string[];
  created_at: string;
  updated_at: string | null;
  // --- internal (never served) ---
  /** incremented by every write; writes are conditional on the version read */
  version: number;
  /** `<name>-<short id>`, fixed at accept time so a retried create finds the same stack */
  stack_name: string;
  /** ISO time after which an in-progress create is failed by Bayforge itself, or null */
  deadline_at: string | null;
  /** the request that created it, for logs and events */
  request_id: string;
  /** the seq of the one bay.poll message allowed to run next; duplicates carry a stale seq */
  poll_seq: number;
  /** the update in flight (set by the API with UPDATE_IN_PROGRESS, kept after for the record) */
  update?: BayUpdate | null;
  /** minion resource name ("0", "1", ...) → private address, from the last completed stack */
  minions?: Record<string, string>;
  /** Heat's failed resources, read when the stack failed (served as `faults`) */
  faults?: BayFault[];
  /** a cluster's own values over its template's (modern API); absent for mitaka bays */
  overrides?: ClusterOverrides;
  /** the nodes' bootstrap token for the certificates API: hash and expiry only */
  bootstrap?: BootstrapRecord | null;
  /** the user's trust to Bayforge for the operation in flight (Keystone auth only) */
  trust_id?: string | null;
  /** the bay's trustee user and the user's trust to it, for the nodes; password encrypted */
  trustee?: TrusteeRecord | null;
  /**
   * Keystone mode, between the request and the worker making the operation's credentials:
   * the caller's token (encrypted), so no Keystone write is on the request's path.
   */
  delegation?: DelegationRecord | null;
  /**
   * The delivery creating the bay's stack holds this (`by` since `at`); released (`by` null)
   * when a step fails. Its presence tells a later delivery that a create may have been sent
   * (that one looks for the stack first). `settles_at`: a create sent before may still act in
   * Heat (it got no answer in time, or lost it); no other create is sent before then.
   */
  create_claim?: { by: string | null; at: string | null; settles_at?: string | null } | null;
  /**
   * chat-ops: the mapping (its key, e.g. `slack:T123`; never the secret) whose application
   * credential the worker acts with, so the stack is the mapped project's own
   */
  chatops_mapping?: string | null;
  /** chat-ops: where the worker posts the operation's outcome (the slash command's response_url) */
  notify?: { response_url: string; platform: "slack" | "mattermost" } | null;
  /** worker groups beyond the default ones (API 1.9+), each a resource group of the bay's stack */
  nodegroups?: NodeGroupRecord[];
  /** the Kubernetes release the bay runs (shared/domain/coe-version.ts); absent until known */
  coe_version?: string | null;
  /** the periodic check's verdict and Magnum's reason map (shared/domain/health.ts); absent until checked */
  health_status?: HealthStatus | null;
  health_status_reason?: HealthReason | null;
  /** internal: when the periodic health check last looked (what makes the next one due) */
  health_checked_at?: string | null;
  /** the Kubernetes upgrade in flight or last run (API 1.8): its plan and each node's progress */
  upgrade?: UpgradeRecord | null;
  /** the CA rotation in flight or last run (PATCH /v1/certificates): its phase and each node's progress */
  ca_rotation?: CaRotationRecord | null;
}

/** A Kubernetes taint a group's nodes register with. */
export interface NodeTaint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/**
 * An extra worker nodegroup (Magnum's NodeGroup, not default): its own flavor, image, labels
 * and count, made as its own resource group (`key`) in the bay's stack.
 */
export interface NodeGroupRecord {
  uuid: string;
  name: string;
  role: string;
  flavor_id: string | null;
  image_id: string;
  docker_volume_size: number | null;
  labels: Record<string, string>;
  node_count: number;
  min_node_count: number;
  max_node_count: number | null;
  /** the stack's resource group and parameter prefix for it (`ng_<hex>`), fixed at create */
  key: string;
  /** API 1.14: labels and taints its nodes register with (kubelet), fixed at create */
  node_labels?: Record<string, string> | null;
  node_taints?: NodeTaint[] | null;
  /** Magnum's nodegroup statuses: CREATE_/UPDATE_/DELETE_ IN_PROGRESS, COMPLETE, FAILED */
  status: BayStatus;
  status_reason: string | null;
  node_addresses: string[];
  /** minion resource name ("0", "1", ...) → private address, from the last completed stack */
  minions: Record<string, string>;
  created_at: string;
  updated_at: string | null;
}

export interface DelegationRecord {
  /** the caller's Keystone token, encrypted (vault context `bay:<uuid>:delegation`); never shown */
  token_encrypted: string;
  /** when Keystone stops accepting the token: a step after that fails the operation */
  token_expires_at: string;
  user_id: string;
  /** the token's roles, delegated as they are (implied roles included, as Magnum does) */
  roles: string[];
  /** a step making the credentials holds this claim (since claimed_at); a stale one is taken over */
  claimed_by?: string | null;
  claimed_at?: string | null;
  /** set once a step has started making credentials: a later one looks for what it made */
  attempted?: boolean;
}

export interface TrusteeRecord {
  user_id: string;
  username: string;
  domain_id: string;
  password_encrypted: string;
  trust_id: string;
}

/** A scale request: the new minion count and the minions to remove first (names or private IPs). */
export interface BayUpdate {
  node_count: number;
  nodes_to_remove: string[];
  previous_node_count: number;
  requested_at: string;
  request_id: string;
  /** set once Heat accepted the stack update, so a redelivery does not send it twice */
  stack_update_sent_at?: string;
  /** `?rollback=True` (API 1.3+): Heat undoes a failed update, and the bay ends ROLLBACK_COMPLETE as in Magnum */
  rollback?: boolean;
  /**
   * A credential rotation (PATCH /v1/credentials, API 1.12): the stack is given a new trustee
   * user and trust (`trustee`, once made); the old ones go once the stack has the new ones.
   */
  rotate_credentials?: boolean;
  trustee?: TrusteeRecord | null;
  /** trustees of earlier rotations not removed from Keystone yet (it refused, or the rotation stopped): removed with the bay */
  trustees_left?: TrusteeRecord[];
  /** an operation on an extra nodegroup (the default groups are the bay's own counts) */
  nodegroup?: { uuid: string; action: "create" | "resize" | "delete"; previous_node_count?: number };
}

/** One failed resource of the bay's stack (or of a nested stack). */
export interface BayFault {
  resource: string;
  type: string;
  reason: string | null;
  time: string | null;
}

/** The bay's certificates: CA key stored only encrypted (KeyVault ciphertext). */
export interface BayCerts {
  bay_uuid: string;
  ca_cert_pem: string;
  ca_key_encrypted: string;
  client_cert_pem: string;
  client_key_encrypted: string;
  created_at: string;
  /**
   * A CA rotation in flight (or failed after its nodes trusted the new CA): the new CA and
   * client certificate, which become the ones above when the rotation completes
   * (shared/domain/ca-rotation.ts).
   */
  next?: { ca_cert_pem: string; ca_key_encrypted: string; client_cert_pem: string; client_key_encrypted: string; created_at: string } | null;
}

/** One step in a bay's life, kept for operators (and the events API later). */
export interface BayEvent {
  bay_uuid: string;
  at: string;
  kind: string;
  detail: string;
  request_id?: string;
}
