// Issue 15 on the full-profile dev cloud: a 1+2 bay on real Nova, Neutron and Octavia, its
// servers booted by the node simulator (scripts/devcloud/node-simulator), whose nodes keep
// running their agents (the simulator runs bayforge-agent.timer's service every
// BAYFORGE_SIM_AGENT_SECONDS, 10 s by default). The bay is upgraded one minor version; each
// node's recording stand-ins (apt, systemd, kubeadm, kubectl) show the upgrade commands in
// order. Then the bay's CA is rotated: every node trusts both CAs, renews its certificates
// from the new one and drops the old one (issue 15, part 3). Then a worker's kubeadm fails the next upgrade: UPDATE_FAILED naming it, the other
// worker untouched. Stand-ins as in the simulator; the drain reaches no API (Octavia's noop
// driver serves nothing behind the VIP), which the bay's events record as skipped.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync, readdirSync, existsSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { api, freePort, startBayforge, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import { devcloudDir } from "../support/devcloud.ts";
import { eventually } from "../support/eventually.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `fullup${Date.now().toString(36)}`;
const V18 = { "OpenStack-API-Version": "container-infra 1.8" };
const V19 = { "OpenStack-API-Version": "container-infra 1.9" };
const TEMPLATE = { coe: "kubernetes", image_id: "ubuntu-noble", keypair_id: "default", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium", dns_nameserver: "192.0.2.53" };
const LONG = 20 * 60_000;

let bf: BayforgeProcess;
let os: OpenStack;
/** the Kubernetes package repository's stand-in (kube_apt_mirror): the agent fetches the new minor's key from it */
let mirror: Server;
let bay: any;
let names: string[];
const models: Record<string, string> = {};

/** The simulator's node directory of a server (nodes/<server id>), by its hostname. */
function nodeRoot(hostname: string): string {
  const dir = join(devcloudDir(), "node-simulator", "nodes");
  for (const id of readdirSync(dir)) {
    const root = join(dir, id, "root");
    if (existsSync(join(root, "etc/hostname")) && readFileSync(join(root, "etc/hostname"), "utf8").trim() === hostname) return root;
  }
  throw new Error(`no simulated node ${hostname} in ${dir}`);
}
const calls = (hostname: string) =>
  readFileSync(join(nodeRoot(hostname), "var/log/standins.log"), "utf8").split("\x1e").filter(Boolean).map((r) => r.split("\x1f").join(" "))
    .filter((c) => /^(kubeadm upgrade|kubectl .*uncordon|systemctl restart kubelet|apt-get install .*--allow-change-held-packages)/.test(c));
const finished = (id: string) =>
  eventually("the upgrade finished", async () => {
    const b = (await api(bf.url, "GET", `/v1/clusters/${id}`, undefined, V18)).json;
    return b.status === "UPDATE_IN_PROGRESS" ? undefined : b;
  }, LONG, 2000);

before(async () => {
  os = demoCloud();
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "3,3,3,5" } });
  // the node simulator bridges a loopback kube_apt_mirror into the nodes' namespaces
  const key = execFileSync("gpg", ["--enarmor"], { input: Buffer.from(`${RUN} repository key`) });
  const port = await freePort();
  mirror = createServer((req, res) => {
    res.writeHead(req.url?.endsWith("/Release.key") ? 200 : 404);
    res.end(req.url?.endsWith("/Release.key") ? key : "");
  });
  await new Promise<void>((r) => mirror.listen(port, "127.0.0.1", r));
  for (const [k, tag] of [["v135", "v1.35.8"], ["v136", "v1.36.2"], ["v137", "v1.37.1"]] as const) {
    const r = await api(bf.url, "POST", "/v1/clustertemplates", { ...TEMPLATE, name: `${RUN}-${k}`, labels: { kube_tag: tag, kube_apt_mirror: `http://127.0.0.1:${port}/mirror` } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    models[k] = r.json.uuid;
  }
  const r = await api(bf.url, "POST", "/v1/clusters", { name: RUN, cluster_template_id: models.v135, master_count: 1, node_count: 2, keypair: "default" });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  bay = await eventually("the 1+2 bay built on the full cloud", async () => {
    const b = (await api(bf.url, "GET", `/v1/clusters/${r.json.uuid}`, undefined, V18)).json;
    if (b.status.endsWith("_IN_PROGRESS")) return undefined;
    assert.equal(b.status, "CREATE_COMPLETE", b.status_reason);
    return b;
  }, LONG, 2000);
  const stack = (await os.heat.findStack(bay.stack_id))!;
  const prefix = stack.parameters.node_name_prefix;
  names = [`${prefix}-master-0`, `${prefix}-minion-0`, `${prefix}-minion-1`];
});

