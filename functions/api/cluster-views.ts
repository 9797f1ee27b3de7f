// How clusters, cluster templates and nodegroups look on the wire (modern Magnum's API
// types), built from the same bays and baymodels the mitaka API serves.
import type { Bay, BayModel, NodeGroupRecord } from "../../shared/domain/model.ts";
import { effectiveModel } from "../../shared/domain/cluster.ts";
import { links, time } from "./views.ts";
import { atLeast, type Version } from "./microversion.ts";
import { defaultGroupId } from "../../shared/domain/nodegroup.ts";

/** Magnum's driver name for what Bayforge provisions. */
export const DRIVER = "k8s_fedora_atomic_v1";

/** Labels the cluster set over its template, as modern Magnum reports them. */
function labelDiff(bay: Bay, model: BayModel) {
  const mine = bay.overrides?.labels ?? {};
  const theirs = model.labels ?? {};
  const overridden: Record<string, string> = {};
  const added: Record<string, string> = {};
  for (const [k, v] of Object.entries(mine)) {
    if (!Object.hasOwn(theirs, k)) added[k] = v; // own keys only: a label may be called toString
    else if (theirs[k] !== v) overridden[k] = theirs[k];
  }
  const skipped = Object.fromEntries(Object.entries(theirs).filter(([k]) => bay.overrides?.labels && !Object.hasOwn(mine, k)));
  return { labels_overridden: overridden, labels_added: added, labels_skipped: skipped };
}

export function clusterView(bay: Bay, model: BayModel | undefined, base: string) {
  const m = model ? effectiveModel(bay, model) : undefined;
  return {
    uuid: bay.uuid,
    name: bay.name,
    cluster_template_id: bay.baymodel_id,
    keypair: m?.keypair_id ?? null,
    node_count: bay.node_count,
    master_count: bay.master_count,
    docker_volume_size: m?.docker_volume_size ?? null,
    labels: m?.labels ?? {},
    ...(model ? labelDiff(bay, model) : { labels_overridden: {}, labels_added: {}, labels_skipped: {} }),
    master_flavor_id: m?.master_flavor_id ?? null,
    flavor_id: m?.flavor_id ?? null,
    create_timeout: bay.bay_create_timeout,
    links: links(base, "clusters", bay.uuid),
    stack_id: bay.stack_id,
    status: bay.status,
    status_reason: bay.status_reason,
    // the worker's periodic check (functions/worker/steps/check-health.ts); null/{} until the first
    health_status: bay.health_status ?? null,
    health_status_reason: bay.health_status_reason ?? {},
    discovery_url: bay.discovery_url,
    api_address: bay.api_address,
    coe_version: bay.coe_version ?? null,
    container_version: null,
    node_addresses: bay.node_addresses,
    master_addresses: bay.master_addresses,
    floating_ip_enabled: m?.floating_ip_enabled ?? true,
    fixed_network: m?.fixed_network ?? null,
    fixed_subnet: m?.fixed_subnet ?? null,
    master_lb_enabled: m?.master_lb_enabled ?? false,
    project_id: bay.project_id,
    user_id: bay.user_id,
    merge_labels: false,
    // modern Magnum: failed resource name → reason, shown only when the stack failed
    ...(bay.faults?.length ? { faults: Object.fromEntries(bay.faults.map((f) => [f.resource, f.reason ?? f.type])) } : {}),
    created_at: time(bay.created_at),
    updated_at: time(bay.updated_at),
  };
}

/**
 * API 1.13 names the stack `cluster_id` (Magnum deprecated `stack_id`): in the same place, and
 * `stack_id` no longer shown. Older versions see `stack_id` only.
 */
export function withClusterId<T extends object>(view: T, v: Version): T | Omit<T, "stack_id"> {
  if (!atLeast(v, "1.13")) return view;
  return Object.fromEntries(Object.entries(view).map(([k, value]) => (k === "stack_id" ? ["cluster_id", value] : [k, value]))) as Omit<T, "stack_id">;
}

export function clusterListView(bay: Bay, model: BayModel | undefined, base: string) {
  const full = clusterView(bay, model, base);
  // Magnum 15's collection view, in its order
  const keys = ["uuid", "name", "cluster_template_id", "keypair", "node_count", "master_count", "docker_volume_size", "labels", "master_flavor_id", "flavor_id", "create_timeout", "links", "stack_id", "status", "health_status", "merge_labels"] as const;
  return Object.fromEntries(keys.map((k) => [k, full[k]]));
}

export function clusterTemplateView(m: BayModel, base: string) {
  const { project_id, user_id, created_at, updated_at, hidden, tags, ...fields } = m;
  return {
    ...fields,
    hidden: hidden ?? false,
    tags: tags ?? null,
    driver: DRIVER,
    project_id,
    user_id,
    links: links(base, "clustertemplates", m.uuid),
    created_at: time(created_at),
    updated_at: time(updated_at),
  };
}

/**
 * Magnum's template list shows every field, as its detail does (its collection converts each
 * template whole): `openstack coe cluster template list --fields coe,…` reads them from here.
 */
export function clusterTemplateListView(m: BayModel, base: string) {
  return clusterTemplateView(m, base);
}

