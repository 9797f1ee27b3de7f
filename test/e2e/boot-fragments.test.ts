// Issue #7: the nodes really become Kubernetes. Two bays are created through `npm start` on
// the real dev cloud (Keystone mode); the user_data Heat rendered for their nodes (read back
// from Heat) then boots, part by part as cloud-init would run it, in node sandboxes on this
// machine (test/support/node-sandbox.ts: own network, mount, UTS and PID namespaces and a
// chroot) against the real Bayforge API. Recording stand-ins replace only what cannot run
// here: the package installs, systemd and kubeadm/kubelet/kubectl/containerd themselves.
// etcd is the real binary (Debian's 3.4 standing in for the image's). Heat's
// WaitConditionHandle is mapped to OS::Heat::None on the dev cloud, so the signal goes to a
// local recording server given as the handle's curl_cli, and the Kubernetes API a minion
// waits for is a local stand-in.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { api, freePort, ROOT, startBayforge, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import { bootNode, type NodeBoot } from "../support/node-sandbox.ts";
import { startRecordingServer, type RecordedRequest, type RecordingServer } from "../support/recording-server.ts";
import { startKubeApiStandin, type KubeApiStandin } from "../support/kube-api-standin.ts";
import { renderedUserData, type RenderedNode } from "../support/user-data.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";
import { minionToken } from "../../shared/domain/bootstrap-token.ts";
import { shippedScript } from "../../shared/templates/load-template.ts";

const RUN = `boot${Date.now().toString(36)}`;
const FRAGMENTS = join(ROOT, "templates/kubernetes/fragments");
const MASTER_PARTS = ["boot-lib.sh", "prepare-node.sh", "install-packages.sh", "configure-containerd.sh", "make-certs-master.sh", "configure-etcd.sh", "configure-kubernetes-master.sh", "configure-network.sh", "install-node-agent.sh"];
const MINION_PARTS = ["boot-lib.sh", "prepare-node.sh", "install-packages.sh", "configure-containerd.sh", "make-certs-minion.sh", "configure-kubernetes-minion.sh", "install-node-agent.sh"];
const PROXY = "http://proxy.example.test:3128";
const LABELS = {
  kube_tag: "v1.35.8",
  container_infra_prefix: "registry.example.test:5000/k8s/",
  flannel_backend: "vxlan",
  flannel_network_cidr: "10.111.0.0/16",
  flannel_network_subnetlen: "26",
};
const EKU_SERVER = "1.3.6.1.5.5.7.3.1";
const EKU_CLIENT = "1.3.6.1.5.5.7.3.2";

interface BayUnderTest {
  bay: any;
  stack: { stack_name: string; id: string; parameters: Record<string, string>; outputs: Array<{ output_key: string; output_value: unknown }> };
  master: RenderedNode;
  minion: RenderedNode;
  ca: string;
}

let bf: BayforgeProcess;
let os: OpenStack;
let projectId: string;
let sockets: string;
let bayforgeBridge: Server;
let recorder: RecordingServer;
/** where the nodes reach the recorder (inside their sandboxes only) */
let recorderPort: number;
let armoredKey: Buffer;
const bays: Record<"tls" | "plain", BayUnderTest> = {} as never;
const boots: NodeBoot[] = [];

const fragment = (name: string) => shippedScript(readFileSync(join(FRAGMENTS, name), "utf8"));
const param = (heatParams: string, name: string) => new RegExp(`^${name}="([^"]*)"$`, "m").exec(heatParams)?.[1] ?? assert.fail(`${name} not in heat-params`);
/** A role's bootstrap token as Heat wrote it into the nodes' user_data (the stack parameters are hidden). */
const userTokenOf = (b: { master: RenderedNode; minion: RenderedNode }, role: "master" | "minion" = "master") => param(b[role].parts[0], "USER_TOKEN");
const signalPath = (node: RenderedNode, handle: string) => `/v1/${projectId}/stacks/${node.stackName}/${node.stackId}/resources/${handle}/signal`;
/** Heat's curl_cli for a WaitConditionHandle (wait_condition_handle.py), aimed at the recorder. */
const curlCli = (node: RenderedNode, handle: string) =>
  `curl -i -X POST -H 'X-Auth-Token: heat-token-${handle}' -H 'Content-Type: application/json' -H 'Accept: application/json' http://127.0.0.1:${recorderPort}${signalPath(node, handle)}`;

/** Heat's parts, with the wait-condition part as Heat would render it for a real handle. */
function partsWithSignal(node: RenderedNode, handle: string): string[] {
  return [...node.parts.slice(0, -1), fragment("wc-notify.sh").replaceAll("$WAIT_CURL", curlCli(node, handle))];
}

function signals(node: RenderedNode, handle: string): Array<{ request: RecordedRequest; payload: any }> {
  return recorder.requests.filter((r) => r.path === signalPath(node, handle)).map((request) => ({ request, payload: JSON.parse(request.body) }));
}

