// Node groups (API 1.9+) on the real dev cloud: an extra group of 2 workers with another flavor
// on a 1+1 cluster, resized to 0 (1.10), then deleted. Each step is a stack update Heat really
// makes: the group's servers are its own resource group in the cluster's stack, and the
// default groups' servers are left as they were.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, startBayforge, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";
import { nodegroupKey } from "../../shared/domain/nodegroup.ts";

const RUN = `ngs${Date.now().toString(36)}`;
const LATEST = { "OpenStack-API-Version": "container-infra latest" };
const V19 = { "OpenStack-API-Version": "container-infra 1.9" };

let bf: BayforgeProcess;
let os: OpenStack;
let id: string;
let group: { uuid: string; key: string };

before(async () => {
  os = demoCloud();
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3" } });
  const t = await api(bf.url, "POST", "/v1/clustertemplates", { name: `${RUN}-tpl`, coe: "kubernetes", image_id: "fedora-atomic", external_network_id: "public", keypair_id: null, flavor_id: "m1.small" }, LATEST);
  assert.equal(t.status, 201, JSON.stringify(t.json));
  const c = await api(bf.url, "POST", "/v1/clusters", { name: `${RUN}-c`, cluster_template_id: `${RUN}-tpl`, keypair: "demo-key", node_count: 1, master_count: 1, create_timeout: 20 }, LATEST);
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

/** The stack's servers by resource group: group resource name → [member name, physical id]. */
async function membersInHeat(): Promise<Record<string, Array<[string, string]>>> {
  const bay = (await api(bf.url, "GET", `/v1/clusters/${id}`, undefined, LATEST)).json;
  const stack = (await os.heat.findStack(bay.cluster_id))!;
  const out: Record<string, Array<[string, string]>> = {};
  for (const r of await os.heat.listResources(stack.stack_name, stack.id, { nestedDepth: 1 }))
    if (r.parent_resource && /^\d+$/.test(r.resource_name)) (out[r.parent_resource] ??= []).push([r.resource_name, r.physical_resource_id ?? ""]);
  for (const k of Object.keys(out)) out[k].sort();
  return out;
}
const stackParameters = async () => (await os.heat.findStack((await api(bf.url, "GET", `/v1/clusters/${id}`, undefined, LATEST)).json.cluster_id))!.parameters;
const groupOf = (ident: string) => api(bf.url, "GET", `/v1/clusters/${id}/nodegroups/${ident}`, undefined, LATEST);

describe("an extra node group on the real Heat: 2 workers of another flavor, resized to 0, deleted", () => {
  let defaults: Record<string, Array<[string, string]>>;

  it("is created (202, CREATE_IN_PROGRESS), then CREATE_COMPLETE with its 2 servers in a resource group of its own, of its flavor", async () => {
    defaults = await membersInHeat();
    assert.equal(defaults.kube_minions?.length, 1);
    const labels = { node_labels: { "example.com/pool": "large" }, node_taints: [{ key: "dedicated", value: "large", effect: "NoSchedule" }] };
    assert.equal((await api(bf.url, "POST", `/v1/clusters/${id}/nodegroups`, { name: "large", ...labels }, V19)).status, 400, "node labels and taints need 1.14");
    const r = await api(bf.url, "POST", `/v1/clusters/${id}/nodegroups`, { name: "large", flavor_id: "m1.large", node_count: 2, ...labels }, LATEST);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.equal(r.json.status, "CREATE_IN_PROGRESS");
    assert.deepEqual([r.json.node_labels, r.json.node_taints], [labels.node_labels, labels.node_taints]);
    assert.deepEqual([r.json.name, r.json.role, r.json.is_default, r.json.flavor_id, r.json.image_id, r.json.node_count, r.json.min_node_count], ["large", "worker", false, "m1.large", "fedora-atomic", 2, 0]);
    group = { uuid: r.json.uuid, key: nodegroupKey(r.json.uuid) };

    // one operation at a time, Magnum's refusals
    assert.equal((await api(bf.url, "POST", `/v1/clusters/${id}/nodegroups`, { name: "other" }, V19)).status, 409, "the cluster is being updated");
    assert.equal((await api(bf.url, "POST", `/v1/clusters/${id}/nodegroups`, { name: "x" }, { "OpenStack-API-Version": "container-infra 1.8" })).status, 406);

    const bay = await waitForBay(bf.url, id, 180_000);
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    const g = (await groupOf("large")).json;
    assert.equal(g.status, "CREATE_COMPLETE", g.status_reason);
    assert.equal(g.node_count, 2);
    assert.equal(g.node_addresses.length, 2);
    const now = await membersInHeat();
    assert.deepEqual(now[group.key]?.map(([n]) => n), ["0", "1"], "its two servers, in its own resource group");
    assert.deepEqual(now.kube_minions, defaults.kube_minions, "the default worker untouched (same server)");
    assert.deepEqual(now.kube_masters, defaults.kube_masters, "the master untouched");
    const params = await stackParameters();
    assert.equal(params[`${group.key}_flavor`], "m1.large");
    assert.equal(params[`${group.key}_count`], "2");
    // what the group's nodes register with (kubelet --node-labels, kubeadm's taints)
    assert.equal(params[`${group.key}_node_labels`], "example.com/pool=large");
    assert.equal(params[`${group.key}_node_taints`], "dedicated=large:NoSchedule");
    const all = (await api(bf.url, "GET", `/v1/clusters/${id}/nodegroups`, undefined, LATEST)).json.nodegroups;
    assert.deepEqual(all.map((n: { name: string }) => n.name), ["default-master", "default-worker", "large"]);
    assert.equal((await api(bf.url, "POST", `/v1/clusters/${id}/nodegroups`, { name: "large" }, V19)).status, 409, "a second group of the same name");
    assert.equal((await api(bf.url, "GET", "/v1/stats", undefined, LATEST)).status, 200);
  });

  it("is resized to 0 (API 1.10; 1.9 refuses 0): its servers go, the default ones stay", async () => {
    const resize = (headers: Record<string, string>) => api(bf.url, "POST", `/v1/clusters/${id}/actions/resize`, { node_count: 0, nodegroup: "large" }, headers);
    assert.equal((await resize(V19)).status, 400);
    const r = await resize(LATEST);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.equal((await groupOf(group.uuid)).json.status, "UPDATE_IN_PROGRESS");
    const bay = await waitForBay(bf.url, id, 180_000);
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    const g = (await groupOf(group.uuid)).json;
    assert.deepEqual([g.status, g.node_count, g.node_addresses], ["UPDATE_COMPLETE", 0, []]);
    const now = await membersInHeat();
    assert.equal(now[group.key], undefined, "no server left in its group");
    assert.deepEqual(now.kube_minions, defaults.kube_minions);
    assert.equal(bay.node_count, 1);
  });

  it("is deleted (204): it and its resource group leave the stack; the default groups cannot be deleted", async () => {
    for (const ident of ["default-worker", "default-master"]) {
      const refused = await api(bf.url, "DELETE", `/v1/clusters/${id}/nodegroups/${ident}`, undefined, LATEST);
      assert.equal(refused.status, 400);
      assert.equal(refused.json.errors[0].detail, "Deleting a default nodegroup is not supported.");
    }
    assert.equal((await api(bf.url, "DELETE", `/v1/clusters/${id}/nodegroups/large`, undefined, LATEST)).status, 204);
    const bay = await waitForBay(bf.url, id, 180_000);
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    assert.equal((await groupOf(group.uuid)).status, 404);
    const stack = (await os.heat.findStack(bay.stack_id))!;
    const resources = await os.heat.listResources(stack.stack_name, stack.id);
    assert.ok(!resources.some((r) => r.resource_name === group.key), "its resource group is gone from the stack");
    assert.ok(!(`${group.key}_count` in stack.parameters), "and its parameters");
    assert.deepEqual((await membersInHeat()).kube_minions, defaults.kube_minions);
  });
});
