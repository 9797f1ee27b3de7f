// The rollout of a Kubernetes upgrade across a bay's nodes (API 1.8, issue 15), as a state
// machine with no I/O. The worker's bay.upgrade step advances it; each node's agent reads the
// command meant for it and reports back (shared/bays/node-agent.ts). Order, as kubeadm's own
// upgrade guide: the masters one at a time (`kubeadm upgrade apply` on the first, `kubeadm
// upgrade node` on the others), then the workers in batches of max_batch_size: cordoned and
// drained (by the worker, through the bay's API), upgraded, Ready on the new version, then
// uncordoned. A node that fails stops the rollout; nodes not yet started are left as they are.
import type { BayUpdate } from "./model.ts";

export type NodeRole = "master" | "worker";

/**
 * pending: not touched yet; draining: the worker cordons and drains it; upgrading/uncordoning:
 * its agent has that command; done; failed (its reason).
 */
export type NodeStep = "pending" | "draining" | "upgrading" | "uncordoning" | "done" | "failed";

/** What an agent is told to run: at most one command at a time, named by `id` (its report names it back). */
export type NodeAction = "upgrade-apply" | "upgrade-node" | "uncordon";

export interface RolloutNode {
  /** the Kubernetes node name (the kubelet's CN is system:node:<name>) */
  name: string;
  role: NodeRole;
  /** the node group it belongs to (default-master, default-worker, or an extra group's name) */
  group: string;
  /** its private address (the Kubernetes node's InternalIP), when known: the drain finds the node by it */
  address?: string | null;
  step: NodeStep;
  /** the command issued for the current step, if any */
  command?: { id: string; action: NodeAction } | null;
  /** what its agent last reported */
  version?: string | null;
  reported_at?: string | null;
  reported_step?: string | null;
  reason?: string | null;
}

export interface UpgradeRecord {
  request_id: string;
  requested_at: string;
  from_baymodel_id: string;
  to_baymodel_id: string;
  /** kube_tag before and after, e.g. v1.35.8 → v1.36.2 */
  from_version: string;
  to_version: string;
  max_batch_size: number;
  /** the group asked for; null: the whole cluster */
  nodegroup: string | null;
  /** masters first, then workers, in the order they are upgraded */
  nodes: RolloutNode[];
  finished_at?: string | null;
  /** the bay's last scale record, put back when the upgrade ends (its trustees_left are removed with the bay) */
  kept_update?: BayUpdate | null;
}

/** Something the worker must do (with I/O) before the rollout can go on. */
export interface RolloutAdvance {
  record: UpgradeRecord;
  /** nodes to cordon and drain now (then `drained` moves them on) */
  drain: string[];
  /** one line per node whose step changed: the bay's events */
  events: Array<{ node: string; detail: string }>;
  outcome: "running" | "complete" | "failed";
  /** with outcome failed: names the node and its reason */
  reason?: string;
}

const active = (n: RolloutNode) => n.step === "draining" || n.step === "upgrading" || n.step === "uncordoning";

/**
 * A command's id: its action, the rollout's own tag (its request time, base 36: the agent keeps
 * each id's result, so ids never repeat across upgrades), and a sequence number.
 */
function issue(n: RolloutNode, step: NodeStep, action: NodeAction | null, seq: number, record: UpgradeRecord): RolloutNode {
  const tag = Date.parse(record.requested_at).toString(36);
  return { ...n, step, command: action ? { id: `${action}-${tag}-${seq}`, action } : null, reason: null };
}

/**
 * Moves the rollout on as far as it can without waiting for anyone: the next master once the
 * previous one is done, the next batch of workers once the last batch is done. Pure: the same
 * record gives the same answer (a redelivered message advances nothing twice).
 */
