// Near a create's expected end (as the learned poll schedule knows it) a poll's delivery
// watches the stack in-process, a look a second, so the bay shows Heat's CREATE_COMPLETE
// without a queue delay stretched by Heat's answer time each step; elsewhere it hands the next
// look to the queue. Stand-in Heat replaying statuses (the end cannot be timed on the real
// one); the bay table is the real embedded store.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { pollBay } from "../../functions/worker/steps/poll-bay.ts";
import { PollSchedule } from "../../functions/worker/poll-schedule.ts";
import type { WorkMessage, WorkQueue } from "../../shared/ports/work-queue.ts";
import { stepDeps, storedBay } from "../support/worker-deps.ts";
import { StandinHeat, stackOf } from "../support/standin-heat.ts";

let dir: string;
let stores: LocalStores;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "bf-poll-watch-"));
  stores = openLocalStores(dir);
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Heat whose stack is in progress for `reads` reads, then complete; `outputs` says what each read asked for. */
const endingHeat = (reads: number) => {
  const outputs: boolean[] = [];
  const heat = new StandinHeat({
    getStack: async (name, id, n, o) => {
      outputs.push(o?.outputs !== false);
      return stackOf(name, id, n > reads ? "CREATE_COMPLETE" : "CREATE_IN_PROGRESS", n > reads ? "Stack CREATE completed successfully" : null);
    },
  });
  return Object.assign(heat, { outputs });
};

/** A schedule that has seen 1+1 creates end 19.5 s after they were accepted. */
function learned(): PollSchedule {
  const s = new PollSchedule([5, 3, 3, 5]);
  s.learn(PollSchedule.createKey(1, 1), 20, 19);
  return s;
}

async function pollOnce(name: string, acceptedSecondsAgo: number, heat: StandinHeat, schedule = learned()) {
  const bay = await storedBay(stores.table, name, { status: "CREATE_IN_PROGRESS", stack_id: `stack-${name}`, master_count: 1, node_count: 1 }, new Date(Date.now() - acceptedSecondsAgo * 1000));
  const sent: Array<{ m: WorkMessage; delay?: number }> = [];
  const queue = { send: async (m: WorkMessage, o?: { delaySeconds?: number }) => void sent.push({ m, delay: o?.delaySeconds }) } as WorkQueue;
  const deps = stepDeps({ table: stores.table, queue, heatFor: () => heat, pollSchedule: schedule });
  await pollBay({ v: 1, kind: "bay.poll", bayId: bay.uuid, projectId: "p", requestId: "r", attempt: 0, seq: 0 }, deps);
  return { sent, bay: await stores.table.getBay(bay.uuid) };
}

describe("a poll near a create's expected end (stand-in Heat)", () => {
  it("watches in-process until Heat says CREATE_COMPLETE: one delivery, nothing queued", async () => {
    const heat = endingHeat(2);
    const { sent, bay } = await pollOnce("near", 18.5, heat);
    assert.equal(bay?.status, "CREATE_COMPLETE");
    assert.deepEqual(heat.outputs, [false, false, false, true], "two status looks in progress, the third complete, then one read of the outputs");
    assert.deepEqual(sent, [], "no next poll was queued");
  });

  it("far from the expected end, it looks once and queues the next look", async () => {
    const heat = endingHeat(3);
    const { sent, bay } = await pollOnce("far", 5, heat);
    assert.equal(bay?.status, "CREATE_IN_PROGRESS");
    assert.equal(heat.reads, 1);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].m.seq, 1);
    assert.ok((sent[0].delay ?? 0) >= 1, `queued for later: ${sent[0].delay} s`);
  });

  it("a few deliveries watch at once (each holds a worker slot): past that, the queue, and a place is given back", async () => {
    const schedule = learned();
    assert.ok(schedule.startWatch() && schedule.startWatch(), "two places, both taken");
    const heat = endingHeat(2);
    const { sent, bay } = await pollOnce("busy", 18.5, heat, schedule);
    assert.equal(heat.reads, 1, "no place left: one look");
    assert.equal(sent.length, 1, "the next one queued");
    assert.equal(bay?.status, "CREATE_IN_PROGRESS");
    schedule.endWatch();
    const again = endingHeat(1);
    assert.equal((await pollOnce("freed", 18.5, again, schedule)).bay?.status, "CREATE_COMPLETE", "a freed place is used");
    assert.ok(schedule.startWatch(), "and given back when that watch ended");
  });

  it("a stack that runs past the window goes back to the queue after a bounded number of looks", async () => {
    const heat = endingHeat(1000);
    const { sent, bay } = await pollOnce("overrun", 21, heat);
    assert.equal(bay?.status, "CREATE_IN_PROGRESS");
    assert.ok(heat.reads >= 2 && heat.reads <= 8, `${heat.reads} looks in one delivery`);
    assert.equal(sent.length, 1, "then one next poll queued");
  });
});
