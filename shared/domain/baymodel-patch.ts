// PATCH of a baymodel / cluster template: an RFC 6902 JSON patch over its writable fields,
// validated by the same rules as a create, keeping its identity (magnum
// api/controllers/v1/baymodel.py patch + BayModelPatchType). No I/O.
import type { BayModel } from "./model.ts";
import { badRequest, preview } from "./errors.ts";
import type { FieldRule } from "./fields.ts";
import { newBayModel } from "./baymodel.ts";

/** Magnum's BayModelPatchType.mandatory_attrs: they can be replaced, never removed. */
const MANDATORY = ["image_id", "keypair_id", "external_network_id", "coe", "tls_disabled", "public", "registry_enabled", "server_type", "cluster_distro", "network_driver"];

export function patchBayModel(
  model: BayModel,
  body: unknown,
  kind: { resource: string; fields: Record<string, FieldRule> },
  now: string,
): BayModel {
  if (!Array.isArray(body) || body.length === 0)
    throw badRequest('The request body must be a non-empty JSON patch list, e.g. [{"op": "replace", "path": "/name", "value": "new-name"}].');
  const writable = Object.entries(kind.fields).filter(([, r]) => !r.readonly).map(([k]) => k);
  const doc: Record<string, unknown> = {};
  for (const k of writable) {
    const v = (model as unknown as Record<string, unknown>)[k];
    if (v !== undefined) doc[k] = v;
  }
  body.forEach((op: unknown, i) => {
    if (!op || typeof op !== "object" || Array.isArray(op)) throw badRequest(`Patch operation ${i} must be an object with op, path and value.`);
    const { op: kind_, path, value } = op as Record<string, unknown>;
    if (typeof path !== "string" || !path.startsWith("/")) throw badRequest(`Patch operation ${i}: path must be a string starting with "/".`);
    const parts = path.slice(1).split("/");
    const attr = parts[0];
    if (!writable.includes(attr)) {
      if (Object.hasOwn(kind.fields, attr)) throw badRequest(`Attribute ${attr} of ${kind.resource} is read-only and cannot be changed.`);
      throw badRequest(`Patch operation ${i}: the ${kind.resource} has no attribute "${attr}".`);
    }
    if (kind_ === "remove") {
      if (MANDATORY.includes(attr) && parts.length === 1) throw badRequest(`Attribute ${attr} can not be removed: it is mandatory.`);
      if (parts.length === 2 && attr === "labels") {
        const labels = { ...((doc.labels as Record<string, string> | null) ?? {}) };
        if (!Object.hasOwn(labels, parts[1])) throw badRequest(`Patch operation ${i}: label ${parts[1]} does not exist.`);
        delete labels[parts[1]];
        doc.labels = labels;
      } else delete doc[attr];
    } else if (kind_ === "add" || kind_ === "replace") {
      if (!("value" in (op as object))) throw badRequest(`Patch operation ${i}: ${String(kind_)} needs a value.`);
      if (parts.length === 2 && attr === "labels") doc.labels = { ...((doc.labels as Record<string, string> | null) ?? {}), [parts[1]]: value };
      else if (parts.length === 1) doc[attr] = value;
      else throw badRequest(`Patch operation ${i}: ${attr} has no member ${parts.slice(1).join("/")}.`);
    } else throw badRequest(`Patch operation ${i}: op must be one of add, replace, remove (got ${preview(kind_)}).`);
  });
  // The same rules as a create, then the same identity.
  const checked = newBayModel(doc, { projectId: model.project_id, userId: model.user_id }, model.created_at, kind);
  return { ...checked, uuid: model.uuid, created_at: model.created_at, updated_at: now };
}
