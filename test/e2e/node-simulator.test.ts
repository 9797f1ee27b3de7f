// Issue #10, part 5: the dev cloud's node simulator (scripts/devcloud/node-simulator/), its
// boot engine on the light profile. A 3-master, 1-minion bay is created through `npm start`
// on the real dev cloud; the user_data Heat rendered for its four servers (read back from
// Heat) is what a stand-in Nova/Neutron/Octavia reader hands the simulator, as the full
// profile's real ones would (the light profile has no Nova). The simulator then boots the
// four nodes as it does on the full profile: one network namespace per server on its
// network's bridge, the real Bayforge API and a real etcd cluster formed through the bay's
// discovery URL, the minion joining through the load balancer's VIP (the simulator's
// forwarder), each node's last part signalling its wait condition (here a local recorder:
// the light profile's WaitConditionHandle is OS::Heat::None). Then: a restart does not boot
// again, a bad node fails with its fragment's reason, bad user_data is logged and skipped, a
// server deleted mid-boot is abandoned, and deleted servers leave no namespace or file.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, freePort, ROOT, startBayforge, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import { mimeParts } from "../support/user-data.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";
import type { Cloud, Frontend, Nic, Server } from "../../scripts/devcloud/node-simulator/cloud.ts";
import { NodeSimulator } from "../../scripts/devcloud/node-simulator/simulator.ts";
import { namespaces } from "../../scripts/devcloud/node-simulator/network.ts";
import { readUserData } from "../../scripts/devcloud/node-simulator/user-data.ts";

const RUN = `sim${Date.now().toString(36)}`;
const FRAGMENTS = join(ROOT, "templates/kubernetes/fragments");
const NET = "0fa1c0de-0000-4000-8000-000000000001";

interface Signal {
  path: string;
  token: string;
  payload: { status: string; reason: string; data: string };
}

/** A stand-in for Nova, Neutron and Octavia as the simulator reads them. */
class StandinCloud implements Cloud {
  servers_: Server[] = [];
  userData_ = new Map<string, string>();
  nics_ = new Map<string, Nic[]>();
  frontends_: Frontend[] = [];
  async servers() {
    return this.servers_.map((s) => ({ ...s }));
  }
  async bootInfo(id: string) {
    return this.servers_.some((s) => s.id === id) ? { userData: this.userData_.get(id) ?? null } : undefined;
  }
  async nics(id: string) {
    return this.nics_.get(id) ?? [];
  }
  async frontends() {
    return this.frontends_;
  }
  add(id: string, name: string, parts: string[] | string, ip: string) {
    this.servers_.push({ id, name, status: "ACTIVE", projectId: "p" });
    this.userData_.set(id, typeof parts === "string" ? parts : Buffer.from(mime(parts)).toString("base64"));
    const n = this.servers_.length;
    this.nics_.set(id, [{ networkId: NET, ip, prefix: 16, mac: `fa:16:3e:00:01:${n.toString(16).padStart(2, "0")}` }]);
  }
  remove(id: string) {
    this.servers_ = this.servers_.filter((s) => s.id !== id);
  }
}

/** A MultipartMime as Heat's OS::Heat::MultipartMime writes it (text/x-shellscript parts). */
function mime(parts: string[]): string {
  const b = "===============bayforge-sim==";
  return [`Content-Type: multipart/mixed; boundary="${b}"`, "MIME-Version: 1.0", "", ...parts.flatMap((p) => [`--${b}`, 'Content-Type: text/x-shellscript; charset="us-ascii"', "MIME-Version: 1.0", "Content-Transfer-Encoding: 7bit", "", p]), `--${b}--`, ""].join("\n");
}

const param = (parts: string[], name: string) => new RegExp(`^${name}="([^"]*)"$`, "m").exec(parts[0])?.[1] ?? assert.fail(`${name} not in heat-params`);
const uuid = (n: number) => `${n.toString(16).padStart(8, "0")}-5e4e-4000-8000-000000000000`;

let bf: BayforgeProcess;
let os: OpenStack;
let signalServer: HttpServer;
let signalPort: number;
const signals: Signal[] = [];
let dir: string;
const cloud = new StandinCloud();
let sim: NodeSimulator;
const logs: string[] = [];
let bay: any;
/** each server's parts, as Heat rendered them, with the signal aimed at the recorder */
const nodes: Array<{ id: string; role: string; name: string; parts: string[]; ip: string }> = [];

