// The worker's Lambda batch handlers (functions/worker/lambda-batch.ts) on real-shaped SQS
// events, with the worker composed as the Lambda entry composes it (composeWorker) but on the
// embedded SQLite stores in a temp dir. No Heat is needed by any message here: the cloud
// points at a closed port, and every bay is gone, terminal, or fails before its stack
// (missing baymodel, deadline passed).
// Batch manifests run on the AWS stores (DynamoDB on dynalite, SQS on fauxqs), opened as the
// entry opens them (openAwsStores): the API Lambda accepts the manifest, the worker applies the
// batch.apply record SQS delivers, under the batch's lease in the table.
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { loadSettings } from "../../shared/config.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { openstackFor, type CloudConfig } from "../../shared/adapters/openstack/index.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { composeWorker } from "../../functions/worker/compose.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import { handleDlqBatch, handleSqsBatch } from "../../functions/worker/lambda-batch.ts";
import { encodeBody, messageAttributes } from "../../shared/adapters/sqs/work-queue.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import { sampleBay, sampleBayModel } from "../support/bay-table-contract.ts";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { openAwsStores } from "../../shared/adapters/aws/index.ts";
import { createLambdaHandler } from "../../functions/api/lambda.ts";
import type { LambdaEvent } from "hono/aws-lambda";
import { startLocalAws, type LocalAws } from "../support/aws-local.ts";
import { BAYMODEL } from "../support/api-harness.ts";

const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:bayforge-work";
const DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:bayforge-work-dlq";

/** A cloud nobody answers for (port 9, discard): a step that reached Heat would get ECONNREFUSED. */
const NOWHERE: CloudConfig = {
  cloud: "nowhere",
  source: "test",
  auth: { type: "password", authUrl: "http://127.0.0.1:9/v3", username: "bayforge", password: "unused", userDomainName: "Default", projectName: "service", projectDomainName: "Default" },
  interface: "public",
  insecure: false,
  endpointOverrides: {},
};

interface World {
  stores: LocalStores;
  deps: WorkerDeps;
  logs: string[];
  close(): Promise<void>;
}

