// The Identity port on Keystone: trusts made with the user's token, trustee users made and
// removed by Bayforge's service user (the trustee domain's admin).
import type { Delegator, Identity, NewTrustee } from "../../../ports/identity.ts";
import type { Session } from "./session.ts";
import { TrustClient } from "./trusts.ts";
import { IdentityError } from "../../../ports/identity.ts";
import { TrusteeUsers } from "./trustees.ts";

/** A delegation trust's expiry is its operation's marker plus 0 to this many seconds, less one. */
const MARKER_SECONDS = 16;

export class KeystoneIdentity implements Identity {
  private readonly trusts: TrustClient;
  private readonly trustees: TrusteeUsers;

  constructor(
    private readonly service: Session,
    opts: { trusteeDomain?: string } = {},
  ) {
    this.trusts = new TrustClient(service);
    this.trustees = new TrusteeUsers(service, { domainName: opts.trusteeDomain });
  }

  async delegate(userToken: string, who: Delegator, marker: Date): Promise<string> {
    const me = (await this.service.tokenInfo()).userId;
    // Heat makes its own trust from every stack create's token: through a trust-scoped
    // token that is a redelegation, so one level of it is allowed (and Heat's inherits the expiry).
    const req = { trustorUserId: who.userId, trusteeUserId: me, projectId: who.projectId, roles: who.roles, impersonation: true, allowRedelegation: true };
    // Keystone keeps one trust per (trustor, trustee, project, impersonation, expiry), deleted
    // ones included (a delete only marks it): 409 is a live one an earlier attempt made (it is
    // the trust), or a deleted one, whose expiry the next second then replaces.
    for (let k = 0; k < MARKER_SECONDS; k++) {
      const expiresAt = new Date(marker.getTime() + k * 1000);
      try {
        return (await this.trusts.create(userToken, { ...req, expiresAt })).id;
      } catch (e) {
        if (!(e instanceof IdentityError && e.status === 409)) throw e;
        const live = (await this.trusts.listForTrustor(userToken, who.userId)).find((t) => t.trusteeUserId === me && t.projectId === who.projectId && t.expiresAt?.getTime() === expiresAt.getTime());
        if (live) return live.id;
      }
    }
    throw new IdentityError(`Keystone holds ${MARKER_SECONDS} deleted trusts for this operation; it cannot be delegated again`, 409, false);
  }

  async findDelegation(userToken: string, who: Delegator, marker: Date): Promise<string | undefined> {
    const me = (await this.service.tokenInfo()).userId;
    // Keystone lists expiries to the second: the marker and the seconds after it (see delegate)
    const from = marker.getTime();
    const mine = (await this.trusts.listForTrustor(userToken, who.userId)).find(
      (t) => t.trusteeUserId === me && t.projectId === who.projectId && t.expiresAt !== undefined && t.expiresAt.getTime() >= from && t.expiresAt.getTime() < from + MARKER_SECONDS * 1000,
    );
    return mine?.id;
  }

  async createTrustee(userToken: string, who: Delegator, bayUuid: string, generation?: number): Promise<NewTrustee> {
    const user = await this.trustees.create(bayUuid, generation);
    try {
      const t = await this.trusts.create(userToken, { trustorUserId: who.userId, trusteeUserId: user.userId, projectId: who.projectId, roles: who.roles, impersonation: true });
      return { user_id: user.userId, username: user.name, domain_id: user.domainId, password: user.password, trust_id: t.id };
    } catch (e) {
      await this.trustees.delete(user.userId).catch(() => {});
      throw e;
    }
  }

  deleteTrust(trustId: string): Promise<void> {
    return this.trusts.delete(trustId);
  }

  deleteUser(userId: string): Promise<void> {
    return this.trustees.delete(userId);
  }
}
