// /v1/credentials (API 1.12): PATCH rotates a cluster's credential, as Magnum's
// CredentialsController answers it: 202 {"uuid": <cluster uuid>}. Here the rotation is an
// update the worker carries out (a new trustee user and trust, given to the stack; the old
// ones removed once the stack has the new ones), so the cluster is UPDATE_IN_PROGRESS meanwhile.
import { Hono } from "hono";
import { getBay } from "../../../shared/bays/lookup.ts";
import { rotateCredentials } from "../../../shared/bays/operate.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { requireVersion } from "../microversion.ts";

export function credentialRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  r.patch("/:ident", async (c) => {
    requireVersion(c.get("version"), "1.12", "PATCH /v1/credentials");
    const caller = c.get("caller");
    const bay = await getBay(deps.table, caller, c.req.param("ident"), "Cluster");
    const saved = await rotateCredentials(deps, caller, bay, c.get("requestId"));
    return c.json({ uuid: saved.uuid }, 202);
  });
  return r;
}
