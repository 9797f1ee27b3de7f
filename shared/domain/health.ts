// A bay's health, as Magnum's health monitor reports it (magnum/drivers/common/k8s_monitor.py,
// magnum/service/periodic.py): HEALTHY, UNHEALTHY or UNKNOWN, and a reason that is a map of
// strings: {"api": "ok", "<node>.Ready": "True"|"False"}. What the bay's API answered is the
// tenant's, so every string put in the reason is bounded here, and so is the number of nodes.
import type { Bay } from "./model.ts";
import { isInProgress, type BayStatus } from "./status.ts";

export const HEALTH_STATUSES = ["HEALTHY", "UNHEALTHY", "UNKNOWN"] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];
/** Magnum's health_status_reason: a DictOfStringsField */
export type HealthReason = Record<string, string>;

/** The most nodes named in a reason (NotReady ones first); a `nodes` entry then says how many there are. */
export const MAX_REASON_NODES = 100;
/** Kubernetes' own limit on a node's name (a DNS subdomain). */
export const MAX_NODE_NAME = 253;
/** The longest text the reason keeps from an answer or an error. */
export const MAX_REASON_TEXT = 300;

/** What the worker found when it asked the bay's API (shared/ports/kubernetes.ts). */
export type HealthProbe =
  /** no answer at all: no address, no connection, TLS refused, the time ran out */
  | { reachable: false; why: string }
  | {
      reachable: true;
      /** GET /readyz: its status and body */
      readyz: { status: number; text: string };
      /** the nodes' Ready conditions, or why they could not be read */
      nodes: { items: Array<{ name: string; ready: boolean }>; complete: boolean } | { error: string };
    };

export interface HealthResult {
  status: HealthStatus;
  reason: HealthReason;
}

/**
 * Which bays the periodic check looks at: Magnum's sync_cluster_health_status checks
 * every cluster whose stack is done or failed, and Bayforge never a bay in progress (its API may
 * not be up yet, and the operation's own steps own the bay then).
 */
export const isHealthChecked = (s: BayStatus): boolean => !isInProgress(s) && s !== "DELETE_COMPLETE";

/** A check of `bay` is due: it is checked, and was last checked `intervalMs` ago or never. */
export function healthDue(bay: Pick<Bay, "status" | "health_checked_at">, now: Date, intervalMs: number): boolean {
  if (!isHealthChecked(bay.status)) return false;
  const at = bay.health_checked_at ? Date.parse(bay.health_checked_at) : NaN;
  return !Number.isFinite(at) || now.getTime() - at >= intervalMs;
}

/** Text from a tenant's API or an error, made safe to store and show: one line, bounded. */
export function boundedText(raw: unknown, max = MAX_REASON_TEXT): string {
  const s = String(raw ?? "")
    .slice(0, max * 4) // never scan a huge answer
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A node's name as a reason key: Kubernetes' characters only, at most its 253. */
export function nodeKey(name: string): string {
  const safe = String(name).slice(0, MAX_NODE_NAME).replace(/[^A-Za-z0-9._-]/g, "?");
  return `${safe || "(unnamed)"}.Ready`;
}

/**
 * Magnum's decision: UNHEALTHY unless the API says ok and every node is Ready; UNKNOWN when
 * the API cannot be reached (Magnum's "The cluster … is not accessible."). The reason names
 * the API's answer and each node's Ready condition, as Magnum's does.
 */
export function judgeHealth(bayName: string, probe: HealthProbe): HealthResult {
  if (!probe.reachable) return { status: "UNKNOWN", reason: { api: boundedText(`The cluster ${bayName} is not accessible: ${probe.why}`) } };
  const ok = probe.readyz.status === 200;
  const reason: HealthReason = {};
  let allReady = false;
  if ("error" in probe.nodes) {
    reason.nodes = boundedText(`the nodes could not be listed: ${probe.nodes.error}`);
  } else {
    const { items, complete } = probe.nodes;
    const notReady = items.filter((n) => !n.ready);
    allReady = complete && notReady.length === 0;
    // the NotReady nodes first: they are what the reason is for
    const shown = [...notReady, ...items.filter((n) => n.ready)].slice(0, MAX_REASON_NODES);
    for (const n of shown) reason[nodeKey(n.name)] = n.ready ? "True" : "False";
    if (items.length > shown.length || !complete)
      reason.nodes = `${items.length}${complete ? "" : "+"} nodes, ${notReady.length}${complete ? "" : "+"} not Ready; ${shown.length} shown`;
  }
  // Magnum keeps /healthz's body ("ok"); an API that is not ready says why in its body
  reason.api = ok ? "ok" : boundedText(probe.readyz.text) || `answered ${probe.readyz.status}`;
  return { status: ok && allReady ? "HEALTHY" : "UNHEALTHY", reason };
}

/**
 * The fields a check writes on the bay. The reason is replaced whole; `health_checked_at`
 * is what makes the next check due (healthDue).
 */
export function healthFields(result: HealthResult, now: Date): Pick<Bay, "health_status" | "health_status_reason" | "health_checked_at"> {
  return { health_status: result.status, health_status_reason: result.reason, health_checked_at: now.toISOString() };
}

/** Whether a check changed what a user sees (Magnum's save() writes only changed fields). */
export function healthChanged(bay: Pick<Bay, "health_status" | "health_status_reason">, result: HealthResult): boolean {
  return bay.health_status !== result.status || JSON.stringify(bay.health_status_reason ?? null) !== JSON.stringify(result.reason);
}

/** The fields a health check writes (with the bay's version and updated_at). */
const CHECK_FIELDS = new Set(["health_status", "health_status_reason", "health_checked_at", "coe_version", "updated_at", "version"]);

/**
 * Whether `after` differs from `before` only by health checks' writes: an operation planned on
 * `before` may then be written over `after` as it is (the check runs every minute per bay, and
 * must not turn a user's request into a 409).
 */
export function onlyHealthChanged(before: Bay, after: Bay): boolean {
  const rest = (b: Bay) => JSON.stringify(Object.entries(b).filter(([k]) => !CHECK_FIELDS.has(k)).sort(([a], [c]) => a.localeCompare(c)));
  return rest(before) === rest(after);
}
