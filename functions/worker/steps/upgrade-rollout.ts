// bay.upgrade: drives a cluster upgrade's rollout (shared/domain/rollout.ts) one look at a
// time, re-queued like the poll. Each look advances the plan as far as it goes without waiting
// (the next master, the next batch of workers), cordons and drains a batch's workers through
// the bay's API (the scale-down drain, drain-nodes.ts), writes the plan, and looks again later;
// the nodes' agents pick up their commands and report (functions/api/routes/agent.ts), and a
// report that moves a node wakes this step at once. At-least-once: a look carries the bay's
// poll_seq, so of duplicate deliveries one goes on; a worker killed mid-look leaves the plan as
// last written, and the redelivered look does the same again (a drain twice is harmless).
import type { WorkMessage } from "../../../shared/ports/work-queue.ts";
import type { Bay } from "../../../shared/domain/model.ts";
import { advance, drained, type UpgradeRecord } from "../../../shared/domain/rollout.ts";
import type { WorkerDeps } from "../deps.ts";
import { recordEvent, updateBay } from "../bay-store.ts";
import { drainLeavingMinions } from "./drain-nodes.ts";
import { failBay } from "./fail-bay.ts";

/** Seconds between looks while nodes work (a report wakes the rollout sooner). */
export function lookDelay(deps: WorkerDeps): number {
  return Math.max(deps.pollDelays.at(-1) ?? 10, 1);
}

export async function driveUpgrade(msg: WorkMessage, deps: WorkerDeps): Promise<void> {
  const bay = await deps.table.getBay(msg.bayId);
  if (!bay || bay.status !== "UPDATE_IN_PROGRESS" || !bay.upgrade || bay.upgrade.finished_at) return;
  if (msg.seq !== undefined && msg.seq !== bay.poll_seq) return; // a duplicate: another look carries the rollout
  const log = deps.log.child({ bay: bay.uuid, upgrade: bay.upgrade.to_version });
  const at = deps.now();

  const step = advance(bay.upgrade);
  let record: UpgradeRecord = step.record;
  if (step.outcome === "failed") return finish(deps, bay, record, step.reason!, msg);
  if (step.outcome === "complete") return finish(deps, bay, record, null, msg);

  if (step.drain.length) {
    // the batch's "cordon and drain" first, so the drain's own event follows it
    for (const e of step.events) await recordEvent(deps, bay, "node_step", e.detail, msg.requestId);
    step.events = [];
    await drainForUpgrade(bay, record, step.drain, deps);
    record = drained(record, step.drain);
  }
  if (bay.deadline_at && at > new Date(bay.deadline_at)) {
    const waiting = record.nodes.filter((n) => n.step === "upgrading" || n.step === "uncordoning").map((n) => `${n.name} (${n.step}, last report ${n.reported_at ?? "never"})`);
    return finish(deps, bay, record, `Upgrade to ${record.to_version} timed out waiting for node(s) ${waiting.join(", ") || "(none)"}: their agents did not report the step done within the cluster's timeout. Nodes not yet upgraded were left as they were.`, msg);
  }
  const changed = JSON.stringify(record) !== JSON.stringify(bay.upgrade);
  const minutes = bay.bay_create_timeout > 0 ? bay.bay_create_timeout + 5 : 0;
  // the next look first (its seq is the one written below): a crash between the two leaves
  // this delivery's own message to come back and do the look again
  const seq = bay.poll_seq + 1;
  await deps.queue.send({ v: 1, kind: "bay.upgrade", bayId: bay.uuid, projectId: bay.project_id, requestId: msg.requestId, attempt: 0, seq }, { delaySeconds: lookDelay(deps) });
  const saved = await updateBay(
    deps.table,
    bay,
    (b) => {
      if (b.status !== "UPDATE_IN_PROGRESS" || b.poll_seq !== bay.poll_seq) return undefined;
      // reports that came in meanwhile are kept: only this look's moves are applied to them
      const merged = changed ? mergeMoves(b.upgrade!, bay.upgrade!, record) : b.upgrade!;
      return { upgrade: merged, poll_seq: seq, ...(changed && minutes ? { deadline_at: new Date(at.getTime() + minutes * 60_000).toISOString() } : {}) };
    },
    at,
  );
  if (!saved || saved.poll_seq !== seq) return;
  for (const e of step.events) await recordEvent(deps, bay, "node_step", e.detail, msg.requestId);
  if (step.events.length) log.info("upgrade rollout moved", { nodes: step.events.map((e) => e.node) });
}

