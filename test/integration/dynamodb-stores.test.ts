// The DynamoDB stores against dynalite (a DynamoDB-compatible server, in this process on
// 127.0.0.1, LevelDB files in a temp dir): the same BayTable, DiscoveryStore and BatchStore
// contracts the SQLite stores pass, the BayTable once with DynamoDB's own page size and once
// with one item per page (every list then spans many pages), plus what only this adapter has
// to prove: the table definition, pagination, the sparse index, event expiry, racing
// conditional writes, how a batch is laid out, and the chat-ops replay guard across clients.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import {
  BY_KIND_INDEX,
  BY_PROJECT_INDEX,
  BY_PROJECT_PK,
  BY_PROJECT_SK,
  DynamoReplayGuard,
  dynamoStores,
  keys,
  PARTITION_KEY,
  SORT_KEY,
  SPARSE_INDEX,
  SPARSE_PK,
  tableDefinition,
  TTL_ATTRIBUTE,
  type DynamoStoresOptions,
} from "../../shared/adapters/dynamodb/index.ts";
import type { Bay, BayEvent } from "../../shared/domain/model.ts";
import { VersionConflict, AlreadyExists } from "../../shared/ports/bay-table.ts";
import { bayTableContract, sampleBay, sampleBayModel, sampleCerts } from "../support/bay-table-contract.ts";
import { discoveryStoreContract, newToken } from "../support/discovery-store-contract.ts";
import { batchStoreContract, sampleBatch } from "../support/batch-store-contract.ts";
import { quotaStoreContract } from "../support/quota-store-contract.ts";
import { serviceRegistryContract } from "../support/service-registry-contract.ts";
import { SLACK_WINDOW_SECONDS, verifySlack, slackSignature } from "../../functions/webhook/verify.ts";

const require = createRequire(import.meta.url);
const dynalite = require("dynalite") as (options: { path?: string; createTableMs?: number }) => Server;

const TABLE = "bayforge-test";
let dir: string;
let server: Server;
let endpoint: string;
const clients: DynamoDBClient[] = [];

/** A fresh SDK client on dynalite: dummy credentials and region in its config, not in the env. */
function documentClient(): DynamoDBDocumentClient {
  const base = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDDYNALITE", secretAccessKey: "dynalite-secret" },
    maxAttempts: 1,
  });
  clients.push(base);
  return DynamoDBDocumentClient.from(base);
}

