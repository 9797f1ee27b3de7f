// Project quotas as Magnum keeps them (magnum/api/controllers/v1/quota.py, and the limit
// check of the cluster controller): an admin sets a hard limit on a project's clusters; a
// project without one has the configured default (Magnum's [quotas] max_clusters_per_project,
// 20). Every create path checks it: /v1/bays, /v1/clusters, chat-ops and batch manifests.
import { ApiError, badRequest, notFound } from "../domain/errors.ts";
import { QUOTA_RESOURCES, QuotaExists, type Quota, type QuotaResource, type QuotaStore } from "../ports/quota-store.ts";
import type { BayTable } from "../ports/bay-table.ts";
import type { Caller } from "./deps.ts";

/** Magnum's `[quotas] max_clusters_per_project`. */
export const DEFAULT_MAX_CLUSTERS_PER_PROJECT = 20;

export interface QuotaDeps {
  table: BayTable;
  quotas?: QuotaStore;
  maxClustersPerProject?: number;
  now?: () => Date;
}

/**
 * 403 when the project already has as many clusters as its quota allows (Magnum's
 * ResourceLimitExceeded). A default of -1 is no limit for projects without a quota.
 */
export async function checkClusterQuota(deps: QuotaDeps, projectId: string): Promise<void> {
  const limit = (await deps.quotas?.getQuota(projectId, "Cluster"))?.hard_limit ?? deps.maxClustersPerProject ?? DEFAULT_MAX_CLUSTERS_PER_PROJECT;
  if (limit < 0) return;
  const count = await deps.table.countBays(projectId, limit);
  if (count >= limit)
    throw new ApiError(403, "Resource limit exceeded", `Resource limit exceeded: You have reached the maximum clusters per project, ${limit}. You may delete a cluster to make room for a new one.`);
}

/** A value as an error may show it: bounded, and never by calling into it (JSON can hand us {"toString": 1}). */
const brief = (v: unknown): string =>
  typeof v === "string" ? v.slice(0, 40) : typeof v === "number" || typeof v === "boolean" || v === null ? String(v) : Array.isArray(v) ? "an array" : "an object";

const notAuthorized = (what: string) => new ApiError(403, "Forbidden", `Policy doesn't allow ${what} to be performed.`);

function resourceOf(value: unknown): QuotaResource {
  if (value === undefined) return "Cluster";
  if (typeof value !== "string" || !(QUOTA_RESOURCES as readonly string[]).includes(value))
    throw badRequest(`Invalid input for field/attribute resource. Value: '${brief(value)}'. Value should be one of: ${QUOTA_RESOURCES.join(", ")}`);
  return value as QuotaResource;
}

function hardLimitOf(value: unknown): number {
  if (value === undefined) return 1; // Magnum's default
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > Number.MAX_SAFE_INTEGER)
    throw badRequest(`Invalid input for field/attribute hard_limit. Value: '${brief(value)}'. Value should be an integer greater or equal to 1`);
  return value;
}

function bodyOf(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The request body must be a JSON object describing the quota.");
  const known = new Set(["project_id", "resource", "hard_limit", "id", "created_at", "updated_at"]);
  for (const k of Object.keys(body)) if (!known.has(k)) throw badRequest(`Unknown attribute for argument quota: ${k.slice(0, 80)}`);
  return body as Record<string, unknown>;
}

/** A resource named in a path: one Magnum does not know is a quota that does not exist (404), as there. */
function pathResource(projectId: string, resource: string): QuotaResource {
  if ((QUOTA_RESOURCES as readonly string[]).includes(resource)) return resource as QuotaResource;
  throw quotaNotFound(projectId, resource);
}

const quotaNotFound = (projectId: string, resource: string) =>
  notFound(`Quota for project ${projectId.slice(0, 255)} and resource ${resource.slice(0, 40)} could not be found.`);

export async function createQuota(deps: QuotaDeps & { quotas: QuotaStore }, caller: Caller, body: unknown): Promise<Quota> {
  if (!caller.isAdmin) throw notAuthorized("quota:create");
  const b = bodyOf(body);
  if (typeof b.project_id !== "string" || !b.project_id.trim() || b.project_id.length > 255) throw badRequest("Must provide a valid project ID.");
  const q = { project_id: b.project_id, resource: resourceOf(b.resource), hard_limit: hardLimitOf(b.hard_limit), created_at: (deps.now?.() ?? new Date()).toISOString() };
  try {
    return await deps.quotas.createQuota(q);
  } catch (e) {
    if (e instanceof QuotaExists) throw new ApiError(409, "Conflict", `Quota for project ${q.project_id} already exists for resource ${q.resource}.`);
    throw e;
  }
}

export async function getQuota(deps: QuotaDeps & { quotas: QuotaStore }, caller: Caller, projectId: string, resource: string): Promise<Quota> {
  if (!caller.isAdmin && projectId !== caller.projectId) throw new ApiError(403, "Forbidden", "Not authorized.");
  const quota = await deps.quotas.getQuota(projectId, pathResource(projectId, resource));
  if (!quota) throw quotaNotFound(projectId, resource);
  return quota;
}

export async function updateQuota(deps: QuotaDeps & { quotas: QuotaStore }, caller: Caller, projectId: string, resource: string, body: unknown): Promise<Quota> {
  if (!caller.isAdmin) throw notAuthorized("quota:update");
  const b = bodyOf(body);
  const updated = await deps.quotas.updateQuota(projectId, pathResource(projectId, resource), hardLimitOf(b.hard_limit), (deps.now?.() ?? new Date()).toISOString());
  if (!updated) throw quotaNotFound(projectId, resource);
  return updated;
}

export async function deleteQuota(deps: QuotaDeps & { quotas: QuotaStore }, caller: Caller, projectId: string, resource: string): Promise<void> {
  if (!caller.isAdmin) throw notAuthorized("quota:delete");
  if (!(await deps.quotas.deleteQuota(projectId, pathResource(projectId, resource)))) throw quotaNotFound(projectId, resource);
}

/** A non-admin lists their own project's; an admin too, unless all_tenants (every project's). */
export async function listQuotas(deps: QuotaDeps & { quotas: QuotaStore }, caller: Caller, allTenants: boolean): Promise<Quota[]> {
  return deps.quotas.listQuotas({ projectId: caller.isAdmin && allTenants ? undefined : caller.projectId });
}
