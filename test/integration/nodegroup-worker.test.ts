// A node group's operation in the worker, on the embedded stores with a stand-in Heat: the
// dev cloud's light profile boots no node and its Heat cannot fail an update on demand (the
// whole create → resize → delete against the real Heat is test/e2e/nodegroups.test.ts, and
// nodes of a group booting on real Nova are in test/full/). What is checked here is what the
// real parts cannot show: the group's new nodes can still fetch their certificates when the
// bay's create token has long expired, and a failed stack update leaves the group failed with
// what the stack really has.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { updateBayStack } from "../../functions/worker/steps/update-bay.ts";
import { pollBay } from "../../functions/worker/steps/poll-bay.ts";
import { minionToken, newBootstrapToken, verifyBootstrapToken } from "../../shared/domain/bootstrap-token.ts";
import { nodegroupKey, planNodeGroupCreate, planNodeGroupDelete, planNodeGroupResize } from "../../shared/domain/nodegroup.ts";
import type { Bay, BayUpdate, NodeGroupRecord } from "../../shared/domain/model.ts";
import { stepDeps, storedBay } from "../support/worker-deps.ts";
import { StandinHeat, stackOf } from "../support/standin-heat.ts";
import { OrchestratorError } from "../../shared/ports/orchestrator.ts";
import { defaultKubeTag, kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";

let dir: string;
let stores: LocalStores;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "bf-ng-worker-"));
  stores = openLocalStores(dir);
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const group = (uuid: string, over: Partial<NodeGroupRecord> = {}): NodeGroupRecord => ({
  uuid,
  name: `ng-${uuid.slice(0, 4)}`,
  role: "worker",
  flavor_id: "m1.large",
  image_id: "img",
  docker_volume_size: null,
  labels: {},
  node_count: 2,
  min_node_count: 0,
  max_node_count: null,
  key: nodegroupKey(uuid),
  status: "CREATE_IN_PROGRESS",
  status_reason: null,
  node_addresses: [],
  minions: {},
  created_at: new Date().toISOString(),
  updated_at: null,
  ...over,
});

/**
 * A bay made `age` ago (its create token long expired), complete with one extra group `g`, now
 * running `plan`'s node group operation; `now` is the worker's clock.
 */
async function bayWith(name: string, g: NodeGroupRecord, plan: (b: Bay, now: Date) => BayUpdate, o: { age: number; now: Date }) {
  const made = new Date(o.now.getTime() - o.age);
  const complete = await storedBay(stores.table, name, { status: "CREATE_COMPLETE", stack_id: `stack-${name}`, api_address: null, nodegroups: [g] }, made);
  // the token is the bay's own (bound to its uuid), made with its create
  const own = newBootstrapToken(complete.uuid, made, 90);
  const withToken = await stores.table.updateBay({ ...complete, bootstrap: own.record, version: complete.version + 1 }, complete.version);
  const update = plan(withToken, o.now);
  const bay = await stores.table.updateBay({ ...withToken, status: "UPDATE_IN_PROGRESS", update, version: withToken.version + 1 }, withToken.version);
  return { bay, masterToken: own.token };
}

const msgFor = (bay: Bay) => ({ v: 1 as const, kind: "bay.update" as const, bayId: bay.uuid, projectId: "p", requestId: "r", attempt: 0 });

