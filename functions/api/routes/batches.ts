// /v1/batches (Bayforge's own; `bayforge apply -f bays.yaml`): a manifest of baymodels and bays,
// applied like `kubectl apply`. POST checks the WHOLE manifest first (every problem reported
// at once with its path; nothing stored or queued when any is wrong), stores the batch and
// enqueues ONE batch.apply message: the fan-out (one bay at a time, create or scale) runs in
// the worker, so a 1,000-bay manifest answers at once. GET reports each bay and a summary.
import { Hono } from "hono";
import { randomUUID } from "node:crypto";
import { ApiError } from "../../../shared/domain/errors.ts";
import { bayNetworkProblem, checkManifest, loadManifestText, manifestError, type ManifestProblem } from "../../../shared/domain/manifest.ts";
import type { Batch, BatchStore } from "../../../shared/ports/batch-store.ts";
import type { Bay } from "../../../shared/domain/model.ts";
import { isFailed, isInProgress } from "../../../shared/domain/status.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { findBayModel } from "../../../shared/bays/lookup.ts";

const YAML_TYPES = /^(application|text)\/(x-)?yaml\b/i;
const JSON_TYPES = /^application\/(.+\+)?json\b/i;

export function batchRoutes(deps: ApiDeps & { batches: BatchStore }): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();

  r.post("/", async (c) => {
    const caller = c.get("caller");
    const type = c.req.header("content-type");
    if (type && !YAML_TYPES.test(type) && !JSON_TYPES.test(type))
      throw new ApiError(415, "Unsupported media type", `Content-Type ${type} is not supported; send the manifest as application/yaml, text/yaml or application/json.`);
    // JSON is YAML too: one parser for both (CORE_SCHEMA), errors with line and column
    const { manifest, problems, externalBaymodels } = checkManifest(loadManifestText(await c.req.text()), deps.maxNodesPerBay);
    const more: ManifestProblem[] = [];
    for (const ref of externalBaymodels) {
      try {
        const m = await findBayModel(deps.table, caller, ref.name);
        if (!m) more.push({ path: ref.path, message: `baymodel '${ref.name}' is neither in the manifest's baymodels nor an existing baymodel` });
        else if (!m.keypair_id) more.push({ path: ref.path, message: `baymodel '${ref.name}' has no keypair_id; a bay needs one` });
        else {
          const network = bayNetworkProblem(ref.bay, m);
          if (network) more.push({ path: ref.path.replace(/\.baymodel$/, ""), message: network });
        }
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        more.push({ path: ref.path, message: e.detail });
      }
    }
    if (problems.length || more.length) throw manifestError([...problems, ...more]);
    if (deps.identity && (!caller.token || !caller.roles?.length))
      throw new ApiError(401, "Unauthorized", "A Keystone token with roles on the project is needed to act on bays.");

    const id = randomUUID();
    const now = (deps.now?.() ?? new Date()).toISOString();
    const requestId = c.get("requestId");
    const batch: Batch = {
      id,
      project_id: caller.projectId,
      user_id: caller.userId,
      created_at: now,
      updated_at: null,
      status: "applying",
      manifest,
      items: manifest.bays.map((b) => ({ name: b.name, action: "pending" })),
      request_id: requestId,
      // Keystone mode: the worker makes each bay's trusts as the caller, so it needs the
      // caller's token until the fan-out ends (then it is removed from the record).
      ...(deps.identity
        ? {
            token_encrypted: await deps.vault.encrypt(caller.token!, `batch:${id}:token`),
            caller: { roles: caller.roles, user_name: caller.userName, project_name: caller.projectName, is_admin: caller.isAdmin, token_expires_at: caller.tokenExpiresAt?.toISOString() },
          }
        : {}),
    };
    await deps.batches.createBatch(batch);
    try {
      await deps.queue.send({ v: 1, kind: "batch.apply", bayId: id, batchId: id, projectId: caller.projectId, requestId, attempt: 0 });
    } catch (err) {
      deps.log.error("enqueue failed; batch withdrawn", { requestId, batch: id, err });
      await deps.batches.updateBatch({ ...batch, status: "applied", token_encrypted: null, updated_at: now }).catch(() => {});
      for (let i = 0; i < batch.items.length; i++)
        await deps.batches.setItem(id, i, { name: batch.items[i].name, action: "failed", reason: "not queued; nothing was applied" }).catch(() => {});
      throw new ApiError(503, "Service Unavailable", "The batch could not be queued; nothing was applied. Try again.");
    }
    deps.log.info("batch accepted", { requestId, batch: id, bays: manifest.bays.length, baymodels: manifest.baymodels.length, project: caller.projectId });
    const base = c.get("base");
    c.header("Location", `${base}/v1/batches/${id}`);
    return c.json({ uuid: id, links: links(base, id) }, 202);
  });

  r.get("/:id", async (c) => {
    const caller = c.get("caller");
    const batch = await deps.batches.getBatch(c.req.param("id").toLowerCase());
    if (!batch || (!caller.isAdmin && batch.project_id !== caller.projectId)) throw new ApiError(404, `Batch ${c.req.param("id")} could not be found.`);
    return c.json(await batchView(deps, batch, c.get("base")));
  });
  return r;
}

const links = (base: string, id: string) => [
  { href: `${base}/v1/batches/${id}`, rel: "self" },
  { href: `${base}/batches/${id}`, rel: "bookmark" },
];

/**
 * The batch with each bay's current status. Summary: `create`/`scale`/`unchanged`/`pending`
 * count what the fan-out did (or has yet to do); `complete`/`in_progress`/`failed` count where
 * the bays are now (failed: the fan-out could not act, or the bay is *_FAILED or gone);
 * `done` once nothing is pending or in progress.
 */
export async function batchView(deps: ApiDeps, batch: Batch, base: string) {
  const summary = { total: batch.items.length, create: 0, scale: 0, unchanged: 0, pending: 0, complete: 0, in_progress: 0, failed: 0 };
  const bays = await Promise.all(batch.items.map((it) => (it.bay_uuid ? deps.table.getBay(it.bay_uuid) : Promise.resolve(undefined as Bay | undefined))));
  const items = batch.items.map((it, i) => {
    const bay = bays[i];
    if (it.action !== "failed") summary[it.action]++;
    let state: "pending" | "complete" | "in_progress" | "failed";
    if (it.action === "pending") state = "in_progress";
    else if (it.action === "failed") state = "failed";
    else if (!bay) state = "failed";
    else if (isInProgress(bay.status)) state = "in_progress";
    else if (isFailed(bay.status)) state = "failed";
    else state = "complete";
    summary[state]++;
    return {
      name: it.name,
      action: it.action,
      bay_uuid: it.bay_uuid ?? null,
      status: bay?.status ?? (it.bay_uuid ? "DELETED" : null),
      status_reason: bay?.status_reason ?? null,
      node_count: bay?.node_count ?? null,
      reason: it.reason ?? null,
    };
  });
  return {
    uuid: batch.id,
    status: batch.status,
    created_at: batch.created_at,
    updated_at: batch.updated_at,
    done: batch.status === "applied" && summary.in_progress === 0,
    summary,
    baymodels: batch.manifest.baymodels.map((m) => m.name),
    bays: items,
    links: links(base, batch.id),
  };
}
