// What every BatchStore adapter must do (SQLite, DynamoDB), as one suite each adapter's test
// runs against itself: what POST /v1/batches stores, what GET serves, and what the worker's
// fan-out (functions/worker/steps/apply-batch.ts) relies on: each bay's outcome recorded on
// its own, the batch's own fields replaced without touching the bays or the lease, and a
// lease that only one holder at a time gets, also from another connection. Every case makes
// its own ids, so the suite also passes on a store that other cases already wrote to.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import type { Batch, BatchItem, BatchStore } from "../../shared/ports/batch-store.ts";

export interface BatchStoreHandle {
  batches: BatchStore;
  /** a second, independent connection to the same store (as another worker would have) */
  other: BatchStore;
  close(): Promise<void>;
}

/** A batch as POST /v1/batches stores it (Keystone mode: with the caller and its encrypted token). */
export function sampleBatch(bays = 3, overrides: Partial<Batch> = {}): Batch {
  const manifest = {
    baymodels: [{ name: "k8s", fields: { coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "demo", external_network_id: "public", labels: { a: "1" }, docker_volume_size: 5 } }],
    bays: Array.from({ length: bays }, (_, i) => ({
      name: `bay-${i}`,
      baymodel: "k8s",
      node_count: (i % 3) + 1,
      ...(i % 2 ? { master_count: 3, bay_create_timeout: null } : { discovery_url: null }),
    })),
  };
  return {
    id: randomUUID(),
    project_id: `project-${randomUUID()}`,
    user_id: "user-1",
    created_at: new Date().toISOString(),
    updated_at: null,
    status: "applying",
    manifest,
    items: manifest.bays.map((b) => ({ name: b.name, action: "pending" as const })),
    request_id: `req-${randomUUID()}`,
    token_encrypted: "bf1:ciphertext",
    caller: { roles: ["member", "reader"], user_name: "demo", project_name: "demo", is_admin: false },
    ...overrides,
  };
}

const MINUTE = 60_000;

