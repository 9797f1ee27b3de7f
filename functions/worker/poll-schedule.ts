// When to look at a stack again. A fixed ladder (BAYFORGE_POLL_DELAYS) either polls Heat often
// or notices completion late; Bayforge learns instead how long this cloud takes to create a
// stack of a given size, and looks just before that, then every second, so a bay is seen
// CREATE_COMPLETE about a second after Heat (a sixtieth of the time for long ones) and with a
// handful of calls.
//
// The estimate moves both ways: a stack already complete at the first look pulls it down
// (that look's time is an upper bound), one that needs the one-second looks sets it to when
// it ended. Past the estimate by OVERRUN_SECONDS, the ladder takes over again. Learned per
// worker process (on Lambda: per warm container); until a size has been seen, the ladder.

/** The first look comes this long before the estimate: EARLY_SECONDS, or 5 % of it if longer. */
const EARLY_SECONDS = 3;
const EARLY_FRACTION = 0.05;
/** Then a look every second (every 1/60 of the estimate for long ones)... */
const STEPS_PER_ESTIMATE = 60;
/** ...until this long past the estimate (or 20 % of it), then the ladder again. */
const OVERRUN_SECONDS = 10;
const OVERRUN_FRACTION = 0.2;
/** In-process watching (watchStep) ends this far past the estimate. */
const WATCH_PAST = 3;
/** A stack done at the first look is taken to have ended this far into the wait. */
const FIRST_LOOK_GUESS = 0.8;
/** Weight of the newest duration in the estimate. */
const ALPHA = 0.5;

export class PollSchedule {
  private readonly estimates = new Map<string, number>();
  private watchers = 0;

  /** `maxWatchers`: deliveries of this process that may watch in-process at once (each holds a worker slot) */
  constructor(
    private readonly ladder: readonly number[],
    private readonly maxWatchers = 2,
  ) {
    if (!ladder.length) throw new RangeError("a poll schedule needs at least one delay");
  }

  /** Takes a watcher's place (false: all taken, use the queue); give it back with endWatch. */
  startWatch(): boolean {
    if (this.watchers >= this.maxWatchers) return false;
    this.watchers++;
    return true;
  }

  endWatch(): void {
    this.watchers = Math.max(0, this.watchers - 1);
  }

  /** The key of a create: stacks of the same size take about as long. */
  static createKey(masters: number, minions: number): string {
    return `create:${masters}+${minions}`;
  }

  /**
   * Seconds to wait before look number `seq` (0: the first after the create call) at an
   * operation `elapsedSeconds` old, whose stack is still in progress.
   */
  next(key: string | undefined, seq: number, elapsedSeconds: number): number {
    const rung = this.ladder[Math.min(seq, this.ladder.length - 1)];
    const estimate = key === undefined ? undefined : this.estimates.get(key);
    if (estimate === undefined) return rung;
    const firstLookAt = estimate - Math.max(EARLY_SECONDS, EARLY_FRACTION * estimate);
    if (elapsedSeconds < firstLookAt) return Math.max(1, Math.ceil(firstLookAt - elapsedSeconds));
    if (elapsedSeconds < estimate + Math.max(OVERRUN_SECONDS, OVERRUN_FRACTION * estimate)) return Math.max(1, Math.floor(estimate / STEPS_PER_ESTIMATE));
    return rung;
  }

  /**
   * Near the estimate of a short create (one whose fine step is a second), a poll's delivery
   * keeps watching in-process, a look a second from the start of the last: queue delays are
   * whole seconds counted from when the next poll is sent, which stretches each step by
   * Heat's answer time. undefined outside [first look, estimate + WATCH_PAST] and for long
   * creates: the queue's steps then. (Looks more often than a second slow Heat itself: a
   * stack read is work for its engine.)
   */
  watchStep(key: string | undefined, elapsedSeconds: number): number | undefined {
    const estimate = key === undefined ? undefined : this.estimates.get(key);
    if (estimate === undefined || Math.floor(estimate / STEPS_PER_ESTIMATE) > 1) return undefined;
    const firstLookAt = estimate - Math.max(EARLY_SECONDS, EARLY_FRACTION * estimate);
    if (elapsedSeconds < firstLookAt - 0.5 || elapsedSeconds >= estimate + WATCH_PAST) return undefined;
    return 1;
  }

  /**
   * The operation ended at a look `elapsedSeconds` after it began; `previousLookSeconds` is
   * when it was last seen in progress (undefined: this was the first look).
   */
  learn(key: string, elapsedSeconds: number, previousLookSeconds?: number): void {
    if (!(elapsedSeconds > 0)) return;
    // it ended between the two looks (their midpoint); done at the first look, it may have ended
    // long before: guess well under that look, and the next first look, earlier, tells
    const ended = previousLookSeconds !== undefined ? (elapsedSeconds + previousLookSeconds) / 2 : elapsedSeconds * FIRST_LOOK_GUESS;
    const old = this.estimates.get(key);
    this.estimates.set(key, old === undefined ? ended : old + ALPHA * (ended - old));
  }

  /** The learned duration for `key`, if any (seconds). */
  estimate(key: string): number | undefined {
    return this.estimates.get(key);
  }
}
