// BayModel (Magnum mitaka magnum/api/controllers/v1/baymodel.py): the fields a client may
// send, their rules and defaults, and how a new baymodel is built from a request.
import { randomUUID } from "node:crypto";
import { checkBody, type FieldRule } from "./fields.ts";
import { badRequest } from "./errors.ts";
import type { BayModel } from "./model.ts";

const str255: FieldRule = { spec: { type: "string", min: 1, max: 255 }, nullable: true };

export const BAYMODEL_FIELDS: Record<string, FieldRule> = {
  name: str255,
  coe: { spec: { type: "string", enum: ["kubernetes", "swarm", "mesos"] }, required: true },
  image_id: { spec: { type: "string", min: 1, max: 255 }, required: true },
  flavor_id: str255,
  master_flavor_id: str255,
  keypair_id: { spec: { type: "string", min: 1, max: 255 }, required: true },
  // required by Magnum's kubernetes TemplateDefinition (external_network, required=True)
  external_network_id: { spec: { type: "string", min: 1, max: 255 }, required: true },
  fixed_network: str255,
  fixed_subnet: str255,
  dns_nameserver: { spec: { type: "ipv4" }, nullable: true },
  docker_volume_size: { spec: { type: "integer", min: 1 }, nullable: true },
  docker_storage_driver: str255,
  network_driver: str255,
  volume_driver: str255,
  apiserver_port: { spec: { type: "integer", min: 1024, max: 65535 }, nullable: true },
  cluster_distro: str255,
  http_proxy: str255,
  https_proxy: str255,
  no_proxy: str255,
  registry_enabled: { spec: { type: "boolean" } },
  insecure_registry: str255,
  labels: { spec: { type: "labels" }, nullable: true },
  tls_disabled: { spec: { type: "boolean" } },
  public: { spec: { type: "boolean" } },
  server_type: { spec: { type: "string", min: 1, max: 255 } },
  master_lb_enabled: { spec: { type: "boolean" } },
  floating_ip_enabled: { spec: { type: "boolean" } },
  uuid: { spec: { type: "string" }, readonly: true },
  links: { spec: { type: "string" }, readonly: true },
  created_at: { spec: { type: "string" }, readonly: true },
  updated_at: { spec: { type: "string" }, readonly: true },
};

/** Network drivers Magnum's K8sValidator allows for kubernetes. */
const K8S_NETWORK_DRIVERS = ["flannel"];
const K8S_VOLUME_DRIVERS = ["cinder"];

export interface Owner {
  projectId: string;
  userId: string;
}

/** Validates a POST /v1/baymodels body and builds the baymodel with Magnum's defaults. */
export function newBayModel(
  body: unknown,
  owner: Owner,
  now: string,
  kind: { resource: string; fields: Record<string, FieldRule> } = { resource: "baymodel", fields: BAYMODEL_FIELDS },
): BayModel {
  const f = checkBody(kind.resource, body, kind.fields);
  const serverType = (f.server_type as string | undefined) ?? "vm";
  if (f.coe !== "kubernetes" || serverType !== "vm")
    throw badRequest(
      `Bay type (${serverType}, ${(f.cluster_distro as string | undefined) ?? "fedora-atomic"}, ${String(f.coe)}) not supported: Bayforge provisions kubernetes bays on vm servers only.`,
    );
  const networkDriver = (f.network_driver as string | null | undefined) ?? "flannel";
  if (!K8S_NETWORK_DRIVERS.includes(networkDriver))
    throw badRequest(
      `Network driver type ${networkDriver} is not supported by kubernetes; expecting one of: ${K8S_NETWORK_DRIVERS.join(", ")}.`,
    );
  const volumeDriver = (f.volume_driver as string | null | undefined) ?? null;
  if (volumeDriver !== null && !K8S_VOLUME_DRIVERS.includes(volumeDriver))
    throw badRequest(
      `Volume driver type ${volumeDriver} is not supported by kubernetes; expecting one of: ${K8S_VOLUME_DRIVERS.join(", ")}.`,
    );
  const s = (k: string): string | null => (f[k] as string | null | undefined) ?? null;
  return {
    uuid: randomUUID(),
    name: s("name"),
    project_id: owner.projectId,
    user_id: owner.userId,
    coe: "kubernetes",
    image_id: f.image_id as string,
    flavor_id: s("flavor_id"),
    master_flavor_id: s("master_flavor_id"),
    keypair_id: s("keypair_id"),
    external_network_id: f.external_network_id as string,
    fixed_network: s("fixed_network"),
    fixed_subnet: s("fixed_subnet"),
    dns_nameserver: s("dns_nameserver"),
    docker_volume_size: (f.docker_volume_size as number | null | undefined) ?? null,
    docker_storage_driver: s("docker_storage_driver"),
    network_driver: networkDriver,
    volume_driver: volumeDriver,
    apiserver_port: (f.apiserver_port as number | null | undefined) ?? null,
    cluster_distro: s("cluster_distro") ?? "fedora-atomic",
    labels: (f.labels as Record<string, string> | null | undefined) ?? null,
    tls_disabled: (f.tls_disabled as boolean | undefined) ?? false,
    public: (f.public as boolean | undefined) ?? false,
    server_type: serverType,
    http_proxy: s("http_proxy"),
    https_proxy: s("https_proxy"),
    no_proxy: s("no_proxy"),
    registry_enabled: (f.registry_enabled as boolean | undefined) ?? false,
    insecure_registry: s("insecure_registry"),
    master_lb_enabled: (f.master_lb_enabled as boolean | undefined) ?? false,
    floating_ip_enabled: (f.floating_ip_enabled as boolean | undefined) ?? true,
    created_at: now,
    updated_at: null,
    ...(f.hidden !== undefined && f.hidden !== null ? { hidden: f.hidden as boolean } : {}),
    ...(f.tags !== undefined ? { tags: f.tags as string | null } : {}),
  };
}

/** A baymodel is visible to its own project, to admins, and to everyone when public. */
export const isVisible = (m: BayModel, projectId: string | undefined): boolean =>
  projectId === undefined || m.project_id === projectId || m.public;
