// A credential rotation's end in the worker, on the embedded stores with a stand-in Heat (a
// stack update that fails on demand cannot be made on the dev cloud; the whole rotation against
// the real Keystone and Heat is in test/e2e/keystone-auth.test.ts): the trustee the stack ends
// with is the bay's, the other one is removed from Keystone; one Keystone keeps is kept on the
// bay and removed with it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { updateBayStack } from "../../functions/worker/steps/update-bay.ts";
import { pollBay } from "../../functions/worker/steps/poll-bay.ts";
import { finishDelete } from "../../functions/worker/steps/delete-bay.ts";
import { planRotation } from "../../shared/domain/bay-update.ts";
import type { Bay, TrusteeRecord } from "../../shared/domain/model.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import { stepDeps, storedBay } from "../support/worker-deps.ts";
import { StandinHeat, stackOf } from "../support/standin-heat.ts";
import { ApiError } from "../../shared/domain/errors.ts";

let dir: string;
let stores: LocalStores;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "bf-rotate-"));
  stores = openLocalStores(dir);
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

const trustee = (n: string): TrusteeRecord => ({ user_id: `user-${n}`, username: `bay-x-${n}`, domain_id: "d", password_encrypted: `enc-${n}`, trust_id: `trust-${n}` });
const vault = { encrypt: async (s: string) => `enc-${s}`, decrypt: async (s: string) => s.replace(/^enc-/, "pw-") } as unknown as WorkerDeps["vault"];

/** A complete bay with trustee `old`, rotating to `fresh` (already made: the update records it); Heat ends with `ending`, holding `holds` as its trustee. */
async function rotated(name: string, o: { ending: string; holds: "old" | "new"; keystoneKeeps?: boolean }) {
  const complete = await storedBay(stores.table, name, { status: "CREATE_COMPLETE", stack_id: `stack-${name}`, trust_id: "trust-to-bayforge", trustee: trustee("old") });
  const update = { ...planRotation(complete, { now: new Date(), requestId: "r" }), trustee: trustee("new") };
  const bay = await stores.table.updateBay({ ...complete, status: "UPDATE_IN_PROGRESS", update, version: complete.version + 1 }, complete.version);
  let updated = false;
  const heat = new StandinHeat({
    getStack: async (n, id) =>
      updated
        ? stackOf(n, id, o.ending, `Stack UPDATE ${o.ending.endsWith("COMPLETE") ? "completed successfully" : "failed"}`, { parameters: { number_of_minions: "1", trustee_user_id: `user-${o.holds}` } })
        : stackOf(n, id, "CREATE_COMPLETE", null, { parameters: { number_of_minions: "1", trustee_user_id: "user-old" } }),
    updateStack: async () => void (updated = true),
  });
  const released: string[] = [];
  const deps = stepDeps({
    table: stores.table,
    queue: stores.queue,
    heatFor: () => heat,
    vault,
    releaseCredentials: async (b: Bay, r) => {
      const all = [b.trust_id, b.trustee?.user_id, ...(r.rotated ? [b.update?.trustee?.user_id, ...(b.update?.trustees_left ?? []).map((t) => t.user_id)] : [])].filter((x): x is string => !!x);
      if (o.keystoneKeeps) return all.map((x) => `user ${x}`);
      released.push(...all);
      return [];
    },
  });
  const msg = { v: 1 as const, kind: "bay.update" as const, bayId: bay.uuid, projectId: "p", requestId: "r", attempt: 0 };
  await updateBayStack(msg, deps);
  await pollBay({ ...msg, kind: "bay.poll", seq: (await stores.table.getBay(bay.uuid))!.poll_seq }, deps);
  return { heat, released, deps, bay: (await stores.table.getBay(bay.uuid))! };
}

