// Starting an operation on an existing bay (scale, delete): the bay moves to *_IN_PROGRESS with
// a conditional write, then its message is durably enqueued; if the enqueue fails the write is
// taken back, so a user is never told "accepted" about work nobody will do. Shared by the
// mitaka bay API and the modern cluster API.
import type { Bay, BayModel, BayUpdate, ClusterOverrides } from "../../shared/domain/model.ts";
import { acceptBay, type BayRequest } from "../../shared/domain/bay.ts";
import { checkBayNetwork } from "../../shared/domain/bay-network.ts";
import { effectiveModel } from "../../shared/domain/cluster.ts";
import type { Caller } from "./env.ts";
import { makeCredentials, releaseCredentials, type BayCredentials } from "../../shared/bay-credentials.ts";
import { IdentityError } from "../../shared/adapters/openstack/identity/results.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import { VersionConflict } from "../../shared/ports/bay-table.ts";
import { ApiError, badRequest, conflict } from "../../shared/domain/errors.ts";
import { MAX_CLUSTER_SIZE, newDiscoveryUrl } from "./routes/discovery.ts";
import type { ApiDeps } from "./env.ts";

/** A new bay: stored CREATE_IN_PROGRESS, its create message durably enqueued, then answered. */
export async function acceptAndEnqueue(deps: ApiDeps, caller: Caller, req: BayRequest, baymodel: BayModel, requestId: string, publicBase: string, overrides?: ClusterOverrides): Promise<Bay> {
  // the network rules (load balancer for several masters, fixed_subnet with fixed_network, ...)
  // for every entry point alike: bays, clusters, chat-ops and batches
  checkBayNetwork(req.master_count, effectiveModel({ overrides }, baymodel));
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
    bay.discovery_url = await newDiscoveryUrl({ discovery: deps.discovery }, deps.publicUrl ?? publicBase, bay.master_count);
  }
  const creds = await credentialsFor(deps, caller, bay.uuid, { trustee: true });
  if (creds) Object.assign(bay, creds);
  try {
    await deps.table.createBay(bay);
  } catch (e) {
    await releaseCredentials(deps.identity, creds ?? {}, deps.log);
    throw e;
  }
  try {
    await deps.queue.send({ v: 1, kind: "bay.create", bayId: bay.uuid, projectId: bay.project_id, requestId, attempt: 0 });
  } catch (err) {
    // Not enqueued: take the bay back so nothing the user was not told about lingers.
    deps.log.error("enqueue failed; bay withdrawn", { requestId, bay: bay.uuid, err });
    await deps.table.deleteBay(bay.uuid, bay.version).catch(() => {});
    await releaseCredentials(deps.identity, creds ?? {}, deps.log);
    throw new ApiError(503, "Service Unavailable", "The bay could not be queued for creation; nothing was created. Try again.");
  }
  await deps.table
    .appendEvent({ bay_uuid: bay.uuid, at: bay.created_at, kind: "accepted", detail: `bay ${bay.name} accepted`, request_id: requestId })
    .catch((err) => deps.log.warn("event not recorded", { requestId, err }));
  deps.log.info("bay accepted", { requestId, bay: bay.uuid, name: bay.name, project: bay.project_id });
  return bay;
}

/**
 * Keystone mode: the caller's trust to Bayforge (and, for a new bay, the nodes' trustee),
 * made with the caller's own token. Keystone's refusal is the caller's answer (403 with its
 * reason); Keystone unreachable is 503. undefined in noauth mode.
 */
async function credentialsFor(deps: ApiDeps, caller: Caller, bayUuid: string, o: { trustee: boolean }): Promise<BayCredentials | undefined> {
  if (!deps.identity) return undefined;
  if (!caller.token || !caller.roles?.length) throw new ApiError(401, "Unauthorized", "A Keystone token with roles on the project is needed to act on bays.");
  try {
    return await makeCredentials(deps.identity, deps.vault, caller.token, { userId: caller.userId, projectId: caller.projectId, roles: caller.roles }, bayUuid, o);
  } catch (e) {
    if (e instanceof IdentityError && e.status !== undefined && e.status < 500)
      throw new ApiError(403, "Forbidden", `Keystone would not let Bayforge act for you on project ${caller.projectId}: ${e.message}`);
    deps.log.error("keystone delegation failed", { bay: bayUuid, err: e });
    throw new ApiError(503, "Service Unavailable", "Keystone could not be reached to delegate the work to Bayforge; nothing was changed. Try again.");
  }
}