export function batchStoreContract(name: string, make: () => Promise<BatchStoreHandle>): void {
  const withStore = async (fn: (h: BatchStoreHandle) => Promise<void>) => {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  };

  describe(`BatchStore contract: ${name}`, () => {
    it("gives back the batch exactly as it was stored (manifest, bays all pending, caller, token); an unknown id is undefined", () =>
      withStore(async ({ batches, other }) => {
        const batch = sampleBatch(5);
        await batches.createBatch(batch);
        assert.deepEqual(await batches.getBatch(batch.id), batch);
        assert.deepEqual(await other.getBatch(batch.id), batch, "another connection reads the same");
        assert.equal(await batches.getBatch(randomUUID()), undefined);
        // Open mode: no token, no caller
        const open = sampleBatch(1);
        delete open.token_encrypted;
        delete open.caller;
        await batches.createBatch(open);
        assert.deepEqual(await batches.getBatch(open.id), open);
      }));

    it("keeps a manifest's 1,000 bays in the manifest's order", () =>
      withStore(async ({ batches }) => {
        const batch = sampleBatch(1000);
        await batches.createBatch(batch);
        const got = await batches.getBatch(batch.id);
        assert.deepEqual(got?.manifest.bays.map((b) => b.name), batch.manifest.bays.map((b) => b.name));
        assert.deepEqual(got, batch);
      }));

    it("refuses a second batch with the same id and keeps the first", () =>
      withStore(async ({ batches }) => {
        const first = sampleBatch(2);
        await batches.createBatch(first);
        await assert.rejects(batches.createBatch({ ...sampleBatch(4), id: first.id }));
        assert.deepEqual(await batches.getBatch(first.id), first);
      }));

    it("refuses a batch without exactly one item per manifest bay (RangeError), and stores nothing", () =>
      withStore(async ({ batches }) => {
        const good = sampleBatch(3);
        for (const items of [good.items.slice(0, 2), [...good.items, { name: "bay-3", action: "pending" as const }], []]) {
          const bad = { ...sampleBatch(3), items };
          await assert.rejects(batches.createBatch(bad), RangeError, `${items.length} items for 3 bays`);
          assert.equal(await batches.getBatch(bad.id), undefined);
          assert.deepEqual(await batches.listBatches(bad.project_id), []);
        }
      }));

    it("setItem records one bay's outcome; the other bays, and other batches, are unchanged", () =>
      withStore(async ({ batches, other }) => {
        const batch = sampleBatch(4);
        const neighbour = sampleBatch(4);
        await batches.createBatch(batch);
        await batches.createBatch(neighbour);
        const created: BatchItem = { name: "bay-1", action: "create", bay_uuid: randomUUID(), at: new Date().toISOString() };
        const failed: BatchItem = { name: "bay-3", action: "failed", reason: "bay is UPDATE_IN_PROGRESS: node_count stays 2", at: new Date().toISOString() };
        await batches.setItem(batch.id, 1, created);
        await other.setItem(batch.id, 3, failed);
        const got = await batches.getBatch(batch.id);
        assert.deepEqual(got?.items, [batch.items[0], created, batch.items[2], failed]);
        assert.deepEqual(got?.manifest, batch.manifest);
        assert.deepEqual(await batches.getBatch(neighbour.id), neighbour);
        // recorded again (a redelivery): the last one is kept
        const scaled: BatchItem = { name: "bay-1", action: "scale", bay_uuid: created.bay_uuid };
        await batches.setItem(batch.id, 1, scaled);
        assert.deepEqual((await batches.getBatch(batch.id))?.items[1], scaled);
      }));

    it("setItem and updateBatch on a batch that does not exist change nothing and make nothing", () =>
      withStore(async ({ batches }) => {
        const ghost = sampleBatch(2);
        await batches.setItem(ghost.id, 0, { name: "bay-0", action: "create", bay_uuid: randomUUID() });
        await batches.updateBatch({ ...ghost, status: "applied" });
        assert.equal(await batches.getBatch(ghost.id), undefined);
        assert.equal(await batches.lease(ghost.id, "w1", new Date(Date.now() + MINUTE), new Date()), false);
      }));

    it("setItem at an index the batch does not have changes nothing and adds no bay", () =>
      withStore(async ({ batches }) => {
        const batch = sampleBatch(2);
        await batches.createBatch(batch);
        await batches.setItem(batch.id, 2, { name: "bay-2", action: "create", bay_uuid: randomUUID() });
        await batches.setItem(batch.id, -1, { name: "bay-x", action: "failed", reason: "no such bay" });
        assert.deepEqual(await batches.getBatch(batch.id), batch);
      }));

    it("lists a project's batches oldest first with their status, and no other project's", () =>
      withStore(async ({ batches }) => {
        const project = `project-${randomUUID()}`;
        const older = sampleBatch(2, { project_id: project, created_at: "2026-01-01T00:00:00.000Z" });
        const newer = sampleBatch(1, { project_id: project, created_at: "2026-01-02T00:00:00.000Z" });
        const elsewhere = sampleBatch(1);
        for (const b of [newer, elsewhere, older]) await batches.createBatch(b);
        await batches.updateBatch({ ...older, status: "applied" });
        const head = (b: Batch, status = b.status) => ({ id: b.id, project_id: b.project_id, created_at: b.created_at, status });
        assert.deepEqual(await batches.listBatches(project), [head(older, "applied"), head(newer)]);
        assert.deepEqual(await batches.listBatches(`project-${randomUUID()}`), []);
      }));

    it("updateBatch replaces the batch's own fields (applied, token removed) and leaves its bays as recorded", () =>
      withStore(async ({ batches }) => {
        const batch = sampleBatch(3);
        await batches.createBatch(batch);
        const done: BatchItem = { name: "bay-0", action: "unchanged", bay_uuid: randomUUID(), reason: "master_count is 1 (the manifest says 3); only node_count is applied" };
        await batches.setItem(batch.id, 0, done);
        const at = new Date().toISOString();
        // the fan-out's finish: written from the batch as read before the item was set
        await batches.updateBatch({ ...batch, status: "applied", token_encrypted: null, updated_at: at });
        assert.deepEqual(await batches.getBatch(batch.id), { ...batch, status: "applied", token_encrypted: null, updated_at: at, items: [done, ...batch.items.slice(1)] });
      }));

    it("leases the fan-out to one holder at a time until it expires or is released; the holder renews it", () =>
      withStore(async ({ batches, other }) => {
        const batch = sampleBatch(1);
        await batches.createBatch(batch);
        const t0 = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));
        const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);
        assert.equal(await batches.lease(batch.id, "w1", at(2), t0), true);
        assert.equal(await other.lease(batch.id, "w2", at(3), at(1)), false, "held by w1 until minute 2");
        assert.equal(await batches.lease(batch.id, "w1", at(4), at(1)), true, "w1 renews");
        assert.equal(await other.lease(batch.id, "w2", at(5), at(3)), false, "renewed until minute 4");
        // someone else's release does nothing
        await other.release(batch.id, "w2");
        assert.equal(await other.lease(batch.id, "w2", at(5), at(3)), false);
        // expired: w2 takes it over, and w1 is now refused
        assert.equal(await other.lease(batch.id, "w2", at(7), at(5)), true);
        assert.equal(await batches.lease(batch.id, "w1", at(8), at(6)), false);
        // released by its holder: free at once
        await other.release(batch.id, "w2");
        assert.equal(await batches.lease(batch.id, "w3", at(8), at(6)), true);
      }));

    it("keeps the lease across updateBatch and setItem (the fan-out writes while holding it)", () =>
      withStore(async ({ batches, other }) => {
        const batch = sampleBatch(2);
        await batches.createBatch(batch);
        const now = new Date();
        assert.equal(await batches.lease(batch.id, "w1", new Date(now.getTime() + 2 * MINUTE), now), true);
        await batches.setItem(batch.id, 0, { name: "bay-0", action: "create", bay_uuid: randomUUID() });
        await batches.updateBatch({ ...batch, updated_at: now.toISOString() });
        assert.equal(await other.lease(batch.id, "w2", new Date(now.getTime() + 2 * MINUTE), now), false);
      }));

    it("of ten workers racing for a free lease through their own connections exactly one gets it", () =>
      withStore(async ({ batches, other }) => {
        const batch = sampleBatch(1);
        await batches.createBatch(batch);
        const now = new Date();
        const until = new Date(now.getTime() + 2 * MINUTE);
        const got = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : batches).lease(batch.id, `w${i}`, until, now)));
        assert.equal(got.filter(Boolean).length, 1, `winners: ${got}`);
      }));
  });
}
