// Node groups (API 1.9+) as Magnum's NodeGroupController takes them: a cluster has its default
// master and worker groups (the bay's own counts) and may get extra worker groups, each with its
// own flavor, image, labels and count. Creating, resizing and deleting one is an update of the
// bay (UPDATE_IN_PROGRESS, one operation at a time); the group carries its own status meanwhile.
// Magnum's rules and wording (nodegroup.py, cluster_actions.py, exception.py). No I/O.
import { checkBody, type FieldRule } from "./fields.ts";
import { BAY_NAME_PATTERN, DEFAULT_MAX_NODES_PER_BAY } from "./bay.ts";
import { ApiError, badRequest, conflict, notFound } from "./errors.ts";
import { checkUpdatable, ensureIdle, sameCountUpdate } from "./bay-update.ts";
import type { Bay, BayModel, BayUpdate, NodeGroupRecord, NodeTaint } from "./model.ts";
import type { BayStatus } from "./status.ts";

/** At most this many extra groups per cluster: each is a resource group in the bay's stack. */
export const MAX_EXTRA_NODEGROUPS = 20;

/** Node names are `<bay prefix>-<group name>-<index>`: a group's name stays short and DNS-safe. */
const NAME_MAX = 63;

const str255: FieldRule = { spec: { type: "string", min: 1, max: 255 }, nullable: true };
const ro: FieldRule = { spec: { type: "string" }, readonly: true };

function fields(maxNodes: number, zeroNodes: boolean, nodeLabels: boolean): Record<string, FieldRule> {
  const count = (min: number): FieldRule => ({ spec: { type: "integer", min, max: maxNodes, maxReason: "the maximum nodes per bay" } });
  return {
    name: { spec: { type: "string", min: 1, max: NAME_MAX, pattern: BAY_NAME_PATTERN, patternText: `Value should match ${BAY_NAME_PATTERN.source} (it names the group's nodes)` }, required: true },
    flavor_id: str255,
    image_id: str255,
    docker_volume_size: { spec: { type: "integer", min: 1 }, nullable: true },
    labels: { spec: { type: "labels" }, nullable: true },
    merge_labels: { spec: { type: "boolean" }, nullable: true },
    role: { spec: { type: "string", min: 1, max: 255 }, nullable: true },
    // 1.10 allows groups with no nodes, as Magnum does
    node_count: { ...count(zeroNodes ? 0 : 1), nullable: true },
    min_node_count: { ...count(0), nullable: true },
    max_node_count: { ...count(0), nullable: true },
    // 1.14; checked below (Kubernetes' syntax and Magnum's rules)
    ...(nodeLabels ? { node_labels: { spec: { type: "labels" }, nullable: true } as FieldRule } : {}),
    ...Object.fromEntries(
      ["uuid", "id", "cluster_id", "project_id", "links", "node_addresses", "is_default", "stack_id", "status", "status_reason", "version", "created_at", "updated_at",
        "labels_overridden", "labels_added", "labels_skipped"].map((k) => [k, ro]),
    ),
  };
}

/** Magnum's NodeGroupInvalidInput: a Conflict (409) naming the attribute and the group. */
const invalidInput = (attr: string, name: string, why: string): ApiError => conflict(`${attr} for ${name} is invalid (${why}).`);

/** Magnum's _validate_node_count. */
export function checkCounts(g: Pick<NodeGroupRecord, "name" | "node_count" | "min_node_count" | "max_node_count">): void {
  if (g.max_node_count) {
    if (g.max_node_count < g.min_node_count)
      throw invalidInput("max_node_count", g.name, `min_node_count (${g.min_node_count}) should be less or equal to max_node_count (${g.max_node_count})`);
    if (g.node_count > g.max_node_count)
      throw invalidInput("max_node_count", g.name, `node_count (${g.node_count}) should be less or equal to max_node_count (${g.max_node_count})`);
  }
  if (g.min_node_count > g.node_count)
    throw invalidInput("min_node_count", g.name, `min_node_count (${g.min_node_count}) should be less or equal to node_count (${g.node_count})`);
}

