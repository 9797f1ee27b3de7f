// Keystone mode: an operation's first step makes the Keystone credentials the request did not
// (the request only carried the caller's token, encrypted on the bay as `delegation`): the
// user's trust to Bayforge and, for a new bay, the nodes' trustee user. One delivery at a time
// makes them, holding a claim on the bay; a duplicate delivery stops there, since the
// claimant's message carries the operation on (re-sending duplicates would multiply them on a
// queue that delivers twice). If the claimant dies, the queue hands its message out again after
// the visibility timeout (5 minutes here, more on AWS), by when its claim is stale (claimMs):
// it is taken over, and the trust the dead step may have made is looked for (by its marker)
// before a new one is made.
// The token goes from the bay as soon as the credentials are recorded.
// A credential rotation (bay.update.rotate_credentials) makes only a new trustee user and its
// trust, recorded on the update: the stack update that follows gives them to the stack.
import { randomUUID } from "node:crypto";
import type { Bay } from "../../../shared/domain/model.ts";
import type { WorkMessage } from "../../../shared/ports/work-queue.ts";
import { isInProgress } from "../../../shared/domain/status.ts";
import { IdentityError } from "../../../shared/ports/identity.ts";
import { claimHolds, type WorkerDeps } from "../deps.ts";
import { updateBay } from "../bay-store.ts";
import { failBay } from "./fail-bay.ts";
import { whileClaimed } from "../claims.ts";

export { CLAIM_MS } from "../deps.ts";
const context = (bayUuid: string) => `bay:${bayUuid}:delegation`;

/**
 * The bay with its operation's credentials recorded, or undefined when this delivery stops
 * here (the bay failed, or another delivery holds the claim).
 */
export async function ensureCredentials(msg: WorkMessage, deps: WorkerDeps, bay: Bay): Promise<Bay | undefined> {
  const d = bay.delegation;
  if (!d) return bay;
  const now = deps.now();
  if (!deps.makeCredentials) {
    await failBay(deps, bay, "This worker has no Keystone identity to act for the user with (BAYFORGE_AUTH=keystone is needed).");
    return undefined;
  }
  if (now >= new Date(d.token_expires_at)) {
    const waited = Math.round((now.getTime() - Date.parse(bay.updated_at ?? bay.created_at)) / 60_000);
    await failBay(deps, bay, `Your Keystone token expired (at ${d.token_expires_at}) before Bayforge could act on the request, which waited ${waited} minutes to be processed; nothing was made in Keystone. Try again with a fresh token.`);
    return undefined;
  }
  if (claimHolds(deps, d.claimed_at)) {
    deps.log.info("another delivery is making the bay's credentials; this one stops", { bay: bay.uuid, kind: msg.kind });
    return undefined;
  }
  const claim = randomUUID();
  const claimed = await updateBay(
    deps.table,
    bay,
    (b) =>
      isInProgress(b.status) && b.delegation && b.delegation.claimed_by === d.claimed_by
        ? { delegation: { ...b.delegation, claimed_by: claim, claimed_at: now.toISOString(), attempted: true } }
        : undefined,
    now,
  );
  if (!claimed || !isInProgress(claimed.status)) return undefined;
  if (claimed.delegation?.claimed_by !== claim) {
    // another delivery claimed it first (it carries the operation on), or already recorded them
    return claimed.delegation ? undefined : claimed;
  }

  const token = await deps.vault.decrypt(d.token_encrypted, context(bay.uuid));
  const rotation = isRotation(claimed);
  const trustee = rotation || (!claimed.trustee && claimed.status === "CREATE_IN_PROGRESS");
  // a rotation's trustee is named by its operation, so a redelivery makes (or resets) the same user
  const only = rotation ? { trust: false, generation: claimed.poll_seq } : {};
  let made;
  try {
    const renew = () =>
      updateBay(deps.table, claimed, (b) => (b.delegation?.claimed_by === claim ? { delegation: { ...b.delegation, claimed_at: deps.now().toISOString() } } : undefined), deps.now());
    made = await whileClaimed(deps, renew, () => deps.makeCredentials!(claimed, token, { trustee, lookFirst: !!d.attempted, ...only }));
  } catch (e) {
    if (e instanceof IdentityError && e.status !== undefined && e.status < 500 && e.status !== 429) {
      await failBay(deps, claimed, `Keystone would not let Bayforge act for you on project ${bay.project_id}: ${e.message.slice(0, 500)}`);
      return undefined;
    }
    // let a retry take the claim over at once
    await updateBay(deps.table, claimed, (b) => (b.delegation && b.delegation.claimed_by === claim ? { delegation: { ...b.delegation, claimed_by: null, claimed_at: null } } : undefined), deps.now()).catch(() => {});
    throw e;
  }
  let recorded = false;
  const saved = await updateBay(
    deps.table,
    claimed,
    (b) =>
      (recorded = isInProgress(b.status) && b.delegation?.claimed_by === claim && isRotation(b) === rotation)
        ? rotation
          ? { update: { ...b.update!, trustee: made.trustee }, delegation: null }
          : { trust_id: made.trust_id, ...(made.trustee ? { trustee: made.trustee } : {}), delegation: null }
        : undefined,
    deps.now(),
  );
  if (!recorded) {
    // The bay moved on (deleted, failed) or a step that took the claim over recorded its own:
    // ours are nobody's, but for the trustee user, which is the bay's by name and may be theirs.
    const theirs = (rotation ? saved?.update?.trustee : saved?.trustee)?.user_id === made.trustee?.user_id;
    const mine = { ...claimed, trust_id: made.trust_id, trustee: theirs ? null : (made.trustee ?? null) };
    await deps.releaseCredentials?.(mine, { trustee: !!mine.trustee });
    return undefined;
  }
  await deps.table
    .appendEvent({ bay_uuid: bay.uuid, at: deps.now().toISOString(), kind: "credentials", detail: rotation ? `new trustee user ${made.trustee?.username} and its trust made in Keystone for the credential rotation` : `trust ${made.trust_id}${made.trustee ? ` and trustee user ${made.trustee.username}` : ""} made in Keystone`, request_id: msg.requestId })
    .catch((err) => deps.log.warn("event not recorded", { err }));
  return saved;
}

/** A credential rotation in flight: only its new trustee is made, and recorded on the update. */
const isRotation = (bay: Bay): boolean => bay.status === "UPDATE_IN_PROGRESS" && !!bay.update?.rotate_credentials;
