// Keystone trusts (OS-TRUST), as Magnum's conductor uses them to act for a user long after
// the request: the user delegates roles on a project to a trustee (Bayforge's service user,
// or a bay's own trustee user); the trustee later authenticates with its own password scoped
// to the trust and, the trust impersonating, acts as the user in the user's project.
import type { CloudConfig } from "../config/types.ts";
import { asService, asToken, refused } from "./call.ts";
import { IdentityError } from "./results.ts";
import { Session, type SessionOptions } from "./session.ts";
import { trustsURL, trustURL } from "./urls.ts";

export interface TrustRequest {
  /** the user whose token creates the trust: Keystone insists the trustor is the caller */
  trustorUserId: string;
  trusteeUserId: string;
  projectId: string;
  /**
   * Role names the trustor holds on the project (implied ones count). Pass the roles of the
   * user's validated token, as Magnum does: a trust-scoped token carries the delegated roles
   * plus the roles they imply, and Heat's derived trust asks for all of them, so a trust of
   * ["member"] alone cannot create stacks where ["member", "reader"] can.
   */
  roles: string[];
  /** act as the trustor (default true): tokens and what they create belong to the user */
  impersonation?: boolean;
  /** none: until deleted */
  expiresAt?: Date;
  /**
   * Let the trustee delegate once more (default false). Needed to create Heat stacks through
   * the trust: Heat makes its own trust from the token of every stack create, which through
   * a trust-scoped token is a redelegation. The derived trust dies with this one.
   */
  allowRedelegation?: boolean;
}

export interface Trust {
  id: string;
  trustorUserId: string;
  trusteeUserId: string;
  projectId?: string;
  roles: string[];
  impersonation: boolean;
  expiresAt?: Date;
  /** how many more times the trust may be delegated (0: not at all) */
  redelegationCount: number;
}

export class TrustClient {
  /** `session` is the service user's: it reads and deletes trusts (admin). */
  constructor(readonly session: Session) {}

  /**
   * Creates a trust with the user's own token (a user can only delegate as themself; a
   * service token cannot). Redelegation only when asked for, and then one level deep.
   * Throws IdentityError with Keystone's reason: e.g. 403 for an application-credential
   * token or a refused redelegation, 404 for a role the user does not hold on the project.
   */
  async create(userToken: string, req: TrustRequest): Promise<Trust> {
    if (!req.roles.length) throw new IdentityError("a trust needs at least one role", undefined, false);
    const trust: Record<string, unknown> = {
      trustor_user_id: req.trustorUserId,
      trustee_user_id: req.trusteeUserId,
      project_id: req.projectId,
      roles: req.roles.map((name) => ({ name })),
      impersonation: req.impersonation ?? true,
      allow_redelegation: req.allowRedelegation === true,
    };
    if (req.allowRedelegation) trust.redelegation_count = 1;
    if (req.expiresAt) trust.expires_at = req.expiresAt.toISOString();
    const res = await asToken(this.session, userToken, { method: "POST", url: trustsURL(this.authUrl), json: { trust } });
    if (res.status !== 201 && res.status !== 200) {
      throw refused(res, `Keystone refused to create a trust from user ${req.trustorUserId} on project ${req.projectId}`, [userToken]);
    }
    return parseTrust(res.body);
  }

  /** The trusts `trustorUserId` made, read with that user's own token (list_trusts_for_trustor). */
  async listForTrustor(userToken: string, trustorUserId: string): Promise<Trust[]> {
    const url = `${trustsURL(this.authUrl)}?trustor_user_id=${encodeURIComponent(trustorUserId)}`;
    const res = await asToken(this.session, userToken, { method: "GET", url });
    if (res.status !== 200) throw refused(res, `Keystone would not list the trusts of user ${trustorUserId}`, [userToken]);
    const trusts = (res.body as { trusts?: unknown[] } | undefined)?.trusts ?? [];
    return trusts.map((trust) => parseTrust({ trust }));
  }

  /** The trust, or undefined when it does not exist (deleted, expired, never made). */
  async get(id: string): Promise<Trust | undefined> {
    const res = await asService(this.session, { method: "GET", url: trustURL(this.authUrl, id) });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw refused(res, `Keystone could not read trust ${id}`);
    return parseTrust(res.body);
  }

  /** Deletes the trust; one already gone is fine. */
  async delete(id: string): Promise<void> {
    const res = await asService(this.session, { method: "DELETE", url: trustURL(this.authUrl, id) });
    if (res.status === 204 || res.status === 200 || res.status === 404) return;
    throw refused(res, `Keystone could not delete trust ${id}`);
  }

  private get authUrl(): string {
    return this.session.cloud.auth.authUrl;
  }
}

/**
 * `cloud` with its password authentication scoped to the trust instead of a project: the
 * same user (the service user) or, with `as`, another trustee (a bay's trustee user) on the
 * same Keystone. Application credentials cannot be trust-scoped.
 */
export function trustScopedCloud(cloud: CloudConfig, trustId: string, as?: { userId: string; password: string }): CloudConfig {
  const { authUrl } = cloud.auth;
  if (as) return { ...cloud, auth: { type: "password", authUrl, userId: as.userId, password: as.password, trustId } };
  if (cloud.auth.type !== "password") {
    throw new IdentityError(
      `cannot act through a trust with ${cloud.auth.type} credentials: the trustee needs a password (cloud "${cloud.cloud}")`,
      undefined,
      false,
    );
  }
  const { projectId: _i, projectName: _n, projectDomainId: _di, projectDomainName: _dn, ...user } = cloud.auth;
  return { ...cloud, auth: { ...user, trustId } };
}

/**
 * A session acting through trust `trustId`, sharing `service`'s connection pool. Heat and
 * the other services then see the trustor (impersonation) in the trust's project. Fails on
 * its first use with IdentityError 404 once the trust is deleted or expired.
 */
export function trustSession(
  service: Session,
  trustId: string,
  opts: Omit<SessionOptions, "transport"> & { as?: { userId: string; password: string } } = {},
): Session {
  const { as, ...sessionOpts } = opts;
  // the service user's own trusts: their tokens by rescoping the service's token (no password check)
  return new Session(trustScopedCloud(service.cloud, trustId, as), { ...sessionOpts, transport: service.transport, ...(as ? {} : { rescopeFrom: service }) });
}

function parseTrust(body: unknown): Trust {
  const t = (body as { trust?: Record<string, unknown> } | undefined)?.trust;
  if (!t || typeof t.id !== "string") throw new IdentityError("Keystone's answer holds no trust", undefined, false);
  const expires = typeof t.expires_at === "string" ? new Date(t.expires_at) : undefined;
  return {
    id: t.id,
    trustorUserId: String(t.trustor_user_id ?? ""),
    trusteeUserId: String(t.trustee_user_id ?? ""),
    projectId: typeof t.project_id === "string" ? t.project_id : undefined,
    roles: Array.isArray(t.roles)
      ? (t.roles as Array<{ name?: unknown }>).map((r) => r.name).filter((n): n is string => typeof n === "string")
      : [],
    impersonation: t.impersonation === true,
    expiresAt: expires && !Number.isNaN(expires.getTime()) ? expires : undefined,
    redelegationCount: typeof t.redelegation_count === "number" ? t.redelegation_count : 0,
  };
}