// ------------------------------------------------------------------ node labels and taints (1.14)

/** Kubernetes' qualified name: an optional DNS-subdomain prefix and "/", then 1–63 of [A-Za-z0-9-_.], alphanumeric at both ends. */
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label's or a taint's value: empty, or 1–63 of the name's characters. */
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
const MAX_NODE_LABELS = 64;
/** kubelet refuses to set labels of the kubernetes.io and k8s.io namespaces on itself but these (Magnum's lists) */
const KUBELET_ALLOWED_NAMESPACES = ["kubelet.kubernetes.io", "node.kubernetes.io"];
const KUBELET_ALLOWED_LABELS = [
  "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type", "beta.kubernetes.io/os", "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone", "kubernetes.io/arch", "kubernetes.io/hostname", "kubernetes.io/os", "node.kubernetes.io/instance-type",
  "node.kubernetes.io/windows-build", "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
];

const qualified = (key: string): boolean => {
  const slash = key.indexOf("/");
  if (slash < 0) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
};
const shown = (s: string) => JSON.stringify(s.slice(0, 64));

/** API 1.14's node_labels: Kubernetes' syntax (they reach the node's kubelet), and Magnum's rule on kubelet's namespaces. */
export function checkNodeLabels(group: string, labels: Record<string, string> | null | undefined): Record<string, string> | null {
  if (labels == null) return null;
  const entries = Object.entries(labels);
  if (entries.length > MAX_NODE_LABELS) throw invalidInput("node_labels", group, `at most ${MAX_NODE_LABELS} labels`);
  for (const [key, value] of entries) {
    if (!qualified(key)) throw invalidInput("node_labels", group, `node label ${shown(key)} is not a Kubernetes label key (an optional DNS prefix and "/", then up to 63 letters, digits, "-", "_" or ".", alphanumeric at both ends)`);
    if (!VALUE.test(value)) throw invalidInput("node_labels", group, `node label ${shown(key)}'s value ${shown(value)} is not a Kubernetes label value (up to 63 letters, digits, "-", "_" or ".", alphanumeric at both ends)`);
    const prefix = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
    const restricted = ["kubernetes.io", "k8s.io"].includes(prefix) || prefix.endsWith(".kubernetes.io") || prefix.endsWith(".k8s.io");
    if (restricted && !KUBELET_ALLOWED_NAMESPACES.includes(prefix) && !KUBELET_ALLOWED_LABELS.includes(key))
      throw invalidInput("node_labels", group, `node label '${key}' is in a restricted Kubernetes namespace; the kubelet will refuse to start. Labels in the kubernetes.io/ and k8s.io/ namespaces must use one of the allowed prefixes (${KUBELET_ALLOWED_NAMESPACES.join(", ")}) or be one of the allowed labels (${KUBELET_ALLOWED_LABELS.join(", ")})`);
  }
  return { ...labels };
}

/** API 1.14's node_taints: Magnum's rules (an object with key, effect and an optional value), in Kubernetes' syntax. */
export function checkNodeTaints(group: string, taints: unknown): NodeTaint[] | null {
  if (taints == null) return null;
  if (!Array.isArray(taints)) throw invalidInput("node_taints", group, "node_taints must be a list of objects with key, effect and optional value");
  if (taints.length > MAX_NODE_LABELS) throw invalidInput("node_taints", group, `at most ${MAX_NODE_LABELS} taints`);
  return taints.map((t: unknown, i) => {
    if (!t || typeof t !== "object" || Array.isArray(t)) throw invalidInput("node_taints", group, `node_taints[${i}] must be an object with key, effect and optional value`);
    const unknown = Object.keys(t).filter((k) => !["key", "value", "effect"].includes(k)).sort();
    if (unknown.length) throw invalidInput("node_taints", group, `node_taints[${i}] contains unrecognised field(s) ${unknown.map((k) => k.slice(0, 64)).join(", ")}; allowed fields are key, value, effect`);
    const { key, value, effect } = t as Record<string, unknown>;
    if (!key) throw invalidInput("node_taints", group, `node_taints[${i}].key is required`);
    if (!TAINT_EFFECTS.includes(effect as NodeTaint["effect"])) throw invalidInput("node_taints", group, `node_taints[${i}].effect must be one of ${TAINT_EFFECTS.join(", ")}`);
    if (typeof key !== "string" || !qualified(key)) throw invalidInput("node_taints", group, `node_taints[${i}].key is not a Kubernetes taint key`);
    if (value != null && (typeof value !== "string" || !VALUE.test(value))) throw invalidInput("node_taints", group, `node_taints[${i}].value is not a Kubernetes taint value`);
    return { key, ...(value ? { value: value as string } : {}), effect: effect as NodeTaint["effect"] };
  });
}

