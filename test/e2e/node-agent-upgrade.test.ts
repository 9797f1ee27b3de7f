// Issue 15, parts 1, 2 and 4 at the node-sandbox level: a 1+2 bay is created through `npm
// start` on the light dev cloud (Keystone mode); its three nodes then boot from the user_data
// Heat rendered for them, in node sandboxes (test/support/node-sandbox.ts) against the real
// Bayforge API, and stay up: the boot fragments install the node agent, whose timer is run
// here by a loop every 2 s (the sandbox has no systemd: `systemctl enable --now
// bayforge-agent.timer` starts that loop). The agents, signing with their own kubelet keys,
// carry out an upgrade from v1.35.8 to v1.36.2, a CA rotation (issue 15, part 3: trust-ca,
// reissue, drop-ca, with the real certificates; then a kubeconfig from `openstack coe cluster
// config` against a TLS stand-in serving the master's new certificate), and then a failing
// upgrade to v1.37.1.
// Stand-ins, named: apt, systemd and kubeadm/kubelet/kubectl record what they are asked (an
// "install" of kubeadm=X sets the node's version to X); `kubectl get node` answers with that
// version and Ready, as the API would once the kubelet restarted on it; the minions' Kubernetes
// API at boot is a stand-in too. On the light dev cloud the bay's API address is a placeholder,
// so the worker's drain is recorded as skipped (drain-nodes.ts' own tests drain a real API).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { X509Certificate } from "node:crypto";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import type { TLSSocket } from "node:tls";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import yaml from "js-yaml";
import { api, freePort, ROOT, startBayforge, userToken, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import { bootNode, type NodeBoot } from "../support/node-sandbox.ts";
import { startRecordingServer, type RecordingServer } from "../support/recording-server.ts";
import { startKubeApiStandin, type KubeApiStandin } from "../support/kube-api-standin.ts";
import { renderedUserData, type RenderedNode } from "../support/user-data.ts";
import { eventually } from "../support/eventually.ts";
import { canonicalRequest } from "../../shared/certs/node-request.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `agent${Date.now().toString(36)}`;
const V18 = { "OpenStack-API-Version": "container-infra 1.8" };
const V19 = { "OpenStack-API-Version": "container-infra 1.9" };
/** the agent timer's stand-in: one agent run every 2 s while the node is up */
const TIMER = "#!/bin/bash\nwhile :; do /usr/local/sbin/bayforge-agent >/dev/null 2>&1; sleep 2; done\n";
/** kubectl's stand-in hook: `get node` shows the version apt last "installed", Ready */
const KUBECTL = '#!/bin/bash\nfor a in "$@"; do if [ "$a" = get ]; then echo "v$(cat /usr/local/lib/standins/kube-version) True"; exit 0; fi; done\nexit 0\n';

let bf: BayforgeProcess;
let os: OpenStack;
let sockets: string;
let bridge: Server;
let recorder: RecordingServer;
let recorderPort: number;
let kube: KubeApiStandin;
let bay: any;
let master: RenderedNode;
let minion: RenderedNode;
const models: Record<"v135" | "v136" | "v137" | "v134" | "v138", string> = {} as never;
const nodes: Record<string, NodeBoot> = {};
let names: { master: string; minions: [string, string] };

const param = (heatParams: string, name: string) => new RegExp(`^${name}="([^"]*)"$`, "m").exec(heatParams)?.[1] ?? assert.fail(`${name} not in heat-params`);
const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
/** what a node's stand-ins were asked, read now (the node keeps running) */
function calls(name: string): string[] {
  const log = nodes[name].hostPath("/var/log/standins.log");
  return readFileSync(log, "utf8").split("\x1e").filter(Boolean).map((r) => r.split("\x1f").join(" "));
}
const after135 = (name: string) => calls(name).slice(calls(name).findIndex((c) => c.startsWith("systemctl enable --now bayforge-agent.timer")) + 1);
const upgradeCalls = (name: string) => after135(name).filter((c) => /^(kubeadm upgrade|kubectl .*uncordon|systemctl restart kubelet|apt-get install)/.test(c));
/** Where the first line matching a pattern is in `lines` (failing the test when none does). */
const indexIn = (lines: string[]) => (re: RegExp) => {
  const i = lines.findIndex((d) => re.test(d));
  assert.ok(i >= 0, `${re} in ${lines.join("\n")}`);
  return i;
};
const events = async () => ((await api(bf.url, "GET", `/v1/bays/${bay.uuid}/events`)).json.events as Array<{ kind: string; detail: string }>);

async function boot(name: string, role: "master" | "minion"): Promise<NodeBoot> {
  const node = role === "master" ? master : minion;
  const heatParams = node.parts[0];
  const vip = role === "minion" ? param(heatParams, "KUBE_MASTER_IP") : "";
  const run = await bootNode({
    hostname: name,
    addresses: [param(heatParams, "KUBE_NODE_IP"), ...(role === "minion" ? [vip] : [])],
    forwards: [
      { host: "127.0.0.1", port: Number(new URL(bf.url).port), socket: join(sockets, "bayforge.sock") },
      { host: "127.0.0.1", port: recorderPort, socket: join(sockets, "recorder.sock") },
      ...(role === "minion" ? [{ host: vip, port: 6443, socket: join(sockets, "kube.sock") }] : []),
    ],
    // the last part (the wait condition's signal) has no handle on the light dev cloud
    parts: node.parts.slice(0, -1),
    disks: { [`/dev/disk/by-id/virtio-${param(heatParams, "DOCKER_VOLUME").slice(0, 20)}`]: 64 << 20 },
    serviceHooks: { etcd: "#!/bin/bash\nexec /usr/bin/etcd --config-file=/etc/etcd/etcd.conf.yml\n", "bayforge-agent.timer": TIMER },
    commandHooks: { kubectl: KUBECTL },
    keepRunning: true,
    timeoutMs: 180_000,
  });
  nodes[name] = run;
  for (const p of run.parts) assert.equal(p.exitCode, 0, `${name} ${p.name}:\n${p.output.slice(-3000)}`);
  return run;
}

before(async () => {
  if (process.getuid?.() !== 0) throw new Error("the node sandbox needs root (unshare, chroot, mounts), as the dev cloud does");
  execFileSync("bash", [join(ROOT, "scripts/etcd/ensure-etcd.sh")], { stdio: ["ignore", "ignore", "inherit"], timeout: 600_000 });
  os = demoCloud();
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3" } });
  sockets = mkdtempSync(join(tmpdir(), "bf-agent-"));
  bridge = createServer((inbound) => {
    const outbound = connect(Number(new URL(bf.url).port), "127.0.0.1");
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
  });
  await new Promise<void>((r) => bridge.listen(join(sockets, "bayforge.sock"), r));
  const armoredKey = execFileSync("gpg", ["--enarmor"], { input: Buffer.from(`${RUN} repository key`) });
  recorder = await startRecordingServer(join(sockets, "recorder.sock"), (r) => (r.path.endsWith("/Release.key") ? { status: 200, body: armoredKey } : { status: 200, body: "" }));
  recorderPort = await freePort();

  const base = { coe: "kubernetes", image_id: "ubuntu-24.04", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium" };
  const mirror = `http://127.0.0.1:${recorderPort}/mirror`;
  for (const [k, tag] of [["v135", "v1.35.8"], ["v136", "v1.36.2"], ["v137", "v1.37.1"], ["v134", "v1.34.9"], ["v138", "v1.38.0"]] as const) {
    const r = await api(bf.url, "POST", "/v1/clustertemplates", { ...base, name: `${RUN}-${k}`, labels: { kube_tag: tag, kube_apt_mirror: mirror } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    models[k] = r.json.uuid;
  }
  const created = await api(bf.url, "POST", "/v1/clusters", { name: `${RUN}`, cluster_template_id: models.v135, master_count: 1, node_count: 2, create_timeout: 60, keypair: "demo-key" });
  assert.equal(created.status, 202, JSON.stringify(created.json));
  bay = await eventually("the 1+2 bay built", async () => {
    const b = (await api(bf.url, "GET", `/v1/bays/${created.json.uuid}`)).json;
    if (b.status.endsWith("_IN_PROGRESS")) return undefined;
    assert.equal(b.status, "CREATE_COMPLETE", b.status_reason);
    return b;
  }, 420_000, 1000);
  const stack = (await os.heat.findStack(bay.stack_id))!;
  master = await renderedUserData(os, stack, "kube_master_init");
  minion = await renderedUserData(os, stack, "kube_minion_init");
  const prefix = stack.parameters.node_name_prefix;
  names = { master: `${prefix}-master-0`, minions: [`${prefix}-minion-0`, `${prefix}-minion-1`] };

  // the minions wait at boot for the API behind the load balancer: a stand-in with a certificate Bayforge signed
  const dir = mkdtempSync(join(tmpdir(), "bf-kube-"));
  const vip = param(minion.parts[0], "KUBE_MASTER_IP");
  openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(dir, "key.pem"));
  openssl("req", "-new", "-key", join(dir, "key.pem"), "-subj", "/CN=kube-apiserver", "-addext", `subjectAltName=IP:${vip}`, "-out", join(dir, "req.csr"));
  const signed = await api(bf.url, "POST", "/v1/certificates", { bay_uuid: bay.uuid, csr: readFileSync(join(dir, "req.csr"), "utf8") });
  const ca = (await api(bf.url, "GET", `/v1/certificates/${bay.uuid}`)).json.pem;
  kube = await startKubeApiStandin({
    ca, cert: signed.json.pem, key: readFileSync(join(dir, "key.pem"), "utf8"), listen: { socket: join(sockets, "kube.sock") },
    handle: (c) => (c.path === "/api/v1/namespaces/kube-system/configmaps/kubelet-config" ? { status: 200, body: { kind: "ConfigMap" } } : { status: 404, body: {} }),
  });
  rmSync(dir, { recursive: true, force: true });
  await boot(names.master, "master");
  await boot(names.minions[0], "minion");
  await boot(names.minions[1], "minion");
});

after(async () => {
  for (const n of Object.values(nodes)) await n.stop().catch(() => {});
  for (const n of Object.values(nodes)) {
    try {
      n.remove();
    } catch {
      /* left for the operator: still mounted */
    }
  }
  await kube?.close();
  await bf?.kill("SIGTERM");
  await recorder?.close();
  bridge?.close();
  if (sockets) rmSync(sockets, { recursive: true, force: true });
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

describe("the node agent, installed by the boot fragments", () => {
  it("is installed with its timer, and asks Bayforge with the node's own signed identity (idle: nothing to run)", async () => {
    for (const name of [names.master, ...names.minions]) {
      assert.ok(nodes[name].exists("/.usr-local/sbin/bayforge-agent"), name); // the node's /usr/local
      assert.match(nodes[name].read("/etc/systemd/system/bayforge-agent.timer"), /OnUnitInactiveSec=30s/);
      assert.ok(calls(name).includes("systemctl enable --now bayforge-agent.timer"), name);
      // the timer ran and nothing was done: no upgrade asked for yet
      await eventually(`${name}'s agent ran`, () => (nodes[name].exists("/var/lib/bayforge-agent/lock") ? true : undefined), 30_000, 500);
      assert.deepEqual(upgradeCalls(name), [], name);
    }
  });

  it("is refused for another node's state, even with this bay's certificate (403), and without a signature (401)", async () => {
    const pemFile = nodes[names.minions[0]].hostPath("/var/lib/kubelet/pki/kubelet-client-current.pem");
    const path = `/v1/agent/bays/${bay.uuid}/nodes/${names.minions[1]}`;
    const stamp = String(Math.floor(Date.now() / 1000));
    const msg = join(sockets, "msg");
    writeFileSync(msg, canonicalRequest("GET", path, stamp, ""));
    const key = join(sockets, "k.pem");
    openssl("pkey", "-in", pemFile, "-out", key);
    const sig = execFileSync("openssl", ["dgst", "-sha256", "-sign", key, msg]).toString("base64");
    const cert = Buffer.from(openssl("x509", "-in", pemFile)).toString("base64");
    const headers = { "x-bayforge-node-certificate": cert, "x-bayforge-node-timestamp": stamp, "x-bayforge-node-signature": sig };
    const other = await fetch(`${bf.url}${path}`, { headers });
    assert.equal(other.status, 403);
    assert.match(((await other.json()) as any).errors[0].detail, /not the kubelet identity of the node this path names/);
    const none = await fetch(`${bf.url}${path}`);
    assert.equal(none.status, 401);
    rmSync(key);
  });
});

describe("an upgrade (API 1.8) refused before anything moves", () => {
  const upgrade = (template: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = V18) => api(bf.url, "POST", `/v1/clusters/${bay.uuid}/actions/upgrade`, { cluster_template: template, ...extra }, headers);
  it("a downgrade, a skipped minor version: 400 saying why; before 1.8: 406", async () => {
    const down = await upgrade(models.v134);
    assert.equal(down.status, 400);
    assert.match(down.json.errors[0].detail, /downgrades are not supported/);
    const skip = await upgrade(models.v137);
    assert.equal(skip.status, 400);
    assert.match(skip.json.errors[0].detail, /one minor version at a time/);
    assert.equal((await upgrade(models.v136, {}, { "OpenStack-API-Version": "container-infra 1.7" })).status, 406);
    assert.equal((await api(bf.url, "GET", `/v1/bays/${bay.uuid}`)).json.status, "CREATE_COMPLETE");
  });
});

describe("a 1+2 bay upgraded from v1.35.8 to v1.36.2 by its nodes' agents", () => {
  let done: any;
  before(async () => {
    const r = await api(bf.url, "POST", `/v1/clusters/${bay.uuid}/actions/upgrade`, { cluster_template: models.v136, max_batch_size: 1 }, V18);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.deepEqual(r.json, { uuid: bay.uuid });
    // scale and upgrade cannot overlap
    const scale = await api(bf.url, "POST", `/v1/clusters/${bay.uuid}/actions/resize`, { node_count: 3 }, V18);
    assert.equal(scale.status, 409, JSON.stringify(scale.json));
    const again = await api(bf.url, "POST", `/v1/clusters/${bay.uuid}/actions/upgrade`, { cluster_template: models.v136 }, V18);
    assert.equal(again.status, 409);
    done = await eventually("the upgrade finished", async () => {
      const b = (await api(bf.url, "GET", `/v1/clusters/${bay.uuid}`, undefined, V18)).json;
      return b.status === "UPDATE_IN_PROGRESS" ? undefined : b;
    }, 300_000, 1000);
  });

  it("ends UPDATE_COMPLETE on the new template, with coe_version and kube_tag new", () => {
    assert.equal(done.status, "UPDATE_COMPLETE", done.status_reason);
    assert.equal(done.coe_version, "v1.36.2");
    assert.equal(done.cluster_template_id, models.v136);
    assert.equal(done.labels.kube_tag, "v1.36.2");
  });

  it("runs `kubeadm upgrade apply` on the master, then `kubeadm upgrade node` on each worker, one at a time, each uncordoned after", async () => {
    assert.deepEqual(upgradeCalls(names.master), [
      "apt-get install -y -q --no-install-recommends --allow-change-held-packages kubeadm=1.36.2-*",
      "kubeadm upgrade apply v1.36.2 --yes --certificate-renewal=false",
      "apt-get install -y -q --no-install-recommends --allow-change-held-packages kubelet=1.36.2-* kubectl=1.36.2-*",
      "systemctl restart kubelet",
    ]);
    for (const name of names.minions)
      assert.deepEqual(upgradeCalls(name), [
        "apt-get install -y -q --no-install-recommends --allow-change-held-packages kubeadm=1.36.2-*",
        "kubeadm upgrade node --certificate-renewal=false",
        "apt-get install -y -q --no-install-recommends --allow-change-held-packages kubelet=1.36.2-* kubectl=1.36.2-*",
        "systemctl restart kubelet",
        `kubectl --kubeconfig /etc/kubernetes/kubelet.conf uncordon ${name}`,
      ], name);
    // the new minor's package repository
    assert.match(nodes[names.minions[0]].read("/etc/apt/sources.list.d/kubernetes.list"), /core:\/stable:\/v1\.36\/deb\/ \/$/m);
    // the order across nodes, from the bay's events: master, then each worker drained before its upgrade, uncordoned after
    const steps = (await events()).filter((e) => ["node_step", "nodes_drained", "drain_skipped", "drain_incomplete"].includes(e.kind)).map((e) => e.detail);
    const at = indexIn(steps);
    const [w0, w1] = names.minions;
    const order = [
      at(new RegExp(`^master ${names.master}: kubeadm upgrade apply v1\\.36\\.2`)),
      at(new RegExp(`^master ${names.master}: upgraded to v1\\.36\\.2; done`)),
      at(new RegExp(`^worker ${w0}: cordon and drain`)),
      at(new RegExp(`minions ${w0} .*without draining|minion ${w0} `)),
      at(new RegExp(`^worker ${w0}: Ready on v1\\.36\\.2; uncordon`)),
      at(new RegExp(`^worker ${w0}: uncordoned; done`)),
      at(new RegExp(`^worker ${w1}: cordon and drain`)),
      at(new RegExp(`^worker ${w1}: uncordoned; done`)),
    ];
    assert.deepEqual(order, [...order].sort((a, b) => a - b), steps.join("\n"));
    assert.ok((await events()).some((e) => e.kind === "upgrade_complete" && /v1\.36\.2 complete: 3 node\(s\)/.test(e.detail)));
  });

  it("shows each node in the nodegroup views: node, version, last report, step", async () => {
    const workers = (await api(bf.url, "GET", `/v1/clusters/${bay.uuid}/nodegroups/default-worker`, undefined, V19)).json;
    assert.deepEqual(workers.nodes.map((n: any) => [n.node, n.version, n.step]), names.minions.map((n) => [n, "v1.36.2", "done"]));
    for (const n of workers.nodes) assert.ok(Date.parse(n.last_report) > Date.parse(bay.created_at), n.last_report);
    const masters = (await api(bf.url, "GET", `/v1/clusters/${bay.uuid}/nodegroups/default-master`, undefined, V19)).json;
    assert.deepEqual(masters.nodes.map((n: any) => [n.node, n.version, n.step]), [[names.master, "v1.36.2", "done"]]);
  });
});

describe("a CA rotation (`openstack coe ca rotate`) carried to the nodes by their agents", () => {
  let done: any;
  let old: { ca: string; cert: string; key: string };
  let fresh: { ca: string; cert: string; key: string };
  const dirs: string[] = [];
  /** `openstack coe cluster config` as the bay's owner, against this test's Bayforge: the kubeconfig's CA, client certificate and key */
  const clusterConfig = async () => {
    const dir = mkdtempSync(join(tmpdir(), "bf-kubeconfig-"));
    dirs.push(dir);
    const out = osc(["coe", "cluster", "config", bay.uuid, "--dir", dir, "--force", "--output-certs"]);
    assert.match(out, /export KUBECONFIG=/, out);
    // the kubeconfig's own credentials, embedded (as Debian's magnumclient 4.0 writes them) or in files beside it
    const kc = yaml.load(readFileSync(join(dir, "config"), "utf8")) as any;
    const cluster = kc.clusters[0].cluster;
    const user = kc.users[0].user;
    const read = (data: string | undefined, path: string | undefined) => (data ? Buffer.from(data, "base64").toString("utf8") : readFileSync(resolvePath(dir, path!), "utf8"));
    return { ca: read(cluster["certificate-authority-data"], cluster["certificate-authority"]), cert: read(user["client-certificate-data"], user["client-certificate"]), key: read(user["client-key-data"], user["client-key"]) };
  };
  const osc = (args: string[]) => execFileSync(openstack, ["--os-auth-type", "admin_token", "--os-endpoint", `${bf.url}/v1`, "--os-token", oscToken, ...args], { encoding: "utf8", env: { PATH: process.env.PATH!, HOME: tmpdir(), SHELL: "/bin/bash" }, timeout: 120_000 });
  let oscToken = "";
  /** Debian's `openstack` with its magnum plugin, installed on first use (a fresh machine has neither) */
  let openstack = "";
  const master = () => names.master;
  const file = (name: string, path: string) => readFileSync(nodes[name].hostPath(path), "utf8");
  const certsIn = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));

  before(async () => {
    openstack = execFileSync("bash", [join(ROOT, "scripts/devcloud/ensure-openstack-client.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 600_000 }).trim().split("\n").pop()!;
    oscToken = await userToken();
    old = await clusterConfig();
    const rotated = osc(["coe", "ca", "rotate", bay.uuid]);
    assert.match(rotated, /Request to rotate the CA certificate for cluster .* has been accepted/, rotated);
    // a second rotation while this one runs: Magnum's status rule
    assert.equal((await api(bf.url, "PATCH", `/v1/certificates/${bay.uuid}`)).status, 400);
    done = await eventually("the CA rotation finished", async () => {
      const b = (await api(bf.url, "GET", `/v1/clusters/${bay.uuid}`, undefined, V18)).json;
      return b.status === "UPDATE_IN_PROGRESS" ? undefined : b;
    }, 300_000, 1000);
    fresh = await clusterConfig();
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("ends UPDATE_COMPLETE, every node through trust-ca, reissue and drop-ca (masters first), in the bay's events", async () => {
    assert.equal(done.status, "UPDATE_COMPLETE", done.status_reason);
    const steps = (await events()).filter((e) => e.kind === "ca_rotation_step").map((e) => e.detail);
    const at = indexIn(steps);
    const [w0, w1] = names.minions;
    const order = [
      at(new RegExp(`^master ${master()}: trust-ca done`)),
      at(new RegExp(`^worker ${w0}: trust-ca done|^worker ${w1}: trust-ca done`)),
      at(/every node trusts the old and the new CA/),
      at(new RegExp(`^master ${master()}: reissue done`)),
      at(/every node runs on certificates from the new CA/),
      at(new RegExp(`^master ${master()}: drop-ca done`)),
      at(/the old CA is no longer trusted by any node/),
    ];
    assert.deepEqual(order, [...order].sort((a, b) => a - b), steps.join("\n"));
    assert.ok((await events()).some((e) => e.kind === "ca_rotated"));
  });

  it("leaves every node trusting the new CA alone, on certificates it signed, with the same names as before", () => {
    const newCa = certsIn(fresh.ca);
    assert.equal(newCa.length, 1, "ca show: the new CA alone");
    const oldCa = certsIn(old.ca)[0];
    assert.notEqual(newCa[0].fingerprint256, oldCa.fingerprint256);
    for (const name of [master(), ...names.minions]) {
      const trusted = certsIn(file(name, "/etc/kubernetes/pki/ca.crt"));
      assert.deepEqual(trusted.map((c) => c.fingerprint256), [newCa[0].fingerprint256], `${name} trusts the new CA alone`);
      const kubelet = new X509Certificate(file(name, "/var/lib/kubelet/pki/kubelet-client-current.pem"));
      assert.ok(kubelet.checkIssued(newCa[0]) && kubelet.verify(newCa[0].publicKey), `${name}'s kubelet identity is the new CA's`);
      assert.equal(kubelet.subject, `O=system:nodes\nCN=system:node:${name}`);
      const conf = file(name, "/etc/kubernetes/kubelet.conf");
      assert.equal(/certificate-authority-data: (\S+)/.exec(conf)?.[1], Buffer.from(file(name, "/etc/kubernetes/pki/ca.crt")).toString("base64"), `${name}'s kubelet.conf`);
    }
    const apiserver = new X509Certificate(file(master(), "/etc/kubernetes/pki/apiserver.crt"));
    assert.ok(apiserver.verify(newCa[0].publicKey));
    assert.match(apiserver.subjectAltName ?? "", /DNS:kubernetes\.default\.svc\.cluster\.local/);
    // the control plane's own identities, embedded in its kubeconfigs, are the new CA's too
    const admin = /client-certificate-data: (\S+)/.exec(file(master(), "/etc/kubernetes/admin.conf"))![1];
    assert.ok(new X509Certificate(Buffer.from(admin, "base64")).verify(newCa[0].publicKey));
    // each component was restarted on its new files
    assert.ok(calls(master()).filter((c) => c === "systemctl restart etcd").length >= 3, calls(master()).join("\n"));
  });

  it("a kubeconfig from `openstack coe cluster config` after the rotation is accepted by the node's API server; the old client certificate is refused", async () => {
    // the API server's TLS as a stand-in: the master's new serving certificate and key, and the client CA bundle it trusts now
    const server = createHttpsServer({
      key: file(master(), "/etc/kubernetes/pki/apiserver.key"),
      cert: file(master(), "/etc/kubernetes/pki/apiserver.crt"),
      ca: file(master(), "/etc/kubernetes/pki/ca.crt"),
      requestCert: true,
      rejectUnauthorized: true,
    }, (req, res) => res.end(`hello ${(req.socket as TLSSocket).getPeerCertificate().subject.CN}`));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const get = (who: { ca: string; cert: string; key: string }) =>
      new Promise<string>((resolve, reject) => {
        const req = httpsRequest({ host: "127.0.0.1", port, servername: "kubernetes", path: "/version", ca: who.ca, cert: who.cert, key: who.key }, (res) => {
          let body = "";
          res.on("data", (d) => (body += d)).on("end", () => resolve(body));
        });
        req.on("error", reject).end();
      });
    try {
      assert.equal(await get(fresh), "hello admin", "the new kubeconfig is accepted");
      await assert.rejects(get({ ...old, ca: fresh.ca }), "the old client certificate is refused");
      await assert.rejects(get(old), "the old kubeconfig does not trust the node's new serving certificate either");
    } finally {
      server.close();
    }
  });

  it("gives the agents nothing more to do, and the nodegroup views show each node's last step", async () => {
    const workers = (await api(bf.url, "GET", `/v1/clusters/${bay.uuid}/nodegroups/default-worker`, undefined, V19)).json;
    assert.deepEqual(workers.nodes.map((n: any) => [n.node, n.step]), names.minions.map((n) => [n, "done"]));
  });
});

describe("an upgrade whose step fails on a worker", () => {
  let failed: any;
  before(async () => {
    // minion-0's kubeadm refuses `upgrade node` (a stand-in hook in its /usr/local)
    writeFileSync(nodes[names.minions[0]].hostPath("/usr/local/lib/standins/hooks/command-kubeadm").replace("/usr/local/", "/.usr-local/"),
      '#!/bin/bash\nif [ "$1 $2" = "upgrade node" ]; then echo "[preflight] Some fatal errors occurred: etcd is unhealthy" >&2; exit 1; fi\n', { mode: 0o755 });
    const r = await api(bf.url, "POST", `/v1/clusters/${bay.uuid}/actions/upgrade`, { cluster_template: models.v137, max_batch_size: 1 }, V18);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    failed = await eventually("the upgrade stopped", async () => {
      const b = (await api(bf.url, "GET", `/v1/clusters/${bay.uuid}`, undefined, V18)).json;
      return b.status === "UPDATE_IN_PROGRESS" ? undefined : b;
    }, 300_000, 1000);
  });

  it("ends UPDATE_FAILED with a reason naming the node and kubeadm's own words", () => {
    assert.equal(failed.status, "UPDATE_FAILED");
    assert.match(failed.status_reason, new RegExp(`^Upgrade to v1\\.37\\.1 failed on node ${names.minions[0]}: upgrade-node on ${names.minions[0]}: .*etcd is unhealthy.*kubeadm upgrade node failed`));
    // the cluster still runs what it ran
    assert.equal(failed.coe_version, "v1.36.2");
    assert.equal(failed.cluster_template_id, models.v136);
  });

  it("leaves the worker not yet reached untouched, and the master upgraded before it as it is", async () => {
    assert.ok(upgradeCalls(names.master).includes("kubeadm upgrade apply v1.37.1 --yes --certificate-renewal=false"));
    assert.ok(!upgradeCalls(names.minions[1]).some((c) => c.includes("1.37")), upgradeCalls(names.minions[1]).join("\n"));
    // the failed worker tried once, and was not uncordoned after (only after the first upgrade)
    assert.equal(upgradeCalls(names.minions[0]).filter((c) => c.includes("kubeadm upgrade node")).length, 2);
    assert.equal(upgradeCalls(names.minions[0]).filter((c) => c.includes("uncordon")).length, 1);
    const workers = (await api(bf.url, "GET", `/v1/clusters/${bay.uuid}/nodegroups/default-worker`, undefined, V19)).json;
    assert.deepEqual(workers.nodes.map((n: any) => [n.node, n.step]), [[names.minions[0], "failed"], [names.minions[1], "pending"]]);
    assert.equal(workers.nodes[1].version, "v1.36.2");
  });
});
