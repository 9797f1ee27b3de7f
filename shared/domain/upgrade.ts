// Cluster upgrade (API 1.8, Magnum's POST /v1/clusters/{id}/actions/upgrade): the request,
// Magnum's checks, and Bayforge's three more (no downgrade, no skipped minor version, no other
// image family), each a 400 that says what to do. No I/O.
import type { Bay, BayModel } from "./model.ts";
import { badRequest, invalidField } from "./errors.ts";
import { checkUpdatable, ensureIdle } from "./bay-update.ts";
import type { RolloutNode, UpgradeRecord } from "./rollout.ts";

/** kubecluster.yaml's kube_tag default: a bay whose labels name none runs this. */
export const DEFAULT_KUBE_TAG = "v1.35.8";

export interface UpgradeRequest {
  cluster_template: string;
  max_batch_size: number;
  nodegroup: string | null;
}

/** Magnum's ClusterUpgradeRequest: cluster_template (1–255, mandatory), max_batch_size (≥ 1, default 1), nodegroup (1–255). */
export function parseUpgradeRequest(body: unknown): UpgradeRequest {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("The request body must be a JSON object with cluster_template.");
  const { cluster_template, max_batch_size, nodegroup, ...extra } = body as Record<string, unknown>;
  const unknown = Object.keys(extra);
  if (unknown.length) throw badRequest(`Unknown attribute(s) for upgrade: ${unknown.slice(0, 5).map((k) => k.slice(0, 64)).join(", ")}.`);
  if (cluster_template === undefined || cluster_template === null) throw invalidField("cluster_template", cluster_template, "Mandatory field missing.");
  if (typeof cluster_template !== "string" || !cluster_template.length || cluster_template.length > 255)
    throw invalidField("cluster_template", cluster_template, "Expected a string of 1 to 255 characters (the template's uuid or name).");
  let batch = 1;
  if (max_batch_size !== undefined && max_batch_size !== null) {
    if (typeof max_batch_size !== "number" || !Number.isInteger(max_batch_size)) throw invalidField("max_batch_size", max_batch_size, "Expected an integer.");
    if (max_batch_size < 1) throw invalidField("max_batch_size", max_batch_size, "Value should be greater or equal to 1.");
    if (max_batch_size > 1000) throw invalidField("max_batch_size", max_batch_size, "Value should be less or equal to 1000 (the maximum nodes per bay).");
    batch = max_batch_size;
  }
  if (nodegroup !== undefined && nodegroup !== null && (typeof nodegroup !== "string" || !nodegroup.length || nodegroup.length > 255))
    throw invalidField("nodegroup", nodegroup, "Expected a string of 1 to 255 characters (a nodegroup's uuid or name).");
  return { cluster_template, max_batch_size: batch, nodegroup: (nodegroup as string | undefined) ?? null };
}

export interface KubeVersion {
  major: number;
  minor: number;
  patch: number;
  tag: string;
}

/** A kube_tag as kubeadm takes it: v<major>.<minor>.<patch> (a build suffix is kept, not compared). */
export function parseKubeTag(tag: string, field = "kube_tag"): KubeVersion {
  const m = /^v?(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:[-+][0-9A-Za-z.-]{1,64})?$/.exec(tag);
  if (!m) throw badRequest(`The ${field} label ${JSON.stringify(tag.slice(0, 64))} is not a Kubernetes version like v1.35.8: it cannot be upgraded to or from.`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), tag: tag.startsWith("v") ? tag : `v${tag}` };
}

/** The labels a bay runs on: a cluster's own (overrides) or its template's. */
export function bayLabels(bay: Bay, model: BayModel): Record<string, string> {
  return bay.overrides?.labels ?? model.labels ?? {};
}

export const kubeTagOf = (labels: Record<string, string> | null | undefined): string => labels?.kube_tag || DEFAULT_KUBE_TAG;

/**
 * The image family a template boots: its cluster_distro (Magnum's, from the image's os_distro)
 * when set, else an image name without its version ("ubuntu-24.04" → "ubuntu"); null when it
 * cannot be told (an image uuid): Bayforge does not look images up in Glance.
 */