function open(options: Partial<DynamoStoresOptions> = {}) {
  const client = documentClient();
  return { client, ...dynamoStores({ client, tableName: TABLE, ...options }) };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bayforge-dynalite-"));
  server = dynalite({ path: dir, createTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = documentClient();
  await client.send(new CreateTableCommand(tableDefinition(TABLE)));
  for (let i = 0; ; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: TABLE }));
    if (Table?.TableStatus === "ACTIVE" && (Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === "ACTIVE")) break;
    if (i > 100) throw new Error(`table ${TABLE} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 20));
  }
});

after(async () => {
  for (const c of clients) c.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

bayTableContract("DynamoDB (dynalite)", async () => {
  const s = open();
  return { table: s.table, close: async () => s.client.destroy() };
});

bayTableContract("DynamoDB (dynalite), one item per query page", async () => {
  const s = open({ pageSize: 1 });
  return { table: s.table, close: async () => s.client.destroy() };
});

discoveryStoreContract("DynamoDB (dynalite)", async () => {
  const a = open();
  const b = open();
  return {
    discovery: a.discovery,
    other: b.discovery,
    close: async () => {
      a.client.destroy();
      b.client.destroy();
    },
  };
});

batchStoreContract("DynamoDB (dynalite)", async () => {
  const a = open();
  const b = open();
  return {
    batches: a.batches,
    other: b.batches,
    close: async () => {
      a.client.destroy();
      b.client.destroy();
    },
  };
});

quotaStoreContract("DynamoDB (dynalite)", async () => {
  const a = open();
  const b = open({ pageSize: 1 }); // every list through many query pages
  return {
    quotas: a.quotas,
    other: b.quotas,
    close: async () => {
      a.client.destroy();
      b.client.destroy();
    },
  };
});

serviceRegistryContract("DynamoDB (dynalite)", async () => {
  const a = open();
  const b = open({ pageSize: 1 }); // every list through many query pages
  return {
    services: a.services,
    other: b.services,
    close: async () => {
      a.client.destroy();
      b.client.destroy();
    },
  };
});

const at = (second: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, second)).toISOString();
const uuids = (items: { uuid: string }[]) => items.map((i) => i.uuid);

/** Counts the Query requests a client sends, and how many of them continued a previous page. */
function countQueries(client: DynamoDBDocumentClient) {
  const counts = { queries: 0, continued: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "QueryCommand") {
        counts.queries++;
        if ((args.input as { ExclusiveStartKey?: unknown }).ExclusiveStartKey) counts.continued++;
      }
      return next(args);
    },
    { step: "initialize", name: "countQueries" },
  );
  return counts;
}

describe("DynamoDB table definition", () => {
  it("is on-demand, keyed pk/sk, with the three GSIs the adapters query (projection ALL)", async () => {
    const def = tableDefinition("t");
    assert.equal(def.BillingMode, "PAY_PER_REQUEST");
    assert.deepEqual(def.KeySchema, [
      { AttributeName: PARTITION_KEY, KeyType: "HASH" },
      { AttributeName: SORT_KEY, KeyType: "RANGE" },
    ]);
    assert.deepEqual(def.GlobalSecondaryIndexes?.map((g) => g.IndexName), [BY_PROJECT_INDEX, BY_KIND_INDEX, SPARSE_INDEX]);
    for (const g of def.GlobalSecondaryIndexes ?? []) assert.equal(g.Projection?.ProjectionType, "ALL");
    const { Table } = await documentClient().send(new DescribeTableCommand({ TableName: TABLE }));
    assert.deepEqual(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort(), [BY_PROJECT_INDEX, BY_KIND_INDEX, SPARSE_INDEX].sort());
  });

  it("refuses a page size that is not a positive integer, and a retention that is not positive", () => {
    const client = documentClient();
    assert.throws(() => dynamoStores({ client, tableName: TABLE, pageSize: 0 }), RangeError);
    assert.throws(() => dynamoStores({ client, tableName: TABLE, pageSize: 1.5 }), RangeError);
    assert.throws(() => dynamoStores({ client, tableName: TABLE, eventRetentionDays: 0 }), RangeError);
  });
});

describe("DynamoDB stores: pagination", () => {
  it("lists that span many pages come back whole and in order", async () => {
    const s = open({ pageSize: 3 });
    const counts = countQueries(s.client);
    const project = `project-${randomUUID()}`;
    const bays: Bay[] = [];
    for (let i = 0; i < 17; i++) {
      // created out of order, some sharing a created_at (then ordered by uuid)
      const bay = sampleBay({ project_id: project, created_at: at((i * 7) % 11), status: i % 2 ? "CREATE_IN_PROGRESS" : "CREATE_COMPLETE" });
      bays.push(bay);
      await s.table.createBay(bay);
    }
    const expected = [...bays].sort((a, b) => (a.created_at + "#" + a.uuid < b.created_at + "#" + b.uuid ? -1 : 1));
    assert.deepEqual(await s.table.listBays({ projectId: project }), expected);
    assert.ok(counts.continued >= 5, `expected at least 6 pages, saw ${counts.queries} queries (${counts.continued} continued)`);

    const all = await s.table.listBays({});
    assert.deepEqual(all.filter((b) => b.project_id === project), expected);
    const inProgress = (await s.table.listBaysInProgress()).filter((b) => b.project_id === project);
    assert.deepEqual(inProgress, expected.filter((b) => b.status === "CREATE_IN_PROGRESS"));

    const models = [];
    for (let i = 0; i < 8; i++) {
      const m = sampleBayModel({ project_id: project, created_at: at(20 - i), public: i % 3 === 0 });
      models.push(m);
      await s.table.putBayModel(m);
    }
    // other projects' public baymodels (from other cases) are listed too: keep this project's
    const mine = (await s.table.listBayModels({ projectId: project })).filter((m) => m.project_id === project);
    assert.deepEqual(mine, [...models].reverse());

    const bayUuid = randomUUID();
    const events: BayEvent[] = Array.from({ length: 25 }, (_, i) => ({ bay_uuid: bayUuid, at: at(Math.floor(i / 4)), kind: "poll", detail: `#${i}` }));
    for (const e of events) await s.table.appendEvent(e);
    const before = counts.queries;
    assert.deepEqual(await s.table.listEvents(bayUuid), events);
    assert.ok(counts.queries - before >= 9, `25 events at 3 a page: ${counts.queries - before} queries`);
  });

  it("follows LastEvaluatedKey past DynamoDB's own 1 MB pages (no pageSize)", async () => {
    const s = open();
    const counts = countQueries(s.client);
    const bayUuid = randomUUID();
    // ~300 KB of detail a event: 5 events are more than one 1 MB page
    const big = "x".repeat(300_000);
    const events: BayEvent[] = Array.from({ length: 5 }, (_, i) => ({ bay_uuid: bayUuid, at: at(i), kind: "big", detail: `${i}${big}` }));
    for (const e of events) await s.table.appendEvent(e);
    const listed = await s.table.listEvents(bayUuid);
    assert.deepEqual(listed.map((e) => e.detail.slice(0, 1)), ["0", "1", "2", "3", "4"]);
    assert.deepEqual(listed, events);
    assert.ok(counts.continued >= 1, `expected a second page, saw ${counts.queries} queries`);
  });
});

