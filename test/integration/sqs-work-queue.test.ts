// The SQS WorkQueue adapter against fauxqs (an SQS-compatible server from npm that keeps
// everything in memory, in this process, speaking the SQS JSON protocol the real SDK client
// sends): send, delay, a delay longer than SQS allows (chained), body and attributes round
// trip, and the DLQ redrive after maxReceiveCount, then the DLQ consumer failing the bay.
// Waits are real (fauxqs has SQS's 1-second clock), so the delays here are 1–3 s.
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { SQS_MAX_DELAY_SECONDS, SqsWorkQueue, decodeBody } from "../../shared/adapters/sqs/work-queue.ts";
import { handleDlqBatch, handleSqsBatch } from "../../functions/worker/lambda-batch.ts";
import { loadSettings } from "../../shared/config.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { openstackFor, type CloudConfig } from "../../shared/adapters/openstack/index.ts";
import { silentLogger } from "../../shared/observability/logger.ts";
import { composeWorker } from "../../functions/worker/compose.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import { sampleBay } from "../support/bay-table-contract.ts";
import { REGION, toRecord } from "../support/aws-local.ts";

let server: FauxqsServer;
let client: SQSClient;
const cleanups: Array<() => Promise<void> | void> = [];

before(async () => {
  server = await startFauxqs({ port: 0, logger: false, host: "127.0.0.1" });
  client = new SQSClient({ endpoint: `http://127.0.0.1:${server.port}`, region: REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
});
after(async () => {
  for (const c of cleanups) await c();
  client?.destroy();
  await server?.stop();
});

/** A fresh queue (and its DLQ with a redrive policy when maxReceiveCount is given). */
function makeQueue(o: { maxReceiveCount?: number } = {}) {
  const name = `work-${randomUUID().slice(0, 8)}`;
  const dlq = o.maxReceiveCount ? server.createQueue(`${name}-dlq`) : undefined;
  const q = server.createQueue(name, {
    attributes: dlq ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: o.maxReceiveCount }) } : {},
  });
  return { ...q, dlq };
}

const sample = (extra: Partial<WorkMessage> = {}): WorkMessage => ({
  v: 1,
  kind: "bay.poll",
  bayId: randomUUID(),
  projectId: `project-${randomUUID()}`,
  requestId: `req-${randomUUID()}`,
  attempt: 0,
  ...extra,
});

async function receive(queueUrl: string, o: { wait?: number; visibility?: number } = {}): Promise<Message[]> {
  const r = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: o.wait ?? 0,
      VisibilityTimeout: o.visibility ?? 30,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }),
  );
  return r.Messages ?? [];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The worker composed as on Lambda, on SQLite stores, with this SQS queue as its queue; no Heat (a closed port). */
