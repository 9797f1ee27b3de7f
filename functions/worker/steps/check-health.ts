// The periodic health check of one finished bay (a bay.health message the sweeper sends), as
// Magnum's health monitor does it: the bay's API's /readyz and its nodes' Ready condition,
// asked with the client certificate Bayforge holds for the bay, bounded in time (a connect
// timeout, a budget for the whole check) and in what is read (the adapter caps every answer,
// the domain every string kept). The verdict and reason go on the bay, with its coe_version.
// A check never fails anything: a bay that changed meanwhile (an operation started, it was
// deleted, its address moved) is left alone, and whatever goes wrong is the reason.
import type { WorkMessage } from "../../../shared/ports/work-queue.ts";
import type { KubeEndpoint, KubernetesApi } from "../../../shared/ports/kubernetes.ts";
import { endpointOf } from "../kube-endpoint.ts";
import { defaultKubeTag } from "../../../shared/templates/kubernetes-definition.ts";
import { VersionConflict } from "../../../shared/ports/bay-table.ts";
import type { Bay } from "../../../shared/domain/model.ts";
import { healthChanged, healthFields, isHealthChecked, judgeHealth, type HealthProbe } from "../../../shared/domain/health.ts";
import { coeVersionField, intendedCoeVersion } from "../../../shared/domain/coe-version.ts";
import type { WorkerDeps } from "../deps.ts";

const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
const DEFAULT_BUDGET_MS = 20_000;

export async function checkHealth(msg: WorkMessage, deps: WorkerDeps): Promise<void> {
  const bay = await deps.table.getBay(msg.bayId);
  if (!bay || !isHealthChecked(bay.status)) return; // gone, or an operation started: not ours now
  // a duplicate (two sweeps sent one while the queue was behind): half an interval is recent enough
  const interval = (deps.health?.intervalSeconds ?? 60) * 1000;
  if (bay.health_checked_at && deps.now().getTime() - Date.parse(bay.health_checked_at) < interval / 2) return;

  const { probe, reported } = await probeBay(bay, deps);
  const result = judgeHealth(bay.name, probe);
  // set once from the labels the bay was made with (an upgrade sets it anew), or what its API reports
  const intended = bay.coe_version ?? intendedCoeVersion(bay, await deps.table.getBayModel(bay.baymodel_id), defaultKubeTag(deps.template()));
  const version = coeVersionField(intended, reported);
  const now = deps.now();
  for (let current: Bay | undefined = bay, tries = 0; current && tries < 3; tries++) {
    // the verdict is about the API at this address, of a bay in a status that is checked
    if (!isHealthChecked(current.status) || current.api_address !== bay.api_address) return;
    const changed = healthChanged(current, result) || current.coe_version !== version.coe_version;
    // updated_at moves only when what users see changed (Magnum saves changed fields only)
    const next: Bay = { ...current, ...healthFields(result, now), ...version, version: current.version + 1, updated_at: changed ? now.toISOString() : current.updated_at };
    try {
      await deps.table.updateBay(next, current.version);
      if (current.health_status !== result.status)
        deps.log.info("bay health changed", { bay: bay.uuid, from: current.health_status ?? null, to: result.status, reason: result.reason.api });
      return;
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
      current = await deps.table.getBay(bay.uuid);
    }
  }
}

/** What the bay's API answers, within the check's budget; `reported`: its gitVersion, when it said one. */
async function probeBay(bay: Bay, deps: WorkerDeps): Promise<{ probe: HealthProbe; reported?: string }> {
  if (!bay.api_address) return { probe: { reachable: false, why: "it has no Kubernetes API address" } };
  if (!deps.kubernetes) return { probe: { reachable: false, why: "the worker has no Kubernetes client" } };
  const at = `the Kubernetes API at ${bay.api_address}`;
  let endpoint: KubeEndpoint;
  try {
    endpoint = await endpointOf(bay, deps);
  } catch (e) {
    return { probe: { reachable: false, why: `${at} ${(e as Error).message}` } };
  }
  const budgetMs = deps.health?.budgetMs ?? DEFAULT_BUDGET_MS;
  const kube = deps.kubernetes.connect(endpoint, { connectTimeoutMs: deps.health?.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS });
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not answer within ${budgetMs / 1000} s`)), budgetMs);
  });
  try {
    return await Promise.race([ask(kube), outOfTime]);
  } catch (e) {
    // only /readyz's failure gets here: no answer at all, or none in time
    return { probe: { reachable: false, why: `${at} ${(e as Error).message}` } };
  } finally {
    clearTimeout(timer);
    await kube.close(); // also ends a call still in flight when the time ran out
  }
}

async function ask(kube: KubernetesApi): Promise<{ probe: HealthProbe; reported?: string }> {
  const readyz = await kube.readyz();
  let nodes: Extract<HealthProbe, { reachable: true }>["nodes"];
  try {
    nodes = await kube.nodesReady();
  } catch (e) {
    nodes = { error: (e as Error).message };
  }
  const reported = await kube.version().catch(() => undefined);
  return { probe: { reachable: true, readyz, nodes }, reported };
}
