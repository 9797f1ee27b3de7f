// A bay's credentials go when it never came to life (create failed) or is gone. While its
// stack lives they must stay: Heat stores a trust derived from the user's trust to Bayforge
// and acts through it on every later update; deleting ours kills Heat's (401 on update).
// The bay forgets them only once Keystone removed them.
import type { Bay } from "../../../shared/domain/model.ts";
import type { WorkerDeps } from "../deps.ts";
import { updateBay } from "../bay-store.ts";

export async function releaseAfterOperation(deps: WorkerDeps, bay: Bay, o: { trustee: boolean }): Promise<void> {
  if (!deps.releaseCredentials || (!bay.trust_id && !(o.trustee && bay.trustee))) return;
  const left = await deps.releaseCredentials(bay, o);
  if (left.length) return; // kept on the bay: a later delete tries again
  await updateBay(deps.table, bay, (b) => ({ trust_id: null, ...(o.trustee ? { trustee: null } : {}) }), deps.now()).catch((err) =>
    deps.log.warn("released credentials not cleared from the bay", { bay: bay.uuid, err }),
  );
}