describe("a node group's new nodes and the bay's bootstrap token (stand-in Heat, embedded stores)", () => {
  it("a group made a day after its bay: the update makes the bay's token valid again, so the group's nodes can have their certificates signed", async () => {
    const now = new Date();
    const g = group("a1a1a1a1-0000-4000-8000-000000000001");
    const { bay, masterToken } = await bayWith("late-group", g, (b, at) => planNodeGroupCreate({ ...b, api_address: "https://10.0.0.5:6443" }, g, { now: at, requestId: "r" }), { age: 24 * HOUR, now });
    const nodes = minionToken(bay.uuid, masterToken);
    assert.equal(verifyBootstrapToken(bay.bootstrap, nodes, now), undefined, "before: the create's token has expired");
    const heat = new StandinHeat({ getStack: async (n, id) => stackOf(n, id, "CREATE_COMPLETE", null, { parameters: { number_of_minions: "1" } }) });
    await updateBayStack(msgFor(bay), stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, now: () => now }));
    assert.equal(heat.updated.length, 1, "the group was sent to Heat");
    const after = (await stores.table.getBay(bay.uuid))!;
    assert.equal(verifyBootstrapToken(after.bootstrap, nodes, now), "minion", "the group's nodes' token (the minions') is accepted again");
    assert.equal(after.bootstrap!.hash, bay.bootstrap!.hash, "the same token: the stack's nodes hold it already");
  });

  it("a group grown later is the same; a group's shrink or delete adds no node and leaves the token expired", async () => {
    const now = new Date();
    const grow = group("b2b2b2b2-0000-4000-8000-000000000002", { status: "CREATE_COMPLETE", node_count: 1, minions: { "0": "10.0.1.5" } });
    const grown = await bayWith("grow", grow, (b, at) => planNodeGroupResize({ ...b, api_address: "https://10.0.0.5:6443" }, grow, 3, [], { now: at, requestId: "r", zeroNodes: true }), { age: 24 * HOUR, now });
    // what the planner stores on the group with the operation (the route does this)
    await stores.table.updateBay({ ...grown.bay, nodegroups: [{ ...grow, node_count: 3, status: "UPDATE_IN_PROGRESS" }], version: grown.bay.version + 1 }, grown.bay.version);
    const heat = new StandinHeat({ getStack: async (n, id) => stackOf(n, id, "CREATE_COMPLETE", null, { parameters: {}, outputs: [{ output_key: `${grow.key}_by_name`, output_value: { "0": "10.0.1.5" } }] }) });
    await updateBayStack(msgFor(grown.bay), stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, now: () => now }));
    assert.equal(verifyBootstrapToken((await stores.table.getBay(grown.bay.uuid))!.bootstrap, minionToken(grown.bay.uuid, grown.masterToken), now), "minion");
    assert.equal(heat.updated[0].request.parameters?.[`${grow.key}_count`], 3);

    for (const [name, plan] of [
      ["shrink", (b: Bay, g: NodeGroupRecord, at: Date) => planNodeGroupResize({ ...b, api_address: "https://10.0.0.5:6443" }, g, 1, [], { now: at, requestId: "r", zeroNodes: true })],
      ["drop", (b: Bay, g: NodeGroupRecord, at: Date) => planNodeGroupDelete(b, g, { now: at, requestId: "r" })],
    ] as const) {
      const g = group(`c3c3c3c3-0000-4000-8000-00000000000${name.length}`, { status: "CREATE_COMPLETE", node_count: 2, minions: { "0": "10.0.2.5", "1": "10.0.2.6" } });
      const { bay, masterToken } = await bayWith(name, g, (b, at) => plan(b, g, at), { age: 24 * HOUR, now });
      if (name === "shrink") await stores.table.updateBay({ ...bay, nodegroups: [{ ...g, node_count: 1 }], version: bay.version + 1 }, bay.version);
      const h = new StandinHeat({ getStack: async (n, id) => stackOf(n, id, "CREATE_COMPLETE", null, { outputs: [{ output_key: `${g.key}_by_name`, output_value: g.minions }] }) });
      await updateBayStack(msgFor(bay), stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => h, now: () => now }));
      assert.equal(h.updated.length, 1, `${name}: sent to Heat`);
      assert.equal(verifyBootstrapToken((await stores.table.getBay(bay.uuid))!.bootstrap, minionToken(bay.uuid, masterToken), now), undefined, `${name}: still expired`);
    }
  });
});