describe("DynamoDB stores: items and indexes", () => {
  it("keeps an in-progress bay in the sparse index only while it is in progress", async () => {
    const s = open();
    const bay = sampleBay({ status: "UPDATE_IN_PROGRESS" });
    await s.table.createBay(bay);
    const raw = async () => (await s.client.send(new GetCommand({ TableName: TABLE, Key: keys.bay(bay.uuid) }))).Item;
    assert.equal((await raw())?.[SPARSE_PK], keys.bayInProgress);
    const done = await s.table.updateBay({ ...bay, status: "UPDATE_COMPLETE" }, bay.version);
    assert.equal((await raw())?.[SPARSE_PK], undefined);
    assert.ok(!uuids(await s.table.listBaysInProgress()).includes(bay.uuid));
    await s.table.updateBay({ ...done, status: "DELETE_IN_PROGRESS" }, done.version);
    assert.equal((await raw())?.[SPARSE_PK], keys.bayInProgress);
    assert.ok(uuids(await s.table.listBaysInProgress()).includes(bay.uuid));
  });

  it("gives every event an expires_at 90 days (or the configured retention) after it was appended", async () => {
    const now = Date.UTC(2026, 0, 1);
    const bayUuid = randomUUID();
    const s = open({ now: () => now });
    await s.table.appendEvent({ bay_uuid: bayUuid, at: at(1), kind: "accepted", detail: "" });
    const short = open({ now: () => now, eventRetentionDays: 7 });
    await short.table.appendEvent({ bay_uuid: bayUuid, at: at(2), kind: "certs", detail: "" });
    const { Items } = await s.client.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": PARTITION_KEY },
        ExpressionAttributeValues: { ":pk": keys.eventPartition(bayUuid) },
      }),
    );
    assert.deepEqual(Items?.map((i) => i[TTL_ATTRIBUTE]), [now / 1000 + 90 * 86_400, now / 1000 + 7 * 86_400]);
  });

  it("does not list events past their expiry that DynamoDB has not removed yet", async () => {
    let now = Date.UTC(2026, 0, 1);
    const s = open({ now: () => now, eventRetentionDays: 1 });
    const bayUuid = randomUUID();
    const old: BayEvent = { bay_uuid: bayUuid, at: at(1), kind: "accepted", detail: "old" };
    await s.table.appendEvent(old);
    now += 2 * 86_400_000;
    const fresh: BayEvent = { bay_uuid: bayUuid, at: at(2), kind: "poll", detail: "fresh" };
    await s.table.appendEvent(fresh);
    assert.deepEqual(await s.table.listEvents(bayUuid), [fresh]);
  });

  it("stores a bay's optional fields only when set, and gives them back as they were", async () => {
    const s = open();
    const bay = sampleBay({
      update: { node_count: 3, nodes_to_remove: ["1"], previous_node_count: 2, requested_at: at(1), request_id: "r" },
      minions: { "0": "10.0.0.5", "1": "10.0.0.6" },
      faults: [{ resource: "kube_masters", type: "OS::Heat::ResourceGroup", reason: null, time: null }],
      overrides: { labels: { a: "" }, docker_volume_size: null },
      bootstrap: null,
      trust_id: undefined,
    });
    await s.table.createBay(bay);
    const { trust_id: _dropped, ...expected } = bay;
    assert.deepEqual(await s.table.getBay(bay.uuid), expected);
  });
});

