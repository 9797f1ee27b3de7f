// The first vertical slice end to end, as a user sees it: `npm start`, a baymodel and a bay
// over HTTP, the stack on the real dev cloud Heat, the bay's status following it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, startBayforge, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud, stacksNamed } from "../support/heat-check.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `e2e${Date.now().toString(36)}`;
const MODEL = { coe: "kubernetes", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium", docker_volume_size: 5 };

let bf: BayforgeProcess;
let os: OpenStack;
const bays: Record<string, string> = {};

before(async () => {
  os = demoCloud();
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "3,2,2,3,5" } });
  for (const [name, image] of [["ok", "fedora-atomic"], ["broken", "broken-image"], ["slow", "slow-image"]]) {
    const r = await api(bf.url, "POST", "/v1/baymodels", { ...MODEL, name: `${RUN}-${name}`, image_id: image });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
  // All three bays start together: the slow one needs Heat's one-minute timeout to pass.
  const create = async (key: string, body: Record<string, unknown>) => {
    const r = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-${key}`, ...body });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.status, "CREATE_IN_PROGRESS");
    bays[key] = r.json.uuid;
  };
  await create("ok", { baymodel_id: `${RUN}-ok`, master_count: 1, node_count: 2, bay_create_timeout: 20 });
  await create("broken", { baymodel_id: `${RUN}-broken`, node_count: 1 });
  await create("slow", { baymodel_id: `${RUN}-slow`, node_count: 1, bay_create_timeout: 1 });
});

after(async () => {
  await bf?.kill("SIGTERM");
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

describe("a bay created through npm start on the real dev cloud", () => {
  it("reaches CREATE_COMPLETE with the stack Heat built as requested", async () => {
    const bay = await waitForBay(bf.url, bays.ok, 240_000);
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    assert.ok(bay.stack_id);

    const stack = await os.heat.findStack(bay.stack_id);
    assert.ok(stack, "the stack exists in Heat");
    assert.match(stack.stack_name, new RegExp(`^${RUN}-ok-[a-z2-7]{12}$`));
    assert.equal(stack.stack_status, "CREATE_COMPLETE");
    assert.equal(stack.parameters.number_of_masters, "1");
    assert.equal(stack.parameters.number_of_minions, "2");
    assert.equal(stack.timeout_mins, 20);

    const resources = await os.heat.listResources(stack.stack_name, stack.id, { nestedDepth: 1 });
    const members = (group: string) => resources.filter((r) => r.parent_resource === group && /^\d+$/.test(r.resource_name));
    assert.equal(members("kube_masters").length, 1, "one nested master stack");
    assert.equal(members("kube_minions").length, 2, "two nested minion stacks");

    const out = (k: string) => stack.outputs.find((o) => o.output_key === k)?.output_value;
    assert.equal(bay.api_address, `https://${out("api_address")}:6443`);
    assert.deepEqual(bay.master_addresses, out("kube_masters"));
    assert.deepEqual(bay.node_addresses, out("kube_minions"));
    assert.equal(bay.node_addresses.length, 2);
    assert.equal(bay.master_addresses.length, 1);
  });

  it("shows CREATE_FAILED with Heat's reason when Heat fails the stack", async () => {
    const bay = await waitForBay(bf.url, bays.broken, 180_000);
    assert.equal(bay.status, "CREATE_FAILED");
    const stack = await os.heat.findStack(bay.stack_id);
    assert.equal(stack?.stack_status, "CREATE_FAILED");
    assert.ok(stack?.stack_status_reason);
    assert.equal(bay.status_reason, stack.stack_status_reason, "the bay shows Heat's own reason");
    // and which resource failed, deepest first: the fake server's "boot" inside a master
    const root = bay.faults[0];
    assert.ok(root, "faults name the failed resources");
    assert.match(root.resource, /\/boot$/);
    assert.equal(root.type, "OS::Heat::TestResource");
    assert.match(root.reason, /failed/i);
    assert.ok(root.time, "with the time Heat recorded");
  });

  it("shows CREATE_FAILED when the stack runs past bay_create_timeout", async () => {
    const bay = await waitForBay(bf.url, bays.slow, 240_000);
    assert.equal(bay.status, "CREATE_FAILED");
    assert.match(bay.status_reason, /timed out/i);
    const stack = await os.heat.findStack(bay.stack_id);
    assert.equal(stack?.timeout_mins, 1);
  });

  it("made exactly one stack per bay", async () => {
    for (const key of Object.keys(bays)) assert.equal((await stacksNamed(os, `${RUN}-${key}-`)).length, 1, key);
  });
});
