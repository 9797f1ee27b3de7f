// bay.poll: reads the stack and moves the bay with it, as Magnum's HeatPoller does, then
// schedules the next poll until the stack is terminal or Bayforge's own deadline passes.
import type { WorkMessage } from "../../../shared/ports/work-queue.ts";
import { bayStatusFromStack, isInProgress } from "../../../shared/domain/status.ts";
import { bayOutputs } from "../../../shared/templates/kubernetes-definition.ts";
import type { WorkerDeps } from "../deps.ts";
import { pollDelay } from "../deps.ts";
import { failBay } from "./fail-bay.ts";
import { updateBay } from "../bay-store.ts";

export async function pollBay(msg: WorkMessage, deps: WorkerDeps): Promise<void> {
  const bay = await deps.table.getBay(msg.bayId);
  if (!bay || !isInProgress(bay.status) || !bay.stack_id) return;
  // One poll chain per bay: a duplicate delivery (or a second create delivery's first poll)
  // carries a seq the bay has already moved past, and ends here.
  const seq = msg.seq ?? 0;
  if (seq !== bay.poll_seq) return;
  const stack = await deps.heat.getStack(bay.stack_name, bay.stack_id);
  if (!stack) {
    await failBay(deps, bay, `Stack ${bay.stack_id} not found in Heat.`);
    return;
  }
  const status = bayStatusFromStack(stack.stack_status);
  const at = deps.now();
  if (!isInProgress(status)) {
    const baymodel = await deps.table.getBayModel(bay.baymodel_id);
    const outputs = status.endsWith("_COMPLETE") && baymodel ? bayOutputs(stack.outputs ?? [], baymodel) : {};
    const saved = await updateBay(deps.table, bay, (b) => (b.status === bay.status ? { status, status_reason: stack.stack_status_reason, ...outputs } : undefined), at);
    if (saved?.status === status) {
      deps.log.info("bay finished", { bay: bay.uuid, status, reason: stack.stack_status_reason });
      await deps.table.appendEvent({ bay_uuid: bay.uuid, at: at.toISOString(), kind: status.endsWith("_COMPLETE") ? "completed" : "failed", detail: `${status}: ${stack.stack_status_reason ?? ""}`.trim() });
    }
    return;
  }
  if (bay.deadline_at && at > new Date(bay.deadline_at)) {
    await failBay(deps, bay, `Bay creation timed out: Heat still reported ${stack.stack_status} after the ${bay.bay_create_timeout} minute timeout.`);
    return;
  }
  // Send the next poll before advancing poll_seq: a crash in between leaves this message to be
  // redelivered and send again (the extra copy loses at the seq check), never a lost chain.
  await deps.queue.send({ ...msg, attempt: 0, seq: seq + 1 }, { delaySeconds: pollDelay(deps, seq + 1) });
  await updateBay(deps.table, bay, (b) => (isInProgress(b.status) && b.poll_seq === seq ? { poll_seq: seq + 1, status_reason: stack.stack_status_reason } : undefined), at);
}