/** The group's stack resource (and parameter prefix): fixed, from its uuid. */
export const nodegroupKey = (uuid: string): string => `ng_${uuid.replace(/-/g, "").slice(0, 12)}`;

/**
 * A POST /v1/clusters/{id}/nodegroups body on `bay` (whose template, with the bay's own
 * choices, is `model`) → the new group, CREATE_IN_PROGRESS. Magnum's defaults: the cluster's
 * image and worker flavor, its labels (merged with the group's when merge_labels), role worker.
 */
export function newNodeGroup(
  body: unknown,
  bay: Bay,
  model: BayModel,
  o: { uuid: string; now: Date; maxNodes?: number; zeroNodes: boolean; nodeLabels?: boolean },
): NodeGroupRecord {
  // node_taints is a list of objects: taken out here, checked by checkNodeTaints
  const obj = body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const { node_taints, ...rest } = obj ?? {};
  if (node_taints !== undefined && !o.nodeLabels) throw badRequest("Unknown attribute for argument nodegroup: node_taints (it needs API version 1.14 or later).");
  const f = checkBody("nodegroup", obj ? rest : body, fields(o.maxNodes ?? DEFAULT_MAX_NODES_PER_BAY, o.zeroNodes, !!o.nodeLabels));
  const name = f.name as string;
  if (!bay.api_address) throw conflict("Cluster API address is not available yet");
  if (["default-master", "default-worker"].includes(name) || (bay.nodegroups ?? []).some((g) => g.name === name))
    throw conflict(`A node group with name ${name} already exists in the cluster ${bay.name}.`);
  // its nodes are named <cluster>-<group>-<n>: these would take the default nodes' names
  if (name === "master" || name === "minion") throw badRequest(`A node group may not be named ${name}: its nodes would take the names of the cluster's default ${name} nodes (<cluster>-${name}-<n>).`);
  if ((bay.nodegroups ?? []).length >= MAX_EXTRA_NODEGROUPS)
    throw badRequest(`Cluster ${bay.name} already has ${MAX_EXTRA_NODEGROUPS} node groups besides its default ones, the most Bayforge makes in one stack.`);
  const role = (f.role as string | null | undefined) ?? "worker";
  if (role === "master") throw badRequest("Creating master nodegroups is currently not supported.");
  const given = f.labels as Record<string, string> | null | undefined;
  const labels = given == null ? { ...(model.labels ?? {}) } : f.merge_labels ? { ...(model.labels ?? {}), ...given } : given;
  const g: NodeGroupRecord = {
    uuid: o.uuid,
    name,
    role,
    flavor_id: (f.flavor_id as string | null | undefined) ?? model.flavor_id,
    image_id: (f.image_id as string | null | undefined) ?? model.image_id,
    docker_volume_size: (f.docker_volume_size as number | null | undefined) ?? model.docker_volume_size,
    labels,
    node_count: (f.node_count as number | null | undefined) ?? 1,
    min_node_count: (f.min_node_count as number | null | undefined) ?? 0,
    max_node_count: (f.max_node_count as number | null | undefined) ?? null,
    key: nodegroupKey(o.uuid),
    ...(o.nodeLabels ? { node_labels: checkNodeLabels(name, f.node_labels as Record<string, string> | null | undefined), node_taints: checkNodeTaints(name, node_taints) } : {}),
    status: "CREATE_IN_PROGRESS",
    status_reason: null,
    node_addresses: [],
    minions: {},
    created_at: o.now.toISOString(),
    updated_at: null,
  };
  checkCounts(g);
  return g;
}