after(async () => {
  if (bay) await api(bf.url, "DELETE", `/v1/clusters/${bay.uuid}`, undefined, V18).catch(() => undefined);
  if (bay)
    await eventually("the bay deleted", async () => ((await api(bf.url, "GET", `/v1/clusters/${bay.uuid}`, undefined, V18)).status === 404 ? true : undefined), LONG, 2000).catch(() => undefined);
  await bf?.kill("SIGTERM");
  mirror?.close();
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

describe("a 1+2 bay on the full dev cloud, upgraded v1.35.8 → v1.36.2 by its simulated nodes' agents", () => {
  let done: any;
  before(async () => {
    const r = await api(bf.url, "POST", `/v1/clusters/${bay.uuid}/actions/upgrade`, { cluster_template: models.v136, max_batch_size: 1 }, V18);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    done = await finished(bay.uuid);
  });

  it("ends UPDATE_COMPLETE with coe_version and kube_tag new", () => {
    assert.equal(done.status, "UPDATE_COMPLETE", done.status_reason);
    assert.equal(done.coe_version, "v1.36.2");
    assert.equal(done.labels.kube_tag, "v1.36.2");
    assert.equal(done.cluster_template_id, models.v136);
  });

  it("records the kubeadm upgrade commands on each node in order, the workers uncordoned after", () => {
    const [m, w0, w1] = names;
    const pkgs = (v: string) => [`apt-get install -y -q --no-install-recommends --allow-change-held-packages kubeadm=${v}-*`];
    assert.deepEqual(calls(m), [...pkgs("1.36.2"), "kubeadm upgrade apply v1.36.2 --yes --certificate-renewal=false", "apt-get install -y -q --no-install-recommends --allow-change-held-packages kubelet=1.36.2-* kubectl=1.36.2-*", "systemctl restart kubelet"]);
    for (const w of [w0, w1])
      assert.deepEqual(calls(w), [...pkgs("1.36.2"), "kubeadm upgrade node --certificate-renewal=false", "apt-get install -y -q --no-install-recommends --allow-change-held-packages kubelet=1.36.2-* kubectl=1.36.2-*", "systemctl restart kubelet", `kubectl --kubeconfig /etc/kubernetes/kubelet.conf uncordon ${w}`], w);
  });

  it("drains each worker before its upgrade and uncordons it after, one worker at a time (the bay's events)", async () => {
    const steps = ((await api(bf.url, "GET", `/v1/bays/${bay.uuid}/events`)).json.events as Array<{ kind: string; detail: string }>)
      .filter((e) => e.kind === "node_step" || e.kind.startsWith("drain") || e.kind === "nodes_drained").map((e) => e.detail);
    const at = (re: RegExp) => steps.findIndex((d) => re.test(d));
    const [m, w0, w1] = names;
    const order = [at(new RegExp(`^master ${m}: upgraded`)), at(new RegExp(`^worker ${w0}: cordon and drain`)), at(new RegExp(`minions? ${w0}`)), at(new RegExp(`^worker ${w0}: uncordoned`)), at(new RegExp(`^worker ${w1}: cordon and drain`)), at(new RegExp(`^worker ${w1}: uncordoned`))];
    assert.ok(order.every((i) => i >= 0), steps.join("\n"));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), steps.join("\n"));
  });

  it("shows each node's version, last report and step in the nodegroup views", async () => {
    const g = (await api(bf.url, "GET", `/v1/clusters/${bay.uuid}/nodegroups/default-worker`, undefined, V19)).json;
    assert.deepEqual(g.nodes.map((n: any) => [n.node, n.version, n.step]), names.slice(1).map((n) => [n, "v1.36.2", "done"]));
  });
});