describe("a node group's stack update that fails (stand-in Heat: the real one cannot fail on demand)", () => {
  it("a resize Heat stops part way: the group is UPDATE_FAILED with Heat's reason and the count the stack has; the bay UPDATE_FAILED", async () => {
    const now = new Date();
    const g = group("d4d4d4d4-0000-4000-8000-000000000004", { status: "CREATE_COMPLETE", node_count: 1, minions: { "0": "10.0.1.5" } });
    const { bay } = await bayWith("half", g, (b, at) => planNodeGroupResize({ ...b, api_address: "https://10.0.0.5:6443" }, g, 4, [], { now: at, requestId: "r", zeroNodes: true }), { age: HOUR, now });
    await stores.table.updateBay({ ...bay, nodegroups: [{ ...g, node_count: 4, status: "UPDATE_IN_PROGRESS" }], version: bay.version + 1 }, bay.version);
    let sent = false;
    const reason = "Resource UPDATE failed: ResourceInError: resources.ng.resources[2].resources.kube-minion: Went to status ERROR due to \"No valid host was found.\"";
    const heat = new StandinHeat({
      getStack: async (n, id) =>
        sent
          ? stackOf(n, id, "UPDATE_FAILED", reason, { parameters: { [`${g.key}_count`]: "2" }, outputs: [{ output_key: `${g.key}_by_name`, output_value: { "0": "10.0.1.5", "1": "10.0.1.6" } }] })
          : stackOf(n, id, "CREATE_COMPLETE", null, { outputs: [{ output_key: `${g.key}_by_name`, output_value: { "0": "10.0.1.5" } }] }),
      updateStack: async () => void (sent = true),
    });
    const deps = stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, now: () => now });
    await updateBayStack(msgFor(bay), deps);
    await pollBay({ ...msgFor(bay), kind: "bay.poll", seq: (await stores.table.getBay(bay.uuid))!.poll_seq }, deps);
    const ended = (await stores.table.getBay(bay.uuid))!;
    assert.equal(ended.status, "UPDATE_FAILED");
    const eg = ended.nodegroups!.find((x) => x.uuid === g.uuid)!;
    assert.equal(eg.status, "UPDATE_FAILED");
    assert.equal(eg.status_reason, reason);
    assert.equal(eg.node_count, 2, "the count the stack ended with, not the 4 asked for");
    assert.deepEqual(eg.minions, { "0": "10.0.1.5", "1": "10.0.1.6" });
  });

  it("a create Heat refuses: the group is CREATE_FAILED and stays listed, so it can be deleted", async () => {
    const now = new Date();
    const g = group("e5e5e5e5-0000-4000-8000-000000000005");
    const { bay } = await bayWith("refused", g, (b, at) => planNodeGroupCreate({ ...b, api_address: "https://10.0.0.5:6443" }, g, { now: at, requestId: "r" }), { age: HOUR, now });
    let sent = false;
    const heat = new StandinHeat({
      getStack: async (n, id) => (sent ? stackOf(n, id, "UPDATE_FAILED", "Resource CREATE failed: Flavor m1.large could not be found.") : stackOf(n, id, "CREATE_COMPLETE")),
      updateStack: async () => void (sent = true),
    });
    const deps = stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, now: () => now });
    await updateBayStack(msgFor(bay), deps);
    await pollBay({ ...msgFor(bay), kind: "bay.poll", seq: (await stores.table.getBay(bay.uuid))!.poll_seq }, deps);
    const eg = (await stores.table.getBay(bay.uuid))!.nodegroups!.find((x) => x.uuid === g.uuid)!;
    assert.equal(eg.status, "CREATE_FAILED");
    assert.match(eg.status_reason!, /Flavor m1\.large could not be found/);
    assert.doesNotThrow(() => planNodeGroupDelete({ ...(bay as Bay), status: "UPDATE_FAILED" }, eg, { now, requestId: "r2" }));
  });
});

