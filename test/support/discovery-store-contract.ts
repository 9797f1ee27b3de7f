// What every DiscoveryStore adapter must do (SQLite, DynamoDB), as one suite each adapter's
// test runs against itself. Every case makes its own tokens, so the suite also passes on a
// store that other cases (or earlier runs) already wrote to.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { DiscoveryDirectoryExists, type AddMemberResult, type DiscoveryStore } from "../../shared/ports/discovery-store.ts";

export interface DiscoveryStoreHandle {
  discovery: DiscoveryStore;
  /** a second, independent connection to the same store (as another process would have) */
  other: DiscoveryStore;
  close(): Promise<void>;
}

/** 128 random bits in lowercase hex, as the route makes them */
export const newToken = () => randomBytes(16).toString("hex");

const createdIndexes = (results: AddMemberResult[]) =>
  results.map((r) => (r.outcome === "created" ? r.index : -1)).sort((x, y) => x - y);

export function discoveryStoreContract(name: string, make: () => Promise<DiscoveryStoreHandle>): void {
  const withStore = async (fn: (h: DiscoveryStoreHandle) => Promise<void>) => {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  };

  describe(`DiscoveryStore contract: ${name}`, () => {
    it("creates an empty directory at index 1 and reads it back; unknown tokens are undefined", () =>
      withStore(async ({ discovery }) => {
        const token = newToken();
        const at = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));
        const dir = await discovery.createDirectory(token, 3, at);
        assert.deepEqual(dir, { token, size: 3, index: 1, createdAt: at.toISOString() });
        assert.deepEqual(await discovery.getDirectory(token), dir);
        assert.deepEqual(await discovery.listMembers(token), { directory: dir, members: [] });
        assert.equal(await discovery.getDirectory(newToken()), undefined);
        assert.equal(await discovery.listMembers(newToken()), undefined);
      }));

    it("refuses a second directory with the same token (DiscoveryDirectoryExists, never naming the token) and keeps the first", () =>
      withStore(async ({ discovery }) => {
        const token = newToken();
        const first = await discovery.createDirectory(token, 3, new Date());
        await discovery.addMember(token, "a", "m1=http://127.0.0.1:2380", 10);
        await assert.rejects(discovery.createDirectory(token, 5, new Date()), (e: unknown) => {
          assert.ok(e instanceof DiscoveryDirectoryExists, `expected DiscoveryDirectoryExists, got ${String(e)}`);
          assert.ok(!e.message.includes(token));
          return true;
        });
        const snap = await discovery.listMembers(token);
        assert.deepEqual(snap?.directory, { ...first, index: 2 });
        assert.equal(snap?.members.length, 1);
      }));

    it("registers members at the directory's next index, lists them oldest first (not by id)", () =>
      withStore(async ({ discovery }) => {
        const token = newToken();
        await discovery.createDirectory(token, 3, new Date());
        assert.deepEqual(await discovery.addMember(token, "b", "m2=http://127.0.0.1:2382", 10), {
          outcome: "created",
          member: { id: "b", value: "m2=http://127.0.0.1:2382", createdIndex: 2 },
          index: 2,
        });
        assert.deepEqual(await discovery.addMember(token, "a", "m1=http://127.0.0.1:2381", 10), {
          outcome: "created",
          member: { id: "a", value: "m1=http://127.0.0.1:2381", createdIndex: 3 },
          index: 3,
        });
        const snap = await discovery.listMembers(token);
        assert.equal(snap?.directory.index, 3);
        assert.deepEqual(snap?.members, [
          { id: "b", value: "m2=http://127.0.0.1:2382", createdIndex: 2 },
          { id: "a", value: "m1=http://127.0.0.1:2381", createdIndex: 3 },
        ]);
        assert.equal((await discovery.getDirectory(token))?.index, 3);
      }));

    it("answers 'exists' with the first registration for an id registered before, changing nothing", () =>
      withStore(async ({ discovery }) => {
        const token = newToken();
        await discovery.createDirectory(token, 3, new Date());
        await discovery.addMember(token, "8e9e05c52164694d", "m1=http://127.0.0.1:2380", 10);
        await discovery.addMember(token, "1f", "m2=http://127.0.0.1:2381", 10);
        assert.deepEqual(await discovery.addMember(token, "8e9e05c52164694d", "m1=http://127.0.0.1:9999", 10), {
          outcome: "exists",
          member: { id: "8e9e05c52164694d", value: "m1=http://127.0.0.1:2380", createdIndex: 2 },
          index: 3,
        });
        const snap = await discovery.listMembers(token);
        assert.equal(snap?.directory.index, 3);
        assert.deepEqual(snap?.members.map((m) => m.value), ["m1=http://127.0.0.1:2380", "m2=http://127.0.0.1:2381"]);
      }));

    it("answers 'full' once maxMembers are registered (an id already there is still 'exists')", () =>
      withStore(async ({ discovery }) => {
        const token = newToken();
        await discovery.createDirectory(token, 1, new Date());
        assert.equal((await discovery.addMember(token, "1", "m1=http://h:1", 2)).outcome, "created");
        assert.equal((await discovery.addMember(token, "2", "m2=http://h:2", 2)).outcome, "created");
        assert.deepEqual(await discovery.addMember(token, "3", "m3=http://h:3", 2), { outcome: "full", index: 3 });
        assert.equal((await discovery.addMember(token, "1", "again=http://h:1", 2)).outcome, "exists");
        // the limit is the caller's: a larger one lets the next member in
        assert.equal((await discovery.addMember(token, "3", "m3=http://h:3", 3)).outcome, "created");
        const snap = await discovery.listMembers(token);
        assert.equal(snap?.directory.index, 4);
        assert.deepEqual(snap?.members.map((m) => m.id), ["1", "2", "3"]);
      }));

    it("answers 'missing' for a directory that does not exist, and creates none", () =>
      withStore(async ({ discovery }) => {
        const token = newToken();
        assert.deepEqual(await discovery.addMember(token, "0", "x=http://h", 100), { outcome: "missing" });
        assert.equal(await discovery.getDirectory(token), undefined);
      }));

    it("two connections registering at once never hand out the same index", () =>
      withStore(async ({ discovery, other }) => {
        const token = newToken();
        await discovery.createDirectory(token, 3, new Date());
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? discovery : other).addMember(token, i.toString(16), `m${i}=http://h:${i}`, 100)),
        );
        const indexes = createdIndexes(results);
        assert.deepEqual(indexes, Array.from({ length: 20 }, (_, i) => i + 2));
        const snap = await other.listMembers(token);
        assert.equal(snap?.directory.index, 21);
        assert.deepEqual(snap?.members.map((m) => m.createdIndex), indexes);
        for (const r of results) {
          assert.equal(r.outcome, "created");
          if (r.outcome === "created") assert.ok(snap?.members.some((m) => m.id === r.member.id && m.value === r.member.value && m.createdIndex === r.index));
        }
        const dup = await discovery.addMember(token, "0", "other=http://h:1", 100);
        assert.equal(dup.outcome, "exists");
        assert.equal(dup.outcome === "exists" && dup.member.value, "m0=http://h:0");
      }));

    it("racing for the last places: exactly maxMembers are registered, the others are told 'full'", () =>
      withStore(async ({ discovery, other }) => {
        const token = newToken();
        await discovery.createDirectory(token, 3, new Date());
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => (i % 2 ? discovery : other).addMember(token, (i + 1).toString(16), `m${i}=http://h:${i}`, 5)),
        );
        assert.equal(results.filter((r) => r.outcome === "created").length, 5);
        assert.equal(results.filter((r) => r.outcome === "full").length, 7);
        assert.deepEqual(createdIndexes(results).filter((i) => i > 0), [2, 3, 4, 5, 6]);
        const snap = await discovery.listMembers(token);
        assert.equal(snap?.directory.index, 6);
        assert.equal(snap?.members.length, 5);
      }));

    it("racing registrations of one id: one is created, the others see it 'exists'", () =>
      withStore(async ({ discovery, other }) => {
        const token = newToken();
        await discovery.createDirectory(token, 3, new Date());
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 ? discovery : other).addMember(token, "abc", `m${i}=http://h:${i}`, 10)),
        );
        const created = results.filter((r) => r.outcome === "created");
        assert.equal(created.length, 1);
        const winner = created[0].outcome === "created" ? created[0].member : undefined;
        for (const r of results.filter((x) => x.outcome !== "created")) assert.deepEqual(r, { outcome: "exists", member: winner, index: 2 });
        assert.deepEqual((await other.listMembers(token))?.members, [winner]);
      }));
  });
}