const worlds: World[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

/** The worker as the Lambda entry composes it, on SQLite stores (queue clock `queueNow`, if given). */
async function world(o: { queueNow?: () => number } = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "bf-lambda-worker-"));
  const settings = loadSettings({ BAYFORGE_DATA_DIR: dir, BAYFORGE_AUTH: "noauth" });
  const stores = openLocalStores(dir, { queue: { now: o.queueNow } });
  const vault = await LocalKeyVault.forDataDir(dir, {});
  const cloud = openstackFor(NOWHERE, { retry: { attempts: 1 } });
  const logs: string[] = [];
  const log = createLogger({}, "debug", (l) => logs.push(l));
  const deps = composeWorker(settings, { ...stores, heat: cloud.heat, session: cloud.session, vault, log });
  const w: World = {
    stores,
    deps,
    logs,
    async close() {
      await cloud.close();
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  worlds.push(w);
  return w;
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

/** One record exactly as Lambda's SQS event source delivers it. */
function record(body: string, o: { receiveCount?: number; message?: WorkMessage; arn?: string } = {}): SQSRecord {
  const sent = Date.now() - 1500;
  const attrs = o.message ? messageAttributes(o.message) : {};
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${Buffer.from(randomUUID()).toString("base64")}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(o.receiveCount ?? 1),
      SentTimestamp: String(sent),
      SenderId: "AROAEXAMPLE:bayforge-api",
      ApproximateFirstReceiveTimestamp: String(sent + 20),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(attrs).map(([k, v]) => [k, { stringValue: v.StringValue, stringListValues: [], binaryListValues: [], dataType: "String" }]),
    ),
    md5OfBody: md5(body),
    ...(o.message ? { md5OfMessageAttributes: md5(JSON.stringify(attrs)) } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: o.arn ?? QUEUE_ARN,
    awsRegion: "eu-west-1",
  };
}

const msg = (kind: WorkMessage["kind"], bayId: string, extra: Partial<WorkMessage> = {}): WorkMessage => ({
  v: 1,
  kind,
  bayId,
  projectId: "project-1",
  requestId: `req-${randomUUID()}`,
  attempt: 0,
  ...extra,
});
const work = (m: WorkMessage, o: { receiveCount?: number; notBefore?: number; arn?: string } = {}) => record(encodeBody(m, o.notBefore), { ...o, message: m });

describe("handleSqsBatch (embedded SQLite stores; no Heat needed: the cloud is a closed port)", () => {
  it("a batch of 10 where 3 records fail reports exactly those 3 messageIds, and the other 7 did their work", async () => {
    const { stores, deps } = await world();
    const { table } = stores;
    const past = new Date(Date.now() - 60_000).toISOString();
    const complete = sampleBay({ name: "done", status: "CREATE_COMPLETE", stack_id: "stack-1" });
    const failed = sampleBay({ name: "broken", status: "CREATE_FAILED", status_reason: "earlier" });
    const orphan = sampleBay({ name: "orphan", baymodel_id: randomUUID() }); // its baymodel is gone
    const model = sampleBayModel();
    await table.putBayModel(model);
    const late = sampleBay({ name: "late", baymodel_id: model.uuid, deadline_at: past }); // past its deadline
    for (const b of [complete, failed, orphan, late]) await table.createBay(b);
    const chained = msg("bay.poll", complete.uuid, { seq: 4 });

    const ok: SQSRecord[] = [
      work(msg("bay.create", randomUUID())), // a bay deleted since: nothing to do
      work(msg("bay.poll", complete.uuid)), // terminal: nothing to do
      work(msg("bay.update", failed.uuid)), // not updating: nothing to do
      work(msg("bay.delete", randomUUID())), // already gone
      work(msg("bay.create", orphan.uuid)), // fails the bay: its baymodel no longer exists
      work(msg("bay.create", late.uuid), { receiveCount: 3 }), // fails the bay: deadline passed
      work(chained, { notBefore: Date.now() + 120_000 }), // a chained long delay, not due: re-sent
    ];
    const bad: SQSRecord[] = [
      record("{not json"), // malformed body
      record(JSON.stringify({ v: 1, kind: "bay.explode", bayId: complete.uuid, projectId: "p", requestId: "r", attempt: 0 })), // unknown step
      record(JSON.stringify({ v: 2, kind: "bay.create", bayId: orphan.uuid })), // unknown message version
    ];
    const records = [ok[0], bad[0], ok[1], ok[2], bad[1], ok[3], ok[4], ok[5], bad[2], ok[6]];
    assert.equal(records.length, 10);

    const res = await handleSqsBatch({ Records: records }, deps);

    assert.deepEqual(
      res.batchItemFailures.map((f) => f.itemIdentifier).sort(),
      bad.map((r) => r.messageId).sort(),
    );
    assert.equal((await table.getBay(orphan.uuid))?.status, "CREATE_FAILED");
    assert.match((await table.getBay(orphan.uuid))!.status_reason!, /BayModel .* no longer exists/);
    assert.equal((await table.getBay(late.uuid))?.status, "CREATE_FAILED");
    assert.match((await table.getBay(late.uuid))!.status_reason!, /timed out/);
    assert.equal((await table.getBay(complete.uuid))?.status, "CREATE_COMPLETE");
    assert.equal((await table.getBay(failed.uuid))?.status_reason, "earlier");
    // the chained message went back to the queue, delayed by its remainder, without notBefore
    const stats = await stores.queue.stats();
    assert.deepEqual([stats.delayed, stats.visible], [1, 0]);
  });

  it("re-sends a chained message that arrives early with the remainder (whole seconds), unchanged and without notBefore", async () => {
    let t = Date.now();
    const { stores, deps } = await world({ queueNow: () => t });
    deps.now = () => new Date(t);
    const m = msg("bay.poll", randomUUID(), { seq: 7, attempt: 2 });
    const res = await handleSqsBatch({ Records: [work(m, { notBefore: t + 90_500 })] }, deps);
    assert.deepEqual(res.batchItemFailures, []);
    assert.equal((await stores.queue.stats()).delayed, 1);
    t += 90_000;
    assert.deepEqual(await stores.queue.receive(10, 30), [], "held back for the whole remainder (91 s)");
    t += 1_000;
    const [again, ...rest] = await stores.queue.receive(10, 30);
    assert.deepEqual(rest, []);
    assert.deepEqual(again.body, m);
  });

  it("runs a chained message whose notBefore has passed", async () => {
    const { stores, deps } = await world();
    const bay = sampleBay({ name: "orphan2", baymodel_id: randomUUID() });
    await stores.table.createBay(bay);
    const res = await handleSqsBatch({ Records: [work(msg("bay.create", bay.uuid), { notBefore: Date.now() - 10 })] }, deps);
    assert.deepEqual(res.batchItemFailures, []);
    assert.equal((await stores.table.getBay(bay.uuid))?.status, "CREATE_FAILED");
    assert.equal((await stores.queue.stats()).delayed, 0);
  });

  it("handles the records of a batch in parallel, at most `concurrency` at a time", async () => {
    const { deps } = await world();
    let inFlight = 0;
    let most = 0;
    const getBay = deps.table.getBay.bind(deps.table);
    deps.table = Object.assign(Object.create(deps.table), {
      async getBay(uuid: string) {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 25));
        inFlight--;
        return getBay(uuid);
      },
    });
    const records = Array.from({ length: 10 }, () => work(msg("bay.create", randomUUID())));
    const res = await handleSqsBatch({ Records: records }, deps, { concurrency: 3 });
    assert.deepEqual(res.batchItemFailures, []);
    assert.equal(most, 3, "three at a time: not one at a time, not all ten");
  });

  it("answers an empty batch with no failures", async () => {
    const { deps } = await world();
    assert.deepEqual(await handleSqsBatch({ Records: [] } as SQSEvent, deps), { batchItemFailures: [] });
  });
});

