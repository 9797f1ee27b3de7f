// Composition root of the worker function: settings + stores + cloud + key vault → the
// dependencies every step receives.
import type { Settings } from "../../shared/config.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { WorkQueue } from "../../shared/ports/work-queue.ts";
import type { Orchestrator } from "../../shared/ports/orchestrator.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import type { Session } from "../../shared/adapters/openstack/identity/session.ts";
import { identityV3Url } from "../../shared/adapters/openstack/config.ts";
import { kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";
import type { WorkerDeps } from "./deps.ts";

export interface WorkerParts {
  table: BayTable;
  queue: WorkQueue;
  heat: Orchestrator;
  session: Session;
  vault: KeyVault;
  log: Logger;
}

export function composeWorker(settings: Settings, p: WorkerParts): WorkerDeps {
  const auth = p.session.cloud.auth;
  return {
    table: p.table,
    queue: p.queue,
    heat: p.heat,
    vault: p.vault,
    log: p.log,
    template: () => kubeclusterTemplate(),
    pollDelays: settings.pollDelays,
    retryDelays: settings.retryDelays,
    now: () => new Date(),
    async definitionContext(bay, bootstrapToken) {
      const info = await p.session.tokenInfo();
      return {
        authUrl: identityV3Url(auth.authUrl),
        username: info.userName ?? info.userId,
        tenantName: info.projectName ?? info.projectId ?? "",
        // The nodes call the certificates API with it (a hidden stack parameter). Magnum passed
        // the user's own token; this one is bound to the bay and expires with the operation.
        userToken: bootstrapToken,
        magnumUrl: `${settings.publicUrl}/v1`,
        // Served by Bayforge itself in #3 (no discovery.etcd.io dependency).
        discoveryUrl: `${settings.publicUrl}/v1/bays/${bay.uuid}/discovery`,
      };
    },
  };
}
