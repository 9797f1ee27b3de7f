// bay.rotate_ca: drives a CA rotation (shared/domain/ca-rotation.ts) one look at a time,
// re-queued like an upgrade's rollout: each look moves the phases on as far as they go
// without waiting, writes the plan and looks again later; the nodes' agents run their
// commands and report (functions/api/routes/agent.ts), and a report that moves a node wakes
// this step at once. When the last node has dropped the old CA, the new certificates become
// the bay's (one conditional write), then the bay UPDATE_COMPLETE. At-least-once: a look
// carries the bay's poll_seq, so of duplicate deliveries one goes on; a worker killed between
// the certificates' write and the bay's leaves the certificates swapped and the bay in
// progress, and the redelivered look finds them so and completes the bay.
import type { WorkMessage } from "../../../shared/ports/work-queue.ts";
import type { Bay } from "../../../shared/domain/model.ts";
import { advanceCaRotation, rotatedCerts, stillTrusted, type CaRotationRecord } from "../../../shared/domain/ca-rotation.ts";
import { CertsChanged } from "../../../shared/ports/bay-table.ts";
import type { WorkerDeps } from "../deps.ts";
import { recordEvent, updateBay } from "../bay-store.ts";
import { failBay } from "./fail-bay.ts";
import { lookDelay } from "./upgrade-rollout.ts";

export async function driveCaRotation(msg: WorkMessage, deps: WorkerDeps): Promise<void> {
  const bay = await deps.table.getBay(msg.bayId);
  const live = bay?.ca_rotation;
  if (!bay || bay.status !== "UPDATE_IN_PROGRESS" || !live || live.finished_at) return;
  if (msg.seq !== undefined && msg.seq !== bay.poll_seq) return; // a duplicate: another look carries the rotation
  const at = deps.now();
  const step = advanceCaRotation(live);
  if (step.outcome === "failed") return finish(deps, bay, step.record, step.reason!, [], msg);
  if (step.outcome === "complete") return finish(deps, bay, step.record, null, step.events, msg);
  if (bay.deadline_at && at > new Date(bay.deadline_at)) {
    const waiting = step.record.nodes.filter((n) => n.step === "running").map((n) => `${n.name} (${n.command?.action}, last report ${n.reported_at ?? "never"})`);
    return finish(deps, bay, step.record, `CA rotation timed out waiting for node(s) ${waiting.join(", ") || "(none)"}: their agents did not report within the cluster's timeout. ${stillTrusted(step.record.phase)}`, [], msg);
  }
  const changed = JSON.stringify(step.record) !== JSON.stringify(live);
  const minutes = bay.bay_create_timeout > 0 ? bay.bay_create_timeout + 5 : 0;
  // the next look first (its seq is the one written below): a crash between the two leaves
  // this delivery's own message to come back and do the look again
  const seq = bay.poll_seq + 1;
  await deps.queue.send({ v: 1, kind: "bay.rotate_ca", bayId: bay.uuid, projectId: bay.project_id, requestId: msg.requestId, attempt: 0, seq }, { delaySeconds: lookDelay(deps) });
  let moved = false;
  const saved = await updateBay(
    deps.table,
    bay,
    (b) => {
      if (b.status !== "UPDATE_IN_PROGRESS" || b.poll_seq !== bay.poll_seq || !b.ca_rotation) return undefined;
      // a report that came in meanwhile changed what this look planned on: the next look plans again
      moved = changed && JSON.stringify(b.ca_rotation) === JSON.stringify(live);
      return { ...(moved ? { ca_rotation: step.record } : {}), poll_seq: seq, ...(moved && minutes ? { deadline_at: new Date(at.getTime() + minutes * 60_000).toISOString() } : {}) };
    },
    at,
  );
  if (!moved || saved?.poll_seq !== seq) return;
  for (const detail of step.events) await recordEvent(deps, bay, "ca_rotation_step", detail, msg.requestId);
}

/** Ends the rotation: the new certificates the bay's, UPDATE_COMPLETE; or UPDATE_FAILED naming the node. */
async function finish(deps: WorkerDeps, bay: Bay, record: CaRotationRecord, failure: string | null, events: string[], msg: WorkMessage): Promise<void> {
  const at = deps.now();
  if (failure) {
    const failed = await failBay(deps, bay, failure);
    if (failed?.status === "UPDATE_FAILED")
      await updateBay(deps.table, failed, (b) => (b.ca_rotation && !b.ca_rotation.finished_at ? { ca_rotation: { ...record, nodes: b.ca_rotation.nodes, finished_at: at.toISOString(), outcome: "failed" }, update: b.ca_rotation.kept_update ?? null } : undefined), at);
    return;
  }
  // the certificates first: once they are swapped, a redelivered look completes the bay
  const certs = await deps.table.getCerts(bay.uuid);
  const swapped = certs && rotatedCerts(certs, record);
  if (certs && swapped) {
    try {
      await deps.table.replaceCerts(swapped, certs.created_at);
    } catch (e) {
      if (!(e instanceof CertsChanged)) throw e; // a concurrent look swapped them: the same outcome
    }
  } else if (!certs || certs.created_at !== record.certs_created_at) {
    return finish(deps, bay, record, "CA rotation failed: the bay's new certificates are gone (replaced by another request). Every node still trusts the old CA.", [], msg);
  }
  let moved = false;
  const saved = await updateBay(
    deps.table,
    bay,
    (b) =>
      (moved = b.status === "UPDATE_IN_PROGRESS" && !!b.ca_rotation && !b.ca_rotation.finished_at)
        ? { status: "UPDATE_COMPLETE", status_reason: null, ca_rotation: { ...record, finished_at: at.toISOString(), outcome: "complete" }, update: b.ca_rotation!.kept_update ?? null, delegation: null }
        : undefined,
    at,
  );
  if (!moved || saved?.status !== "UPDATE_COMPLETE") return;
  for (const detail of events) await recordEvent(deps, bay, "ca_rotation_step", detail, msg.requestId);
  await recordEvent(deps, bay, "ca_rotated", `CA rotation complete: ${record.nodes.length} node(s) trust the new CA only and run on its certificates; \`ca show\` gives it alone`, msg.requestId);
  deps.log.info("bay CA rotated on its nodes", { bay: bay.uuid });
}
