// bay.poll: reads the stack and moves the bay with it, as Magnum's HeatPoller does, for
// whichever operation the bay is in (create, update, delete), then schedules the next poll
// until the stack is terminal for that operation or Bayforge's own deadline passes.
import type { WorkMessage } from "../../../shared/ports/work-queue.ts";
import type { Orchestrator, Stack } from "../../../shared/ports/orchestrator.ts";
import type { Bay, BayFault, NodeGroupRecord, TrusteeRecord } from "../../../shared/domain/model.ts";
import { nodeGroupOutputs } from "../../../shared/templates/nodegroups.ts";
import { nodeGroupEndStatus } from "../../../shared/domain/nodegroup.ts";
import { bayStatusFromStack, isInProgress, type BayStatus } from "../../../shared/domain/status.ts";
import { bayOutputs, defaultKubeTag, stackOutput } from "../../../shared/templates/kubernetes-definition.ts";
import { coeVersionField, intendedCoeVersion } from "../../../shared/domain/coe-version.ts";
import { effectiveModel } from "../../../shared/domain/cluster.ts";
import type { WorkerDeps } from "../deps.ts";
import { createElapsed, createKey, pollDelay } from "../deps.ts";
import { failBay } from "./fail-bay.ts";
import { finishDelete } from "./delete-bay.ts";
import { updateBay } from "../bay-store.ts";
import { releaseAfterOperation } from "./release-credentials.ts";
import { notifyCompletion } from "./notify.ts";

/** Stack actions that answer each bay operation (an update that Heat rolled back failed). */
const ACTIONS: Record<string, readonly string[]> = {
  CREATE_IN_PROGRESS: ["CREATE"],
  UPDATE_IN_PROGRESS: ["UPDATE", "ROLLBACK"],
  DELETE_IN_PROGRESS: ["DELETE"],
};

/**
 * Heat (convergence) answers a delete of a stack whose delete is already running, as a delete
 * request retried after a lost answer is, by marking the running one DELETE_FAILED "Stack DELETE
 * cancelled" and then starting a new one once it has stopped the old one's workers, which can
 * take seconds. So that status is not the end of a delete: poll again; still so a poll later,
 * send the delete again (a few times), and only then report the failure.
 */
const isCancelledDelete = (stack: Stack): boolean => stack.stack_status === "DELETE_FAILED" && stack.stack_status_reason === "Stack DELETE cancelled";
const CANCELLED_DELETE_RESENDS = 3;

/** Looks one delivery may take in-process near a create's expected end (PollSchedule.watchStep). */
const MAX_WATCH_LOOKS = 8;

export async function pollBay(msg: WorkMessage, deps: WorkerDeps): Promise<void> {
  const watch: Watch = { looks: 0, holding: false };
  try {
    let next: WorkMessage | undefined = msg;
    while (next) next = await lookOnce(next, deps, watch);
  } finally {
    if (watch.holding) deps.pollSchedule?.endWatch();
  }
}

/** This delivery's in-process watch: looks taken, and whether it holds one of the schedule's watcher places. */
interface Watch {
  looks: number;
  holding: boolean;
}