async function boot(b: BayUnderTest, role: "master" | "minion", o: { parts?: string[]; extraAddresses?: string[]; extraForwards?: Array<{ host: string; port: number; socket: string }> } = {}): Promise<NodeBoot> {
  const node = b[role];
  const heatParams = node.parts[0];
  const volume = param(heatParams, "DOCKER_VOLUME");
  const run = await bootNode({
    // a name of the bay's servers (Bayforge signs a node's kubelet certificates for those only)
    hostname: `${b.stack.parameters.node_name_prefix}-${role}-${boots.length}`,
    addresses: [param(heatParams, "KUBE_NODE_IP"), ...(o.extraAddresses ?? [])],
    forwards: [
      { host: "127.0.0.1", port: Number(new URL(bf.url).port), socket: join(sockets, "bayforge.sock") },
      { host: "127.0.0.1", port: recorderPort, socket: join(sockets, "recorder.sock") },
      ...(o.extraForwards ?? []),
    ],
    parts: o.parts ?? partsWithSignal(node, `${role}_wait_handle`),
    // the bay's Cinder volume for container storage, under the name Nova gives it
    disks: { [`/dev/disk/by-id/virtio-${volume.slice(0, 20)}`]: 64 << 20 },
    // `systemctl start etcd` runs the real etcd on the configuration the fragments wrote
    serviceHooks: { etcd: "#!/bin/bash\nexec /usr/bin/etcd --config-file=/etc/etcd/etcd.conf.yml\n" },
  });
  boots.push(run);
  return run;
}

function openssl(...args: string[]): string {
  return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Every private key stored on the node (PEM files, and keys embedded in kubeconfigs). */
function privateKeysOnNode(run: NodeBoot): KeyObject[] {
  const keys: KeyObject[] = [];
  const pem = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/g;
  // not the node's own: this machine's /usr (unmounted by now), and its TLS configuration
  const skip = new Set(["usr", "proc", "dev", "etc/ssl"].map((d) => run.hostPath(d)));
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (skip.has(p)) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size < 1 << 20) {
        const text = readFileSync(p, "latin1");
        const embedded = [...text.matchAll(/client-key-data: (\S+)/g)].map((m) => Buffer.from(m[1], "base64").toString("utf8"));
        for (const block of [text, ...embedded].flatMap((t) => t.match(pem) ?? [])) keys.push(createPrivateKey(block));
      }
    }
  };
  walk(run.root);
  return keys;
}

const spki = (k: KeyObject) => createPublicKey(k).export({ type: "spki", format: "der" }).toString("base64");

