// Node group operations (API 1.9+), shared by every entry point: create, resize and delete of
// an extra worker group are updates of the bay (its stack gets or loses the group's resource
// group), started like a scale; a PATCH of a group's min/max changes no stack and is a plain
// conditional write.
import { randomUUID } from "node:crypto";
import type { Bay, BayModel, NodeGroupRecord } from "../domain/model.ts";
import { effectiveModel } from "../domain/cluster.ts";
import { conflict } from "../domain/errors.ts";
import { findNodeGroup, newNodeGroup, nodeGroupNotFound, patchNodeGroup, planNodeGroupCreate, planNodeGroupDelete, planNodeGroupResize, refuseDefaultGroupDelete } from "../domain/nodegroup.ts";
import { VersionConflict } from "../ports/bay-table.ts";
import { deadlineMinutes, startOperation } from "./operate.ts";
import type { BayOpsDeps, Caller } from "./deps.ts";

/** Adds a group to the bay (202 in the API): the bay and the group, CREATE_IN_PROGRESS. */
export async function createNodeGroup(deps: BayOpsDeps, caller: Caller, bay: Bay, model: BayModel, body: unknown, o: { requestId: string; zeroNodes: boolean; nodeLabels: boolean }): Promise<NodeGroupRecord> {
  const now = deps.now?.() ?? new Date();
  const group = newNodeGroup(body, bay, effectiveModel(bay, model), { uuid: randomUUID(), now, maxNodes: deps.maxNodesPerBay, zeroNodes: o.zeroNodes, nodeLabels: o.nodeLabels });
  const update = planNodeGroupCreate(bay, group, { now, requestId: o.requestId });
  await startOperation(deps, caller, bay, { ...updating(deps, bay, now), update, nodegroups: [...(bay.nodegroups ?? []), group] }, "bay.update", o.requestId, "given a node group");
  return group;
}

/** Resizes an extra group (the cluster's resize action naming it). */
export async function resizeNodeGroup(deps: BayOpsDeps, caller: Caller, bay: Bay, group: NodeGroupRecord, nodeCount: number, nodesToRemove: string[], o: { requestId: string; zeroNodes: boolean }): Promise<Bay> {
  const now = deps.now?.() ?? new Date();
  const update = planNodeGroupResize(bay, group, nodeCount, nodesToRemove, { now, requestId: o.requestId, zeroNodes: o.zeroNodes });
  const nodegroups = (bay.nodegroups ?? []).map((g) => (g.uuid === group.uuid ? { ...g, node_count: nodeCount, status: "UPDATE_IN_PROGRESS" as const, status_reason: null, updated_at: now.toISOString() } : g));
  return startOperation(deps, caller, bay, { ...updating(deps, bay, now), update, nodegroups }, "bay.update", o.requestId, "resized");
}

/** Removes an extra group (204 in the API); the default groups go only with the cluster. */
export async function deleteNodeGroup(deps: BayOpsDeps, caller: Caller, bay: Bay, ident: string, requestId: string): Promise<void> {
  refuseDefaultGroupDelete(ident, bay);
  const group = findNodeGroup(bay, ident);
  if (!group) throw nodeGroupNotFound(ident);
  const now = deps.now?.() ?? new Date();
  const update = planNodeGroupDelete(bay, group, { now, requestId });
  const nodegroups = (bay.nodegroups ?? []).map((g) => (g.uuid === group.uuid ? { ...g, status: "DELETE_IN_PROGRESS" as const, status_reason: null, updated_at: now.toISOString() } : g));
  await startOperation(deps, caller, bay, { ...updating(deps, bay, now), update, nodegroups }, "bay.update", requestId, "changed");
}

/** min/max_node_count of an extra group: stored at once, no stack change (as Magnum's driver). */
export async function patchNodeGroupBounds(deps: BayOpsDeps, bay: Bay, ident: string, body: unknown): Promise<NodeGroupRecord> {
  const group = findNodeGroup(bay, ident);
  if (!group) throw nodeGroupNotFound(ident);
  const now = deps.now?.() ?? new Date();
  const patched = { ...patchNodeGroup(group, body), updated_at: now.toISOString() };
  const nodegroups = (bay.nodegroups ?? []).map((g) => (g.uuid === group.uuid ? patched : g));
  try {
    await deps.table.updateBay({ ...bay, nodegroups, version: bay.version + 1, updated_at: now.toISOString() }, bay.version);
  } catch (e) {
    if (e instanceof VersionConflict) throw conflict(`Cluster ${bay.uuid} changed while its node group ${group.name} was being updated; read it again and retry.`);
    throw e;
  }
  return patched;
}

/** What every group operation sets on the bay: an update in progress, with the create's deadline. */
function updating(deps: BayOpsDeps, bay: Bay, now: Date): Partial<Bay> {
  const minutes = deadlineMinutes(deps, bay);
  return { status: "UPDATE_IN_PROGRESS", status_reason: null, faults: [], deadline_at: minutes > 0 ? new Date(now.getTime() + minutes * 60_000).toISOString() : null };
}
