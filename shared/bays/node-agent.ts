// What a bay's node agent reads and reports (issue 15). The agent (templates' install-agent
// fragment) asks, with a request signed by its kubelet key (shared/certs/node-request.ts), for
// its desired state: the bay's target version and the one command it may run now, a step of
// an upgrade's rollout or of a CA rotation. It reports back what it ran and the version it
// runs. A node sees and changes only its own row.
import type { Bay, BayCerts } from "../domain/model.ts";
import { applyRotationReport, rotationCommandFor, rotationLive } from "../domain/ca-rotation.ts";
import { badRequest } from "../domain/errors.ts";
import { applyReport, commandFor, type NodeReport } from "../domain/rollout.ts";
import type { BayTable } from "../ports/bay-table.ts";
import type { WorkQueue } from "../ports/work-queue.ts";
import type { Logger } from "../observability/logger.ts";
import { VersionConflict } from "../ports/bay-table.ts";

/** How often an agent asks (its timer's period; it may ask sooner while it has work). */
export const AGENT_POLL_SECONDS = 30;
const MAX_REASON = 512;

export interface DesiredState {
  bay_uuid: string;
  node: string;
  /** the Kubernetes version the bay's nodes are to run (null: none set, keep what runs) */
  target_version: string | null;
  /** the node's step in the rollout (idle when none) */
  step: string;
  /**
   * the command to run now, or null: an upgrade's carries the version, a CA rotation's the CA
   * bundle the node is to trust (trust-ca: the new CA and the old; drop-ca: the new alone)
   */
  command: { id: string; action: string; version?: string; ca_pem?: string } | null;
  poll_seconds: number;
}

/** A CA rotation whose nodes act now: its commands are given while the bay is in it. */
const rotating = (bay: Bay) => bay.status === "UPDATE_IN_PROGRESS" && rotationLive(bay.ca_rotation);

export function desiredState(bay: Bay, node: string, certs?: BayCerts): DesiredState {
  if (rotating(bay) && certs) {
    const row = bay.ca_rotation!.nodes.find((n) => n.name === node);
    const command = rotationCommandFor(certs, bay.ca_rotation, node);
    return { bay_uuid: bay.uuid, node, target_version: bay.coe_version ?? null, step: !row ? "idle" : row.step === "running" ? (row.command?.action ?? row.step) : row.step, command, poll_seconds: AGENT_POLL_SECONDS };
  }
  const u = bay.upgrade;
  const row = u?.nodes.find((n) => n.name === node);
  // commands only while the bay is being upgraded (a failed or finished rollout gives none)
  const live = !!u && !u.finished_at && bay.status === "UPDATE_IN_PROGRESS";
  return {
    bay_uuid: bay.uuid,
    node,
    target_version: live ? u!.to_version : (bay.coe_version ?? null),
    step: live && row ? row.step : "idle",
    command: live ? commandFor(u, node) : null,
    poll_seconds: AGENT_POLL_SECONDS,
  };
}

/** A report's body, bounded and checked: anything else is a 400 that echoes nothing. */
export function parseReport(body: unknown): NodeReport {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("A node report is a JSON object.");
  const { command_id, result, version, step, reason, ...extra } = body as Record<string, unknown>;
  if (Object.keys(extra).length) throw badRequest("A node report has only command_id, result, version, step and reason.");
  const str = (v: unknown, re: RegExp, field: string): string | null => {
    if (v === undefined || v === null) return null;
    if (typeof v !== "string" || !re.test(v)) throw badRequest(`The report's ${field} is not valid.`);
    return v;
  };
  if (typeof result !== "string" || !["running", "succeeded", "failed", "idle"].includes(result)) throw badRequest("The report's result must be running, succeeded, failed or idle.");
  let why: string | null = null;
  if (reason !== undefined && reason !== null) {
    if (typeof reason !== "string") throw badRequest("The report's reason must be a string.");
    // shown in the bay's status and events: printable, one line, bounded
    why = reason.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim().slice(0, MAX_REASON) || null;
  }
  return {
    command_id: str(command_id, /^[a-z-]{1,32}-[0-9a-z]{1,12}-\d{1,6}$/, "command_id"),
    result: result as NodeReport["result"],
    version: str(version, /^v\d{1,3}\.\d{1,3}\.\d{1,3}([-+][0-9A-Za-z.-]{1,64})?$/, "version"),
    step: str(step, /^[a-z][a-z-]{0,31}$/, "step"),
    reason: why,
  };
}

