// /v1/bays: accept a bay (stored CREATE_IN_PROGRESS, create message durably enqueued,
// then answered), list and show. The work itself happens in the worker.
import { Hono, type Context } from "hono";
import { pageQuery, paginate } from "../pagination.ts";
import { BAY_FIELDS, parseBayRequest } from "../../../shared/domain/bay.ts";
import { fromJson, kindsOf } from "../wsme-json.ts";

const BAY_KINDS = kindsOf(BAY_FIELDS);
import { badRequest } from "../../../shared/domain/errors.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { readJson } from "../request.ts";
import { findBayModel, getBay, scope } from "../../../shared/bays/lookup.ts";
import { bayListView, bayView } from "../views.ts";
import { atLeast, removedAt } from "../microversion.ts";
import { parseBayPatch } from "../../../shared/domain/bay-update.ts";
import { acceptAndEnqueue } from "../../../shared/bays/accept.ts";
import { deleteBay, scaleBay } from "../../../shared/bays/operate.ts";

export function bayRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  r.use(removedAt("1.11", "bays", "/v1/clusters"));

  r.post("/", async (c) => {
    const caller = c.get("caller");
    const req = parseBayRequest(fromJson(await readJson(c), BAY_KINDS, ["discovery_url"]), deps.maxNodesPerBay);
    // Magnum answers 400 (not 404) when the bay's baymodel does not exist.
    const baymodel = await findBayModel(deps.table, caller, req.baymodel_id);
    if (!baymodel) throw badRequest(`BayModel ${req.baymodel_id} could not be found.`);
    if (!baymodel.keypair_id) throw badRequest(`BayModel ${baymodel.uuid} has no keypair_id; a bay needs one (create the bay as a cluster with a keypair, or use another baymodel).`);
    const bay = await acceptAndEnqueue(deps, caller, req, baymodel, c.get("requestId"), c.get("base"));
    if (atLeast(c.get("version"), "1.2")) return c.json({ uuid: bay.uuid }, 202);
    c.header("Location", `${c.get("base")}/v1/bays/${bay.uuid}`);
    return c.json(bayView(bay, c.get("base")), 201);
  });

  const list = (detail: boolean) => async (c: Context<ApiEnv>) => {
    const all = await deps.table.listBays({ projectId: scope(c.get("caller")) });
    const { page, next } = paginate(all, pageQuery((k) => c.req.query(k)), { noun: "Bay", nextUrl: `${c.get("base")}/v1/bays${detail ? "/detail" : ""}` });
    const view = detail ? bayView : bayListView;
    return c.json({ bays: page.map((b) => view(b, c.get("base"))), ...(next ? { next } : {}) });
  };
  r.get("/", list(false));
  r.get("/detail", list(true));

  r.get("/:ident", async (c) => {
    const bay = await getBay(deps.table, c.get("caller"), c.req.param("ident"));
    return c.json(bayView(bay, c.get("base")));
  });

  // Scale: Magnum mitaka's JSON patch, only /node_count. 1.1 answers 200 with the bay (mitaka
  // was synchronous), ≥ 1.2 answers 202 with {uuid} as Newton+ does.
  r.patch("/:ident", async (c) => {
    const body = await readJson(c);
    const bay = await getBay(deps.table, c.get("caller"), c.req.param("ident"));
    const { bay: saved } = await scaleBay(deps, c.get("caller"), bay, parseBayPatch(body, bay, deps.maxNodesPerBay), c.get("requestId"));
    if (atLeast(c.get("version"), "1.2")) return c.json({ uuid: saved.uuid }, 202);
    return c.json(bayView(saved, c.get("base")), 200);
  });

  r.delete("/:ident", async (c) => {
    const bay = await getBay(deps.table, c.get("caller"), c.req.param("ident"));
    await deleteBay(deps, c.get("caller"), bay, c.get("requestId"));
    return c.body(null, 204);
  });

  // Bayforge's own: what happened to the bay, step by step, with times.
  r.get("/:ident/events", async (c) => {
    const bay = await getBay(deps.table, c.get("caller"), c.req.param("ident"));
    const events = await deps.table.listEvents(bay.uuid);
    return c.json({ bay_uuid: bay.uuid, events: events.map(({ bay_uuid: _b, ...e }) => e) });
  });
  return r;
}