describe("a node group's operation that fails before its stack says so: the group fails with the bay, never left in progress", () => {
  it("Heat refuses the update (400): the group CREATE_FAILED with Heat's reason", async () => {
    const now = new Date();
    const g = group("f6f6f6f6-0000-4000-8000-000000000006");
    const { bay } = await bayWith("heat-400", g, (b, at) => planNodeGroupCreate({ ...b, api_address: "https://10.0.0.5:6443" }, g, { now: at, requestId: "r" }), { age: HOUR, now });
    const heat = new StandinHeat({
      getStack: async (n, id) => stackOf(n, id, "CREATE_COMPLETE"),
      updateStack: async () => {
        throw new OrchestratorError("Property error: resources.ng.properties.count: Value must be at least 0", 400, false);
      },
    });
    await updateBayStack(msgFor(bay), stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, now: () => now }));
    const ended = (await stores.table.getBay(bay.uuid))!;
    assert.equal(ended.status, "UPDATE_FAILED");
    const eg = ended.nodegroups!.find((x) => x.uuid === g.uuid)!;
    assert.equal(eg.status, "CREATE_FAILED");
    assert.match(eg.status_reason!, /^Heat refused the update: Property error/);
  });

  it("Bayforge's deadline passes while Heat still updates: the group UPDATE_FAILED with the timeout; the next operation's failure leaves it as it was", async () => {
    const now = new Date();
    const g = group("a7a7a7a7-0000-4000-8000-000000000007", { status: "CREATE_COMPLETE", node_count: 1, minions: { "0": "10.0.1.5" } });
    const { bay } = await bayWith("deadline", g, (b, at) => planNodeGroupResize({ ...b, api_address: "https://10.0.0.5:6443" }, g, 3, [], { now: at, requestId: "r", zeroNodes: true }), { age: HOUR, now });
    const running = await stores.table.updateBay(
      { ...bay, nodegroups: [{ ...g, node_count: 3, status: "UPDATE_IN_PROGRESS" }], deadline_at: new Date(now.getTime() - 1000).toISOString(), update: { ...bay.update!, stack_update_sent_at: now.toISOString() }, version: bay.version + 1 },
      bay.version,
    );
    const heat = new StandinHeat({ getStack: async (n, id) => stackOf(n, id, "UPDATE_IN_PROGRESS", "Stack UPDATE started") });
    await pollBay({ ...msgFor(running), kind: "bay.poll", seq: running.poll_seq }, stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, now: () => now }));
    const ended = (await stores.table.getBay(bay.uuid))!;
    assert.equal(ended.status, "UPDATE_FAILED");
    const eg = ended.nodegroups!.find((x) => x.uuid === g.uuid)!;
    assert.equal(eg.status, "UPDATE_FAILED");
    assert.match(eg.status_reason!, /timed out/);

    // the update record stays on the bay: a later failure of another kind must not touch the group again
    const later = await stores.table.updateBay({ ...ended, status: "UPDATE_IN_PROGRESS", update: { ...ended.update!, stack_update_sent_at: undefined }, nodegroups: [{ ...eg, status: "UPDATE_COMPLETE", status_reason: null }], version: ended.version + 1 }, ended.version);
    const h2 = new StandinHeat({ getStack: async () => undefined });
    await updateBayStack(msgFor(later), stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => h2, now: () => now }));
    const again = (await stores.table.getBay(bay.uuid))!;
    assert.equal(again.status, "UPDATE_FAILED");
    assert.equal(again.nodegroups![0].status, "UPDATE_COMPLETE", "a group not in progress keeps its status");
  });
});

describe("a create's completion (stand-in Heat, embedded stores)", () => {
  it("shows coe_version at once: the release the nodes installed (the template's kube_tag), before any health check", async () => {
    const now = new Date();
    const bay = await storedBay(stores.table, "coe-at-once", { stack_id: "stack-coe", poll_seq: 0 }, now);
    assert.equal(bay.coe_version ?? null, null);
    const heat = new StandinHeat({ getStack: async (n, id) => stackOf(n, id, "CREATE_COMPLETE", "Stack CREATE completed successfully", { parameters: { number_of_minions: "1" } }) });
    await pollBay({ ...msgFor(bay), kind: "bay.poll", seq: 0 }, stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, now: () => now }));
    const done = (await stores.table.getBay(bay.uuid))!;
    assert.equal(done.status, "CREATE_COMPLETE");
    assert.equal(done.coe_version, defaultKubeTag(kubeclusterTemplate()));
    assert.match(done.coe_version!, /^v1\.\d+\.\d+$/);
  });
});

describe("nodes added after an upgrade (stand-in Heat, embedded stores)", () => {
  it("a scale gives the stack the release the bay runs (coe_version, set by the upgrade), so new minions install it; an unchanged one is not sent", async () => {
    const now = new Date();
    const complete = await storedBay(stores.table, "upgraded", { status: "UPDATE_COMPLETE", stack_id: "stack-upgraded", node_count: 1, coe_version: "v1.36.2" }, now);
    const update = { node_count: 2, nodes_to_remove: [], previous_node_count: 1, requested_at: now.toISOString(), request_id: "r" };
    const bay = await stores.table.updateBay({ ...complete, status: "UPDATE_IN_PROGRESS", update, version: complete.version + 1 }, complete.version);
    for (const [stackTag, sent] of [["v1.35.8", { kube_tag: "v1.36.2" }], ["v1.36.2", {}]] as const) {
      const heat = new StandinHeat({ getStack: async (n, id) => stackOf(n, id, "UPDATE_COMPLETE", null, { parameters: { number_of_minions: "1", kube_tag: stackTag } }) });
      const fresh = (await stores.table.getBay(bay.uuid))!;
      await stores.table.updateBay({ ...fresh, update: { ...update }, version: fresh.version + 1 }, fresh.version);
      await updateBayStack(msgFor(bay), stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, now: () => now }));
      assert.deepEqual(heat.updated[0].request.parameters, { number_of_minions: 2, minions_to_remove: [], ...sent }, `stack at ${stackTag}`);
    }
  });
});
