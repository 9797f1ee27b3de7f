// The worker's loop over the embedded queue (in AWS, Lambda's SQS trigger replaces it):
// claim a few messages, run each step (keeping its message hidden while it runs), delete what
// succeeded. A step that throws, or whose worker died, reappears after its visibility
// timeout; the queue dead-letters it after N deliveries.
import type { PollingQueue } from "../../shared/ports/work-queue.ts";
import type { WorkerDeps } from "./deps.ts";
import { handleMessage, parseMessage } from "./handle-message.ts";
import { sweep } from "./sweeper.ts";

/** The most messages one receive may claim (SQS's limit, which the embedded queue enforces too). */
const RECEIVE_MAX = 10;
/** Delayed messages of this process whose due time the worker waits for by timer. */
const MAX_DUE_TIMERS = 10_000;

export interface LocalWorkerOptions {
  concurrency: number;
  /** how long a claimed message stays hidden: longer than any one step takes */
  visibilitySeconds: number;
  /** pause between empty receives (a message this process sends wakes the worker when it is due) */
  idleMs: number;
  sweepEveryMs: number;
}

export interface RunningWorker {
  stop(): Promise<void>;
}

export function startLocalWorker(queue: PollingQueue, deps: WorkerDeps, o: LocalWorkerOptions): RunningWorker {
  let running = true;
  let wake: (() => void) | undefined;
  // a wake-up that came while the loop was busy: the next sleep returns at once
  let woken = false;
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      if (woken) {
        woken = false;
        return r();
      }
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wake = undefined;
        r();
      }
      wake = done;
    });
  const poke = () => {
    if (wake) wake();
    else woken = true;
  };
  // Messages this process sends (the API's, a step's next poll) are received when they are
  // due, not up to idleMs later: a timer per delayed message (a bounded number; past that,
  // the idle poll finds them).
  const dueTimers = new Set<NodeJS.Timeout>();
  const unsubscribe = queue.onSent?.((visibleAt) => {
    const inMs = visibleAt - Date.now();
    if (inMs <= 0) return poke();
    if (dueTimers.size >= MAX_DUE_TIMERS) return;
    const t = setTimeout(() => {
      dueTimers.delete(t);
      poke();
    }, inMs);
    dueTimers.add(t);
  });

  const inFlight = new Set<Promise<void>>();
  let lastSweep = 0;

  const loop = async () => {
    while (running) {
      try {
        if (Date.now() - lastSweep > o.sweepEveryMs) {
          lastSweep = Date.now();
          await sweep(deps);
        }
        const free = o.concurrency - inFlight.size;
        // a receive takes at most RECEIVE_MAX; a larger concurrency fills up over several receives
        const batch = free > 0 ? await queue.receive(Math.min(free, RECEIVE_MAX), o.visibilitySeconds) : [];
        for (const m of batch) {
          const p = (async () => {
            // Keep the message hidden while its step runs, as SQS consumers heartbeat: a slow
            // cloud must not make the queue hand it out again (and count that delivery towards
            // the dead-letter limit) while this worker is alive. A dead worker stops beating.
            const beat = setInterval(() => void queue.changeVisibility(m.receipt, o.visibilitySeconds).catch(() => {}), Math.max(500, o.visibilitySeconds * 400));
            try {
              await handleMessage(parseMessage(m.body), deps);
              await queue.delete(m.receipt);
            } catch (err) {
              deps.log.error("step failed; the queue will redeliver it", { messageId: m.id, receiveCount: m.receiveCount, err });
            } finally {
              clearInterval(beat);
            }
          })();
          inFlight.add(p);
          void p.finally(() => {
            inFlight.delete(p);
            wake?.();
          });
        }
        if (batch.length === 0 || inFlight.size >= o.concurrency) await sleep(o.idleMs);
      } catch (err) {
        deps.log.error("worker loop error", { err });
        await sleep(o.idleMs * 5);
      }
    }
  };
  const done = loop();
  return {
    async stop() {
      running = false;
      unsubscribe?.();
      for (const t of dueTimers) clearTimeout(t);
      wake?.();
      await done;
      await Promise.allSettled([...inFlight]);
    },
  };
}
