// BatchStore on DynamoDB (single table, see table-definition.ts): one item collection per
// batch, read whole by one strongly consistent Query.
//
//   pk BATCH#<id>  sk BATCH            the batch without its bays (`batch`, a map), how many
//                                      bays it has, and the fan-out lease (lease_holder,
//                                      lease_until in ms); gsi1 PROJECT#<project> / BATCH#<created>
//   pk BATCH#<id>  sk ITEM#<000042>    bay 42: its manifest entry (`bay`) and outcome (`item`)
//
// Why the bays are items of their own (and not inside the record): setItem is then one small
// UpdateItem per bay, eight of which run at once in the fan-out without rewriting (or racing
// on) a document of up to 1,000 bays, and no manifest can outgrow DynamoDB's 400 KB item.
// The lease sits beside the `batch` map, so updateBatch (which replaces the map) never
// touches it, and taking it is one conditional UpdateItem:
//   SET lease_holder = :me, lease_until = :until
//   IF attribute_exists(pk) AND (attribute_not_exists(lease_holder) OR lease_holder = :me OR lease_until < :now)
//
// createBatch writes the record first (conditional on its absence, so an id is never reused),
// then the bays (a few PutItems at a time: no transaction, which dynalite lacks, and no
// BatchWriteItem, which the functions are not granted). A batch whose bays are not all there
// (a create that died half way; the API answered 5xx and queued nothing) reads as absent.
import { PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Manifest, ManifestBay } from "../../domain/manifest.ts";
import type { Batch, BatchHeader, BatchItem, BatchStore } from "../../ports/batch-store.ts";
import { checkBatchItems } from "../../ports/preconditions.ts";
import { mapLimit } from "../../concurrency.ts";
import { attributesOf, isConditionFailed, queryAll, type DynamoContext, type Item } from "./items.ts";
import { BY_PROJECT_INDEX, BY_PROJECT_PK, BY_PROJECT_SK, ENTITY_ATTRIBUTE, PARTITION_KEY, SEP, SORT_KEY, keys } from "./table-definition.ts";

/** PutItems in flight at once while a batch's bays are written */
const WRITE_PARALLELISM = 16;

/** The batch as the record stores it: everything but its bays (manifest.bays and items). */
type BatchDoc = Omit<Batch, "items" | "manifest"> & { manifest: Omit<Manifest, "bays"> };

interface BatchBayItem {
  bay: ManifestBay;
  item: BatchItem;
}

export class DynamoBatchStore implements BatchStore {
  private readonly ctx: DynamoContext;

  constructor(ctx: DynamoContext) {
    this.ctx = ctx;
  }

  async createBatch(batch: Batch): Promise<void> {
    checkBatchItems(batch);
    await this.ctx.client.send(
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: {
          ...keys.batch(batch.id),
          [ENTITY_ATTRIBUTE]: "batch",
          [BY_PROJECT_PK]: keys.project(batch.project_id),
          [BY_PROJECT_SK]: `${keys.batchKind}${SEP}${keys.created(batch.created_at, batch.id)}`,
          batch: docOf(batch),
          bay_count: batch.items.length,
        },
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": PARTITION_KEY },
      }),
    );
    await mapLimit(batch.items, WRITE_PARALLELISM, (item, i) => {
      const bay: BatchBayItem = { bay: batch.manifest.bays[i], item };
      return this.ctx.client.send(
        new PutCommand({
          TableName: this.ctx.tableName,
          Item: { ...attributesOf(bay), ...keys.batchItem(batch.id, i), [ENTITY_ATTRIBUTE]: "batch-bay" },
        }),
      );
    });
  }

  async getBatch(id: string): Promise<Batch | undefined> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: "#pk = :pk",
      ExpressionAttributeNames: { "#pk": PARTITION_KEY },
      ExpressionAttributeValues: { ":pk": keys.batchPartition(id) },
      ConsistentRead: true,
    });
    const record = items.find((i) => i[SORT_KEY] === keys.batch(id)[SORT_KEY]);
    if (!record) return undefined;
    // sorted by sk: ITEM#000000, ITEM#000001, ... (the manifest's order)
    const bays = items.filter((i) => String(i[SORT_KEY]).startsWith(keys.batchItemPrefix)) as Array<Item & BatchBayItem>;
    if (bays.length !== Number(record.bay_count)) return undefined; // its create did not finish
    const doc = record.batch as BatchDoc;
    return {
      ...doc,
      manifest: { ...doc.manifest, bays: bays.map((b) => b.bay) },
      items: bays.map((b) => b.item),
    };
  }

  /** The project's batch records through the by-project index (eventually consistent, as any GSI). */
  async listBatches(projectId: string): Promise<BatchHeader[]> {
    const records = await queryAll(this.ctx, {
      IndexName: BY_PROJECT_INDEX,
      KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
      ExpressionAttributeNames: { "#pk": BY_PROJECT_PK, "#sk": BY_PROJECT_SK },
      ExpressionAttributeValues: { ":pk": keys.project(projectId), ":prefix": `${keys.batchKind}${SEP}` },
    });
    return records.map((r) => {
      const b = r.batch as BatchDoc;
      return { id: b.id, project_id: b.project_id, created_at: b.created_at, status: b.status };
    });
  }

  /** Replaces the batch's own fields (the `batch` map); its bays and its lease stay as they are. */
  async updateBatch(batch: Batch): Promise<void> {
    await this.ifExists(
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: keys.batch(batch.id),
        UpdateExpression: "SET #batch = :batch",
        ConditionExpression: "attribute_exists(#pk)",
        ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#batch": "batch" },
        ExpressionAttributeValues: { ":batch": docOf(batch) },
      }),
    );
  }

  async setItem(id: string, index: number, item: BatchItem): Promise<void> {
    await this.ifExists(
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: keys.batchItem(id, index),
        UpdateExpression: "SET #item = :item",
        ConditionExpression: "attribute_exists(#pk)",
        ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#item": "item" },
        ExpressionAttributeValues: { ":item": attributesOf(item) },
      }),
    );
  }

  async lease(id: string, holder: string, until: Date, now: Date): Promise<boolean> {
    try {
      await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: keys.batch(id),
          UpdateExpression: "SET #holder = :holder, #until = :until",
          ConditionExpression: "attribute_exists(#pk) AND (attribute_not_exists(#holder) OR #holder = :holder OR #until < :now)",
          ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#holder": "lease_holder", "#until": "lease_until" },
          ExpressionAttributeValues: { ":holder": holder, ":until": until.getTime(), ":now": now.getTime() },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async release(id: string, holder: string): Promise<void> {
    await this.ifExists(
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: keys.batch(id),
        UpdateExpression: "REMOVE #holder, #until",
        ConditionExpression: "#holder = :holder",
        ExpressionAttributeNames: { "#holder": "lease_holder", "#until": "lease_until" },
        ExpressionAttributeValues: { ":holder": holder },
      }),
    );
  }

  /** An update whose condition names the item it may change: refused means nothing to change (as an UPDATE of no row). */
  private async ifExists(command: UpdateCommand): Promise<void> {
    try {
      await this.ctx.client.send(command);
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
}

/** The record's `batch` map: the batch without its bays (JSON round trip, as the SQLite store keeps it). */
function docOf(batch: Batch): Item {
  const { items: _items, manifest, ...rest } = batch;
  const { bays: _bays, ...restOfManifest } = manifest;
  return attributesOf({ ...rest, manifest: restOfManifest });
}
