// Node group rules as Magnum's NodeGroupController has them (defaults, names, counts, roles,
// the default groups), and the template a bay's stack gets for its extra groups. No I/O.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { acceptBay, parseBayRequest } from "../../shared/domain/bay.ts";
import { newBayModel } from "../../shared/domain/baymodel.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import type { Bay, NodeGroupRecord } from "../../shared/domain/model.ts";
import { checkCounts, newNodeGroup, nodegroupKey, patchNodeGroup, planNodeGroupCreate, planNodeGroupDelete, planNodeGroupResize, refuseDefaultGroupDelete } from "../../shared/domain/nodegroup.ts";
import { nodeGroupOutputs, nodeGroupParameters, withNodeGroups } from "../../shared/templates/nodegroups.ts";
import { kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";

const now = new Date("2026-12-06T12:00:00Z");
const model = newBayModel({ name: "m", coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "k", external_network_id: "public", flavor_id: "m1.small", labels: { kube_tag: "v1.30.1", a: "1" } }, { projectId: "p", userId: "u" }, now.toISOString());
function bay(over: Partial<Bay> = {}): Bay {
  const b = acceptBay(parseBayRequest({ name: "k8s", baymodel_id: model.uuid, node_count: 1 }), model.uuid, { projectId: "p", userId: "u" }, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now });
  return { ...b, status: "CREATE_COMPLETE", api_address: "https://10.0.0.2:6443", ...over };
}
const rejects = (fn: () => unknown, status: number, mention: RegExp) => assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === status && mention.test(e.detail));
const create = (body: unknown, b = bay(), zeroNodes = true) => newNodeGroup(body, b, model, { uuid: "5b1e9a54-7f0e-4c47-9a55-2c4d1f1f0a11", now, zeroNodes });

