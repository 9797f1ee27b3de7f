// Magnum's stats (API 1.4, magnum/api/controllers/v1/stats.py): how many clusters a project has
// and how many nodes they hold (masters and workers, every status, as Magnum's
// get_cluster_stats sums its nodegroups). A user reads their own project's; an admin any
// project's, or every project's when none is named.
import { ApiError, badRequest } from "../domain/errors.ts";
import type { BayTable } from "../ports/bay-table.ts";
import type { Caller } from "./deps.ts";

export interface ClusterStats {
  clusters: number;
  nodes: number;
}

/** `type` as Magnum takes it (only "cluster"); `projectId` undefined: the caller's own (all, for an admin). */
export async function clusterStats(table: BayTable, caller: Caller, q: { projectId?: string; type?: string }): Promise<ClusterStats> {
  if (q.type !== undefined && q.type.toLowerCase() !== "cluster") throw badRequest("Invalid stats type. Allowed values are 'cluster'");
  let projectId = q.projectId || undefined;
  if (!caller.isAdmin) {
    projectId ??= caller.projectId;
    if (projectId !== caller.projectId) throw new ApiError(403, "Not authorized", "Not authorized: only an administrator may read another project's stats.");
  }
  const bays = await table.listBays({ projectId });
  const extra = (b: (typeof bays)[number]) => (b.nodegroups ?? []).reduce((n, g) => n + g.node_count, 0);
  return { clusters: bays.length, nodes: bays.reduce((n, b) => n + b.node_count + b.master_count + extra(b), 0) };
}
