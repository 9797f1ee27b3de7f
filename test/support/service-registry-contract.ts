// What every ServiceRegistry adapter must do (SQLite, DynamoDB), as one suite each adapter's
// test runs against itself: what /v1/mservices and the heartbeats rely on. Ids behave as
// Magnum's autoincrement column: positive, growing, never reused, also across connections.
// Every case uses its own hosts, so the suite also passes on a store other cases wrote to.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { MAX_BINARY_LENGTH, MAX_HOST_LENGTH, type ServiceRecord, type ServiceRegistry } from "../../shared/ports/service-registry.ts";

export interface ServiceRegistryHandle {
  services: ServiceRegistry;
  /** a second, independent connection to the same store (as another process would have) */
  other: ServiceRegistry;
  close(): Promise<void>;
}

const newHost = () => `host-${randomUUID()}`;
const at = (second: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, second)).toISOString();
const ids = (rows: ServiceRecord[]) => rows.map((r) => r.id);
const isAscending = (ns: number[]) => ns.every((n, i) => i === 0 || ns[i - 1] < n);

export function serviceRegistryContract(name: string, make: () => Promise<ServiceRegistryHandle>): void {
  const withStore = async (fn: (h: ServiceRegistryHandle) => Promise<void>) => {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  };

  describe(`ServiceRegistry contract: ${name}`, () => {
    it("makes a row on the first beat (new id, report_count 1, created_at, no updated_at); later beats count and set updated_at", () =>
      withStore(async ({ services, other }) => {
        const host = newHost();
        const first = await services.beat(host, "bayforge-api", at(0));
        assert.ok(Number.isSafeInteger(first.id) && first.id > 0, `id ${first.id}`);
        assert.deepEqual(first, { id: first.id, host, binary: "bayforge-api", report_count: 1, created_at: at(0), updated_at: null });
        const second = await other.beat(host, "bayforge-api", at(10));
        assert.deepEqual(second, { ...first, report_count: 2, updated_at: at(10) }, "another connection counts on the same row");
        const third = await services.beat(host, "bayforge-api", at(20));
        assert.deepEqual(third, { ...first, report_count: 3, updated_at: at(20) });
        assert.deepEqual((await other.list()).filter((r) => r.host === host), [third]);
      }));

    it("keeps one row per (host, binary): another binary on the host, or another host, is a new row with a greater id", () =>
      withStore(async ({ services, other }) => {
        const [h1, h2] = [newHost(), newHost()];
        const made = [
          await services.beat(h1, "bayforge-api", at(0)),
          await other.beat(h1, "bayforge-worker", at(1)),
          await services.beat(h2, "bayforge-api", at(2)),
        ];
        assert.ok(isAscending(ids(made)), `ids ${ids(made)}`);
        await services.beat(h1, "bayforge-api", at(3));
        const ours = (await services.list()).filter((r) => r.host === h1 || r.host === h2);
        assert.deepEqual(ours, [{ ...made[0], report_count: 2, updated_at: at(3) }, made[1], made[2]]);
      }));

    it("lists every row by id ascending, the same from another connection", () =>
      withStore(async ({ services, other }) => {
        for (let i = 0; i < 3; i++) await (i % 2 ? other : services).beat(newHost(), "bayforge-worker", at(i));
        const all = await services.list();
        assert.ok(all.length >= 3);
        assert.ok(isAscending(ids(all)), `ids ${ids(all)}`);
        assert.deepEqual(await other.list(), all);
      }));

    it("counts every beat of first beats racing from two connections on one row, and gives it one id", () =>
      withStore(async ({ services, other }) => {
        const host = newHost();
        const beats = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : services).beat(host, "bayforge-api", at(i))));
        assert.equal(new Set(ids(beats)).size, 1, `ids ${ids(beats)}`);
        assert.deepEqual(beats.map((b) => b.report_count).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6]);
        const rows = (await services.list()).filter((r) => r.host === host);
        assert.equal(rows.length, 1);
        assert.equal(rows[0].report_count, 6);
        // a later first beat elsewhere still gets a greater id
        const next = await other.beat(newHost(), "bayforge-api", at(9));
        assert.ok(next.id > rows[0].id);
      }));

    it("refuses an empty or too long host or binary (RangeError) and writes nothing", () =>
      withStore(async ({ services }) => {
        const before = await services.list();
        for (const [host, binary] of [["", "bayforge-api"], ["h".repeat(MAX_HOST_LENGTH + 1), "bayforge-api"], [newHost(), ""], [newHost(), "b".repeat(MAX_BINARY_LENGTH + 1)]]) {
          await assert.rejects(services.beat(host, binary, at(0)), RangeError, `${host.length}/${binary.length}`);
        }
        assert.deepEqual(await services.list(), before);
        const longest = await services.beat("h".repeat(MAX_HOST_LENGTH), "b".repeat(MAX_BINARY_LENGTH), at(0));
        assert.equal(longest.report_count, 1, "the bounds themselves are allowed");
      }));
  });
}
