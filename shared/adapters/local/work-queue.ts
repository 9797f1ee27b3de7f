// The embedded work queue: SQS semantics (at-least-once, visibility timeout, delayed
// delivery, dead-letter after N receives) on a table in the local SQLite file, so a message
// the API acknowledged survives a crash of either process.
import { randomUUID } from "node:crypto";
import type { PollingQueue, ReceivedMessage, WorkMessage } from "../../ports/work-queue.ts";
import { checkWorkMessage } from "../../ports/preconditions.ts";
import { durable, type SqliteDatabase } from "./sqlite.ts";

/** SQS's limits, enforced here too so nothing that works locally breaks in AWS. */
export const MAX_DELAY_SECONDS = 900;
export const MAX_VISIBILITY_SECONDS = 43_200;
export const MAX_RECEIVE_BATCH = 10;

/** A message that was received `maxReceives` times without being deleted. */
export interface DeadLetter {
  id: string;
  body: WorkMessage;
  receiveCount: number;
  /** ms since epoch (queue clock) */
  sentAt: number;
  deadAt: number;
  /** when onDeadLetter last succeeded for it, or null (no hook yet, or it failed) */
  handledAt: number | null;
  hookAttempts: number;
  lastError: string | null;
}

export type DeadLetterHandler = (deadLetter: DeadLetter) => void | Promise<void>;

export interface SqliteWorkQueueOptions {
  /** queue name; several queues can share the file (default "work") */
  name?: string;
  /** a message received this many times without a delete is dead-lettered on the next receive (default 5) */
  maxReceives?: number;
  /** ms since epoch; inject a fake clock in tests */
  now?: () => number;
  /**
   * Called after a message is dead-lettered (e.g. to mark its bay failed). Delivery is
   * at-least-once: when the handler throws, or the process dies before it returns, the dead
   * letter stays pending and a later receive() of any process with a handler retries it
   * after `hookRetrySeconds`. The handler must be idempotent.
   */
  onDeadLetter?: DeadLetterHandler;
  /** default 30 */
  hookRetrySeconds?: number;
}

export interface QueueStats {
  /** receivable now */
  visible: number;
  /** received, not deleted, still hidden */
  inFlight: number;
  /** never received, delaySeconds not over yet */
  delayed: number;
  deadLetters: number;
}

interface MessageRow {
  id: string;
  body: string;
  receive_count: number;
  created_at: number;
}
interface DeadLetterRow {
  id: string;
  body: string;
  receive_count: number;
  sent_at: number;
  dead_at: number;
  handled_at: number | null;
  hook_attempts: number;
  last_error: string | null;
}

function prepareStatements(db: SqliteDatabase) {
  const p = <R = unknown>(source: string) => db.prepare<unknown[], R>(source);
  return {
    send: p(
      `INSERT INTO queue_messages (id, queue, body, visible_at, receive_count, receipt, created_at)
       VALUES (?, ?, ?, ?, 0, NULL, ?)`,
    ),
    selectVisible: p<MessageRow>(
      `SELECT id, body, receive_count, created_at FROM queue_messages
       WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?`,
    ),
    claim: p(`UPDATE queue_messages SET visible_at = ?, receive_count = receive_count + 1, receipt = ? WHERE id = ?`),
    toDeadLetters: p(
      `INSERT INTO queue_dead_letters (id, queue, body, receive_count, sent_at, dead_at, hook_retry_at)
       SELECT id, queue, body, receive_count, created_at, ?, ? FROM queue_messages WHERE id = ?`,
    ),
    deleteById: p(`DELETE FROM queue_messages WHERE id = ?`),
    deleteByReceipt: p(`DELETE FROM queue_messages WHERE queue = ? AND receipt = ?`),
    changeVisibility: p(`UPDATE queue_messages SET visible_at = ? WHERE queue = ? AND receipt = ?`),
    stats: p<{ visible: number | null; inFlight: number | null; delayed: number | null }>(
      `SELECT SUM(visible_at <= @now) AS visible,
              SUM(visible_at > @now AND receive_count > 0) AS inFlight,
              SUM(visible_at > @now AND receive_count = 0) AS delayed
       FROM queue_messages WHERE queue = @queue`,
    ),
    pendingBays: p<{ bay: string | null }>(`SELECT DISTINCT json_extract(body, '$.bayId') AS bay FROM queue_messages WHERE queue = ?`),
    deadLetterCount: p<{ n: number }>(`SELECT COUNT(*) AS n FROM queue_dead_letters WHERE queue = ?`),
    deadLetters: p<DeadLetterRow>(
      `SELECT id, body, receive_count, sent_at, dead_at, handled_at, hook_attempts, last_error
       FROM queue_dead_letters WHERE queue = ? ORDER BY seq`,
    ),
    pendingHooks: p<DeadLetterRow>(
      `SELECT id, body, receive_count, sent_at, dead_at, handled_at, hook_attempts, last_error
       FROM queue_dead_letters WHERE queue = ? AND handled_at IS NULL AND hook_retry_at <= ? ORDER BY hook_retry_at, seq LIMIT ?`,
    ),
    claimHook: p(`UPDATE queue_dead_letters SET hook_retry_at = ?, hook_attempts = hook_attempts + 1 WHERE id = ?`),
    hookDone: p(`UPDATE queue_dead_letters SET handled_at = ?, last_error = NULL WHERE id = ?`),
    hookFailed: p(`UPDATE queue_dead_letters SET last_error = ? WHERE id = ?`),
  };
}

