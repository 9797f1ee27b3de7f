// /v1/quotas: Magnum's project quotas (admins set them; a project reads its own), enforced on
// every create (shared/bays/quotas.ts).
import { Hono } from "hono";
import { createQuota, deleteQuota, getQuota, listQuotas, updateQuota } from "../../../shared/bays/quotas.ts";
import type { QuotaStore } from "../../../shared/ports/quota-store.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { readJson } from "../request.ts";
import { fromJson } from "../wsme-json.ts";

/** Magnum's Quota type: id and hard_limit are integers (magnum-ui sends them as strings). */
const KINDS = { id: "integer", hard_limit: "integer" } as const;

const TRUE = /^(true|t|yes|y|on|1)$/i;

export function quotaRoutes(deps: ApiDeps & { quotas: QuotaStore }): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  r.get("/", async (c) => c.json({ quotas: await listQuotas(deps, c.get("caller"), TRUE.test(c.req.query("all_tenants") ?? "")) }));
  r.post("/", async (c) => c.json(await createQuota(deps, c.get("caller"), fromJson(await readJson(c), KINDS)), 201));
  r.get("/:project/:resource", async (c) => c.json(await getQuota(deps, c.get("caller"), c.req.param("project"), c.req.param("resource"))));
  r.patch("/:project/:resource", async (c) => c.json(await updateQuota(deps, c.get("caller"), c.req.param("project"), c.req.param("resource"), fromJson(await readJson(c), KINDS)), 202));
  r.delete("/:project/:resource", async (c) => {
    await deleteQuota(deps, c.get("caller"), c.req.param("project"), c.req.param("resource"));
    return c.body(null, 204);
  });
  return r;
}
