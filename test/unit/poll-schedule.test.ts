// The learned poll schedule: how many times Bayforge looks at a stack, and how late it sees
// it finish, for a cloud whose stacks take a steady time (simulated clock; Heat's own timing
// is measured end to end by test/bench/heat-e2e.bench.ts).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PollSchedule } from "../../functions/worker/poll-schedule.ts";

const LADDER = [5, 3, 3, 5, 5, 10, 10, 15, 30, 60];
const KEY = PollSchedule.createKey(1, 1);

/** One create watched with the schedule: how many looks and how late the end was seen. */
function watch(s: PollSchedule, takes: number): { looks: number; lateBy: number } {
  let t = 0;
  let prev: number | undefined;
  for (let seq = 0; ; seq++) {
    t += s.next(KEY, seq, t);
    if (t >= takes) {
      s.learn(KEY, t, prev);
      return { looks: seq + 1, lateBy: t - takes };
    }
    prev = t;
  }
}

describe("learned poll schedule", () => {
  it("follows the configured ladder until it has seen a stack of that size finish", () => {
    const s = new PollSchedule(LADDER);
    assert.deepEqual([0, 1, 2, 3, 9, 20].map((seq) => s.next(KEY, seq, 0)), [5, 3, 3, 5, 60, 60]);
    s.learn(PollSchedule.createKey(3, 5), 40, 35);
    assert.equal(s.next(KEY, 0, 0), 5, "another size learned nothing about this one");
  });

  it("after a few bays sees a steady cloud's stacks finish within a second, in at most 6 looks", () => {
    for (const takes of [9.4, 23.4, 61.2]) {
      const s = new PollSchedule(LADDER);
      const first = watch(s, takes);
      assert.ok(first.lateBy > 1, `the ladder alone is late (${first.lateBy} s for ${takes} s)`);
      const later = Array.from({ length: 6 }, () => watch(s, takes)).slice(2);
      for (const w of later) {
        assert.ok(w.lateBy <= 1, `${takes} s stack seen ${w.lateBy} s late`);
        assert.ok(w.looks <= 6, `${takes} s stack: ${w.looks} looks`);
      }
    }
  });

  it("follows a cloud that gets faster or slower", () => {
    const s = new PollSchedule(LADDER);
    for (let i = 0; i < 5; i++) watch(s, 30);
    const faster = Array.from({ length: 8 }, () => watch(s, 18)).at(-1)!;
    assert.ok(faster.lateBy <= 1 && faster.looks <= 6, JSON.stringify(faster));
    const slower = Array.from({ length: 8 }, () => watch(s, 26)).at(-1)!;
    assert.ok(slower.lateBy <= 1 && slower.looks <= 6, JSON.stringify(slower));
    assert.ok(Math.abs(s.estimate(KEY)! - 26) < 1.5, `estimate ${s.estimate(KEY)}`);
  });

  it("near a short create's estimate a delivery watches in-process, a look a second; elsewhere the queue", () => {
    const s = new PollSchedule(LADDER);
    assert.equal(s.watchStep(KEY, 17), undefined, "nothing learned yet: the ladder, by queue");
    s.learn(KEY, 20, 19); // ended at 19.5
    assert.equal(s.watchStep(KEY, 10), undefined, "well before the first look");
    assert.equal(s.watchStep(KEY, 16.5), 1, "from the first look (3 s before the estimate)");
    assert.equal(s.watchStep(KEY, 19.5), 1);
    assert.equal(s.watchStep(KEY, 22.4), 1);
    assert.equal(s.watchStep(KEY, 22.6), undefined, "past the estimate by 3 s: the queue's steps again");
    const long = new PollSchedule(LADDER);
    long.learn(KEY, 600, 590);
    assert.equal(long.watchStep(KEY, 594), undefined, "a long create's looks are far enough apart to queue");
  });

  it("long stacks: looks spaced by a sixtieth of their time, seen within that", () => {
    const s = new PollSchedule(LADDER);
    const runs = Array.from({ length: 6 }, () => watch(s, 600));
    const last = runs.at(-1)!;
    assert.ok(last.lateBy <= 10 && last.looks <= 8, JSON.stringify(last));
  });
});