describe("credential rotation in the worker (stand-in Heat, embedded stores)", () => {
  it("sends only the trustee's parameters, the new password decrypted; on success the new trustee is the bay's and the old one removed", async () => {
    const { heat, released, bay } = await rotated("adopted", { ending: "UPDATE_COMPLETE", holds: "new" });
    assert.equal(heat.updated.length, 1);
    assert.deepEqual(heat.updated[0].request.parameters, { trustee_domain_id: "d", trustee_user_id: "user-new", trustee_username: "bay-x-new", trustee_password: "pw-new", trust_id: "trust-new" });
    assert.equal(bay.status, "UPDATE_COMPLETE");
    assert.equal(bay.trustee?.user_id, "user-new");
    assert.equal(bay.trust_id, "trust-to-bayforge", "the trust to Bayforge stays");
    assert.deepEqual(released, ["user-old"], "the old trustee (its trust with it) removed, nothing else");
    assert.equal(bay.update?.trustee, null);
  });

  it("a failed update that left the stack on the old trustee: the bay keeps it, the new one is removed", async () => {
    const { released, bay } = await rotated("kept", { ending: "UPDATE_FAILED", holds: "old" });
    assert.equal(bay.status, "UPDATE_FAILED");
    assert.equal(bay.trustee?.user_id, "user-old");
    assert.deepEqual(released, ["user-new"]);
  });

  it("a failed update that stored the new trustee all the same: the new one is the bay's", async () => {
    const { released, bay } = await rotated("stored", { ending: "UPDATE_FAILED", holds: "new" });
    assert.equal(bay.trustee?.user_id, "user-new");
    assert.deepEqual(released, ["user-old"]);
  });

  it("an old trustee Keystone keeps is kept on the bay, and the bay's delete removes it", async () => {
    const { bay, deps } = await rotated("keeps", { ending: "UPDATE_COMPLETE", holds: "new", keystoneKeeps: true });
    assert.deepEqual(bay.update?.trustees_left?.map((t) => t.user_id), ["user-old"]);
    const events = await stores.table.listEvents(bay.uuid);
    assert.match(events.at(-1)!.detail, /bay-x-old could not be removed from Keystone yet/);
    const removed: Array<string | undefined> = [];
    const deleting = (await stores.table.updateBay({ ...bay, status: "DELETE_IN_PROGRESS", version: bay.version + 1 }, bay.version))!;
    await finishDelete({ ...deps, releaseCredentials: async (b, r) => (removed.push(b.trustee?.user_id, ...(r.rotated ? (b.update?.trustees_left ?? []).map((t) => t.user_id) : [])), []) }, deleting);
    assert.deepEqual(removed, ["user-new", "user-old"]);
    assert.equal(await stores.table.getBay(bay.uuid), undefined);
  });
});

describe("planRotation: which bays may rotate", () => {
  const rejects = (f: () => unknown, status: number, re: RegExp) => assert.throws(f, (e) => e instanceof ApiError && e.status === status && re.test(e.message));
  it("refuses a bay in progress (409), one that failed to create (400, Magnum's wording), one without a trustee (400)", async () => {
    const base = await storedBay(stores.table, "rules", { status: "CREATE_COMPLETE", trust_id: "t", trustee: trustee("a") });
    const at = { now: new Date(), requestId: "r" };
    rejects(() => planRotation({ ...base, status: "UPDATE_IN_PROGRESS" }, at), 409, /UPDATE_IN_PROGRESS/);
    rejects(() => planRotation({ ...base, status: "CREATE_FAILED" }, at), 400, /Credential rotation when cluster status is "CREATE_FAILED" is not supported/);
    rejects(() => planRotation({ ...base, trustee: null }, at), 400, /no trustee credential to rotate/);
    for (const status of ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_FAILED", "ROLLBACK_COMPLETE"] as const) assert.equal(planRotation({ ...base, status }, at).rotate_credentials, true);
  });
  it("carries the trustees an earlier rotation left, so the bay's delete still removes them", async () => {
    const base = await storedBay(stores.table, "carry", { status: "UPDATE_FAILED", trust_id: "t", trustee: trustee("a") });
    const left = planRotation({ ...base, update: { ...planRotation({ ...base, status: "CREATE_COMPLETE" }, { now: new Date(), requestId: "r" }), trustee: trustee("b"), trustees_left: [trustee("c")] } }, { now: new Date(), requestId: "r2" });
    assert.deepEqual(left.trustees_left?.map((t) => t.user_id), ["user-c", "user-b"]);
  });
});
