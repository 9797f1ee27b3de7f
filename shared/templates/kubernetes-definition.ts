// Bay + baymodel → Heat parameters and stack outputs → bay, as two tables in the manner of
// Magnum's TemplateDefinition (magnum/drivers/heat/template_def.py): adding a parameter or
// an output is one row (ParameterMapping, OutputMapping). A baymodel value wins over a bay
// value (ParameterMapping.set_param); a required row with no value fails with
// RequiredParameterNotProvided's message.
import { fileURLToPath } from "node:url";
import { effectiveModel } from "../domain/cluster.ts";
import { allowedCidrs, checkBayNetwork, lbaasVersion, masterLbFloatingIp } from "../domain/bay-network.ts";
import { loadTemplate, type LoadedTemplate } from "./load-template.ts";
import { minionToken } from "../domain/bootstrap-token.ts";
import type { Bay, BayModel } from "../domain/model.ts";

/** What the worker knows besides the bay and baymodel (Magnum takes it from the context). */
export interface DefinitionContext {
  /** Keystone v3 URL the nodes authenticate against */
  authUrl: string;
  username: string;
  tenantName: string;
  /** the masters' bootstrap token for Bayforge's certificates API (the minions' is derived from it) */
  userToken: string;
  /** Bayforge's own API, as the nodes reach it (Magnum's magnum_url) */
  magnumUrl: string;
  /** etcd discovery URL when the bay names none */
  discoveryUrl: string;
  /** resource names or private IPs of minions to remove on scale-down */
  minionsToRemove?: string[];
  /** the bay's trustee user and the user's trust to it (Keystone mode), for the nodes */
  trustee?: { domainId: string; userId: string; username: string; password: string; trustId: string };
}

interface Source {
  bay: Bay;
  baymodel: BayModel;
  ctx: DefinitionContext;
}

interface ParameterMapping {
  param: string;
  value: (s: Source) => unknown;
  required?: boolean;
  /** a row of the nodes' trustee credentials (what a credential rotation changes) */
  trustee?: true;
}

const label = (name: string) => (s: Source) => s.baymodel.labels?.[name];