/** One look at the stack; the message to look again with now (watching in-process), else undefined. */
async function lookOnce(msg: WorkMessage, deps: WorkerDeps, watch: Watch): Promise<WorkMessage | undefined> {
  const lookStarted = performance.now();
  const bay = await deps.table.getBay(msg.bayId);
  if (!bay || !isInProgress(bay.status) || !bay.stack_id) return;
  // One poll chain per bay: a duplicate delivery (or a second create delivery's first poll)
  // carries a seq the bay has already moved past, and ends here.
  const seq = msg.seq ?? 0;
  if (seq !== bay.poll_seq) return;
  const heat = deps.heatFor(bay);
  // the status alone: outputs are read once, when the stack is done (settle)
  const stack = await heat.getStack(bay.stack_name, bay.stack_id, { outputs: false });
  if (!stack || (bay.status === "DELETE_IN_PROGRESS" && stack.stack_status === "DELETE_COMPLETE")) {
    if (bay.status === "DELETE_IN_PROGRESS") await finishDelete(deps, bay, msg.requestId);
    else await failBay(deps, bay, `Stack ${bay.stack_id} not found in Heat.`);
    return;
  }
  const [action] = stack.stack_status.split("_");
  const at = deps.now();
  // polls in a row that saw the delete cancelled; while within the resends, not the end
  const cancelled = bay.status === "DELETE_IN_PROGRESS" && isCancelledDelete(stack) ? (msg.cancelled ?? 0) + 1 : 0;
  const waitingOut = cancelled > 0 && cancelled <= CANCELLED_DELETE_RESENDS + 1;
  if (waitingOut && cancelled > 1) {
    // still cancelled a poll later: the delete that cancelled it never started; ask again
    await heat.deleteStack(stack.stack_name, stack.id);
    deps.log.warn("stack delete sent again", { bay: bay.uuid, stack: stack.stack_name, was: stack.stack_status, reason: stack.stack_status_reason });
  }
  const finished = !waitingOut && !stack.stack_status.endsWith("_IN_PROGRESS") && ACTIONS[bay.status]?.includes(action);
  if (finished) {
    // the schedule learns from creates that ended well (a failure's timing says nothing)
    if (bay.status === "CREATE_IN_PROGRESS" && stack.stack_status === "CREATE_COMPLETE") deps.pollSchedule?.learn(createKey(bay), createElapsed(deps, bay), msg.lookedAt);
    await settle(deps, bay, stack, at, heat);
    return;
  }
  if (bay.deadline_at && at > new Date(bay.deadline_at)) {
    const op = bay.status.split("_")[0].toLowerCase();
    await failBay(deps, bay, `Bay ${op} timed out: Heat still reported ${stack.stack_status} after the ${bay.bay_create_timeout} minute timeout.`);
    return;
  }
  const lookedAt = bay.status === "CREATE_IN_PROGRESS" ? { lookedAt: createElapsed(deps, bay) } : {};
  // near a create's expected end: the next look from here, a second after this one began (the
  // same seq: this delivery still holds the chain, and sends nothing while it watches)
  const step = lookedAt.lookedAt !== undefined && watch.looks + 1 < MAX_WATCH_LOOKS ? deps.pollSchedule?.watchStep(createKey(bay), lookedAt.lookedAt) : undefined;
  // a few deliveries at a time watch (each holds a worker slot while it waits); the rest queue
  if (step !== undefined && (watch.holding || (watch.holding = deps.pollSchedule!.startWatch()))) {
    watch.looks++;
    await new Promise((r) => setTimeout(r, Math.max(0, step * 1000 - (performance.now() - lookStarted))));
    return { ...msg, ...lookedAt };
  }
  // Send the next poll before advancing poll_seq: a crash in between leaves this message to be
  // redelivered and send again (the extra copy loses at the seq check), never a lost chain.
  await deps.queue.send({ ...msg, attempt: 0, seq: seq + 1, ...lookedAt, cancelled: cancelled || undefined }, { delaySeconds: pollDelay(deps, seq + 1, bay) });
  const reason = ACTIONS[bay.status]?.includes(action) ? stack.stack_status_reason : bay.status_reason;
  await updateBay(deps.table, bay, (b) => (b.status === bay.status && b.poll_seq === seq ? { poll_seq: seq + 1, status_reason: reason } : undefined), at);
}

/** The stack reached a terminal status for the bay's operation: copy it, with outputs or faults. */
async function settle(deps: WorkerDeps, bay: Bay, stack: Stack, at: Date, heat: Orchestrator): Promise<void> {
  let status: BayStatus = bayStatusFromStack(stack.stack_status);
  // the update was undone: as Magnum shows it when the user asked for that (?rollback=True),
  // else (Heat rolled back on a setting of its own) a failed update
  if (stack.stack_status === "ROLLBACK_COMPLETE" && !bay.update?.rollback) status = "UPDATE_FAILED";
  // the chat-ops response_url is used once: a later operation must not post to it
  const patch: Partial<Bay> = { status, status_reason: stack.stack_status_reason, notify: null };
  if (status.endsWith("_COMPLETE")) {
    // the outputs (addresses, minions) now that there are some; the polls read the status alone
    if (bay.status !== "DELETE_IN_PROGRESS") stack = (await heat.getStack(stack.stack_name, stack.id)) ?? stack;
    const baymodel = await deps.table.getBayModel(bay.baymodel_id);
    // the addresses as the bay's own choices (a cluster's floating_ip_enabled) read them
    if (baymodel) Object.assign(patch, bayOutputs(stack.outputs ?? [], effectiveModel(bay, baymodel)));
    // the release its nodes installed, shown at once (the health check confirms it from the API)
    if (bay.status === "CREATE_IN_PROGRESS") Object.assign(patch, coeVersionField(intendedCoeVersion(bay, baymodel, defaultKubeTag(deps.template()))));
    else patch.minions = stackOutput(stack.outputs ?? [], "minions") ?? {};
    patch.faults = [];
  } else {
    patch.faults = await faultsOf(deps, stack, heat);
  }
  // Magnum's poller keeps node_count in step with what the stack really has.
  const minions = Number(stack.parameters.number_of_minions);
  if (bay.status === "UPDATE_IN_PROGRESS" && Number.isInteger(minions) && minions > 0) patch.node_count = minions;
  const rotation = bay.status === "UPDATE_IN_PROGRESS" ? settleRotation(bay, stack) : undefined;
  if (rotation) Object.assign(patch, rotation.patch);
  if (bay.status === "UPDATE_IN_PROGRESS" && bay.update?.nodegroup) patch.nodegroups = settleNodeGroup(bay, stack, status, at);
  // Only the delivery whose write moved the bay reports it: a duplicate poll that read the
  // same stack concurrently must not log, record or notify the completion a second time.
  let moved = false;
  const saved = await updateBay(deps.table, bay, (b) => ((moved = b.status === bay.status) ? patch : undefined), at);
  if (moved && saved?.status === status) {
    deps.log.info("bay finished", { bay: bay.uuid, status, reason: stack.stack_status_reason });
    const faults = patch.faults?.length ? `; failed: ${patch.faults.map((f) => `${f.resource} (${f.reason ?? f.type})`).join("; ")}` : "";
    await deps.table.appendEvent({ bay_uuid: bay.uuid, at: at.toISOString(), kind: status.endsWith("_COMPLETE") && status !== "ROLLBACK_COMPLETE" ? "completed" : "failed", detail: `${status}: ${stack.stack_status_reason ?? ""}${faults}`.trim() });
    await notifyCompletion(deps, { ...saved, notify: bay.notify });
    if (status === "CREATE_FAILED") await releaseAfterOperation(deps, saved, { trustee: true });
    if (rotation) await retireTrustee(deps, saved, rotation.retired, at);
  }
}

