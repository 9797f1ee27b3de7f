// Starting an operation on an existing bay (scale, delete): the bay moves to *_IN_PROGRESS with
// a conditional write, then its message is durably enqueued; if the enqueue fails the write is
// taken back, so a user is never told "accepted" about work nobody will do. The same for the
// mitaka bay API, the cluster API, chat-ops and batch manifests.
import type { Bay, BayUpdate } from "../domain/model.ts";
import { checkDeletable, planRotation, planScale, type ScaleRequest } from "../domain/bay-update.ts";
import { ApiError, conflict } from "../domain/errors.ts";
import { VersionConflict } from "../ports/bay-table.ts";
import type { WorkMessage } from "../ports/work-queue.ts";
import { delegationFor } from "./delegation.ts";
import type { BayOpsDeps, Caller } from "./deps.ts";
import { onlyHealthChanged } from "../domain/health.ts";

/** An update gets the bay's create timeout (or the default) plus the grace, like a create. */
export function deadlineMinutes(deps: Pick<BayOpsDeps, "deadlineGraceMinutes">, bay: { bay_create_timeout: number }): number {
  return bay.bay_create_timeout > 0 ? bay.bay_create_timeout + deps.deadlineGraceMinutes : 0;
}

/**
 * The bay's move into a day-2 operation its nodes' agents carry out (an upgrade, a CA
 * rotation): in progress with the bay's timeout (the worker moves the deadline on as nodes
 * finish), and the last scale's record kept inside the operation's own (`kept`), so that no
 * scale step takes this update for its own.
 */
export function nodeOperationPatch(deps: Pick<BayOpsDeps, "deadlineGraceMinutes">, bay: Bay, now: Date): Partial<Bay> & { kept: BayUpdate | null } {
  const minutes = deadlineMinutes(deps, bay);
  return {
    status: "UPDATE_IN_PROGRESS",
    status_reason: null,
    faults: [],
    deadline_at: minutes > 0 ? new Date(now.getTime() + minutes * 60_000).toISOString() : null,
    update: null,
    kept: bay.update ?? null,
  };
}

/** Scale (PATCH node_count, cluster resize): planned against the bay as read, then started. */
export async function scaleBay(deps: BayOpsDeps, caller: Caller, bay: Bay, want: ScaleRequest, requestId: string): Promise<{ bay: Bay; update: BayUpdate }> {
  const now = deps.now?.() ?? new Date();
  const update = planScale(bay, want, { now, requestId });
  const minutes = deadlineMinutes(deps, bay);
  const patch: Partial<Bay> = {
    status: "UPDATE_IN_PROGRESS",
    status_reason: null,
    node_count: update.node_count,
    update,
    faults: [],
    deadline_at: minutes > 0 ? new Date(now.getTime() + minutes * 60_000).toISOString() : null,
  };
  return { bay: await startOperation(deps, caller, bay, patch, "bay.update", requestId, "updated"), update };
}

/**
 * Credential rotation (API 1.12): an update that gives the stack a new trustee user and trust,
 * made by the worker with the caller's token; the old ones go once the stack has the new ones.
 */
export async function rotateCredentials(deps: BayOpsDeps, caller: Caller, bay: Bay, requestId: string): Promise<Bay> {
  // Magnum's answer when its driver cannot rotate; here: no Keystone, so no trustee exists
  if (!deps.identity) throw new ApiError(400, "Bad Request", "Credential rotation is not supported by driver: Bayforge runs without Keystone (noauth), so bays hold no trustee credential.");
  const now = deps.now?.() ?? new Date();
  const update = planRotation(bay, { now, requestId });
  const minutes = deadlineMinutes(deps, bay);
  const patch: Partial<Bay> = {
    status: "UPDATE_IN_PROGRESS",
    status_reason: null,
    update,
    faults: [],
    deadline_at: minutes > 0 ? new Date(now.getTime() + minutes * 60_000).toISOString() : null,
    // the new trust to the trustee is the caller's: made by the worker with the caller's token
    delegation: await delegationFor(deps, caller, bay.uuid),
  };
  return startOperation(deps, caller, bay, patch, "bay.update", requestId, "given new credentials");
}