/** The parts of every kube_master_init / kube_minion_init software config of the stack, by nested stack. */
async function renderedNodes(stackName: string, stackId: string) {
  const resources = await os.heat.listResources(stackName, stackId, { nestedDepth: 3 });
  const out: Array<{ role: string; parts: string[]; original: string }> = [];
  for (const r of resources.filter((x) => x.resource_name === "kube_master_init" || x.resource_name === "kube_minion_init")) {
    const res = await fetch(`${await os.heat.endpoint()}/software_configs/${r.physical_resource_id}`, { headers: { "x-auth-token": await os.session.token(), accept: "application/json" } });
    const message = ((await res.json()) as { software_config: { config: string } }).software_config.config;
    out.push({ role: r.resource_name === "kube_master_init" ? "master" : "minion", parts: mimeParts(message), original: message });
  }
  return out;
}

/** Heat's curl_cli for a real WaitConditionHandle, aimed at the recorder on 127.0.0.1. */
const withSignal = (parts: string[], handle: string) => [
  ...parts.slice(0, -1),
  readFileSync(join(FRAGMENTS, "wc-notify.sh"), "utf8").replaceAll(
    "$WAIT_CURL",
    `curl -i -X POST -H 'X-Auth-Token: heat-token-${handle}' -H 'Content-Type: application/json' -H 'Accept: application/json' http://127.0.0.1:${signalPort}/v1/p/stacks/s/${handle}/resources/${handle}/signal`,
  ),
];

