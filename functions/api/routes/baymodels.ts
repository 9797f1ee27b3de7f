// /v1/baymodels: create, list, show, delete (Magnum mitaka BayModelsController).
import { Hono, type Context } from "hono";
import { pageQuery, paginate } from "../pagination.ts";
import { BAYMODEL_FIELDS, newBayModel } from "../../../shared/domain/baymodel.ts";
import { patchBayModel } from "../../../shared/domain/baymodel-patch.ts";
import { CLUSTER_TEMPLATE_FIELDS } from "../../../shared/domain/cluster.ts";
import { ApiError, badRequest } from "../../../shared/domain/errors.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { readJson } from "../request.ts";
import { getBayModel, scope } from "../lookup.ts";
import { baymodelListView, baymodelView } from "../views.ts";

export function baymodelRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  const now = () => (deps.now?.() ?? new Date()).toISOString();

  r.post("/", async (c) => {
    const caller = c.get("caller");
    const body = await readJson(c);
    const model = newBayModel(body, { projectId: caller.projectId, userId: caller.userId }, now());
    if (model.public && !caller.isAdmin)
      throw new ApiError(403, "Not authorized to publish baymodel", "Only administrators may create public baymodels (public: true).");
    await deps.table.putBayModel(model);
    c.header("Location", `${c.get("base")}/v1/baymodels/${model.uuid}`);
    return c.json(baymodelView(model, c.get("base")), 201);
  });

  const list = (detail: boolean) => async (c: Context<ApiEnv>) => {
    const all = await deps.table.listBayModels({ projectId: scope(c.get("caller")) });
    const { page, next } = paginate(all, pageQuery((k) => c.req.query(k)), { noun: "BayModel", nextUrl: `${c.get("base")}/v1/baymodels${detail ? "/detail" : ""}` });
    const view = detail ? baymodelView : baymodelListView;
    return c.json({ baymodels: page.map((m) => view(m, c.get("base"))), ...(next ? { next } : {}) });
  };
  r.get("/", list(false));
  r.get("/detail", list(true));

  r.get("/:ident", async (c) => {
    const m = await getBayModel(deps.table, c.get("caller"), c.req.param("ident"));
    return c.json(baymodelView(m, c.get("base")));
  });

  r.patch("/:ident", async (c) => {
    const caller = c.get("caller");
    const body = await readJson(c);
    const m = await getBayModel(deps.table, caller, c.req.param("ident"));
    if (!caller.isAdmin && m.project_id !== caller.projectId)
      throw new ApiError(403, "Not authorized", `${m.uuid} belongs to another project and cannot be changed.`);
    // a cluster template made without a keypair stays valid when patched as a baymodel
    const fields = m.keypair_id ? BAYMODEL_FIELDS : { ...BAYMODEL_FIELDS, keypair_id: CLUSTER_TEMPLATE_FIELDS.keypair_id };
    const next = patchBayModel(m, body, { resource: "baymodel", fields }, now());
    if (next.public !== m.public && !caller.isAdmin) throw new ApiError(403, "Not authorized to publish", "Only administrators may change public.");
    await deps.table.putBayModel(next);
    return c.json(baymodelView(next, c.get("base")), 200);
  });

  r.delete("/:ident", async (c) => {
    const caller = c.get("caller");
    const m = await getBayModel(deps.table, caller, c.req.param("ident"));
    if (!caller.isAdmin && m.project_id !== caller.projectId)
      throw new ApiError(403, "Not authorized", `BayModel ${m.uuid} belongs to another project and cannot be deleted.`);
    const users = (await deps.table.listBays({})).filter((b) => b.baymodel_id === m.uuid);
    if (users.length)
      throw badRequest(
        `BayModel ${m.uuid} is referenced by one or multiple bays: ${users.map((b) => b.name).join(", ")}. Delete them first.`,
      );
    await deps.table.deleteBayModel(m.uuid);
    return c.body(null, 204);
  });
  return r;
}
