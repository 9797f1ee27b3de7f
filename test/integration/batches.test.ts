// Batch manifests: POST /v1/batches validates everything first (every problem with its path,
// nothing stored or queued), stores the batch and enqueues one batch.apply; the worker's
// fan-out (run here directly on the same SQLite stores, with what it enqueues checked instead
// of a Heat) creates, leaves alone or scales each bay; GET /v1/batches/{id} reports them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { dump } from "js-yaml";
import { startApi, BAYMODEL, type ApiHarness } from "../support/api-harness.ts";
import { addBatches } from "../../functions/worker/steps/apply-batch.ts";
import { handleMessage, parseMessage } from "../../functions/worker/handle-message.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { parseManifest } from "../../shared/domain/manifest.ts";
import { ApiError } from "../../shared/domain/errors.ts";

let api: ApiHarness;
let worker: WorkerDeps;
before(async () => {
  api = await startApi({ BAYFORGE_PUBLIC_URL: "http://bayforge.test:9511" });
  const log = createLogger({}, "error", () => {});
  const base = {
    table: api.stores.table,
    queue: api.stores.queue,
    vault: api.vault,
    log,
    now: () => new Date(),
    retryDelays: [1, 2],
    pollDelays: [1],
    heatFor: () => {
      throw new Error("no Heat in this test: bay.create is only enqueued");
    },
    definitionContext: () => Promise.reject(new Error("unused")),
    template: () => {
      throw new Error("unused");
    },
  } as unknown as WorkerDeps;
  worker = addBatches(base, api.stores.batches, {
    table: api.stores.table,
    queue: api.stores.queue,
    vault: api.vault,
    log,
    discovery: api.stores.discovery,
    defaultTimeoutMinutes: 60,
    deadlineGraceMinutes: 10,
    publicUrl: "http://bayforge.test:9511",
    // one project applies manifests of up to 1,000 bays here (quotas: test/integration/quotas-api.test.ts)
    maxClustersPerProject: -1,
  });
});
after(() => api.close());

/** Takes every visible message off the queue. */
async function drain(): Promise<WorkMessage[]> {
  const out: WorkMessage[] = [];
  for (;;) {
    const got = await api.stores.queue.receive(10, 60);
    if (!got.length) return out;
    for (const m of got) {
      out.push(m.body);
      await api.stores.queue.delete(m.receipt);
    }
  }
}

const MODEL = { name: "batch-model", ...Object.fromEntries(Object.entries(BAYMODEL).filter(([k]) => k !== "name")) };
const manifest = (n: number, o: { counts?: Record<string, number> } = {}) => ({
  baymodels: [MODEL],
  bays: Array.from({ length: n }, (_, i) => ({ name: `fleet-${i}`, baymodel: "batch-model", node_count: o.counts?.[`fleet-${i}`] ?? 1 })),
});
const postYaml = (doc: unknown) => api.call("POST", "/v1/batches", dump(doc), { "content-type": "application/yaml" });

/** POST, then the fan-out the way the worker runs it: the one batch.apply message through handleMessage. */
async function applyAndFanOut(doc: unknown): Promise<{ id: string; messages: WorkMessage[] }> {
  const r = await postYaml(doc);
  assert.equal(r.status, 202, JSON.stringify(r.json));
  const queued = await drain();
  assert.deepEqual(queued.map((m) => m.kind), ["batch.apply"], "one message for the whole batch");
  assert.equal(queued[0].batchId, r.json.uuid);
  await handleMessage(parseMessage(queued[0]), worker);
  return { id: r.json.uuid, messages: await drain() };
}