async function start(deps: ApiDeps, caller: Caller, bay: Bay, patch: Partial<Bay>, kind: WorkMessage["kind"], requestId: string, what: string): Promise<Bay> {
  const now = deps.now?.() ?? new Date();
  // The trust of an earlier operation is gone when it ended: this one gets its own.
  const creds = bay.trust_id ? undefined : await credentialsFor(deps, caller, bay.uuid, { trustee: false });
  if (creds) patch = { ...patch, trust_id: creds.trust_id };
  // A new operation starts a new poll chain: messages of the old one carry a stale seq.
  const next: Bay = { ...bay, ...patch, poll_seq: bay.poll_seq + 1, version: bay.version + 1, updated_at: now.toISOString() };
  let saved: Bay;
  try {
    saved = await deps.table.updateBay(next, bay.version);
  } catch (e) {
    await releaseCredentials(deps.identity, creds ?? {}, deps.log);
    if (e instanceof VersionConflict) throw conflict(`Bay ${bay.uuid} changed while it was being ${what}; read it again and retry.`);
    throw e;
  }
  try {
    await deps.queue.send({ v: 1, kind, bayId: bay.uuid, projectId: bay.project_id, requestId, attempt: 0 });
  } catch (err) {
    deps.log.error("enqueue failed; operation withdrawn", { requestId, bay: bay.uuid, kind, err });
    await deps.table.updateBay({ ...bay, version: saved.version + 1, updated_at: now.toISOString() }, saved.version).catch(() => {});
    await releaseCredentials(deps.identity, creds ?? {}, deps.log);
    throw new ApiError(503, "Service Unavailable", `The bay could not be queued to be ${what}; nothing was changed. Try again.`);
  }
  await deps.table
    .appendEvent({ bay_uuid: bay.uuid, at: now.toISOString(), kind: `${kind.split(".")[1]}_accepted`, detail: describe(kind, bay, patch), request_id: requestId })
    .catch((err) => deps.log.warn("event not recorded", { requestId, err }));
  deps.log.info(`bay ${what}`, { requestId, bay: bay.uuid, kind });
  return saved;
}

function describe(kind: WorkMessage["kind"], bay: Bay, patch: Partial<Bay>): string {
  if (kind === "bay.delete") return `delete of bay ${bay.name} accepted (was ${bay.status})`;
  const u = patch.update!;
  const removing = u.nodes_to_remove.length ? `, removing ${u.nodes_to_remove.join(", ")}` : "";
  return `scale of bay ${bay.name} from ${u.previous_node_count} to ${u.node_count} nodes accepted${removing}`;
}

export function startScale(deps: ApiDeps, caller: Caller, bay: Bay, update: BayUpdate, requestId: string, deadlineMinutes: number): Promise<Bay> {
  const now = deps.now?.() ?? new Date();
  return start(
    deps,
    caller,
    bay,
    {
      status: "UPDATE_IN_PROGRESS",
      status_reason: null,
      node_count: update.node_count,
      update,
      faults: [],
      deadline_at: deadlineMinutes > 0 ? new Date(now.getTime() + deadlineMinutes * 60_000).toISOString() : null,
    },
    "bay.update",
    requestId,
    "updated",
  );
}

export function startDelete(deps: ApiDeps, caller: Caller, bay: Bay, requestId: string): Promise<Bay> {
  return start(deps, caller, bay, { status: "DELETE_IN_PROGRESS", status_reason: null, deadline_at: null }, "bay.delete", requestId, "deleted");
}
