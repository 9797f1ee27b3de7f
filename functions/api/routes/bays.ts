// /v1/bays: accept a bay (stored CREATE_IN_PROGRESS, create message durably enqueued,
// then answered), list and show. The work itself happens in the worker.
import { Hono } from "hono";
import { acceptBay, parseBayRequest } from "../../../shared/domain/bay.ts";
import { ApiError, badRequest } from "../../../shared/domain/errors.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { readJson } from "../request.ts";
import { findBayModel, getBay, scope } from "../lookup.ts";
import { bayListView, bayView } from "../views.ts";
import { atLeast } from "../microversion.ts";
import { checkDeletable, parseBayPatch, planScale } from "../../../shared/domain/bay-update.ts";
import { startDelete, startScale } from "../operations.ts";

export function bayRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();

  r.post("/", async (c) => {
    const caller = c.get("caller");
    const req = parseBayRequest(await readJson(c));
    // Magnum answers 400 (not 404) when the bay's baymodel does not exist.
    const baymodel = await findBayModel(deps.table, caller, req.baymodel_id);
    if (!baymodel) throw badRequest(`BayModel ${req.baymodel_id} could not be found.`);
    const requestId = c.get("requestId");
    const bay = acceptBay(req, baymodel.uuid, { projectId: caller.projectId, userId: caller.userId }, {
      defaultTimeoutMinutes: deps.defaultTimeoutMinutes,
      deadlineGraceMinutes: deps.deadlineGraceMinutes,
      requestId,
      now: deps.now?.() ?? new Date(),
    });
    await deps.table.createBay(bay);
    try {
      await deps.queue.send({ v: 1, kind: "bay.create", bayId: bay.uuid, projectId: bay.project_id, requestId, attempt: 0 });
    } catch (err) {
      // Not enqueued: take the bay back so nothing the user was not told about lingers.
      deps.log.error("enqueue failed; bay withdrawn", { requestId, bay: bay.uuid, err });
      await deps.table.deleteBay(bay.uuid, bay.version).catch(() => {});
      throw new ApiError(503, "Service Unavailable", "The bay could not be queued for creation; nothing was created. Try again.");
    }
    await deps.table
      .appendEvent({ bay_uuid: bay.uuid, at: bay.created_at, kind: "accepted", detail: `bay ${bay.name} accepted`, request_id: requestId })
      .catch((err) => deps.log.warn("event not recorded", { requestId, err }));
    deps.log.info("bay accepted", { requestId, bay: bay.uuid, name: bay.name, project: bay.project_id });
    if (atLeast(c.get("version"), "1.2")) return c.json({ uuid: bay.uuid }, 202);
    c.header("Location", `${c.get("base")}/v1/bays/${bay.uuid}`);
    return c.json(bayView(bay, c.get("base")), 201);
  });

  r.get("/", async (c) => {
    const bays = await deps.table.listBays({ projectId: scope(c.get("caller")) });
    return c.json({ bays: bays.map((b) => bayListView(b, c.get("base"))) });
  });

  r.get("/:ident", async (c) => {
    const bay = await getBay(deps.table, c.get("caller"), c.req.param("ident"));
    return c.json(bayView(bay, c.get("base")));
  });

  // Scale: Magnum mitaka's JSON patch, only /node_count. 1.1 answers 200 with the bay (mitaka
  // was synchronous), ≥ 1.2 answers 202 with {uuid} as Newton+ does.
  r.patch("/:ident", async (c) => {
    const body = await readJson(c);
    const bay = await getBay(deps.table, c.get("caller"), c.req.param("ident"));
    const update = planScale(bay, parseBayPatch(body, bay), { now: deps.now?.() ?? new Date(), requestId: c.get("requestId") });
    const saved = await startScale(deps, bay, update, c.get("requestId"), deadlineMinutes(deps, bay));
    if (atLeast(c.get("version"), "1.2")) return c.json({ uuid: saved.uuid }, 202);
    return c.json(bayView(saved, c.get("base")), 200);
  });

  r.delete("/:ident", async (c) => {
    const bay = await getBay(deps.table, c.get("caller"), c.req.param("ident"));
    checkDeletable(bay);
    await startDelete(deps, bay, c.get("requestId"));
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

/** An update gets the bay's create timeout (or the default) plus the grace, like a create. */
export function deadlineMinutes(deps: ApiDeps, bay: { bay_create_timeout: number }): number {
  return bay.bay_create_timeout > 0 ? bay.bay_create_timeout + deps.deadlineGraceMinutes : 0;
}
