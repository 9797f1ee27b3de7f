// The heartbeats behind /v1/mservices: each running part of Bayforge beats its row in the
// ServiceRegistry every HEARTBEAT_SECONDS (and once at start), as Magnum's services report
// their state. Two ways, one per kind of composition root:
//  - a long-running process (infra/local, the tests' harnesses): startHeartbeat's timer,
//    unref'd (it never keeps the process alive) and stopped on close;
//  - a Lambda container: lambdaHeartbeat, at most one beat per period, awaited inside the
//    invocation (a frozen container runs nothing between invocations, and nothing may be left
//    running when the handler returns).
// A failed beat only logs a warning: it never fails a request, a step or a batch.
import type { ServiceRegistry } from "../ports/service-registry.ts";
import type { Logger } from "../observability/logger.ts";

/** Between two beats of one part. */
export const HEARTBEAT_SECONDS = 10;

/** The binary names the parts beat as (Magnum's are magnum-conductor and the like). */
export const SERVICE_BINARIES = { api: "bayforge-api", worker: "bayforge-worker", webhook: "bayforge-webhook" } as const;

export interface HeartbeatOptions {
  host: string;
  binary: string;
  log: Logger;
  /** between beats, ms (default HEARTBEAT_SECONDS) */
  everyMs?: number;
  now?: () => Date;
}

export interface RunningHeartbeat {
  /** Stops the timer and waits for a beat in flight. Idempotent. */
  stop(): Promise<void>;
}

/** One beat whose failure is logged, not thrown. */
function beatOnce(services: ServiceRegistry, o: HeartbeatOptions): Promise<void> {
  const at = (o.now?.() ?? new Date()).toISOString();
  return services.beat(o.host, o.binary, at).then(
    () => {},
    (err) => o.log.warn("heartbeat failed; /v1/mservices may show this service down", { host: o.host, binary: o.binary, err }),
  );
}

/** Beats now (resolving once that beat is done) and then every period, until stop(). */
export async function startHeartbeat(services: ServiceRegistry, o: HeartbeatOptions): Promise<RunningHeartbeat> {
  let inFlight: Promise<void> | undefined = beatOnce(services, o);
  const beat = () => {
    // a slow store never piles beats up
    if (inFlight) return;
    inFlight = beatOnce(services, o).finally(() => (inFlight = undefined));
  };
  await inFlight;
  inFlight = undefined;
  const timer = setInterval(beat, o.everyMs ?? HEARTBEAT_SECONDS * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

/**
 * For a Lambda handler: `await beat()` in every invocation beats at most once per period per
 * container (the first invocation beats); it never rejects.
 */
export function lambdaHeartbeat(services: ServiceRegistry, o: HeartbeatOptions): () => Promise<void> {
  const everyMs = o.everyMs ?? HEARTBEAT_SECONDS * 1000;
  let last = -Infinity;
  return async () => {
    const now = (o.now?.() ?? new Date()).getTime();
    if (now - last < everyMs) return;
    // counted from the attempt: a failing store is not asked again in every invocation
    last = now;
    await beatOnce(services, { ...o, now: () => new Date(now) });
  };
}

/**
 * Runs `work` with a beat beside it (lambdaHeartbeat's), and returns once both are done: the
 * beat adds no latency unless it is the slower, and is never left running.
 */
export async function withBeat<T>(beat: (() => Promise<void>) | undefined, work: () => Promise<T>): Promise<T> {
  const beating = beat?.();
  try {
    return await work();
  } finally {
    await beating;
  }
}

/** The host a Lambda function beats as: its function name (one row per function, not per container). */
export function lambdaHost(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_LAMBDA_FUNCTION_NAME?.trim() || undefined;
}
