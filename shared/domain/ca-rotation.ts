// A CA rotation that reaches the bay's nodes (issue 15, part 3), as a state machine with no
// I/O. Kubernetes' own guidance for a manual CA rotation
// (kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates) in three phases, each run
// by the nodes' agents: every node first trusts the old and the new CA (`trust-ca`), then
// every node's components get certificates from the new CA (`reissue`), then the old CA leaves
// every trust bundle (`drop-ca`). In each phase the masters go one at a time (their API
// servers restart), then the workers together. A node that fails stops the rotation; until
// `drop-ca` starts, every node still trusts the old CA, so every old certificate keeps working.
import type { BayCerts, BayUpdate } from "./model.ts";
import { asReported, type NodeReport, type NodeRole } from "./rollout.ts";

export type RotationPhase = "trust" | "reissue" | "drop";
export type RotationAction = "trust-ca" | "reissue" | "drop-ca";
export const PHASES: readonly RotationPhase[] = ["trust", "reissue", "drop"];
const ACTION: Record<RotationPhase, RotationAction> = { trust: "trust-ca", reissue: "reissue", drop: "drop-ca" };

export interface RotationNode {
  name: string;
  role: NodeRole;
  group: string;
  /** its step in the current phase */
  step: "pending" | "running" | "done" | "failed";
  command?: { id: string; action: RotationAction } | null;
  version?: string | null;
  reported_at?: string | null;
  reported_step?: string | null;
  reason?: string | null;
}

export interface CaRotationRecord {
  request_id: string;
  requested_at: string;
  /** the new certificates' created_at: the `next` set of the bay's certificates this rotation installs */
  certs_created_at: string;
  phase: RotationPhase;
  /** masters first */
  nodes: RotationNode[];
  finished_at?: string | null;
  /** with finished_at: how it ended */
  outcome?: "complete" | "failed" | null;
  /** the bay's last scale record, put back when the rotation ends (as an upgrade keeps it) */
  kept_update?: BayUpdate | null;
}

export interface RotationAdvance {
  record: CaRotationRecord;
  events: string[];
  outcome: "running" | "complete" | "failed";
  reason?: string;
}

/** The rotation's plan: every node pending in the first phase. */
export function planCaRotation(nodes: ReadonlyArray<Pick<RotationNode, "name" | "role" | "group">>, o: { now: Date; requestId: string; certsCreatedAt: string }): CaRotationRecord {
  const sorted = [...nodes.filter((n) => n.role === "master"), ...nodes.filter((n) => n.role !== "master")];
  return {
    request_id: o.requestId,
    requested_at: o.now.toISOString(),
    certs_created_at: o.certsCreatedAt,
    phase: "trust",
    nodes: sorted.map((n) => ({ name: n.name, role: n.role, group: n.group, step: "pending", command: null })),
    finished_at: null,
    outcome: null,
  };
}

/** A rotation whose nodes still act (commands, reports): started and not finished. */
export const rotationLive = (r: CaRotationRecord | null | undefined): r is CaRotationRecord => !!r && !r.finished_at;

/**
 * A command's id: the action, the rotation's tag (its request time, base 36: an agent keeps
 * each id's result, so ids never repeat across rotations) and the node's slot in the phase.
 */
function issue(record: CaRotationRecord, n: RotationNode, i: number): RotationNode {
  const tag = Date.parse(record.requested_at).toString(36);
  const seq = PHASES.indexOf(record.phase) * record.nodes.length + i;
  return { ...n, step: "running", command: { id: `${ACTION[record.phase]}-${tag}-${seq}`, action: ACTION[record.phase] }, reason: null };
}

/** What a rotation that stops in `phase` leaves trusted: said in every failure's reason. */
export const stillTrusted = (phase: RotationPhase): string =>
  phase === "drop" ? "Nodes that had not dropped the old CA still trust it." : "Every node still trusts the old CA: old certificates keep working.";

const PHASE_DONE: Record<RotationPhase, string> = {
  trust: "every node trusts the old and the new CA; `ca show` now gives the new CA (with the old one, until the rotation ends)",
  reissue: "every node runs on certificates from the new CA",
  drop: "the old CA is no longer trusted by any node",
};

/**
 * Moves the rotation on as far as it goes without waiting: the next master, then all the
 * workers, then the next phase. Pure: the same record gives the same answer.
 */
