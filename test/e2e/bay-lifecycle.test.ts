// The rest of a bay's life on the real dev cloud, through `npm start`: scale with Magnum's
// JSON patch (the Heat stack really changes), the event timeline, and delete (stack and
// certificates gone, GET 404). Also what is refused while an operation is in flight.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, startBayforge, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud, stacksNamed } from "../support/heat-check.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `life${Date.now().toString(36)}`;
const MODEL = { coe: "kubernetes", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", image_id: "fedora-atomic" };
const NEW = { "OpenStack-API-Version": "container-infra 1.2" };

let bf: BayforgeProcess;
let os: OpenStack;
let stores: LocalStores;
let bayId: string;

before(async () => {
  os = demoCloud();
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3" } });
  stores = openLocalStores(bf.dataDir);
  assert.equal((await api(bf.url, "POST", "/v1/baymodels", { ...MODEL, name: `${RUN}-model` })).status, 201);
  const r = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-bay`, baymodel_id: `${RUN}-model`, node_count: 1 });
  assert.equal(r.status, 201);
  bayId = r.json.uuid;
  const bay = await waitForBay(bf.url, bayId, 180_000);
  assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
});

after(async () => {
  await bf?.kill("SIGTERM");
  await stores?.close();
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

const minionMembers = async (stackId: string) => {
  const stack = (await os.heat.findStack(stackId))!;
  const resources = await os.heat.listResources(stack.stack_name, stack.id, { nestedDepth: 1 });
  return resources.filter((r) => r.parent_resource === "kube_minions" && /^\d+$/.test(r.resource_name)).map((r) => r.resource_name).sort();
};

describe("a bay's lifecycle on the real dev cloud", () => {
  it("refuses a patch of anything but node_count, naming it, and changes nothing", async () => {
    const before = (await api(bf.url, "GET", `/v1/bays/${bayId}`)).json;
    for (const [body, words] of [
      [[{ op: "replace", path: "/master_count", value: 3 }], /master_count/],
      [[{ op: "replace", path: "/node_count", value: 0 }], /node_count/],
      [[{ op: "remove", path: "/node_count" }], /node_count/],
      [{ node_count: 2 }, /JSON patch/],
      [[{ op: "replace", path: "/node_count", value: "2" }], /integer/],
      [[{ op: "replace", path: "/nope", value: 1 }], /nope/],
    ] as const) {
      const r = await api(bf.url, "PATCH", `/v1/bays/${bayId}`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.errors[0].detail, words);
    }
    const afterwards = (await api(bf.url, "GET", `/v1/bays/${bayId}`)).json;
    assert.deepEqual(afterwards, before);
  });

  it("scales 1 → 3 with a JSON patch: UPDATE_IN_PROGRESS at once, a second operation gets 409, the stack ends with 3 minions", async () => {
    const first = await minionMembers((await api(bf.url, "GET", `/v1/bays/${bayId}`)).json.stack_id);
    const r = await api(bf.url, "PATCH", `/v1/bays/${bayId}`, [{ op: "replace", path: "/node_count", value: 3 }], NEW);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.deepEqual(r.json, { uuid: bayId });
    const now = (await api(bf.url, "GET", `/v1/bays/${bayId}`)).json;
    assert.equal(now.status, "UPDATE_IN_PROGRESS");
    assert.equal(now.node_count, 3);

    const again = await api(bf.url, "PATCH", `/v1/bays/${bayId}`, [{ op: "replace", path: "/node_count", value: 2 }]);
    assert.equal(again.status, 409);
    assert.match(again.json.errors[0].detail, /UPDATE_IN_PROGRESS/);

    const bay = await waitForBay(bf.url, bayId, 180_000);
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    assert.equal(bay.node_count, 3);
    assert.equal(bay.node_addresses.length, 3);
    const stack = await os.heat.findStack(bay.stack_id);
    assert.equal(stack?.parameters.number_of_minions, "3");
    // Heat names the members; what matters is three of them, the first one kept (not replaced)
    const members = await minionMembers(bay.stack_id);
    assert.equal(members.length, 3);
    assert.ok(first.every((m) => members.includes(m)), `${first} kept in ${members}`);
    assert.equal((await stacksNamed(os, `${RUN}-bay-`)).length, 1, "the same stack, updated");
  });

  it("shows the bay's timeline: accepted, certificates, stack, completed, scale, completed", async () => {
    const r = await api(bf.url, "GET", `/v1/bays/${bayId}/events`);
    assert.equal(r.status, 200);
    const kinds = r.json.events.map((e: { kind: string }) => e.kind);
    for (const k of ["accepted", "certificates", "stack_requested", "completed", "update_accepted", "stack_update_requested"]) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
    assert.equal(kinds.filter((k: string) => k === "completed").length, 2);
    const times = r.json.events.map((e: { at: string }) => Date.parse(e.at));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), "in time order");
  });

  it("deletes: 204, the stack and the certificates go, then GET answers 404 and a second delete too", async () => {
    const bay = (await api(bf.url, "GET", `/v1/bays/${bayId}`)).json;
    assert.ok(await stores.table.getCerts(bayId), "certificates exist before");
    const r = await api(bf.url, "DELETE", `/v1/bays/${bay.name}`);
    assert.equal(r.status, 204);
    const during = await api(bf.url, "GET", `/v1/bays/${bayId}`);
    if (during.status === 200) assert.equal(during.json.status, "DELETE_IN_PROGRESS");
    const deadline = Date.now() + 120_000;
    let gone;
    while (Date.now() < deadline && (gone = await api(bf.url, "GET", `/v1/bays/${bayId}`)).status === 200) await new Promise((r) => setTimeout(r, 1000));
    assert.equal(gone?.status, 404, JSON.stringify(gone?.json));
    const stack = await os.heat.findStack(bay.stack_id);
    assert.ok(!stack || stack.stack_status === "DELETE_COMPLETE", `stack is ${stack?.stack_status}`);
    assert.equal(await stores.table.getCerts(bayId), undefined, "certificates removed");
    assert.equal((await api(bf.url, "DELETE", `/v1/bays/${bayId}`)).status, 404);
    const list = (await api(bf.url, "GET", "/v1/bays")).json.bays.map((b: { uuid: string }) => b.uuid);
    assert.ok(!list.includes(bayId));
  });

  it("a baymodel still used by a bay cannot be deleted (400 naming the bay); once unused it can", async () => {
    const r = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-user`, baymodel_id: `${RUN}-model` });
    const refused = await api(bf.url, "DELETE", `/v1/baymodels/${RUN}-model`);
    assert.equal(refused.status, 400);
    assert.match(refused.json.errors[0].detail, new RegExp(`${RUN}-user`));
    // delete interrupts the create
    assert.equal((await api(bf.url, "DELETE", `/v1/bays/${r.json.uuid}`)).status, 204);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (await api(bf.url, "GET", `/v1/bays/${r.json.uuid}`)).status === 200) await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await api(bf.url, "GET", `/v1/bays/${r.json.uuid}`)).status, 404);
    assert.equal((await stacksNamed(os, `${RUN}-user-`)).filter((s) => s.stack_status !== "DELETE_COMPLETE").length, 0, "no stack left behind");
    assert.equal((await api(bf.url, "DELETE", `/v1/baymodels/${RUN}-model`)).status, 204);
  });
});
