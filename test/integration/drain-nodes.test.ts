// Scale-down that drains (issue #7): before Heat removes minions, the worker cordons their
// Kubernetes nodes and evicts their pods through the bay's API with the client certificate
// Bayforge holds for the bay, best effort. No real cluster runs here: the API is an HTTPS
// stand-in (test/support/kube-api-standin.ts) that verifies the client certificate against
// the bay's CA and keeps a few nodes and pods. The bay, its certificates and its events are
// in the real SQLite table, its client key in the real local key vault.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer } from "node:net";
import { drainLeavingMinions, minionsLeaving } from "../../functions/worker/steps/drain-nodes.ts";
import { updateBayStack } from "../../functions/worker/steps/update-bay.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { generateBayCertificates } from "../../shared/certs/bay-ca.ts";
import { acceptBay } from "../../shared/domain/bay.ts";
import type { Bay } from "../../shared/domain/model.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import type { Orchestrator, Stack } from "../../shared/ports/orchestrator.ts";
import { KubernetesClients } from "../../shared/adapters/kubernetes/index.ts";
import { StandinHeat } from "../support/standin-heat.ts";
import { kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";
import { standinServingCertificate, startKubeApiStandin, type KubeAnswer, type KubeApiStandin, type KubeCall } from "../support/kube-api-standin.ts";
import { storeBayCerts } from "../support/worker-deps.ts";

describe("minionsLeaving: the minions Heat's ResourceGroup removes", () => {
  const four = { "0": "10.0.0.10", "1": "10.0.0.11", "2": "10.0.0.12", "3": "10.0.0.13" };
  const names = (o: Array<{ name: string }>) => o.map((m) => m.name);

  it("removes the highest-numbered ones when none is named", () => {
    assert.deepEqual(minionsLeaving(four, 2, []), [{ name: "2", address: "10.0.0.12" }, { name: "3", address: "10.0.0.13" }]);
  });
  it("removes the named ones first, by resource name or by private address, then the highest-numbered", () => {
    assert.deepEqual(names(minionsLeaving(four, 1, ["0"])), ["0", "2", "3"]);
    assert.deepEqual(names(minionsLeaving(four, 2, ["10.0.0.11"])), ["1", "3"]);
  });
  it("removes a named one even when the count does not drop (Heat replaces it), and nothing on a plain growth", () => {
    assert.deepEqual(names(minionsLeaving(four, 4, ["2"])), ["2"]);
    assert.deepEqual(minionsLeaving(four, 6, []), []);
  });
  it("orders by number, not by text", () => {
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [String(i), `10.0.1.${i}`]));
    assert.deepEqual(names(minionsLeaving(many, 10, [])), ["10", "11"]);
  });
});

interface FakePod {
  name: string;
  namespace: string;
  node: string;
  owner?: string;
  mirror?: boolean;
  /** evictions refused (429) before one is accepted */
  budgetRefusals?: number;
  /** stays (terminating) after its eviction is accepted */
  sticky?: boolean;
}

