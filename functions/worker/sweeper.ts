// Guarantees progress: an in-progress bay whose messages were lost (a crash between the
// table write and the enqueue, a queue purge) is found by age and its step re-sent. Steps
// are idempotent, so a bay that was merely slow only gets one extra, harmless message. A queue
// that can say which bays have a message (the embedded one) spares the bays that merely wait
// in a backlog (a large batch) that extra message and the Heat calls it makes.
import type { WorkerDeps } from "./deps.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { WorkKind } from "../../shared/ports/work-queue.ts";
import { updateBay } from "./bay-store.ts";

/** A bay not yet holding a stack gets its create re-sent after this long. */
export const CREATE_STALL_MS = 2 * 60_000;
/** Every poll writes the bay; this long without a write means its poll chain was lost. */
export const pollStallMs = (deps: WorkerDeps): number => Math.max(3 * Math.max(...deps.pollDelays) * 1000, 5 * 60_000);

export async function sweep(deps: WorkerDeps): Promise<number> {
  const now = deps.now().getTime();
  let resent = 0;
  let pending: Set<string> | undefined;
  for (const bay of await deps.table.listBaysInProgress()) {
    const idle = now - new Date(bay.updated_at ?? bay.created_at).getTime();
    const kind = stepFor(bay);
    if (idle < (kind === "bay.poll" ? pollStallMs(deps) : CREATE_STALL_MS)) continue;
    pending ??= (await deps.queue.pendingBays?.()) ?? new Set();
    if (pending.has(bay.uuid)) continue; // its message is still in the queue: not lost
    deps.log.warn("bay idle; re-sending its step", { bay: bay.uuid, kind, idleSeconds: Math.round(idle / 1000) });
    await deps.queue.send({ v: 1, kind, bayId: bay.uuid, projectId: bay.project_id, requestId: bay.request_id, attempt: 0, seq: bay.poll_seq });
    // Touch the bay so the next sweep gives the re-sent step time to run.
    await updateBay(deps.table, bay, () => ({}), deps.now());
    resent++;
  }
  return resent;
}

/** The step that moves an idle in-progress bay on (each is idempotent). */
function stepFor(bay: Bay): WorkKind {
  if (bay.status === "CREATE_IN_PROGRESS" && !bay.stack_id) return "bay.create";
  if (bay.status === "UPDATE_IN_PROGRESS" && !bay.update?.stack_update_sent_at) return "bay.update";
  if (bay.status === "DELETE_IN_PROGRESS") return "bay.delete";
  return "bay.poll";
}