before(async () => {
  if (process.getuid?.() !== 0) throw new Error("the node sandbox needs root (unshare, chroot, mounts), as the dev cloud does");
  execFileSync("bash", [join(ROOT, "scripts/etcd/ensure-etcd.sh")], { stdio: ["ignore", "ignore", "inherit"], timeout: 600_000 });
  os = demoCloud();
  projectId = await os.session.projectId();
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3" } });
  sockets = mkdtempSync(join(tmpdir(), "bf-boot-"));
  // The nodes reach Bayforge at magnum_url (127.0.0.1:<its port> in their own namespace).
  bayforgeBridge = createServer((inbound) => {
    const outbound = connect(Number(new URL(bf.url).port), "127.0.0.1");
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
  });
  await new Promise<void>((r) => bayforgeBridge.listen(join(sockets, "bayforge.sock"), r));
  // The package repository's key: gpg --dearmor on the node only needs valid armor.
  armoredKey = execFileSync("gpg", ["--enarmor"], { input: Buffer.from(`${RUN} repository key`) });
  recorder = await startRecordingServer(join(sockets, "recorder.sock"), (r) => (r.path.endsWith("/Release.key") ? { status: 200, body: armoredKey } : { status: 200, body: "" }));
  recorderPort = await freePort();

  const model = { coe: "kubernetes", image_id: "ubuntu-24.04", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium" };
  const mirror = `http://127.0.0.1:${recorderPort}/mirror`;
  const tlsModel = await api(bf.url, "POST", "/v1/baymodels", {
    ...model, name: `${RUN}-tls`, labels: { ...LABELS, kube_apt_mirror: mirror },
    http_proxy: PROXY, https_proxy: PROXY, no_proxy: "127.0.0.1,localhost", insecure_registry: "registry.example.test:5000",
  });
  assert.equal(tlsModel.status, 201, JSON.stringify(tlsModel.json));
  const plainModel = await api(bf.url, "POST", "/v1/baymodels", { ...model, name: `${RUN}-plain`, tls_disabled: true, labels: { kube_apt_mirror: mirror } });
  assert.equal(plainModel.status, 201, JSON.stringify(plainModel.json));
  const created = await Promise.all(
    (["tls", "plain"] as const).map(async (k) => {
      const r = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-${k}`, baymodel_id: `${RUN}-${k}`, master_count: 1, node_count: 1, bay_create_timeout: 60 });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return [k, r.json.uuid] as const;
    }),
  );
  for (const [k, uuid] of created) {
    // (a shared dev cloud under load may take minutes to build them)
    const bay = await waitForBay(bf.url, uuid, 420_000);
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    const stack = (await os.heat.findStack(bay.stack_id))!;
    const ca = await api(bf.url, "GET", `/v1/certificates/${uuid}`);
    assert.equal(ca.status, 200);
    bays[k] = { bay, stack, master: await renderedUserData(os, stack, "kube_master_init"), minion: await renderedUserData(os, stack, "kube_minion_init"), ca: ca.json.pem };
  }
});

after(async () => {
  for (const b of boots) b.remove();
  await bf?.kill("SIGTERM");
  await recorder?.close();
  bayforgeBridge?.close();
  if (sockets) rmSync(sockets, { recursive: true, force: true });
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

describe("the user_data Heat renders for a bay's nodes", () => {
  it("is the fragments themselves, after the bay's parameters; only the wait condition's curl_cli differs on the dev cloud", () => {
    for (const [node, names] of [[bays.tls.master, MASTER_PARTS], [bays.tls.minion, MINION_PARTS]] as const) {
      assert.equal(node.parts.length, names.length + 2);
      // the parameters' part: the write-heat-params fragment (shipped without its comments), its placeholders filled
      assert.match(node.parts[0], /^#!\/bin\/bash\n\n+set -eu\nmkdir -p \/etc\/sysconfig\n[\s\S]*cat > \/etc\/sysconfig\/heat-params <<'HEAT_PARAMS_EOF'\nNODE_ROLE="(master|minion)"\n/);
      names.forEach((name, i) => assert.equal(node.parts[i + 1], fragment(name), name));
      // OS::Heat::None (the dev cloud's handle) has no curl_cli: Heat put "" where a real one goes
      assert.equal(node.parts.at(-1), fragment("wc-notify.sh").replaceAll("$WAIT_CURL", ""));
    }
  });

  it("carries the stack's real parameters, no placeholder left, and fits Nova's 64 KiB user_data limit", () => {
    const params = bays.tls.master.parts[0];
    // a hidden parameter: Heat shows it masked, and only the nodes get the bay's own token
    assert.equal(bays.tls.stack.parameters.user_token, "******");
    assert.equal(bays.tls.stack.parameters.minion_token, "******");
    // each role its own token: the minions' cannot get the masters' certificates signed
    assert.match(param(params, "USER_TOKEN"), new RegExp(`^bfb_${bays.tls.bay.uuid}_master_`));
    assert.equal(userTokenOf(bays.tls, "minion"), minionToken(bays.tls.bay.uuid, param(params, "USER_TOKEN")));
    assert.equal(param(params, "BAY_UUID"), bays.tls.bay.uuid);
    assert.equal(param(params, "MAGNUM_URL"), `${bf.url}/v1`);
    assert.equal(param(params, "ETCD_DISCOVERY_URL"), bays.tls.bay.discovery_url);
    assert.equal(param(params, "KUBE_APT_MIRROR"), `http://127.0.0.1:${recorderPort}/mirror`);
    assert.equal(param(params, "CONTAINER_INFRA_PREFIX"), LABELS.container_infra_prefix);
    assert.equal(param(params, "INSECURE_REGISTRY_URL"), "registry.example.test:5000");
    assert.equal(param(params, "MASTER_INDEX"), "0");
    for (const node of [bays.tls.master, bays.tls.minion, bays.plain.master]) {
      assert.doesNotMatch(node.parts[0].split("HEAT_PARAMS_EOF")[1], /"\$[A-Z_]+"/, "every placeholder replaced");
      assert.ok(Buffer.from(node.message).toString("base64").length <= 65535, `${Buffer.from(node.message).toString("base64").length} base64 bytes`);
    }
  });
});

describe("a TLS bay's first master, booted in a node sandbox against the real Bayforge API (stand-ins for apt, systemd, kubeadm; the wait condition is a local recorder)", () => {
  let run: NodeBoot;
  let nodeIp: string;
  let hostname: string;
  before(async () => {
    run = await boot(bays.tls, "master");
    nodeIp = param(bays.tls.master.parts[0], "KUBE_NODE_IP");
    hostname = run.read("/etc/hostname").trim();
  });

  it("runs every part and signals the wait condition SUCCESS, once, with the node's name", () => {
    for (const p of run.parts) assert.equal(p.exitCode, 0, `${p.name}:\n${p.output}`);
    const sent = signals(bays.tls.master, "master_wait_handle");
    assert.equal(sent.length, 1);
    assert.equal(sent[0].request.headers["x-auth-token"], "heat-token-master_wait_handle");
    assert.equal(sent[0].request.headers["content-type"], "application/json");
    assert.deepEqual(sent[0].payload, { status: "SUCCESS", reason: `Kubernetes master ${hostname} (${nodeIp}) is up`, data: hostname });
  });

  it("fetches the bay's CA and has Bayforge sign each key it made, certificates that openssl verifies against the CA", () => {
    assert.equal(run.read("/etc/kubernetes/pki/ca.crt"), bays.tls.ca);
    assert.equal(run.read("/etc/kubernetes/pki/front-proxy-ca.crt"), bays.tls.ca);
    assert.equal(run.read("/etc/kubernetes/pki/etcd/ca.crt"), bays.tls.ca);
    const ca = new X509Certificate(bays.tls.ca);
    const publicVip = bays.tls.stack.outputs.find((o) => o.output_key === "api_address")!.output_value as string;
    const privateVip = bays.tls.stack.outputs.find((o) => o.output_key === "api_private_address")!.output_value as string;
    const etcdVip = bays.tls.stack.outputs.find((o) => o.output_key === "etcd_address")!.output_value as string;
    const expected: Array<[string, string, string[], string?]> = [
      ["/etc/kubernetes/pki/apiserver.crt", "CN=kube-apiserver", [EKU_SERVER],
        `DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, DNS:${hostname}, IP Address:10.254.0.1, IP Address:${nodeIp}, IP Address:127.0.0.1, IP Address:${privateVip}, IP Address:${publicVip}`],
      ["/etc/kubernetes/pki/apiserver-kubelet-client.crt", "O=kubeadm:cluster-admins\nCN=kube-apiserver-kubelet-client", [EKU_CLIENT]],
      ["/etc/kubernetes/pki/front-proxy-client.crt", "CN=front-proxy-client", [EKU_CLIENT]],
      ["/etc/kubernetes/pki/apiserver-etcd-client.crt", "CN=kube-apiserver-etcd-client", [EKU_CLIENT]],
      ["/etc/kubernetes/pki/etcd/server.crt", `CN=${hostname}`, [EKU_SERVER, EKU_CLIENT], `DNS:${hostname}, DNS:localhost, IP Address:${nodeIp}, IP Address:127.0.0.1, IP Address:${etcdVip}`],
      ["/etc/kubernetes/pki/etcd/peer.crt", `CN=${hostname}`, [EKU_SERVER, EKU_CLIENT], `DNS:${hostname}, DNS:localhost, IP Address:${nodeIp}, IP Address:127.0.0.1, IP Address:${etcdVip}`],
      ["/var/lib/kubelet/pki/kubelet.crt", `CN=${hostname}`, [EKU_SERVER], `DNS:${hostname}, IP Address:${nodeIp}`],
    ];
    const caFile = run.hostPath("/etc/kubernetes/pki/ca.crt");
    for (const [path, subject, eku, sans] of expected) {
      assert.equal(openssl("verify", "-CAfile", caFile, run.hostPath(path)).trim(), `${run.hostPath(path)}: OK`);
      const cert = new X509Certificate(run.read(path));
      assert.equal(cert.subject, subject, path);
      assert.equal(cert.issuer, ca.subject, path);
      assert.ok(!cert.ca, `${path} is no CA`);
      assert.deepEqual(cert.keyUsage, eku, path);
      assert.equal(cert.subjectAltName, sans, path);
      // its key was made on the node and stays there: it matches the local .key
      const key = createPrivateKey(run.read(path.replace(/\.crt$/, ".key")));
      assert.equal(spki(key), cert.publicKey.export({ type: "spki", format: "der" }).toString("base64"), path);
      assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
    }
  });

  it("never holds the bay's CA key: no ca.key, and no key on the node belongs to the CA", () => {
    assert.ok(!run.exists("/etc/kubernetes/pki/ca.key") && !run.exists("/etc/kubernetes/pki/front-proxy-ca.key"), "kubeadm's external-CA mode");
    const keys = privateKeysOnNode(run);
    assert.ok(keys.length >= 12, `${keys.length} private keys found`);
    const caKey = new X509Certificate(bays.tls.ca).publicKey.export({ type: "spki", format: "der" }).toString("base64");
    for (const k of keys) assert.notEqual(spki(k), caKey);
  });

  it("writes the kubeconfigs kubeadm's external-CA mode needs, each with the bay's CA and a client certificate it signed", () => {
    const privateVip = bays.tls.stack.outputs.find((o) => o.output_key === "api_private_address")!.output_value as string;
    const cases: Array<[string, string, string]> = [
      ["admin.conf", `https://${privateVip}:6443`, "O=kubeadm:cluster-admins\nCN=kubernetes-admin"],
      // no node gets system:masters: kubeadm's external-CA mode only wants the file to be there
      ["super-admin.conf", `https://${privateVip}:6443`, "O=kubeadm:cluster-admins\nCN=kubernetes-admin"],
      ["controller-manager.conf", `https://${nodeIp}:6443`, "CN=system:kube-controller-manager"],
      ["scheduler.conf", `https://${nodeIp}:6443`, "CN=system:kube-scheduler"],
      ["kubelet.conf", `https://${privateVip}:6443`, `O=system:nodes\nCN=system:node:${hostname}`],
    ];
    for (const [file, server, subject] of cases) {
      const kc = loadAll(run.read(`/etc/kubernetes/${file}`))[0] as any;
      assert.equal(kc.clusters[0].cluster.server, server, file);
      assert.equal(Buffer.from(kc.clusters[0].cluster["certificate-authority-data"], "base64").toString(), bays.tls.ca, file);
      const user = kc.users[0].user;
      const certPem = user["client-certificate-data"] ? Buffer.from(user["client-certificate-data"], "base64").toString() : run.read(user["client-certificate"]);
      const cert = new X509Certificate(certPem);
      assert.equal(cert.subject, subject, file);
      assert.ok(cert.verify(new X509Certificate(bays.tls.ca).publicKey), `${file}: signed by the bay's CA`);
      assert.deepEqual(cert.keyUsage, [EKU_CLIENT]);
      assert.equal((statSync(run.hostPath(`/etc/kubernetes/${file}`)).mode & 0o777).toString(8), "600");
    }
  });

  it("writes the kubeadm configuration for an external-CA, external-etcd `kubeadm init` behind the API load balancer, field by field", () => {
    const privateVip = bays.tls.stack.outputs.find((o) => o.output_key === "api_private_address")!.output_value as string;
    const publicVip = bays.tls.stack.outputs.find((o) => o.output_key === "api_address")!.output_value as string;
    const userTokenOfBay = userTokenOf(bays.tls);
    const derived = (what: string) => createHash("sha256").update(`bayforge-kubeadm-${what}:${userTokenOfBay}`).digest("hex");
    const [init, cluster, kubelet, ...rest] = loadAll(run.read("/etc/kubernetes/kubeadm.yaml")) as any[];
    assert.equal(rest.length, 0);
    const nodeRegistration = { name: hostname, criSocket: "unix:///run/containerd/containerd.sock", kubeletExtraArgs: [{ name: "node-ip", value: nodeIp }] };
    assert.deepEqual(init, {
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "InitConfiguration",
      bootstrapTokens: [{
        token: `${derived("token").slice(0, 6)}.${derived("token").slice(6, 22)}`,
        description: "Bayforge: lets the bay's other masters join",
        ttl: "2h0m0s",
        usages: ["signing", "authentication"],
        groups: ["system:bootstrappers:kubeadm:default-node-token"],
      }],
      certificateKey: derived("certificate-key"),
      localAPIEndpoint: { advertiseAddress: nodeIp, bindPort: 6443 },
      nodeRegistration,
      timeouts: { controlPlaneComponentHealthCheck: "10m0s" },
    });
    assert.deepEqual(cluster, {
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "ClusterConfiguration",
      clusterName: "kubernetes",
      kubernetesVersion: "v1.35.8",
      controlPlaneEndpoint: `${privateVip}:6443`,
      certificatesDir: "/etc/kubernetes/pki",
      imageRepository: "registry.example.test:5000/k8s",
      networking: { serviceSubnet: "10.254.0.0/16", podSubnet: "10.111.0.0/16", dnsDomain: "cluster.local" },
      etcd: {
        external: {
          endpoints: ["https://127.0.0.1:2379"],
          caFile: "/etc/kubernetes/pki/etcd/ca.crt",
          certFile: "/etc/kubernetes/pki/apiserver-etcd-client.crt",
          keyFile: "/etc/kubernetes/pki/apiserver-etcd-client.key",
        },
      },
      apiServer: { certSANs: [privateVip, publicVip], extraArgs: [{ name: "allow-privileged", value: "true" }] },
      controllerManager: { extraArgs: [{ name: "node-cidr-mask-size", value: "26" }] },
    });
    assert.deepEqual(kubelet, {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      cgroupDriver: "systemd",
      rotateCertificates: false,
      serverTLSBootstrap: false,
      tlsCertFile: "/var/lib/kubelet/pki/kubelet.crt",
      tlsPrivateKeyFile: "/var/lib/kubelet/pki/kubelet.key",
    });
    assert.equal((statSync(run.hostPath("/etc/kubernetes/kubeadm.yaml")).mode & 0o777).toString(8), "600", "it holds the kubeadm token");
    const kubeadm = run.calls.filter((c) => c.command === "kubeadm" && c.args[0] !== "version");
    assert.deepEqual(kubeadm, [{ command: "kubeadm", args: ["init", "--config", "/etc/kubernetes/kubeadm.yaml", "--upload-certs"] }]);
    // the binding admin.conf's group needs, written into the real etcd before `kubeadm init`
    assert.match(run.read("/var/log/bayforge-boot.log"), /kubeadm:cluster-admins bound to cluster-admin in etcd: \{.*"succeeded":true/);
  });

  it("bootstraps a real etcd member through Bayforge's discovery endpoint, with TLS from the bay's CA", async () => {
    const conf = loadAll(run.read("/etc/etcd/etcd.conf.yml"))[0] as any;
    assert.deepEqual(conf, {
      name: hostname,
      "data-dir": "/var/lib/etcd",
      discovery: bays.tls.bay.discovery_url,
      "initial-cluster-state": "new",
      "listen-peer-urls": `https://${nodeIp}:2380`,
      "initial-advertise-peer-urls": `https://${nodeIp}:2380`,
      "listen-client-urls": `https://${nodeIp}:2379,https://127.0.0.1:2379`,
      "advertise-client-urls": `https://${nodeIp}:2379`,
      "client-transport-security": { "cert-file": "/etc/kubernetes/pki/etcd/server.crt", "key-file": "/etc/kubernetes/pki/etcd/server.key", "trusted-ca-file": "/etc/kubernetes/pki/etcd/ca.crt", "client-cert-auth": true },
      "peer-transport-security": { "cert-file": "/etc/kubernetes/pki/etcd/peer.crt", "key-file": "/etc/kubernetes/pki/etcd/peer.key", "trusted-ca-file": "/etc/kubernetes/pki/etcd/ca.crt", "client-cert-auth": true },
      "enable-grpc-gateway": true,
    });
    // the member registered in the bay's discovery directory, as etcd's discovery client does
    const dir = (await (await fetch(bays.tls.bay.discovery_url)).json()) as { node: { nodes: Array<{ key: string; value: string }> } };
    const members = dir.node.nodes.filter((n: { key: string }) => !n.key.endsWith("/_config"));
    assert.deepEqual(members.map((n: { value: string }) => n.value), [`${hostname}=https://${nodeIp}:2380`]);
    // the fragment waited for it to answer /health over mutual TLS with the apiserver's client certificate
    assert.match(run.read("/var/log/bayforge-boot.log"), /configure-etcd: done/);
    assert.match(run.read("/var/log/hook-etcd.log"), /ready to serve client requests/);
    const unit = run.read("/etc/systemd/system/etcd.service");
    assert.match(unit, /ExecStart=\/usr\/bin\/ctr -n k8s\.io run --rm --net-host --env HTTP_PROXY=http:\/\/proxy\.example\.test:3128 --env HTTPS_PROXY=http:\/\/proxy\.example\.test:3128 --env NO_PROXY=\S+/);
    assert.match(unit, /registry\.example\.test:5000\/k8s\/etcd:v3\.5\.24 bayforge-etcd \/usr\/local\/bin\/etcd --config-file=\/etc\/etcd\/etcd\.conf\.yml$/m);
    assert.ok(run.calls.some((c) => c.command === "systemctl" && c.args.join(" ") === "start etcd"));
  });

  it("installs Kubernetes from the kube_apt_mirror label's repository and sets containerd up with the bay's proxies and registries", () => {
    const repo = `http://127.0.0.1:${recorderPort}/mirror/core:/stable:/v1.35/deb`;
    assert.ok(recorder.requests.some((r) => r.method === "GET" && r.path === "/mirror/core:/stable:/v1.35/deb/Release.key"));
    assert.equal(run.read("/etc/apt/sources.list.d/kubernetes.list"), `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] ${repo}/ /\n`);
    assert.ok(run.exists("/etc/apt/keyrings/kubernetes-apt-keyring.gpg"), "gpg --dearmor ran");
    assert.equal(run.read("/etc/apt/apt.conf.d/90bayforge-proxy"), `Acquire::http::Proxy "${PROXY}";\nAcquire::https::Proxy "${PROXY}";\n`);
    const apt = run.calls.filter((c) => c.command.startsWith("apt")).map((c) => c.args.join(" "));
    assert.deepEqual(apt, ["update -q", "install -y -q --no-install-recommends containerd kubelet=1.35.8-* kubeadm=1.35.8-* kubectl=1.35.8-*", "hold kubelet kubeadm kubectl"]);
    const toml = run.read("/etc/containerd/config.toml");
    assert.match(toml, /sandbox_image = "registry\.example\.test:5000\/k8s\/pause:3\.10\.1"/);
    assert.match(toml, /SystemdCgroup = true/);
    assert.match(toml, /config_path = "\/etc\/containerd\/certs\.d"/);
    assert.equal(run.read("/etc/containerd/certs.d/registry.example.test:5000/hosts.toml"), 'server = "http://registry.example.test:5000"\n\n[host."http://registry.example.test:5000"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n');
    assert.equal(run.read("/etc/systemd/system/containerd.service.d/bayforge-proxy.conf"), "[Service]\nEnvironmentFile=/etc/bayforge/proxy.env\n");
    const env = run.read("/etc/bayforge/proxy.env");
    assert.match(env, new RegExp(`^HTTP_PROXY=${PROXY}\nHTTPS_PROXY=${PROXY}\nNO_PROXY=127\\.0\\.0\\.1,localhost,${nodeIp.replaceAll(".", "\\.")},`));
    for (const must of ["10.254.0.0/16", "10.111.0.0/16", ".svc", ".cluster.local"]) assert.ok(env.includes(must), must);
    const kernel = run.calls.filter((c) => ["modprobe", "sysctl", "swapoff"].includes(c.command)).map((c) => `${c.command} ${c.args.join(" ")}`);
    assert.deepEqual(kernel, ["modprobe overlay", "modprobe br_netfilter", "sysctl --system", "swapoff -a"]);
    assert.match(run.read("/etc/sysctl.d/90-bayforge-kubernetes.conf"), /net\.ipv4\.ip_forward = 1/);
  });

  it("formats the bay's Cinder volume for containerd and mounts it from fstab", () => {
    const image = run.hostPath("/var/lib/standins/disk-0.img");
    const uuid = execFileSync("blkid", ["-o", "value", "-s", "UUID", image], { encoding: "utf8" }).trim();
    assert.ok(uuid, "mkfs.ext4 ran on the volume");
    assert.match(run.read("/etc/fstab"), new RegExp(`^UUID=${uuid} /var/lib/containerd ext4 defaults,nofail 0 2$`, "m"));
    assert.ok(run.calls.some((c) => c.command === "mount" && c.args.join(" ") === "/var/lib/containerd"));
  });

  it("applies flannel with the bay's flannel labels and the registry prefix", () => {
    const docs = loadAll(run.read("/etc/kubernetes/addons/flannel.yaml")) as any[];
    const config = docs.find((d) => d.kind === "ConfigMap");
    assert.deepEqual(JSON.parse(config.data["net-conf.json"]), { Network: "10.111.0.0/16", SubnetLen: 26, Backend: { Type: "vxlan" } });
    const ds = docs.find((d) => d.kind === "DaemonSet").spec.template.spec;
    assert.equal(ds.containers[0].image, "registry.example.test:5000/k8s/flannel:v0.27.4");
    assert.deepEqual(ds.containers[0].args, ["--ip-masq", "--kube-subnet-mgr"]);
    assert.deepEqual(ds.initContainers.map((c: { image: string }) => c.image), ["registry.example.test:5000/k8s/flannel-cni-plugin:v1.8.0-flannel1", "registry.example.test:5000/k8s/flannel:v0.27.4"]);
    assert.ok(run.calls.some((c) => c.command === "kubectl" && c.args.join(" ") === "--kubeconfig /etc/kubernetes/admin.conf apply -f /etc/kubernetes/addons/flannel.yaml"));
  });
});

describe("a TLS bay's minion, booted in a node sandbox (stand-ins for apt, systemd, kubeadm; stand-in Kubernetes API; the wait condition is a local recorder)", () => {
  let run: NodeBoot;
  let kube: KubeApiStandin;
  let hostname: string;
  let vip: string;
  before(async () => {
    vip = param(bays.tls.minion.parts[0], "KUBE_MASTER_IP");
    // the API load balancer's address, served by a stand-in with a certificate Bayforge signed
    const dir = mkdtempSync(join(tmpdir(), "bf-kube-"));
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(dir, "key.pem"));
    openssl("req", "-new", "-key", join(dir, "key.pem"), "-subj", "/CN=kube-apiserver", "-addext", `subjectAltName=IP:${vip}`, "-out", join(dir, "req.csr"));
    const signed = await api(bf.url, "POST", "/v1/certificates", { bay_uuid: bays.tls.bay.uuid, csr: readFileSync(join(dir, "req.csr"), "utf8") });
    assert.equal(signed.status, 201, JSON.stringify(signed.json));
    kube = await startKubeApiStandin({
      ca: bays.tls.ca, cert: signed.json.pem, key: readFileSync(join(dir, "key.pem"), "utf8"),
      listen: { socket: join(sockets, "kube.sock") },
      handle: (c) => (c.path === "/api/v1/namespaces/kube-system/configmaps/kubelet-config" ? { status: 200, body: { kind: "ConfigMap", metadata: { name: "kubelet-config" } } } : { status: 404, body: {} }),
    });
    rmSync(dir, { recursive: true, force: true });
    run = await boot(bays.tls, "minion", { extraAddresses: [vip], extraForwards: [{ host: vip, port: 6443, socket: join(sockets, "kube.sock") }] });
    hostname = run.read("/etc/hostname").trim();
  });
  after(() => kube?.close());

  it("runs every part and signals SUCCESS with the node's name", () => {
    for (const p of run.parts) assert.equal(p.exitCode, 0, `${p.name}:\n${p.output}`);
    const nodeIp = param(bays.tls.minion.parts[0], "KUBE_NODE_IP");
    const sent = signals(bays.tls.minion, "minion_wait_handle");
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0].payload, { status: "SUCCESS", reason: `Kubernetes minion ${hostname} (${nodeIp}) is up`, data: hostname });
  });

  it("waits for the API behind the load balancer with its own Bayforge-signed kubelet identity, then joins with kubeadm", () => {
    assert.deepEqual(kube.calls.map((c) => [c.method, c.path, c.client]), [["GET", "/api/v1/namespaces/kube-system/configmaps/kubelet-config", `O=system:nodes, CN=system:node:${hostname}`]]);
    // kubelet-client-current.pem holds the certificate and its key, as kubeadm's does
    const certFile = join(sockets, "kubelet-client.crt");
    writeFileSync(certFile, run.read("/var/lib/kubelet/pki/kubelet-client-current.pem").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/)![0]);
    assert.equal(openssl("verify", "-CAfile", run.hostPath("/etc/kubernetes/pki/ca.crt"), certFile).trim(), `${certFile}: OK`);
    assert.equal(openssl("verify", "-CAfile", run.hostPath("/etc/kubernetes/pki/ca.crt"), run.hostPath("/var/lib/kubelet/pki/kubelet.crt")).trim(), `${run.hostPath("/var/lib/kubelet/pki/kubelet.crt")}: OK`);
    const kubelet = loadAll(run.read("/etc/kubernetes/kubelet.conf"))[0] as any;
    assert.equal(kubelet.clusters[0].cluster.server, `https://${vip}:6443`);
    assert.deepEqual(kubelet.users[0].user, { "client-certificate": "/var/lib/kubelet/pki/kubelet-client-current.pem", "client-key": "/var/lib/kubelet/pki/kubelet-client-current.pem" });
    const discovery = loadAll(run.read("/etc/kubernetes/discovery.conf"))[0] as any;
    assert.equal(discovery.clusters[0].cluster.server, `https://${vip}:6443`);
    assert.equal(Buffer.from(discovery.clusters[0].cluster["certificate-authority-data"], "base64").toString(), bays.tls.ca);
    assert.equal(new X509Certificate(Buffer.from(discovery.users[0].user["client-certificate-data"], "base64")).subject, `O=system:nodes\nCN=system:node:${hostname}`);
    assert.deepEqual(loadAll(run.read("/etc/kubernetes/kubeadm.yaml")), [{
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "JoinConfiguration",
      discovery: { file: { kubeConfigPath: "/etc/kubernetes/discovery.conf" } },
      nodeRegistration: {
        name: hostname,
        criSocket: "unix:///run/containerd/containerd.sock",
        kubeletExtraArgs: [{ name: "node-ip", value: param(bays.tls.minion.parts[0], "KUBE_NODE_IP") }],
        ignorePreflightErrors: ["FileAvailable--etc-kubernetes-kubelet.conf", "FileAvailable--etc-kubernetes-pki-ca.crt"],
      },
    }]);
    assert.deepEqual(run.calls.filter((c) => c.command === "kubeadm" && c.args[0] !== "version"), [{ command: "kubeadm", args: ["join", "--config", "/etc/kubernetes/kubeadm.yaml"] }]);
    const keys = privateKeysOnNode(run);
    const caKey = new X509Certificate(bays.tls.ca).publicKey.export({ type: "spki", format: "der" }).toString("base64");
    assert.ok(keys.length >= 2 && keys.every((k) => spki(k) !== caKey), "its own keys only, never the CA's");
  });
});