/** The cluster the stand-in serves: a master and two minions, pods on the minions. */
function cluster() {
  const nodes = [
    { name: "k-master-0", ip: "10.0.0.2", unschedulable: false },
    { name: "k-minion-0", ip: "10.0.0.10", unschedulable: false },
    { name: "k-minion-1", ip: "10.0.0.11", unschedulable: false },
  ];
  const pods: FakePod[] = [
    { name: "web-0", namespace: "default", node: "k-minion-0", owner: "ReplicaSet" },
    { name: "web-1", namespace: "default", node: "k-minion-1", owner: "ReplicaSet" },
    { name: "db-0", namespace: "shop", node: "k-minion-1", owner: "StatefulSet", budgetRefusals: 1 },
    { name: "kube-flannel-ds-x", namespace: "kube-flannel", node: "k-minion-1", owner: "DaemonSet" },
    { name: "static-web-k-minion-1", namespace: "kube-system", node: "k-minion-1", owner: "Node", mirror: true },
  ];
  const handle = (c: KubeCall): KubeAnswer => {
    const path = c.path.split("?")[0];
    if (c.method === "GET" && path === "/api/v1/nodes")
      return { status: 200, body: { kind: "NodeList", items: nodes.map((n) => ({ metadata: { name: n.name }, spec: { unschedulable: n.unschedulable }, status: { addresses: [{ type: "InternalIP", address: n.ip }, { type: "Hostname", address: n.name }] } })) } };
    const cordon = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path);
    if (c.method === "PATCH" && cordon) {
      const n = nodes.find((x) => x.name === decodeURIComponent(cordon[1]));
      if (!n) return { status: 404, body: {} };
      n.unschedulable = (c.body as { spec: { unschedulable: boolean } }).spec.unschedulable;
      return { status: 200, body: {} };
    }
    if (c.method === "GET" && path === "/api/v1/pods") {
      const on = decodeURIComponent(new URLSearchParams(c.path.split("?")[1]).get("fieldSelector") ?? "").replace(/^spec\.nodeName=/, "");
      const items = pods.filter((p) => p.node === on).map((p) => ({
        metadata: { name: p.name, namespace: p.namespace, ownerReferences: p.owner ? [{ kind: p.owner, name: "x" }] : [], annotations: p.mirror ? { "kubernetes.io/config.mirror": "abc" } : {} },
      }));
      return { status: 200, body: { kind: "PodList", items } };
    }
    const evict = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(path);
    if (c.method === "POST" && evict) {
      const i = pods.findIndex((p) => p.namespace === evict[1] && p.name === evict[2]);
      if (i < 0) return { status: 404, body: {} };
      if (pods[i].budgetRefusals) {
        pods[i].budgetRefusals!--;
        return { status: 429, body: { message: "Cannot evict pod as it would violate the pod's disruption budget." } };
      }
      if (!pods[i].sticky) pods.splice(i, 1);
      return { status: 201, body: {} };
    }
    return { status: 404, body: {} };
  };
  return { nodes, pods, handle };
}

let dir: string;
let stores: LocalStores;
let vault: LocalKeyVault;
let certs: Awaited<ReturnType<typeof generateBayCertificates>>;
let serverCert: string;
let serverKey: string;
const logs: string[] = [];
const owner = { projectId: "p-drain", userId: "u-drain" };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-drain-"));
  stores = openLocalStores(dir);
  vault = await LocalKeyVault.forDataDir(dir, {});
  certs = await generateBayCertificates({ bayUuid: "d7a6f3c2-0000-4000-8000-000000000001", bayName: "drain" });
  // the API's serving certificate, for 127.0.0.1, signed by the bay's CA
  ({ cert: serverCert, key: serverKey } = standinServingCertificate(certs));
});