describe("handleDlqBatch (embedded SQLite stores; no Heat needed)", () => {
  it("fails each dead letter's in-progress bay with a reason, leaves terminal and gone bays alone, and fails no record it understood", async () => {
    const { stores, deps } = await world();
    const { table } = stores;
    const stuck = sampleBay({ name: "stuck" });
    const updating = sampleBay({ name: "updating", status: "UPDATE_IN_PROGRESS", stack_id: "s-2" });
    const done = sampleBay({ name: "done", status: "CREATE_COMPLETE", stack_id: "s-1" });
    for (const b of [stuck, updating, done]) await table.createBay(b);
    const stuckMsg = msg("bay.create", stuck.uuid, { requestId: "req-stuck" });
    const records = [
      work(stuckMsg, { arn: DLQ_ARN, receiveCount: 1 }),
      work(msg("bay.update", updating.uuid), { arn: DLQ_ARN, notBefore: Date.now() + 600_000 }),
      work(msg("bay.poll", done.uuid), { arn: DLQ_ARN }),
      work(msg("bay.delete", randomUUID()), { arn: DLQ_ARN }),
      record("{not json", { arn: DLQ_ARN }), // cannot be understood: logged, acknowledged
      record(JSON.stringify({ hello: "world" }), { arn: DLQ_ARN }), // names no bay: logged, acknowledged
    ];
    const res = await handleDlqBatch({ Records: records }, deps, { maxReceives: 5 });
    assert.deepEqual(res.batchItemFailures, []);
    const s = await table.getBay(stuck.uuid);
    assert.equal(s?.status, "CREATE_FAILED");
    assert.match(s!.status_reason!, /could not process bay\.create for this bay after 5 deliveries \(request req-stuck\)/);
    assert.equal((await table.getBay(updating.uuid))?.status, "UPDATE_FAILED");
    assert.equal((await table.getBay(done.uuid))?.status, "CREATE_COMPLETE");
    const events = await table.listEvents(stuck.uuid);
    assert.ok(events.some((e) => e.kind === "failed"));
  });

  it("reports a record failed when its bay could not be marked failed (the table is unavailable), so it is retried", async () => {
    const { stores, deps, logs } = await world();
    const stuck = sampleBay({ name: "stuck" });
    await stores.table.createBay(stuck);
    await stores.close(); // the database connection is gone: every table call throws
    const r1 = work(msg("bay.create", stuck.uuid), { arn: DLQ_ARN });
    const r2 = record("{not json", { arn: DLQ_ARN });
    const res = await handleDlqBatch({ Records: [r1, r2] }, deps);
    assert.deepEqual(res.batchItemFailures, [{ itemIdentifier: r1.messageId }]);
    assert.ok(logs.some((l) => l.includes("will retry") && l.includes(r1.messageId)));
  });
});

