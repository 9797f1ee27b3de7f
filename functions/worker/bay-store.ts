// Conditional writes of a bay's progress: every change is applied to the version read, and
// a lost race re-reads and re-applies (the change functions are pure, so that is safe).
import { VersionConflict, type BayTable } from "../../shared/ports/bay-table.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import { canTransition } from "../../shared/domain/status.ts";

/**
 * Applies `change` to the stored bay and writes it conditionally. `change` returns the new
 * bay, or undefined when nothing is to be written (e.g. the bay already moved on).
 * Returns the bay as stored afterwards, or undefined if it no longer exists.
 */
export async function updateBay(
  table: BayTable,
  bay: Bay,
  change: (current: Bay) => Partial<Bay> | undefined,
  now: Date,
): Promise<Bay | undefined> {
  let current: Bay | undefined = bay;
  for (let tries = 0; tries < 5 && current; tries++) {
    const patch = change(current);
    if (!patch) return current;
    if (patch.status && !canTransition(current.status, patch.status)) return current;
    const next: Bay = { ...current, ...patch, version: current.version + 1, updated_at: now.toISOString() };
    try {
      return await table.updateBay(next, current.version);
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
      current = await table.getBay(bay.uuid);
    }
  }
  if (!current) return undefined;
  throw new VersionConflict(bay.uuid, bay.version);
}

/**
 * Records one of the bay's events for its operators. Never throws: an event that cannot be
 * written is only logged, and the step that made it goes on.
 */
export function recordEvent(deps: { table: BayTable; log: Logger; now: () => Date }, bay: Bay, kind: string, detail: string, request_id?: string): Promise<void> {
  return deps.table
    .appendEvent({ bay_uuid: bay.uuid, at: deps.now().toISOString(), kind, detail, ...(request_id ? { request_id } : {}) })
    .catch((err) => deps.log.warn("event not recorded", { bay: bay.uuid, err }));
}
