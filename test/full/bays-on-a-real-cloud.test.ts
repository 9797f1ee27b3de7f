// Bays on the full-profile dev cloud: real Nova (fake virt driver), Neutron, Glance, Placement
// and Octavia (noop drivers), with the node simulator booting each server's user_data and
// signalling its real wait condition. Every check reads the service's own API (Nova, Neutron,
// Octavia, Keystone), not Bayforge's or Heat's account of it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, startBayforge, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import { devcloudDir } from "../support/devcloud.ts";
import { readFileSync } from "node:fs";
import { CloudInventory, type Counts, type LoadBalancer } from "../support/cloud-inventory.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";
import type { StackResource } from "../../shared/ports/orchestrator.ts";

const RUN = `full${Date.now().toString(36)}`;
const LATEST = { "OpenStack-API-Version": "container-infra latest" };
const MODEL = {
  coe: "kubernetes",
  image_id: "ubuntu-noble",
  keypair_id: "default",
  external_network_id: "public",
  flavor_id: "m1.small",
  master_flavor_id: "m1.medium",
  dns_nameserver: "192.0.2.53",
  master_lb_enabled: true,
};
// A bay's life here is a few minutes of CPU on 2 cores (every node's fragments run): generous.
const BAY_TIMEOUT = 20 * 60_000;

let bf: BayforgeProcess;
let os: OpenStack;
let cloud: CloudInventory;
let demoProject: string;
let before0: Counts;
let trustsBefore: number;
let imageId: string;
const bays: Record<string, string> = {};
let ownNet: { network: string; subnet: string; router: string };

const created = (name: string) => waitForBay(bf.url, bays[name], BAY_TIMEOUT);

/** Heat's resources of a bay's stack, nested stacks included, by type. */
async function resourcesOf(bayId: string): Promise<StackResource[]> {
  const bay = (await api(bf.url, "GET", `/v1/bays/${bayId}`)).json;
  const stack = (await os.heat.findStack(bay.stack_id))!;
  return os.heat.listResources(stack.stack_name, stack.id, { nestedDepth: 5 });
}
const ofType = (rs: StackResource[], type: string) => rs.filter((r) => r.resource_type === type && r.physical_resource_id);

async function serversOf(bayId: string) {
  const rs = await resourcesOf(bayId);
  return Promise.all(ofType(rs, "OS::Nova::Server").map((r) => cloud.server(r.physical_resource_id!)));
}

async function loadBalancersOf(bayId: string): Promise<LoadBalancer[]> {
  const rs = await resourcesOf(bayId);
  return Promise.all(ofType(rs, "OS::Octavia::LoadBalancer").map((r) => cloud.loadBalancer(r.physical_resource_id!)));
}

async function fixedIp(serverId: string): Promise<string> {
  const [port] = await cloud.portsOf(serverId);
  return port.fixed_ips[0].ip_address;
}

before(async () => {
  os = demoCloud();
  cloud = new CloudInventory();
  demoProject = await cloud.projectId("demo");
  imageId = (await cloud.image("ubuntu-noble")).id;
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "3,3,3,5" } });

  // An existing network for the fixed_network variant, made by the user as on a real cloud.
  const net = (await cloud.send("network", "POST", "/v2.0/networks", { network: { name: `${RUN}-net`, project_id: demoProject } })).network;
  const subnet = (
    await cloud.send("network", "POST", "/v2.0/subnets", {
      subnet: { name: `${RUN}-subnet`, network_id: net.id, ip_version: 4, cidr: "10.77.0.0/24", project_id: demoProject },
    })
  ).subnet;
  const publicNet = (await cloud.get("network", "/v2.0/networks?name=public")).networks[0];
  const router = (
    await cloud.send("network", "POST", "/v2.0/routers", {
      router: { name: `${RUN}-router`, project_id: demoProject, external_gateway_info: { network_id: publicNet.id } },
    })
  ).router;
  await cloud.send("network", "PUT", `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
  ownNet = { network: net.id, subnet: subnet.id, router: router.id };
  // what the project holds before any bay (the test's own network included)
  before0 = await cloud.counts(demoProject);
  trustsBefore = (await cloud.trustsOf(await cloud.userId("demo"))).length;

  const model = await api(bf.url, "POST", "/v1/baymodels", { ...MODEL, name: `${RUN}-model` });
  assert.equal(model.status, 201, JSON.stringify(model.json));
  const tpl = await api(bf.url, "POST", "/v1/clustertemplates", { ...MODEL, name: `${RUN}-tpl` }, LATEST);
  assert.equal(tpl.status, 201, JSON.stringify(tpl.json));

  const bay = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-main`, baymodel_id: `${RUN}-model`, master_count: 1, node_count: 2 });
  assert.equal(bay.status, 201, JSON.stringify(bay.json));
  bays.main = bay.json.uuid;
  const clusters: Record<string, object> = {
    nolb: { master_lb_enabled: false, master_count: 1, node_count: 1 },
    nofip: { floating_ip_enabled: false, master_count: 1, node_count: 1 },
    ownnet: { fixed_network: `${RUN}-net`, fixed_subnet: `${RUN}-subnet`, master_count: 1, node_count: 1 },
    ha: { master_count: 3, node_count: 1 },
    badflavor: { master_flavor_id: "m1.nosuchflavor", master_count: 1, node_count: 1 },
    badfragment: { labels: { flannel_backend: "bogus" }, merge_labels: true, master_count: 1, node_count: 1 },
  };
  for (const [key, body] of Object.entries(clusters)) {
    const c = await api(bf.url, "POST", "/v1/clusters", { name: `${RUN}-${key}`, cluster_template_id: `${RUN}-tpl`, ...body }, LATEST);
    assert.equal(c.status, 202, `${key}: ${JSON.stringify(c.json)}`);
    bays[key] = c.json.uuid;
  }
});