/** This look's moves (nodes whose step it changed) applied to the plan as stored now. */
function mergeMoves(current: UpgradeRecord, read: UpgradeRecord, moved: UpgradeRecord): UpgradeRecord {
  return {
    ...current,
    nodes: current.nodes.map((n, i) => {
      const was = read.nodes[i];
      const now = moved.nodes[i];
      const mine = was && now && was.name === n.name && (was.step !== now.step || was.command?.id !== now.command?.id);
      // a report moved this node meanwhile: the report wins (the next look sees it)
      return mine && n.step === was.step && n.command?.id === was.command?.id ? { ...n, step: now.step, command: now.command, reason: now.reason } : n;
    }),
  };
}

/** Cordons and drains the batch through the bay's API, as a scale-down does (never throws). */
async function drainForUpgrade(bay: Bay, record: UpgradeRecord, names: string[], deps: WorkerDeps): Promise<void> {
  const byName = Object.fromEntries(record.nodes.filter((n) => names.includes(n.name)).map((n) => [n.name, n.address ?? ""]));
  // target 0: every one of these is drained
  await drainLeavingMinions(bay, byName, 0, [], deps, { next: "upgraded" });
}

/** Ends the rollout: UPDATE_COMPLETE on the new template and version, or UPDATE_FAILED naming the node. */
async function finish(deps: WorkerDeps, bay: Bay, record: UpgradeRecord, failure: string | null, msg: WorkMessage): Promise<void> {
  const at = deps.now();
  const done = { ...record, finished_at: at.toISOString() };
  if (failure) {
    // the status first: a failed bay gives its nodes no more commands, whatever follows
    const failed = await failBay(deps, bay, failure);
    if (failed?.status === "UPDATE_FAILED")
      await updateBay(deps.table, failed, (b) => (b.upgrade && !b.upgrade.finished_at ? { upgrade: { ...done, nodes: b.upgrade.nodes }, update: b.upgrade.kept_update ?? null } : undefined), at);
    return;
  }
  const whole = !record.nodegroup;
  let moved = false;
  const saved = await updateBay(
    deps.table,
    bay,
    (b) =>
      (moved = b.status === "UPDATE_IN_PROGRESS" && !!b.upgrade && !b.upgrade.finished_at)
        ? {
            status: "UPDATE_COMPLETE",
            status_reason: null,
            upgrade: done,
            update: b.upgrade!.kept_update ?? null,
            delegation: null,
            // the cluster runs the new template once all its nodes do; a group alone keeps it
            ...(whole
              ? {
                  baymodel_id: record.to_baymodel_id,
                  coe_version: record.to_version,
                  ...(b.overrides?.labels ? { overrides: { ...b.overrides, labels: { ...b.overrides.labels, kube_tag: record.to_version } } } : {}),
                }
              : {}),
          }
        : undefined,
    at,
  );
  if (!moved || saved?.status !== "UPDATE_COMPLETE") return;
  await recordEvent(deps, bay, "upgrade_complete", `upgrade to ${record.to_version} complete: ${record.nodes.length} node(s)${whole ? `; the cluster runs template ${record.to_baymodel_id}` : ` of nodegroup ${record.nodegroup}`}`, msg.requestId);
  deps.log.info("cluster upgraded", { bay: bay.uuid, to: record.to_version });
}
