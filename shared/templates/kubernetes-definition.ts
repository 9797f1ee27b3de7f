// Bay + baymodel → Heat parameters and stack outputs → bay, as one table in the manner of
// Magnum's TemplateDefinition (magnum/conductor/template_definition.py): adding a
// parameter is one row. A baymodel value wins over a bay value (ParameterMapping.set_param);
// a required row with no value fails with RequiredParameterNotProvided's message.
import { fileURLToPath } from "node:url";
import { effectiveModel } from "../domain/cluster.ts";
import { loadTemplate, type LoadedTemplate } from "./load-template.ts";
import type { Bay, BayModel } from "../domain/model.ts";

/** What the worker knows besides the bay and baymodel (Magnum takes it from the context). */
export interface DefinitionContext {
  /** Keystone v3 URL the nodes authenticate against */
  authUrl: string;
  username: string;
  tenantName: string;
  /** token the nodes present to Bayforge's certificates API */
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
  { param: "trustee_domain_id", value: (s) => s.ctx.trustee?.domainId },
  { param: "trustee_user_id", value: (s) => s.ctx.trustee?.userId },
  { param: "trustee_username", value: (s) => s.ctx.trustee?.username },
  { param: "trustee_password", value: (s) => s.ctx.trustee?.password },
  { param: "trust_id", value: (s) => s.ctx.trustee?.trustId },
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
  { param: "docker_volume_size", value: (s) => s.baymodel.docker_volume_size },
  { param: "username", value: (s) => s.ctx.username, required: true },
  { param: "tenant_name", value: (s) => s.ctx.tenantName, required: true },
  { param: "user_token", value: (s) => s.ctx.userToken, required: true },
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
];

export class RequiredParameterNotProvided extends Error {
  constructor(readonly param: string) {
    super(`Required parameter ${param} not provided.`);
    this.name = "RequiredParameterNotProvided";
  }
}

/** The Heat parameters for a bay; unset optional rows are left to the template defaults. */
export function heatParameters(bay: Bay, template: BayModel, ctx: DefinitionContext): Record<string, unknown> {
  const baymodel = effectiveModel(bay, template);
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

export interface StackOutputs {
  api_address: string | null;
  master_addresses: string[];
  node_addresses: string[];
}

const asList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x.length > 0) : [];

/** Stack outputs → bay fields (Magnum's OutputMapping rows, K8sApiAddressOutputMapping). */
export function bayOutputs(
  outputs: Array<{ output_key: string; output_value: unknown }>,
  baymodel: BayModel,
): StackOutputs {
  const get = (k: string) => outputs.find((o) => o.output_key === k)?.output_value;
  const ip = get("api_address");
  const port = baymodel.tls_disabled ? 8080 : 6443;
  const scheme = baymodel.tls_disabled ? "http" : "https";
  return {
    api_address: typeof ip === "string" && ip ? `${scheme}://${ip}:${port}` : null,
    master_addresses: asList(get("kube_masters")),
    node_addresses: asList(get("kube_minions")),
  };
}

/** kubecluster.yaml with its nested templates and fragments, loaded once per process. */
let cached: LoadedTemplate | undefined;
export const KUBECLUSTER_PATH = fileURLToPath(new URL("../../templates/kubernetes/kubecluster.yaml", import.meta.url));
export function kubeclusterTemplate(path = KUBECLUSTER_PATH): LoadedTemplate {
  if (path !== KUBECLUSTER_PATH) return loadTemplate(path);
  return (cached ??= loadTemplate(path));
}
