// POST /v1/clusters/{id}/actions/upgrade (API 1.8, Magnum's cluster_actions.py): a new
// cluster template with a newer kube_tag, rolled out node by node by the nodes' agents
// (shared/bays/upgrade.ts, functions/worker/steps/upgrade-rollout.ts). 202 {uuid}.
import { Hono } from "hono";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { readJson } from "../request.ts";
import { requireVersion } from "../microversion.ts";
import { getBay } from "../../../shared/bays/lookup.ts";
import { upgradeCluster } from "../../../shared/bays/upgrade.ts";
import { parseUpgradeRequest } from "../../../shared/domain/upgrade.ts";

export function clusterActionRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  r.post("/:ident/actions/upgrade", async (c) => {
    requireVersion(c.get("version"), "1.8", "POST /v1/clusters/{id}/actions/upgrade");
    const caller = c.get("caller");
    const req = parseUpgradeRequest(await readJson(c));
    const bay = await getBay(deps.table, caller, c.req.param("ident"), "Cluster");
    await upgradeCluster(deps, caller, bay, req, c.get("requestId"));
    return c.json({ uuid: bay.uuid }, 202);
  });
  return r;
}
