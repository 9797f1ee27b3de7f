// Issue 15: the upgrade's checks (Magnum's and Bayforge's) and the rollout state machine:
// masters one at a time, then workers in batches, a failed node stops everything, and a
// redelivered step (the same record advanced again) changes nothing.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { acceptBay, parseBayRequest } from "../../shared/domain/bay.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import type { Bay, BayModel } from "../../shared/domain/model.ts";
import { advance, applyReport, commandFor, drained, type UpgradeRecord } from "../../shared/domain/rollout.ts";
import { imageFamily, parseUpgradeRequest, planUpgrade } from "../../shared/domain/upgrade.ts";

const now = new Date("2026-12-06T12:00:00Z");
const MODEL_ID = "9a1c0b5e-3f0e-4c47-9a55-2c4d1f1f0a11";
function model(over: Partial<BayModel> = {}): BayModel {
  return {
    uuid: MODEL_ID, name: "k135", project_id: "p", user_id: "u", coe: "kubernetes", image_id: "ubuntu-24.04", flavor_id: "m1.small", master_flavor_id: "m1.small",
    keypair_id: "k", external_network_id: "public", fixed_network: null, fixed_subnet: null, dns_nameserver: null, docker_volume_size: null, docker_storage_driver: null,
    network_driver: null, volume_driver: null, apiserver_port: null, cluster_distro: null, labels: { kube_tag: "v1.35.8" }, tls_disabled: false, public: false,
    server_type: "vm", http_proxy: null, https_proxy: null, no_proxy: null, registry_enabled: false, insecure_registry: null, master_lb_enabled: false,
    floating_ip_enabled: false, created_at: now.toISOString(), updated_at: null, ...over,
  };
}
function bay(over: Partial<Bay> = {}): Bay {
  const b = acceptBay(parseBayRequest({ name: "k8s", baymodel_id: MODEL_ID, node_count: 2 }), MODEL_ID, { projectId: "p", userId: "u" }, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now });
  return { ...b, status: "CREATE_COMPLETE", ...over };
}
const NEXT = model({ uuid: "1b2c0b5e-3f0e-4c47-9a55-2c4d1f1f0a12", name: "k136", labels: { kube_tag: "v1.36.2" } });
const NODES = [
  { name: "m-0", role: "master" as const, group: "default-master" },
  { name: "m-1", role: "master" as const, group: "default-master" },
  { name: "w-0", role: "worker" as const, group: "default-worker" },
  { name: "w-1", role: "worker" as const, group: "default-worker" },
  { name: "w-2", role: "worker" as const, group: "default-worker" },
];
const plan = (to: BayModel = NEXT, o: { b?: Bay; from?: BayModel; batch?: number; nodegroup?: string | null } = {}) =>
  planUpgrade({ bay: o.b ?? bay(), from: o.from ?? model(), to, req: { cluster_template: to.uuid, max_batch_size: o.batch ?? 1, nodegroup: o.nodegroup ?? null }, nodes: NODES, now, requestId: "req-u" });
function rejects(fn: () => unknown, status: number, mention: RegExp) {
  assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === status && mention.test(e.detail), String(fn));
}

