// The cloud as each bay's user: in keystone mode every bay operation carries a trust from the
// user to Bayforge, and the worker talks to Heat through a session scoped to it (so stacks
// land in the user's project, as the user). Sessions are kept per trust, a bounded few.
//
// Once Keystone no longer has the trust, a bay's stack is still read: as Bayforge's service
// user (an admin, as Magnum's periodic poller reads every project's stacks) in the bay's
// project, by id. A delete releases the trust once the stack is gone and then removes the
// bay; a delivery that died in between is delivered again and must see the stack gone, not
// Keystone's 401 "Could not find trust". Writes still need the trust: they fail, naming it.
import type { Bay } from "../../domain/model.ts";
import { OrchestratorError, type Orchestrator, type Stack, type StackRead } from "../../ports/orchestrator.ts";
import { Session } from "./identity/session.ts";
import { IdentityError } from "./identity/results.ts";
import { TrustClient, trustSession } from "./identity/trusts.ts";
import { HeatClient } from "./orchestration/stacks.ts";

export interface BayCloud {
  session: Session;
  heat: Orchestrator;
}

const MAX_SESSIONS = 256;

/** `service` is Bayforge's own cloud, used as is for bays without a trust (noauth mode). */
export function bayClouds(service: BayCloud): (bay: Pick<Bay, "trust_id"> & Partial<Pick<Bay, "project_id">>) => BayCloud {
  const byTrust = new Map<string, { session: Session; heat: HeatClient; read?: TrustHeat }>();
  const serviceSession = service.session as Session;
  return (bay) => {
    if (!bay.trust_id) return service;
    let c = byTrust.get(bay.trust_id);
    if (c) {
      byTrust.delete(bay.trust_id); // most recently used last
    } else {
      const session = trustSession(serviceSession, bay.trust_id);
      c = { session, heat: new HeatClient(session) };
    }
    byTrust.set(bay.trust_id, c);
    if (byTrust.size > MAX_SESSIONS) byTrust.delete(byTrust.keys().next().value!);
    // a trust is for one project: the bay's, when the caller names it
    if (bay.project_id) c.read ??= new TrustHeat(c.heat, serviceSession, bay.trust_id, bay.project_id);
    return { session: c.session, heat: bay.project_id ? c.read! : c.heat };
  };
}

/** Keystone's refusal of a session (or Heat's of its token), as the Heat client reports it. */
const isRefused = (e: unknown): boolean => (e instanceof OrchestratorError || e instanceof IdentityError) && (e.status === 401 || e.status === 404);

/** Heat through a trust; a stack read by id still answers once the trust is gone (see above). */
class TrustHeat implements Orchestrator {
  constructor(
    private readonly heat: HeatClient,
    private readonly service: Session,
    private readonly trustId: string,
    private readonly projectId: string,
  ) {}

  /** Whether Keystone no longer has the trust (asked as the service user, which may read any trust). */
  private async trustGone(e: unknown): Promise<boolean> {
    return isRefused(e) && (await new TrustClient(this.service).get(this.trustId)) === undefined;
  }

  /** `e` again, or what it means when the trust is gone: no write can act for the user any more. */
  private async refusal(e: unknown, what: string): Promise<unknown> {
    if (!(await this.trustGone(e).catch(() => false))) return e;
    return new OrchestratorError(
      `Keystone no longer has trust ${this.trustId}, through which Bayforge acts for the bay's user (deleted or expired), so the stack cannot be ${what}: ${(e as Error).message.slice(0, 300)}`,
      401,
      false,
    );
  }

  async getStack(name: string, id: string, o?: StackRead): Promise<Stack | undefined> {
    try {
      return await this.heat.getStack(name, id, o);
    } catch (e) {
      if (!(await this.trustGone(e).catch(() => false))) throw e;
      try {
        return await new HeatClient(this.service, { project: this.projectId }).getStack(name, id, o);
      } catch (admin) {
        // Heat does not take Bayforge's service user as an admin: the stack cannot be read at all
        if (admin instanceof OrchestratorError && (admin.status === 401 || admin.status === 403)) throw await this.refusal(e, `read (nor as Bayforge's service user: ${admin.message.slice(0, 200)})`);
        throw admin;
      }
    }
  }

  async findStack(nameOrId: string): Promise<Stack | undefined> {
    // by name Heat looks only in the caller's own project: no read without the trust
    return this.heat.findStack(nameOrId).catch(async (e) => Promise.reject(await this.refusal(e, "looked up")));
  }

  createStack(...a: Parameters<Orchestrator["createStack"]>) {
    return this.heat.createStack(...a).catch(async (e) => Promise.reject(await this.refusal(e, "created")));
  }

  deleteStack(...a: Parameters<Orchestrator["deleteStack"]>) {
    return this.heat.deleteStack(...a).catch(async (e) => Promise.reject(await this.refusal(e, "deleted")));
  }

  updateStack(...a: Parameters<Orchestrator["updateStack"]>) {
    return this.heat.updateStack(...a).catch(async (e) => Promise.reject(await this.refusal(e, "updated")));
  }

  listResources(...a: Parameters<Orchestrator["listResources"]>) {
    return this.heat.listResources(...a).catch(async (e) => Promise.reject(await this.refusal(e, "read")));
  }
}
