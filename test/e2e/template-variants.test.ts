// kubecluster.yaml's variants (issue #10), each created for real on the light dev cloud's Heat
// with the parameters Bayforge renders for it: load balancers (Octavia or LBaaS v1) or none,
// floating IPs or none, the bay's own network or an existing one. Heat checks every condition,
// reference and nested template; each stack must hold exactly the resources its variant
// implies, and its outputs must read back through the outputs table as the bay's addresses.
// (On the light profile the Nova/Neutron/Octavia types are placeholders: the full profile
// proves the same templates against the real services.)
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { newBayModel } from "../../shared/domain/baymodel.ts";
import { acceptBay } from "../../shared/domain/bay.ts";
import type { BayModel, ClusterOverrides } from "../../shared/domain/model.ts";
import { bayOutputs, heatParameters, kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";
import { effectiveModel } from "../../shared/domain/cluster.ts";
import type { Stack, StackResource } from "../../shared/ports/orchestrator.ts";
import { deleteStacks, demoCloud, settle } from "../support/heat-check.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `tv${Date.now().toString(36)}`;
const owner = { projectId: "p", userId: "u" };
const ctx = { authUrl: "http://127.0.0.1:5000/v3", username: "demo", tenantName: "demo", userToken: "tok", magnumUrl: "http://127.0.0.1:9511/v1", discoveryUrl: "http://127.0.0.1:9511/v1/discovery/x" };
const base = { coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium", docker_volume_size: 5 };

interface Variant {
  masters: number;
  model: Record<string, unknown>;
  overrides?: ClusterOverrides;
}
const VARIANTS = {
  nolb: { masters: 1, model: {} },
  octavia: { masters: 2, model: { master_lb_enabled: true, labels: { master_lb_allowed_cidrs: "192.168.0.0/16" } } },
  v1: { masters: 1, model: { master_lb_enabled: true, labels: { lbaas_version: "v1" } } },
  nofip: { masters: 1, model: { floating_ip_enabled: false } },
  // a cluster's overrides: an existing network, Octavia without any floating IP
  existing: { masters: 1, model: {}, overrides: { master_lb_enabled: true, floating_ip_enabled: false, fixed_network: "shared-net", fixed_subnet: "shared-subnet" } },
} satisfies Record<string, Variant>;
type Name = keyof typeof VARIANTS;

let os: OpenStack;
const made = {} as Record<Name, { stack: Stack; resources: StackResource[]; model: BayModel }>;

before(async () => {
  os = demoCloud();
  const { template, files } = kubeclusterTemplate();
  await Promise.all(
    (Object.entries(VARIANTS) as Array<[Name, Variant]>).map(async ([name, v]) => {
      const model = newBayModel({ ...base, ...v.model }, owner, new Date().toISOString());
      const bay = acceptBay({ name, baymodel_id: model.uuid, node_count: 1, master_count: v.masters, bay_create_timeout: null, discovery_url: null }, model.uuid, owner, { defaultTimeoutMinutes: 10, deadlineGraceMinutes: 1, requestId: "r", now: new Date() });
      if (v.overrides) bay.overrides = v.overrides;
      const { id } = await os.heat.createStack({ stack_name: `${RUN}-${name}`, template, files, parameters: heatParameters(bay, model, ctx), timeout_mins: 10 });
      const stack = await settle(os.heat, `${RUN}-${name}`, id, 300_000);
      assert.equal(stack?.stack_status, "CREATE_COMPLETE", `${name}: ${stack?.stack_status_reason}`);
      made[name] = { stack: stack!, resources: await os.heat.listResources(stack!.stack_name, id, { nestedDepth: 3 }), model: effectiveModel(bay, model) };
    }),
  );
});

after(async () => {
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

/** Resource names of the stack, top level, in the LB nested stacks, and in master/minion 0. */
function names(v: Name, parent?: string): string[] {
  return made[v].resources.filter((r) => (parent ? r.parent_resource === parent : !r.parent_resource)).map((r) => `${r.resource_name}:${r.resource_type}`).sort();
}
/** The resources of master 0 / minion 0 (nested stacks whose parent resource is "0" in each group). */
function memberResources(v: Name, group: "kube_masters" | "kube_minions"): string[] {
  const member = made[v].resources.find((r) => r.parent_resource === group && r.resource_name === "0");
  assert.ok(member, `${group}/0 in ${v}`);
  return made[v].resources.filter((r) => r.parent_resource === "0" && r.stack_name?.includes(`-${group}-`)).map((r) => r.resource_name).sort();
}
const out = (v: Name, k: string) => made[v].stack.outputs.find((o) => o.output_key === k)?.output_value;
const NETWORK = ["extrouter", "extrouter_inside", "private_network", "private_subnet"];
const has = (list: string[], name: string) => list.some((n) => n.startsWith(`${name}:`));

describe("kubecluster.yaml variants on the light dev cloud's Heat", () => {
  it("no load balancer: none made; the API and etcd are master 0's, the API address its floating IP", () => {
    const top = names("nolb");
    assert.ok(!has(top, "api_lb") && !has(top, "etcd_lb"), top.join(" "));
    for (const n of NETWORK) assert.ok(has(top, n), n);
    assert.deepEqual(memberResources("nolb", "kube_masters").filter((n) => /pool_member|floating/.test(n)), ["kube_master_floating"]);
    const masterIp = (out("nolb", "kube_masters_private") as string[])[0];
    assert.equal(out("nolb", "api_private_address"), masterIp);
    assert.equal(out("nolb", "etcd_address"), masterIp);
    assert.equal(out("nolb", "api_address"), (out("nolb", "kube_masters") as string[])[0]);
    assert.match(String(out("nolb", "api_address")), /^172\.24\./, "the fake floating IP");
    const o = bayOutputs(made.nolb.stack.outputs, made.nolb.model);
    assert.equal(o.api_address, `https://${out("nolb", "api_address")}:6443`);
    assert.deepEqual(Object.keys(o.minions), ["0"]);
  });

  it("Octavia: a load balancer, listener, pool and monitor for the API and for etcd, a floating IP on the API's VIP port, every master a member of both pools", () => {
    const top = names("octavia");
    assert.ok(has(top, "api_lb") && has(top, "etcd_lb"));
    assert.deepEqual(names("octavia", "api_lb"), ["floating:OS::Neutron::FloatingIP", "listener:OS::Octavia::Listener", "loadbalancer:OS::Octavia::LoadBalancer", "monitor:OS::Octavia::HealthMonitor", "pool:OS::Octavia::Pool"]);
    assert.deepEqual(names("octavia", "etcd_lb"), ["listener:OS::Octavia::Listener", "loadbalancer:OS::Octavia::LoadBalancer", "monitor:OS::Octavia::HealthMonitor", "pool:OS::Octavia::Pool"]);
    const members = made.octavia.resources.filter((r) => /pool_member/.test(r.resource_name)).map((r) => `${r.resource_name}:${r.resource_type}`).sort();
    assert.deepEqual(members, ["api_pool_member:OS::Octavia::PoolMember", "api_pool_member:OS::Octavia::PoolMember", "etcd_pool_member:OS::Octavia::PoolMember", "etcd_pool_member:OS::Octavia::PoolMember"]);
    const vip = String(out("octavia", "api_private_address"));
    assert.match(vip, /^10\.0\./, "the fake VIP");
    assert.ok(!(out("octavia", "kube_masters_private") as string[]).includes(vip));
    assert.notEqual(out("octavia", "etcd_address"), vip, "etcd has its own load balancer");
    assert.match(String(out("octavia", "api_address")), /^172\.24\./, "the API's floating IP");
    assert.equal(made.octavia.stack.parameters.master_lb_allowed_cidrs, "192.168.0.0/16");
  });

  it("LBaaS v1 only when asked: OS::Neutron::Pool and HealthMonitor, v1 members, no Octavia", () => {
    assert.deepEqual(names("v1", "api_lb"), ["floating:OS::Neutron::FloatingIP", "monitor_v1:OS::Neutron::HealthMonitor", "pool_v1:OS::Neutron::Pool"]);
    assert.deepEqual(names("v1", "etcd_lb"), ["monitor_v1:OS::Neutron::HealthMonitor", "pool_v1:OS::Neutron::Pool"]);
    assert.deepEqual(memberResources("v1", "kube_masters").filter((n) => /pool_member/.test(n)), ["api_pool_member_v1", "etcd_pool_member_v1"]);
    assert.ok(!made.v1.resources.some((r) => r.resource_type.startsWith("OS::Octavia::")));
    assert.match(String(out("v1", "api_private_address")), /^10\.0\./);
  });

  it("floating_ip_enabled false: no floating IP anywhere; the addresses are the fixed ones", () => {
    assert.ok(!made.nofip.resources.some((r) => r.resource_type === "OS::Neutron::FloatingIP"));
    const masterIp = (out("nofip", "kube_masters_private") as string[])[0];
    assert.equal(out("nofip", "api_address"), masterIp);
    assert.deepEqual(out("nofip", "kube_masters"), [""]);
    const o = bayOutputs(made.nofip.stack.outputs, made.nofip.model);
    assert.equal(o.api_address, `https://${masterIp}:6443`);
    assert.deepEqual(o.master_addresses, [masterIp]);
    assert.deepEqual(o.node_addresses, out("nofip", "kube_minions_private"));
  });

  it("an existing network (a cluster's overrides): no net, subnet, router or interface; ports and VIPs on the named subnet; the API address is the VIP", () => {
    const top = names("existing");
    for (const n of NETWORK) assert.ok(!has(top, n), `${n} made: ${top.join(" ")}`);
    assert.ok(!made.existing.resources.some((r) => r.resource_type === "OS::Neutron::FloatingIP"));
    assert.equal(made.existing.stack.parameters.fixed_network, "shared-net");
    assert.equal(made.existing.stack.parameters.fixed_subnet, "shared-subnet");
    assert.equal(out("existing", "api_address"), out("existing", "api_private_address"));
    assert.match(String(out("existing", "api_address")), /^10\.0\./);
  });
});