describe("upgrade request and checks", () => {
  it("takes Magnum's body, max_batch_size 1 by default", () => {
    assert.deepEqual(parseUpgradeRequest({ cluster_template: "k136" }), { cluster_template: "k136", max_batch_size: 1, nodegroup: null });
    assert.deepEqual(parseUpgradeRequest({ cluster_template: "k136", max_batch_size: 3, nodegroup: "default-worker" }), { cluster_template: "k136", max_batch_size: 3, nodegroup: "default-worker" });
  });
  it("refuses a missing template, a bad batch size, unknown members", () => {
    rejects(() => parseUpgradeRequest({}), 400, /cluster_template.*Mandatory/);
    rejects(() => parseUpgradeRequest({ cluster_template: "x", max_batch_size: 0 }), 400, /max_batch_size.*greater or equal to 1/);
    rejects(() => parseUpgradeRequest({ cluster_template: "x", max_batch_size: "2" }), 400, /max_batch_size.*integer/);
    rejects(() => parseUpgradeRequest({ cluster_template: "x", rollback: true }), 400, /Unknown attribute.*rollback/);
    rejects(() => parseUpgradeRequest([]), 400, /JSON object/);
  });
  it("plans masters first, then workers, all pending, from the bay's kube_tag to the template's", () => {
    const r = plan();
    assert.equal(r.from_version, "v1.35.8");
    assert.equal(r.to_version, "v1.36.2");
    assert.deepEqual(r.nodes.map((n) => [n.name, n.step]), NODES.map((n) => [n.name, "pending"]));
  });
  it("refuses a downgrade, skipping a minor version, another image family, each with a 400 saying what to do", () => {
    rejects(() => plan(model({ uuid: NEXT.uuid, labels: { kube_tag: "v1.34.9" } })), 400, /older than the cluster's v1\.35\.8: downgrades are not supported/);
    rejects(() => plan(model({ uuid: NEXT.uuid, labels: { kube_tag: "v1.37.0" } })), 400, /v1\.35\.x or v1\.36\.x only .*upgrade to a v1\.36 template first/);
    rejects(() => plan(model({ uuid: NEXT.uuid, labels: { kube_tag: "v2.0.0" } })), 400, /one minor version at a time/);
    rejects(() => plan({ ...NEXT, image_id: "fedora-coreos-40" }), 400, /image family \(ubuntu, ubuntu-24\.04\)/);
    rejects(() => plan({ ...NEXT, cluster_distro: "fedora-coreos" }, { from: model({ cluster_distro: "ubuntu" }) }), 400, /fedora-coreos/);
    rejects(() => plan(model({ uuid: NEXT.uuid })), 400, /kube_tag v1\.35\.8: an upgrade changes the Kubernetes version/);
    rejects(() => plan(model({ uuid: NEXT.uuid, labels: { kube_tag: "latest" } })), 400, /not a Kubernetes version/);
    // a patch release is an upgrade too; a cluster's own labels are what it runs
    assert.equal(plan(model({ uuid: NEXT.uuid, labels: { kube_tag: "v1.35.9" } })).to_version, "v1.35.9");
    rejects(() => plan(NEXT, { b: bay({ overrides: { labels: { kube_tag: "v1.34.1" } } }) }), 400, /from v1\.34\.1/);
  });
  it("tells image families apart by cluster_distro or image name, and not at all for image uuids", () => {
    assert.equal(imageFamily(model({ image_id: "ubuntu-24.04" })), "ubuntu");
    assert.equal(imageFamily(model({ image_id: "noble-server-cloudimg-amd64" })), "noble-server-cloudimg-amd64");
    assert.equal(imageFamily(model({ image_id: "3f2a1b5e-3f0e-4c47-9a55-2c4d1f1f0a11" })), null);
    assert.equal(imageFamily(model({ cluster_distro: "Ubuntu" })), "ubuntu");
  });
  it("refuses while an operation runs (409) and from a failed status (400), as scale does", () => {
    rejects(() => plan(NEXT, { b: bay({ status: "UPDATE_IN_PROGRESS" }) }), 409, /cannot be upgraded until that operation finishes/);
    rejects(() => plan(NEXT, { b: bay({ status: "CREATE_FAILED" }) }), 400, /Upgrading a cluster when its status is CREATE_FAILED/);
  });
});

/** Drives the record as the worker and the agents would: every command succeeds unless `fail` names the node. */
function run(record: UpgradeRecord, fail?: string): { order: string[]; outcome: string; reason?: string; record: UpgradeRecord } {
  const order: string[] = [];
  for (let i = 0; i < 100; i++) {
    const a = advance(record);
    record = a.record;
    if (a.outcome !== "running") return { order, outcome: a.outcome, reason: a.reason, record };
    if (a.drain.length) {
      order.push(`drain ${a.drain.join(",")}`);
      record = drained(record, a.drain);
    }
    for (const n of record.nodes) {
      const c = commandFor(record, n.name);
      if (!c) continue;
      order.push(`${n.name} ${c.action}`);
      const failed = fail === n.name && c.action !== "uncordon";
      record = applyReport(record, n.name, { command_id: c.id, result: failed ? "failed" : "succeeded", version: failed ? "v1.35.8" : "v1.36.2", reason: failed ? "kubeadm upgrade node: exit 1" : null }, now).record;
    }
  }
  throw new Error("no end");
}

describe("the rollout", () => {
  it("upgrades masters one at a time (apply, then node), then workers one by one: drain, upgrade, uncordon", () => {
    const r = run(plan());
    assert.equal(r.outcome, "complete");
    assert.deepEqual(r.order, [
      "m-0 upgrade-apply", "m-1 upgrade-node",
      "drain w-0", "w-0 upgrade-node", "w-0 uncordon",
      "drain w-1", "w-1 upgrade-node", "w-1 uncordon",
      "drain w-2", "w-2 upgrade-node", "w-2 uncordon",
    ]);
    assert.ok(r.record.nodes.every((n) => n.step === "done" && n.version === "v1.36.2"));
  });

  it("takes workers in batches of max_batch_size", () => {
    const r = run(plan(NEXT, { batch: 2 }));
    assert.deepEqual(r.order.slice(2), ["drain w-0,w-1", "w-0 upgrade-node", "w-1 upgrade-node", "w-0 uncordon", "w-1 uncordon", "drain w-2", "w-2 upgrade-node", "w-2 uncordon"]);
  });

  it("stops at a failed node: the reason names it, and nodes not started are left pending", () => {
    const r = run(plan(), "w-1");
    assert.equal(r.outcome, "failed");
    assert.match(r.reason!, /^Upgrade to v1\.36\.2 failed on node w-1: kubeadm upgrade node: exit 1\./);
    assert.deepEqual(r.record.nodes.map((n) => n.step), ["done", "done", "done", "failed", "pending"]);
    assert.equal(commandFor(r.record, "w-2"), null);
  });

  it("fails a node that reports success on another version", () => {
    let rec = advance(plan()).record;
    const c = commandFor(rec, "m-0")!;
    rec = applyReport(rec, "m-0", { command_id: c.id, result: "succeeded", version: "v1.35.8" }, now).record;
    assert.match(advance(rec).reason!, /m-0: reported v1\.35\.8 after the upgrade, not v1\.36\.2/);
  });

  it("is idempotent on redelivery: advancing the same record again issues nothing new; a stale or repeated report changes no step", () => {
    const once = advance(plan()).record;
    const twice = advance(once);
    assert.deepEqual(twice.record, once);
    assert.deepEqual(twice.events, []);
    const c = commandFor(once, "m-0")!;
    const stale = applyReport(once, "m-0", { command_id: "upgrade-apply-x-99", result: "succeeded", version: "v1.36.2" }, now);
    assert.equal(stale.record.nodes[0].step, "upgrading");
    assert.equal(stale.event, undefined);
    const done = applyReport(once, "m-0", { command_id: c.id, result: "succeeded", version: "v1.36.2" }, now).record;
    const again = applyReport(done, "m-0", { command_id: c.id, result: "succeeded", version: "v1.36.2" }, now);
    assert.equal(again.record.nodes[0].step, "done");
    assert.equal(again.event, undefined);
    // a report from a node not in the plan is ignored
    assert.deepEqual(applyReport(done, "x-9", { result: "idle" }, now).record, done);
  });

  it("never repeats a command id in a later upgrade of the same node (its agent keeps each id's result)", () => {
    const first = commandFor(advance(plan()).record, "m-0")!.id;
    const later = planUpgrade({ bay: bay(), from: model(), to: NEXT, req: { cluster_template: NEXT.uuid, max_batch_size: 1, nodegroup: null }, nodes: NODES, now: new Date(now.getTime() + 1000), requestId: "req-v" });
    const second = commandFor(advance(later).record, "m-0")!.id;
    assert.match(first, /^upgrade-apply-[0-9a-z]+-0$/);
    assert.notEqual(first, second);
  });

  it("resumes after a killed worker: a node left draining is drained again, nothing is skipped", () => {
    let rec = plan(NEXT, { nodegroup: "default-worker" });
    rec = { ...rec, nodes: rec.nodes.filter((n) => n.role === "worker") };
    const first = advance(rec);
    assert.deepEqual(first.drain, ["w-0"]);
    // the worker died before recording the drain: the next delivery drains w-0 again
    assert.deepEqual(advance(first.record).drain, ["w-0"]);
    assert.equal(run(first.record).outcome, "complete");
  });

  it("records each report's version, time and step for the views, even without a command", () => {
    const rec = applyReport(plan(), "w-2", { result: "idle", version: "v1.35.8", step: "idle" }, now).record;
    assert.deepEqual([rec.nodes[4].version, rec.nodes[4].reported_at, rec.nodes[4].reported_step, rec.nodes[4].step], ["v1.35.8", now.toISOString(), "idle", "pending"]);
  });
});
