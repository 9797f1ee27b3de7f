// Guarantees progress: an in-progress bay whose messages were lost (a crash between the
// table write and the enqueue, a queue purge) is found by age and its step re-sent. Steps
// are idempotent, so a bay that was merely slow only gets one extra, harmless message. A queue
// that can say which bays have a message (the embedded one) spares the bays that merely wait
// in a backlog (a large batch) that extra message and the Heat calls it makes.
// It is also the periodic health check's clock: each sweep sends a bay.health message for the
// finished bays whose check is due (Magnum's health_polling_interval), a bounded number a sweep.
import type { WorkerDeps } from "./deps.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { WorkKind } from "../../shared/ports/work-queue.ts";
import { healthDue } from "../../shared/domain/health.ts";
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
    if (idle < (kind === "bay.poll" || kind === "bay.upgrade" || kind === "bay.rotate_ca" ? pollStallMs(deps) : CREATE_STALL_MS)) continue;
    pending ??= (await deps.queue.pendingBays?.()) ?? new Set();
    if (pending.has(bay.uuid)) continue; // its message is still in the queue: not lost
    deps.log.warn("bay idle; re-sending its step", { bay: bay.uuid, kind, idleSeconds: Math.round(idle / 1000) });
    await deps.queue.send({ v: 1, kind, bayId: bay.uuid, projectId: bay.project_id, requestId: bay.request_id, attempt: 0, seq: bay.poll_seq });
    // Touch the bay so the next sweep gives the re-sent step time to run.
    await updateBay(deps.table, bay, () => ({}), deps.now());
    resent++;
  }
  await enqueueHealthChecks(deps, async () => (pending ??= (await deps.queue.pendingBays?.()) ?? new Set()));
  return resent;
}

/**
 * Sends bay.health for the finished bays whose check is due, the longest unchecked first, at
 * most `perSweep` (the rest are due again next sweep); not for a bay whose message is still in
 * the queue. Returns how many were sent. A failure here never stops the sweep's own work.
 */
export async function enqueueHealthChecks(deps: WorkerDeps, pendingBays: () => Promise<Set<string>> = async () => (await deps.queue.pendingBays?.()) ?? new Set()): Promise<number> {
  const h = deps.health;
  if (!h || h.intervalSeconds <= 0) return 0;
  const now = deps.now();
  try {
    const due = (await deps.table.listBays({})).filter((b) => healthDue(b, now, h.intervalSeconds * 1000));
    if (!due.length) return 0;
    const pending = await pendingBays();
    const chosen = due
      .filter((b) => !pending.has(b.uuid))
      .sort((a, b) => (a.health_checked_at ?? "").localeCompare(b.health_checked_at ?? ""))
      .slice(0, h.perSweep);
    const requestId = `req-health-${now.getTime()}`;
    for (const bay of chosen) await deps.queue.send({ v: 1, kind: "bay.health", bayId: bay.uuid, projectId: bay.project_id, requestId, attempt: 0 });
    return chosen.length;
  } catch (err) {
    deps.log.warn("health checks not enqueued this sweep", { err });
    return 0;
  }
}

/** The step that moves an idle in-progress bay on (each is idempotent). */
function stepFor(bay: Bay): WorkKind {
  if (bay.status === "CREATE_IN_PROGRESS" && !bay.stack_id) return "bay.create";
  // an upgrade's rollout and a CA rotation are their own steps (they have no stack update to send)
  if (bay.status === "UPDATE_IN_PROGRESS" && bay.upgrade && !bay.upgrade.finished_at) return "bay.upgrade";
  if (bay.status === "UPDATE_IN_PROGRESS" && bay.ca_rotation && !bay.ca_rotation.finished_at) return "bay.rotate_ca";
  if (bay.status === "UPDATE_IN_PROGRESS" && !bay.update?.stack_update_sent_at) return "bay.update";
  if (bay.status === "DELETE_IN_PROGRESS") return "bay.delete";
  return "bay.poll";
}
