// Starting a cluster upgrade (API 1.8): the plan is checked (shared/domain/upgrade.ts), stored
// on the bay with UPDATE_IN_PROGRESS in one conditional write, and the worker's bay.upgrade
// step is queued; if the enqueue fails the write is taken back: operate.ts's startOperation,
// as for every operation. No Heat and no Keystone on this path: the nodes do the work through their
// agents, so no trust is needed.
import type { Bay } from "../domain/model.ts";
import { ApiError, badRequest } from "../domain/errors.ts";
import { planUpgrade, type UpgradeRequest } from "../domain/upgrade.ts";
import type { RolloutNode } from "../domain/rollout.ts";
import { findNodeGroup, nodeGroupNotFound } from "../domain/nodegroup.ts";
import { nodeNamePrefix } from "../templates/kubernetes-definition.ts";
import { findBayModel } from "./lookup.ts";
import { nodeOperationPatch, startOperation } from "./operate.ts";
import type { BayOpsDeps, Caller } from "./deps.ts";

type PlannedNode = Pick<RolloutNode, "name" | "role" | "group" | "address">;

/** Heat's resource indexes of a group: the recorded ones, else 0..count-1. */
const indexes = (minions: Record<string, string> | undefined, count: number): string[] => {
  const known = Object.keys(minions ?? {});
  return (known.length ? known : Array.from({ length: count }, (_, i) => String(i))).sort((a, b) => Number(a) - Number(b));
};
const workersOf = (prefix: string, group: string, label: string, minions: Record<string, string> | undefined, count: number): PlannedNode[] =>
  indexes(minions, count).map((i) => ({ name: `${prefix}-${label}-${i}`, role: "worker" as const, group, address: minions?.[i] ?? null }));

/**
 * The bay's Kubernetes nodes by name (Heat names the servers `<prefix>-master-<i>`,
 * `<prefix>-minion-<i>`, `<prefix>-<group>-<i>`; the hostname is the node name), masters
 * first; only `nodegroup`'s when one is named.
 */
export function rolloutNodes(bay: Bay, nodegroup: string | null): PlannedNode[] {
  const prefix = nodeNamePrefix(bay);
  const masters = Array.from({ length: bay.master_count }, (_, i) => ({ name: `${prefix}-master-${i}`, role: "master" as const, group: "default-master", address: bay.master_addresses[i] ?? null }));
  const workers = workersOf(prefix, "default-worker", "minion", bay.minions, bay.node_count);
  const extra = (bay.nodegroups ?? []).flatMap((g) => workersOf(prefix, g.name, g.name.toLowerCase(), g.minions, g.node_count));
  if (!nodegroup) return [...masters, ...workers, ...extra];
  if (nodegroup === "default-master") return masters;
  if (nodegroup === "default-worker") return workers;
  const g = findNodeGroup(bay, nodegroup);
  if (!g) throw nodeGroupNotFound(nodegroup);
  return extra.filter((n) => n.group === g.name);
}

export async function upgradeCluster(deps: BayOpsDeps, caller: Caller, bay: Bay, req: UpgradeRequest, requestId: string): Promise<Bay> {
  const now = deps.now?.() ?? new Date();
  const to = await findBayModel(deps.table, caller, req.cluster_template, "cluster template");
  if (!to) throw new ApiError(404, `ClusterTemplate ${req.cluster_template.slice(0, 255)} could not be found.`);
  const from = await deps.table.getBayModel(bay.baymodel_id);
  if (!from) throw badRequest(`The cluster's own template ${bay.baymodel_id} is gone: it cannot be compared with the new one.`);
  const upgrade = planUpgrade({ bay, from, to, req, nodes: rolloutNodes(bay, req.nodegroup), now, requestId });
  const { kept, ...moved } = nodeOperationPatch(deps, bay, now);
  const patch: Partial<Bay> = {
    ...moved,
    upgrade: { ...upgrade, kept_update: kept },
    // one per-node record on the bay at a time (see rotate-ca.ts): a finished CA rotation keeps
    // what its certificates need (its phase, outcome and new set's stamp), not its nodes
    ...(bay.ca_rotation?.finished_at ? { ca_rotation: { ...bay.ca_rotation, nodes: [] } } : {}),
  };
  const scope = req.nodegroup ? `nodegroup ${req.nodegroup}` : "all nodes";
  return startOperation(deps, caller, bay, patch, "bay.upgrade", requestId, "upgraded", {
    kind: "upgrade_accepted",
    detail: `upgrade of ${bay.name} from ${upgrade.from_version} to ${upgrade.to_version} (template ${to.name ?? to.uuid}) accepted: ${scope}, ${upgrade.nodes.length} node(s), workers in batches of ${req.max_batch_size}`,
  });
}