after(async () => {
  await bf?.kill("SIGTERM");
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
  if (cloud && ownNet) {
    await cloud.send("network", "PUT", `/v2.0/routers/${ownNet.router}/remove_router_interface`, { subnet_id: ownNet.subnet }).catch(() => {});
    await cloud.send("network", "DELETE", `/v2.0/routers/${ownNet.router}`).catch(() => {});
    await cloud.send("network", "DELETE", `/v2.0/networks/${ownNet.network}`).catch(() => {});
  }
  await cloud?.close();
});

describe("a bay on real Nova, Neutron and Octavia (full dev cloud)", () => {
  it("refuses more than one master without a load balancer (400 naming master_lb_enabled), writing nothing", async () => {
    const r = await api(bf.url, "POST", "/v1/clusters", { name: `${RUN}-refused`, cluster_template_id: `${RUN}-tpl`, master_lb_enabled: false, master_count: 3 }, LATEST);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(r.json.errors[0].detail, /master_lb_enabled/);
    const list = (await api(bf.url, "GET", "/v1/clusters", undefined, LATEST)).json.clusters.map((c: { name: string }) => c.name);
    assert.ok(!list.includes(`${RUN}-refused`));
  });

  it("1 master + 2 minions: CREATE_COMPLETE with ACTIVE servers of the baymodel's flavors, image and keypair", async () => {
    const bay = await created("main");
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    const servers = await serversOf(bays.main);
    assert.equal(servers.length, 3);
    for (const s of servers) {
      assert.equal(s.status, "ACTIVE", s.name);
      assert.equal(s.image.id, imageId, s.name);
      assert.equal(s.key_name, "default", s.name);
      assert.equal(s.tenant_id, demoProject, "the user's own project");
    }
    assert.deepEqual(servers.map((s) => s.flavor.original_name).sort(), ["m1.medium", "m1.small", "m1.small"]);
  });

  it("its ports are bound, on the bay's own network, with the template's security-group rules; the subnet has the baymodel's DNS server", async () => {
    const rs = await resourcesOf(bays.main);
    const [net] = ofType(rs, "OS::Neutron::Net");
    const [subnet] = ofType(rs, "OS::Neutron::Subnet");
    assert.ok(net && subnet, "the bay made its network and subnet");
    const sub = (await cloud.get("network", `/v2.0/subnets/${subnet.physical_resource_id}`)).subnet;
    assert.deepEqual(sub.dns_nameservers, [MODEL.dns_nameserver]);
    const servers = await serversOf(bays.main);
    for (const s of servers) {
      const ports = await cloud.portsOf(s.id);
      assert.equal(ports.length, 1, s.name);
      assert.equal(ports[0].network_id, net.physical_resource_id, s.name);
      assert.notEqual(ports[0]["binding:vif_type"], "binding_failed", s.name);
      const rules = (await Promise.all(ports[0].security_groups.map((g) => cloud.securityGroupRules(g)))).flat();
      const opens = (proto: string, port: number) => rules.some((r) => r.direction === "ingress" && r.protocol === proto && (r.port_range_min ?? 0) <= port && (r.port_range_max ?? 65535) >= port);
      assert.ok(opens("tcp", 22) || opens("tcp", 30000), `${s.name} reachable by ssh or node ports`);
      if (s.flavor.original_name === "m1.medium") {
        for (const p of [6443, 2379, 2380, 10250]) assert.ok(opens("tcp", p), `master opens tcp ${p}`);
        assert.ok(opens("udp", 8472), "master opens flannel's vxlan port");
      }
    }
  });

  it("an ACTIVE Octavia load balancer with listeners on 6443 and 2379, the master a member of both, and a floating IP that is the bay's api_address", async () => {
    const bay = (await api(bf.url, "GET", `/v1/bays/${bays.main}`)).json;
    const lbs = await loadBalancersOf(bays.main);
    assert.ok(lbs.length >= 1);
    const masterIp = await fixedIp((await serversOf(bays.main)).find((s) => s.flavor.original_name === "m1.medium")!.id);
    const listeners = (await Promise.all(lbs.map((lb) => cloud.listenersWithMembers(lb)))).flat();
    assert.deepEqual(listeners.map((l) => l.protocol_port).sort(), [2379, 6443]);
    for (const l of listeners) {
      assert.equal(l.protocol, "TCP", `listener ${l.protocol_port}`);
      assert.deepEqual(l.members.map((m) => m.address), [masterIp], `members of ${l.protocol_port}`);
    }
    for (const lb of lbs) assert.equal(lb.provisioning_status, "ACTIVE");
    const apiLb = lbs.find((lb) => lb.listeners.some((x) => listeners.find((l) => l.id === x.id)?.protocol_port === 6443))!;
    const fips = await cloud.floatingIpsOfPort(apiLb.vip_port_id);
    assert.equal(fips.length, 1, "the API load balancer has a floating IP");
    assert.equal(bay.api_address, `https://${fips[0].floating_ip_address}:6443`);
  });

  it("every wait condition was signalled by the node's own boot, naming the node", async () => {
    const rs = await resourcesOf(bays.main);
    const wcs = rs.filter((r) => r.resource_type === "OS::Heat::WaitCondition");
    assert.equal(wcs.length, 3);
    const names = (await serversOf(bays.main)).map((s) => s.name).sort();
    const signalled: string[] = [];
    for (const wc of wcs) {
      assert.equal(wc.resource_status, "CREATE_COMPLETE", `${wc.resource_name}: ${wc.resource_status_reason}`);
      // the condition's data: {"<signal id>": <what the node sent>}; wc-notify sends its name
      const res = await fetch(`${await os.heat.endpoint()}/stacks/${wc.stack_name}/${wc.stack_id}/resources/${wc.resource_name}`, { headers: { "x-auth-token": await os.session.token(), accept: "application/json" } });
      const data = JSON.parse(((await res.json()) as { resource: { attributes: { data: string } } }).resource.attributes.data) as Record<string, string>;
      assert.equal(Object.keys(data).length, 1, `${wc.resource_name} signalled once`);
      signalled.push(...Object.values(data));
    }
    assert.deepEqual(signalled.sort(), names, "each node signalled its own condition, with its name");
  });

  it("master_lb_enabled false: no load balancer, and api_address is master 0's floating IP", async () => {
    const bay = await created("nolb");
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    const rs = await resourcesOf(bays.nolb);
    assert.equal(rs.filter((r) => r.resource_type.startsWith("OS::Octavia::") || r.resource_type.startsWith("OS::Neutron::LBaaS") || r.resource_type === "OS::Neutron::Pool").length, 0);
    const [master] = (await serversOf(bays.nolb)).filter((s) => s.flavor.original_name === "m1.medium");
    const [port] = await cloud.portsOf(master.id);
    const [fip] = await cloud.floatingIpsOfPort(port.id);
    assert.ok(fip, "master 0 has a floating IP");
    assert.equal(bay.api_address, `https://${fip.floating_ip_address}:6443`);
  });

  it("floating_ip_enabled false: no floating IP on any node, and the bay's addresses are the fixed ones", async () => {
    const bay = await created("nofip");
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    const rs = await resourcesOf(bays.nofip);
    assert.equal(ofType(rs, "OS::Neutron::FloatingIP").length, 0, "no floating IP resource");
    const servers = await serversOf(bays.nofip);
    const fixed: string[] = [];
    for (const s of servers) {
      const [port] = await cloud.portsOf(s.id);
      assert.equal((await cloud.floatingIpsOfPort(port.id)).length, 0, s.name);
      fixed.push(port.fixed_ips[0].ip_address);
    }
    for (const a of [...bay.master_addresses, ...bay.node_addresses]) assert.ok(fixed.includes(a), `${a} is a fixed IP (${fixed})`);
    // the API's load balancer (the other one is etcd's; Heat lists them in no set order)
    const lbs = await loadBalancersOf(bays.nofip);
    const ports = await Promise.all(lbs.map(async (lb) => (await cloud.listenersWithMembers(lb)).map((l) => l.protocol_port)));
    const apiLb = lbs.find((_, i) => ports[i].includes(6443));
    assert.ok(apiLb, `a load balancer listening on 6443 (${JSON.stringify(ports)})`);
    assert.equal(bay.api_address, `https://${apiLb.vip_address}:6443`, "the API load balancer's private address");
  });

  it("an existing fixed_network and fixed_subnet: the nodes join them, and the bay makes no net, subnet, router or interface", async () => {
    const bay = await created("ownnet");
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    const rs = await resourcesOf(bays.ownnet);
    for (const t of ["OS::Neutron::Net", "OS::Neutron::Subnet", "OS::Neutron::Router", "OS::Neutron::RouterInterface"]) assert.equal(ofType(rs, t).length, 0, t);
    for (const s of await serversOf(bays.ownnet)) {
      const [port] = await cloud.portsOf(s.id);
      assert.equal(port.network_id, ownNet.network, s.name);
      assert.equal(port.fixed_ips[0].subnet_id, ownNet.subnet, s.name);
    }
    const [lb] = await loadBalancersOf(bays.ownnet);
    assert.equal(lb.vip_subnet_id, ownNet.subnet);
  });

  it("3 masters behind the load balancer: each is a member of both pools", async () => {
    const bay = await created("ha");
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    const masters = (await serversOf(bays.ha)).filter((s) => s.flavor.original_name === "m1.medium");
    assert.equal(masters.length, 3);
    const ips = (await Promise.all(masters.map((m) => fixedIp(m.id)))).sort();
    const listeners = (await Promise.all((await loadBalancersOf(bays.ha)).map((lb) => cloud.listenersWithMembers(lb)))).flat();
    assert.deepEqual(listeners.map((l) => l.protocol_port).sort(), [2379, 6443]);
    for (const l of listeners) assert.deepEqual(l.members.map((m) => m.address).sort(), ips, `members of ${l.protocol_port}`);
  });

  it("a flavor that does not exist: CREATE_FAILED with the cloud's reason naming it, in status_reason and faults", async () => {
    const bay = await created("badflavor");
    assert.equal(bay.status, "CREATE_FAILED");
    assert.match(bay.status_reason, /m1\.nosuchflavor/);
    const cluster = (await api(bf.url, "GET", `/v1/clusters/${bays.badflavor}`, undefined, LATEST)).json;
    assert.match(JSON.stringify(cluster.faults), /m1\.nosuchflavor/);
  });

  it("a boot fragment that fails: CREATE_FAILED with the fragment's reason from its wait condition", async () => {
    const bay = await created("badfragment");
    assert.equal(bay.status, "CREATE_FAILED");
    assert.match(bay.status_reason, /flannel_backend "bogus" is not one of/);
  });

  it("scales 2 → 3 minions, then 3 → 1 removing a named minion: Nova and the pool members follow exactly", async () => {
    const masterCount = async () => (await serversOf(bays.main)).filter((s) => s.flavor.original_name === "m1.medium").length;
    const minions = async () => (await serversOf(bays.main)).filter((s) => s.flavor.original_name === "m1.small");
    const members = async () => (await Promise.all((await loadBalancersOf(bays.main)).map((lb) => cloud.listenersWithMembers(lb)))).flat().flatMap((l) => l.members.map((m) => m.address));
    const membersBefore = (await members()).sort();

    let r = await api(bf.url, "POST", `/v1/clusters/${bays.main}/actions/resize`, { node_count: 3 }, LATEST);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    let bay = await created("main");
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    assert.equal((await minions()).length, 3);
    assert.equal(bay.node_addresses.length, 3);

    const named = Object.keys(bay.minions ?? {}).sort()[0] ?? "0";
    const rs = await resourcesOf(bays.main);
    const namedServer = rs.find((x) => x.resource_type === "OS::Nova::Server" && x.stack_name?.includes(`-kube_minions-`) && x.parent_resource === named);
    r = await api(bf.url, "POST", `/v1/clusters/${bays.main}/actions/resize`, { node_count: 1, nodes_to_remove: [named] }, LATEST);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    bay = await created("main");
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    const left = await minions();
    assert.equal(left.length, 1);
    if (namedServer) assert.ok(!left.some((s) => s.id === namedServer.physical_resource_id), "the named minion is gone from Nova");
    assert.equal(await masterCount(), 1);
    assert.deepEqual((await members()).sort(), membersBefore, "the pools still hold exactly the master");
  });

  it("a labelled, tainted node group of another flavor: its node boots on Nova, joins with its labels and taints, and goes with the group", async () => {
    const groupServers = async () => {
      const rs = await resourcesOf(bays.main);
      return ofType(rs, "OS::Nova::Server").filter((r) => /-ng_[0-9a-f]{12}-/.test(r.stack_name ?? ""));
    };
    const r = await api(bf.url, "POST", `/v1/clusters/${bays.main}/nodegroups`, {
      name: "gpu",
      node_count: 1,
      flavor_id: "m1.medium",
      node_labels: { "bayforge.test/pool": "gpu" },
      node_taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }],
    }, LATEST);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const bay = await created("main");
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    const group = (await api(bf.url, "GET", `/v1/clusters/${bays.main}/nodegroups/gpu`, undefined, LATEST)).json;
    assert.equal(group.status, "CREATE_COMPLETE", group.status_reason);
    const [res] = await groupServers();
    assert.ok(res, "the group's server is a resource of the bay's stack");
    const server = await cloud.server(res.physical_resource_id!);
    assert.equal(server.status, "ACTIVE");
    assert.equal(server.flavor.original_name, "m1.medium");
    const [port] = await cloud.portsOf(server.id);
    const fips = (await cloud.floatingIpsOfPort(port.id)).map((f) => f.floating_ip_address);
    assert.deepEqual(group.node_addresses, fips, "the group's address is its node's floating IP");
    // the node's own boot wrote its kubeadm join configuration (the simulator keeps its root)
    const join = readFileSync(`${devcloudDir()}/node-simulator/nodes/${server.id}/root/etc/kubernetes/kubeadm.yaml`, "utf8");
    assert.match(join, /kind: JoinConfiguration/);
    assert.match(join, /- name: node-labels\n\s+value: "bayforge\.test\/pool=gpu"/);
    assert.match(join, /taints:\n\s+- key: "dedicated"\n\s+value: "gpu"\n\s+effect: NoSchedule/);

    const d = await api(bf.url, "DELETE", `/v1/clusters/${bays.main}/nodegroups/gpu`, undefined, LATEST);
    assert.equal(d.status, 204, JSON.stringify(d.json));
    assert.equal((await created("main")).status, "UPDATE_COMPLETE");
    assert.deepEqual(await groupServers(), [], "the group's server left the stack");
    await assert.rejects(cloud.server(server.id), "and Nova");
  });

  it("deleting every bay leaves nothing in Nova, Neutron, Octavia or Keystone", async () => {
    for (const id of Object.values(bays)) assert.equal((await api(bf.url, "DELETE", `/v1/bays/${id}`)).status, 204);
    const deadline = Date.now() + BAY_TIMEOUT;
    for (const id of Object.values(bays)) {
      while (Date.now() < deadline && (await api(bf.url, "GET", `/v1/bays/${id}`)).status === 200) await new Promise((r) => setTimeout(r, 2000));
      const gone = await api(bf.url, "GET", `/v1/bays/${id}`);
      assert.equal(gone.status, 404, JSON.stringify(gone.json));
    }
    assert.deepEqual(await cloud.counts(demoProject), before0, "servers, ports, floating IPs, routers, networks, subnets, security groups and load balancers as before");
    const trustees = (await cloud.usersInDomain("bayforge")).filter((u) => Object.values(bays).some((id) => u.name === `bay-${id}`));
    assert.deepEqual(trustees, [], "no trustee user of these bays is left");
    assert.equal((await cloud.trustsOf(await cloud.userId("demo"))).length, trustsBefore, "the user's trusts as before");
  });
});
