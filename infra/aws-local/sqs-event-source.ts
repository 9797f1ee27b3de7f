// An SQS event source mapping, emulated as Lambda runs one: pollers long-poll the queue, gather
// a batch (up to BatchSize, waiting at most MaximumBatchingWindowInSeconds once a message is
// in hand), invoke the function with an SQS event of real-shaped records, then delete what
// succeeded. With ReportBatchItemFailures only the records the function names stay; an
// invocation that failed (threw, timed out, its instance died) deletes nothing. What stays
// reappears after the queue's visibility timeout, and after maxReceiveCount receives the
// queue moves it to its dead-letter queue (fauxqs applies the redrive policy on receive).
// Pollers: one per ScalingConfig.MaximumConcurrency (5, Lambda's starting number, without one),
// so the mapping never has more invocations at once.
//
// Test fault: `deliverTwice` sends a copy of every message the first time it is received
// (marked with a message attribute so copies are not copied), so each step runs twice.
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { InvokeResult } from "./function-pool.ts";
import type { MappingSpec, QueueSpec } from "./template.ts";

export const COPY_ATTRIBUTE = "bayforge-aws-local-copy";
const DEFAULT_POLLERS = 5;

export interface EventSourceOptions {
  sqs: SQSClient;
  queue: QueueSpec;
  mapping: MappingSpec;
  region: string;
  invoke: (event: unknown) => Promise<InvokeResult>;
  deliverTwice?: boolean;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface EventSourceStats {
  invocations: number;
  /** copies sent by the deliverTwice fault */
  copies: number;
}

export function startEventSource(o: EventSourceOptions): { stats: EventSourceStats; stop(): Promise<void> } {
  const abort = new AbortController();
  const pollers = o.mapping.maxConcurrency ?? DEFAULT_POLLERS;
  const stats: EventSourceStats = { invocations: 0, copies: 0 };
  const loops = Array.from({ length: pollers }, () => poll(o, abort.signal, stats));
  return {
    stats,
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}

async function poll(o: EventSourceOptions, signal: AbortSignal, stats: EventSourceStats): Promise<void> {
  const { batchSize, windowSeconds } = o.mapping;
  while (!signal.aborted) {
    try {
      const batch = await receive(o, 20, Math.min(10, batchSize), signal);
      if (!batch.length) continue;
      const until = Date.now() + windowSeconds * 1000;
      while (batch.length < batchSize && Date.now() < until && !signal.aborted)
        batch.push(...(await receive(o, Math.max(1, Math.ceil((until - Date.now()) / 1000)), Math.min(10, batchSize - batch.length), signal)));
      if (o.deliverTwice) stats.copies += await copy(o, batch);
      const records = batch.map((m) => toRecord(m, o.queue.arn, o.region));
      stats.invocations++;
      const result = await o.invoke({ Records: records });
      const done = succeeded(result, records, o.mapping.reportBatchItemFailures);
      if (!result.ok) o.log("batch failed: its messages return after the visibility timeout", { queue: o.queue.name, records: records.length, error: result.error.errorType, message: result.error.errorMessage });
      await remove(o, batch.filter((m) => done.has(m.MessageId!)));
    } catch (e) {
      if (signal.aborted) return;
      o.log("poller error; retrying in 1 s", { queue: o.queue.name, err: (e as Error).message });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function receive(o: EventSourceOptions, waitSeconds: number, max: number, signal: AbortSignal): Promise<Message[]> {
  const r = await o.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: o.queue.url, MaxNumberOfMessages: max, WaitTimeSeconds: Math.min(20, waitSeconds), MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"] }),
    { abortSignal: signal },
  );
  return r.Messages ?? [];
}

/** The message ids Lambda deletes after this invocation. */
export function succeeded(result: InvokeResult, records: Array<{ messageId: string }>, reportFailures: boolean): Set<string> {
  const all = new Set(records.map((r) => r.messageId));
  if (!result.ok) return new Set();
  if (!reportFailures) return all;
  const v = result.value as { batchItemFailures?: unknown } | null;
  if (v === null || v === undefined || typeof v !== "object" || v.batchItemFailures === undefined || v.batchItemFailures === null) return all;
  if (!Array.isArray(v.batchItemFailures)) return new Set(); // malformed: Lambda fails the whole batch
  const failed = new Set<string>();
  for (const f of v.batchItemFailures) {
    const id = (f as { itemIdentifier?: unknown })?.itemIdentifier;
    if (typeof id !== "string" || !all.has(id)) return new Set(); // an empty or unknown id fails the whole batch, as on Lambda
    failed.add(id);
  }
  return new Set([...all].filter((id) => !failed.has(id)));
}

async function remove(o: EventSourceOptions, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const r = await o.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: o.queue.url, Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
    if (r.Failed?.length) o.log("delete failed for some messages (they will be delivered again)", { queue: o.queue.name, failed: r.Failed.length });
  }
}

async function copy(o: EventSourceOptions, batch: Message[]): Promise<number> {
  let n = 0;
  for (const m of batch) {
    if (m.MessageAttributes?.[COPY_ATTRIBUTE]) continue;
    n++;
    const attributes: Record<string, MessageAttributeValue> = { ...(m.MessageAttributes ?? {}), [COPY_ATTRIBUTE]: { DataType: "String", StringValue: m.MessageId! } };
    await o.sqs.send(new SendMessageCommand({ QueueUrl: o.queue.url, MessageBody: m.Body!, MessageAttributes: attributes }));
  }
  return n;
}

/** What Lambda's SQS event source makes of a received message. */
export function toRecord(m: Message, queueArn: string, region: string) {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? "",
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? "AIDAAWSLOCAL",
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
        k,
        { ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}), ...(v.BinaryValue ? { binaryValue: Buffer.from(v.BinaryValue).toString("base64") } : {}), stringListValues: [], binaryListValues: [], dataType: v.DataType! },
      ]),
    ),
    md5OfBody: m.MD5OfBody ?? "",
    ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}
