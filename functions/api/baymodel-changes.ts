// Changing and deleting a baymodel, shared by /v1/baymodels and /v1/clustertemplates (the
// same rows under Magnum's two names): only its own project (or an admin) may, only an
// admin may change `public`, and one still used by bays cannot be deleted.
import type { BayModel } from "../../shared/domain/model.ts";
import type { FieldRule } from "../../shared/domain/fields.ts";
import { ApiError, badRequest } from "../../shared/domain/errors.ts";
import { patchBayModel } from "../../shared/domain/baymodel-patch.ts";
import type { ApiDeps, Caller } from "./env.ts";

export interface ModelNames {
  /** "BayModel" or "ClusterTemplate" */
  noun: string;
  /** what uses it: "bays" or "clusters" */
  users: string;
}

function ensureOwner(caller: Caller, m: BayModel, detail: string): void {
  if (!caller.isAdmin && m.project_id !== caller.projectId) throw new ApiError(403, "Not authorized", detail);
}

/** Applies a JSON patch under `fields` (the create's rules) and stores the result. */
export async function patchModel(
  deps: ApiDeps,
  caller: Caller,
  m: BayModel,
  body: unknown,
  kind: { resource: string; fields: Record<string, FieldRule> },
  now: string,
): Promise<BayModel> {
  ensureOwner(caller, m, `${m.uuid} belongs to another project and cannot be changed.`);
  const next = patchBayModel(m, body, kind, now);
  if (next.public !== m.public && !caller.isAdmin) throw new ApiError(403, "Not authorized to publish", "Only administrators may change public.");
  await deps.table.putBayModel(next);
  return next;
}

export async function deleteModel(deps: ApiDeps, caller: Caller, m: BayModel, names: ModelNames): Promise<void> {
  ensureOwner(caller, m, `${names.noun} ${m.uuid} belongs to another project and cannot be deleted.`);
  const users = (await deps.table.listBays({})).filter((b) => b.baymodel_id === m.uuid);
  if (users.length)
    throw badRequest(`${names.noun} ${m.uuid} is referenced by one or multiple ${names.users}: ${users.map((b) => b.name).join(", ")}. Delete them first.`);
  await deps.table.deleteBayModel(m.uuid);
}
