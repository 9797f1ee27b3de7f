// The worker's SQS batches (Lambda's SQS trigger with ReportBatchItemFailures), as pure
// functions of the event and the worker's dependencies: the entry points (lambda.ts,
// lambda-dlq.ts) only build the dependencies once per container and call these.
//
// Work queue: every record is handled on its own (a few at a time); the answer lists exactly
// the records that threw, so SQS makes only those visible again, and after the queue's
// maxReceiveCount moves them to the DLQ. A body that is not JSON or not a work message is
// such a failure too: it reaches the DLQ, where it is logged.
//
// Dead-letter queue: each record's bay is marked failed with a reason (handleDeadLetter);
// a record is reported failed only when that could not be done (the table failed), so it
// is tried again. One that cannot be understood is logged and acknowledged: no retry can
// make sense of it, and nothing else could be done for it.
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { WorkerDeps } from "./deps.ts";
import { handleDeadLetter, handleMessage, parseMessage } from "./handle-message.ts";
import { mapLimit } from "../../shared/concurrency.ts";
// The SQS body format (with its chained-delay field) belongs to the SQS adapter.
import { decodeBody, secondsUntilDue } from "../../shared/adapters/sqs/work-queue.ts";

export interface BatchOptions {
  /** records handled at the same time (default 10) */
  concurrency?: number;
}

export interface DlqBatchOptions extends BatchOptions {
  /** the work queue's maxReceiveCount, named in the bay's reason (default: the record's count) */
  maxReceives?: number;
}

/** A record's ApproximateReceiveCount as a number (1 if missing). */
export const receiveCountOf = (r: SQSRecord): number => Number(r.attributes?.ApproximateReceiveCount) || 1;

export async function handleSqsBatch(event: SQSEvent, deps: WorkerDeps, o: BatchOptions = {}): Promise<SQSBatchResponse> {
  const failures = await eachRecord(event, o.concurrency, async (record) => {
    const log = deps.log.child({ messageId: record.messageId, receiveCount: receiveCountOf(record) });
    try {
      const decoded = decodeBody(record.body);
      const message = parseMessage(decoded.message);
      const wait = secondsUntilDue(decoded, deps.now().getTime());
      if (wait > 0) {
        // a delay longer than SQS allows, chained: not due yet, send the remainder
        log.debug("chained delay: re-sending the remainder", { bay: message.bayId, kind: message.kind, delaySeconds: wait });
        await deps.queue.send(message, { delaySeconds: wait });
        return true;
      }
      await handleMessage(message, deps);
      return true;
    } catch (err) {
      log.error("step failed; SQS will redeliver it (then dead-letter it)", { err, body: preview(record.body) });
      return false;
    }
  });
  return { batchItemFailures: failures };
}

export async function handleDlqBatch(event: SQSEvent, deps: WorkerDeps, o: DlqBatchOptions = {}): Promise<SQSBatchResponse> {
  const failures = await eachRecord(event, o.concurrency, async (record) => {
    const log = deps.log.child({ messageId: record.messageId, dlq: true });
    let message: unknown;
    try {
      message = decodeBody(record.body).message;
    } catch (err) {
      log.error("dead letter is not JSON; dropped", { err, body: preview(record.body) });
      return true;
    }
    const bayId = (message as { bayId?: unknown } | null)?.bayId;
    if (typeof bayId !== "string") {
      log.error("dead letter names no bay; dropped", { body: preview(record.body) });
      return true;
    }
    try {
      await handleDeadLetter(message, o.maxReceives ?? receiveCountOf(record), deps);
      log.warn("dead letter handled: its bay, if still in progress, is failed", { bay: bayId, kind: (message as { kind?: unknown }).kind });
      return true;
    } catch (err) {
      log.error("could not mark the dead letter's bay failed; will retry", { bay: bayId, err });
      return false;
    }
  });
  return { batchItemFailures: failures };
}

/** Runs `fn` over the records, `concurrency` at a time; the ids of those for which it returned false (or threw). */
async function eachRecord(event: SQSEvent, concurrency = 10, fn: (r: SQSRecord) => Promise<boolean>): Promise<SQSBatchItemFailure[]> {
  const records = event.Records ?? [];
  const ok = await mapLimit(records, concurrency, (r) => fn(r).catch(() => false));
  return records.filter((_, i) => !ok[i]).map((r) => ({ itemIdentifier: r.messageId }));
}

const preview = (body: string | undefined): string => (body ?? "").slice(0, 200);
