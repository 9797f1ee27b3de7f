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

export interface LocalWorkerOptions {
  concurrency: number;
  /** how long a claimed message stays hidden: longer than any one step takes */
  visibilitySeconds: number;
  /** pause between empty receives */
  idleMs: number;
  sweepEveryMs: number;
}

export interface RunningWorker {
  stop(): Promise<void>;
}

export function startLocalWorker(queue: PollingQueue, deps: WorkerDeps, o: LocalWorkerOptions): RunningWorker {
  let running = true;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
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
      wake?.();
      await done;
      await Promise.allSettled([...inFlight]);
    },
  };
}