export function advance(record: UpgradeRecord): RolloutAdvance {
  const nodes = record.nodes.map((n) => ({ ...n }));
  const events: RolloutAdvance["events"] = [];
  const failed = nodes.find((n) => n.step === "failed");
  if (failed) {
    const reason = `Upgrade to ${record.to_version} failed on node ${failed.name}: ${failed.reason ?? "no reason given"}. Nodes not yet upgraded were left as they were.`;
    return { record: { ...record, nodes }, drain: [], events, outcome: "failed", reason };
  }
  const drain = nodes.filter((n) => n.step === "draining").map((n) => n.name);
  if (nodes.some(active)) return { record: { ...record, nodes }, drain, events, outcome: "running" };
  const seq = nodes.filter((n) => n.step !== "pending").length;
  const masters = nodes.filter((n) => n.role === "master");
  const nextMaster = masters.find((n) => n.step === "pending");
  if (nextMaster) {
    const i = nodes.indexOf(nextMaster);
    // the first master upgrades the control plane's configuration; the others follow it
    const action: NodeAction = masters.every((m) => m.step === "pending") ? "upgrade-apply" : "upgrade-node";
    nodes[i] = issue(nextMaster, "upgrading", action, seq, record);
    events.push({ node: nextMaster.name, detail: `master ${nextMaster.name}: kubeadm ${action === "upgrade-apply" ? `upgrade apply ${record.to_version}` : "upgrade node"}` });
    return { record: { ...record, nodes }, drain, events, outcome: "running" };
  }
  const batch = nodes.filter((n) => n.role === "worker" && n.step === "pending").slice(0, record.max_batch_size);
  if (batch.length) {
    for (const n of batch) {
      nodes[nodes.indexOf(n)] = { ...n, step: "draining", command: null, reason: null };
      events.push({ node: n.name, detail: `worker ${n.name}: cordon and drain` });
    }
    return { record: { ...record, nodes }, drain: batch.map((n) => n.name), events, outcome: "running" };
  }
  return { record: { ...record, nodes }, drain: [], events, outcome: "complete" };
}

/** The worker cordoned and drained these nodes: their agents get the upgrade. */
export function drained(record: UpgradeRecord, names: readonly string[]): UpgradeRecord {
  let seq = record.nodes.filter((n) => n.step !== "pending").length;
  return { ...record, nodes: record.nodes.map((n) => (n.step === "draining" && names.includes(n.name) ? issue(n, "upgrading", "upgrade-node", seq++, record) : n)) };
}

/** What a node's agent reports (bounded and checked by the API before it gets here). */
export interface NodeReport {
  /** the command it ran (or runs); absent: a plain heartbeat */
  command_id?: string | null;
  result: "running" | "succeeded" | "failed" | "idle";
  /** the kubelet's version on the node now, e.g. v1.36.2 */
  version?: string | null;
  /** the agent's own step name, shown in the views */
  step?: string | null;
  reason?: string | null;
}

/** What every report records on its node, whatever the operation: when, the agent's step, the version it runs. */
export function asReported<N extends { reported_at?: string | null; reported_step?: string | null; version?: string | null }>(n: N, r: NodeReport, now: Date): N {
  return { ...n, reported_at: now.toISOString(), reported_step: r.step ?? r.result, ...(r.version ? { version: r.version } : {}) };
}

/** A node's report applied to the rollout: returns the record and what changed, for the events. */
export function applyReport(record: UpgradeRecord, name: string, r: NodeReport, now: Date): { record: UpgradeRecord; event?: string } {
  const i = record.nodes.findIndex((n) => n.name === name);
  if (i < 0) return { record };
  const n: RolloutNode = asReported(record.nodes[i], r, now);
  let event: string | undefined;
  const current = n.command && r.command_id === n.command.id;
  if (current && r.result === "failed") {
    Object.assign(n, { step: "failed", reason: r.reason || `${n.command!.action} failed`, command: null });
    event = `${n.role} ${name}: failed: ${n.reason}`;
  } else if (current && r.result === "succeeded") {
    if (n.step === "upgrading" && r.version !== record.to_version) {
      Object.assign(n, { step: "failed", reason: `reported ${r.version ?? "no version"} after the upgrade, not ${record.to_version}`, command: null });
      event = `${n.role} ${name}: failed: ${n.reason}`;
    } else if (n.step === "upgrading" && n.role === "worker") {
      const seq = record.nodes.filter((x) => x.step !== "pending").length;
      Object.assign(n, issue(n, "uncordoning", "uncordon", seq, record));
      event = `worker ${name}: Ready on ${record.to_version}; uncordon`;
    } else {
      Object.assign(n, { step: "done", command: null });
      event = `${n.role} ${name}: ${n.role === "master" ? `upgraded to ${record.to_version}` : "uncordoned"}; done`;
    }
  }
  const nodes = record.nodes.slice();
  nodes[i] = n;
  return { record: { ...record, nodes }, event };
}

/** The command a node's agent may run now, or null. */
export function commandFor(record: UpgradeRecord | null | undefined, name: string): { id: string; action: NodeAction; version: string } | null {
  const n = record?.nodes.find((x) => x.name === name);
  return n?.command ? { ...n.command, version: record!.to_version } : null;
}