describe("batch manifests on the AWS stores (DynamoDB on dynalite, SQS on fauxqs; noauth, local key vault: no KMS here)", () => {
  const PUBLIC_URL = "https://bayforge.example.com";
  let aws: LocalAws;
  let stores: ReturnType<typeof openAwsStores>;
  let deps: WorkerDeps;
  let api: ReturnType<typeof createLambdaHandler>;
  let closeCloud: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), "bf-lambda-worker-aws-"));

  const call = async (method: string, path: string, body?: unknown) => {
    const out = await api(
      {
        version: "2.0",
        routeKey: "$default",
        rawPath: path,
        rawQueryString: "",
        headers: { host: "api.example.com", "content-type": "application/json" },
        requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "test" }, requestId: randomUUID(), routeKey: "$default", stage: "$default", timeEpoch: Date.now() },
        isBase64Encoded: false,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      } as unknown as LambdaEvent,
    );
    return { status: out.statusCode, json: out.body ? JSON.parse(out.body) : undefined };
  };
  const manifest = (prefix: string) => ({
    baymodels: [{ ...BAYMODEL, name: `${prefix}-model` }],
    bays: ["a", "b", "c"].map((x, i) => ({ name: `${prefix}-${x}`, baymodel: `${prefix}-model`, node_count: i + 1 })),
  });
  const kinds = (records: SQSRecord[]) => records.map((r) => JSON.parse(r.body) as WorkMessage).map((m) => m.kind);
  let accepted: SQSRecord[] = [];
  let id = "";

  before(async () => {
    aws = await startLocalAws();
    stores = openAwsStores({ tableName: aws.tableName, queueUrl: aws.queueUrl, kmsKeyId: "unused" }, { dynamodb: aws.dynamodb(), sqs: aws.sqs });
    const settings = loadSettings({ BAYFORGE_DATA_DIR: dir, BAYFORGE_AUTH: "noauth", BAYFORGE_PUBLIC_URL: PUBLIC_URL });
    const vault = await LocalKeyVault.forDataDir(dir, {});
    const cloud = openstackFor(NOWHERE, { retry: { attempts: 1 } });
    closeCloud = () => cloud.close();
    const log = createLogger({}, "error", () => {});
    // as awsWorkerFromEnv composes it: the AWS stores (batches included) → composeWorker
    deps = composeWorker(settings, { ...stores, vault, heat: cloud.heat, session: cloud.session, log });
    api = createLambdaHandler({ settings, log, ...stores, vault });
  });
  after(async () => {
    await closeCloud?.();
    await aws?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("POST → the batch.apply record → three bays CREATE_IN_PROGRESS in DynamoDB with their creates on SQS; GET reports them created", async () => {
    const r = await call("POST", "/v1/batches", manifest("fleet"));
    assert.equal(r.status, 202, JSON.stringify(r.json));
    id = r.json.uuid;
    accepted = await aws.receiveRecords();
    assert.deepEqual(kinds(accepted), ["batch.apply"]);

    const res = await handleSqsBatch({ Records: accepted }, deps);
    assert.deepEqual(res.batchItemFailures, []);
    const creates = (await aws.receiveRecords()).map((rec) => JSON.parse(rec.body) as WorkMessage);
    assert.deepEqual(creates.map((m) => m.kind), ["bay.create", "bay.create", "bay.create"]);
    const bays = await stores.table.listBays({ projectId: "default" });
    const fleet = bays.filter((b) => b.name.startsWith("fleet-")).sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(fleet.map((b) => [b.name, b.status, b.node_count]), [["fleet-a", "CREATE_IN_PROGRESS", 1], ["fleet-b", "CREATE_IN_PROGRESS", 2], ["fleet-c", "CREATE_IN_PROGRESS", 3]]);
    assert.deepEqual(new Set(creates.map((m) => m.bayId)), new Set(fleet.map((b) => b.uuid)));
    // each with Bayforge's own etcd discovery directory, in the table, as POST /v1/bays makes them
    for (const b of fleet) assert.match(b.discovery_url ?? "", new RegExp(`^${PUBLIC_URL}/v1/discovery/[0-9a-f]{32}$`));

    const g = await call("GET", `/v1/batches/${id}`);
    assert.equal(g.status, 200);
    assert.equal(g.json.status, "applied");
    assert.deepEqual(g.json.summary, { total: 3, create: 3, scale: 0, unchanged: 0, pending: 0, complete: 0, in_progress: 3, failed: 0 });
    assert.deepEqual(g.json.bays.map((b: { name: string; status: string }) => [b.name, b.status]), [["fleet-a", "CREATE_IN_PROGRESS"], ["fleet-b", "CREATE_IN_PROGRESS"], ["fleet-c", "CREATE_IN_PROGRESS"]]);
  });

  it("a redelivered batch.apply record does nothing more", async () => {
    const res = await handleSqsBatch({ Records: accepted }, deps);
    assert.deepEqual(res.batchItemFailures, []);
    assert.deepEqual(await aws.receiveRecords(), []);
    assert.equal((await stores.table.listBays({ projectId: "default" })).filter((b) => b.name.startsWith("fleet-")).length, 3);
  });

  it("while another worker holds the batch's lease, a delivery creates nothing and comes back later (delayed on SQS)", async () => {
    const r = await call("POST", "/v1/batches", manifest("held"));
    assert.equal(r.status, 202);
    const records = await aws.receiveRecords();
    const now = new Date();
    assert.equal(await stores.batches.lease(r.json.uuid, "another-worker", new Date(now.getTime() + 120_000), now), true);
    const res = await handleSqsBatch({ Records: records }, deps);
    assert.deepEqual(res.batchItemFailures, []);
    assert.equal((await stores.table.listBays({ projectId: "default" })).filter((b) => b.name.startsWith("held-")).length, 0);
    const attrs = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: aws.queueUrl, AttributeNames: ["ApproximateNumberOfMessagesDelayed"] }));
    assert.equal(attrs.Attributes?.ApproximateNumberOfMessagesDelayed, "1");
    assert.deepEqual((await stores.batches.getBatch(r.json.uuid))?.items.map((i) => i.action), ["pending", "pending", "pending"]);

    // dead-lettered instead (the DLQ consumer): its bays still pending fail, and the batch is over
    const dlq = await handleDlqBatch({ Records: records }, deps, { maxReceives: 5 });
    assert.deepEqual(dlq.batchItemFailures, []);
    const g = await call("GET", `/v1/batches/${r.json.uuid}`);
    assert.equal(g.json.status, "applied");
    assert.deepEqual(g.json.bays.map((b: { action: string }) => b.action), ["failed", "failed", "failed"]);
    assert.match(g.json.bays[0].reason, /could not apply the batch after 5 deliveries/);
  });
});

describe("the worker's Lambda entry reads its configuration from the environment", () => {
  it("names every missing variable, and refuses noauth, before touching AWS", async () => {
    const { awsWorkerFromEnv } = await import("../../functions/worker/lambda.ts");
    const quiet = createLogger({}, "error", () => {});
    await assert.rejects(awsWorkerFromEnv({ BAYFORGE_AUTH: "noauth", BAYFORGE_PUBLIC_URL: "https://x" }, quiet), /for local use only/);
    await assert.rejects(awsWorkerFromEnv({ BAYFORGE_PUBLIC_URL: "https://x" }, quiet), /needs BAYFORGE_TABLE_NAME, BAYFORGE_QUEUE_URL, BAYFORGE_KMS_KEY_ID/);
  });
});
