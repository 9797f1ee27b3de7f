// What every QuotaStore adapter must do (SQLite, DynamoDB), as one suite each adapter's test
// runs against itself: what /v1/quotas (Magnum's quota.py) relies on. Ids behave as Magnum's
// autoincrement column: positive, growing, never reused, also across connections. Every case
// makes its own projects, so the suite also passes on a store that other cases already wrote to.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { QuotaExists, type Quota, type QuotaStore } from "../../shared/ports/quota-store.ts";

export interface QuotaStoreHandle {
  quotas: QuotaStore;
  /** a second, independent connection to the same store (as another API instance would have) */
  other: QuotaStore;
  close(): Promise<void>;
}

const newProject = () => `project-${randomUUID()}`;
const sampleQuota = (project_id = newProject(), hard_limit = 10) => ({
  project_id,
  resource: "Cluster" as const,
  hard_limit,
  created_at: new Date().toISOString(),
});
const ids = (qs: Quota[]) => qs.map((q) => q.id);
const isAscending = (ns: number[]) => ns.every((n, i) => i === 0 || ns[i - 1] < n);

export function quotaStoreContract(name: string, make: () => Promise<QuotaStoreHandle>): void {
  const withStore = async (fn: (h: QuotaStoreHandle) => Promise<void>) => {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  };

  describe(`QuotaStore contract: ${name}`, () => {
    it("creates a quota with a positive id, greater with each create, and gives it back as created", () =>
      withStore(async ({ quotas, other }) => {
        const made: Quota[] = [];
        for (let i = 0; i < 4; i++) {
          const q = sampleQuota(newProject(), i + 1);
          const got = await (i % 2 ? other : quotas).createQuota(q);
          assert.ok(Number.isSafeInteger(got.id) && got.id > 0, `id ${got.id}`);
          assert.deepEqual(got, { ...q, id: got.id, updated_at: null });
          assert.deepEqual(await quotas.getQuota(q.project_id, "Cluster"), got);
          assert.deepEqual(await other.getQuota(q.project_id, "Cluster"), got, "another connection reads the same");
          made.push(got);
        }
        assert.ok(isAscending(ids(made)), `ids ${ids(made)}`);
      }));

    it("refuses a second quota for the same project and resource (QuotaExists) and changes nothing", () =>
      withStore(async ({ quotas, other }) => {
        const project = newProject();
        const first = await quotas.createQuota(sampleQuota(project, 5));
        for (const store of [quotas, other]) {
          await assert.rejects(store.createQuota(sampleQuota(project, 99)), (err: unknown) => {
            assert.ok(err instanceof QuotaExists, String(err));
            assert.equal(err.projectId, project);
            assert.equal(err.resource, "Cluster");
            return true;
          });
        }
        assert.deepEqual(await quotas.getQuota(project, "Cluster"), first);
        assert.deepEqual(await quotas.listQuotas({ projectId: project }), [first]);
        // another project may still have one for the same resource
        const elsewhere = await quotas.createQuota(sampleQuota());
        assert.ok(elsewhere.id > first.id);
      }));

    it("of creates racing from two connections for one project exactly one wins; for different projects all get distinct ids", () =>
      withStore(async ({ quotas, other }) => {
        const project = newProject();
        const raced = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : quotas).createQuota(sampleQuota(project, i))));
        const won = raced.filter((r) => r.status === "fulfilled");
        assert.equal(won.length, 1, `winners: ${won.length}`);
        for (const r of raced) if (r.status === "rejected") assert.ok(r.reason instanceof QuotaExists, String(r.reason));
        assert.deepEqual(await quotas.listQuotas({ projectId: project }), [won[0].value]);

        const many = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? other : quotas).createQuota(sampleQuota())));
        assert.equal(new Set(ids(many)).size, many.length, `ids ${ids(many)}`);
      }));

    it("gets undefined for a quota that does not exist", () =>
      withStore(async ({ quotas }) => {
        assert.equal(await quotas.getQuota(newProject(), "Cluster"), undefined);
        assert.deepEqual(await quotas.listQuotas({ projectId: newProject() }), []);
      }));

    it("lists one project's quotas, or every project's, by id ascending", () =>
      withStore(async ({ quotas, other }) => {
        const [p1, p2, p3] = [newProject(), newProject(), newProject()];
        const made: Quota[] = [];
        for (const p of [p2, p1, p3]) made.push(await quotas.createQuota(sampleQuota(p)));
        assert.deepEqual(await quotas.listQuotas({ projectId: p1 }), [made[1]]);
        assert.deepEqual(await quotas.listQuotas({ projectId: p2 }), [made[0]]);
        const all = await quotas.listQuotas({});
        assert.ok(isAscending(ids(all)), `ids ${ids(all)}`);
        assert.deepEqual(await other.listQuotas({}), all, "another connection lists the same");
        // other cases' quotas may be there too: ours in the order they were created
        const ours = new Set([p1, p2, p3]);
        assert.deepEqual(all.filter((q) => ours.has(q.project_id)), made);
      }));

    it("updates hard_limit and updated_at and returns the quota; a missing one is undefined and not created", () =>
      withStore(async ({ quotas, other }) => {
        const created = await quotas.createQuota(sampleQuota(newProject(), 3));
        const at = new Date(Date.now() + 1000).toISOString();
        const updated = await other.updateQuota(created.project_id, "Cluster", 7, at);
        assert.deepEqual(updated, { ...created, hard_limit: 7, updated_at: at });
        assert.deepEqual(await quotas.getQuota(created.project_id, "Cluster"), updated);

        const ghost = newProject();
        assert.equal(await quotas.updateQuota(ghost, "Cluster", 1, at), undefined);
        assert.equal(await quotas.getQuota(ghost, "Cluster"), undefined);
      }));

    it("deletes a quota (true, then false); its id is not reused by the next create", () =>
      withStore(async ({ quotas, other }) => {
        const project = newProject();
        const keep = await quotas.createQuota(sampleQuota());
        const gone = await quotas.createQuota(sampleQuota(project));
        assert.equal(await quotas.deleteQuota(project, "Cluster"), true);
        assert.equal(await other.deleteQuota(project, "Cluster"), false);
        assert.equal(await quotas.getQuota(project, "Cluster"), undefined);
        assert.deepEqual(await quotas.listQuotas({ projectId: project }), []);
        assert.deepEqual(await quotas.getQuota(keep.project_id, "Cluster"), keep, "other quotas stay");
        // the deleted one had the highest id: the next create (same project or not) goes above it
        const again = await other.createQuota(sampleQuota(project));
        assert.ok(again.id > gone.id, `${again.id} after deleting ${gone.id}`);
        const next = await quotas.createQuota(sampleQuota());
        assert.ok(next.id > again.id);
      }));
  });
}
