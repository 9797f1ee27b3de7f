// The Magnum-compatible REST API as a Hono app built from injected ports. It runs the same
// under @hono/node-server (local.ts) and hono/aws-lambda; it never knows which.
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { randomUUID } from "node:crypto";
import { ApiError } from "../../shared/domain/errors.ts";
import { microversion } from "./microversion.ts";
import { renderError } from "./errors.ts";
import type { ApiDeps, ApiEnv } from "./env.ts";

/** 1 MiB: a 1,000-bay manifest (MAX_MANIFEST_BAYS) with every field given fits. */
export const DEFAULT_MAX_MANIFEST_BYTES = 1024 * 1024;
import { baymodelRoutes } from "./routes/baymodels.ts";
import { bayRoutes } from "./routes/bays.ts";
import { batchRoutes } from "./routes/batches.ts";
import { certificateRoutes } from "./routes/certificates.ts";
import { clusterRoutes } from "./routes/clusters.ts";
import { clusterTemplateRoutes } from "./routes/clustertemplates.ts";
import { versionRoutes } from "./routes/versions.ts";
import { statsRoutes } from "./routes/stats.ts";
import { quotaRoutes } from "./routes/quotas.ts";
import { mserviceRoutes } from "./routes/mservices.ts";
import { credentialRoutes } from "./routes/credentials.ts";
import { bootstrapAllows } from "./bootstrap-auth.ts";
import { DISCOVERY_PATH, discoveryRoutes } from "./routes/discovery.ts";
import { consoleRoutes } from "./console/routes.ts";
import { AGENT_PATH, agentRoutes } from "./routes/agent.ts";
import { clusterActionRoutes } from "./routes/cluster-actions.ts";

export function createApp(deps: ApiDeps): Hono<ApiEnv> {
  // not strict: python-magnumclient sends some paths with a trailing slash (`…/nodegroups/`,
  // lists with --limit or --sort-key, `…/{id}/?rollback=True`), which Magnum's pecan serves
  const app = new Hono<ApiEnv>({ strict: false });

  app.use(async (c, next) => {
    const requestId = `req-${randomUUID()}`;
    c.set("requestId", requestId);
    c.set("base", (deps.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, ""));
    c.header("x-openstack-request-id", requestId);
    await next();
    // a route that answers with its own Response (the etcd discovery protocol) drops what
    // c.header set; every answer still names its request, as the error envelope does
    if (!c.res.headers.has("x-openstack-request-id")) c.res.headers.set("x-openstack-request-id", requestId);
  });
  app.use(microversion());
  const limit = (maxSize: number): MiddlewareHandler<ApiEnv> => {
    // The rest of the body is not read: the connection cannot carry another request after it.
    const tooLarge = (c: Context<ApiEnv>) => {
      c.header("Connection", "close");
      return renderError(c, new ApiError(413, "Request entity too large", `The request body exceeds the limit of ${maxSize} bytes.`), deps.log);
    };
    const streamed = bodyLimit({ maxSize, onError: tooLarge });
    // Decided from the headers when they say it all (hono's bodyLimit would first ask for
    // the body stream, which on Node builds the whole web Request: a tenth of the accept
    // path's CPU); only a chunked body is counted as it streams.
    return async (c, next) => {
      const length = c.req.header("content-length");
      if (c.req.header("transfer-encoding") !== undefined) return streamed(c, next);
      // neither header: no body on Node (HTTP/1.1); a request built from a Lambda event may
      // still carry one, so it is counted
      if (length === undefined) return c.req.method === "GET" || c.req.method === "HEAD" ? next() : streamed(c, next);
      return Number(length) > maxSize ? tooLarge(c) : next();
    };
  };
  // a manifest of 1,000 bays (its limit) is some 100 KB of YAML: batches get their own limit
  const bodies = limit(deps.maxBodyBytes);
  const manifests = limit(deps.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES);
  app.use((c, next) => (/^\/(v1|console)\/batches\/?$/.test(c.req.path) ? manifests : bodies)(c, next));
  app.route("/", versionRoutes());
  // etcd nodes carry no token: the discovery directory's random URL is its secret
  if (deps.discovery) app.route(DISCOVERY_PATH, discoveryRoutes({ discovery: deps.discovery, log: deps.log }));
  // bay nodes' agents carry no token: each request is signed with the node's kubelet key
  app.route(AGENT_PATH, agentRoutes(deps));
  // the web console: its pages ask this same app, in-process, with the person's token
  app.route("/console", consoleRoutes({ vault: deps.vault, log: deps.log, signIn: deps.signIn, stackHistory: deps.stackHistory }, (req) => app.fetch(req)));
  app.use("/v1/*", async (c, next) => {
    const caller = await deps.authenticate(c.req.raw.headers);
    if (caller.bootstrapBay && !bootstrapAllows(c.req.method, c.req.path))
      throw new ApiError(403, "Forbidden", "A bay bootstrap token may only read the bay's CA and sign certificates for it.");
    c.set("caller", caller);
    await next();
  });

  app.route("/v1/baymodels", baymodelRoutes(deps));
  app.route("/v1/bays", bayRoutes(deps));
  if (deps.batches) app.route("/v1/batches", batchRoutes({ ...deps, batches: deps.batches }));
  app.route("/v1/certificates", certificateRoutes(deps));
  app.route("/v1/clusters", clusterActionRoutes(deps));
  app.route("/v1/clusters", clusterRoutes(deps));
  app.route("/v1/clustertemplates", clusterTemplateRoutes(deps));
  app.route("/v1/stats", statsRoutes(deps));
  app.route("/v1/credentials", credentialRoutes(deps));
  if (deps.quotas) app.route("/v1/quotas", quotaRoutes({ ...deps, quotas: deps.quotas }));
  if (deps.services) app.route("/v1/mservices", mserviceRoutes({ ...deps, services: deps.services }));

  app.notFound((c) => renderError(c, new ApiError(404, "Not Found", `No resource at ${c.req.method} ${c.req.path}.`), deps.log));
  app.onError((err, c) => renderError(c, err, deps.log));
  return app;
}
