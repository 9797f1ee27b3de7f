// Waiting for something a timer or another process does: poll until it holds, with a deadline
// far beyond what it should take, so a loaded 2-core machine slows a test but never fails it.
import { setTimeout as sleep } from "node:timers/promises";

/** Calls `probe` every `everyMs` until it returns a value that is not undefined; throws after `withinMs` saying what was awaited. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, withinMs = 30_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await sleep(everyMs);
  }
}
