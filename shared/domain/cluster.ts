// The modern Magnum API's names for the same things: a cluster is a bay, a cluster template
// is a baymodel (magnum/api/controllers/v1/cluster.py, cluster_template.py). A cluster may
// override some of its template's attributes (keypair, flavors, labels, ...); those are kept
// on the bay as `overrides` and win over the template when the stack is made. No I/O.
import { checkBody, type FieldRule } from "./fields.ts";
import { BAY_FIELDS, countRule, DEFAULT_MAX_NODES_PER_BAY, MAX_TIMEOUT_MINUTES, withCountBound, type BayRequest } from "./bay.ts";
import { BAYMODEL_FIELDS } from "./baymodel.ts";
import { badRequest } from "./errors.ts";
import { checkBayNetwork } from "./bay-network.ts";
import type { Bay, BayModel, ClusterOverrides } from "./model.ts";

const str255: FieldRule = { spec: { type: "string", min: 1, max: 255 }, nullable: true };
const ro: FieldRule = { spec: { type: "string" }, readonly: true };

export const CLUSTER_FIELDS: Record<string, FieldRule> = {
  name: BAY_FIELDS.name,
  cluster_template_id: { spec: { type: "string", min: 1, max: 255 }, required: true },
  node_count: countRule(),
  master_count: countRule(),
  create_timeout: { spec: { type: "integer", min: 0, max: MAX_TIMEOUT_MINUTES, maxReason: "a week, in minutes" }, nullable: true },
  discovery_url: str255,
  keypair: str255,
  docker_volume_size: { spec: { type: "integer", min: 1 }, nullable: true },
  labels: { spec: { type: "labels" }, nullable: true },
  merge_labels: { spec: { type: "boolean" }, nullable: true },
  master_flavor_id: str255,
  flavor_id: str255,
  fixed_network: str255,
  fixed_subnet: str255,
  floating_ip_enabled: { spec: { type: "boolean" }, nullable: true },
  master_lb_enabled: { spec: { type: "boolean" }, nullable: true },
  ...Object.fromEntries(
    ["uuid", "stack_id", "status", "status_reason", "api_address", "node_addresses", "master_addresses", "links", "created_at", "updated_at",
      "coe_version", "container_version", "health_status", "health_status_reason", "project_id", "user_id", "faults"].map((k) => [k, ro]),
  ),
};

/** Cluster templates take the baymodel fields plus modern Magnum's hidden and tags; keypair is optional. */
export const CLUSTER_TEMPLATE_FIELDS: Record<string, FieldRule> = {
  ...BAYMODEL_FIELDS,
  keypair_id: str255,
  // null: the default (false), as Magnum's wsme takes it
  hidden: { spec: { type: "boolean" }, nullable: true },
  tags: str255,
  // python-magnumclient's master sends `"driver": null` on every template create
  driver: { ...ro, nullable: true },
  project_id: ro,
  user_id: ro,
};

export interface ClusterRequest {
  bay: BayRequest;
  overrides: ClusterOverrides;
  mergeLabels: boolean;
}

/** Validates a POST /v1/clusters body; counts up to `maxNodes`. */
export function parseClusterRequest(body: unknown, maxNodes = DEFAULT_MAX_NODES_PER_BAY): ClusterRequest {
  const f = checkBody("cluster", body, withCountBound(CLUSTER_FIELDS, maxNodes));
  const overrides: ClusterOverrides = {};
  const set = <K extends keyof ClusterOverrides>(k: K, from: string) => {
    if (f[from] !== undefined && f[from] !== null) overrides[k] = f[from] as ClusterOverrides[K];
  };
  set("keypair_id", "keypair");
  set("docker_volume_size", "docker_volume_size");
  set("labels", "labels");
  set("master_flavor_id", "master_flavor_id");
  set("flavor_id", "flavor_id");
  set("fixed_network", "fixed_network");
  set("fixed_subnet", "fixed_subnet");
  set("floating_ip_enabled", "floating_ip_enabled");
  set("master_lb_enabled", "master_lb_enabled");
  return {
    bay: {
      name: (f.name as string | null | undefined) ?? null,
      baymodel_id: f.cluster_template_id as string,
      node_count: (f.node_count as number | undefined) ?? 1,
      master_count: (f.master_count as number | undefined) ?? 1,
      bay_create_timeout: (f.create_timeout as number | null | undefined) ?? null,
      discovery_url: (f.discovery_url as string | null | undefined) ?? null,
    },
    overrides,
    mergeLabels: f.merge_labels === true,
  };
}

/**
 * The overrides as stored: labels merged into the template's when asked (merge_labels), and
 * a keypair required from one of the two (Magnum: "keypair" is mandatory if the template has none);
 * the network choices of both together must make a bay (checkBayNetwork).
 */
export function resolveOverrides(req: ClusterRequest, template: BayModel): ClusterOverrides {
  const o = { ...req.overrides };
  if (o.labels && req.mergeLabels) o.labels = { ...(template.labels ?? {}), ...o.labels };
  if (!o.keypair_id && !template.keypair_id)
    throw badRequest(`Cluster template ${template.uuid} has no keypair_id: the cluster must name a keypair.`);
  checkBayNetwork(req.bay.master_count, effectiveModel({ overrides: o }, template));
  return o;
}

/** The template as this bay uses it: its own attributes with the bay's overrides on top. */
export const effectiveModel = (bay: Pick<Bay, "overrides">, model: BayModel): BayModel => ({ ...model, ...(bay.overrides ?? {}) });
