// Modern Magnum's resize on the real dev cloud: 2 → 4 → 1 naming the minion to remove first.
// Heat's ResourceGroup must end with exactly the minions expected, the named one gone.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, startBayforge, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `rsz${Date.now().toString(36)}`;
const LATEST = { "OpenStack-API-Version": "container-infra latest" };

let bf: BayforgeProcess;
let os: OpenStack;
let id: string;

before(async () => {
  os = demoCloud();
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3" } });
  const t = await api(bf.url, "POST", "/v1/clustertemplates", { name: `${RUN}-tpl`, coe: "kubernetes", image_id: "fedora-atomic", external_network_id: "public", keypair_id: null, flavor_id: "m1.small" }, LATEST);
  assert.equal(t.status, 201, JSON.stringify(t.json));
  const c = await api(bf.url, "POST", "/v1/clusters", { name: `${RUN}-c`, cluster_template_id: `${RUN}-tpl`, keypair: "demo-key", node_count: 2, master_count: 1, create_timeout: 20 }, LATEST);
  assert.equal(c.status, 202, JSON.stringify(c.json));
  id = c.json.uuid;
  assert.equal((await waitForBay(bf.url, id, 180_000)).status, "CREATE_COMPLETE");
});

after(async () => {
  await bf?.kill("SIGTERM");
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

async function minionsInHeat(stackId: string): Promise<string[]> {
  const stack = (await os.heat.findStack(stackId))!;
  const resources = await os.heat.listResources(stack.stack_name, stack.id, { nestedDepth: 1 });
  return resources.filter((r) => r.parent_resource === "kube_minions" && /^\d+$/.test(r.resource_name)).map((r) => r.resource_name).sort();
}

describe("cluster resize with nodes_to_remove on the real Heat", () => {
  it("grows 2 → 4", async () => {
    const r = await api(bf.url, "POST", `/v1/clusters/${id}/actions/resize`, { node_count: 4 }, LATEST);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const bay = await waitForBay(bf.url, id, 180_000);
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    assert.equal((await minionsInHeat(bay.stack_id)).length, 4);
    assert.equal(bay.node_addresses.length, 4);
  });

  it("shrinks 4 → 1 removing the lowest-numbered minion by name: Heat keeps only the next one, and the bay shows it", async () => {
    // Heat removes the named minions first, then the highest numbered: naming the lowest one
    // makes the survivor the second lowest, which Heat would never pick on its own.
    const before = (await minionsInHeat((await api(bf.url, "GET", `/v1/clusters/${id}`, undefined, LATEST)).json.cluster_id)).sort((a, b) => Number(a) - Number(b));
    const [named, survivor] = before;
    const r = await api(bf.url, "POST", `/v1/clusters/${id}/actions/resize`, { node_count: 1, nodes_to_remove: [named] }, LATEST);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const bay = await waitForBay(bf.url, id, 180_000);
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    assert.equal(bay.node_count, 1);
    assert.deepEqual(await minionsInHeat(bay.stack_id), [survivor], `the named minion ${named} went first, then the highest numbered`);
    assert.equal(bay.node_addresses.length, 1);
    const stack = await os.heat.findStack(bay.stack_id);
    assert.equal(stack?.parameters.number_of_minions, "1");
    const workers = (await api(bf.url, "GET", `/v1/clusters/${id}/nodegroups/default-worker`, undefined, LATEST)).json;
    assert.equal(workers.node_count, 1);
  });
});