describe("DynamoDB stores: racing conditional writes", () => {
  it("of ten writers holding the same version exactly one wins, through separate clients", async () => {
    const bay = sampleBay({ version: 7 });
    await open().table.createBay(bay);
    const writers = Array.from({ length: 10 }, () => open().table);
    const results = await Promise.allSettled(
      writers.map((t, i) => t.updateBay({ ...bay, status: "CREATE_FAILED", status_reason: `writer ${i}` }, 7)),
    );
    const won = results.filter((r): r is PromiseFulfilledResult<Bay> => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(won.length, 1);
    assert.equal(lost.length, 9);
    for (const l of lost) assert.ok(l.reason instanceof VersionConflict, String(l.reason));
    const stored = await writers[0].getBay(bay.uuid);
    assert.deepEqual(stored, won[0].value);
    assert.equal(stored?.version, 8);
  });

  it("of ten creates of one uuid exactly one wins; of ten deletes at one version exactly one wins", async () => {
    const bay = sampleBay();
    const tables = Array.from({ length: 10 }, () => open().table);
    const creates = await Promise.allSettled(tables.map((t, i) => t.createBay({ ...bay, name: `bay-${i}` })));
    assert.equal(creates.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of creates) if (r.status === "rejected") assert.ok(r.reason instanceof AlreadyExists);
    const deletes = await Promise.allSettled(tables.map((t) => t.deleteBay(bay.uuid, bay.version)));
    assert.equal(deletes.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of deletes) if (r.status === "rejected") assert.ok(r.reason instanceof VersionConflict);
    assert.equal(await tables[0].getBay(bay.uuid), undefined);
  });

  it("ten workers racing to store a bay's CA all get the one that was stored", async () => {
    const bayUuid = randomUUID();
    const tables = Array.from({ length: 10 }, () => open().table);
    const got = await Promise.all(tables.map((t, i) => t.putCertsIfAbsent(sampleCerts(bayUuid, `worker-${i}`))));
    for (const g of got) assert.deepEqual(g, got[0]);
    assert.deepEqual(await tables[0].getCerts(bayUuid), got[0]);
  });

  it("registrations from many clients racing for a directory's places get distinct indexes, and no more than the limit", async () => {
    const token = newToken();
    const stores = Array.from({ length: 8 }, () => open().discovery);
    await stores[0].createDirectory(token, 5, new Date());
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => stores[i % stores.length].addMember(token, (i + 16).toString(16), `m${i}=http://h:${i}`, 21)),
    );
    const created = results.flatMap((r) => (r.outcome === "created" ? [r.index] : [])).sort((a, b) => a - b);
    assert.deepEqual(created, Array.from({ length: 21 }, (_, i) => i + 2));
    assert.equal(results.filter((r) => r.outcome === "full").length, 19);
    const snap = await stores[7].listMembers(token);
    assert.equal(snap?.directory.index, 22);
    assert.deepEqual(snap?.members.map((m) => m.createdIndex), created);
  });
});

