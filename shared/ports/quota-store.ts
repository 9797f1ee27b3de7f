// Project quotas (Magnum's /v1/quotas, magnum/api/controllers/v1/quota.py): a hard limit per
// (project, resource); Magnum knows one resource, "Cluster". Locally a SQLite table
// (shared/adapters/local); on AWS items in the DynamoDB table (shared/adapters/dynamodb).
// test/support/quota-store-contract.ts is what both must do.

export const QUOTA_RESOURCES = ["Cluster"] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

export interface Quota {
  /** a positive integer, assigned at creation, never reused (Magnum's autoincrement id) */
  id: number;
  project_id: string;
  resource: QuotaResource;
  hard_limit: number;
  created_at: string;
  updated_at: string | null;
}

export interface QuotaStore {
  /** Inserts a quota with the next id; throws QuotaExists if the project has one for that resource. */
  createQuota(q: Omit<Quota, "id" | "updated_at">): Promise<Quota>;
  getQuota(projectId: string, resource: QuotaResource): Promise<Quota | undefined>;
  /** One project's quotas, or every project's (projectId undefined), by id ascending. */
  listQuotas(filter: { projectId?: string }): Promise<Quota[]>;
  /** Sets hard_limit and updated_at; undefined when there is no such quota. */
  updateQuota(projectId: string, resource: QuotaResource, hardLimit: number, updatedAt: string): Promise<Quota | undefined>;
  /** Removes it; false when there was none. */
  deleteQuota(projectId: string, resource: QuotaResource): Promise<boolean>;
}

export class QuotaExists extends Error {
  constructor(readonly projectId: string, readonly resource: string) {
    super(`Quota for project ${projectId} already exists for resource ${resource}.`);
    this.name = "QuotaExists";
  }
}
