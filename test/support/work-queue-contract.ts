// What every PollingQueue adapter must do (SQS semantics: at-least-once, visibility timeout,
// delayed delivery, dead-letter after N receives), as one suite per adapter. Time is a fake
// clock handed to `make`, so nothing here sleeps or asserts on durations; `make` must return
// an empty queue each time.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import type { PollingQueue, ReceivedMessage, WorkMessage } from "../../shared/ports/work-queue.ts";

export interface DeadLetterLike {
  body: WorkMessage;
  receiveCount: number;
}

export interface WorkQueueContractOptions {
  /** the queue's clock, ms since epoch; the suite moves it forward */
  now: () => number;
  /** dead-letter a message on the receive after this many receives */
  maxReceives: number;
  onDeadLetter: (deadLetter: DeadLetterLike) => void | Promise<void>;
}

export interface WorkQueueHandle {
  queue: PollingQueue;
  /** the dead-letter queue's contents, oldest first */
  deadLetters(): Promise<DeadLetterLike[]>;
  close(): Promise<void>;
}

export function sampleMessage(overrides: Partial<WorkMessage> = {}): WorkMessage {
  return {
    v: 1,
    kind: "bay.create",
    bayId: randomUUID(),
    projectId: `project-${randomUUID()}`,
    requestId: `req-${randomUUID()}`,
    attempt: 0,
    ...overrides,
  };
}

class FakeClock {
  t = Date.UTC(2026, 10, 25, 12, 0, 0);
  readonly now = () => this.t;
  advance(seconds: number) {
    this.t += seconds * 1000;
  }
}