describe("a node whose bootstrap token is not its bay's", () => {
  const withToken = (token: string) => {
    const parts = partsWithSignal(bays.tls.minion, "minion_wait_handle");
    parts[0] = parts[0].replace(/^USER_TOKEN=".*"$/m, `USER_TOKEN="${token}"`);
    return parts;
  };

  it("is refused by the certificates API when it holds another bay's token, and signals FAILURE with the reason", async () => {
    const before = signals(bays.tls.minion, "minion_wait_handle").length;
    const run = await boot(bays.tls, "minion", { parts: withToken(userTokenOf(bays.plain)) });
    const certs = run.parts[5];
    assert.equal(certs.exitCode, 1, certs.output);
    assert.ok(!run.exists("/etc/kubernetes/pki/ca.crt"));
    const sent = signals(bays.tls.minion, "minion_wait_handle").slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].payload.status, "FAILURE");
    assert.match(sent[0].payload.reason, new RegExp(`^make-certs-minion: Bayforge does not know bay ${bays.tls.bay.uuid} for this node's bootstrap token: GET ${bf.url}/v1/certificates/${bays.tls.bay.uuid} answered 404 .*The bay was deleted, or the token is another bay's\\. \\(node \\S+, log /var/log/bayforge-boot\\.log\\)$`));
    assert.ok(run.calls.every((c) => c.command !== "kubeadm" || c.args[0] === "version"), "the parts after the failure did nothing");
  });

  it("is refused without a token (401), and signals FAILURE saying so", async () => {
    const before = signals(bays.tls.minion, "minion_wait_handle").length;
    const run = await boot(bays.tls, "minion", { parts: withToken("") });
    assert.equal(run.parts[5].exitCode, 1);
    const sent = signals(bays.tls.minion, "minion_wait_handle").slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].payload.status, "FAILURE");
    assert.match(sent[0].payload.reason, /^make-certs-minion: Bayforge refused the bay's bootstrap token: GET \S+ answered 401 \(.+\)\. The token is valid for the bay's create timeout plus 30 minutes; recreate the bay if it expired\./);
  });

  it("cannot have a CSR signed for the bay with another bay's token either, while its own token can, within its role", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bf-csr-"));
    const csrOf = (subject: string) => {
      openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "k"), "-subj", subject, "-out", join(dir, "r"));
      return readFileSync(join(dir, "r"), "utf8");
    };
    const csr = csrOf(`/CN=system:node:${bays.tls.stack.parameters.node_name_prefix}-minion-7/O=system:nodes`);
    const masters = csrOf("/CN=admin/O=system:masters");
    rmSync(dir, { recursive: true });
    const minion = { "x-auth-token": userTokenOf(bays.tls, "minion") };
    await Promise.all([
      api(bf.url, "POST", "/v1/certificates", { bay_uuid: bays.tls.bay.uuid, csr }, { "x-auth-token": userTokenOf(bays.plain, "minion") }).then((r) => assert.equal(r.status, 400, JSON.stringify(r.json))),
      api(bf.url, "POST", "/v1/certificates", { bay_uuid: bays.tls.bay.uuid, csr }, { "x-auth-token": "" }).then((r) => assert.equal(r.status, 401)),
      api(bf.url, "POST", "/v1/certificates", { bay_uuid: bays.tls.bay.uuid, csr }, minion).then((r) => assert.equal(r.status, 201)),
      api(bf.url, "POST", "/v1/certificates", { bay_uuid: bays.tls.bay.uuid, csr: masters }, minion).then((r) => assert.match(r.json.errors[0].detail, /^Subject not allowed/)),
      api(bf.url, "POST", "/v1/certificates", { bay_uuid: bays.tls.bay.uuid, csr: masters }, { "x-auth-token": userTokenOf(bays.tls) }).then((r) => assert.equal(r.status, 400)),
    ]);
  });
});

