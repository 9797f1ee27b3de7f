// Version discovery at / and /v1, as Magnum serves it (unauthenticated, like Magnum's
// public_api_routes), so clients and the catalog can find the API and its microversions.
import { Hono } from "hono";
import type { ApiEnv } from "../env.ts";
import { MAX_VERSION, MIN_VERSION, atLeast } from "../microversion.ts";

/** In Magnum's order; bays and baymodels only for clients that ask for 1.10 or older (1.11 removed them). */
const RESOURCES = ["baymodels", "bays", "clustertemplates", "clusters", "quotas", "certificates", "mservices", "stats"];
const REMOVED_IN_1_11 = new Set(["baymodels", "bays"]);

export function versionRoutes(): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  const v1 = (base: string) => ({
    id: "v1",
    links: [{ href: `${base}/v1/`, rel: "self" }],
    status: "CURRENT",
    max_version: MAX_VERSION,
    min_version: MIN_VERSION,
  });
  r.get("/", (c) =>
    c.json({
      name: "Bayforge (OpenStack Magnum API)",
      description: "Kubernetes bays on OpenStack Heat, provisioned the way Magnum does, by serverless functions.",
      versions: [v1(c.get("base"))],
    }),
  );
  r.get("/v1", (c) => {
    const base = c.get("base");
    const body: Record<string, unknown> = {
      id: "v1",
      media_types: [{ base: "application/json", type: "application/vnd.openstack.magnum.v1+json" }],
      links: [{ href: `${base}/v1/`, rel: "self" }],
    };
    const current = atLeast(c.get("version"), "1.11");
    for (const k of RESOURCES) if (!(current && REMOVED_IN_1_11.has(k))) body[k] = [{ href: `${base}/v1/${k}/`, rel: "self" }, { href: `${base}/${k}/`, rel: "bookmark" }];
    body.nodegroups = [{ href: `${base}/v1/clusters/{cluster_id}/nodegroups`, rel: "self" }, { href: `${base}/clusters/{cluster_id}/nodegroups`, rel: "bookmark" }];
    body.credentials = [{ href: `${base}/v1/credentials/`, rel: "self" }, { href: `${base}/credentials/`, rel: "bookmark" }];
    return c.json(body);
  });
  return r;
}