after(async () => {
  await stores?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A bay in the real table, with its certificates stored as the worker stores them. */
async function bayAt(apiAddress: string | null, extra: Partial<Bay> = {}): Promise<Bay> {
  const accepted = acceptBay({ name: "drain", baymodel_id: "m", node_count: 2, master_count: 1, bay_create_timeout: 60, discovery_url: null }, "m", owner, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now: new Date() });
  const bay: Bay = { ...accepted, status: "CREATE_COMPLETE", api_address: apiAddress, stack_id: "s-1", minions: { "0": "10.0.0.10", "1": "10.0.0.11" }, ...extra };
  await stores.table.createBay(bay);
  await storeBayCerts(stores.table, vault, bay.uuid, certs);
  return bay;
}

function deps(heat?: Orchestrator): WorkerDeps {
  return {
    table: stores.table,
    queue: stores.queue,
    heatFor: () => heat ?? assert.fail("no Heat in this test"),
    vault,
    kubernetes: new KubernetesClients(),
    log: createLogger({}, "debug", (l) => logs.push(l)),
    definitionContext: () => assert.fail("not used"),
    template: () => assert.fail("not used"),
    pollDelays: [1],
    retryDelays: [1],
    now: () => new Date(),
  };
}

const stackWith = (minions: Record<string, string>, extra: Partial<Stack> = {}): Stack => ({
  id: "s-1",
  stack_name: "drain-stack",
  stack_status: "CREATE_COMPLETE",
  stack_status_reason: null,
  timeout_mins: 60,
  parameters: { number_of_minions: String(Object.keys(minions).length) },
  outputs: [{ output_key: "kube_minions_by_name", output_value: minions }],
  ...extra,
});

describe("drainLeavingMinions (stand-in Kubernetes API; no real cluster runs here)", () => {
  let kube: KubeApiStandin;
  let state: ReturnType<typeof cluster>;
  beforeEach(async () => {
    await kube?.close();
    state = cluster();
    kube = await startKubeApiStandin({ ca: certs.caCertPem, cert: serverCert, key: serverKey, listen: { port: 0 }, handle: (c) => state.handle(c) });
  });
  after(() => kube?.close());

  it("cordons the leaving minion's node, found by its InternalIP, and evicts its pods but DaemonSet and mirror pods, asking a PodDisruptionBudget again", async () => {
    const bay = await bayAt(kube.url!);
    await drainLeavingMinions(bay, bay.minions!, 1, [], deps(), { retryMs: 50 });
    assert.deepEqual(state.nodes.map((n) => [n.name, n.unschedulable]), [["k-master-0", false], ["k-minion-0", false], ["k-minion-1", true]]);
    assert.deepEqual(state.pods.map((p) => p.name).sort(), ["kube-flannel-ds-x", "static-web-k-minion-1", "web-0"]);
    const calls = kube.calls.map((c) => `${c.method} ${c.path}`);
    assert.deepEqual(calls.slice(0, 3), ["GET /api/v1/nodes", "PATCH /api/v1/nodes/k-minion-1", "GET /api/v1/pods?fieldSelector=spec.nodeName%3Dk-minion-1"]);
    const evictions = calls.filter((c) => c.endsWith("/eviction"));
    assert.deepEqual(evictions, ["POST /api/v1/namespaces/default/pods/web-1/eviction", "POST /api/v1/namespaces/shop/pods/db-0/eviction", "POST /api/v1/namespaces/shop/pods/db-0/eviction"], "db-0 asked again after its budget said 429");
    const cordon = kube.calls.find((c) => c.method === "PATCH")!;
    assert.equal(cordon.contentType, "application/merge-patch+json");
    assert.deepEqual(cordon.body, { spec: { unschedulable: true } });
    const eviction = kube.calls.find((c) => c.path.endsWith("/eviction"))!;
    assert.deepEqual(eviction.body, { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-1", namespace: "default" } });
    // every call made as Bayforge's client certificate for the bay, verified against its CA
    assert.deepEqual([...new Set(kube.calls.map((c) => c.client))], ["CN=admin, O=system:masters"]);
  });

  it("records on the bay which node it drained (the named minion) and how many pods it evicted", async () => {
    const bay = await bayAt(kube.url!);
    await drainLeavingMinions(bay, bay.minions!, 1, ["0"], deps(), { retryMs: 50 });
    const events = (await stores.table.listEvents(bay.uuid)).filter((e) => e.kind.includes("drain"));
    assert.equal(events.length, 1);
    assert.equal(events[0].kind, "nodes_drained");
    assert.equal(events[0].detail, "minion 0 (10.0.0.10) = node k-minion-0: cordoned, 1 pod(s) evicted");
  });

  it("records drain_incomplete naming the pods still there when its time is up, and lets the scale go on", async () => {
    state.pods.find((p) => p.name === "web-1")!.sticky = true;
    const bay = await bayAt(kube.url!);
    await drainLeavingMinions(bay, bay.minions!, 1, [], deps(), { retryMs: 50, budgetMs: 400 });
    const events = (await stores.table.listEvents(bay.uuid)).filter((e) => e.kind.includes("drain"));
    assert.deepEqual(events.map((e) => e.kind), ["drain_incomplete"]);
    assert.match(events[0].detail, /^minion 1 \(10\.0\.0\.11\) = node k-minion-1: cordoned, 2 pod\(s\) evicted, still there after 0\.4 s: default\/web-1$/);
  });

  it("records a minion no Kubernetes node has the address of, and drains the others", async () => {
    const bay = await bayAt(kube.url!);
    await drainLeavingMinions(bay, { "0": "10.0.0.10", "1": "10.0.0.11", "2": "10.0.0.99" }, 1, [], deps(), { retryMs: 50 });
    const [event] = (await stores.table.listEvents(bay.uuid)).filter((e) => e.kind.includes("drain"));
    assert.equal(event.detail, "minion 1 (10.0.0.11) = node k-minion-1: cordoned, 2 pod(s) evicted; minion 2 (10.0.0.99): no Kubernetes node has this address");
  });

  it("stops reading an answer over 4 MiB (the API is the tenant's) and records drain_skipped without its text", async () => {
    let written = 0;
    const handle = state.handle;
    state.handle = (c) =>
      c.path === "/api/v1/nodes"
        ? {
            status: 200,
            // chunked, no content-length: 8 MiB of node list, as fast as the socket takes it
            raw: (res) => {
              res.writeHead(200, { "content-type": "application/json" });
              const item = Buffer.from(`{"metadata":{"name":"hostile-${"x".repeat(1000)}"}},`);
              const pump = () => {
                while (written < 8 << 20) {
                  written += item.length;
                  if (!res.write(item)) return void res.once("drain", pump);
                }
                res.end("{}]}");
              };
              res.on("error", () => {});
              res.write('{"items":[');
              pump();
            },
          }
        : handle(c);
    const bay = await bayAt(kube.url!);
    await drainLeavingMinions(bay, bay.minions!, 1, [], deps(), { retryMs: 50 });
    const events = (await stores.table.listEvents(bay.uuid)).filter((e) => e.kind.includes("drain"));
    assert.deepEqual(events.map((e) => [e.kind, e.detail]), [
      ["drain_skipped", `minions 1 (10.0.0.11) are removed without draining: the Kubernetes API at ${kube.url} answered GET /api/v1/nodes with more than the 4 MiB an answer may have (aborted, not kept)`],
    ]);
    assert.ok(!logs.join("\n").includes("hostile-"), "nothing of the answer is logged");
    assert.deepEqual(kube.calls.map((c) => c.method), ["GET"], "nothing cordoned");
    assert.equal(state.nodes.some((n) => n.unschedulable), false);
  });

  it("records drain_skipped when the worker was given no Kubernetes client", async () => {
    const bay = await bayAt(kube.url!);
    await drainLeavingMinions(bay, bay.minions!, 1, [], { ...deps(), kubernetes: undefined });
    const [event] = (await stores.table.listEvents(bay.uuid)).filter((e) => e.kind.includes("drain"));
    assert.deepEqual([event.kind, event.detail], ["drain_skipped", "minions 1 (10.0.0.11) are removed without draining: the worker has no Kubernetes client"]);
    assert.equal(kube.calls.length, 0);
  });

  it("does nothing, and calls nothing, when no minion leaves", async () => {
    const bay = await bayAt(kube.url!);
    await drainLeavingMinions(bay, bay.minions!, 3, [], deps());
    assert.equal(kube.calls.length, 0);
    assert.deepEqual((await stores.table.listEvents(bay.uuid)).filter((e) => e.kind.includes("drain")), []);
  });
});

describe("drainLeavingMinions where the API is not reachable", () => {
  it("logs, records drain_skipped naming the minions and why, and returns", async () => {
    const closed = await new Promise<number>((r) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => r(port));
      });
    });
    const bay = await bayAt(`https://127.0.0.1:${closed}`);
    const before = logs.length;
    await drainLeavingMinions(bay, bay.minions!, 1, [], deps(), { connectTimeoutMs: 500 });
    const [event] = (await stores.table.listEvents(bay.uuid)).filter((e) => e.kind.includes("drain"));
    assert.equal(event.kind, "drain_skipped");
    assert.equal(event.detail, `minions 1 (10.0.0.11) are removed without draining: the Kubernetes API at https://127.0.0.1:${closed} could not be reached (ECONNREFUSED)`);
    const warned = logs.slice(before).map((l) => JSON.parse(l));
    assert.ok(warned.some((l) => l.level === "warn" && l.msg.startsWith("minions not drained")));
    assert.ok(!logs.slice(before).join("\n").includes("PRIVATE KEY"), "no key in the logs");
  });

  it("gives up on an API that never accepts the connection after the connect timeout, not the whole call's", async () => {
    // A listener that never accepts, its one-slot queue filled: the kernel drops further SYNs,
    // as a firewalled or powered-off address does.
    const py = spawn("python3", ["-c", "import socket,time\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen(0);print(s.getsockname()[1],flush=True);time.sleep(120)"]);
    const port = Number(await new Promise<string>((r) => py.stdout.once("data", (d) => r(String(d).trim()))));
    const fillers = [1, 2, 3].map(() => connect(port, "127.0.0.1").on("error", () => {}));
    try {
      await new Promise((r) => setTimeout(r, 300));
      const bay = await bayAt(`https://127.0.0.1:${port}`);
      await drainLeavingMinions(bay, bay.minions!, 1, [], deps(), { connectTimeoutMs: 500 });
      const [event] = (await stores.table.listEvents(bay.uuid)).filter((e) => e.kind.includes("drain"));
      assert.equal(event.kind, "drain_skipped");
      assert.equal(event.detail, `minions 1 (10.0.0.11) are removed without draining: the Kubernetes API at https://127.0.0.1:${port} could not be reached (ETIMEDOUT)`);
    } finally {
      for (const f of fillers) f.destroy();
      py.kill();
    }
  });

  it("records drain_skipped when the bay has no API address", async () => {
    const bay = await bayAt(null);
    await drainLeavingMinions(bay, bay.minions!, 1, [], deps());
    const [event] = (await stores.table.listEvents(bay.uuid)).filter((e) => e.kind.includes("drain"));
    assert.deepEqual([event.kind, event.detail], ["drain_skipped", "minions 1 (10.0.0.11) are removed without draining: the bay has no Kubernetes API address"]);
  });
});