describe("creating a node group (Magnum's defaults and refusals)", () => {
  it("takes the cluster's image, worker flavor and labels by default, role worker, 1 node, min 0", () => {
    const g = create({ name: "large", flavor_id: "m1.large" });
    assert.deepEqual([g.image_id, g.flavor_id, g.labels, g.role, g.node_count, g.min_node_count, g.max_node_count, g.status], ["fedora-atomic", "m1.large", { kube_tag: "v1.30.1", a: "1" }, "worker", 1, 0, null, "CREATE_IN_PROGRESS"]);
    assert.equal(g.key, nodegroupKey(g.uuid));
    assert.match(g.key, /^ng_[0-9a-f]{12}$/);
  });
  it("labels replace the cluster's, or merge over them with merge_labels", () => {
    assert.deepEqual(create({ name: "a", labels: { b: "2" } }).labels, { b: "2" });
    assert.deepEqual(create({ name: "a", labels: { a: "9" }, merge_labels: true }).labels, { kube_tag: "v1.30.1", a: "9" });
  });
  it("refuses a master group, a taken name (default ones too), a cluster without an API address yet, unknown fields", () => {
    rejects(() => create({ name: "m", role: "master" }), 400, /^Creating master nodegroups is currently not supported\.$/);
    rejects(() => create({ name: "default-worker" }), 409, /A node group with name default-worker already exists in the cluster k8s/);
    rejects(() => create({ name: "x" }, bay({ nodegroups: [create({ name: "x" })] })), 409, /already exists/);
    rejects(() => create({ name: "x" }, bay({ api_address: null })), 409, /^Cluster API address is not available yet\.?$/);
    // its nodes (<cluster>-<group>-<n>) would carry the default nodes' names, a master's identity
    rejects(() => create({ name: "master" }), 400, /may not be named master: its nodes would take the names of the cluster's default master nodes/);
    rejects(() => create({ name: "minion" }), 400, /may not be named minion/);
    rejects(() => create({ name: "x", colour: "red" }), 400, /colour/);
    rejects(() => create({ name: "<script>" }), 400, /name/);
    rejects(() => create({}), 400, /name.*Mandatory field missing/);
  });
  it("0 nodes only from API 1.10; counts within min and max (409, Magnum's NodeGroupInvalidInput)", () => {
    assert.equal(create({ name: "z", node_count: 0 }).node_count, 0);
    rejects(() => create({ name: "z", node_count: 0 }, bay(), false), 400, /node_count.*greater or equal to 1/);
    rejects(() => create({ name: "z", node_count: 3, max_node_count: 2 }), 409, /^max_node_count for z is invalid \(node_count \(3\) should be less or equal to max_node_count \(2\)\)\.$/);
    rejects(() => create({ name: "z", node_count: 1, min_node_count: 2 }), 409, /min_node_count \(2\) should be less or equal to node_count \(1\)/);
    rejects(() => checkCounts({ name: "z", node_count: 1, min_node_count: 3, max_node_count: 2 }), 409, /min_node_count \(3\) should be less or equal to max_node_count \(2\)/);
  });
});

describe("changing a node group", () => {
  const g: NodeGroupRecord = { ...create({ name: "g", node_count: 2, max_node_count: 4 }), status: "CREATE_COMPLETE", minions: { "0": "10.0.1.3", "1": "10.0.1.4" } };
  it("PATCH changes min/max only; anything else is an internal attribute", () => {
    assert.equal(patchNodeGroup(g, [{ op: "replace", path: "/max_node_count", value: 6 }]).max_node_count, 6);
    assert.equal(patchNodeGroup(g, [{ op: "remove", path: "/max_node_count" }]).max_node_count, null);
    rejects(() => patchNodeGroup(g, [{ op: "replace", path: "/node_count", value: 3 }]), 400, /internal attribute/);
    rejects(() => patchNodeGroup(g, [{ op: "replace", path: "/max_node_count", value: 1 }]), 409, /node_count \(2\) should be less or equal to max_node_count \(1\)/);
  });
  it("resize stays within min/max (Magnum's NGResizeOutBounds), names its own minions, and is refused while the cluster is busy", () => {
    const u = planNodeGroupResize(bay({ nodegroups: [g] }), g, 1, ["1"], { now, requestId: "r", zeroNodes: true });
    assert.deepEqual([u.nodegroup, u.nodes_to_remove, u.node_count], [{ uuid: g.uuid, action: "resize", previous_node_count: 2 }, ["1"], 1]);
    rejects(() => planNodeGroupResize(bay({ nodegroups: [g] }), g, 5, [], { now, requestId: "r", zeroNodes: true }), 400, /^Resizing g outside the allowed range: min_node_count = 0, max_node_count = 4\.?$/);
    rejects(() => planNodeGroupResize(bay({ nodegroups: [g] }), g, 1, ["7"], { now, requestId: "r", zeroNodes: true }), 400, /7 not in node group g/);
    rejects(() => planNodeGroupResize(bay({ nodegroups: [g] }), g, 0, [], { now, requestId: "r", zeroNodes: false }), 400, /1\.10/);
    rejects(() => planNodeGroupResize(bay({ nodegroups: [g], status: "UPDATE_IN_PROGRESS" }), g, 1, [], { now, requestId: "r", zeroNodes: true }), 409, /UPDATE_IN_PROGRESS/);
    rejects(() => planNodeGroupCreate(bay({ status: "CREATE_FAILED" }), g, { now, requestId: "r" }), 400, /CREATE_FAILED is not supported/);
  });
  it("the default groups cannot be deleted; an extra one can, from any idle status", () => {
    const b = bay({ nodegroups: [g] });
    for (const ident of ["default-worker", "default-master", `${b.uuid.slice(0, 24)}00000000bbbb`]) rejects(() => refuseDefaultGroupDelete(ident, b), 400, /^Deleting a default nodegroup is not supported\.$/);
    assert.deepEqual(planNodeGroupDelete({ ...b, status: "UPDATE_FAILED" }, g, { now, requestId: "r" }).nodegroup, { uuid: g.uuid, action: "delete" });
  });
});

describe("the stack's template and parameters for extra groups (one table, both ways)", () => {
  const g = { ...create({ name: "large", flavor_id: "m1.large", node_count: 2, docker_volume_size: 50 }) };
  it("copies kube_minions under the group's key, with its own count, flavor, image, volume, node names and removal list", () => {
    const base = kubeclusterTemplate();
    assert.equal(withNodeGroups(base, []), base, "no groups: the template itself");
    const t = withNodeGroups(base, [g]).template as any;
    const r = t.resources[g.key];
    assert.equal(r.type, "OS::Heat::ResourceGroup");
    assert.deepEqual(r.properties.count, { get_param: `${g.key}_count` });
    assert.deepEqual(r.properties.resource_def.properties.minion_flavor, { get_param: `${g.key}_flavor` });
    assert.deepEqual(r.properties.resource_def.properties.name, { list_join: ["-", [{ get_param: "node_name_prefix" }, "large", "%index%"]] });
    assert.deepEqual(r.properties.resource_def.properties.fixed_network, (base.template as any).resources.kube_minions.properties.resource_def.properties.fixed_network, "the cluster's network, as the default workers'");
    assert.ok(!(g.key in (base.template as any).resources), "the loaded template is not changed");
    const params = nodeGroupParameters([g], { key: g.key, names: ["1"] });
    assert.deepEqual(params, { [`${g.key}_count`]: 2, [`${g.key}_flavor`]: "m1.large", [`${g.key}_image`]: "fedora-atomic", [`${g.key}_docker_volume_size`]: 50, [`${g.key}_to_remove`]: ["1"], [`${g.key}_node_labels`]: "", [`${g.key}_node_taints`]: "" });
    for (const k of Object.keys(params)) assert.ok(k in t.parameters, `${k} declared`);
  });
  it("reads a group's addresses back from its outputs, private ones standing in without floating IPs", () => {
    const outputs = [{ output_key: `${g.key}_by_name`, output_value: { "0": "10.0.1.3", "1": "10.0.1.4" } }, { output_key: `${g.key}_addresses`, output_value: ["", ""] }];
    assert.deepEqual(nodeGroupOutputs(outputs, g), { minions: { "0": "10.0.1.3", "1": "10.0.1.4" }, node_addresses: ["10.0.1.3", "10.0.1.4"] });
    assert.equal(nodeGroupOutputs([], g), undefined);
  });
});

describe("node labels and taints (API 1.14): Magnum's rules, Kubernetes' syntax, as the kubelet takes them", () => {
  const labelled = (body: Record<string, unknown>) => newNodeGroup({ name: "gpu", ...body }, bay(), model, { uuid: "5b1e9a54-7f0e-4c47-9a55-2c4d1f1f0a11", now, zeroNodes: true, nodeLabels: true });
  it("are taken from 1.14 and reach the group's parameters as --node-labels and kubeadm's taints", () => {
    const g = labelled({ node_labels: { gpu: "true", "example.com/tier": "batch", "node.kubernetes.io/pool": "a" }, node_taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }, { key: "spot", effect: "PreferNoSchedule" }] });
    const p = nodeGroupParameters([g]);
    assert.equal(p[`${g.key}_node_labels`], "gpu=true,example.com/tier=batch,node.kubernetes.io/pool=a");
    assert.equal(p[`${g.key}_node_taints`], "dedicated=gpu:NoSchedule,spot:PreferNoSchedule");
    rejects(() => create({ name: "old", node_labels: { a: "b" } }), 400, /node_labels/);
    rejects(() => create({ name: "old", node_taints: [] }), 400, /node_taints.*1\.14/);
  });
  it("refuses labels kubelet would refuse (Magnum's restricted namespaces) and anything outside Kubernetes' characters: 409", () => {
    rejects(() => labelled({ node_labels: { "kubernetes.io/role": "x" } }), 409, /^node_labels for gpu is invalid \(node label 'kubernetes.io\/role' is in a restricted Kubernetes namespace/);
    for (const [k, v] of [["a b", "x"], ["a", "x\"; reboot; \""], ["a", "$(id)"], ["a".repeat(64), "x"], ["UP/x", "y"], ["a", "-x"]])
      rejects(() => labelled({ node_labels: { [k]: v } }), 409, /node_labels for gpu is invalid/);
  });
  it("refuses taints as Magnum does (an object, known fields, a key, one of three effects), in Kubernetes' characters", () => {
    rejects(() => labelled({ node_taints: [{ key: "a", effect: "Sometimes" }] }), 409, /node_taints\[0\]\.effect must be one of NoSchedule, PreferNoSchedule, NoExecute/);
    rejects(() => labelled({ node_taints: [{ effect: "NoSchedule" }] }), 409, /node_taints\[0\]\.key is required/);
    rejects(() => labelled({ node_taints: [{ key: "a", effect: "NoSchedule", colour: "red" }] }), 409, /unrecognised field\(s\) colour/);
    rejects(() => labelled({ node_taints: ["a=b:NoSchedule"] }), 409, /must be an object/);
    rejects(() => labelled({ node_taints: [{ key: "a", value: "b:NoExecute,c", effect: "NoSchedule" }] }), 409, /value is not a Kubernetes taint value/);
    rejects(() => labelled({ node_taints: { key: "a" } }), 409, /must be a list/);
  });
  it("are set at create: a PATCH of them says so", () => {
    const g = labelled({ node_labels: { a: "b" } });
    rejects(() => patchNodeGroup(g, [{ op: "replace", path: "/node_labels", value: { c: "d" } }]), 400, /set when a node group is created/);
  });
});