export function imageFamily(m: BayModel): string | null {
  if (m.cluster_distro) return m.cluster_distro.toLowerCase();
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(m.image_id)) return null;
  const family = m.image_id.toLowerCase().replace(/[-_.\s]v?\d.*$/, "");
  return family || null;
}

export interface UpgradePlanInput {
  bay: Bay;
  from: BayModel;
  to: BayModel;
  req: UpgradeRequest;
  /** the nodes of the group asked for (all of them for none), masters first, in upgrade order */
  nodes: Array<Pick<RolloutNode, "name" | "role" | "group">>;
  now: Date;
  requestId: string;
}

/** Checks the upgrade against the bay and the two templates and returns the rollout to record. */
export function planUpgrade(p: UpgradePlanInput): UpgradeRecord {
  const { bay, from, to, req } = p;
  ensureIdle(bay, "upgraded");
  checkUpdatable(bay, "Upgrading a cluster", "cluster");
  if (to.coe !== from.coe) throw badRequest(`Cluster Template ${to.name ?? to.uuid} is for ${to.coe}, not ${from.coe}: it is not valid for upgrade.`);
  const fromTag = kubeTagOf(bayLabels(bay, from));
  const toTag = kubeTagOf(to.labels);
  const a = parseKubeTag(fromTag);
  const b = parseKubeTag(toTag);
  const cmp = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (cmp > 0) throw badRequest(`Cluster Template ${to.name ?? to.uuid} has kube_tag ${toTag}, older than the cluster's ${fromTag}: downgrades are not supported.`);
  if (cmp === 0 && to.uuid === bay.baymodel_id) throw badRequest(`The cluster already runs Cluster Template ${to.name ?? to.uuid} (kube_tag ${fromTag}): nothing to upgrade.`);
  if (cmp === 0) throw badRequest(`Cluster Template ${to.name ?? to.uuid} has the cluster's kube_tag ${fromTag}: an upgrade changes the Kubernetes version; use a template with a newer kube_tag.`);
  if (a.major !== b.major || b.minor > a.minor + 1)
    throw badRequest(`Cluster Template ${to.name ?? to.uuid} has kube_tag ${toTag}: from ${fromTag} the cluster can go to v${a.major}.${a.minor}.x or v${a.major}.${a.minor + 1}.x only (kubeadm upgrades one minor version at a time); upgrade to a v${a.major}.${a.minor + 1} template first.`);
  const fam = [imageFamily(from), imageFamily(to)];
  if (fam[0] && fam[1] && fam[0] !== fam[1])
    throw badRequest(`Cluster Template ${to.name ?? to.uuid} boots ${to.image_id} (${fam[1]}), not the cluster's image family (${fam[0]}, ${from.image_id}): an upgrade keeps the nodes' operating system; make a new cluster to change it.`);
  if (to.tls_disabled !== from.tls_disabled) throw badRequest(`Cluster Template ${to.name ?? to.uuid} has tls_disabled ${to.tls_disabled}, the cluster ${from.tls_disabled}: an upgrade cannot change it.`);
  if (req.nodegroup && !["default-master", "default-worker"].includes(req.nodegroup) && to.uuid !== bay.baymodel_id)
    // Magnum's InvalidClusterTemplateForUpgrade for a non-default group
    throw badRequest(`Cluster Template is not valid for upgrade: Nodegroup ${req.nodegroup} can be upgraded only to match cluster's template (${from.name ?? from.uuid}).`);
  if (!p.nodes.length) throw badRequest(`Nodegroup ${req.nodegroup ?? "(all)"} has no nodes to upgrade.`);
  return {
    request_id: p.requestId,
    requested_at: p.now.toISOString(),
    from_baymodel_id: bay.baymodel_id,
    to_baymodel_id: to.uuid,
    from_version: a.tag,
    to_version: b.tag,
    max_batch_size: req.max_batch_size,
    nodegroup: req.nodegroup,
    // a node not reached yet runs what it last reported, else the cluster's release
    nodes: p.nodes.map((n) => {
      const last = bay.upgrade?.nodes.find((o) => o.name === n.name);
      return { ...n, step: "pending", command: null, version: last?.version ?? fromTag, reported_at: last?.reported_at ?? null, reason: null };
    }),
  };
}
