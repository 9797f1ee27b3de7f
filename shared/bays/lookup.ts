// Finding a bay or baymodel by uuid or by name within what the caller may see, as Magnum
// does: none → 404, several with the name → 409 asking for the uuid.
import type { BayTable } from "../ports/bay-table.ts";
import type { Bay, BayModel } from "../domain/model.ts";
import { conflict, notFound } from "../domain/errors.ts";
import { looksLikeUuid } from "../domain/bay.ts";
import { isVisible } from "../domain/baymodel.ts";
import type { Caller } from "./deps.ts";

/** The project a caller's reads are limited to; undefined for admins (every project). */
export const scope = (caller: Caller): string | undefined => (caller.isAdmin ? undefined : caller.projectId);

export async function findBayModel(table: BayTable, caller: Caller, ident: string, noun = "baymodel"): Promise<BayModel | undefined> {
  const projectId = scope(caller);
  if (looksLikeUuid(ident)) {
    const m = await table.getBayModel(ident.toLowerCase());
    return m && isVisible(m, projectId) ? m : undefined;
  }
  const named = await table.listBayModelsNamed(ident, { projectId });
  if (named.length > 1) throw conflict(`Multiple ${noun}s exist with same name ${ident}. Please use the ${noun} uuid instead.`);
  return named[0];
}

export async function getBayModel(table: BayTable, caller: Caller, ident: string, noun = "BayModel"): Promise<BayModel> {
  const m = await findBayModel(table, caller, ident, noun === "BayModel" ? "baymodel" : "cluster template");
  if (!m) throw notFound(`${noun} ${ident} could not be found.`);
  return m;
}

export async function getBay(table: BayTable, caller: Caller, ident: string, noun = "Bay"): Promise<Bay> {
  const projectId = scope(caller);
  if (looksLikeUuid(ident)) {
    const b = await table.getBay(ident.toLowerCase());
    if (b && (projectId === undefined || b.project_id === projectId) && (!caller.bootstrapBay || b.uuid === caller.bootstrapBay)) return b;
    throw notFound(`${noun} ${ident} could not be found.`);
  }
  const named = (await table.listBays({ projectId })).filter((b) => b.name === ident && (!caller.bootstrapBay || b.uuid === caller.bootstrapBay));
  if (named.length > 1) throw conflict(`Multiple ${noun.toLowerCase()}s exist with same name ${ident}. Please use the ${noun.toLowerCase()} uuid instead.`);
  if (!named[0]) throw notFound(`${noun} ${ident} could not be found.`);
  return named[0];
}