export class SqliteWorkQueue implements PollingQueue {
  readonly name: string;
  readonly maxReceives: number;
  private readonly now: () => number;
  private readonly hookRetryMs: number;
  private handler: DeadLetterHandler | undefined;
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly receiveTx: (max: number, visibilityMs: number) => { delivered: ReceivedMessage[]; hooks: DeadLetter[] };
  private readonly sentListeners = new Set<(visibleAt: number) => void>();

  /** `db` must come from openDatabase (schema migrated); the caller owns and closes it. */
  constructor(private readonly db: SqliteDatabase, options: SqliteWorkQueueOptions = {}) {
    this.name = options.name ?? "work";
    this.maxReceives = options.maxReceives ?? 5;
    if (!Number.isInteger(this.maxReceives) || this.maxReceives < 1) throw new RangeError("maxReceives must be an integer >= 1");
    this.now = options.now ?? Date.now;
    this.hookRetryMs = (options.hookRetrySeconds ?? 30) * 1000;
    this.handler = options.onDeadLetter;
    this.sql = prepareStatements(db);

    // One IMMEDIATE transaction per receive: it takes the write lock before reading, so two
    // processes can never select the same visible row, and a crash leaves either the whole
    // claim or none of it.
    const tx = db.transaction((max: number, visibilityMs: number) => {
      const now = this.now();
      const delivered: ReceivedMessage[] = [];
      const hooks: DeadLetter[] = [];
      const seen = new Set<string>();
      for (;;) {
        const want = max - delivered.length;
        const rows = this.sql.selectVisible.all(this.name, now, want);
        let progressed = false;
        for (const row of rows) {
          if (seen.has(row.id)) continue; // visibility 0 leaves claimed rows visible
          seen.add(row.id);
          progressed = true;
          if (row.receive_count >= this.maxReceives) {
            // A handler present now notifies it right after commit; otherwise it waits as pending.
            const retryAt = this.handler ? now + this.hookRetryMs : now;
            this.sql.toDeadLetters.run(now, retryAt, row.id);
            this.sql.deleteById.run(row.id);
            if (this.handler) {
              hooks.push({
                id: row.id, body: JSON.parse(row.body) as WorkMessage, receiveCount: row.receive_count,
                sentAt: row.created_at, deadAt: now, handledAt: null, hookAttempts: 1, lastError: null,
              });
              this.sql.claimHook.run(retryAt, row.id);
            }
            continue;
          }
          const receipt = randomUUID();
          this.sql.claim.run(now + visibilityMs, receipt, row.id);
          delivered.push({ id: row.id, receipt, body: JSON.parse(row.body) as WorkMessage, receiveCount: row.receive_count + 1 });
        }
        // Only dead-lettered rows leave room for more; stop when the batch is full or dry.
        if (delivered.length >= max || !progressed || rows.length < want) break;
      }
      if (this.handler) {
        // Dead letters whose handler failed or whose process died: claim a few for a retry.
        for (const row of this.sql.pendingHooks.all(this.name, now, MAX_RECEIVE_BATCH)) {
          this.sql.claimHook.run(now + this.hookRetryMs, row.id);
          hooks.push({ ...toDeadLetter(row), hookAttempts: row.hook_attempts + 1 });
        }
      }
      return { delivered, hooks };
    });
    this.receiveTx = (max, visibilityMs) => tx.immediate(max, visibilityMs);
  }

