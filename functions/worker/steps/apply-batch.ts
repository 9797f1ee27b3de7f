// batch.apply: the fan-out of a batch manifest (POST /v1/batches). Idempotent, as every step:
// baymodels are found by (project, name) before being made; a bay is found by (project, name)
// and is created only when absent, scaled when its node_count differs and it is *_COMPLETE, and
// left alone otherwise. Each bay's outcome is recorded on the batch as it goes, so a
// redelivery skips what is done. A lease on the batch keeps two deliveries from fanning out at
// once. Bays are created and scaled with the bay operations (shared/bays: acceptAndEnqueue,
// scaleBay): the same records, messages, trusts and events as POST/PATCH.
import { randomUUID } from "node:crypto";
import type { WorkMessage } from "../../../shared/ports/work-queue.ts";
import type { Batch, BatchItem, BatchStore } from "../../../shared/ports/batch-store.ts";
import type { WorkerDeps } from "../deps.ts";
import type { BayOpsDeps, Caller } from "../../../shared/bays/deps.ts";
import { acceptAndEnqueue } from "../../../shared/bays/accept.ts";
import { scaleBay } from "../../../shared/bays/operate.ts";
import { mapLimit } from "../../../shared/concurrency.ts";
import { newBayModel } from "../../../shared/domain/baymodel.ts";
import { ApiError } from "../../../shared/domain/errors.ts";
import { looksLikeUuid } from "../../../shared/domain/bay.ts";
import { isInProgress } from "../../../shared/domain/status.ts";
import { isVisible } from "../../../shared/domain/baymodel.ts";
import type { Bay, BayModel } from "../../../shared/domain/model.ts";

export const BATCH_PARALLELISM = 8;
const LEASE_MS = 120_000;
const BUSY_RETRY_SECONDS = 15;
const STUCK_AFTER_MS = 60 * 60_000;

const withBatches = (d: WorkerDeps): { batches: BatchStore; ops: BayOpsDeps } => {
  if (!d.batches || !d.batchOps) throw Object.assign(new Error("batch.apply: this worker has no batch store"), { retryable: false });
  return { batches: d.batches, ops: d.batchOps };
};

/** The worker's deps plus what batch.apply needs. */
export function addBatches(d: WorkerDeps, batches: BatchStore, ops: BayOpsDeps): WorkerDeps {
  return { ...d, batches, batchOps: ops };
}

export async function applyBatch(msg: WorkMessage, deps: WorkerDeps): Promise<void> {
  const { batches, ops } = withBatches(deps);
  const id = msg.batchId ?? msg.bayId;
  const log = deps.log.child({ batch: id, requestId: msg.requestId });
  const batch = await batches.getBatch(id);
  if (!batch || batch.status === "applied") return;
  const holder = randomUUID();
  if (!(await batches.lease(id, holder, new Date(deps.now().getTime() + LEASE_MS), deps.now()))) {
    // another delivery is fanning it out: look again later (it may die; its lease then expires)
    await deps.queue.send(msg, { delaySeconds: BUSY_RETRY_SECONDS });
    return;
  }
  try {
    const before = await earlierBatchApplying(batches, batch, deps.now());
    if (before) {
      log.info("batch waits for an earlier batch of its project", { earlier: before });
      await deps.queue.send(msg, { delaySeconds: BUSY_RETRY_SECONDS });
      return;
    }
    await fanOut(batch, msg, deps, batches, ops, holder, log);
  } catch (e) {
    // never retryable at handleMessage's level (it retries bays, not batches): redelivered
    throw Object.assign(new Error(`batch ${id}: ${(e as Error).message}`, { cause: e }), { retryable: false });
  } finally {
    await batches.release(id, holder).catch(() => {});
  }
}

/**
 * Batches of one project are applied in the order they were accepted: two fanning out at once
 * would each find a bay absent and each create it. An earlier batch still applying after
 * STUCK_AFTER_MS is taken to be stuck (its messages lost) and no longer waited for.
 */
