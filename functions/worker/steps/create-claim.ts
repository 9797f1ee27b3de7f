// One delivery at a time creates a bay's stack, so the queue's duplicates never send Heat
// concurrent creates for one name. `lookFirst` says whether an earlier delivery may have
// reached Heat (the create step still asks Heat every time: see create-bay.ts). A duplicate
// that finds a live claim stops: the
// claimant's message carries the create on, and if the claimant dies its message comes back
// after the visibility timeout, by when the claim is stale.
import { randomUUID } from "node:crypto";
import type { Bay } from "../../../shared/domain/model.ts";
import { claimHolds, type WorkerDeps } from "../deps.ts";
import { updateBay } from "../bay-store.ts";

export interface CreateClaim {
  bay: Bay;
  /** an earlier delivery may have reached Heat: look for the stack before creating it */
  lookFirst: boolean;
  /** lets a retry take over at once (the create failed here with an error to retry) */
  release(): Promise<void>;
  /** keeps the claim fresh while this delivery works (see whileClaimed) */
  renew(): Promise<unknown>;
}

/** The claim on creating `bay`'s stack, or undefined when this delivery stops here. */
export async function claimCreate(deps: WorkerDeps, bay: Bay): Promise<CreateClaim | undefined> {
  const now = deps.now();
  const held = bay.create_claim;
  if (held?.by && claimHolds(deps, held.at)) {
    deps.log.info("another delivery is creating the bay's stack; this one stops", { bay: bay.uuid });
    return undefined;
  }
  const by = randomUUID();
  const claimed = await updateBay(
    deps.table,
    bay,
    (b) => (b.status === "CREATE_IN_PROGRESS" && !b.stack_id && b.create_claim?.by === held?.by ? { create_claim: { by, at: now.toISOString() } } : undefined),
    now,
  );
  if (!claimed || claimed.status !== "CREATE_IN_PROGRESS" || claimed.stack_id || claimed.create_claim?.by !== by) return undefined;
  return {
    bay: claimed,
    lookFirst: held !== undefined && held !== null,
    renew: () => updateBay(deps.table, claimed, (b) => (b.create_claim?.by === by ? { create_claim: { by, at: deps.now().toISOString() } } : undefined), deps.now()),
    release: async () => {
      await updateBay(deps.table, claimed, (b) => (b.create_claim?.by === by ? { create_claim: { by: null, at: null } } : undefined), deps.now()).catch(() => {});
    },
  };
}
