// /v1/mservices: Bayforge's own services and whether each is up (admins), as Magnum lists its
// conductors. No microversion gate, as in Magnum's controller.
import { Hono } from "hono";
import { listServices } from "../../../shared/bays/services.ts";
import type { ServiceRegistry } from "../../../shared/ports/service-registry.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";

export function mserviceRoutes(deps: ApiDeps & { services: ServiceRegistry }): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  r.get("/", async (c) => c.json({ mservices: await listServices(deps, c.get("caller")) }));
  return r;
}