describe("a scale-down through the worker's bay.update (stand-in Heat recording the update; stand-in Kubernetes API; no real cluster runs here)", () => {
  // The dev cloud's real Heat cannot give a stack a Kubernetes API this test can serve (its
  // fake floating IPs lead nowhere), so Heat here is a stand-in that only records the update.
  it("drains the leaving minion before it asks Heat to remove it", async () => {
    const state = cluster();
    const kube = await startKubeApiStandin({ ca: certs.caCertPem, cert: serverCert, key: serverKey, listen: { port: 0 }, handle: (c) => state.handle(c) });
    try {
      const minions = { "0": "10.0.0.10", "1": "10.0.0.11" };
      const accepted = await bayAt(kube.url!, {
        status: "UPDATE_IN_PROGRESS",
        node_count: 2,
        update: { node_count: 1, nodes_to_remove: ["0"], previous_node_count: 2, requested_at: new Date(Date.now() - 1000).toISOString(), request_id: "req-scale" },
      });
      const kubeCallsBefore: number[] = [];
      const heat = new StandinHeat({
        getStack: async () => stackWith(minions),
        updateStack: async () => void kubeCallsBefore.push(kube.calls.length),
      });
      await updateBayStack({ v: 1, kind: "bay.update", bayId: accepted.uuid, projectId: owner.projectId, requestId: "req-scale", attempt: 0 }, deps(heat));
      assert.deepEqual(heat.updated.map((u) => u.request), [{ parameters: { number_of_minions: 1, minions_to_remove: ["0"] } }]);
      assert.deepEqual(kubeCallsBefore, [kube.calls.length], "every Kubernetes call happened before the Heat update");
      assert.equal(heat.created.length + heat.deleted.length, 0);
      assert.equal(state.nodes.find((n) => n.name === "k-minion-0")!.unschedulable, true);
      assert.deepEqual(state.pods.filter((p) => p.node === "k-minion-0"), []);
      const kinds = (await stores.table.listEvents(accepted.uuid)).map((e) => e.kind);
      assert.deepEqual(kinds, ["nodes_drained", "stack_update_requested"]);
    } finally {
      await kube.close();
    }
  });
});