/** Delete: refused (409) while another operation runs, as Magnum does. */
export function deleteBay(deps: BayOpsDeps, caller: Caller, bay: Bay, requestId: string): Promise<Bay> {
  checkDeletable(bay);
  return startOperation(deps, caller, bay, { status: "DELETE_IN_PROGRESS", status_reason: null, deadline_at: null }, "bay.delete", requestId, "deleted");
}

/**
 * Moves the bay into its operation (a conditional write), then enqueues its step; the write is
 * taken back if the enqueue fails. `event` is the accepted event's kind and detail, when the
 * operation's own (describe() knows scale, rotation, node groups and delete).
 */
export async function startOperation(deps: BayOpsDeps, caller: Caller, bay: Bay, patch: Partial<Bay>, kind: WorkMessage["kind"], requestId: string, what: string, event?: { kind: string; detail: string }): Promise<Bay> {
  const now = deps.now?.() ?? new Date();
  // A living stack keeps its trust (Heat acts through one derived from it); a bay whose create
  // failed lost it, and this operation's first step makes a new one with the caller's token.
  const delegation = bay.trust_id || patch.delegation ? undefined : await delegationFor(deps, caller, bay.uuid);
  if (delegation) patch = { ...patch, delegation };
  else if (!bay.trust_id && caller.chatopsMapping) patch = { ...patch, chatops_mapping: caller.chatopsMapping };
  let saved: Bay | undefined;
  let base = bay;
  for (let tries = 0; !saved; tries++) {
    try {
      // A new operation starts a new poll chain: messages of the old one carry a stale seq.
      saved = await deps.table.updateBay({ ...base, ...patch, poll_seq: base.poll_seq + 1, version: base.version + 1, updated_at: now.toISOString() }, base.version);
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
      // a health check's write in between changes nothing the operation was planned on
      const fresh = tries < 3 ? await deps.table.getBay(bay.uuid) : undefined;
      if (!fresh || !onlyHealthChanged(base, fresh)) throw conflict(`Bay ${bay.uuid} changed while it was being ${what}; read it again and retry.`);
      base = fresh;
    }
  }
  try {
    // the operation's poll chain: a step that reads seq (the poll, an upgrade's look) knows its own
    await deps.queue.send({ v: 1, kind, bayId: bay.uuid, projectId: bay.project_id, requestId, attempt: 0, seq: saved.poll_seq });
  } catch (err) {
    deps.log.error("enqueue failed; operation withdrawn", { requestId, bay: bay.uuid, kind, err });
    await deps.table.updateBay({ ...base, version: saved.version + 1, updated_at: now.toISOString() }, saved.version).catch(() => {});
    throw new ApiError(503, "Service Unavailable", `The bay could not be queued to be ${what}; nothing was changed. Try again.`);
  }
  await deps.table
    .appendEvent({ bay_uuid: bay.uuid, at: now.toISOString(), kind: event?.kind ?? `${kind.split(".")[1]}_accepted`, detail: event?.detail ?? describe(kind, bay, patch), request_id: requestId })
    .catch((err) => deps.log.warn("event not recorded", { requestId, err }));
  deps.log.info(`bay ${what}`, { requestId, bay: bay.uuid, kind });
  return saved;
}

function describe(kind: WorkMessage["kind"], bay: Bay, patch: Partial<Bay>): string {
  if (kind === "bay.delete") return `delete of bay ${bay.name} accepted (was ${bay.status})`;
  const u = patch.update!;
  if (u.rotate_credentials) return `credential rotation of bay ${bay.name} accepted: a new trustee user and trust for its stack`;
  if (u.nodegroup) {
    const g = patch.nodegroups?.find((n) => n.uuid === u.nodegroup!.uuid);
    const what = u.nodegroup.action === "resize" ? `resize from ${u.nodegroup.previous_node_count} to ${g?.node_count} nodes` : u.nodegroup.action;
    return `node group ${g?.name} ${what} accepted${u.nodegroup.action === "create" ? ` (${g?.node_count} nodes of flavor ${g?.flavor_id}, image ${g?.image_id})` : ""}`;
  }
  const removing = u.nodes_to_remove.length ? `, removing ${u.nodes_to_remove.join(", ")}` : "";
  return `scale of bay ${bay.name} from ${u.previous_node_count} to ${u.node_count} nodes accepted${removing}`;
}
