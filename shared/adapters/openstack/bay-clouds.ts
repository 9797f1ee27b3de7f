// The cloud as each bay's user: in keystone mode every bay operation carries a trust from the
// user to Bayforge, and the worker talks to Heat through a session scoped to it (so stacks
// land in the user's project, as the user). Sessions are kept per trust, a bounded few.
import type { Bay } from "../../domain/model.ts";
import type { Orchestrator } from "../../ports/orchestrator.ts";
import { Session } from "./identity/session.ts";
import { trustSession } from "./identity/trusts.ts";
import { HeatClient } from "./orchestration/stacks.ts";

export interface BayCloud {
  session: Session;
  heat: Orchestrator;
}

const MAX_SESSIONS = 256;

/** `service` is Bayforge's own cloud, used as is for bays without a trust (noauth mode). */
export function bayClouds(service: BayCloud): (bay: Pick<Bay, "trust_id">) => BayCloud {
  const byTrust = new Map<string, BayCloud>();
  return (bay) => {
    if (!bay.trust_id) return service;
    let c = byTrust.get(bay.trust_id);
    if (c) {
      byTrust.delete(bay.trust_id); // most recently used last
    } else {
      const session = trustSession(service.session as Session, bay.trust_id);
      c = { session, heat: new HeatClient(session) };
    }
    byTrust.set(bay.trust_id, c);
    if (byTrust.size > MAX_SESSIONS) byTrust.delete(byTrust.keys().next().value!);
    return c;
  };
}
