// A cluster update asked with ?rollback=True (API 1.3+): the worker asks Heat to roll a failed
// update back (disable_rollback: false), and when Heat has (ROLLBACK_COMPLETE) the cluster shows
// it as Magnum does, with the node count the stack really has again; it can then be updated
// again. Without the flag a rollback (Heat's own setting) is a failed update. Stand-in Heat
// (a failing update cannot be made on demand on the dev cloud); the embedded stores are real.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { updateBayStack } from "../../functions/worker/steps/update-bay.ts";
import { pollBay } from "../../functions/worker/steps/poll-bay.ts";
import { planScale } from "../../shared/domain/bay-update.ts";
import { canTransition } from "../../shared/domain/status.ts";
import { stepDeps, storedBay } from "../support/worker-deps.ts";
import { StandinHeat, stackOf } from "../support/standin-heat.ts";

let dir: string;
let stores: LocalStores;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "bf-rollback-"));
  stores = openLocalStores(dir);
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A 2-minion bay being scaled to 4; Heat's stack then ends with `ending` (2 minions again). */
async function scaled(name: string, rollback: boolean, ending: string) {
  const complete = await storedBay(stores.table, name, { status: "CREATE_COMPLETE", stack_id: `stack-${name}`, node_count: 2 });
  const update = planScale(complete, { node_count: 4, nodes_to_remove: [], rollback }, { now: new Date(), requestId: "r" });
  const bay = (await stores.table.updateBay({ ...complete, status: "UPDATE_IN_PROGRESS", node_count: 4, update, version: complete.version + 1 }, complete.version))!;
  let updated = false;
  const heat = new StandinHeat({
    getStack: async (n, id) => (updated ? stackOf(n, id, ending, `Stack ${ending.split("_")[0]} completed`, { parameters: { number_of_minions: "2" } }) : stackOf(n, id, "CREATE_COMPLETE", null, { parameters: { number_of_minions: "2" } })),
    updateStack: async () => void (updated = true),
  });
  const deps = stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat });
  const msg = { v: 1 as const, kind: "bay.update" as const, bayId: bay.uuid, projectId: "p", requestId: "r", attempt: 0 };
  await updateBayStack(msg, deps);
  const polling = (await stores.table.getBay(bay.uuid))!;
  await pollBay({ ...msg, kind: "bay.poll", seq: polling.poll_seq }, deps);
  return { heat, bay: (await stores.table.getBay(bay.uuid))! };
}

describe("cluster update with ?rollback=True (stand-in Heat)", () => {
  it("asks Heat to roll a failed update back, and ends ROLLBACK_COMPLETE with the stack's node count", async () => {
    const { heat, bay } = await scaled("rolled", true, "ROLLBACK_COMPLETE");
    assert.equal(heat.updated.length, 1);
    assert.equal(heat.updated[0].request.disable_rollback, false, "Heat may roll the update back");
    assert.equal(bay.status, "ROLLBACK_COMPLETE");
    assert.equal(bay.node_count, 2, "the node count the stack has again");
    assert.ok(canTransition(bay.status, "UPDATE_IN_PROGRESS"), "and it can be updated again, as in Magnum");
  });

  it("without it Heat keeps its own setting, and a rollback is a failed update", async () => {
    const { heat, bay } = await scaled("plain", false, "ROLLBACK_COMPLETE");
    assert.equal(heat.updated[0].request.disable_rollback, undefined);
    assert.equal(bay.status, "UPDATE_FAILED");
  });
});