/** kubecluster.yaml parameters (Magnum mitaka K8s + AtomicK8s template definitions). */
export const PARAMETERS: readonly ParameterMapping[] = [
  // BaseTemplateDefinition
  { param: "ssh_key_name", value: (s) => s.baymodel.keypair_id, required: true },
  { param: "server_image", value: (s) => s.baymodel.image_id },
  { param: "dns_nameserver", value: (s) => s.baymodel.dns_nameserver },
  { param: "http_proxy", value: (s) => s.baymodel.http_proxy },
  { param: "https_proxy", value: (s) => s.baymodel.https_proxy },
  { param: "no_proxy", value: (s) => s.baymodel.no_proxy },
  { param: "number_of_masters", value: (s) => s.bay.master_count },
  { param: "auth_url", value: (s) => s.ctx.authUrl, required: true },
  { param: "trustee_domain_id", value: (s) => s.ctx.trustee?.domainId, trustee: true },
  { param: "trustee_user_id", value: (s) => s.ctx.trustee?.userId, trustee: true },
  { param: "trustee_username", value: (s) => s.ctx.trustee?.username, trustee: true },
  { param: "trustee_password", value: (s) => s.ctx.trustee?.password, trustee: true },
  { param: "trust_id", value: (s) => s.ctx.trustee?.trustId, trustee: true },
  // K8sTemplateDefinition
  { param: "master_flavor", value: (s) => s.baymodel.master_flavor_id },
  { param: "minion_flavor", value: (s) => s.baymodel.flavor_id },
  { param: "number_of_minions", value: (s) => s.bay.node_count },
  { param: "external_network", value: (s) => s.baymodel.external_network_id, required: true },
  { param: "network_driver", value: (s) => s.baymodel.network_driver },
  { param: "tls_disabled", value: (s) => s.baymodel.tls_disabled, required: true },
  { param: "discovery_url", value: (s) => s.bay.discovery_url ?? s.ctx.discoveryUrl, required: true },
  { param: "flannel_network_cidr", value: label("flannel_network_cidr") },
  { param: "flannel_use_vxlan", value: label("flannel_use_vxlan") },
  { param: "flannel_network_subnetlen", value: label("flannel_network_subnetlen") },
  { param: "minions_to_remove", value: (s) => s.ctx.minionsToRemove },
  // AtomicK8sTemplateDefinition
  { param: "bay_uuid", value: (s) => s.bay.uuid, required: true },
  { param: "node_name_prefix", value: (s) => nodeNamePrefix(s.bay) },
  { param: "docker_volume_size", value: (s) => s.baymodel.docker_volume_size },
  { param: "username", value: (s) => s.ctx.username, required: true },
  { param: "tenant_name", value: (s) => s.ctx.tenantName, required: true },
  // the masters' bootstrap token, and the minions' derived from it (bootstrap-token.ts)
  { param: "user_token", value: (s) => s.ctx.userToken, required: true },
  { param: "minion_token", value: (s) => minionToken(s.bay.uuid, s.ctx.userToken), required: true },
  { param: "magnum_url", value: (s) => s.ctx.magnumUrl, required: true },
  { param: "registry_enabled", value: (s) => s.baymodel.registry_enabled },
  { param: "loadbalancing_protocol", value: (s) => (s.baymodel.tls_disabled ? "HTTP" : undefined) },
  { param: "kubernetes_port", value: (s) => (s.baymodel.tls_disabled ? 8080 : undefined) },
  // What the nodes run (fragments/; not in mitaka): labels as later Magnum names them, plus
  // kube_apt_mirror; unset ones keep the template defaults.
  { param: "kube_tag", value: label("kube_tag") },
  { param: "etcd_tag", value: label("etcd_tag") },
  { param: "flannel_tag", value: label("flannel_tag") },
  { param: "flannel_backend", value: label("flannel_backend") },
  { param: "container_infra_prefix", value: label("container_infra_prefix") },
  { param: "kube_apt_mirror", value: label("kube_apt_mirror") },
  { param: "insecure_registry_url", value: (s) => s.baymodel.insecure_registry },
  // The network choices (Magnum's current driver: K8sTemplateDefinition fixed_network and
  // fixed_subnet, its environment files for the rest, the octavia_* and
  // master_lb_allowed_cidrs labels). The baymodel here has the cluster's overrides applied.
  { param: "fixed_network", value: (s) => s.baymodel.fixed_network },
  { param: "fixed_subnet", value: (s) => s.baymodel.fixed_subnet },
  { param: "floating_ip_enabled", value: (s) => s.baymodel.floating_ip_enabled },
  { param: "master_lb_enabled", value: (s) => s.baymodel.master_lb_enabled },
  { param: "master_lb_floating_ip_enabled", value: (s) => masterLbFloatingIp(s.baymodel) },
  { param: "master_lb_allowed_cidrs", value: (s) => (allowedCidrs(s.baymodel).length ? allowedCidrs(s.baymodel) : undefined) },
  { param: "lbaas_version", value: (s) => lbaasVersion(s.baymodel) },
  { param: "octavia_provider", value: label("octavia_provider") },
  { param: "octavia_lb_algorithm", value: label("octavia_lb_algorithm") },
];

/**
 * What the bay's servers are named after: Magnum's stack name, `<cluster name[:20]>-<short id>`,
 * lower-cased with `_` and `.` as `-` (a hostname and a Kubernetes node name). At most 33
 * characters, so `system:node:<prefix>-minion-<index>` fits a certificate's 64-character CN.
 */
export function nodeNamePrefix(bay: Pick<Bay, "name" | "stack_name">): string {
  const name = bay.name.slice(0, 20).toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/-+$/, "");
  return `${name}-${bay.stack_name.slice(-12)}`;
}

export class RequiredParameterNotProvided extends Error {
  constructor(readonly param: string) {
    super(`Required parameter ${param} not provided.`);
    this.name = "RequiredParameterNotProvided";
  }
}

/** The Heat parameters for a bay; unset optional rows are left to the template defaults. */
export function heatParameters(bay: Bay, template: BayModel, ctx: DefinitionContext): Record<string, unknown> {
  const baymodel = effectiveModel(bay, template);
  // the API refuses such bays; one accepted before a rule existed fails with its reason
  checkBayNetwork(bay.master_count, baymodel);
  const out: Record<string, unknown> = {};
  for (const row of PARAMETERS) {
    const v = row.value({ bay, baymodel, ctx });
    if (v === undefined || v === null) {
      if (row.required) throw new RequiredParameterNotProvided(row.param);
      continue;
    }
    out[row.param] = v;
  }
  return out;
}

