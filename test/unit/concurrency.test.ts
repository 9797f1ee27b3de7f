// shared/concurrency.ts, the one bounded-parallelism loop (SQS batches, the batch fan-out,
// DynamoDB batch writes). Calls are held on promises the test resolves itself, so what runs
// at once is counted, not timed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mapLimit } from "../../shared/concurrency.ts";

/** A call the test ends when it chooses. */
interface Held {
  item: number;
  end(value?: string, error?: Error): void;
}

/** mapLimit over `items` whose calls wait for the test; `started` lists the calls in flight or done. */
function heldRun(items: number[], limit: number) {
  const started: Held[] = [];
  let running = 0;
  let most = 0;
  const done = mapLimit(items, limit, (item) => {
    most = Math.max(most, ++running);
    return new Promise<string>((resolve, reject) => {
      started.push({
        item,
        end: (value = `r${item}`, error) => {
          running--;
          if (error) reject(error);
          else resolve(value);
        },
      });
    });
  });
  return { started, done, most: () => most, running: () => running };
}

/** Lets the lanes take their next item (a few microtask turns). */
const settle = () => new Promise((r) => setImmediate(r));

describe("mapLimit", () => {
  it("starts at most `limit` calls, the next one as each ends, in the items' order; results in the items' order", async () => {
    const run = heldRun([0, 1, 2, 3, 4, 5, 6], 3);
    await settle();
    assert.deepEqual(run.started.map((h) => h.item), [0, 1, 2]);
    run.started[1].end();
    await settle();
    assert.deepEqual(run.started.map((h) => h.item), [0, 1, 2, 3]);
    // end the others, the latest started first, until all seven have run
    const ended = new Set([1]);
    while (ended.size < 7) {
      const latest = [...run.started].reverse().find((h) => !ended.has(h.item))!;
      ended.add(latest.item);
      latest.end();
      await settle();
      assert.ok(run.running() <= 3, `${run.running()} running`);
    }
    assert.deepEqual(await run.done, ["r0", "r1", "r2", "r3", "r4", "r5", "r6"]);
    assert.equal(run.most(), 3);
  });

  it("runs everything at once when the limit is above the count, and answers [] for no items", async () => {
    const run = heldRun([0, 1], 8);
    await settle();
    assert.equal(run.started.length, 2);
    for (const h of run.started) h.end();
    assert.deepEqual(await run.done, ["r0", "r1"]);
    assert.deepEqual(await mapLimit([], 4, async () => assert.fail("no call for no items")), []);
  });

  it("after a call throws starts no other, and throws the first error once the calls in flight have ended", async () => {
    const run = heldRun([0, 1, 2, 3, 4, 5], 2);
    let rejected: unknown;
    run.done.catch((e) => (rejected = e));
    await settle();
    run.started[0].end(undefined, new Error("first"));
    await settle();
    assert.deepEqual(run.started.map((h) => h.item), [0, 1], "nothing new started after the failure");
    assert.equal(rejected, undefined, "still waiting for the call in flight");
    run.started[1].end(undefined, new Error("second"));
    await assert.rejects(run.done, /first/);
    assert.equal(run.started.length, 2);
  });

  it("refuses a limit that is not a whole number >= 1", async () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) await assert.rejects(mapLimit([1], limit, async (x) => x), RangeError, String(limit));
  });
});
