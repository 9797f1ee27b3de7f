// Per-bay trustee users, as Magnum's trustee domain: each bay gets a user `bay-<uuid>` in a
// domain of its own (default "bayforge") with a random password; the bay's user makes a trust
// to it, and the bay's nodes authenticate as it through that trust. Created and deleted with
// the service session (the service user is that domain's admin).
import { randomBytes } from "node:crypto";
import { asService, refused } from "./call.ts";
import { IdentityError } from "./results.ts";
import type { Session } from "./session.ts";
import { domainByNameURL, userByNameURL, usersURL, userURL } from "./urls.ts";

export interface TrusteeUser {
  userId: string;
  name: string;
  domainId: string;
  /** hand it to the bay's nodes; never log it */
  password: string;
}

export interface TrusteeUsersOptions {
  /** the trustee domain by id (wins over the name) */
  domainId?: string;
  /** the trustee domain by name, default "bayforge" */
  domainName?: string;
}

/** The trustee user's name for a bay (`bay-<uuid>`), and for each credential rotation (`bay-<uuid>-<generation>`). */
export const trusteeName = (bayUuid: string, generation?: number): string => `bay-${bayUuid}${generation === undefined ? "" : `-${generation}`}`;

export class TrusteeUsers {
  private readonly domainName: string;
  private domain?: Promise<string>;

  constructor(
    readonly session: Session,
    opts: TrusteeUsersOptions = {},
  ) {
    this.domainName = opts.domainName ?? "bayforge";
    if (opts.domainId) this.domain = Promise.resolve(opts.domainId);
  }

  /** The trustee domain's id (looked up by name once). */
  domainId(): Promise<string> {
    this.domain ??= this.lookupDomain().catch((e: unknown) => {
      this.domain = undefined; // ask again next time
      throw e;
    });
    return this.domain;
  }

  /**
   * Creates the bay's trustee user with a fresh random password. Idempotent for a retried
   * step: if the user already exists (an earlier attempt's answer was lost) its password is
   * replaced, since the old one cannot be read back.
   */
  async create(bayUuid: string, generation?: number): Promise<TrusteeUser> {
    const domainId = await this.domainId();
    const name = trusteeName(bayUuid, generation);
    const password = randomBytes(24).toString("base64url");
    const res = await asService(this.session, {
      method: "POST",
      url: usersURL(this.authUrl),
      json: { user: { name, domain_id: domainId, password, enabled: true, description: `Bayforge trustee of bay ${bayUuid}` } },
    });
    if (res.status === 201 || res.status === 200) {
      const id = (res.body as { user?: { id?: unknown } } | undefined)?.user?.id;
      if (typeof id !== "string") throw new IdentityError("Keystone created a user but its answer holds no id", res.status, false);
      return { userId: id, name, domainId, password };
    }
    if (res.status !== 409) throw refused(res, `Keystone refused to create trustee user ${name}`, [password]);
    const existing = await this.find(domainId, name);
    if (!existing) throw refused(res, `Keystone refused to create trustee user ${name}`, [password]);
    const reset = await asService(this.session, {
      method: "PATCH",
      url: userURL(this.authUrl, existing),
      json: { user: { password, enabled: true } },
    });
    if (reset.status !== 200) throw refused(reset, `Keystone refused to reset the password of trustee user ${name}`, [password]);
    return { userId: existing, name, domainId, password };
  }

  /** Deletes a trustee user (its trusts go with it); one already gone is fine. */
  async delete(userId: string): Promise<void> {
    const res = await asService(this.session, { method: "DELETE", url: userURL(this.authUrl, userId) });
    if (res.status === 204 || res.status === 200 || res.status === 404) return;
    throw refused(res, `Keystone could not delete trustee user ${userId}`);
  }

  /** The id of the user `name` in the domain, if there is one. */
  async find(domainId: string, name: string): Promise<string | undefined> {
    const res = await asService(this.session, { method: "GET", url: userByNameURL(this.authUrl, domainId, name) });
    if (res.status !== 200) throw refused(res, `Keystone could not look up user ${name}`);
    const users = (res.body as { users?: Array<{ id?: unknown; name?: unknown }> } | undefined)?.users ?? [];
    const id = users.find((u) => u.name === name)?.id;
    return typeof id === "string" ? id : undefined;
  }

  private async lookupDomain(): Promise<string> {
    const res = await asService(this.session, { method: "GET", url: domainByNameURL(this.authUrl, this.domainName) });
    if (res.status !== 200) throw refused(res, `Keystone could not look up the trustee domain "${this.domainName}"`);
    const id = (res.body as { domains?: Array<{ id?: unknown }> } | undefined)?.domains?.[0]?.id;
    if (typeof id !== "string") {
      throw new IdentityError(`the trustee domain "${this.domainName}" does not exist in Keystone`, 404, false);
    }
    return id;
  }

  private get authUrl(): string {
    return this.session.cloud.auth.authUrl;
  }
}
