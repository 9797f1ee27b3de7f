// One delivery at a time creates a bay's stack, so the queue's duplicates never send Heat
// concurrent creates for one name. A duplicate that finds a live claim stops: the claimant's
// message carries the create on, and if the claimant dies its message comes back after the
// visibility timeout, by when the claim is stale.
import { randomUUID } from "node:crypto";
import type { Bay } from "../../../shared/domain/model.ts";
import { claimHolds, CREATE_SETTLE_MS, type WorkerDeps } from "../deps.ts";
import { updateBay } from "../bay-store.ts";

export interface CreateClaim {
  bay: Bay;
  /**
   * No delivery held the claim before: no create was ever sent for this bay (one is sent only
   * under the claim), so there is no stack to look for.
   */
  first: boolean;
  /**
   * Lets a retry take over at once. `maybeActed`: this delivery's create got no answer and
   * may still act in Heat, so no create is sent for the bay until it settles.
   */
  release(o?: { maybeActed: boolean }): Promise<void>;
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
  const settles_at = held?.settles_at ?? null;
  const claimed = await updateBay(
    deps.table,
    bay,
    (b) => (b.status === "CREATE_IN_PROGRESS" && !b.stack_id && b.create_claim?.by === held?.by ? { create_claim: { by, at: now.toISOString(), settles_at } } : undefined),
    now,
  );
  if (!claimed || claimed.status !== "CREATE_IN_PROGRESS" || claimed.stack_id || claimed.create_claim?.by !== by) return undefined;
  const mine = (b: Bay) => b.create_claim?.by === by;
  return {
    bay: claimed,
    first: held === undefined || held === null,
    renew: () => updateBay(deps.table, claimed, (b) => (mine(b) ? { create_claim: { by, at: deps.now().toISOString(), settles_at } } : undefined), deps.now()),
    release: async (o) => {
      const until = o?.maybeActed ? new Date(deps.now().getTime() + (deps.createSettleMs ?? CREATE_SETTLE_MS)).toISOString() : settles_at;
      await updateBay(deps.table, claimed, (b) => (mine(b) ? { create_claim: { by: null, at: null, settles_at: until } } : undefined), deps.now()).catch(() => {});
    },
  };
}

/** When the bay's last unanswered create has settled (ISO), if that is still to come. */
export function settlesAt(deps: WorkerDeps, bay: Bay): string | undefined {
  const at = bay.create_claim?.settles_at;
  return at && deps.now() < new Date(at) ? at : undefined;
}
