// SQS keeps a message until it is deleted; fauxqs keeps its queues in memory only. So that a
// killed aws-local carries on where it stopped, the queues' messages are written to the data
// dir every half second (when they changed) and sent again on the next start. What that
// costs, compared with SQS: a message sent in the last half second before a SIGKILL may be
// lost (the sweeper re-sends the step of any bay left idle), one deleted in that time may be
// delivered again (steps are idempotent), restored messages get new ids and receive counts
// start again at 0, and messages that were in flight are visible at once (their consumers
// died with the process) instead of after their visibility timeout.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SqsServer } from "./sqs-server.ts";
import type { QueueSpec } from "./template.ts";

interface Saved {
  body: string;
  attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  /** epoch ms when it becomes visible (delayed messages) */
  visibleAt?: number;
}

export async function restoreQueues(file: string, sqs: SQSClient, queues: QueueSpec[]): Promise<number> {
  if (!existsSync(file)) return 0;
  const saved = JSON.parse(readFileSync(file, "utf8")) as Record<string, Saved[]>;
  let n = 0;
  for (const q of queues) {
    const messages = saved[q.name] ?? [];
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: q.url,
          Entries: chunk.map((m, j) => ({
            Id: String(j),
            MessageBody: m.body,
            ...(Object.keys(m.attributes).length ? { MessageAttributes: toSdk(m.attributes) } : {}),
            DelaySeconds: Math.min(900, Math.max(0, Math.ceil(((m.visibleAt ?? 0) - Date.now()) / 1000))),
          })),
        }),
      );
      n += chunk.length;
    }
  }
  return n;
}

/** Writes the queues' messages every `everyMs` when they changed; returns a stop function (which writes once more). */
export function snapshotQueues(file: string, server: SqsServer, queues: QueueSpec[], everyMs = 500): () => void {
  let last = "";
  const write = () => {
    const out: Record<string, Saved[]> = {};
    for (const q of queues) {
      const s = server.inspectQueue(q.name);
      if (!s) continue;
      const all = [...s.messages.ready, ...s.messages.delayed, ...s.messages.inflight.map((f) => f.message)];
      out[q.name] = all.map((m) => ({ body: m.body, attributes: m.messageAttributes, ...(m.delayUntil && m.delayUntil > Date.now() ? { visibleAt: m.delayUntil } : {}) }));
    }
    const text = JSON.stringify(out);
    if (text === last) return;
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
    last = text;
  };
  const timer = setInterval(write, everyMs);
  return () => {
    clearInterval(timer);
    write();
  };
}

/** fauxqs keeps binary values as base64 text; the SDK sends bytes */
const toSdk = (a: Saved["attributes"]) =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, { DataType: v.DataType, StringValue: v.StringValue, ...(v.BinaryValue ? { BinaryValue: Buffer.from(v.BinaryValue, "base64") } : {}) }]));