  /** Set or clear the dead-letter handler (the worker wires it after building its ports). */
  setDeadLetterHandler(handler: DeadLetterHandler | undefined): void {
    this.handler = handler;
  }

  /** Durable once resolved (committed to the WAL). */
  async send(message: WorkMessage, options: { delaySeconds?: number } = {}): Promise<void> {
    const delay = options.delaySeconds ?? 0;
    checkWorkMessage(message, delay);
    checkSeconds("delaySeconds", delay, MAX_DELAY_SECONDS);
    const id = randomUUID();
    const now = this.now();
    await durable(this.db, () => this.sql.send.run(id, this.name, JSON.stringify(message), now + delay * 1000, now));
    for (const l of this.sentListeners) l(now + delay * 1000);
  }

  /**
   * Calls `listener` with the time (this queue's clock, ms) a message sent by this process
   * becomes visible, so a worker in the same process receives it then instead of at its next
   * idle poll. Messages of other processes are found by polling. Returns the unsubscribe.
   */
  onSent(listener: (visibleAt: number) => void): () => void {
    this.sentListeners.add(listener);
    return () => this.sentListeners.delete(listener);
  }

  async receive(max: number, visibilitySeconds: number): Promise<ReceivedMessage[]> {
    if (!Number.isInteger(max) || max < 1 || max > MAX_RECEIVE_BATCH) {
      throw new RangeError(`max must be an integer from 1 to ${MAX_RECEIVE_BATCH} (SQS's limit)`);
    }
    checkSeconds("visibilitySeconds", visibilitySeconds, MAX_VISIBILITY_SECONDS);
    const { delivered, hooks } = this.receiveTx(max, visibilitySeconds * 1000);
    for (const dl of hooks) await this.runHook(dl);
    return delivered;
  }

  /**
   * Deletes only while `receipt` is the message's current one: after a redelivery the old
   * receipt matches nothing and the call is a no-op (the message stays for its new holder).
   */
  async delete(receipt: string): Promise<void> {
    await durable(this.db, () => this.sql.deleteByReceipt.run(this.name, receipt));
  }

  /** Hide (or, with 0, reveal) the message `seconds` from now; a stale receipt changes nothing. */
  async changeVisibility(receipt: string, seconds: number): Promise<void> {
    checkSeconds("seconds", seconds, MAX_VISIBILITY_SECONDS);
    const at = this.now() + seconds * 1000;
    await durable(this.db, () => this.sql.changeVisibility.run(at, this.name, receipt));
  }

  /** Bays with a message here (waiting, delayed or being handled): their step will run. */
  async pendingBays(): Promise<Set<string>> {
    return new Set(this.sql.pendingBays.all(this.name).flatMap((r) => (typeof r.bay === "string" ? [r.bay] : [])));
  }

  /** Messages not yet deleted: visible + in flight + delayed. */
  async depth(): Promise<number> {
    const s = await this.stats();
    return s.visible + s.inFlight + s.delayed;
  }

  async stats(): Promise<QueueStats> {
    const row = this.sql.stats.get({ now: this.now(), queue: this.name });
    return {
      visible: row?.visible ?? 0,
      inFlight: row?.inFlight ?? 0,
      delayed: row?.delayed ?? 0,
      deadLetters: this.sql.deadLetterCount.get(this.name)?.n ?? 0,
    };
  }

  /** Every dead letter of this queue, oldest first. */
  async deadLetters(): Promise<DeadLetter[]> {
    return this.sql.deadLetters.all(this.name).map(toDeadLetter);
  }

  private async runHook(dl: DeadLetter): Promise<void> {
    const handler = this.handler;
    if (!handler) return;
    try {
      await handler(dl);
      this.sql.hookDone.run(this.now(), dl.id);
    } catch (err) {
      this.sql.hookFailed.run(err instanceof Error ? (err.stack ?? err.message) : String(err), dl.id);
    }
  }
}

function checkSeconds(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} must be a whole number of seconds from 0 to ${max} (SQS's limit)`);
  }
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    body: JSON.parse(row.body) as WorkMessage,
    receiveCount: row.receive_count,
    sentAt: row.sent_at,
    deadAt: row.dead_at,
    handledAt: row.handled_at,
    hookAttempts: row.hook_attempts,
    lastError: row.last_error,
  };
}
