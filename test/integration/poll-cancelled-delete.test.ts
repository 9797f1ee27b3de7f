// A delete whose request was retried after a lost answer: Heat (convergence) marks the running
// delete DELETE_FAILED "Stack DELETE cancelled" and starts the new one seconds later. The bay
// must not be reported DELETE_FAILED in that window (CI saw exactly that under the fault proxy).
// Stand-in Heat replaying the statuses, because the window cannot be hit on demand on the real
// one; the bay table is the real embedded store.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { pollBay } from "../../functions/worker/steps/poll-bay.ts";
import { followPolls, storedBay } from "../support/worker-deps.ts";
import { StandinHeat, stackOf } from "../support/standin-heat.ts";

let dir: string;
let stores: LocalStores;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-poll-cancel-"));
  stores = openLocalStores(dir);
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A Heat that answers getStack from a script of statuses (undefined = the stack is gone); the last one repeats. */
const scriptedHeat = (statuses: Array<[string, string] | undefined>) =>
  new StandinHeat({
    getStack: async (name, id, n) => {
      const s = statuses[Math.min(n, statuses.length) - 1];
      return s && stackOf(name, id, s[0], s[1], { parameters: { number_of_minions: "1" } });
    },
  });

const deletingBay = (name: string) => storedBay(stores.table, name, { status: "DELETE_IN_PROGRESS", stack_id: `stack-${name}`, deadline_at: null });

/** Runs the bay's poll chain the way the queue would, until no next poll is sent. */
async function pollToEnd(bayId: string, heat: StandinHeat) {
  const { handled: polls } = await followPolls(bayId, pollBay, { table: stores.table, heatFor: () => heat, pollDelays: [1], retryDelays: [1] }, 20);
  return { polls, bay: await stores.table.getBay(bayId), deletes: heat.deleted };
}

describe("delete poll over Heat's cancelled-delete window (stand-in Heat)", () => {
  it("a delete Heat cancelled for a newer one is not a failure: the bay goes on to be deleted", async () => {
    const bay = await deletingBay("superseded");
    const heat = scriptedHeat([["DELETE_FAILED", "Stack DELETE cancelled"], ["DELETE_IN_PROGRESS", "Stack DELETE started"], undefined]);
    const { bay: after, deletes } = await pollToEnd(bay.uuid, heat);
    assert.equal(after, undefined, "the bay is deleted");
    assert.equal(deletes.length, 0, "the newer delete was running: nothing sent again");
  });

  it("still cancelled a poll later: the delete is sent again, and the bay is deleted when Heat does it", async () => {
    const bay = await deletingBay("resent");
    const cancelled: [string, string] = ["DELETE_FAILED", "Stack DELETE cancelled"];
    const heat = scriptedHeat([cancelled, cancelled, ["DELETE_IN_PROGRESS", "Stack DELETE started"], undefined]);
    const { bay: after, deletes } = await pollToEnd(bay.uuid, heat);
    assert.equal(after, undefined);
    assert.deepEqual(deletes, [`stack-resent`]);
  });

  it("cancelled for good: a few deletes sent again, then DELETE_FAILED with Heat's reason, not polled forever", async () => {
    const bay = await deletingBay("stuck");
    const heat = scriptedHeat([["DELETE_FAILED", "Stack DELETE cancelled"]]);
    const { bay: after, polls, deletes } = await pollToEnd(bay.uuid, heat);
    assert.equal(after?.status, "DELETE_FAILED");
    assert.equal(after?.status_reason, "Stack DELETE cancelled");
    assert.equal(deletes.length, 3);
    assert.ok(polls <= 6, `${polls} polls`);
  });

  it("any other DELETE_FAILED ends the delete at once, with Heat's reason", async () => {
    const bay = await deletingBay("failed");
    const heat = scriptedHeat([["DELETE_FAILED", "Resource DELETE failed: Conflict: port in use"]]);
    const { bay: after, polls, deletes } = await pollToEnd(bay.uuid, heat);
    assert.equal(after?.status, "DELETE_FAILED");
    assert.match(after?.status_reason ?? "", /port in use/);
    assert.equal(polls, 1);
    assert.equal(deletes.length, 0);
  });
});
