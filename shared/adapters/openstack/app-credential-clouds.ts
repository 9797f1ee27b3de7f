// Chat-ops bays in the mapped project: the worker talks to Heat with the mapping's
// application credential (created by a member of that project), so the stack is the
// project's own and shows in its `openstack stack list`. The credential is read (and its
// secret decrypted) on each use, so a mapping replaced or removed takes effect at once;
// sessions are kept per credential, a bounded few, on the service session's connection pool.
import { createHash } from "node:crypto";
import type { AppCredential } from "../../ports/chatops-mappings.ts";
import type { Orchestrator } from "../../ports/orchestrator.ts";
import { Session } from "./identity/session.ts";
import { IdentityError, type TokenInfo } from "./identity/results.ts";
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
  return info;
}

export interface AppCredentialCloud {
  heat: Orchestrator;
  tokenInfo(): Promise<TokenInfo>;
}

const MAX_SESSIONS = 64;

/** `load(ref)`: the mapping's credential now; undefined once the mapping (or its credential) is gone. */
export function appCredentialClouds(service: Session, load: (ref: string) => Promise<AppCredential | undefined>): (ref: string) => AppCredentialCloud {
  const byCredential = new Map<string, { session: Session; heat: HeatClient }>();
  const current = async (ref: string) => {
    const c = await load(ref);
    if (!c)
      throw new IdentityError(`chat-ops mapping ${ref} is gone or has no application credential: map it again (bayforge chatops map ${ref} ...) to act on its bays`, undefined, false);
    // keyed by id and a digest of the secret: a credential replaced under the same id gets a new session
    const k = `${c.id}:${createHash("sha256").update(c.secret).digest("hex")}`;
    let entry = byCredential.get(k);
    if (entry) byCredential.delete(k);
    else {
      const session = appCredentialSession(service, c);
      entry = { session, heat: new HeatClient(session) };
    }
    byCredential.set(k, entry);
    if (byCredential.size > MAX_SESSIONS) byCredential.delete(byCredential.keys().next().value!);
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
