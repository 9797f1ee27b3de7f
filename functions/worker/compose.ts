// Composition root of the worker function: settings + stores + cloud + key vault → the
// dependencies every step receives.
import type { Settings } from "../../shared/config.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { WorkQueue } from "../../shared/ports/work-queue.ts";
import type { Orchestrator } from "../../shared/ports/orchestrator.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { BatchStore } from "../../shared/ports/batch-store.ts";
import type { DiscoveryStore } from "../../shared/ports/discovery-store.ts";
import type { QuotaStore } from "../../shared/ports/quota-store.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import type { Session } from "../../shared/adapters/openstack/identity/session.ts";
import { identityV3Url } from "../../shared/adapters/openstack/config/index.ts";
import { KubernetesClients } from "../../shared/adapters/kubernetes/index.ts";
import { kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";
import { CLAIM_MS, type WorkerDeps } from "./deps.ts";
import type { Identity } from "../../shared/ports/identity.ts";
import type { Bay } from "../../shared/domain/model.ts";
import { delegationMarker, makeCredentials, releaseCredentials } from "../../shared/bay-credentials.ts";
import { bayClouds } from "../../shared/adapters/openstack/bay-clouds.ts";
import { mappingClouds } from "../../shared/adapters/openstack/mapping-clouds.ts";
import type { MappingCredential } from "../../shared/ports/chatops-mappings.ts";
import { PollSchedule } from "./poll-schedule.ts";
import { RsaKeyPool } from "../../shared/certs/bay-ca.ts";

export interface WorkerParts {
  table: BayTable;
  queue: WorkQueue;
  heat: Orchestrator;
  session: Session;
  vault: KeyVault;
  log: Logger;
  /** keystone mode: makes the bays' trusts and trustees, and removes them when no longer needed */
  identity?: Identity;
  /** batch manifests: with it the worker applies batch.apply (fans out with the API's operations) */
  batches?: BatchStore;
  /** etcd discovery directories, for the bays a batch creates (as POST /v1/bays makes them) */
  discovery?: DiscoveryStore;
  /** project quotas, enforced on the bays a batch creates */
  quotas?: QuotaStore;
  /** chat-ops: a mapping's credential (bay.chatops_mapping); absent → such bays fail */
  mappingCredential?: (ref: string) => Promise<MappingCredential | undefined>;
}

export function composeWorker(settings: Settings, p: WorkerParts): WorkerDeps {
  const auth = p.session.cloud.auth;
  const cloudFor = bayClouds({ session: p.session, heat: p.heat });
  // chat-ops bays act with their mapping's credential, in the mapped project (a bay's own trust wins)
  const mappingCloudFor = mappingClouds(p.session, p.mappingCredential ?? (async () => undefined));
  const viaMapping = (bay: Pick<Bay, "trust_id" | "chatops_mapping">) => !bay.trust_id && !!bay.chatops_mapping;
  return {
    table: p.table,
    queue: p.queue,
    heatFor: (bay) => (viaMapping(bay) ? mappingCloudFor(bay.chatops_mapping!).heat : cloudFor(bay).heat),
    releaseCredentials: (bay, o) =>
      releaseCredentials(p.identity, { trust_id: bay.trust_id, trustee: o.trustee ? bay.trustee : null, trustees: o.rotated ? [bay.update?.trustee, ...(bay.update?.trustees_left ?? [])] : [] }, p.log),
    ...(p.identity
      ? {
          makeCredentials: (bay, token, o) =>
            makeCredentials(p.identity!, p.vault, token, { userId: bay.delegation!.user_id, projectId: bay.project_id, roles: bay.delegation!.roles }, bay.uuid, {
              ...o,
              marker: delegationMarker(bay.uuid, bay.poll_seq),
              // the trust's token (a password check in Keystone) while the trustee is still made:
              // the stack create then finds it ready in the per-trust session
              onTrust: (trust_id) => void cloudFor({ trust_id }).session.tokenInfo().catch(() => {}),
            }),
        }
      : {}),
    vault: p.vault,
    kubernetes: new KubernetesClients(),
    health: { intervalSeconds: settings.healthIntervalSeconds, perSweep: settings.healthChecksPerSweep },
    log: p.log,
    // batch.apply creates and scales bays with the API's own operations: trusts as the
    // batch's caller (keystone mode), discovery directories, deadlines as POST /v1/bays
    ...(p.batches
      ? {
          batches: p.batches,
          batchOps: {
            table: p.table,
            queue: p.queue,
            vault: p.vault,
            log: p.log,
            discovery: p.discovery,
            identity: p.identity,
            quotas: p.quotas,
            maxClustersPerProject: settings.maxClustersPerProject,
            defaultTimeoutMinutes: settings.defaultTimeoutMinutes,
            deadlineGraceMinutes: settings.deadlineGraceMinutes,
            publicUrl: settings.publicUrl,
          },
        }
      : {}),
    template: () => kubeclusterTemplate(),
    pollDelays: settings.pollDelays,
    pollSchedule: new PollSchedule(settings.pollDelays),
    retryDelays: settings.retryDelays,
    // A dead step's message comes back after the visibility timeout, counted from its last
    // heartbeat (every 0.4 of it): its claims, renewed every third of claimMs, are stale by then.
    claimMs: Math.min(CLAIM_MS, settings.visibilitySeconds * 500),
    rsaKeys: new RsaKeyPool().take,
    now: () => new Date(),
    async definitionContext(bay, bootstrapToken) {
      // as the bay's user (through its trust), like Magnum's request context
      const info = viaMapping(bay) ? await mappingCloudFor(bay.chatops_mapping!).tokenInfo() : await cloudFor(bay).session.tokenInfo();
      const t = bay.trustee;
      return {
        authUrl: identityV3Url(auth.authUrl),
        username: info.userName ?? info.userId,
        tenantName: info.projectName ?? info.projectId ?? "",
        // The nodes call the certificates API with it (a hidden stack parameter). Magnum passed
        // the user's own token; this one is bound to the bay and expires with the operation.
        userToken: bootstrapToken,
        magnumUrl: `${settings.publicUrl}/v1`,
        // set when the bay was accepted (Bayforge's own discovery, or the user's)
        discoveryUrl: bay.discovery_url ?? "",
        ...(t
          ? {
              trustee: {
                domainId: t.domain_id,
                userId: t.user_id,
                username: t.username,
                password: await p.vault.decrypt(t.password_encrypted, `bay:${bay.uuid}:trustee`),
                trustId: t.trust_id,
              },
            }
          : {}),
      };
    },
  };
}
