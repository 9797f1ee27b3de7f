// A step's claim on a bay (making its credentials, creating its stack) is renewed while the
// step works, as the embedded worker renews its message's visibility: a live step, however
// slow its cloud, is never taken over (two concurrent stack creates for one name can both pass
// Heat's name check and make two stacks), and a dead one's claim is stale soon after it
// stopped renewing, before its message comes back.
import type { WorkerDeps } from "./deps.ts";
import { CLAIM_MS } from "./deps.ts";

/** Runs `work`, calling `renew` every third of the claim's lifetime until it ends. */
export async function whileClaimed<T>(deps: WorkerDeps, renew: () => Promise<unknown>, work: () => Promise<T>): Promise<T> {
  const every = Math.max(100, (deps.claimMs ?? CLAIM_MS) / 3);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    timer = setTimeout(() => {
      void renew()
        .catch((err: unknown) => deps.log.warn("claim not renewed", { err }))
        .finally(() => {
          if (!stopped) schedule();
        });
    }, every);
  };
  schedule();
  try {
    return await work();
  } finally {
    stopped = true;
    clearTimeout(timer);
  }
}
