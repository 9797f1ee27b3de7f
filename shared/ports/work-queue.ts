// The durable work queue between the API and the worker (SQS in AWS, a SQLite table
// locally). At-least-once: every consumer step must be idempotent.

/**
 * bay.health: the periodic check of a finished bay's Kubernetes API (the sweeper sends it; it
 * never moves the bay's status). bay.upgrade: a Kubernetes upgrade's rollout step (API 1.8),
 * re-queued like the poll. bay.rotate_ca: a CA rotation's step, the same way.
 */
export type WorkKind = "bay.create" | "bay.poll" | "bay.update" | "bay.delete" | "bay.health" | "bay.upgrade" | "bay.rotate_ca" | "batch.apply";

export interface WorkMessage {
  v: 1;
  kind: WorkKind;
  bayId: string;
  projectId: string;
  requestId: string;
  /** how many times this step has been re-sent after a retryable failure */
  attempt: number;
  /** bay.poll only: how many polls came before this one (drives the poll backoff) */
  seq?: number;
  /** bay.poll of a create: seconds after the bay was accepted that the previous poll still saw it in progress */
  lookedAt?: number;
  /** bay.poll of a delete: how many polls in a row saw Heat's "Stack DELETE cancelled" */
  cancelled?: number;
  /** batch.apply only: the batch to fan out (bayId carries the same id) */
  batchId?: string;
}

export interface WorkQueue {
  /** Durable once the promise resolves. delaySeconds defers the first delivery. */
  send(message: WorkMessage, options?: { delaySeconds?: number }): Promise<void>;
  /**
   * The bays that have a message in the queue (waiting, delayed or in flight), for queues that
   * can tell (the embedded one; SQS cannot be searched by content).
   */
  pendingBays?(): Promise<Set<string>>;
}

export interface ReceivedMessage {
  id: string;
  /** opaque handle for delete/changeVisibility; changes with every receive */
  receipt: string;
  body: WorkMessage;
  /** 1 on first delivery */
  receiveCount: number;
}

/** A queue the process itself pulls from (the embedded default; Lambda gets pushed batches). */
export interface PollingQueue extends WorkQueue {
  /** Claim up to `max` visible messages, hiding each for `visibilitySeconds`. */
  receive(max: number, visibilitySeconds: number): Promise<ReceivedMessage[]>;
  delete(receipt: string): Promise<void>;
  changeVisibility(receipt: string, seconds: number): Promise<void>;
  /** Optional: tells the time (ms) a message sent by this process becomes visible; returns the unsubscribe. */
  onSent?(listener: (visibleAt: number) => void): () => void;
}