describe("a tls_disabled bay's master, booted in a node sandbox (stand-ins for apt, systemd, kubeadm; the wait condition is a local recorder)", () => {
  let run: NodeBoot;
  before(async () => {
    run = await boot(bays.plain, "master");
  });

  it("serves Magnum's plain-HTTP API on kubernetes_port (kubectl proxy), its own address as the control-plane endpoint, and signals SUCCESS", () => {
    for (const p of run.parts) assert.equal(p.exitCode, 0, `${p.name}:\n${p.output}`);
    const nodeIp = param(bays.plain.master.parts[0], "KUBE_NODE_IP");
    assert.equal(param(bays.plain.master.parts[0], "KUBE_API_PORT"), "8080");
    const unit = run.read("/etc/systemd/system/kube-api-insecure.service");
    assert.match(unit, /^ExecStart=\/usr\/bin\/kubectl --kubeconfig=\/etc\/kubernetes\/admin\.conf proxy --address=0\.0\.0\.0 --port=8080 --accept-hosts=\.\* --disable-filter=true$/m);
    assert.ok(run.calls.some((c) => c.command === "systemctl" && c.args.join(" ") === "enable --now kube-api-insecure.service"));
    const [, cluster] = loadAll(run.read("/etc/kubernetes/kubeadm.yaml")) as any[];
    assert.equal(cluster.controlPlaneEndpoint, `${nodeIp}:6443`);
    assert.equal(cluster.imageRepository, undefined, "no container_infra_prefix: kubeadm's default registry");
    // the cluster itself still runs on certificates from the bay's CA
    assert.equal(run.read("/etc/kubernetes/pki/ca.crt"), bays.plain.ca);
    const sent = signals(bays.plain.master, "master_wait_handle");
    assert.equal(sent.length, 1);
    assert.equal(sent[0].payload.status, "SUCCESS");
  });
});
