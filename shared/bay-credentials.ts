// A bay's Keystone credentials (the user's trust to Bayforge, the nodes' trustee user and its
// trust): made together by the worker's first step of an operation, with the caller's token
// the request carried; released together on every path where they are no longer needed — a
// failed create, a deleted bay. Magnum leaked them on failures; here removal is best effort
// per item and never throws, and a step that lost its answers finds what it made (findDelegation
// by the operation's marker; the trustee user by its name) instead of making it twice.
import { createHash } from "node:crypto";
import type { Delegator, Identity, NewTrustee } from "./ports/identity.ts";
import type { KeyVault } from "./ports/key-vault.ts";
import type { TrusteeRecord } from "./domain/model.ts";
import type { Logger } from "./observability/logger.ts";

export interface BayCredentials {
  trust_id: string | null;
  trustee: TrusteeRecord | null;
}

const MARKER_BASE_MS = Date.UTC(2100, 0, 1);

/**
 * The expiry that marks the user's trust to Bayforge for one operation of one bay: a whole
 * second between 2100 and 2236 derived from the bay and the operation (its poll chain), so a
 * step can find the trust an earlier delivery made and lost (2^-32 chance of two alike).
 */
export function delegationMarker(bayUuid: string, operation: number): Date {
  const n = createHash("sha256").update(`${bayUuid}:${operation}`).digest().readUInt32BE(0);
  return new Date(MARKER_BASE_MS + n * 1000);
}

export interface MakeOptions {
  /** make the nodes' trustee user and its trust too (a new bay, a credential rotation) */
  trustee: boolean;
  /** make the user's trust to Bayforge (default); a rotation keeps the one the stack's Heat trust derives from */
  trust?: boolean;
  /** the trustee of a credential rotation: its generation (trusteeName) */
  generation?: number;
  /** the operation's marker (delegationMarker) */
  marker: Date;
  /** an earlier step may have made the trust: look for it before making one */
  lookFirst: boolean;
  /** told the trust to Bayforge as soon as it exists (to get its token while the trustee is made) */
  onTrust?: (trustId: string) => void;
}

/** Makes the credentials with the user's token; on a partial failure removes what was made. */
export async function makeCredentials(identity: Identity, vault: KeyVault, token: string, who: Delegator, bayUuid: string, o: MakeOptions): Promise<BayCredentials> {
  // the trust to Bayforge, and (for a new bay) the trustee user with its trust, side by side
  const trust = (async () => {
    if (o.trust === false) return null;
    const id = (o.lookFirst && (await identity.findDelegation(token, who, o.marker))) || (await identity.delegate(token, who, o.marker));
    o.onTrust?.(id);
    return id;
  })();
  const trustee = o.trustee ? identity.createTrustee(token, who, bayUuid, o.generation) : Promise.resolve(undefined);
  const [made, madeTrustee] = await Promise.allSettled([trust, trustee]);
  const trust_id = made.status === "fulfilled" ? made.value : null;
  let t: NewTrustee | undefined = madeTrustee.status === "fulfilled" ? madeTrustee.value : undefined;
  try {
    if (made.status === "rejected") throw made.reason;
    if (madeTrustee.status === "rejected") throw madeTrustee.reason;
    if (!t) return { trust_id, trustee: null };
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
  c: { trust_id?: string | null; trustee?: Pick<TrusteeRecord, "user_id" | "trust_id"> | null; trustees?: Array<Pick<TrusteeRecord, "user_id" | "trust_id"> | null | undefined> },
  log?: Logger,
): Promise<string[]> {
  const left: string[] = [];
  if (!identity) return left;
  const steps: Array<[string, () => Promise<void>]> = [];
  if (c.trust_id) steps.push([`trust ${c.trust_id}`, () => identity.deleteTrust(c.trust_id!)]);
  for (const t of [c.trustee, ...(c.trustees ?? [])]) {
    if (!t) continue;
    steps.push([`trust ${t.trust_id}`, () => identity.deleteTrust(t.trust_id)]);
    steps.push([`user ${t.user_id}`, () => identity.deleteUser(t.user_id)]);
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
