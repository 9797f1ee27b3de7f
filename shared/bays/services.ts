// Magnum's service list (GET /v1/mservices, magnum/api/controllers/v1/magnum_services.py):
// Bayforge's own running parts, from their heartbeats (shared/bays/heartbeat.ts), each "up" when
// it beat within SERVICE_DOWN_SECONDS. Admins only, as Magnum's magnum-service:get_all policy.
import { ApiError } from "../domain/errors.ts";
import type { ServiceRecord, ServiceRegistry } from "../ports/service-registry.ts";
import type { Caller } from "./deps.ts";

/** Magnum's `service_down_time` (180 s): a service silent for longer is "down". */
export const SERVICE_DOWN_SECONDS = 180;

/** One row of GET /v1/mservices, in Magnum's field order (plus last_seen_up, as its object has). */
export interface MagnumServiceView {
  id: number;
  host: string;
  binary: string;
  state: "up" | "down";
  report_count: number;
  /** Bayforge disables no service; Magnum's columns, always false and null */
  disabled: false;
  disabled_reason: null;
  created_at: string;
  updated_at: string | null;
  /** the last beat's time */
  last_seen_up: string;
}

export interface ServiceListDeps {
  services: ServiceRegistry;
  now?: () => Date;
}

/** As magnum/api/servicegroup.py decides it: the last beat within service_down_time either way (its abs()). */
export function serviceState(row: ServiceRecord, now: Date): "up" | "down" {
  const last = Date.parse(row.updated_at ?? row.created_at);
  return Number.isFinite(last) && Math.abs(now.getTime() - last) <= SERVICE_DOWN_SECONDS * 1000 ? "up" : "down";
}

export function serviceView(row: ServiceRecord, now: Date): MagnumServiceView {
  return {
    id: row.id,
    host: row.host,
    binary: row.binary,
    state: serviceState(row, now),
    report_count: row.report_count,
    disabled: false,
    disabled_reason: null,
    created_at: row.created_at,
    updated_at: row.updated_at,
    last_seen_up: row.updated_at ?? row.created_at,
  };
}

/** Every service by id, for an admin; anyone else gets Magnum's 403. */
export async function listServices(deps: ServiceListDeps, caller: Caller): Promise<MagnumServiceView[]> {
  if (!caller.isAdmin) throw new ApiError(403, "Forbidden", "Policy doesn't allow magnum-service:get_all to be performed.");
  const now = deps.now?.() ?? new Date();
  return (await deps.services.list()).map((row) => serviceView(row, now));
}
