// A bay's whole life on `npm run aws-local` (the built Lambda bundles behind the emulated HTTP
// API, SQS event source, DLQ and schedule, on dynalite and the KMS / Secrets Manager
// stand-ins) against the real dev cloud: the same bay shapes and assertions as the embedded
// default's test (bay-lifecycle.test.ts): create → CREATE_COMPLETE, scale 1 → 3 with the
// stack really changed, the timeline, delete → stack and certificates gone, 404.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, waitForBay } from "../support/bayforge-process.ts";
import { startAwsLocal, type AwsLocalProcess } from "../support/aws-local-process.ts";
import { deleteStacks, demoCloud, stacksNamed } from "../support/heat-check.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `awsl${Date.now().toString(36)}`;
const MODEL = { coe: "kubernetes", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", image_id: "fedora-atomic" };
const NEW = { "OpenStack-API-Version": "container-infra 1.2" };

let aws: AwsLocalProcess;
let os: OpenStack;
let bayId: string;

before(async () => {
  os = demoCloud();
  aws = await startAwsLocal({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3" } });
  assert.equal((await api(aws.url, "POST", "/v1/baymodels", { ...MODEL, name: `${RUN}-model` })).status, 201);
  const r = await api(aws.url, "POST", "/v1/bays", { name: `${RUN}-bay`, baymodel_id: `${RUN}-model`, node_count: 1 });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  bayId = r.json.uuid;
  const bay = await waitForBay(aws.url, bayId, 180_000);
  assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
});

after(async () => {
  await aws?.kill("SIGTERM");
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

describe("a bay's lifecycle on aws-local (the Lambda bundles) against the dev cloud", () => {
  it("made the bay's stack in the demo project, through the worker function on the SQS event source", async () => {
    const bay = (await api(aws.url, "GET", `/v1/bays/${bayId}`)).json;
    const stacks = await stacksNamed(os, `${RUN}-bay-`);
    assert.equal(stacks.length, 1);
    assert.equal(stacks[0].id, bay.stack_id);
    const s = await aws.status();
    const worker = Object.values(s.functions).find((f) => /WorkerFunction/.test(f.name))!;
    assert.ok(worker.started >= 1, "the worker function ran in an instance of its own");
  });

  it("refuses a patch of anything but node_count, naming it, and changes nothing", async () => {
    const before = (await api(aws.url, "GET", `/v1/bays/${bayId}`)).json;
    for (const [body, words] of [
      [[{ op: "replace", path: "/master_count", value: 3 }], /master_count/],
      [[{ op: "replace", path: "/node_count", value: 0 }], /node_count/],
      [{ node_count: 2 }, /JSON patch/],
      [[{ op: "replace", path: "/nope", value: 1 }], /nope/],
    ] as const) {
      const r = await api(aws.url, "PATCH", `/v1/bays/${bayId}`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.errors[0].detail, words);
    }
    assert.deepEqual((await api(aws.url, "GET", `/v1/bays/${bayId}`)).json, before);
  });

  it("scales 1 → 3 with a JSON patch: UPDATE_IN_PROGRESS at once, a second operation gets 409, the stack ends with 3 minions", async () => {
    const first = await minionMembers((await api(aws.url, "GET", `/v1/bays/${bayId}`)).json.stack_id);
    const r = await api(aws.url, "PATCH", `/v1/bays/${bayId}`, [{ op: "replace", path: "/node_count", value: 3 }], NEW);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.deepEqual(r.json, { uuid: bayId });
    const now = (await api(aws.url, "GET", `/v1/bays/${bayId}`)).json;
    assert.equal(now.status, "UPDATE_IN_PROGRESS");
    assert.equal(now.node_count, 3);
    const again = await api(aws.url, "PATCH", `/v1/bays/${bayId}`, [{ op: "replace", path: "/node_count", value: 2 }]);
    assert.equal(again.status, 409);
    assert.match(again.json.errors[0].detail, /UPDATE_IN_PROGRESS/);

    const bay = await waitForBay(aws.url, bayId, 180_000);
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    assert.equal(bay.node_count, 3);
    assert.equal(bay.node_addresses.length, 3);
    const stack = await os.heat.findStack(bay.stack_id);
    assert.equal(stack?.parameters.number_of_minions, "3");
    const members = await minionMembers(bay.stack_id);
    assert.equal(members.length, 3);
    assert.ok(first.every((m) => members.includes(m)), `${first} kept in ${members}`);
    assert.equal((await stacksNamed(os, `${RUN}-bay-`)).length, 1, "the same stack, updated");
  });

  it("shows the bay's timeline: accepted, certificates, stack, completed, scale, completed", async () => {
    const r = await api(aws.url, "GET", `/v1/bays/${bayId}/events`);
    assert.equal(r.status, 200);
    const kinds = r.json.events.map((e: { kind: string }) => e.kind);
    for (const k of ["accepted", "certificates", "stack_requested", "completed", "update_accepted", "stack_update_requested"]) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
    assert.equal(kinds.filter((k: string) => k === "completed").length, 2);
  });

  it("deletes: 204, the stack and the certificates go, then GET answers 404 and a second delete too", async () => {
    const stores = await aws.stores();
    const bay = (await api(aws.url, "GET", `/v1/bays/${bayId}`)).json;
    assert.ok(await stores.table.getCerts(bayId), "certificates exist before");
    const r = await api(aws.url, "DELETE", `/v1/bays/${bay.name}`);
    assert.equal(r.status, 204);
    const deadline = Date.now() + 120_000;
    let gone;
    while (Date.now() < deadline && (gone = await api(aws.url, "GET", `/v1/bays/${bayId}`)).status === 200) await new Promise((r) => setTimeout(r, 1000));
    assert.equal(gone?.status, 404, JSON.stringify(gone?.json));
    const stack = await os.heat.findStack(bay.stack_id);
    assert.ok(!stack || stack.stack_status === "DELETE_COMPLETE", `stack is ${stack?.stack_status}`);
    assert.equal(await stores.table.getCerts(bayId), undefined, "certificates removed");
    assert.equal((await api(aws.url, "DELETE", `/v1/bays/${bayId}`)).status, 404);
    const list = (await api(aws.url, "GET", "/v1/bays")).json.bays.map((b: { uuid: string }) => b.uuid);
    assert.ok(!list.includes(bayId));
  });
});