export function advanceCaRotation(record: CaRotationRecord): RotationAdvance {
  let r: CaRotationRecord = { ...record, nodes: record.nodes.map((n) => ({ ...n })) };
  const events: string[] = [];
  const failed = r.nodes.find((n) => n.step === "failed");
  if (failed) return { record: r, events, outcome: "failed", reason: `CA rotation failed on node ${failed.name} (${ACTION[r.phase]}): ${failed.reason ?? "no reason given"}. ${stillTrusted(r.phase)}` };
  for (;;) {
    if (r.nodes.some((n) => n.step === "running")) return { record: r, events, outcome: "running" };
    const master = r.nodes.findIndex((n) => n.role === "master" && n.step === "pending");
    const batch = master >= 0 ? [master] : r.nodes.flatMap((n, i) => (n.step === "pending" ? [i] : []));
    if (batch.length) {
      for (const i of batch) {
        r.nodes[i] = issue(r, r.nodes[i], i);
        events.push(`${r.nodes[i].role} ${r.nodes[i].name}: ${ACTION[r.phase]}`);
      }
      return { record: r, events, outcome: "running" };
    }
    events.push(`CA rotation: ${PHASE_DONE[r.phase]}`);
    const next = PHASES[PHASES.indexOf(r.phase) + 1];
    if (!next) return { record: r, events, outcome: "complete" };
    r = { ...r, phase: next, nodes: r.nodes.map((n) => ({ ...n, step: "pending", command: null })) };
  }
}

/** A node's report applied: its step moves when the report names its current command. */
export function applyRotationReport(record: CaRotationRecord, name: string, rep: NodeReport, now: Date): { record: CaRotationRecord; event?: string } {
  const i = record.nodes.findIndex((n) => n.name === name);
  if (i < 0) return { record };
  const n: RotationNode = asReported(record.nodes[i], rep, now);
  let event: string | undefined;
  if (n.command && rep.command_id === n.command.id && (rep.result === "succeeded" || rep.result === "failed")) {
    const action = n.command.action;
    if (rep.result === "failed") Object.assign(n, { step: "failed", reason: rep.reason || `${action} failed`, command: null });
    else Object.assign(n, { step: "done", command: null });
    event = `${n.role} ${name}: ${action} ${rep.result === "failed" ? `failed: ${n.reason}` : "done"}`;
  }
  const nodes = record.nodes.slice();
  nodes[i] = n;
  return { record: { ...record, nodes }, event };
}

/** The new certificates this rotation installs, while it is the bay's current one. */
export function nextCertsOf(certs: BayCerts, rotation: CaRotationRecord | null | undefined): NonNullable<BayCerts["next"]> | null {
  return certs.next && rotation && certs.next.created_at === rotation.certs_created_at ? certs.next : null;
}

/** Whether the rotation got past the nodes' trust: from then on the new CA is the one given out. */
const pastTrust = (rotation: CaRotationRecord) => rotation.phase !== "trust";

/**
 * The CA certificate `ca show` (GET /v1/certificates) gives: the old one until every node
 * trusts the new one; then the new one, with the old one after it while nodes may still
 * serve certificates of the old (a kubeconfig with both verifies either); after the rotation,
 * the new one alone. A rotation that failed before every node trusted the new CA gives the old.
 */
export function caBundleShown(certs: BayCerts, rotation: CaRotationRecord | null | undefined): string {
  const next = nextCertsOf(certs, rotation);
  if (!next || !pastTrust(rotation!)) return certs.ca_cert_pem;
  if (rotation!.outcome !== "failed" && rotation!.phase === "drop") return next.ca_cert_pem;
  return joinPem(next.ca_cert_pem, certs.ca_cert_pem);
}

/** The CA that signs a CSR now (`ca sign`, `cluster config`, a booting node): the new one once every node trusts it. */
export function signingCa(certs: BayCerts, rotation: CaRotationRecord | null | undefined): { ca_cert_pem: string; ca_key_encrypted: string } {
  const next = nextCertsOf(certs, rotation);
  return next && pastTrust(rotation!) ? next : certs;
}

/** The CAs whose node certificates the agent API accepts: the new one too, from the rotation's start. */
export function trustedNodeCas(certs: BayCerts, rotation: CaRotationRecord | null | undefined): string[] {
  const next = nextCertsOf(certs, rotation);
  return next ? [certs.ca_cert_pem, next.ca_cert_pem] : [certs.ca_cert_pem];
}

/**
 * The command a node's agent may run now, with the trust bundle it installs: both CAs (trust,
 * reissue), then the new one alone (drop). None while the rotation's new certificates are not
 * the stored ones (a concurrent PATCH that lost the bay puts them back): a node is never told
 * to trust a bundle without the rotation's new CA.
 */
export function rotationCommandFor(certs: BayCerts, rotation: CaRotationRecord | null | undefined, name: string): { id: string; action: RotationAction; ca_pem: string } | null {
  const next = nextCertsOf(certs, rotation);
  if (!rotationLive(rotation) || !next) return null;
  const n = rotation.nodes.find((x) => x.name === name);
  const bundle = rotation.phase === "drop" ? next.ca_cert_pem : joinPem(next.ca_cert_pem, certs.ca_cert_pem);
  return n?.command ? { ...n.command, ca_pem: bundle } : null;
}

/** The bay's certificates once the rotation completes: the new set becomes the current one. */
export function rotatedCerts(certs: BayCerts, rotation: CaRotationRecord): BayCerts | null {
  const next = nextCertsOf(certs, rotation);
  if (!next) return null;
  return { bay_uuid: certs.bay_uuid, ...next, next: null };
}

const joinPem = (...pems: string[]) => pems.map((p) => (p.endsWith("\n") ? p : `${p}\n`)).join("");