/** The trustee rows alone, for the stack update of a credential rotation (the rest is kept). */
export function trusteeParameters(trustee: NonNullable<DefinitionContext["trustee"]>): Record<string, unknown> {
  const source = { ctx: { trustee } } as Source; // the trustee rows read nothing else
  return Object.fromEntries(PARAMETERS.filter((row) => row.trustee).map((row) => [row.param, row.value(source)]));
}

/** The bay's fields that come from the stack's outputs. */
export interface StackOutputs {
  api_address: string | null;
  master_addresses: string[];
  node_addresses: string[];
  /** minion resource name ("0", "1", ...) → private address (what nodes_to_remove takes) */
  minions: Record<string, string>;
}

interface OutputMapping<F extends keyof StackOutputs> {
  /** the stack output it is read from; a function where the bay's choices pick one */
  output: string | ((m: BayModel) => string);
  /** the output's value (undefined when the stack has none) as the field's */
  value: (v: unknown, m: BayModel) => StackOutputs[F];
}

const asList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x.length > 0) : [];

const asNameMap = (v: unknown): Record<string, string> =>
  v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string")) : {};

/** K8sApiAddressOutputMapping: the template gives the address (its choice: load balancer or master 0, floating or fixed), the URL is ours. */
const apiUrl = (v: unknown, m: BayModel): string | null =>
  typeof v === "string" && v ? (m.tls_disabled ? `http://${v}:8080` : `https://${v}:6443`) : null;

/** ServerAddressOutputMapping: the floating addresses, or the fixed ones when the nodes have none. */
const addresses = (floating: string, fixed: string) => (m: BayModel) => (m.floating_ip_enabled ? floating : fixed);

/** kubecluster.yaml outputs → bay fields (Magnum's K8sTemplateDefinition outputs), one row per field. */
export const OUTPUTS: { readonly [F in keyof StackOutputs]: OutputMapping<F> } = {
  api_address: { output: "api_address", value: apiUrl },
  master_addresses: { output: addresses("kube_masters", "kube_masters_private"), value: asList },
  node_addresses: { output: addresses("kube_minions", "kube_minions_private"), value: asList },
  minions: { output: "kube_minions_by_name", value: asNameMap },
};

type Outputs = ReadonlyArray<{ output_key: string; output_value: unknown }>;

/**
 * One field from the stack's outputs; undefined when the stack has no such output (or Heat
 * could not resolve it: null). Only `minions` reads the same whatever the bay's choices, so
 * only it may be read without the baymodel (drain-nodes has none at hand).
 */
export function stackOutput(outputs: Outputs, field: "minions"): StackOutputs["minions"] | undefined;
export function stackOutput<F extends keyof StackOutputs>(outputs: Outputs, field: F, baymodel: BayModel): StackOutputs[F] | undefined;
export function stackOutput<F extends keyof StackOutputs>(outputs: Outputs, field: F, baymodel?: BayModel): StackOutputs[F] | undefined {
  const row = OUTPUTS[field];
  if (!baymodel && field !== "minions") throw new Error(`stack output for ${field}: the baymodel decides how it reads`);
  const model = baymodel as BayModel;
  const key = typeof row.output === "string" ? row.output : row.output(model);
  const found = outputs.find((o) => o.output_key === key);
  return found && found.output_value !== null && found.output_value !== undefined ? row.value(found.output_value, model) : undefined;
}

/** Stack outputs → bay fields, for a bay of `baymodel` (with the cluster's overrides applied). */
export function bayOutputs(outputs: Outputs, baymodel: BayModel): StackOutputs {
  const out: Partial<Record<keyof StackOutputs, unknown>> = {};
  for (const f of Object.keys(OUTPUTS) as Array<keyof StackOutputs>) out[f] = stackOutput(outputs, f, baymodel) ?? OUTPUTS[f].value(undefined, baymodel);
  return out as StackOutputs;
}

/** kubecluster.yaml with its nested templates and fragments, loaded once per process. */
let cached: LoadedTemplate | undefined;
export const KUBECLUSTER_PATH = fileURLToPath(new URL("../../templates/kubernetes/kubecluster.yaml", import.meta.url));
export function kubeclusterTemplate(path = KUBECLUSTER_PATH): LoadedTemplate {
  if (path !== KUBECLUSTER_PATH) return loadTemplate(path);
  return (cached ??= loadTemplate(path));
}

/** kubecluster.yaml's kube_tag default: the release nodes install when no label names one. */
export function defaultKubeTag(t: LoadedTemplate): string {
  const param = (t.template.parameters as Record<string, { default?: unknown }> | undefined)?.kube_tag;
  return typeof param?.default === "string" ? param.default : "";
}
