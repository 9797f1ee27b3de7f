// A new bay: stored CREATE_IN_PROGRESS, its create message durably enqueued, then answered.
// If the enqueue fails the bay is taken back, so a user is never told "accepted" about work
// nobody will do. The same for /v1/bays, /v1/clusters, chat-ops and batch manifests.
import type { Bay, BayModel, ClusterOverrides } from "../domain/model.ts";
import { acceptBay, type BayRequest } from "../domain/bay.ts";
import { checkBayNetwork } from "../domain/bay-network.ts";
import { effectiveModel } from "../domain/cluster.ts";
import { ApiError, badRequest } from "../domain/errors.ts";
import { delegationFor } from "./delegation.ts";
import { checkClusterQuota } from "./quotas.ts";
import { MAX_CLUSTER_SIZE, newDiscoveryUrl } from "./discovery-directory.ts";
import type { BayOpsDeps, Caller } from "./deps.ts";

export async function acceptAndEnqueue(deps: BayOpsDeps, caller: Caller, req: BayRequest, baymodel: BayModel, requestId: string, publicBase: string, overrides?: ClusterOverrides): Promise<Bay> {
  // the network rules (load balancer for several masters, fixed_subnet with fixed_network, ...)
  // for every entry point alike: bays, clusters, chat-ops and batches
  checkBayNetwork(req.master_count, effectiveModel({ overrides }, baymodel));
  await checkClusterQuota(deps, caller.projectId);
  const bay = acceptBay(req, baymodel.uuid, { projectId: caller.projectId, userId: caller.userId }, {
    defaultTimeoutMinutes: deps.defaultTimeoutMinutes,
    deadlineGraceMinutes: deps.deadlineGraceMinutes,
    requestId,
    now: deps.now?.() ?? new Date(),
  });
  if (overrides && Object.keys(overrides).length) bay.overrides = overrides;
  if (!bay.discovery_url && deps.discovery) {
    // Magnum asks discovery.etcd.io for one; Bayforge serves the protocol itself
    if (bay.master_count > MAX_CLUSTER_SIZE)
      throw badRequest(`master_count ${bay.master_count} is above ${MAX_CLUSTER_SIZE}, the largest etcd cluster Bayforge's discovery serves; give a discovery_url of your own.`);
    bay.discovery_url = await newDiscoveryUrl({ discovery: deps.discovery, now: deps.now }, deps.publicUrl ?? publicBase, bay.master_count);
  }
  // Keystone mode: the worker makes the trust and the trustee with the caller's token
  const delegation = await delegationFor(deps, caller, bay.uuid);
  if (delegation) bay.delegation = delegation;
  // chat-ops: the worker acts with the mapping's application credential, in the mapped project
  else if (caller.chatopsMapping) bay.chatops_mapping = caller.chatopsMapping;
  await deps.table.createBay(bay);
  try {
    await deps.queue.send({ v: 1, kind: "bay.create", bayId: bay.uuid, projectId: bay.project_id, requestId, attempt: 0 });
  } catch (err) {
    // Not enqueued: take the bay back so nothing the user was not told about lingers.
    deps.log.error("enqueue failed; bay withdrawn", { requestId, bay: bay.uuid, err });
    await deps.table.deleteBay(bay.uuid, bay.version).catch(() => {});
    throw new ApiError(503, "Service Unavailable", "The bay could not be queued for creation; nothing was created. Try again.");
  }
  await deps.table
    .appendEvent({ bay_uuid: bay.uuid, at: bay.created_at, kind: "accepted", detail: `bay ${bay.name} accepted`, request_id: requestId })
    .catch((err) => deps.log.warn("event not recorded", { requestId, err }));
  deps.log.info("bay accepted", { requestId, bay: bay.uuid, name: bay.name, project: bay.project_id });
  return bay;
}