/** The extra group `ident` (uuid or name) of the bay; the default ones are not extra. */
export function findNodeGroup(bay: Bay, ident: string): NodeGroupRecord | undefined {
  return (bay.nodegroups ?? []).find((g) => g.uuid === ident || g.name === ident);
}

/** PATCH of a group (Magnum: only min_node_count and max_node_count): the group as patched. */
export function patchNodeGroup(g: NodeGroupRecord, body: unknown): NodeGroupRecord {
  if (!Array.isArray(body) || body.length === 0)
    throw badRequest('The request body must be a non-empty JSON patch list, e.g. [{"op": "replace", "path": "/max_node_count", "value": 5}].');
  const next = { ...g };
  body.forEach((op: unknown, i) => {
    if (!op || typeof op !== "object" || Array.isArray(op)) throw badRequest(`Patch operation ${i} must be an object with op, path and value.`);
    const { op: kind, path, value } = op as Record<string, unknown>;
    if (path === "/node_labels" || path === "/node_taints" || (typeof path === "string" && /^\/node_(labels|taints)\//.test(path)))
      throw badRequest(`${path.slice(0, 64)} is set when a node group is created: its nodes register with their labels and taints once (kubelet), and Bayforge does not change running nodes; make a new group with the ones wanted, then delete this one.`);
    if (path !== "/min_node_count" && path !== "/max_node_count")
      throw badRequest(`${typeof path === "string" ? path.slice(0, 64) : "that path"} is an internal attribute and can not be updated: a nodegroup's /min_node_count and /max_node_count can be (its node_count through the cluster's resize action).`);
    const field = path.slice(1) as "min_node_count" | "max_node_count";
    if (kind === "remove") {
      if (field === "min_node_count") next.min_node_count = 0;
      else next.max_node_count = null;
      return;
    }
    if (kind !== "replace" && kind !== "add") throw badRequest(`Patch operation ${i}: op must be one of add, replace, remove.`);
    if (value === null && field === "max_node_count") {
      next.max_node_count = null;
      return;
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
      throw badRequest(`Invalid input for field/attribute ${field}. Value: '${String(value).slice(0, 40)}'. Value should be an integer greater or equal to 0.`);
    if (field === "min_node_count") next.min_node_count = value;
    else next.max_node_count = value;
  });
  checkCounts(next);
  return next;
}

/** The update that adds `g` to the bay's stack. */
export function planNodeGroupCreate(bay: Bay, g: NodeGroupRecord, o: { now: Date; requestId: string }): BayUpdate {
  ensureIdle(bay, "given a node group");
  checkComplete(bay, "Adding a node group to");
  return op(bay, { uuid: g.uuid, action: "create" }, o);
}

/** The update that resizes the extra group `g` (Magnum's NGResizeOutBounds within min/max). */
export function planNodeGroupResize(bay: Bay, g: NodeGroupRecord, nodeCount: number, nodesToRemove: string[], o: { now: Date; requestId: string; zeroNodes: boolean }): BayUpdate {
  ensureIdle(bay, "resized");
  checkComplete(bay, "Resizing");
  if (nodeCount < g.min_node_count || (g.max_node_count && nodeCount > g.max_node_count))
    throw badRequest(`Resizing ${g.name} outside the allowed range: min_node_count = ${g.min_node_count}, max_node_count = ${g.max_node_count ?? "None"}`);
  if (nodeCount === 0 && !o.zeroNodes) throw badRequest("Invalid input for field/attribute node_count. Value: '0'. Value should be greater or equal to 1 (API 1.10 allows node groups of 0 nodes).");
  if (nodeCount === g.node_count && !nodesToRemove.length) throw badRequest(`Node group ${g.name} already has ${g.node_count} nodes; nothing to update.`);
  if (nodesToRemove.length) {
    if (nodeCount >= g.node_count) throw badRequest(`nodes_to_remove can only be given when node_count goes down (from ${g.node_count}; asked ${nodeCount}).`);
    const known = new Set([...Object.keys(g.minions), ...Object.values(g.minions)]);
    const unknown = nodesToRemove.filter((n) => !known.has(n));
    if (unknown.length) throw badRequest(`nodes_to_remove: ${unknown.join(", ")} not in node group ${g.name}; its nodes: ${Object.entries(g.minions).map(([k, v]) => `${k} (${v})`).join(", ") || "none known"}.`);
  }
  return { ...op(bay, { uuid: g.uuid, action: "resize", previous_node_count: g.node_count }, o), nodes_to_remove: nodesToRemove };
}

/** The update that removes the extra group `g` from the bay's stack. */
export function planNodeGroupDelete(bay: Bay, g: NodeGroupRecord, o: { now: Date; requestId: string }): BayUpdate {
  ensureIdle(bay, "changed");
  if (bay.status === "DELETE_IN_PROGRESS") throw conflict(`Cluster ${bay.uuid} is being deleted.`);
  return op(bay, { uuid: g.uuid, action: "delete" }, o);
}

/** Magnum's answer for a default group: they go with the cluster. */
/** A default group's uuid: fixed, from the bay's (the groups are the bay's own counts, never stored). */
export const defaultGroupId = (bay: Pick<Bay, "uuid">, role: "master" | "worker"): string => `${bay.uuid.slice(0, 24)}${role === "master" ? "00000000aaaa" : "00000000bbbb"}`;

/** Which default group `ident` (uuid or name) names, if one does. */
export function defaultGroupRole(bay: Pick<Bay, "uuid">, ident: string): "master" | "worker" | undefined {
  return (["master", "worker"] as const).find((role) => ident === `default-${role}` || ident === defaultGroupId(bay, role));
}

export function refuseDefaultGroupDelete(ident: string, bay: Bay): void {
  if (defaultGroupRole(bay, ident)) throw badRequest("Deleting a default nodegroup is not supported.");
}

export const nodeGroupNotFound = (ident: string): ApiError => notFound(`Nodegroup ${ident.slice(0, 255)} could not be found.`);

const checkComplete = (bay: Bay, what: string): void => checkUpdatable(bay, `${what} a cluster`, "cluster");

const op = (bay: Bay, nodegroup: NonNullable<BayUpdate["nodegroup"]>, o: { now: Date; requestId: string }): BayUpdate => sameCountUpdate(bay, o, { nodegroup });

/** The status a group shows once its operation ended (Magnum's nodegroup statuses). */
export function nodeGroupEndStatus(action: "create" | "resize" | "delete", ok: boolean): BayStatus {
  const ended = ok ? { create: "CREATE_COMPLETE", resize: "UPDATE_COMPLETE", delete: "DELETE_COMPLETE" } : { create: "CREATE_FAILED", resize: "UPDATE_FAILED", delete: "DELETE_FAILED" };
  return ended[action] as BayStatus;
}

/**
 * The bay's groups once its node group operation failed before the stack ended it (Bayforge's
 * deadline, Heat refusing the update): the group failed with the bay's reason, never left in
 * progress. undefined when the bay runs no node group operation.
 */
export function failedNodeGroups(bay: Bay, reason: string, at: Date): NodeGroupRecord[] | undefined {
  const op = bay.update?.nodegroup;
  // the update record stays after its operation: only one still running is failed
  if (!op || !bay.nodegroups || bay.status !== "UPDATE_IN_PROGRESS") return undefined;
  return bay.nodegroups.map((g) => (g.uuid === op.uuid && g.status.endsWith("_IN_PROGRESS") ? { ...g, status: nodeGroupEndStatus(op.action, false), status_reason: reason, updated_at: at.toISOString() } : g));
}
