// /v1/clusters: modern Magnum's cluster API (what python-magnumclient and `openstack coe`
// speak) on the same bays: create (202 {uuid}), list, detail, show, JSON-patch update,
// delete, the resize action with nodes_to_remove, and the default nodegroups.
import { Hono, type Context } from "hono";
import { badRequest, notFound } from "../../../shared/domain/errors.ts";
import { CLUSTER_FIELDS, parseClusterRequest, resolveOverrides } from "../../../shared/domain/cluster.ts";
import { parseBayPatch, parseResize } from "../../../shared/domain/bay-update.ts";
import type { Bay, BayModel } from "../../../shared/domain/model.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { readJson } from "../request.ts";
import { pageQuery, paginate } from "../pagination.ts";
import { findBayModel, getBay, scope } from "../../../shared/bays/lookup.ts";
import { clusterListView, clusterView, extraNodegroupView, nodegroupViews, withClusterId } from "../cluster-views.ts";
import { createNodeGroup, deleteNodeGroup, patchNodeGroupBounds, resizeNodeGroup } from "../../../shared/bays/nodegroups.ts";
import { defaultGroupRole, findNodeGroup, nodeGroupNotFound } from "../../../shared/domain/nodegroup.ts";
import { acceptAndEnqueue } from "../../../shared/bays/accept.ts";
import { deleteBay, scaleBay } from "../../../shared/bays/operate.ts";
import { atLeast, requireVersion } from "../microversion.ts";
import { fromJson, kindsOf } from "../wsme-json.ts";

const CLUSTER_KINDS = kindsOf(CLUSTER_FIELDS);

/**
 * `?rollback=True` on a cluster update (API 1.3+, as Magnum's `types.boolean`): Heat then undoes
 * a failed update and the cluster ends ROLLBACK_COMPLETE. Before 1.3 Magnum knows no such argument.
 */
function rollbackQuery(c: Context<ApiEnv>): boolean {
  const raw = c.req.query("rollback");
  if (raw === undefined) return false;
  if (!atLeast(c.get("version"), "1.3")) throw badRequest(`Unknown argument: "rollback" (it needs API version 1.3 or later).`);
  const v = raw.trim().toLowerCase();
  if (["true", "t", "yes", "y", "on", "1"].includes(v)) return true;
  if (["false", "f", "no", "n", "off", "0"].includes(v)) return false;
  throw badRequest(`Invalid input for field/attribute rollback. Value: '${raw.slice(0, 40)}'. Expected a boolean (True or False).`);
}