export function workQueueContract(name: string, make: (options: WorkQueueContractOptions) => Promise<WorkQueueHandle>): void {
  interface Ctx {
    queue: PollingQueue;
    clock: FakeClock;
    handle: WorkQueueHandle;
    hooked: DeadLetterLike[];
  }
  const withQueue = (fn: (ctx: Ctx) => Promise<void>, maxReceives = 5) => async () => {
    const clock = new FakeClock();
    const hooked: DeadLetterLike[] = [];
    const handle = await make({ now: clock.now, maxReceives, onDeadLetter: (dl) => void hooked.push(dl) });
    try {
      await fn({ queue: handle.queue, clock, handle, hooked });
    } finally {
      await handle.close();
    }
  };

  describe(`WorkQueue contract: ${name}`, () => {
    it("delivers a sent message once, body intact, receiveCount 1, then hides it", withQueue(async ({ queue }) => {
      const message = sampleMessage({ kind: "bay.poll", attempt: 3 });
      await queue.send(message);
      const [got, ...rest] = await queue.receive(10, 30);
      assert.deepEqual(rest, []);
      assert.deepEqual(got.body, message);
      assert.equal(got.receiveCount, 1);
      assert.ok(got.id && typeof got.id === "string");
      assert.ok(got.receipt && typeof got.receipt === "string");
      assert.deepEqual(await queue.receive(10, 30), []);
    }));

    it("refuses what is not a v1 WorkMessage naming its bay (TypeError), and a negative delay (RangeError), and queues nothing", withQueue(async ({ queue }) => {
      for (const bad of [{ ...sampleMessage(), v: 2 }, { ...sampleMessage(), kind: undefined }, { ...sampleMessage(), bayId: undefined }, null]) {
        await assert.rejects(queue.send(bad as unknown as WorkMessage), TypeError, JSON.stringify(bad));
      }
      await assert.rejects(queue.send(sampleMessage(), { delaySeconds: -1 }), RangeError);
      await assert.rejects(queue.send(sampleMessage(), { delaySeconds: Number.NaN }), RangeError);
      assert.deepEqual(await queue.receive(10, 30), []);
    }));

    it("answers an empty list when nothing is there", withQueue(async ({ queue }) => {
      assert.deepEqual(await queue.receive(10, 30), []);
    }));

    it("returns at most `max` messages per receive and every message to exactly one receive", withQueue(async ({ queue }) => {
      const sent = Array.from({ length: 25 }, (_, i) => sampleMessage({ attempt: i }));
      for (const m of sent) await queue.send(m);
      const first = await queue.receive(2, 30);
      assert.equal(first.length, 2);
      const got = [...first];
      for (;;) {
        const batch = await queue.receive(10, 30);
        assert.ok(batch.length <= 10);
        if (!batch.length) break;
        got.push(...batch);
      }
      assert.equal(new Set(got.map((m) => m.id)).size, 25);
      assert.deepEqual(
        got.map((m) => m.body.requestId).sort(),
        sent.map((m) => m.requestId).sort(),
      );
      for (const m of got) await queue.delete(m.receipt);
    }));

    it("redelivers a message whose visibility timeout ran out, with a new receipt and receiveCount 2", withQueue(async ({ queue, clock }) => {
      await queue.send(sampleMessage());
      const [first] = await queue.receive(1, 30);
      clock.advance(29);
      assert.deepEqual(await queue.receive(1, 30), []);
      clock.advance(1);
      const [second] = await queue.receive(1, 30);
      assert.equal(second.id, first.id);
      assert.notEqual(second.receipt, first.receipt);
      assert.equal(second.receiveCount, 2);
      assert.deepEqual(second.body, first.body);
    }));

    it("never delivers a deleted message again", withQueue(async ({ queue, clock }) => {
      const keep = sampleMessage();
      await queue.send(sampleMessage());
      const [got] = await queue.receive(1, 30);
      await queue.send(keep);
      await queue.delete(got.receipt);
      clock.advance(3600);
      const left = await queue.receive(10, 30);
      assert.deepEqual(left.map((m) => m.body), [keep]);
    }));

    it("ignores a stale receipt from an earlier delivery: delete and changeVisibility leave the redelivered message alone", withQueue(async ({ queue, clock }) => {
      await queue.send(sampleMessage());
      const [first] = await queue.receive(1, 30);
      clock.advance(31);
      const [second] = await queue.receive(1, 30);
      assert.equal(second.id, first.id);

      await queue.delete(first.receipt);
      await queue.changeVisibility(first.receipt, 0);
      assert.deepEqual(await queue.receive(1, 30), [], "the stale receipt must not reveal the message");
      clock.advance(31);
      const [third] = await queue.receive(1, 30);
      assert.equal(third?.id, first.id, "the stale receipt must not delete the message");
      assert.equal(third.receiveCount, 3);

      await queue.delete(third.receipt);
      clock.advance(3600);
      assert.deepEqual(await queue.receive(1, 30), []);
    }));

    it("changeVisibility 0 makes a message receivable at once; a longer one keeps it hidden longer", withQueue(async ({ queue, clock }) => {
      await queue.send(sampleMessage());
      const [first] = await queue.receive(1, 30);
      await queue.changeVisibility(first.receipt, 0);
      const [second] = await queue.receive(1, 30);
      assert.equal(second.id, first.id);
      assert.equal(second.receiveCount, 2);

      await queue.changeVisibility(second.receipt, 120);
      clock.advance(119);
      assert.deepEqual(await queue.receive(1, 30), []);
      clock.advance(1);
      const [third] = await queue.receive(1, 30);
      assert.equal(third.id, first.id);
    }));

    it("deletes with the receipt still current after changeVisibility", withQueue(async ({ queue, clock }) => {
      await queue.send(sampleMessage());
      const [got] = await queue.receive(1, 30);
      await queue.changeVisibility(got.receipt, 60);
      await queue.delete(got.receipt);
      clock.advance(3600);
      assert.deepEqual(await queue.receive(1, 30), []);
    }));

    it("holds a message sent with delaySeconds back until the delay is over", withQueue(async ({ queue, clock }) => {
      const delayed = sampleMessage({ kind: "bay.poll" });
      const now = sampleMessage();
      await queue.send(delayed, { delaySeconds: 10 });
      await queue.send(now);
      assert.deepEqual((await queue.receive(10, 30)).map((m) => m.body), [now]);
      clock.advance(9);
      assert.deepEqual(await queue.receive(10, 30), []);
      clock.advance(1);
      const [got] = await queue.receive(10, 30);
      assert.deepEqual(got.body, delayed);
      assert.equal(got.receiveCount, 1);
    }));

    it("moves a message received maxReceives times to the dead letters instead of delivering it again", withQueue(async ({ queue, clock, handle, hooked }) => {
      const poison = sampleMessage({ kind: "bay.create" });
      await queue.send(poison);
      for (let n = 1; n <= 2; n++) {
        const [got] = await queue.receive(1, 30);
        assert.equal(got?.receiveCount, n);
        clock.advance(31);
      }
      const healthy = sampleMessage();
      await queue.send(healthy);
      assert.deepEqual((await queue.receive(10, 30)).map((m) => m.body), [healthy], "only the healthy message is delivered");
      clock.advance(3600);
      const again = await queue.receive(10, 30);
      assert.deepEqual(again.map((m) => m.body), [healthy]);

      const dead = await handle.deadLetters();
      assert.equal(dead.length, 1);
      assert.deepEqual(dead[0].body, poison);
      assert.equal(dead[0].receiveCount, 2);
      assert.equal(hooked.length, 1, "onDeadLetter ran once");
      assert.deepEqual(hooked[0].body, poison);
    }, 2));

    it("does not dead-letter a message that is deleted on its last allowed receive", withQueue(async ({ queue, clock, handle, hooked }) => {
      await queue.send(sampleMessage());
      let last: ReceivedMessage | undefined;
      for (let n = 1; n <= 2; n++) {
        [last] = await queue.receive(1, 30);
        clock.advance(31);
      }
      await queue.delete(last!.receipt);
      assert.deepEqual(await queue.receive(10, 30), []);
      assert.deepEqual(await handle.deadLetters(), []);
      assert.deepEqual(hooked, []);
    }, 2));
  });
}
