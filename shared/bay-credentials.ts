// A bay's Keystone credentials (the user's trust to Bayforge, the nodes' trustee user and its
// trust): made together when a bay is accepted, released together on every path where they
// are no longer needed — a failed create, a deleted bay, a request that was not accepted.
// Magnum leaked them on failures; here removal is best effort per item and never throws.
import type { Delegator, Identity, NewTrustee } from "./ports/identity.ts";
import type { KeyVault } from "./ports/key-vault.ts";
import type { TrusteeRecord } from "./domain/model.ts";
import type { Logger } from "./observability/logger.ts";

export interface BayCredentials {
  trust_id: string | null;
  trustee: TrusteeRecord | null;
}

/** Makes the credentials with the user's token; on a partial failure removes what was made. */
export async function makeCredentials(identity: Identity, vault: KeyVault, token: string, who: Delegator, bayUuid: string, o: { trustee: boolean }): Promise<BayCredentials> {
  const trust_id = await identity.delegate(token, who);
  if (!o.trustee) return { trust_id, trustee: null };
  let t: NewTrustee | undefined;
  try {
    t = await identity.createTrustee(token, who, bayUuid);
    const password_encrypted = await vault.encrypt(t.password, `bay:${bayUuid}:trustee`);
    return { trust_id, trustee: { user_id: t.user_id, username: t.username, domain_id: t.domain_id, password_encrypted, trust_id: t.trust_id } };
  } catch (e) {
    // the trustee too, when it was made and only its password's encryption failed
    await releaseCredentials(identity, { trust_id, trustee: t ?? null });
    throw e;
  }
}

/** Removes each credential; returns those Keystone would not remove (after the adapter's retries). */
export async function releaseCredentials(
  identity: Identity | undefined,
  c: { trust_id?: string | null; trustee?: Pick<TrusteeRecord, "user_id" | "trust_id"> | null },
  log?: Logger,
): Promise<string[]> {
  const left: string[] = [];
  if (!identity) return left;
  const steps: Array<[string, () => Promise<void>]> = [];
  if (c.trust_id) steps.push([`trust ${c.trust_id}`, () => identity.deleteTrust(c.trust_id!)]);
  if (c.trustee) {
    steps.push([`trust ${c.trustee.trust_id}`, () => identity.deleteTrust(c.trustee!.trust_id)]);
    steps.push([`user ${c.trustee.user_id}`, () => identity.deleteUser(c.trustee!.user_id)]);
  }
  for (const [what, run] of steps) {
    try {
      await run();
    } catch (err) {
      left.push(what);
      log?.warn("could not remove a bay credential; it is left behind", { what, err });
    }
  }
  return left;
}
