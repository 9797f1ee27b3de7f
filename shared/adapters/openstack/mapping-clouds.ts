// Chat-ops bays in the mapped project: the worker talks to Heat with the mapping's credential
// (created by a member of that project), so the stack is the project's own and shows in its
// `openstack stack list`. Two kinds:
// - an application credential: its own session (Keystone's application_credential method);
// - a trust from a member to Bayforge's service user: the service session rescoped to it, as
//   API bays act (bay-clouds.ts), which Heat can derive its own trust from.
// The credential is read (an application credential's secret decrypted) on each use, so a
// mapping replaced or removed takes effect at once; sessions are kept per credential, a
// bounded few, on the service session's connection pool.
import { createHash, randomBytes } from "node:crypto";
import { MappingGone, type AppCredential, type MappingCredential } from "../../ports/chatops-mappings.ts";
import type { Orchestrator } from "../../ports/orchestrator.ts";
import { Session } from "./identity/session.ts";
import { IdentityError, keystoneMessage, type TokenInfo } from "./identity/results.ts";
import { trustsURL } from "./identity/urls.ts";
import { TrustClient, trustSession } from "./identity/trusts.ts";
import { HeatClient } from "./orchestration/stacks.ts";

/** A session authenticating with an application credential on `service`'s Keystone. */
export function appCredentialSession(service: Session, c: Pick<AppCredential, "id" | "secret">): Session {
  const auth = { type: "application_credential" as const, authUrl: service.cloud.auth.authUrl, applicationCredentialId: c.id, applicationCredentialSecret: c.secret };
  return new Session({ ...service.cloud, auth }, { transport: service.transport });
}

/**
 * Mapping time: the credential authenticates (Keystone's application_credential method) and
 * is scoped to `projectId`. Throws IdentityError with a message an operator can act on.
 */
export async function checkAppCredential(service: Session, c: Pick<AppCredential, "id" | "secret">, projectId: string): Promise<TokenInfo> {
  const s = appCredentialSession(service, c);
  let info: TokenInfo;
  try {
    info = await s.authenticate();
  } catch (e) {
    if (e instanceof IdentityError && (e.status === 401 || e.status === 404))
      throw new IdentityError(`Keystone refused application credential ${c.id} (HTTP ${e.status}): check its id and secret, and that it has not expired or been deleted; ${e.message}`, e.status, false);
    throw e;
  }
  if (info.projectId !== projectId)
    throw new IdentityError(`application credential ${c.id} is scoped to project ${info.projectId ?? "(none)"}, not ${projectId}: create it as a member of ${projectId}, in that project`, undefined, false);
  await checkHeatCanDelegate(s, c.id, info);
  return info;
}

/**
 * Heat makes a trust from the caller to itself for every stack it creates (deferred_auth_method
 * = trusts), so a credential whose tokens Keystone forbids to make trusts gets every stack
 * refused. Asked without making anything: a trust to a user that does not exist is refused
 * with 404 once the token may delegate, and with 403 before that when it may not.
 */
async function checkHeatCanDelegate(s: Session, id: string, info: TokenInfo): Promise<void> {
  const trust = {
    trustor_user_id: info.userId,
    trustee_user_id: randomBytes(16).toString("hex"), // no such user
    project_id: info.projectId,
    roles: info.roles.slice(0, 1).map((name) => ({ name })),
    impersonation: true,
  };
  const res = await s.transport.send({ method: "POST", url: trustsURL(s.cloud.auth.authUrl), json: { trust }, headers: { "x-auth-token": await s.token() } });
  if (res.status === 403)
    throw new IdentityError(
      `Keystone does not let application credential ${id} make trusts (${keystoneMessage(res.body, res.status)}), and Heat makes one for every stack it creates, so every stack would be refused. ` +
        `Create the credential with --unrestricted; a Keystone with the fix for bug 2150089 also needs [security_compliance] allow_insecure_application_credential_trust_escalation = true`,
      403,
      false,
    );
  if (res.status >= 500) throw new IdentityError(`could not check with Keystone whether application credential ${id} may delegate (HTTP ${res.status})`, res.status, true);
}

/**
 * Mapping time, for a trust: Bayforge's service user can act through it (it is the trustee),
 * in `projectId`, and may delegate it once more, as Heat does for every stack it creates.
 */
export async function checkMappingTrust(service: Session, trustId: string, projectId: string): Promise<TokenInfo> {
  const s = trustSession(service, trustId);
  let info: TokenInfo;
  try {
    info = await s.authenticate();
  } catch (e) {
    if (e instanceof IdentityError && (e.status === 401 || e.status === 403 || e.status === 404))
      throw new IdentityError(`Bayforge's service user cannot act through trust ${trustId} (HTTP ${e.status}): it must be the trust's trustee, and the trust must not have expired or been deleted; ${e.message}`, e.status, false);
    throw e;
  }
  if (info.projectId !== projectId) throw new IdentityError(`trust ${trustId} is for project ${info.projectId ?? "(none)"}, not ${projectId}`, undefined, false);
  const trust = await new TrustClient(service).get(trustId);
  if (!trust?.impersonation || trust.redelegationCount < 1)
    throw new IdentityError(
      `trust ${trustId} must impersonate its trustor and allow one redelegation (Heat derives its own trust from it for every stack): create it with "impersonation": true, "allow_redelegation": true, "redelegation_count": 1`,
      undefined,
      false,
    );
  return info;
}

export interface MappingCloud {
  heat: Orchestrator;
  tokenInfo(): Promise<TokenInfo>;
}

const MAX_SESSIONS = 64;

/** `load(ref)`: the mapping's credential now; undefined once the mapping (or its credential) is gone. */
export function mappingClouds(service: Session, load: (ref: string) => Promise<MappingCredential | undefined>): (ref: string) => MappingCloud {
  const sessions = new Map<string, { session: Session; heat: HeatClient }>();
  const current = async (ref: string) => {
    const c = await load(ref);
    if (!c) throw new MappingGone(ref);
    // an application credential by id and a digest of its secret: one replaced under the same id gets a new session
    const k = c.kind === "trust" ? `trust:${c.trust_id}` : `ac:${c.id}:${createHash("sha256").update(c.secret).digest("hex")}`;
    let entry = sessions.get(k);
    if (entry) sessions.delete(k);
    else {
      const session = c.kind === "trust" ? trustSession(service, c.trust_id) : appCredentialSession(service, c);
      entry = { session, heat: new HeatClient(session) };
    }
    sessions.set(k, entry);
    if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
    return entry;
  };
  return (ref) => ({
    // every call reads the mapping first (one SQLite row, or the cached secret on AWS)
    heat: new Proxy({} as Orchestrator, {
      get: (_, method) => (typeof method !== "string" || method === "then" ? undefined : async (...args: unknown[]) => {
        const heat = (await current(ref)).heat as unknown as Record<string, (...a: unknown[]) => unknown>;
        return heat[method](...args);
      }),
    }),
    tokenInfo: async () => (await current(ref)).session.tokenInfo(),
  });
}