describe("DynamoDB stores: batches", () => {
  it("keeps a batch as one item collection (the record, then one item per bay), its record listed under its project's batches and not among its bays", async () => {
    const s = open();
    const batch = sampleBatch(3);
    await s.batches.createBatch(batch);
    const { Items } = await s.client.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": PARTITION_KEY },
        ExpressionAttributeValues: { ":pk": keys.batchPartition(batch.id) },
      }),
    );
    assert.deepEqual(Items?.map((i) => i[SORT_KEY]), ["BATCH", "ITEM#000000", "ITEM#000001", "ITEM#000002"]);
    // the record holds the batch without its bays (they are in their own items)
    const record = Items![0].batch as { manifest: Record<string, unknown>; items?: unknown };
    assert.deepEqual(Object.keys(record.manifest), ["baymodels"]);
    assert.equal(record.items, undefined);
    assert.equal(Items![0].bay_count, 3);
    const byProject = await s.client.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: BY_PROJECT_INDEX,
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
        ExpressionAttributeNames: { "#pk": BY_PROJECT_PK, "#sk": BY_PROJECT_SK },
        ExpressionAttributeValues: { ":pk": keys.project(batch.project_id), ":prefix": "BATCH#" },
      }),
    );
    assert.deepEqual(byProject.Items?.map((i) => i[SORT_KEY]), ["BATCH"]);
    // a bay and a baymodel of the same project: the project's lists stay theirs
    const bay = sampleBay({ project_id: batch.project_id });
    await s.table.createBay(bay);
    await s.table.putBayModel(sampleBayModel({ project_id: batch.project_id }));
    assert.deepEqual(uuids(await s.table.listBays({ projectId: batch.project_id })), [bay.uuid]);
    assert.equal((await s.table.listBayModels({ projectId: batch.project_id })).filter((m) => m.project_id === batch.project_id).length, 1);
  });

  it("reads a batch whose bays span many query pages whole and in order", async () => {
    const s = open({ pageSize: 4 });
    const counts = countQueries(s.client);
    const batch = sampleBatch(30);
    await s.batches.createBatch(batch);
    assert.deepEqual(await s.batches.getBatch(batch.id), batch);
    assert.ok(counts.continued >= 7, `31 items at 4 a page: ${counts.queries} queries`);
  });

  it("reads a batch whose create died before all its bays were written as absent", async () => {
    const s = open();
    const batch = sampleBatch(3);
    await s.batches.createBatch(batch);
    await s.client.send(new DeleteCommand({ TableName: TABLE, Key: keys.batchItem(batch.id, 2) }));
    assert.equal(await s.batches.getBatch(batch.id), undefined);
  });
});

describe("DynamoDB stores: chat-ops replay guard", () => {
  it("a Slack signature accepted through one client (container) is refused through another until it expires", async () => {
    const secret = "signing-secret";
    const body = "team_id=T1&text=create+x";
    const nowMs = Date.UTC(2026, 10, 25, 12, 0, 0);
    const ts = Math.floor(nowMs / 1000) - 30;
    const headers = { timestamp: String(ts), signature: slackSignature(secret, ts, body) };
    const [first, second] = [new DynamoReplayGuard({ client: documentClient(), tableName: TABLE }), new DynamoReplayGuard({ client: documentClient(), tableName: TABLE })];
    assert.deepEqual(await verifySlack(secret, headers, body, first, nowMs), { ok: true });
    assert.deepEqual(await verifySlack(secret, headers, body, second, nowMs + 1000), { ok: false, reason: "replayed signature" });
    assert.deepEqual(await verifySlack(secret, headers, body, first, nowMs + 2000), { ok: false, reason: "replayed signature" });
    // the record expires (DynamoDB TTL) when the timestamp leaves Slack's window: ~6 minutes at most
    const key = /^v0=(.+)$/.exec(headers.signature)![1];
    const item = (await documentClient().send(new GetCommand({ TableName: TABLE, Key: keys.replay(`slack:${key}`) }))).Item;
    assert.equal(item?.[TTL_ATTRIBUTE], ts + SLACK_WINDOW_SECONDS + 1);
    assert.ok(item![TTL_ATTRIBUTE] - nowMs / 1000 <= 6 * 60);
  });

  it("of ten containers seeing the same request at once exactly one accepts it; an expired record DynamoDB has not removed yet does not count", async () => {
    const guards = Array.from({ length: 10 }, () => new DynamoReplayGuard({ client: documentClient(), tableName: TABLE }));
    const key = `slack:${randomUUID()}`;
    const now = Date.UTC(2026, 10, 25, 12, 0, 0);
    const firsts = await Promise.all(guards.map((g) => g.firstUse(key, now + 60_000, now)));
    assert.equal(firsts.filter(Boolean).length, 1);
    // past its expiry the record is still stored (TTL removes it later), yet the key is new again
    assert.equal(await guards[3].firstUse(key, now + 200_000, now + 61_000), true);
    assert.equal(await guards[4].firstUse(key, now + 300_000, now + 62_000), false);
  });
});