async function workerOn(queue: SqsWorkQueue): Promise<{ deps: WorkerDeps; stores: LocalStores }> {
  const dir = mkdtempSync(join(tmpdir(), "bf-sqs-"));
  const stores = openLocalStores(dir);
  const nowhere: CloudConfig = {
    cloud: "nowhere",
    source: "test",
    auth: { type: "password", authUrl: "http://127.0.0.1:9/v3", username: "u", password: "p", userDomainName: "Default", projectName: "p", projectDomainName: "Default" },
    interface: "public",
    insecure: false,
    endpointOverrides: {},
  };
  const cloud = openstackFor(nowhere, { retry: { attempts: 1 } });
  const vault = await LocalKeyVault.forDataDir(dir, {});
  const deps = composeWorker(loadSettings({ BAYFORGE_DATA_DIR: dir }), { ...stores, queue, heat: cloud.heat, session: cloud.session, vault, log: silentLogger });
  cleanups.push(async () => {
    await cloud.close();
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { deps, stores };
}

describe("SqsWorkQueue on fauxqs (in-memory SQS)", () => {
  it("sends a message whose body is the WorkMessage as JSON (round trip) with kind, bayId and requestId attributes (fauxqs, in memory)", async () => {
    const q = makeQueue();
    const queue = new SqsWorkQueue({ client, queueUrl: q.queueUrl });
    const m = sample({ kind: "bay.update", attempt: 3, seq: 12 });
    await queue.send(m);
    const [got, ...rest] = await receive(q.queueUrl);
    assert.deepEqual(rest, []);
    assert.deepEqual(JSON.parse(got.Body!), m);
    assert.deepEqual(decodeBody(got.Body!), { message: m });
    assert.equal(got.MD5OfBody, createHash("md5").update(got.Body!).digest("hex"));
    assert.deepEqual(got.MessageAttributes, {
      kind: { DataType: "String", StringValue: "bay.update" },
      bayId: { DataType: "String", StringValue: m.bayId },
      requestId: { DataType: "String", StringValue: m.requestId },
    });
    assert.equal(got.Attributes?.ApproximateReceiveCount, "1");
  });

  it("holds a message sent with delaySeconds back until the delay is over (fauxqs, in memory)", async () => {
    const q = makeQueue();
    const queue = new SqsWorkQueue({ client, queueUrl: q.queueUrl });
    const delayed = sample({ kind: "bay.poll" });
    const now = sample({ kind: "bay.create" });
    await queue.send(delayed, { delaySeconds: 1 });
    await queue.send(now);
    const first = await receive(q.queueUrl);
    assert.deepEqual(first.map((m) => JSON.parse(m.Body!)), [now]);
    const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: q.queueUrl, AttributeNames: ["ApproximateNumberOfMessagesDelayed"] }));
    assert.equal(attrs.Attributes?.ApproximateNumberOfMessagesDelayed, "1");
    await sleep(1100);
    const later = await receive(q.queueUrl, { wait: 1 });
    assert.deepEqual(later.map((m) => JSON.parse(m.Body!)), [delayed]);
  });

  it("sends a delay over SQS's 900 s as 900 s with notBefore in the body; up to 900 s as is (fauxqs, in memory)", async () => {
    const q = makeQueue();
    const t0 = Date.UTC(2026, 10, 25, 12, 0, 0);
    const queue = new SqsWorkQueue({ client: spyClient(q.queueUrl), queueUrl: q.queueUrl, now: () => t0 });
    const long = sample();
    const max = sample();
    await queue.send(long, { delaySeconds: 3600 });
    await queue.send(max, { delaySeconds: SQS_MAX_DELAY_SECONDS });
    assert.deepEqual(
      sent.map((s) => [s.DelaySeconds, JSON.parse(s.MessageBody).notBefore]),
      [
        [900, t0 + 3600_000],
        [900, undefined],
      ],
    );
    const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: q.queueUrl, AttributeNames: ["ApproximateNumberOfMessagesDelayed"] }));
    assert.equal(attrs.Attributes?.ApproximateNumberOfMessagesDelayed, "2");
    assert.deepEqual(await receive(q.queueUrl), []);
    assert.deepEqual(decodeBody(sent[0].MessageBody), { message: long, notBefore: t0 + 3600_000 });
  });

  it("chains a long delay: the worker re-sends the remainder when the message arrives early, and runs it once due (fauxqs, maxDelaySeconds 1 instead of 900; no Heat needed)", async () => {
    const q = makeQueue();
    const queue = new SqsWorkQueue({ client, queueUrl: q.queueUrl, maxDelaySeconds: 1 });
    const { deps, stores } = await workerOn(queue);
    const bay = sampleBay({ name: "orphan", baymodel_id: randomUUID() }); // its create fails it: no baymodel
    await stores.table.createBay(bay);
    const t0 = Date.now();
    await queue.send({ v: 1, kind: "bay.create", bayId: bay.uuid, projectId: bay.project_id, requestId: "req-chain", attempt: 0 }, { delaySeconds: 3 });
    const hops: Array<{ at: number; notBefore?: number; status?: string }> = [];
    while (Date.now() - t0 < 30_000) { // a bound for a broken chain only: the loop ends when the step has run
      const got = await receive(q.queueUrl, { wait: 1 });
      for (const m of got) {
        const res = await handleSqsBatch({ Records: [toRecord(m, q.queueArn)] }, deps);
        assert.deepEqual(res.batchItemFailures, []);
        await client.send(new DeleteMessageCommand({ QueueUrl: q.queueUrl, ReceiptHandle: m.ReceiptHandle! })); // what Lambda does on success
        hops.push({ at: Date.now() - t0, notBefore: decodeBody(m.Body!).notBefore, status: (await stores.table.getBay(bay.uuid))?.status });
      }
      if (hops.at(-1)?.status === "CREATE_FAILED") break;
    }
    assert.ok(hops.length >= 2, `arrived early at least once: ${JSON.stringify(hops)}`);
    const last = hops.at(-1)!;
    assert.equal(last.status, "CREATE_FAILED");
    assert.ok(last.at >= 2900, `ran only once the 3 s were over: ${JSON.stringify(hops)}`);
    for (const h of hops.slice(0, -1)) {
      assert.ok(h.notBefore! >= t0 + 3000, "early deliveries carry notBefore");
      assert.equal(h.status, "CREATE_IN_PROGRESS", "and did not run the step");
    }
    assert.deepEqual(await receive(q.queueUrl), []);
  });

  it("redrives a message received maxReceiveCount times to the DLQ, body and attributes intact; the DLQ consumer then fails its bay (fauxqs, in memory; no Heat needed)", async () => {
    const q = makeQueue({ maxReceiveCount: 2 });
    const queue = new SqsWorkQueue({ client, queueUrl: q.queueUrl });
    const { deps, stores } = await workerOn(queue);
    const bay = sampleBay({ name: "stuck" });
    await stores.table.createBay(bay);
    const m: WorkMessage = { v: 1, kind: "bay.create", bayId: bay.uuid, projectId: bay.project_id, requestId: "req-poison", attempt: 0 };
    await queue.send(m);
    for (let n = 1; n <= 2; n++) {
      const [got, ...rest] = await receive(q.queueUrl, { wait: 2, visibility: 1 });
      assert.deepEqual(rest, []);
      assert.equal(got?.Attributes?.ApproximateReceiveCount, String(n));
      // not deleted: as if the worker had reported it in batchItemFailures
    }
    await sleep(1100);
    assert.deepEqual(await receive(q.queueUrl, { wait: 1 }), [], "not delivered a third time");
    const [dead, ...more] = await receive(q.dlq!.queueUrl, { wait: 1 });
    assert.deepEqual(more, []);
    assert.deepEqual(JSON.parse(dead.Body!), m);
    assert.equal(dead.MessageAttributes?.kind?.StringValue, "bay.create");
    assert.equal(dead.MessageAttributes?.bayId?.StringValue, bay.uuid);

    const res = await handleDlqBatch({ Records: [toRecord(dead, q.dlq!.queueArn)] }, deps, { maxReceives: 2 });
    assert.deepEqual(res.batchItemFailures, []);
    const failed = await stores.table.getBay(bay.uuid);
    assert.equal(failed?.status, "CREATE_FAILED");
    assert.match(failed!.status_reason!, /after 2 deliveries \(request req-poison\)/);
  });

  it("refuses what SQS would (or should) not take: a non-v1 message, a negative delay", async () => {
    const q = makeQueue();
    const queue = new SqsWorkQueue({ client, queueUrl: q.queueUrl });
    await assert.rejects(queue.send({ ...sample(), v: 2 } as unknown as WorkMessage), TypeError);
    await assert.rejects(queue.send(sample(), { delaySeconds: -1 }), RangeError);
    assert.throws(() => new SqsWorkQueue({ client, queueUrl: q.queueUrl, maxDelaySeconds: 901 }), RangeError);
  });
});

/** The SendMessage inputs the adapter made, in order (the client still sends them to fauxqs). */
const sent: Array<{ DelaySeconds?: number; MessageBody: string }> = [];
function spyClient(queueUrl: string): SQSClient {
  const c = new SQSClient({ endpoint: `http://127.0.0.1:${server.port}`, region: REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  c.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { QueueUrl?: string; DelaySeconds?: number; MessageBody?: string };
      if (input.QueueUrl === queueUrl && input.MessageBody !== undefined) sent.push({ DelaySeconds: input.DelaySeconds, MessageBody: input.MessageBody });
      return next(args);
    },
    { step: "initialize", name: "bayforgeTestSpy" },
  );
  cleanups.push(() => c.destroy());
  return c;
}
