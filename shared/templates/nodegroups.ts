// Extra node groups in the bay's own stack: each is a copy of the template's kube_minions
// resource group with its own count, flavor, image, volume size and node names, under the
// group's key (ng_<hex>), with its parameters and outputs named after the key. Magnum's Heat
// driver made a stack per extra group; one stack per bay keeps a bay's delete whole (no
// group stack left behind) and its events in one place, and Heat adds or removes a group's
// servers with a PATCH update of the template, as it scales any resource group. The
// template, the parameters and the outputs are one table (the group's rows below), both ways.
import type { NodeGroupRecord } from "../domain/model.ts";
import type { LoadedTemplate } from "./load-template.ts";

type Hot = Record<string, any>;

/** A group's parameters: name suffix → [its HOT declaration, its value for the group]. */
const ROWS: Record<string, { declare: Hot; value: (g: NodeGroupRecord, removing: string[]) => unknown }> = {
  count: { declare: { type: "number", default: 0 }, value: (g) => g.node_count },
  flavor: { declare: { type: "string" }, value: (g) => g.flavor_id ?? "" },
  image: { declare: { type: "string" }, value: (g) => g.image_id },
  docker_volume_size: { declare: { type: "number", default: 0 }, value: (g) => g.docker_volume_size ?? 0 },
  to_remove: { declare: { type: "comma_delimited_list", default: [] }, value: (_g, removing) => removing },
  // API 1.14, as the kubelet takes them: "k=v,k2=v2" (--node-labels) and "k=v:Effect,k2:Effect"
  // (kubeadm's taints); the domain allows only Kubernetes' characters in them
  node_labels: { declare: { type: "string", default: "" }, value: (g) => Object.entries(g.node_labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",") },
  node_taints: { declare: { type: "string", default: "" }, value: (g) => (g.node_taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`).join(",") },
};

/** The minion properties each group sets itself (the rest are kube_minions' own). */
const OWN_PROPERTIES = (key: string, name: string): Hot => ({
  name: { list_join: ["-", [{ get_param: "node_name_prefix" }, name, "%index%"]] },
  server_image: { get_param: `${key}_image` },
  minion_flavor: { get_param: `${key}_flavor` },
  docker_volume_size: { get_param: `${key}_docker_volume_size` },
  node_labels: { get_param: `${key}_node_labels` },
  node_taints: { get_param: `${key}_node_taints` },
});

/** The bay's template with a resource group for each of `groups` (the template itself when none). */
export function withNodeGroups(base: LoadedTemplate, groups: readonly NodeGroupRecord[]): LoadedTemplate {
  if (!groups.length) return base;
  const t = structuredClone(base.template) as Hot;
  const minions = t.resources?.kube_minions;
  if (!minions) throw new Error("the bay's template has no kube_minions resource group to copy for node groups");
  for (const g of groups) {
    const k = g.key;
    for (const [suffix, row] of Object.entries(ROWS)) t.parameters[`${k}_${suffix}`] = { ...row.declare, description: `node group ${g.name}: ${suffix.replace(/_/g, " ")}` };
    const r = structuredClone(minions) as Hot;
    r.properties.count = { get_param: `${k}_count` };
    r.properties.removal_policies = [{ resource_list: { get_param: `${k}_to_remove` } }];
    Object.assign(r.properties.resource_def.properties, OWN_PROPERTIES(k, g.name));
    t.resources[k] = r;
    t.outputs[`${k}_by_name`] = { description: `node group ${g.name}: minion resource name -> private address`, value: { get_attr: [k, "attributes", "kube_minion_ip"] } };
    t.outputs[`${k}_addresses`] = { description: `node group ${g.name}: public addresses of its minions`, value: { get_attr: [k, "kube_minion_external_ip"] } };
  }
  return { template: t, files: base.files };
}

/** The Heat parameters of `groups`; `removing` names minions of the group being scaled down. */
export function nodeGroupParameters(groups: readonly NodeGroupRecord[], removing: { key: string; names: string[] } | undefined = undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const g of groups)
    for (const [suffix, row] of Object.entries(ROWS)) out[`${g.key}_${suffix}`] = row.value(g, removing?.key === g.key ? removing.names : []);
  return out;
}

/** A group's addresses from the stack's outputs (undefined when the stack has none for it). */
export function nodeGroupOutputs(outputs: Array<{ output_key: string; output_value?: unknown }>, g: NodeGroupRecord): Pick<NodeGroupRecord, "minions" | "node_addresses"> | undefined {
  const get = (suffix: string) => outputs.find((o) => o.output_key === `${g.key}_${suffix}`)?.output_value;
  const byName = get("by_name");
  if (byName === undefined) return undefined;
  const minions = byName && typeof byName === "object" && !Array.isArray(byName) ? Object.fromEntries(Object.entries(byName).filter((e): e is [string, string] => typeof e[1] === "string")) : {};
  const external = Array.isArray(get("addresses")) ? (get("addresses") as unknown[]).filter((a): a is string => typeof a === "string" && a.length > 0) : [];
  // without floating IPs the public addresses are empty: the private ones stand in, as for the bay
  return { minions, node_addresses: external.length ? external : Object.values(minions) };
}
