// One queue message, one step. A cloud that fails in a way worth retrying (5xx, timeouts,
// dropped connections: shared/domain/retryable.ts, the rule the HTTP transport follows too)
// is retried by re-sending the message with a growing delay, and the bay shows why it waits;
// when the retries run out the bay fails with that reason.
// Anything else unexpected is thrown: the queue redelivers it, and after its last
// delivery the dead-letter path fails the bay (never left in progress forever).
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import type { WorkerDeps } from "./deps.ts";
import { createBay } from "./steps/create-bay.ts";
import { pollBay } from "./steps/poll-bay.ts";
import { updateBayStack } from "./steps/update-bay.ts";
import { deleteBayStack } from "./steps/delete-bay.ts";
import { checkHealth } from "./steps/check-health.ts";
import { failBay } from "./steps/fail-bay.ts";
import { applyBatch, deadLetterBatch } from "./steps/apply-batch.ts";
import { driveUpgrade } from "./steps/upgrade-rollout.ts";
import { driveCaRotation } from "./steps/rotate-ca.ts";
import { updateBay } from "./bay-store.ts";
import { isInProgress } from "../../shared/domain/status.ts";
import { isRetryableError } from "../../shared/domain/retryable.ts";
import { MappingGone } from "../../shared/ports/chatops-mappings.ts";

const STEPS: Partial<Record<WorkMessage["kind"], (m: WorkMessage, d: WorkerDeps) => Promise<void>>> = {
  "bay.create": createBay,
  "bay.poll": pollBay,
  "bay.update": updateBayStack,
  "bay.delete": deleteBayStack,
  "bay.health": checkHealth,
  "batch.apply": applyBatch,
  "bay.upgrade": driveUpgrade,
  "bay.rotate_ca": driveCaRotation,
};

export function parseMessage(raw: unknown): WorkMessage {
  const m = raw as Partial<WorkMessage>;
  if (!m || m.v !== 1 || typeof m.bayId !== "string" || typeof m.kind !== "string" || !STEPS[m.kind])
    throw new Error(`unrecognised work message: ${JSON.stringify(raw).slice(0, 200)}`);
  return { attempt: 0, ...m } as WorkMessage;
}

export async function handleMessage(msg: WorkMessage, deps: WorkerDeps): Promise<void> {
  const step = STEPS[msg.kind]!;
  const log = deps.log.child({ bay: msg.bayId, kind: msg.kind, requestId: msg.requestId, attempt: msg.attempt });
  try {
    await step(msg, deps);
  } catch (e) {
    // a health check is not retried nor dead-lettered: the next sweep sends another
    if (msg.kind === "bay.health") return log.warn("health check failed; the next sweep checks again", { err: e });
    if (e instanceof MappingGone) {
      // no redelivery can bring the credential back: the operation fails now, saying why
      const gone = await deps.table.getBay(msg.bayId);
      log.warn("chat-ops mapping gone; failing the operation", { mapping: e.key });
      if (gone && isInProgress(gone.status)) await failBay(deps, gone, e.message);
      return;
    }
    if (!isRetryableError(e)) throw e;
    const bay = await deps.table.getBay(msg.bayId);
    if (!bay || !isInProgress(bay.status)) return;
    const reason = (e as Error).message;
    const at = deps.now();
    // A poll only reads: the stack goes on in Heat whatever Bayforge manages to read, so the
    // poll of a create or update keeps trying (at the last retry delay) until the bay's own
    // deadline instead of failing a bay Heat may well complete. A delete has no deadline.
    const pollOn = msg.kind === "bay.poll" && !!bay.deadline_at && at < new Date(bay.deadline_at);
    const withinBudget = msg.attempt < deps.retryDelays.length;
    if (!withinBudget && !pollOn) {
      log.warn("cloud still failing; giving up", { err: e });
      await failBay(deps, bay, `The cloud kept failing after ${msg.attempt + 1} attempts: ${reason}`);
      return;
    }
    // past the budget, a poll waits the last retry delay, and never less than polls do
    const delay = withinBudget ? deps.retryDelays[msg.attempt] : Math.max(deps.retryDelays.at(-1) ?? 0, deps.pollDelays.at(-1) ?? 0, 1);
    log.warn("cloud failed; retrying", { err: e, delaySeconds: delay });
    const why = withinBudget
      ? `Retrying in ${delay}s (attempt ${msg.attempt + 1} of ${deps.retryDelays.length}): ${reason}`
      : `Retrying in ${delay}s until the bay's timeout at ${bay.deadline_at} (attempt ${msg.attempt + 1}): ${reason}`;
    await updateBay(deps.table, bay, (b) => (isInProgress(b.status) ? { status_reason: why } : undefined), at);
    await deps.table.appendEvent({ bay_uuid: bay.uuid, at: at.toISOString(), kind: "retry", detail: `${msg.kind} failed (${reason}); retry ${msg.attempt + 1} in ${delay}s` });
    await deps.queue.send({ ...msg, attempt: msg.attempt + 1 }, { delaySeconds: delay });
  }
}

/** The dead-letter path: a message that could not be processed fails its bay with a reason. */
export async function handleDeadLetter(raw: unknown, receiveCount: number, deps: WorkerDeps): Promise<void> {
  const m = raw as Partial<WorkMessage>;
  if (!m || typeof m.bayId !== "string") return;
  if (m.kind === "batch.apply") return deadLetterBatch(m.batchId ?? m.bayId, receiveCount, deps);
  if (m.kind === "bay.health") return; // a check moves no bay: nothing to fail
  const bay = await deps.table.getBay(m.bayId);
  if (!bay || !isInProgress(bay.status)) return;
  await failBay(deps, bay, `Bayforge could not process ${m.kind ?? "a step"} for this bay after ${receiveCount} deliveries (request ${m.requestId ?? "unknown"}); see the worker logs.`);
}