/** A node group operation's end: the group's own status, its addresses, or (deleted) the group gone. */
function settleNodeGroup(bay: Bay, stack: Stack, status: BayStatus, at: Date): NodeGroupRecord[] {
  const op = bay.update!.nodegroup!;
  const ok = status === "UPDATE_COMPLETE";
  const groups = bay.nodegroups ?? [];
  if (ok && op.action === "delete") return groups.filter((g) => g.uuid !== op.uuid);
  return groups.map((g) => {
    if (g.uuid !== op.uuid) return g;
    // what the stack has (a failed resize may have stopped part way)
    const count = Number(stack.parameters[`${g.key}_count`]);
    return {
      ...g,
      status: nodeGroupEndStatus(op.action, ok),
      status_reason: stack.stack_status_reason,
      updated_at: at.toISOString(),
      ...(Number.isInteger(count) && count >= 0 ? { node_count: count } : {}),
      ...(nodeGroupOutputs(stack.outputs ?? [], g) ?? {}),
    };
  });
}

/**
 * A credential rotation's end: the trustee the stack now has (its parameters say which; a
 * failed update may or may not have stored them) becomes the bay's, and the other is retired.
 */
function settleRotation(bay: Bay, stack: Stack): { patch: Partial<Bay>; retired: TrusteeRecord } | undefined {
  const u = bay.update;
  if (!u?.rotate_credentials || !u.trustee) return undefined;
  const adopted = stack.parameters.trustee_user_id === u.trustee.user_id;
  const retired = adopted ? bay.trustee : u.trustee;
  if (!retired) return undefined;
  return { patch: { ...(adopted ? { trustee: u.trustee } : {}), update: { ...u, trustee: null } }, retired };
}

/** Removes a retired trustee from Keystone; one Keystone keeps stays on the update, removed with the bay. */
async function retireTrustee(deps: WorkerDeps, bay: Bay, retired: TrusteeRecord, at: Date): Promise<void> {
  const left = (await deps.releaseCredentials?.({ ...bay, trust_id: null, trustee: retired }, { trustee: true })) ?? [];
  const detail = left.length
    ? `trustee user ${retired.username} could not be removed from Keystone yet (${left.join(", ")}); it is removed with the bay`
    : `trustee user ${retired.username} and its trust removed from Keystone`;
  if (left.length) await updateBay(deps.table, bay, (b) => (b.update ? { update: { ...b.update, trustees_left: [...(b.update.trustees_left ?? []), retired] } } : undefined), deps.now()).catch((err) => deps.log.warn("retired trustee not recorded", { bay: bay.uuid, err }));
  await deps.table.appendEvent({ bay_uuid: bay.uuid, at: at.toISOString(), kind: "credentials", detail }).catch((err) => deps.log.warn("event not recorded", { err }));
}

/**
 * The resources Heat failed, nested ones included, deepest first (the root cause is usually
 * the innermost). Best effort: a failure to read them never hides the stack's own reason.
 */
async function faultsOf(deps: WorkerDeps, stack: Stack, heat: Orchestrator): Promise<BayFault[]> {
  try {
    const resources = await heat.listResources(stack.stack_name, stack.id, { nestedDepth: 5 });
    return resources
      .filter((r) => r.resource_status.endsWith("_FAILED"))
      .map((r) => ({
        resource: r.parent_resource && r.stack_name ? `${r.stack_name}/${r.resource_name}` : r.resource_name,
        type: r.resource_type,
        reason: r.resource_status_reason,
        time: r.updated_time ?? null,
      }))
      .sort((a, b) => b.resource.split("/").length - a.resource.split("/").length || a.resource.localeCompare(b.resource))
      .slice(0, 20);
  } catch (e) {
    deps.log.warn("failed resources not readable", { stack: stack.stack_name, err: e });
    return [];
  }
}
