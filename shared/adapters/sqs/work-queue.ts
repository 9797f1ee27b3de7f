// The WorkQueue port on Amazon SQS. The body is the WorkMessage as JSON; `kind`, `bayId` and
// `requestId` are also sent as message attributes (String), so a message can be filtered and
// logged without parsing its body (console, CloudWatch, a redrive tool).
//
// Delays longer than SQS allows (DelaySeconds ≤ 900) are chained: the message is sent with
// the longest delay SQS accepts and a `notBefore` field (ms since epoch) in its body. The
// consumer (functions/worker/lambda-batch.ts) receives it early, sees `notBefore` still in
// the future and re-sends the same message with the remainder (chained again if that is
// still too long) instead of running the step. The field is part of the body so that a
// message keeps it through the DLQ and a manual redrive; `decodeBody` takes it out again.
//
// The dead-letter queue is not the adapter's: it is the queue's RedrivePolicy (infra), and
// the worker never deletes a message it failed, so SQS moves it after maxReceiveCount.
import { SendMessageCommand, type MessageAttributeValue, type SQSClient } from "@aws-sdk/client-sqs";
import type { WorkMessage, WorkQueue } from "../../ports/work-queue.ts";
import { checkWorkMessage } from "../../ports/preconditions.ts";

/** SQS's own limit on DelaySeconds. */
export const SQS_MAX_DELAY_SECONDS = 900;
/** The body field holding the time (ms since epoch) before which a chained message must not run. */
export const NOT_BEFORE_FIELD = "notBefore";

export interface SqsWorkQueueOptions {
  client: SQSClient;
  queueUrl: string;
  /** ms since epoch; for tests */
  now?: () => number;
  /** the longest delay sent to SQS (default and maximum 900); lower only to test chaining */
  maxDelaySeconds?: number;
}

/** A WorkMessage as it travels in an SQS body: the message, plus `notBefore` when chained. */
export type SqsBody = WorkMessage & { [NOT_BEFORE_FIELD]?: number };

export class SqsWorkQueue implements WorkQueue {
  readonly #client: SQSClient;
  readonly #url: string;
  readonly #now: () => number;
  readonly #maxDelay: number;

  constructor(o: SqsWorkQueueOptions) {
    const max = o.maxDelaySeconds ?? SQS_MAX_DELAY_SECONDS;
    if (!Number.isInteger(max) || max < 1 || max > SQS_MAX_DELAY_SECONDS)
      throw new RangeError(`maxDelaySeconds must be a whole number from 1 to ${SQS_MAX_DELAY_SECONDS}`);
    if (!o.queueUrl) throw new TypeError("SqsWorkQueue needs the queue URL");
    this.#client = o.client;
    this.#url = o.queueUrl;
    this.#now = o.now ?? Date.now;
    this.#maxDelay = max;
  }

  get queueUrl(): string {
    return this.#url;
  }

  /** Resolves once SQS has stored the message (SendMessage answered). */
  async send(message: WorkMessage, options: { delaySeconds?: number } = {}): Promise<void> {
    const delay = options.delaySeconds ?? 0;
    checkWorkMessage(message, delay);
    const whole = Math.ceil(delay);
    const chained = whole > this.#maxDelay;
    await this.#client.send(
      new SendMessageCommand({
        QueueUrl: this.#url,
        MessageBody: encodeBody(message, chained ? this.#now() + whole * 1000 : undefined),
        DelaySeconds: chained ? this.#maxDelay : whole,
        MessageAttributes: messageAttributes(message),
      }),
    );
  }
}

/** The attributes every message carries (String): kind, bayId, requestId. */
export function messageAttributes(m: WorkMessage): Record<string, MessageAttributeValue> {
  const attrs: Record<string, MessageAttributeValue> = {
    kind: { DataType: "String", StringValue: m.kind },
    bayId: { DataType: "String", StringValue: m.bayId },
  };
  // SQS refuses empty string attributes
  if (m.requestId) attrs.requestId = { DataType: "String", StringValue: m.requestId };
  return attrs;
}

/** The SQS body of a message; `notBefore` (ms since epoch) only for a chained delay. */
export function encodeBody(message: WorkMessage, notBefore?: number): string {
  const { [NOT_BEFORE_FIELD]: _stale, ...clean } = message as SqsBody;
  return JSON.stringify(notBefore === undefined ? clean : { ...clean, [NOT_BEFORE_FIELD]: notBefore });
}

export interface DecodedBody {
  /** the body without `notBefore`: still to be checked by parseMessage */
  message: unknown;
  /** ms since epoch, when the message was chained */
  notBefore?: number;
}

/** Parses an SQS body. Throws SyntaxError when it is not JSON. */
export function decodeBody(body: string): DecodedBody {
  const parsed: unknown = JSON.parse(body);
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || !(NOT_BEFORE_FIELD in parsed)) return { message: parsed };
  const { [NOT_BEFORE_FIELD]: notBefore, ...message } = parsed as Record<string, unknown>;
  return typeof notBefore === "number" && Number.isFinite(notBefore) ? { message, notBefore } : { message };
}

/** Whole seconds until a chained message is due; 0 when it is due now (or was never chained). */
export function secondsUntilDue(decoded: DecodedBody, nowMs: number): number {
  if (decoded.notBefore === undefined) return 0;
  return Math.max(0, Math.ceil((decoded.notBefore - nowMs) / 1000));
}