describe("manifest validation", () => {
  it("reports every mistake with its path, and stores and queues nothing", async () => {
    const before = await api.counts();
    const bad = {
      baymodels: [{ name: "m1", coe: "kubernetes", keypair_id: "k", external_network_id: "public" }], // 1: no image_id
      bays: [
        { name: "ok-1", baymodel: "m1" },
        { name: "ok-2", baymodel: "m1", node_count: 0 }, // 2
        { name: "9bad", baymodel: "m1" }, // 3: name pattern
        { name: "ok-1", baymodel: "m1" }, // 4: duplicate
        { name: "ok-5", baymodel: "nowhere" }, // 5: unknown baymodel
      ],
    };
    const r = await postYaml(bad);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    const detail: string = r.json.errors[0].detail;
    assert.match(detail, /has 5 problems; nothing was applied/);
    assert.match(detail, /^baymodels\[0\]: missing image_id$/m);
    assert.match(detail, /^bays\[1\]\.node_count: Value: '0'\. Value should be greater or equal to 1$/m);
    assert.match(detail, /^bays\[2\]\.name: Value: '9bad'/m);
    assert.match(detail, /^bays\[3\]\.name: duplicate name 'ok-1' \(also bays\[0\]\)$/m);
    assert.match(detail, /^bays\[4\]\.baymodel: baymodel 'nowhere' is neither in the manifest's baymodels nor an existing baymodel$/m);
    assert.deepEqual(await api.counts(), before, "nothing stored or queued");
  });

  it("reports bays with several masters and no load balancer, on the manifest's baymodels and on existing ones", async () => {
    const m = await api.call("POST", "/v1/baymodels", { ...BAYMODEL, name: "no-lb-model" });
    assert.equal(m.status, 201);
    const before = await api.counts();
    const r = await postYaml({
      baymodels: [{ name: "lb", coe: "kubernetes", image_id: "img", keypair_id: "k", external_network_id: "public", master_lb_enabled: true }],
      bays: [
        { name: "ha-ok", baymodel: "lb", master_count: 3 },
        { name: "ha-no-lb", baymodel: "no-lb-model", master_count: 3 },
      ],
    });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(r.json.errors[0].detail, /has 1 problem; nothing was applied/);
    assert.match(r.json.errors[0].detail, /^bays\[1\]: master_count must be 1 when master_lb_enabled is False/m);
    assert.deepEqual(await api.counts(), before, "nothing stored or queued");
  });

  it("reports bad YAML with its line, unknown keys, and the bounds", async () => {
    const r = await api.call("POST", "/v1/batches", "bays:\n  - name: a\n   baymodel: x\n", { "content-type": "text/yaml" });
    assert.equal(r.status, 400);
    assert.match(r.json.errors[0].detail, /^line 3, column \d+: not valid YAML/m);
    assert.throws(
      () => parseManifest({ bays: Array.from({ length: 1001 }, (_, i) => ({ name: `b${i}`, baymodel: "m", extra: 1 })).slice(0, 1001), other: 1 }),
      (e: ApiError) => /^other: unknown key/m.test(e.detail) && /^bays: 1001 items; a manifest holds at most 1000 bays$/m.test(e.detail) && /^bays\[0\]\.extra: unknown attribute/m.test(e.detail),
    );
    const t = await api.call("POST", "/v1/batches", "x", { "content-type": "text/plain" });
    assert.equal(t.status, 415);
  });

  it("accepts JSON as well, and a bay naming an existing baymodel", async () => {
    const m = await api.call("POST", "/v1/baymodels", { ...BAYMODEL, name: "existing-model" });
    assert.equal(m.status, 201);
    const r = await api.call("POST", "/v1/batches", { bays: [{ name: "json-bay", baymodel: "existing-model" }] });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const [apply] = await drain();
    assert.equal(apply.kind, "batch.apply");
    // applied, so that the later batches of this project need not wait for it
    await handleMessage(parseMessage(apply), worker);
    assert.deepEqual((await drain()).map((m) => m.kind), ["bay.create"]);
    assert.equal((await api.call("GET", `/v1/batches/${r.json.uuid}`)).json.status, "applied");
  });
});

describe("applying a manifest (fan-out in the worker, stand-in Heat: messages checked)", () => {
  let id: string;
  it("a good manifest of 20 bays → 202 and one batch.apply; the fan-out makes 20 bays CREATE_IN_PROGRESS and 20 bay.create messages", async () => {
    const baysBefore = (await api.stores.table.listBays({})).length;
    const res = await applyAndFanOut(manifest(20));
    id = res.id;
    assert.equal(res.messages.filter((m) => m.kind === "bay.create").length, 20);
    assert.equal(res.messages.length, 20);
    const bays = (await api.stores.table.listBays({})).filter((b) => b.name.startsWith("fleet-"));
    assert.equal(bays.length, 20);
    assert.equal((await api.stores.table.listBays({})).length, baysBefore + 20);
    assert.ok(bays.every((b) => b.status === "CREATE_IN_PROGRESS"));
    const models = (await api.stores.table.listBayModels({})).filter((m) => m.name === "batch-model");
    assert.equal(models.length, 1, "the manifest's baymodel was created once");
    assert.ok(bays.every((b) => b.baymodel_id === models[0].uuid));

    const g = await api.call("GET", `/v1/batches/${id}`);
    assert.equal(g.status, 200);
    assert.equal(g.json.status, "applied");
    assert.deepEqual(g.json.summary, { total: 20, create: 20, scale: 0, unchanged: 0, pending: 0, complete: 0, in_progress: 20, failed: 0 });
    assert.equal(g.json.done, false);
    assert.equal(g.json.bays[3].name, "fleet-3");
    assert.equal(g.json.bays[3].status, "CREATE_IN_PROGRESS");
    assert.ok(!("token_encrypted" in g.json));
  });

  it("a redelivered batch.apply does nothing more", async () => {
    await handleMessage({ v: 1, kind: "batch.apply", bayId: id, batchId: id, projectId: "default", requestId: "r", attempt: 0 }, worker);
    assert.equal((await drain()).length, 0);
    assert.equal((await api.stores.table.listBays({})).filter((b) => b.name.startsWith("fleet-")).length, 20);
  });

  it("two batches naming the same bays, fanned out at once: the later waits for the earlier, and each bay is made once", async () => {
    const doc = { baymodels: [MODEL], bays: Array.from({ length: 5 }, (_, i) => ({ name: `overlap-${i}`, baymodel: "batch-model", node_count: 1 })) };
    const first = await postYaml(doc);
    const second = await postYaml(doc);
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    const queued = await drain();
    const msgOf = (id: string) => queued.find((m) => m.batchId === id)!;
    const depthBefore = (await api.stores.queue.stats()).delayed;
    // the later batch's delivery first, both running at once
    await Promise.all([handleMessage(parseMessage(msgOf(second.json.uuid)), worker), handleMessage(parseMessage(msgOf(first.json.uuid)), worker)]);
    const bays = () => api.stores.table.listBays({}).then((all) => all.filter((b) => b.name.startsWith("overlap-")));
    assert.equal((await bays()).length, 5, "one bay per name");
    assert.equal((await drain()).filter((m) => m.kind === "bay.create").length, 5);
    assert.equal((await api.stores.queue.stats()).delayed, depthBefore + 1, "the later batch put itself back on the queue, delayed");
    assert.equal((await api.call("GET", `/v1/batches/${first.json.uuid}`)).json.summary.create, 5);
    // its redelivery, once the earlier batch is applied: nothing more to make
    await handleMessage(parseMessage(msgOf(second.json.uuid)), worker);
    assert.equal((await bays()).length, 5);
    const later = await api.call("GET", `/v1/batches/${second.json.uuid}`);
    assert.equal(later.json.status, "applied");
    assert.equal(later.json.summary.create, 0);
    assert.equal(later.json.summary.unchanged, 5);
  });

  it("applying the same manifest again creates nothing (all unchanged)", async () => {
    const res = await applyAndFanOut(manifest(20));
    assert.equal(res.messages.length, 0);
    assert.equal((await api.stores.table.listBays({})).filter((b) => b.name.startsWith("fleet-")).length, 20);
    assert.equal((await api.stores.table.listBayModels({})).filter((m) => m.name === "batch-model").length, 1);
    const g = await api.call("GET", `/v1/batches/${res.id}`);
    assert.equal(g.json.summary.unchanged, 20);
    assert.equal(g.json.summary.create, 0);
  });

  it("changing one bay's node_count scales that bay only (once the bays are CREATE_COMPLETE)", async () => {
    for (const b of (await api.stores.table.listBays({})).filter((b) => b.name.startsWith("fleet-")))
      await api.stores.table.updateBay({ ...b, status: "CREATE_COMPLETE", stack_id: "s", version: b.version + 1 }, b.version);
    const res = await applyAndFanOut(manifest(20, { counts: { "fleet-7": 3 } }));
    assert.deepEqual(res.messages.map((m) => m.kind), ["bay.update"]);
    const scaled = (await api.stores.table.listBays({})).find((b) => b.name === "fleet-7")!;
    assert.equal(res.messages[0].bayId, scaled.uuid);
    assert.equal(scaled.status, "UPDATE_IN_PROGRESS");
    assert.equal(scaled.node_count, 3);
    const g = await api.call("GET", `/v1/batches/${res.id}`);
    assert.equal(g.json.summary.scale, 1);
    assert.equal(g.json.summary.unchanged, 19);
    assert.equal(g.json.summary.complete, 19);
    assert.equal(g.json.summary.in_progress, 1);
    assert.equal(g.json.bays[7].action, "scale");
  });

  it("a bay whose node_count differs while it is in progress is reported failed, not scaled", async () => {
    const res = await applyAndFanOut(manifest(20, { counts: { "fleet-7": 5 } }));
    assert.equal(res.messages.length, 0);
    const g = await api.call("GET", `/v1/batches/${res.id}`);
    assert.equal(g.json.bays[7].action, "failed");
    assert.match(g.json.bays[7].reason, /UPDATE_IN_PROGRESS: node_count stays 3/);
    assert.equal(g.json.summary.failed, 1);
  });

  it("a manifest of 1,000 bays (the limit; well over the 64 KB of other requests) is accepted and fanned out; over 1 MiB is 413", async () => {
    const big = { baymodels: [MODEL], bays: Array.from({ length: 1000 }, (_, i) => ({ name: `thousand-bays-of-the-fleet-${i}`, baymodel: "batch-model", node_count: 2, master_count: 1 })) };
    assert.ok(dump(big).length > 64 * 1024, "bigger than the general body limit");
    const res = await applyAndFanOut(big);
    assert.equal(res.messages.filter((m) => m.kind === "bay.create").length, 1000);
    assert.equal((await api.call("GET", `/v1/batches/${res.id}`)).json.summary.create, 1000);
    const huge = dump({ ...big, bays: big.bays.map((b) => ({ ...b, name: `${b.name}-${"x".repeat(1100)}` })) });
    const before = (await api.stores.table.listBays({})).length;
    const r = await api.call("POST", "/v1/batches", huge, { "content-type": "application/yaml" });
    assert.equal(r.status, 413);
    assert.match(r.json.errors[0].detail, /limit of 1048576 bytes/);
    assert.equal((await api.stores.table.listBays({})).length, before);
  });

  it("another project cannot see the batch", async () => {
    const g = await api.call("GET", `/v1/batches/${id}`, undefined, { "x-project-id": "someone-else" });
    assert.equal(g.status, 404);
  });
});
