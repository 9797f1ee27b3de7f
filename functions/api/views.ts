// How bays and baymodels look on the wire (Magnum mitaka's API types): the full view for
// GET one / POST, the short collection view for lists, and the self/bookmark links.
import type { Bay, BayModel } from "../../shared/domain/model.ts";

export const links = (base: string, kind: string, uuid: string) => [
  { href: `${base}/v1/${kind}/${uuid}`, rel: "self" },
  { href: `${base}/${kind}/${uuid}`, rel: "bookmark" },
];

/** Magnum prints times as `2026-11-25T09:43:25+00:00`. */
export const time = (iso: string | null) => (iso ? iso.replace(/\.\d{3}Z$|Z$/, "+00:00") : null);

export function bayView(bay: Bay, base: string) {
  return {
    uuid: bay.uuid,
    name: bay.name,
    baymodel_id: bay.baymodel_id,
    node_count: bay.node_count,
    master_count: bay.master_count,
    discovery_url: bay.discovery_url,
    bay_create_timeout: bay.bay_create_timeout,
    links: links(base, "bays", bay.uuid),
    stack_id: bay.stack_id,
    status: bay.status,
    status_reason: bay.status_reason,
    api_address: bay.api_address,
    node_addresses: bay.node_addresses,
    master_addresses: bay.master_addresses,
    // Bayforge's: Heat's failed resources when the stack failed (modern Magnum has a flat map)
    faults: bay.faults ?? [],
    created_at: time(bay.created_at),
    updated_at: time(bay.updated_at),
  };
}

/** The fields of a bay in a list (GET /v1/bays), in Magnum's order. */
const BAY_LIST_FIELDS = ["uuid", "name", "baymodel_id", "node_count", "master_count", "bay_create_timeout", "stack_id", "status", "links"] as const;

export function bayListView(bay: Bay, base: string) {
  const full = bayView(bay, base);
  return Object.fromEntries(BAY_LIST_FIELDS.map((k) => [k, full[k]])) as Pick<ReturnType<typeof bayView>, (typeof BAY_LIST_FIELDS)[number]>;
}

export function baymodelView(m: BayModel, base: string) {
  const { project_id: _p, user_id: _u, created_at, updated_at, ...fields } = m;
  return { ...fields, links: links(base, "baymodels", m.uuid), created_at: time(created_at), updated_at: time(updated_at) };
}

export function baymodelListView(m: BayModel, base: string) {
  return {
    uuid: m.uuid,
    name: m.name,
    image_id: m.image_id,
    apiserver_port: m.apiserver_port,
    coe: m.coe,
    links: links(base, "baymodels", m.uuid),
  };
}