export function clusterRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  /** Templates of a page of clusters, each read once. */
  const templatesOf = async (bays: Bay[]) => {
    const ids = [...new Set(bays.map((b) => b.baymodel_id))];
    const models = await Promise.all(ids.map((id) => deps.table.getBayModel(id)));
    const byId = new Map(models.filter((m): m is BayModel => !!m).map((m) => [m.uuid, m]));
    return (b: Bay) => byId.get(b.baymodel_id);
  };
  const getCluster = (c: Context<ApiEnv>, ident: string) => getBay(deps.table, c.get("caller"), ident, "Cluster");

  r.post("/", async (c) => {
    const caller = c.get("caller");
    const req = parseClusterRequest(fromJson(await readJson(c), CLUSTER_KINDS, ["discovery_url"]), deps.maxNodesPerBay);
    const template = await findBayModel(deps.table, caller, req.bay.baymodel_id, "cluster template");
    if (!template) throw badRequest(`ClusterTemplate ${req.bay.baymodel_id} could not be found.`);
    const bay = await acceptAndEnqueue(deps, caller, req.bay, template, c.get("requestId"), c.get("base"), resolveOverrides(req, template));
    return c.json({ uuid: bay.uuid }, 202);
  });

  const list = (detail: boolean) => async (c: Context<ApiEnv>) => {
    const all = await deps.table.listBays({ projectId: scope(c.get("caller")) });
    const base = c.get("base");
    const { page, next } = paginate(all, pageQuery((k) => c.req.query(k)), {
      noun: "Cluster",
      nextUrl: `${base}/v1/clusters${detail ? "/detail" : ""}`,
      keys: { cluster_template_id: "baymodel_id", create_timeout: "bay_create_timeout" },
    });
    const tpl = await templatesOf(page);
    const v = c.get("version");
    return c.json({ clusters: page.map((b) => withClusterId(detail ? clusterView(b, tpl(b), base) : clusterListView(b, tpl(b), base), v)), ...(next ? { next } : {}) });
  };
  r.get("/", list(false));
  r.get("/detail", list(true));

  r.get("/:ident", async (c) => {
    const bay = await getCluster(c, c.req.param("ident"));
    return c.json(withClusterId(clusterView(bay, await deps.table.getBayModel(bay.baymodel_id), c.get("base")), c.get("version")));
  });

  r.patch("/:ident", async (c) => {
    const rollback = rollbackQuery(c);
    const body = await readJson(c);
    const bay = await getCluster(c, c.req.param("ident"));
    const { bay: saved } = await scaleBay(deps, c.get("caller"), bay, { ...parseBayPatch(body, bay, deps.maxNodesPerBay), rollback }, c.get("requestId"));
    return c.json({ uuid: saved.uuid }, 202);
  });

  r.delete("/:ident", async (c) => {
    const bay = await getCluster(c, c.req.param("ident"));
    await deleteBay(deps, c.get("caller"), bay, c.get("requestId"));
    return c.body(null, 204);
  });

  r.post("/:ident/actions/resize", async (c) => {
    const v = c.get("version");
    const req = parseResize(fromJson(await readJson(c), { node_count: "integer" }), deps.maxNodesPerBay, { zeroNodes: atLeast(v, "1.10") });
    const bay = await getCluster(c, c.req.param("ident"));
    const role = req.nodegroup === undefined ? "worker" : defaultGroupRole(bay, req.nodegroup);
    if (role === "master")
      throw badRequest(`Nodegroup ${req.nodegroup} cannot be resized: a cluster's masters are fixed at create (Magnum's Heat driver does not resize them either).`);
    if (req.nodegroup !== undefined && role === undefined) {
      const group = findNodeGroup(bay, req.nodegroup);
      if (!group) throw nodeGroupNotFound(req.nodegroup);
      await resizeNodeGroup(deps, c.get("caller"), bay, group, req.node_count, req.nodes_to_remove, { requestId: c.get("requestId"), zeroNodes: atLeast(v, "1.10") });
      return c.json({ uuid: bay.uuid }, 202);
    }
    if (req.node_count === 0) throw badRequest("Invalid input for field/attribute node_count. Value: '0'. The default-worker nodegroup keeps at least 1 node (an extra nodegroup may have 0 from API 1.10).");
    const { bay: saved } = await scaleBay(deps, c.get("caller"), bay, req, c.get("requestId"));
    return c.json({ uuid: saved.uuid }, 202);
  });

  r.post("/:ident/nodegroups", async (c) => {
    const v = c.get("version");
    requireVersion(v, "1.9", "POST /v1/clusters/{id}/nodegroups");
    const body = await readJson(c);
    const bay = await getCluster(c, c.req.param("ident"));
    const model = await deps.table.getBayModel(bay.baymodel_id);
    if (!model) throw badRequest(`The cluster's template ${bay.baymodel_id} could not be found.`);
    const group = await createNodeGroup(deps, c.get("caller"), bay, model, body, { requestId: c.get("requestId"), zeroNodes: atLeast(v, "1.10"), nodeLabels: atLeast(v, "1.14") });
    return c.json(extraNodegroupView(bay, group, c.get("base"), v), 202);
  });

  r.patch("/:ident/nodegroups/:ng", async (c) => {
    requireVersion(c.get("version"), "1.9", "PATCH /v1/clusters/{id}/nodegroups/{id}");
    const body = await readJson(c);
    const bay = await getCluster(c, c.req.param("ident"));
    const ng = c.req.param("ng");
    if (defaultGroupRole(bay, ng))
      throw badRequest(`Nodegroup ${ng} is a default nodegroup: its node count is the cluster's (resize the cluster) and its bounds are fixed.`);
    const group = await patchNodeGroupBounds(deps, bay, ng, body);
    return c.json(extraNodegroupView(bay, group, c.get("base"), c.get("version")), 202);
  });

  r.delete("/:ident/nodegroups/:ng", async (c) => {
    requireVersion(c.get("version"), "1.9", "DELETE /v1/clusters/{id}/nodegroups/{id}");
    const bay = await getCluster(c, c.req.param("ident"));
    await deleteNodeGroup(deps, c.get("caller"), bay, c.req.param("ng"), c.get("requestId"));
    return c.body(null, 204);
  });

  r.get("/:ident/nodegroups", async (c) => {
    const bay = await getCluster(c, c.req.param("ident"));
    const groups = nodegroupViews(bay, await deps.table.getBayModel(bay.baymodel_id), c.get("base"), c.get("version"));
    const role = c.req.query("role");
    return c.json({ nodegroups: groups.filter((g) => !role || g.role === role) });
  });

  r.get("/:ident/nodegroups/:ng", async (c) => {
    const bay = await getCluster(c, c.req.param("ident"));
    const ng = c.req.param("ng");
    const group = nodegroupViews(bay, await deps.table.getBayModel(bay.baymodel_id), c.get("base"), c.get("version")).find((g) => g.uuid === ng || g.name === ng);
    if (!group) throw notFound(`Nodegroup ${ng} could not be found.`);
    return c.json(group);
  });
  return r;
}
