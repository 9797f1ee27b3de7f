// What the worker's steps get from the composition root.
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { WorkQueue } from "../../shared/ports/work-queue.ts";
import type { Orchestrator } from "../../shared/ports/orchestrator.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { Kubernetes } from "../../shared/ports/kubernetes.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { DefinitionContext } from "../../shared/templates/kubernetes-definition.ts";
import type { LoadedTemplate } from "../../shared/templates/load-template.ts";
import type { BatchStore } from "../../shared/ports/batch-store.ts";
import type { BayOpsDeps } from "../../shared/bays/deps.ts";
import type { BayCredentials } from "../../shared/bay-credentials.ts";
import type { RsaKeys } from "../../shared/certs/bay-ca.ts";
import { PollSchedule } from "./poll-schedule.ts";

export interface WorkerDeps {
  table: BayTable;
  queue: WorkQueue;
  /**
   * Heat as the bay's user: through the bay's trust in keystone mode; a chat-ops bay without
   * one with its mapping's credential (bay.chatops_mapping), in the mapped project; else
   * Bayforge's own
   */
  heatFor(bay: Bay): Orchestrator;
  vault: KeyVault;
  /** bays' own Kubernetes APIs (the scale-down drain, the health check); absent → drains are skipped and recorded, bays' health UNKNOWN */
  kubernetes?: Kubernetes;
  /** the periodic health check (the sweeper enqueues bay.health); absent or interval 0 → off */
  health?: HealthCheckSettings;
  log: Logger;
  /** the values Magnum takes from the request context (auth URL, token for the nodes, ...) */
  definitionContext(bay: Bay, bootstrapToken: string): Promise<DefinitionContext>;
  /** kubecluster.yaml with its files */
  template(): LoadedTemplate;
  /** seconds before poll n (0-based); the last entry repeats */
  pollDelays: readonly number[];
  /** learns how long creates take and polls near that (else the pollDelays ladder) */
  pollSchedule?: PollSchedule;
  /** retryable cloud failures are retried this many times, with these delays (seconds) */
  retryDelays: readonly number[];
  /**
   * How long a step's claim on a bay (making its credentials, creating its stack) holds
   * before another delivery takes it over (default CLAIM_MS). Under the queue's visibility
   * timeout: the message of a step that died comes back after that and finds the claim stale.
   */
  claimMs?: number;
  /** after a create that may have acted, how long before another is sent (default CREATE_SETTLE_MS) */
  createSettleMs?: number;
  /** RSA key pairs for a bay's certificates (an RsaKeyPool's, made ahead); absent → made on demand */
  rsaKeys?: (bits: number) => Promise<RsaKeys>;
  now(): Date;
  /**
   * Removes the bay's trust to Bayforge (its operation is over) and, with `trustee`, the
   * nodes' trustee user and trust (a failed create, a deleted bay); with `rotated`, also the
   * trustees a credential rotation left on the bay's update. Returns what was left.
   */
  releaseCredentials?(bay: Bay, o: { trustee: boolean; rotated?: boolean }): Promise<string[]>;
  /**
   * Keystone mode: makes the operation's credentials with the caller's token the bay carries
   * (bay.delegation): the trust to Bayforge and, with `trustee`, the nodes' trustee user.
   * `lookFirst`: an earlier step may have made the trust and lost its answer. A credential
   * rotation makes a trustee only (`trust: false`), named by its `generation`.
   */
  makeCredentials?(bay: Bay, token: string, o: { trustee: boolean; lookFirst: boolean; trust?: boolean; generation?: number }): Promise<BayCredentials>;
  /** batch manifests (batch.apply); absent → a batch.apply fails (no store to apply it from) */
  batches?: BatchStore;
  /** what the bay operations need, with which batch.apply creates and scales bays (shared/bays) */
  batchOps?: BayOpsDeps;
}

export interface HealthCheckSettings {
  /** seconds between two checks of one bay (checks happen at sweeps: never more often than those) */
  intervalSeconds: number;
  /** the most checks one sweep enqueues */
  perSweep: number;
  /** how long connecting to a bay's API may take (default 3 s) */
  connectTimeoutMs?: number;
  /** how long one whole check may take (default 20 s) */
  budgetMs?: number;
}

/**
 * How long a claim holds by default (Keystone and Heat retries included); the embedded worker
 * makes it shorter when its visibility timeout is (see WorkerDeps.claimMs).
 */
export const CLAIM_MS = 120_000;

/**
 * A stack create that got no answer may still act in Heat: it can be in a balancer's queue,
 * or in heat-api waiting up to its RPC timeout (60 s by default) for the engine. Nothing of
 * the bay's is created again until this long after the failure (the lookup first, always).
 */
export const CREATE_SETTLE_MS = 30_000;

/** Whether a claim taken at `at` (ISO) still holds. */
export const claimHolds = (deps: WorkerDeps, at: string | null | undefined): boolean =>
  !!at && deps.now().getTime() - Date.parse(at) < (deps.claimMs ?? CLAIM_MS);

/** Seconds before poll `seq`: for a create, when the learned schedule says; else the ladder. */
export function pollDelay(deps: WorkerDeps, seq: number, bay?: Bay): number {
  if (deps.pollSchedule && bay?.status === "CREATE_IN_PROGRESS") return deps.pollSchedule.next(createKey(bay), seq, createElapsed(deps, bay));
  return deps.pollDelays[Math.min(seq, deps.pollDelays.length - 1)];
}

/** What the poll schedule learns creates by: stacks of one size take about as long. */
export const createKey = (bay: Bay): string => PollSchedule.createKey(bay.master_count, bay.node_count);

/** Seconds since the bay was accepted. */
export const createElapsed = (deps: WorkerDeps, bay: Bay): number => (deps.now().getTime() - Date.parse(bay.created_at)) / 1000;