async function earlierBatchApplying(batches: BatchStore, batch: Batch, now: Date): Promise<string | undefined> {
  const key = (b: { created_at: string; id: string }) => `${b.created_at} ${b.id}`;
  const earlier = (await batches.listBatches(batch.project_id)).find(
    (b) => b.status === "applying" && key(b) < key(batch) && now.getTime() - Date.parse(b.created_at) < STUCK_AFTER_MS,
  );
  return earlier?.id;
}

async function fanOut(batch: Batch, msg: WorkMessage, deps: WorkerDeps, batches: BatchStore, ops: BayOpsDeps, holder: string, log: WorkerDeps["log"]): Promise<void> {
  const caller: Caller = {
    projectId: batch.project_id,
    userId: batch.user_id,
    isAdmin: batch.caller?.is_admin ?? false,
    ...(batch.token_encrypted ? { token: await deps.vault.decrypt(batch.token_encrypted, `batch:${batch.id}:token`) } : {}),
    ...(batch.caller?.roles ? { roles: batch.caller.roles } : {}),
    ...(batch.caller?.token_expires_at ? { tokenExpiresAt: new Date(batch.caller.token_expires_at) } : {}),
    userName: batch.caller?.user_name,
    projectName: batch.caller?.project_name,
  };
  const now = () => deps.now();

  // 1. the manifest's baymodels, by (project, name): made when missing, never changed
  const visible = await ops.table.listBayModels({ projectId: batch.project_id });
  const models = new Map<string, BayModel>();
  for (const m of batch.manifest.baymodels) {
    const own = visible.filter((v) => v.project_id === batch.project_id && v.name === m.name);
    let model = own[0];
    if (!model) {
      model = newBayModel({ name: m.name, ...m.fields }, { projectId: batch.project_id, userId: batch.user_id }, now().toISOString());
      await ops.table.putBayModel(model);
      log.info("batch baymodel created", { baymodel: model.uuid, name: m.name });
    }
    models.set(m.name, model);
  }
  const modelFor = (ref: string): BayModel | undefined => {
    const inManifest = models.get(ref);
    if (inManifest) return inManifest;
    if (looksLikeUuid(ref)) return visible.find((v) => v.uuid === ref.toLowerCase() && isVisible(v, batch.project_id));
    const named = visible.filter((v) => v.name === ref);
    return named.length === 1 ? named[0] : undefined;
  };

  // 2. the bays, by (project, name)
  const existing = new Map<string, Bay[]>();
  for (const b of await ops.table.listBays({ projectId: batch.project_id })) existing.set(b.name, [...(existing.get(b.name) ?? []), b]);
  const todo = batch.items.map((it, i) => ({ it, i })).filter(({ it }) => it.action === "pending");
  let lastRetryable: string | undefined;
  const record = async (i: number, item: BatchItem) => {
    await batches.setItem(batch.id, i, { ...item, at: now().toISOString() });
    await batches.lease(batch.id, holder, new Date(now().getTime() + LEASE_MS), now());
  };
  const one = async (i: number) => {
    const want = batch.manifest.bays[i];
    const name = want.name;
    try {
      const same = existing.get(name) ?? [];
      if (same.length > 1) return record(i, { name, action: "failed", reason: `${same.length} bays are named ${name} in the project; rename or delete all but one` });
      const bay = same[0];
      if (!bay) {
        const model = modelFor(want.baymodel);
        if (!model) return record(i, { name, action: "failed", reason: `baymodel ${want.baymodel} could not be found` });
        const req = {
          name,
          baymodel_id: model.uuid,
          node_count: want.node_count ?? 1,
          master_count: want.master_count ?? 1,
          bay_create_timeout: want.bay_create_timeout ?? null,
          discovery_url: want.discovery_url ?? null,
        };
        const made = await acceptAndEnqueue(ops, caller, req, model, batch.request_id, ops.publicUrl ?? "");
        return record(i, { name, action: "create", bay_uuid: made.uuid });
      }
      // made by this batch in an earlier delivery that died before recording it
      if (bay.request_id === batch.request_id && bay.status === "CREATE_IN_PROGRESS") return record(i, { name, action: "create", bay_uuid: bay.uuid });
      const count = want.node_count ?? 1;
      const notes = want.master_count !== undefined && want.master_count !== bay.master_count ? `master_count is ${bay.master_count} (the manifest says ${want.master_count}); only node_count is applied` : undefined;
      if (count === bay.node_count) return record(i, { name, action: "unchanged", bay_uuid: bay.uuid, ...(notes ? { reason: notes } : {}) });
      if (bay.update?.request_id === batch.request_id) return record(i, { name, action: "scale", bay_uuid: bay.uuid });
      if (isInProgress(bay.status) || !bay.status.endsWith("_COMPLETE") || bay.status === "DELETE_COMPLETE")
        return record(i, { name, action: "failed", bay_uuid: bay.uuid, reason: `bay is ${bay.status}: node_count stays ${bay.node_count} (apply again once it is CREATE_COMPLETE or UPDATE_COMPLETE)` });
      const { bay: saved } = await scaleBay(ops, caller, bay, { node_count: count, nodes_to_remove: [] }, batch.request_id);
      return record(i, { name, action: "scale", bay_uuid: saved.uuid, ...(notes ? { reason: notes } : {}) });
    } catch (e) {
      // the user's answer (refused by Keystone, a conflict, bad input): that bay failed
      if (e instanceof ApiError && e.status < 500) return record(i, { name, action: "failed", reason: e.detail });
      // anything else may pass: the bay stays pending for the next attempt
      lastRetryable = e instanceof ApiError ? e.detail : (e as Error).message;
      log.warn("batch bay not applied; will retry", { bay: name, err: e });
    }
  };
  await mapLimit(todo, BATCH_PARALLELISM, ({ i }) => one(i));

  const after = await batches.getBatch(batch.id);
  const left = (after?.items ?? []).map((it, i) => ({ it, i })).filter(({ it }) => it.action === "pending");
  if (left.length && msg.attempt < deps.retryDelays.length) {
    const delay = deps.retryDelays[msg.attempt];
    log.warn("batch: bays left pending; retrying", { pending: left.length, delaySeconds: delay });
    await deps.queue.send({ ...msg, attempt: msg.attempt + 1 }, { delaySeconds: delay });
    return;
  }
  for (const { it, i } of left) await batches.setItem(batch.id, i, { ...it, action: "failed", reason: `not applied after ${msg.attempt + 1} attempts: ${lastRetryable ?? "unknown error"}`, at: now().toISOString() });
  await finish(batches, after ?? batch, now());
  log.info("batch applied", { bays: batch.items.length, failed: left.length });
}

/** The fan-out is over: the batch is applied and the caller's token is gone from the record. */
async function finish(batches: BatchStore, batch: Batch, at: Date): Promise<void> {
  await batches.updateBatch({ ...batch, status: "applied", token_encrypted: null, updated_at: at.toISOString() });
}

/** Dead-letter path: the batch's bays still pending are failed and the token removed. */
export async function deadLetterBatch(batchId: string, receiveCount: number, deps: WorkerDeps): Promise<void> {
  const store = deps.batches;
  if (!store) return;
  const batch = await store.getBatch(batchId);
  if (!batch || batch.status === "applied") return;
  const at = deps.now();
  for (let i = 0; i < batch.items.length; i++)
    if (batch.items[i].action === "pending")
      await store.setItem(batchId, i, { ...batch.items[i], action: "failed", reason: `Bayforge could not apply the batch after ${receiveCount} deliveries; see the worker logs`, at: at.toISOString() });
  await finish(store, batch, at);
}
