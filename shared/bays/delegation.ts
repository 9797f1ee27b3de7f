// Keystone mode: what an operation carries from the request to the worker so that the
// worker, not the request, makes the Keystone credentials (the user's trust to Bayforge and,
// for a new bay, the nodes' trustee): the caller's token, encrypted, with its roles and
// expiry. The request then answers without a Keystone write (Magnum's conductor also acts
// later with the request's token, and has the same limit: the token must still be valid).
import type { DelegationRecord } from "../domain/model.ts";
import { ApiError } from "../domain/errors.ts";
import type { BayOpsDeps, Caller } from "./deps.ts";

/** Keystone's default token lifetime, for a caller whose token's expiry is not known. */
const DEFAULT_TOKEN_MS = 60 * 60_000;
/**
 * The least time a token must still be valid for an operation to be accepted with it: the
 * worker normally gets to a message within seconds; this leaves room for a queue that is
 * busy or a worker that restarts. A message that waits longer fails its bay, saying why.
 */
export const MIN_TOKEN_LIFE_MS = 2 * 60_000;

/** The vault context of a bay's carried token. */
export const delegationContext = (bayUuid: string) => `bay:${bayUuid}:delegation`;

/** undefined in noauth mode (no identity): Bayforge acts with its own credentials. */
export async function delegationFor(deps: BayOpsDeps, caller: Caller, bayUuid: string): Promise<DelegationRecord | undefined> {
  if (!deps.identity) return undefined;
  if (!caller.token || !caller.roles?.length) throw new ApiError(401, "Unauthorized", "A Keystone token with roles on the project is needed to act on bays.");
  const now = deps.now?.() ?? new Date();
  const expires = caller.tokenExpiresAt ?? new Date(now.getTime() + DEFAULT_TOKEN_MS);
  if (expires.getTime() - now.getTime() < MIN_TOKEN_LIFE_MS)
    throw new ApiError(401, "Unauthorized", `Your Keystone token expires at ${expires.toISOString()}, too soon for Bayforge to act on the request with it (it must be valid for ${MIN_TOKEN_LIFE_MS / 60_000} more minutes); get a new one (openstack token issue) and try again.`);
  return {
    token_encrypted: await deps.vault.encrypt(caller.token, delegationContext(bayUuid)),
    token_expires_at: expires.toISOString(),
    user_id: caller.userId,
    roles: caller.roles,
  };
}
