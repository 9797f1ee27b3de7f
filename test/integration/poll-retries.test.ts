// A Heat whose reads fail for longer than the retry budget while the stack goes on (CI saw
// Heat answer 500 "ResourcePropertiesData ... not found" for a stack mid-create for longer than
// 2+4+8 s): the poll of a create keeps trying until the bay's deadline, and the bay completes
// with the stack; past the deadline, or for a delete (no deadline), the bay fails with the
// reason. Past the budget a poll waits at least the poll interval, and at least 1 s, whatever
// the retry delays say. Stand-in Heat scripting the failures (the real one cannot be made to
// fail on demand); the bay table is the real embedded store.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { handleMessage } from "../../functions/worker/handle-message.ts";
import { OrchestratorError } from "../../shared/ports/orchestrator.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import { followPolls, storedBay } from "../support/worker-deps.ts";
import { StandinHeat, stackOf } from "../support/standin-heat.ts";

let dir: string;
let stores: LocalStores;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "bf-poll-retry-"));
  stores = openLocalStores(dir);
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

/** getStack fails (500) `failures` times, then answers `status` (undefined: the stack is gone). */
const failingHeat = (failures: number, status: string | undefined) =>
  new StandinHeat({
    getStack: async (name, id, n) => {
      if (n <= failures) throw new OrchestratorError("ResourcePropertiesData with id {} not found", 500, true);
      return status ? stackOf(name, id, status, `Stack ${status}`) : undefined;
    },
  });

const bayIn = (name: string, status: "CREATE_IN_PROGRESS" | "DELETE_IN_PROGRESS", deadlineInMs: number | null) =>
  storedBay(stores.table, name, { status, stack_id: `stack-${name}`, deadline_at: deadlineInMs === null ? null : new Date(Date.now() + deadlineInMs).toISOString() });

/** Handles the bay's messages as the queue would deliver them, until none is sent. */
async function run(bayId: string, heat: StandinHeat, delays: Pick<WorkerDeps, "retryDelays" | "pollDelays"> = { retryDelays: [2, 4, 8], pollDelays: [1] }) {
  const chain = await followPolls(bayId, handleMessage, { table: stores.table, heatFor: () => heat, ...delays });
  assert.equal(heat.created.length + heat.deleted.length + heat.updated.length, 0, "a poll only reads");
  return { ...chain, bay: await stores.table.getBay(bayId) };
}

describe("poll retries (stand-in Heat failing reads)", () => {
  it("a create's poll outlasts the retry budget while the deadline is ahead, and the bay completes", async () => {
    const bay = await bayIn("outlasts", "CREATE_IN_PROGRESS", 60 * 60_000);
    const { bay: after, handled, delays } = await run(bay.uuid, failingHeat(7, "CREATE_COMPLETE"));
    assert.equal(after?.status, "CREATE_COMPLETE", after?.status_reason ?? "");
    assert.equal(handled, 8, "7 failed reads retried, then the read that saw it complete");
    assert.deepEqual(delays, [2, 4, 8, 8, 8, 8, 8], "the retry delays, then the last one until the deadline");
  });

  it("past the budget a poll waits the poll interval when the retry delays are shorter (BAYFORGE_RETRY_DELAYS ending in 0)", async () => {
    const bay = await bayIn("floor-poll", "CREATE_IN_PROGRESS", 60 * 60_000);
    const { bay: after, delays } = await run(bay.uuid, failingHeat(5, "CREATE_COMPLETE"), { retryDelays: [0, 0], pollDelays: [3, 5] });
    assert.equal(after?.status, "CREATE_COMPLETE", after?.status_reason ?? "");
    assert.deepEqual(delays, [0, 0, 5, 5, 5], "within the budget the retry delays as given; past it the longest poll interval, not 0");
  });

  it("past the budget a poll waits at least 1 s, even when the poll interval is 0 too", async () => {
    const bay = await bayIn("floor-one", "CREATE_IN_PROGRESS", 60 * 60_000);
    const { bay: after, delays } = await run(bay.uuid, failingHeat(3, "CREATE_COMPLETE"), { retryDelays: [0], pollDelays: [0] });
    assert.equal(after?.status, "CREATE_COMPLETE", after?.status_reason ?? "");
    assert.deepEqual(delays, [0, 1, 1]);
  });

  it("past the deadline the bay fails with Heat's reason", async () => {
    const bay = await bayIn("overdue", "CREATE_IN_PROGRESS", -1_000);
    const { bay: after } = await run(bay.uuid, failingHeat(100, "CREATE_COMPLETE"));
    assert.equal(after?.status, "CREATE_FAILED");
    assert.match(after?.status_reason ?? "", /kept failing after 4 attempts: ResourcePropertiesData/);
  });

  it("a delete's poll (no deadline) gives up after the retry budget, DELETE_FAILED with the reason", async () => {
    const bay = await bayIn("deleting", "DELETE_IN_PROGRESS", null);
    const { bay: after, handled, delays } = await run(bay.uuid, failingHeat(100, undefined));
    assert.equal(after?.status, "DELETE_FAILED");
    assert.match(after?.status_reason ?? "", /kept failing after 4 attempts/);
    assert.equal(handled, 4);
    assert.deepEqual(delays, [2, 4, 8]);
  });
});
