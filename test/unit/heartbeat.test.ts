// The heartbeats behind /v1/mservices (shared/bays/heartbeat.ts) on the real SQLite registry:
// the local timer (a beat at start, then every period, stopped on stop()), and the Lambda
// beat (at most one per period per container, never failing the invocation).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { openLocalStores } from "../../shared/adapters/local/index.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { lambdaHeartbeat, startHeartbeat, withBeat } from "../../shared/bays/heartbeat.ts";
import type { ServiceRegistry } from "../../shared/ports/service-registry.ts";
import { eventually } from "../support/eventually.ts";

const dir = mkdtempSync(join(tmpdir(), "bf-heartbeat-"));
const stores = openLocalStores(dir);
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});
const logged = () => {
  const lines: string[] = [];
  return { lines, log: createLogger({}, "debug", (l) => lines.push(l)) };
};
const rowOf = async (host: string) => (await stores.services.list()).find((r) => r.host === host);
/** A registry whose every beat fails (a store that is down). */
const failing: ServiceRegistry = { beat: () => Promise.reject(new Error("table unavailable")), list: async () => [] };

describe("startHeartbeat (long-running processes)", () => {
  it("beats once before it resolves, then every period; after stop() no more", async () => {
    const { log } = logged();
    const h = await startHeartbeat(stores.services, { host: "timer-host", binary: "bayforge-worker", log, everyMs: 50 });
    assert.equal((await rowOf("timer-host"))?.report_count, 1);
    await eventually("three beats", async () => ((await rowOf("timer-host"))!.report_count >= 3 ? true : undefined));
    await h.stop();
    const counted = (await rowOf("timer-host"))!.report_count;
    await sleep(150); // three periods: a timer left running would have beaten again
    assert.equal((await rowOf("timer-host"))!.report_count, counted);
    await h.stop(); // idempotent
  });

  it("logs a failed beat as a warning and keeps going", async () => {
    const { lines, log } = logged();
    const h = await startHeartbeat(failing, { host: "h", binary: "bayforge-api", log, everyMs: 30 });
    const warnings = () => lines.map((l) => JSON.parse(l)).filter((l) => l.level === "warn" && /heartbeat failed/.test(l.msg));
    await eventually("two warnings: the timer kept going after a failed beat", () => (warnings().length >= 2 ? true : undefined));
    await h.stop();
  });
});

describe("lambdaHeartbeat (one per period per container, inside the invocation)", () => {
  it("beats on the first invocation, not again within the period, again after it", async () => {
    let t = Date.UTC(2026, 11, 6, 12, 0, 0);
    const { log } = logged();
    const beat = lambdaHeartbeat(stores.services, { host: "fn-api", binary: "bayforge-api", log, now: () => new Date(t) });
    for (let i = 0; i < 5; i++) {
      await beat();
      t += 1000;
    }
    assert.equal((await rowOf("fn-api"))?.report_count, 1);
    t += 10_000;
    await beat();
    const row = (await rowOf("fn-api"))!;
    assert.equal(row.report_count, 2);
    assert.equal(row.updated_at, new Date(t).toISOString());
  });

  it("a failed beat only warns: the work's answer comes back, and the next invocation in the period does not retry", async () => {
    let calls = 0;
    const counting: ServiceRegistry = { beat: () => (calls++, Promise.reject(new Error("throttled"))), list: async () => [] };
    const { lines, log } = logged();
    const beat = lambdaHeartbeat(counting, { host: "fn-worker", binary: "bayforge-worker", log });
    assert.deepEqual(await withBeat(beat, async () => ({ batchItemFailures: [] })), { batchItemFailures: [] });
    assert.equal(await withBeat(beat, async () => 42), 42);
    assert.equal(calls, 1);
    assert.equal(lines.filter((l) => JSON.parse(l).level === "warn").length, 1);
  });

  it("withBeat returns only once the beat is done (nothing left running), and passes the work's error through", async () => {
    let done = false;
    const slow = async () => {
      await sleep(80);
      done = true;
    };
    await withBeat(slow, async () => "quick");
    assert.equal(done, true);
    await assert.rejects(withBeat(async () => {}, async () => Promise.reject(new Error("step failed"))), /step failed/);
    assert.equal(await withBeat(undefined, async () => "no heartbeat"), "no heartbeat");
  });
});
