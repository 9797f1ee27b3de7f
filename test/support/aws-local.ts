// The AWS services the Lambda tests run against, in this process on 127.0.0.1: dynalite (a
// DynamoDB-compatible server, LevelDB files in a temp dir) with Bayforge's table, and fauxqs
// (an SQS-compatible server, in memory) with a work queue. The real SDK clients talk to them.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import { tableDefinition } from "../../shared/adapters/dynamodb/table-definition.ts";

const require = createRequire(import.meta.url);
const dynalite = require("dynalite") as (options: { path?: string; createTableMs?: number }) => Server;

export const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" };

export interface LocalAws {
  tableName: string;
  queueUrl: string;
  queueArn: string;
  /** a new DynamoDB document client on dynalite (as another Lambda container would have its own) */
  dynamodb(): DynamoDBDocumentClient;
  sqs: SQSClient;
  /** every message now visible on the work queue, as Lambda's SQS event source would deliver them (received, not deleted) */
  receiveRecords(): Promise<SQSRecord[]>;
  close(): Promise<void>;
}

export async function startLocalAws(): Promise<LocalAws> {
  const dir = mkdtempSync(join(tmpdir(), "bf-dynalite-"));
  const server = dynalite({ path: dir, createTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: Array<{ destroy(): void }> = [];
  const dynamodb = () => {
    const base = new DynamoDBClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
    clients.push(base);
    return DynamoDBDocumentClient.from(base);
  };
  const tableName = `bayforge-${randomUUID().slice(0, 8)}`;
  const admin = dynamodb();
  await admin.send(new CreateTableCommand(tableDefinition(tableName)));
  for (let i = 0; ; i++) {
    const { Table } = await admin.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === "ACTIVE" && (Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === "ACTIVE")) break;
    if (i > 100) throw new Error(`table ${tableName} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 20));
  }

  const sqsServer: FauxqsServer = await startFauxqs({ port: 0, logger: false, host: "127.0.0.1" });
  const sqs = new SQSClient({ endpoint: `http://127.0.0.1:${sqsServer.port}`, region: REGION, credentials: CREDENTIALS });
  const queue = sqsServer.createQueue(`work-${randomUUID().slice(0, 8)}`);

  return {
    tableName,
    queueUrl: queue.queueUrl,
    queueArn: queue.queueArn,
    dynamodb,
    sqs,
    async receiveRecords() {
      const out: SQSRecord[] = [];
      for (;;) {
        const r = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300, MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"] }),
        );
        if (!r.Messages?.length) return out;
        out.push(...r.Messages.map((m) => toRecord(m, queue.queueArn)));
      }
    },
    async close() {
      for (const c of clients) c.destroy();
      sqs.destroy();
      await sqsServer.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What Lambda's SQS event source makes of a received message. */
export function toRecord(m: Message, queueArn: string): SQSRecord {
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body!,
    attributes: {
      ApproximateReceiveCount: m.Attributes!.ApproximateReceiveCount!,
      SentTimestamp: m.Attributes!.SentTimestamp!,
      SenderId: m.Attributes!.SenderId!,
      ApproximateFirstReceiveTimestamp: m.Attributes!.ApproximateFirstReceiveTimestamp!,
    },
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, { stringValue: v.StringValue, stringListValues: [], binaryListValues: [], dataType: v.DataType! }]),
    ),
    md5OfBody: m.MD5OfBody!,
    md5OfMessageAttributes: m.MD5OfMessageAttributes,
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: REGION,
  };
}
