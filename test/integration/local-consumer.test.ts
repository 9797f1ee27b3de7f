// The embedded worker loop on the real SQLite queue: a step that takes longer than the
// visibility timeout (a slow cloud) is not handed out again while its worker is alive, so it
// is neither run twice at once nor dead-lettered while it runs.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { startLocalWorker } from "../../functions/worker/local-consumer.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import { stepDeps } from "../support/worker-deps.ts";

let dir: string;
let stores: LocalStores;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "bf-consumer-"));
  stores = openLocalStores(dir, { queue: { maxReceives: 2 } });
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("local worker loop", () => {
  it("keeps a message hidden while its step runs past the visibility timeout: one run, no dead letter", async () => {
    let runs = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    // bay.create starts by reading the bay: here that read takes 3.5 s (3.5 visibility timeouts)
    const table = new Proxy(stores.table, {
      get: (t, k) =>
        k === "getBay"
          ? async () => {
              runs++;
              await new Promise((r) => setTimeout(r, 3_500));
              done();
              return undefined; // the bay is gone: the step ends
            }
          : Reflect.get(t, k),
    }) as BayTable;
    await stores.queue.send({ v: 1, kind: "bay.create", bayId: "slow-bay", projectId: "p", requestId: "r", attempt: 0 });
    const worker = startLocalWorker(stores.queue, stepDeps({ table, queue: stores.queue }), { concurrency: 4, visibilitySeconds: 1, idleMs: 50, sweepEveryMs: 3_600_000 });
    await finished;
    await new Promise((r) => setTimeout(r, 1_500)); // time for a redelivery, were there one
    await worker.stop();
    assert.equal(runs, 1, "the step ran once");
    const stats = await stores.queue.stats();
    assert.deepEqual([stats.visible, stats.inFlight, stats.delayed, stats.deadLetters], [0, 0, 0, 0], "deleted once done, never dead-lettered");
  });

  it("receives what its own process sends when it is due, not at its next idle poll (an hour away here)", async () => {
    const handled: string[] = [];
    let all!: () => void;
    const bothHandled = new Promise<void>((r) => (all = r));
    const table = new Proxy(stores.table, {
      get: (t, k) =>
        k === "getBay"
          ? async (id: string) => {
              handled.push(id);
              if (handled.length === 2) all();
              return undefined;
            }
          : Reflect.get(t, k),
    }) as BayTable;
    const worker = startLocalWorker(stores.queue, stepDeps({ table, queue: stores.queue }), { concurrency: 4, visibilitySeconds: 30, idleMs: 3_600_000, sweepEveryMs: 3_600_000 });
    try {
      await new Promise((r) => setImmediate(r)); // the loop's first (empty) receive; it sleeps now
      await stores.queue.send({ v: 1, kind: "bay.create", bayId: "now-bay", projectId: "p", requestId: "r", attempt: 0 });
      await stores.queue.send({ v: 1, kind: "bay.create", bayId: "later-bay", projectId: "p", requestId: "r", attempt: 0 }, { delaySeconds: 1 });
      // bounded: without the wake-ups this waits for the hour-long idle poll, and the test fails
      const outcome = await Promise.race([bothHandled.then(() => "handled"), new Promise((r) => setTimeout(r, 60_000).unref()).then(() => "waited a minute")]);
      assert.equal(outcome, "handled");
      assert.deepEqual(handled, ["now-bay", "later-bay"], "each when due, the delayed one after the other");
    } finally {
      await worker.stop();
    }
  });
});
