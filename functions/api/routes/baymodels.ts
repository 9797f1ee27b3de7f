// /v1/baymodels: create, list, show, delete (Magnum mitaka BayModelsController).
import { Hono, type Context } from "hono";
import { pageQuery, paginate } from "../pagination.ts";
import { BAYMODEL_FIELDS, newBayModel } from "../../../shared/domain/baymodel.ts";
import { deleteModel, patchModel } from "../baymodel-changes.ts";
import { CLUSTER_TEMPLATE_FIELDS } from "../../../shared/domain/cluster.ts";
import { ApiError } from "../../../shared/domain/errors.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { readJson } from "../request.ts";
import { getBayModel, scope } from "../../../shared/bays/lookup.ts";
import { baymodelListView, baymodelView } from "../views.ts";
import { removedAt } from "../microversion.ts";
import { fromJson, fromJsonPatch, kindsOf } from "../wsme-json.ts";

const KINDS = kindsOf(BAYMODEL_FIELDS);

export function baymodelRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  r.use(removedAt("1.11", "baymodels", "/v1/clustertemplates"));
  const now = () => (deps.now?.() ?? new Date()).toISOString();

  r.post("/", async (c) => {
    const caller = c.get("caller");
    const body = fromJson(await readJson(c), KINDS);
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
    const body = fromJsonPatch(await readJson(c), KINDS);
    const m = await getBayModel(deps.table, caller, c.req.param("ident"));
    // a cluster template made without a keypair stays valid when patched as a baymodel
    const fields = m.keypair_id ? BAYMODEL_FIELDS : { ...BAYMODEL_FIELDS, keypair_id: CLUSTER_TEMPLATE_FIELDS.keypair_id };
    const next = await patchModel(deps, caller, m, body, { resource: "baymodel", fields }, now());
    return c.json(baymodelView(next, c.get("base")), 200);
  });

  r.delete("/:ident", async (c) => {
    const caller = c.get("caller");
    const m = await getBayModel(deps.table, caller, c.req.param("ident"));
    await deleteModel(deps, caller, m, { noun: "BayModel", users: "bays" });
    return c.body(null, 204);
  });
  return r;
}
