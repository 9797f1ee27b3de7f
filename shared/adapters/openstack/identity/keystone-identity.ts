// The Identity port on Keystone: trusts made with the user's token, trustee users made and
// removed by Bayforge's service user (the trustee domain's admin).
import type { Delegator, Identity, NewTrustee } from "../../../ports/identity.ts";
import type { Session } from "./session.ts";
import { TrustClient } from "./trusts.ts";
import { TrusteeUsers } from "./trustees.ts";

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

  async delegate(userToken: string, who: Delegator): Promise<string> {
    const me = (await this.service.tokenInfo()).userId;
    // Heat makes its own trust from every stack create's token: through a trust-scoped
    // token that is a redelegation, so one level of it is allowed.
    const t = await this.trusts.create(userToken, { trustorUserId: who.userId, trusteeUserId: me, projectId: who.projectId, roles: who.roles, impersonation: true, allowRedelegation: true });
    return t.id;
  }

  async createTrustee(userToken: string, who: Delegator, bayUuid: string): Promise<NewTrustee> {
    const user = await this.trustees.create(bayUuid);
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