describe("a CA rotation (PATCH /v1/certificates) carried out by the simulated nodes' agents", () => {
  let done: any;
  let oldCa: X509Certificate;
  let newCa: X509Certificate;
  const pem = (name: string, path: string) => readFileSync(join(nodeRoot(name), path), "utf8");
  const certsIn = (text: string) => (text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
  before(async () => {
    oldCa = new X509Certificate((await api(bf.url, "GET", `/v1/certificates/${bay.uuid}`)).json.pem);
    const r = await api(bf.url, "PATCH", `/v1/certificates/${bay.uuid}`);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    done = await finished(bay.uuid);
    const shown = certsIn((await api(bf.url, "GET", `/v1/certificates/${bay.uuid}`)).json.pem);
    assert.equal(shown.length, 1, "ca show: one CA after the rotation");
    newCa = shown[0];
  });

  it("ends UPDATE_COMPLETE with a new CA, which every node alone trusts", () => {
    assert.equal(done.status, "UPDATE_COMPLETE", done.status_reason);
    assert.notEqual(newCa.fingerprint256, oldCa.fingerprint256);
    for (const name of names) {
      assert.deepEqual(certsIn(pem(name, "etc/kubernetes/pki/ca.crt")).map((c) => c.fingerprint256), [newCa.fingerprint256], name);
      const kubelet = new X509Certificate(pem(name, "var/lib/kubelet/pki/kubelet-client-current.pem"));
      assert.ok(kubelet.verify(newCa.publicKey), `${name}'s kubelet identity is the new CA's`);
    }
  });

  it("reissued the master's serving certificates from the new CA, with their names, and restarted its components", () => {
    const [m] = names;
    for (const path of ["etc/kubernetes/pki/apiserver.crt", "etc/kubernetes/pki/etcd/server.crt"]) {
      const cert = new X509Certificate(pem(m, path));
      assert.ok(cert.verify(newCa.publicKey) && !cert.verify(oldCa.publicKey), path);
      assert.match(cert.subjectAltName ?? "", /IP Address:/, path);
    }
    const restarts = readFileSync(join(nodeRoot(m), "var/log/standins.log"), "utf8").split("\x1e").map((r) => r.split("\x1f").join(" ")).filter((c) => c === "systemctl restart etcd");
    assert.equal(restarts.length, 3, "etcd restarted once per phase");
  });
});

describe("the next upgrade, failing on the first worker", () => {
  let failed: any;
  before(async () => {
    const hook = join(nodeRoot(names[1]), ".usr-local/lib/standins/hooks/command-kubeadm");
    // the simulator's own kubeadm hook (the API stand-in on masters) stays first
    writeFileSync(hook, readFileSync(hook, "utf8").replace("#!/bin/bash\n", '#!/bin/bash\nif [ "$1 $2" = "upgrade node" ]; then echo "[preflight] etcd is unhealthy" >&2; exit 1; fi\n'), { mode: 0o755 });
    const r = await api(bf.url, "POST", `/v1/clusters/${bay.uuid}/actions/upgrade`, { cluster_template: models.v137 }, V18);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    failed = await finished(bay.uuid);
  });

  it("ends UPDATE_FAILED naming the node, and leaves the other worker untouched", () => {
    assert.equal(failed.status, "UPDATE_FAILED");
    assert.match(failed.status_reason, new RegExp(`failed on node ${names[1]}: .*etcd is unhealthy`));
    assert.equal(failed.coe_version, "v1.36.2");
    assert.ok(!calls(names[2]).some((c) => c.includes("1.37")), calls(names[2]).join("\n"));
    assert.ok(calls(names[0]).includes("kubeadm upgrade apply v1.37.1 --yes --certificate-renewal=false"));
  });
});