describe("a node group's shrink and delete through the worker's bay.update (stand-in Heat; stand-in Kubernetes API; no real cluster runs here)", () => {
  const key = "ng_aaaabbbbcccc";
  const groupNodes = { "0": "10.0.1.5", "1": "10.0.1.6" };
  const ng = (node_count: number) => ({
    uuid: "aaaabbbb-cccc-4000-8000-000000000001", name: "gpu", role: "worker", flavor_id: "m1.large", image_id: "img", docker_volume_size: null, labels: {},
    node_count, min_node_count: 0, max_node_count: null, key, status: "UPDATE_IN_PROGRESS" as const, status_reason: null, node_addresses: [], minions: groupNodes,
    created_at: new Date().toISOString(), updated_at: null,
  });
  /** The stand-in cluster with the group's two nodes, a pod on each. */
  function withGroup() {
    const state = cluster();
    state.nodes.push({ name: "k-gpu-0", ip: "10.0.1.5", unschedulable: false }, { name: "k-gpu-1", ip: "10.0.1.6", unschedulable: false });
    state.pods.push({ name: "train-0", namespace: "ml", node: "k-gpu-0", owner: "ReplicaSet" }, { name: "train-1", namespace: "ml", node: "k-gpu-1", owner: "ReplicaSet" });
    return state;
  }
  const stack = () => stackWith({ "0": "10.0.0.10", "1": "10.0.0.11" }, { outputs: [{ output_key: "kube_minions_by_name", output_value: { "0": "10.0.0.10", "1": "10.0.0.11" } }, { output_key: `${key}_by_name`, output_value: groupNodes }] });
  const update = (action: "resize" | "delete", nodes_to_remove: string[]) => ({
    node_count: 2, nodes_to_remove, previous_node_count: 2, requested_at: new Date(Date.now() - 1000).toISOString(), request_id: "req-ng",
    nodegroup: { uuid: ng(0).uuid, action, ...(action === "resize" ? { previous_node_count: 2 } : {}) },
  });

  for (const c of [
    { what: "a resize to 1 naming node 0 drains that node of the group, and only it", action: "resize" as const, count: 1, remove: ["0"], drained: ["k-gpu-0"] },
    { what: "a delete drains every node of the group", action: "delete" as const, count: 2, remove: [], drained: ["k-gpu-0", "k-gpu-1"] },
  ])
    it(`${c.what}, before Heat is asked; the default workers are left alone`, async () => {
      const state = withGroup();
      const kube = await startKubeApiStandin({ ca: certs.caCertPem, cert: serverCert, key: serverKey, listen: { port: 0 }, handle: (x) => state.handle(x) });
      try {
        const bay = await bayAt(kube.url!, { status: "UPDATE_IN_PROGRESS", nodegroups: [ng(c.count)], update: update(c.action, c.remove) });
        const callsAtUpdate: number[] = [];
        const heat = new StandinHeat({ getStack: async () => stack(), updateStack: async () => void callsAtUpdate.push(kube.calls.length) });
        await updateBayStack({ v: 1, kind: "bay.update", bayId: bay.uuid, projectId: owner.projectId, requestId: "req-ng", attempt: 0 }, { ...deps(heat), template: () => kubeclusterTemplate() });
        assert.equal(heat.updated.length, 1);
        assert.deepEqual(callsAtUpdate, [kube.calls.length], "every Kubernetes call happened before the Heat update");
        assert.deepEqual(state.nodes.filter((n) => n.unschedulable).map((n) => n.name), c.drained);
        assert.deepEqual(state.pods.filter((p) => p.namespace === "ml").map((p) => p.node), ["k-gpu-0", "k-gpu-1"].filter((n) => !c.drained.includes(n)));
        if (c.action === "resize") assert.deepEqual(heat.updated[0].request.parameters?.[`${key}_to_remove`], ["0"], "the named node is the one Heat removes");
        const events = await stores.table.listEvents(bay.uuid);
        assert.deepEqual(events.map((e) => e.kind), ["nodes_drained", "stack_update_requested"]);
      } finally {
        await kube.close();
      }
    });
});