/** The two default nodegroups every Bayforge cluster has, as modern Magnum's, then its extra ones. */
export function nodegroupViews(bay: Bay, model: BayModel | undefined, base: string, v?: Version) {
  const labelled = v !== undefined && atLeast(v, "1.14");
  return [
    ...defaultNodegroupViews(bay, model, base).map((g) => (labelled ? withNodeLabels(g, null, null) : g)),
    ...(bay.nodegroups ?? []).map((g) => extraNodegroupView(bay, g, base, v)),
  ].map((g) => withNodeStates(bay, g));
}

/**
 * Bayforge's own (issue 15): each node of the group as its agent last reported it during the
 * bay's last day-2 operation, an upgrade or a CA rotation, the later of the two (node, version,
 * last report, step; a rotation's step is its command while it runs, e.g. `trust-ca`).
 */
function withNodeStates<T extends { name: string }>(bay: Bay, view: T): T & { nodes?: Array<{ node: string; version: string | null; last_report: string | null; step: string; reason: string | null }> } {
  const rotation = bay.ca_rotation && (!bay.upgrade || bay.ca_rotation.requested_at > bay.upgrade.requested_at) ? bay.ca_rotation : null;
  if (rotation) {
    const rows = rotation.nodes.filter((n) => n.group === view.name);
    if (!rows.length) return view;
    return { ...view, nodes: rows.map((n) => ({ node: n.name, version: n.version ?? null, last_report: n.reported_at ?? null, step: n.step === "running" ? n.command?.action ?? n.step : n.step, reason: n.reason ?? null })) };
  }
  const rows = bay.upgrade?.nodes.filter((n) => n.group === view.name);
  if (!rows?.length) return view;
  return { ...view, nodes: rows.map((n) => ({ node: n.name, version: n.version ?? null, last_report: n.reported_at ?? null, step: n.step, reason: n.reason ?? null })) };
}

/** API 1.14's node_labels and node_taints, after the group's labels (as Magnum's type has them). */
function withNodeLabels<T extends { labels: unknown }>(view: T, nodeLabels: NodeGroupRecord["node_labels"], nodeTaints: NodeGroupRecord["node_taints"]) {
  return Object.fromEntries(Object.entries(view).flatMap(([k, value]) => (k === "labels" ? [[k, value], ["node_labels", nodeLabels ?? null], ["node_taints", nodeTaints ?? null]] : [[k, value]]))) as T & Pick<NodeGroupRecord, "node_labels" | "node_taints">;
}

/** An extra worker group, in the default groups' shape (with node_labels and node_taints from 1.14). */
export function extraNodegroupView(bay: Bay, g: NodeGroupRecord, base: string, v?: Version) {
  const view = {
    uuid: g.uuid,
    name: g.name,
    cluster_id: bay.uuid,
    project_id: bay.project_id,
    docker_volume_size: g.docker_volume_size,
    labels: g.labels,
    flavor_id: g.flavor_id,
    image_id: g.image_id,
    node_addresses: g.node_addresses,
    node_count: g.node_count,
    role: g.role,
    max_node_count: g.max_node_count,
    min_node_count: g.min_node_count,
    is_default: false,
    stack_id: bay.stack_id,
    status: g.status,
    status_reason: g.status_reason,
    version: null,
    links: [
      { href: `${base}/v1/clusters/${bay.uuid}/nodegroups/${g.uuid}`, rel: "self" },
      { href: `${base}/clusters/${bay.uuid}/nodegroups/${g.uuid}`, rel: "bookmark" },
    ],
    created_at: time(g.created_at),
    updated_at: time(g.updated_at),
  };
  return v !== undefined && atLeast(v, "1.14") ? withNodeLabels(view, g.node_labels, g.node_taints) : view;
}

function defaultNodegroupViews(bay: Bay, model: BayModel | undefined, base: string) {
  const m = model ? effectiveModel(bay, model) : undefined;
  const group = (role: "master" | "worker") => {
    const id = defaultGroupId(bay, role);
    return {
      uuid: id,
      name: `default-${role}`,
      cluster_id: bay.uuid,
      project_id: bay.project_id,
      docker_volume_size: m?.docker_volume_size ?? null,
      labels: m?.labels ?? {},
      flavor_id: role === "master" ? (m?.master_flavor_id ?? null) : (m?.flavor_id ?? null),
      image_id: m?.image_id ?? null,
      node_addresses: role === "master" ? bay.master_addresses : bay.node_addresses,
      node_count: role === "master" ? bay.master_count : bay.node_count,
      role,
      max_node_count: null,
      min_node_count: 1,
      is_default: true,
      stack_id: bay.stack_id,
      status: bay.status,
      status_reason: bay.status_reason,
      version: null,
      links: [
        { href: `${base}/v1/clusters/${bay.uuid}/nodegroups/${id}`, rel: "self" },
        { href: `${base}/clusters/${bay.uuid}/nodegroups/${id}`, rel: "bookmark" },
      ],
      created_at: time(bay.created_at),
      updated_at: time(bay.updated_at),
    };
  };
  return [group("master"), group("worker")];
}
