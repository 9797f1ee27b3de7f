// bay.delete: asks Heat to delete the bay's stack (found by id, or by its fixed name when a
// create was interrupted before recording it), then polls; a stack Heat no longer has means
// the delete is done. finishDelete removes what the bay owned and then the bay itself.
// A delivery that died after finishDelete released the bay's trust is delivered again: Heat is
// then read without the trust (shared/adapters/openstack/bay-clouds.ts), sees the stack gone,
// and the delete finishes as the first delivery would have.
import type { WorkMessage } from "../../../shared/ports/work-queue.ts";
import type { Bay } from "../../../shared/domain/model.ts";
import type { WorkerDeps } from "../deps.ts";
import { pollDelay } from "../deps.ts";
import { updateBay } from "../bay-store.ts";
import { notifyCompletion } from "./notify.ts";
import { ensureCredentials } from "./make-credentials.ts";
import { VersionConflict } from "../../../shared/ports/bay-table.ts";
import { OrchestratorError } from "../../../shared/ports/orchestrator.ts";
import { failBay } from "./fail-bay.ts";
import { releaseAfterOperation } from "./release-credentials.ts";

export async function deleteBayStack(msg: WorkMessage, deps: WorkerDeps): Promise<void> {
  let bay = await deps.table.getBay(msg.bayId);
  if (!bay || bay.status !== "DELETE_IN_PROGRESS") return;
  bay = await ensureCredentials(msg, deps, bay); // a bay whose create failed has no trust left
  if (!bay) return;
  let stack;
  try {
    stack = bay.stack_id ? await deps.heatFor(bay).getStack(bay.stack_name, bay.stack_id) : await deps.heatFor(bay).findStack(bay.stack_name);
  } catch (e) {
    if (!refusedForGood(e)) throw e;
    await failRefused(deps, bay, `${e.message.slice(0, 600)}. Delete the bay again to retry.`);
    return;
  }
  if (!stack || stack.stack_status === "DELETE_COMPLETE") {
    await finishDelete(deps, bay, msg.requestId);
    return;
  }
  if (stack.stack_status !== "DELETE_IN_PROGRESS") {
    try {
      await deps.heatFor(bay).deleteStack(stack.stack_name, stack.id);
    } catch (e) {
      if (!refusedForGood(e)) throw e;
      await failRefused(deps, bay, `${e.message.slice(0, 600)}. The stack ${stack.stack_name} is still there: delete the bay again to retry.`);
      return;
    }
    deps.log.info("stack delete sent", { bay: bay.uuid, stack: stack.stack_name, was: stack.stack_status });
  }
  if (!bay.stack_id) {
    bay = await updateBay(deps.table, bay, (b) => (b.stack_id ? undefined : { stack_id: stack.id }), deps.now());
    if (!bay) return;
  }
  await deps.table.appendEvent({ bay_uuid: bay.uuid, at: deps.now().toISOString(), kind: "stack_delete_requested", detail: `stack ${stack.stack_name} (${stack.id}) delete requested from Heat (was ${stack.stack_status})`, request_id: msg.requestId });
  await deps.queue.send(
    { v: 1, kind: "bay.poll", bayId: bay.uuid, projectId: bay.project_id, requestId: msg.requestId, attempt: 0, seq: bay.poll_seq },
    { delaySeconds: pollDelay(deps, 0) },
  );
}

/**
 * A 401 left after the session re-authenticated: the credential the bay acts through is refused
 * (its trust deleted or expired). No redelivery can do better; a new delete request carries the
 * user's token again, from which a new trust is made, so the bay fails now, saying so.
 */
const refusedForGood = (e: unknown): e is OrchestratorError => e instanceof OrchestratorError && e.status === 401;

/**
 * Fails the delete, and lets the refused trust go (removed from Keystone if it is still there):
 * a new delete request makes a new one only for a bay without one (shared/bays/operate.ts).
 */
async function failRefused(deps: WorkerDeps, bay: Bay, reason: string): Promise<void> {
  const failed = await failBay(deps, bay, reason);
  if (failed?.status === "DELETE_FAILED") await releaseAfterOperation(deps, failed, { trustee: false });
}

/**
 * The stack is gone: remove the bay's certificates, then the bay (conditional on the version
 * read, so a racing writer makes this delivery fail and be redelivered, never lose a change).
 * Safe to repeat: every removal tolerates what is already gone.
 */
export async function finishDelete(deps: WorkerDeps, bay: Bay, requestId?: string): Promise<void> {
  await deps.table.deleteCerts(bay.uuid);
  // the trusts and the trustee user go first: if Keystone fails, the delete is retried
  if (deps.releaseCredentials) {
    const left = await deps.releaseCredentials(bay, { trustee: true, rotated: true });
    if (left.length) throw new Error(`Keystone did not remove ${left.join(", ")}; the delete will be retried`);
  }
  // A step still running for the bay can write it after our read (a create that the delete
  // interrupted stores its bootstrap token): the bay goes all the same. Failing here instead
  // left it DELETE_IN_PROGRESS until the queue redelivered the delete, minutes later.
  for (let current: Bay | undefined = bay, tries = 1; ; tries++) {
    try {
      await deps.table.deleteBay(current.uuid, current.version);
      break;
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
      current = await deps.table.getBay(bay.uuid);
      if (!current) return; // another delivery finished it
      if (current.status !== "DELETE_IN_PROGRESS" || tries >= 5) throw e;
    }
  }
  await deps.table.appendEvent({ bay_uuid: bay.uuid, at: deps.now().toISOString(), kind: "deleted", detail: `bay ${bay.name} deleted; its stack and certificates are gone`, ...(requestId ? { request_id: requestId } : {}) });
  deps.log.info("bay deleted", { bay: bay.uuid, name: bay.name });
  await notifyCompletion(deps, { ...bay, status: "DELETE_COMPLETE" });
}
