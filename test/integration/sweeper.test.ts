// The sweeper on the embedded stores: a bay whose step message was lost gets it again; a bay
// whose message is merely waiting in a backlog (a large batch) does not get a second one.
import { describe, it, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { sweep, CREATE_STALL_MS, pollStallMs } from "../../functions/worker/sweeper.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import { stepDeps, storedBay } from "../support/worker-deps.ts";

let dir: string;
let stores: LocalStores;
let deps: WorkerDeps;
let clock = Date.now();

// fresh stores per test: a bay of one test must not be swept in the next
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-sweeper-"));
  stores = openLocalStores(dir);
  deps = stepDeps({ table: stores.table, queue: stores.queue, pollDelays: [5], now: () => new Date(clock) }); // the sweeper never calls Heat
});
afterEach(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

const acceptedBay = (name: string) => storedBay(stores.table, name, {}, new Date(clock));

/** Every message in the queue, taken off it (so each test starts from an empty queue). */
async function drain() {
  const out = [];
  for (let got = await stores.queue.receive(10, 60); got.length; got = await stores.queue.receive(10, 60)) {
    for (const m of got) {
      out.push(m.body);
      await stores.queue.delete(m.receipt);
    }
  }
  return out;
}

describe("sweeper (embedded stores)", () => {
  it("re-sends the create of a bay whose message was lost, once per stall", async () => {
    const bay = await acceptedBay("lost");
    clock += CREATE_STALL_MS + 1_000;
    assert.equal(await sweep(deps), 1);
    const sent = await drain();
    assert.deepEqual(sent.map((m) => [m.kind, m.bayId]), [["bay.create", bay.uuid]]);
    assert.equal(await sweep(deps), 0, "the bay was touched: the next sweep gives the step time to run");
  });

  it("leaves a bay alone while its message still waits in the queue, however long", async () => {
    const bay = await acceptedBay("backlogged");
    await stores.queue.send({ v: 1, kind: "bay.create", bayId: bay.uuid, projectId: "p", requestId: "r", attempt: 0 });
    clock += 3 * CREATE_STALL_MS;
    assert.equal(await sweep(deps), 0);
    const sent = await drain();
    assert.equal(sent.length, 1, "only the original message");
    // once that message is gone without moving the bay, the next sweep re-sends
    assert.equal(await sweep(deps), 1);
    assert.deepEqual((await drain()).map((m) => m.bayId), [bay.uuid]);
  });

  it("re-sends an upgrade's rollout step (not a stack update) when its look was lost, with the bay's poll seq", async () => {
    const bay = await storedBay(stores.table, "upgrading", { status: "UPDATE_IN_PROGRESS", stack_id: "s", poll_seq: 7, upgrade: { finished_at: null } as never }, new Date(clock));
    clock += pollStallMs(deps) + 1_000;
    assert.equal(await sweep(deps), 1);
    const sent = await drain();
    assert.deepEqual(sent.map((m) => [m.kind, m.bayId, m.seq]), [["bay.upgrade", bay.uuid, 7]]);
  });
});
