// How a bay is networked, from its (effective) baymodel: load balancers in front of the masters
// or none, floating IPs, its own network or an existing one. The values kubecluster.yaml's
// conditions take, and the rules a bay must meet before anything is written. No I/O.
import { badRequest } from "./errors.ts";
import type { BayModel } from "./model.ts";

/** Magnum's strutils.bool_from_string (non-strict): anything else is false. */
export const boolFromString = (v: string | undefined): boolean => ["1", "t", "true", "on", "y", "yes"].includes((v ?? "").trim().toLowerCase());

/**
 * The label lbaas_version: "v1" names Neutron LBaaS v1 (OS::Neutron::Pool, ...), which only
 * clouds older than Newton (2016) run; absent, "v2" or "octavia" is Octavia, which serves the
 * LBaaS v2 API. The template parameter's values.
 */
export function lbaasVersion(model: Pick<BayModel, "labels">): "octavia" | "v1" | undefined {
  const v = model.labels?.lbaas_version?.trim().toLowerCase();
  if (v === undefined || v === "" || v === "v2" || v === "octavia") return "octavia";
  if (v === "v1") return "v1";
  return undefined;
}

/**
 * master_lb_floating_ip_enabled: whether the API load balancer gets a floating IP. Unset, it
 * follows floating_ip_enabled, as Magnum documents. (Magnum's code ORs the two, so there a
 * "false" label cannot keep the load balancer private while the nodes have floating IPs; here
 * it can.)
 */
export function masterLbFloatingIp(model: Pick<BayModel, "labels" | "floating_ip_enabled">): boolean {
  const label = model.labels?.master_lb_floating_ip_enabled;
  return label === undefined || label.trim() === "" ? model.floating_ip_enabled : boolFromString(label);
}

/**
 * master_lb_allowed_cidrs (Magnum's label; api_master_lb_allowed_cidrs is taken too): the CIDRs
 * the load balancers' listeners accept, comma separated.
 */
export function allowedCidrs(model: Pick<BayModel, "labels">): string[] {
  const v = model.labels?.master_lb_allowed_cidrs ?? model.labels?.api_master_lb_allowed_cidrs ?? "";
  return v.split(",").map((c) => c.trim()).filter(Boolean);
}

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

/** 4, 6 or 0, as node:net's isIP, without importing node:net into the domain (WHATWG URL parses IPv6). */
function ipFamily(ip: string): 0 | 4 | 6 {
  if (IPV4.test(ip)) return 4;
  if (!ip.includes(":") || /[^0-9a-fA-F:.]/.test(ip)) return 0;
  return URL.canParse(`http://[${ip}]/`) ? 6 : 0;
}

const isCidr = (c: string): boolean => {
  const [ip, len, extra] = c.split("/");
  const family = ipFamily(ip ?? "");
  return family !== 0 && extra === undefined && /^\d{1,3}$/.test(len ?? "") && Number(len) <= (family === 4 ? 32 : 128);
};

/**
 * What a bay of `masterCount` masters needs of its baymodel's network choices (with a cluster's
 * overrides applied): 400 before anything is written, instead of a stack Heat fails later.
 */
export function checkBayNetwork(masterCount: number, model: BayModel): void {
  // Magnum's attr_validator.validate_master_count, word for word
  if (masterCount > 1 && !model.master_lb_enabled) throw badRequest("master_count must be 1 when master_lb_enabled is False");
  // Magnum takes either alone, then Heat fails the stack (no subnet for the ports and the
  // load balancers) or the subnet is ignored (a network of the bay's own is made)
  if (model.fixed_network && !model.fixed_subnet)
    throw badRequest(`fixed_network ${model.fixed_network} needs a fixed_subnet: the bay's ports and load balancers are made on a subnet of that network.`);
  if (model.fixed_subnet && !model.fixed_network)
    throw badRequest(`fixed_subnet ${model.fixed_subnet} needs its fixed_network: without one the bay makes a network of its own.`);
  if (!lbaasVersion(model))
    throw badRequest(`Invalid label lbaas_version '${model.labels?.lbaas_version}': use "v1" (Neutron LBaaS v1, clouds older than Newton) or leave it unset for Octavia.`);
  const bad = allowedCidrs(model).filter((c) => !isCidr(c));
  if (bad.length) throw badRequest(`Invalid label master_lb_allowed_cidrs: ${bad.join(", ")} is not a CIDR (e.g. 192.168.0.0/16,10.0.0.0/24).`);
}
