// /v1/clustertemplates: modern Magnum's name for baymodels, with its extra fields.
import { Hono, type Context } from "hono";
import { newBayModel } from "../../../shared/domain/baymodel.ts";
import { CLUSTER_TEMPLATE_FIELDS } from "../../../shared/domain/cluster.ts";
import { deleteModel, patchModel } from "../baymodel-changes.ts";
import { ApiError } from "../../../shared/domain/errors.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { readJson } from "../request.ts";
import { pageQuery, paginate } from "../pagination.ts";
import { getBayModel, scope } from "../../../shared/bays/lookup.ts";
import { clusterTemplateListView, clusterTemplateView } from "../cluster-views.ts";
import { fromJson, fromJsonPatch, kindsOf } from "../wsme-json.ts";

const KINDS = kindsOf(CLUSTER_TEMPLATE_FIELDS);

export function clusterTemplateRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  const now = () => (deps.now?.() ?? new Date()).toISOString();

  r.post("/", async (c) => {
    const caller = c.get("caller");
    const model = newBayModel(fromJson(await readJson(c), KINDS), { projectId: caller.projectId, userId: caller.userId }, now(), { resource: "clustertemplate", fields: CLUSTER_TEMPLATE_FIELDS });
    // Magnum's clustertemplate:publish policy covers both flags
    if ((model.public || model.hidden) && !caller.isAdmin)
      throw new ApiError(403, "Not authorized to publish cluster template", "Only administrators may create public or hidden cluster templates (public: true, hidden: true).");
    await deps.table.putBayModel(model);
    c.header("Location", `${c.get("base")}/v1/clustertemplates/${model.uuid}`);
    return c.json(clusterTemplateView(model, c.get("base")), 201);
  });

  const list = (detail: boolean) => async (c: Context<ApiEnv>) => {
    const all = (await deps.table.listBayModels({ projectId: scope(c.get("caller")) })).filter((m) => !m.hidden || c.get("caller").isAdmin);
    const base = c.get("base");
    const { page, next } = paginate(all, pageQuery((k) => c.req.query(k)), { noun: "ClusterTemplate", nextUrl: `${base}/v1/clustertemplates${detail ? "/detail" : ""}` });
    return c.json({ clustertemplates: page.map((m) => (detail ? clusterTemplateView(m, base) : clusterTemplateListView(m, base))), ...(next ? { next } : {}) });
  };
  r.get("/", list(false));
  r.get("/detail", list(true));

  r.get("/:ident", async (c) => {
    const m = await getBayModel(deps.table, c.get("caller"), c.req.param("ident"), "ClusterTemplate");
    return c.json(clusterTemplateView(m, c.get("base")));
  });

  r.patch("/:ident", async (c) => {
    const caller = c.get("caller");
    const sent = await readJson(c);
    // Bayforge has one driver: removing the template's (magnum-ui's update does, once a
    // template shows one) leaves it, as Magnum then finds its default driver again
    const body = fromJsonPatch(sent, KINDS, ["/driver"]);
    const m = await getBayModel(deps.table, caller, c.req.param("ident"), "ClusterTemplate");
    if (Array.isArray(sent) && sent.length && Array.isArray(body) && !body.length) return c.json(clusterTemplateView(m, c.get("base")), 200);
    const next = await patchModel(deps, caller, m, body, { resource: "clustertemplate", fields: CLUSTER_TEMPLATE_FIELDS }, now());
    return c.json(clusterTemplateView(next, c.get("base")), 200);
  });

  r.delete("/:ident", async (c) => {
    const caller = c.get("caller");
    const m = await getBayModel(deps.table, caller, c.req.param("ident"), "ClusterTemplate");
    await deleteModel(deps, caller, m, { noun: "ClusterTemplate", users: "clusters" });
    return c.body(null, 204);
  });
  return r;
}
