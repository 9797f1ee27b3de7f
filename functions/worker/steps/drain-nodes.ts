// Scale-down that drains: before Heat removes minions, their Kubernetes nodes are cordoned
// and their pods evicted through the bay's own API, as `kubectl drain` does (DaemonSet and
// mirror pods stay; a PodDisruptionBudget that refuses an eviction is asked again), with the
// client certificate Bayforge holds for the bay, through the Kubernetes port (its adapter caps
// what a tenant's API may send). Best effort: an API that cannot be reached,
// or pods that are still there when the time is up, are logged and recorded on the bay, and
// the scale goes on (Magnum's scale manager did not drain at all).
import type { Bay } from "../../../shared/domain/model.ts";
import type { KubernetesApi } from "../../../shared/ports/kubernetes.ts";
import { endpointOf } from "../kube-endpoint.ts";
import type { Stack } from "../../../shared/ports/orchestrator.ts";
import type { WorkerDeps } from "../deps.ts";
import { recordEvent } from "../bay-store.ts";
import { stackOutput } from "../../../shared/templates/kubernetes-definition.ts";

export interface LeavingMinion {
  /** the minion's resource name in kube_minions ("0", "1", ...) */
  name: string;
  /** its private address: the Kubernetes node's InternalIP */
  address: string;
}

/**
 * The minions Heat's ResourceGroup removes for an update to `target` members naming
 * `named` (resource names or private addresses) in removal_policies: every named member,
 * then the highest-numbered others beyond `target`.
 */
export function minionsLeaving(byName: Record<string, string>, target: number, named: readonly string[]): LeavingMinion[] {
  const isNamed = (name: string) => named.includes(name) || named.includes(byName[name]);
  const byNumber = (a: string, b: string) => Number(a) - Number(b) || a.localeCompare(b);
  const keep = new Set(Object.keys(byName).filter((n) => !isNamed(n)).sort(byNumber).slice(0, Math.max(target, 0)));
  return Object.keys(byName)
    .filter((n) => !keep.has(n))
    .sort(byNumber)
    .map((name) => ({ name, address: byName[name] }));
}

export interface DrainOptions {
  /** how long connecting to the API may take (an unreachable API costs this much) */
  connectTimeoutMs?: number;
  /** how long the whole drain may take before the scale goes on anyway */
  budgetMs?: number;
  /** pause between asking a PodDisruptionBudget again / looking for pods still there */
  retryMs?: number;
  /** what happens to the nodes next, for the events ("removed": a scale-down; "upgraded") */
  next?: "removed" | "upgraded";
}

const DEFAULTS: Required<DrainOptions> = { connectTimeoutMs: 3_000, budgetMs: 60_000, retryMs: 2_000, next: "removed" };

/** What drain-nodes found and did, per minion: the event's detail. */
interface Outcome {
  minion: LeavingMinion;
  node?: string;
  evicted: number;
  left: string[];
}

/** The default workers' resource names → private addresses, as the stack has them now. */
export function defaultMinions(bay: Bay, stack: Stack): Record<string, string> {
  return stackOutput(stack.outputs, "minions") ?? bay.minions ?? {};
}

/**
 * Cordons and drains the minions an update removes from a resource group whose members are
 * `members` (the default workers', or a node group's) (update-bay.ts calls it before the Heat
 * update). Never throws: whatever goes wrong is recorded on the bay as an event.
 */
export async function drainLeavingMinions(bay: Bay, members: Record<string, string>, target: number, named: readonly string[], deps: WorkerDeps, options: DrainOptions = {}): Promise<void> {
  const o = { ...DEFAULTS, ...options };
  const leaving = minionsLeaving(members, target, named);
  if (!leaving.length) return;
  const list = leaving.map((m) => `${m.name} (${m.address})`).join(", ");
  const record = (kind: string, detail: string) => recordEvent(deps, bay, kind, detail);
  if (!bay.api_address) {
    await record("drain_skipped", `minions ${list} are ${o.next} without draining: the bay has no Kubernetes API address`);
    return;
  }
  if (!deps.kubernetes) {
    await record("drain_skipped", `minions ${list} are ${o.next} without draining: the worker has no Kubernetes client`);
    return;
  }
  const deadline = Date.now() + o.budgetMs;
  let kube: KubernetesApi | undefined;
  try {
    kube = deps.kubernetes.connect(await endpointOf(bay, deps), { connectTimeoutMs: o.connectTimeoutMs });
    const nodes = await kube.listNodes();
    const outcomes: Outcome[] = [];
    for (const minion of leaving) {
      const node = nodes.find((n) => n.internalIPs.includes(minion.address))?.name;
      outcomes.push(node ? await drainNode(kube, minion, node, deadline, o) : { minion, evicted: 0, left: [] });
    }
    const incomplete = outcomes.some((x) => x.left.length);
    const detail = outcomes
      .map((x) =>
        x.node
          ? `minion ${x.minion.name} (${x.minion.address}) = node ${x.node}: cordoned, ${x.evicted} pod(s) evicted${x.left.length ? `, still there after ${o.budgetMs / 1000} s: ${x.left.join(", ")}` : ""}`
          : `minion ${x.minion.name} (${x.minion.address}): no Kubernetes node has this address`,
      )
      .join("; ");
    deps.log.info(incomplete ? "minions drained in part" : "minions drained", { bay: bay.uuid, minions: leaving.map((m) => m.name) });
    await record(incomplete ? "drain_incomplete" : "nodes_drained", detail);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    deps.log.warn("minions not drained: Kubernetes API unreachable or refusing", { bay: bay.uuid, api: bay.api_address, err: why });
    await record("drain_skipped", `minions ${list} are ${o.next} without draining: the Kubernetes API at ${bay.api_address} ${why}`);
  } finally {
    await kube?.close();
  }
}

async function drainNode(kube: KubernetesApi, minion: LeavingMinion, node: string, deadline: number, o: Required<DrainOptions>): Promise<Outcome> {
  await kube.cordon(node);
  const accepted = new Set<string>();
  for (;;) {
    // DaemonSet pods would come back at once, and a mirror pod is the kubelet's: both stay
    const pods = (await kube.podsOn(node)).filter((p) => !p.ownerKinds.includes("DaemonSet") && !p.mirror);
    const left = pods.map((p) => `${p.namespace}/${p.name}`);
    if (!pods.length || Date.now() >= deadline) return { minion, node, evicted: accepted.size, left };
    for (const p of pods) {
      const id = `${p.namespace}/${p.name}`;
      if (accepted.has(id)) continue; // evicted, still terminating
      // refused (a PodDisruptionBudget's 429): asked again next round
      if (await kube.evict(p)) accepted.add(id);
    }
    await new Promise((r) => setTimeout(r, Math.max(Math.min(o.retryMs, deadline - Date.now()), 0)));
  }
}