export interface ReportDeps {
  table: BayTable;
  queue: WorkQueue;
  log: Logger;
  now?: () => Date;
}

/** Seconds between stored heartbeats of a node whose step did not change (bounds table writes). */
const HEARTBEAT_WRITE_SECONDS = 120;

/** A report applied to the bay's live operation: what to write, and what it moved. */
interface Applied {
  patch: Partial<Bay>;
  /** the node's step moved: the event's text */
  event?: string;
  /** the node as it was before the report */
  before: { reported_at?: string | null; version?: string | null };
  eventKind: "node_step" | "ca_rotation_step";
  /** the worker step the operation's looks are */
  wake: "bay.upgrade" | "bay.rotate_ca";
  requestId: string;
}

/** The report applied to the bay's CA rotation or upgrade, whichever is live; undefined when neither has the node. */
function applyToOperation(bay: Bay, node: string, report: NodeReport, now: Date): Applied | undefined {
  if (rotating(bay)) {
    const r = bay.ca_rotation!;
    const before = r.nodes.find((n) => n.name === node);
    if (!before) return undefined;
    const { record, event } = applyRotationReport(r, node, report, now);
    return { patch: { ca_rotation: record }, event, before, eventKind: "ca_rotation_step", wake: "bay.rotate_ca", requestId: r.request_id };
  }
  const u = bay.upgrade;
  const before = u?.nodes.find((n) => n.name === node);
  if (!u || u.finished_at || bay.status !== "UPDATE_IN_PROGRESS" || !before) return undefined;
  const { record, event } = applyReport(u, node, report, now);
  return { patch: { upgrade: record }, event, before, eventKind: "node_step", wake: "bay.upgrade", requestId: u.request_id };
}

/**
 * Applies a node's report to the bay's live operation (a CA rotation or an upgrade's rollout):
 * written (conditionally) when it moves the node's step, or as a heartbeat at most every two
 * minutes; a step that moved wakes the worker's step at once. Returns the node's desired
 * state after it.
 */
export async function reportNode(deps: ReportDeps, bay: Bay, node: string, report: NodeReport, certs?: BayCerts): Promise<DesiredState> {
  const now = deps.now?.() ?? new Date();
  for (let tries = 0; tries < 5; tries++) {
    const a = applyToOperation(bay, node, report, now);
    if (!a) return desiredState(bay, node, certs);
    const { before } = a;
    const stale = !before.reported_at || now.getTime() - Date.parse(before.reported_at) > HEARTBEAT_WRITE_SECONDS * 1000 || before.version !== (report.version ?? before.version);
    if (!a.event && !stale) return desiredState(bay, node, certs);
    try {
      bay = await deps.table.updateBay({ ...bay, ...a.patch, version: bay.version + 1, updated_at: now.toISOString() }, bay.version);
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
      const again = await deps.table.getBay(bay.uuid);
      if (!again) return desiredState(bay, node, certs);
      bay = again;
      continue;
    }
    if (a.event) {
      await deps.table.appendEvent({ bay_uuid: bay.uuid, at: now.toISOString(), kind: a.eventKind, detail: a.event }).catch((err) => deps.log.warn("event not recorded", { bay: bay.uuid, err }));
      // the operation goes on now rather than at its next scheduled look
      await deps.queue
        .send({ v: 1, kind: a.wake, bayId: bay.uuid, projectId: bay.project_id, requestId: a.requestId, attempt: 0, seq: bay.poll_seq })
        .catch((err) => deps.log.warn("operation not woken; it goes on at its next look", { bay: bay.uuid, kind: a.wake, err }));
    }
    return desiredState(bay, node, certs);
  }
  throw new VersionConflict(bay.uuid, bay.version);
}