async function until(what: string, done: () => boolean, seconds: number) {
  const deadline = Date.now() + seconds * 1000;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${seconds} s; simulator log:\n${logs.slice(-30).join("\n")}`);
    await sim.tick();
    await new Promise((r) => setTimeout(r, 1000));
  }
}
const booted = () => JSON.parse(readFileSync(join(dir, "node-simulator", "booted.json"), "utf8")) as Record<string, { result: string }>;
/** every server's boot has ended (the signal goes out just before the simulator records it) */
const settled = () => Object.values(booted()).every((b) => !b.result.startsWith("booting"));

before(async () => {
  if (process.getuid?.() !== 0) throw new Error("the node simulator needs root (network namespaces, unshare, chroot)");
  execFileSync("bash", [join(ROOT, "scripts/etcd/ensure-etcd.sh")], { stdio: ["ignore", "ignore", "inherit"], timeout: 600_000 });
  os = demoCloud();
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3" } });
  signalPort = await freePort();
  signalServer = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      signals.push({ path: req.url ?? "", token: String(req.headers["x-auth-token"]), payload: JSON.parse(body) });
      res.end("");
    });
  });
  await new Promise<void>((r) => signalServer.listen(signalPort, "127.0.0.1", r));
  dir = mkdtempSync(join(tmpdir(), "bf-sim-"));

  const model = await api(bf.url, "POST", "/v1/baymodels", { name: RUN, coe: "kubernetes", master_lb_enabled: true, image_id: "ubuntu-noble", keypair_id: "default", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium" });
  assert.equal(model.status, 201, JSON.stringify(model.json));
  const created = await api(bf.url, "POST", "/v1/bays", { name: RUN, baymodel_id: RUN, master_count: 3, node_count: 1, bay_create_timeout: 60 });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  bay = await waitForBay(bf.url, created.json.uuid, 420_000);
  assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
  const stack = (await os.heat.findStack(bay.stack_id))!;
  const rendered = await renderedNodes(stack.stack_name, stack.id);
  // what the simulator parses from Nova is what Heat rendered
  for (const r of rendered) assert.deepEqual(readUserData(Buffer.from(r.original).toString("base64")).scripts.map((s) => s.body), r.parts);
  rendered.sort((a, b) => `${a.role}${param(a.parts, a.role === "master" ? "MASTER_INDEX" : "KUBE_NODE_IP")}`.localeCompare(`${b.role}${param(b.parts, b.role === "master" ? "MASTER_INDEX" : "KUBE_NODE_IP")}`));
  rendered.forEach((r, i) => {
    const handle = `${r.role}_wait_handle_${i}`;
    // named as Heat names them (Bayforge signs a node's kubelet certificates for its bay's names only)
    const name = `${stack.parameters.node_name_prefix}-${r.role}-${rendered.slice(0, i).filter((x) => x.role === r.role).length}`;
    nodes.push({ id: uuid(i + 1), role: r.role, name, parts: withSignal(r.parts, handle), ip: param(r.parts, "KUBE_NODE_IP") });
  });
  assert.deepEqual(nodes.map((n) => n.role), ["master", "master", "master", "minion"]);
  // The API and etcd load balancers (Octavia's view): VIP:port -> the masters.
  const masters = nodes.filter((n) => n.role === "master");
  const minion = nodes.find((n) => n.role === "minion")!;
  cloud.frontends_ = [
    { lbId: "api", networkId: NET, vip: param(minion.parts, "KUBE_MASTER_IP"), prefix: 16, port: 6443, members: masters.map((m) => ({ host: m.ip, port: 6443 })) },
    { lbId: "etcd", networkId: NET, vip: param(minion.parts, "ETCD_SERVER_IP"), prefix: 16, port: 2379, members: masters.map((m) => ({ host: m.ip, port: 2379 })) },
  ];
  sim = new NodeSimulator(cloud, { dir, concurrency: 4, bootTimeoutMs: 600_000, log: (m) => logs.push(m) });
  await sim.adopt();
});

after(async () => {
  await sim?.shutdown();
  await bf?.kill("SIGTERM");
  signalServer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

describe("the node simulator boots a 3-master, 1-minion bay's servers from their user_data (light profile: a stand-in reader of Nova, Neutron and Octavia gives it Heat's servers; test/full/ uses the real ones)", () => {
  let started: number;
  before(async () => {
    started = Date.now();
    // Heat creates the minions once the masters' wait conditions succeeded: so does this.
    for (const n of nodes.filter((x) => x.role === "master")) cloud.add(n.id, n.name, n.parts, n.ip);
    await until("the masters' signals", () => signals.filter((s) => s.path.includes("master")).length >= 3, 900);
    const m = nodes.find((x) => x.role === "minion")!;
    cloud.add(m.id, m.name, m.parts, m.ip);
    await until("the minion's signal", () => signals.length >= 4 && settled(), 900);
  });

  it("signals every node's wait condition SUCCESS through the handle's URL, once each", () => {
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    for (const n of nodes) {
      const mine = signals.filter((s) => s.path.includes(`/${n.role}_wait_handle_${nodes.indexOf(n)}/`));
      assert.equal(mine.length, 1, `${n.name}: ${JSON.stringify(mine)}`);
      assert.equal(mine[0].payload.status, "SUCCESS", mine[0].payload.reason);
      assert.equal(mine[0].payload.data, n.name);
      assert.equal(mine[0].payload.reason, `Kubernetes ${n.role} ${n.name} (${n.ip}) is up`);
    }
    for (const [id, b] of Object.entries(booted())) assert.match(b.result, /^SUCCESS \(signal sent; boot [\d.]+ s\)$/, id);
    console.log(`# 3 masters + 1 minion booted and signalled in ${seconds} s: ${Object.values(booted()).map((b) => b.result).join("; ")}`);
  });

  it("the masters formed one etcd cluster through the bay's discovery URL, each node in its own namespace on the bay network's bridge", async () => {
    const masters = nodes.filter((n) => n.role === "master");
    const dirList = (await (await fetch(bay.discovery_url)).json()) as { node: { nodes: Array<{ key: string; value: string }> } };
    const members = dirList.node.nodes.filter((n) => !n.key.endsWith("/_config")).map((n) => n.value).sort();
    assert.deepEqual(members, masters.map((m) => `${m.name}=https://${m.ip}:2380`).sort());
    const ns = await namespaces(sim.names.prefix);
    for (const n of nodes) assert.ok(ns.includes(sim.names.server(n.id)), n.name);
    assert.ok(ns.includes(sim.names.segment(NET)));
    // etcd still serves after the boots (the nodes stay up): ask master 1's member for the cluster, from inside master 2
    const [, m1, m2] = masters;
    const root = join(dir, "node-simulator", "nodes", m2.id, "root");
    const pki = `${root}/etc/kubernetes/pki`;
    const out = execFileSync("ip", ["netns", "exec", sim.names.server(m2.id), "etcdctl", `--endpoints=https://${m1.ip}:2379`, `--cacert=${pki}/etcd/ca.crt`, `--cert=${pki}/apiserver-etcd-client.crt`, `--key=${pki}/apiserver-etcd-client.key`, "member", "list", "-w", "json"], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } });
    assert.deepEqual((JSON.parse(out) as { members: Array<{ name: string }> }).members.map((m) => m.name).sort(), masters.map((m) => m.name).sort());
    // the first master bound kubeadm:cluster-admins in etcd before `kubeadm init` (no node gets system:masters)
    const binding = execFileSync("ip", ["netns", "exec", sim.names.server(m2.id), "etcdctl", `--endpoints=https://${m1.ip}:2379`, `--cacert=${pki}/etcd/ca.crt`, `--cert=${pki}/apiserver-etcd-client.crt`, `--key=${pki}/apiserver-etcd-client.key`, "get", "--print-value-only", "/registry/clusterrolebindings/kubeadm:cluster-admins"], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } });
    assert.deepEqual(JSON.parse(binding).roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" });
  });

  it("the minion waited for the API behind the load balancer's VIP (the simulator's forwarder) with its own kubelet identity", () => {
    const masters = nodes.filter((n) => n.role === "master");
    const minion = nodes.find((n) => n.role === "minion")!;
    const apiLogs = masters.map((m) => readFileSync(join(dir, "node-simulator", "nodes", m.id, "root", "var/log/kube-api-standin.log"), "utf8")).join("");
    assert.match(apiLogs, new RegExp(`GET /api/v1/namespaces/kube-system/configmaps/kubelet-config 200 O=system:nodes, CN=system:node:${minion.name}`));
    const logFiles = readdirSync(join(dir, "logs", "nodes"));
    assert.equal(logFiles.length, 4);
    const minionLog = readFileSync(join(dir, "logs", "nodes", logFiles.find((f) => f.includes(minion.id.slice(0, 8)))!), "utf8");
    assert.match(minionLog, /=== part-001 started/);
    assert.match(minionLog, /install-packages: kubeadm v1\.35\.8 and containerd come with the image/);
    assert.match(minionLog, /wc-notify: SUCCESS/);
  });

  it("a restarted simulator adopts the nodes and boots nothing again", async () => {
    const before = signals.length;
    await sim.shutdown();
    // shutdown stops the nodes (the dev cloud going down); booted servers stay remembered
    assert.deepEqual((await namespaces(sim.names.prefix)).filter((n) => n.startsWith(`${sim.names.prefix}s-`)), []);
    sim = new NodeSimulator(cloud, { dir, concurrency: 4, bootTimeoutMs: 600_000, log: (m) => logs.push(m) });
    await sim.adopt();
    for (let i = 0; i < 3; i++) await sim.tick();
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(signals.length, before);
    assert.equal(Object.keys(booted()).length, 4);
  });
});

