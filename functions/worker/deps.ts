// What the worker's steps get from the composition root.
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { WorkQueue } from "../../shared/ports/work-queue.ts";
import type { Orchestrator } from "../../shared/ports/orchestrator.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { DefinitionContext } from "../../shared/templates/kubernetes-definition.ts";
import type { LoadedTemplate } from "../../shared/templates/load-template.ts";

export interface WorkerDeps {
  table: BayTable;
  queue: WorkQueue;
  heat: Orchestrator;
  vault: KeyVault;
  log: Logger;
  /** the values Magnum takes from the request context (auth URL, token for the nodes, ...) */
  definitionContext(bay: Bay, bootstrapToken: string): Promise<DefinitionContext>;
  /** kubecluster.yaml with its files */
  template(): LoadedTemplate;
  /** seconds before poll n (0-based); the last entry repeats */
  pollDelays: readonly number[];
  /** retryable cloud failures are retried this many times, with these delays (seconds) */
  retryDelays: readonly number[];
  now(): Date;
  /** removes what a deleted bay owned outside the table (its Keystone trust and trustee) */
  cleanup?(bay: Bay): Promise<void>;
}

export const pollDelay = (deps: WorkerDeps, seq: number): number =>
  deps.pollDelays[Math.min(seq, deps.pollDelays.length - 1)];
