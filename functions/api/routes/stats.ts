// /v1/stats (API 1.4): clusters and nodes per project, as Magnum serves them.
import { Hono } from "hono";
import { clusterStats } from "../../../shared/bays/stats.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { requireVersion } from "../microversion.ts";

export function statsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  r.get("/", async (c) => {
    requireVersion(c.get("version"), "1.4", "GET /v1/stats");
    return c.json(await clusterStats(deps.table, c.get("caller"), { projectId: c.req.query("project_id"), type: c.req.query("type") }));
  });
  return r;
}