describe("the node simulator on bad nodes (stand-in reader of Nova, Neutron and Octavia)", () => {
  it("a node whose fragment fails signals FAILURE with that fragment's reason", async () => {
    const minion = nodes.find((n) => n.role === "minion")!;
    const parts = [...minion.parts];
    parts[0] = parts[0].replace(/^USER_TOKEN=".*"$/m, 'USER_TOKEN="not-the-bays-token"');
    cloud.add(uuid(20), `${RUN}-bad-minion`, parts, "10.0.250.20");
    const before = signals.length;
    await until("the bad minion's signal", () => signals.length > before && settled(), 300);
    const sent = signals.at(-1)!;
    assert.equal(sent.payload.status, "FAILURE");
    assert.match(sent.payload.reason, /^make-certs-minion: Bayforge (refused the bay's bootstrap token|does not know bay)/);
    assert.match(booted()[uuid(20)].result, /^FAILURE: make-certs-minion: /);
  });

  it("user_data it cannot read is logged and skipped; the daemon goes on", async () => {
    cloud.add(uuid(21), `${RUN}-garbage`, Buffer.from("x".repeat(400 << 10)).toString("base64"), "10.0.250.21");
    cloud.add(uuid(22), `${RUN}-cloud-config`, Buffer.from("#cloud-config\npackages: [x]\n").toString("base64"), "10.0.250.22");
    await sim.tick();
    assert.match(booted()[uuid(21)].result, /^error: user_data is larger than/);
    assert.match(booted()[uuid(22)].result, /^no shell script in user_data/);
  });

  it("a server deleted mid-boot is abandoned quietly, and deleted servers leave no namespace or file", async () => {
    cloud.add(uuid(23), `${RUN}-slow`, ["#!/bin/bash\nsleep 600\n"], "10.0.250.23");
    await until("the slow node booting", () => existsSync(join(dir, "node-simulator", "nodes", uuid(23), "root", "var/lib/cloud/instance/scripts/part-001")), 60);
    await new Promise((r) => setTimeout(r, 1500));
    cloud.remove(uuid(23));
    await sim.tick();
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(logs.some((l) => l.includes(`(${uuid(23)}) was deleted while booting: abandoned`)), logs.join("\n"));
    for (const s of [...cloud.servers_]) cloud.remove(s.id);
    await sim.tick();
    assert.deepEqual(await namespaces(sim.names.prefix), []);
    assert.deepEqual(readdirSync(join(dir, "node-simulator", "nodes")), []);
    assert.deepEqual(booted(), {});
  });
});
