// QuotaStore on DynamoDB (single table, see table-definition.ts):
//
//   pk PROJECT#<project>  sk QUOTA#<resource>   the quota; gsi2 QUOTA / <id, 15 digits>
//   pk COUNTER#QUOTA      sk COUNTER            `value`: the last id handed out
//
// A project's quotas are one Query on its partition (strongly consistent); every project's
// are one Query of the by-kind index on QUOTA, already in id order (eventually consistent, as
// any GSI). Ids come from the counter (UpdateItem ADD, atomic): an id whose create then loses
// to an existing quota is skipped, never handed out again, so ids only grow and may have gaps.
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { QuotaExists, type Quota, type QuotaResource, type QuotaStore } from "../../ports/quota-store.ts";
import { attributesOf, domainOf, isConditionFailed, nextCounterValue, queryAll, type DynamoContext, type Item } from "./items.ts";
import { BY_KIND_INDEX, BY_KIND_PK, BY_KIND_SK, ENTITY_ATTRIBUTE, PARTITION_KEY, SEP, SORT_KEY, keys } from "./table-definition.ts";

const QUOTA_KIND = "QUOTA";
const QUOTA_PREFIX = `QUOTA${SEP}`;
/** zero-padded so the index's string sort key orders ids numerically (up to Number.MAX_SAFE_INTEGER) */
const ID_DIGITS = 16;

const quotaKey = (projectId: string, resource: string) => ({ [PARTITION_KEY]: keys.project(projectId), [SORT_KEY]: `${QUOTA_PREFIX}${resource}` });

export class DynamoQuotaStore implements QuotaStore {
  constructor(private readonly ctx: DynamoContext) {}

  async createQuota(q: Omit<Quota, "id" | "updated_at">): Promise<Quota> {
    const quota: Quota = { id: await nextCounterValue(this.ctx, "QUOTA"), project_id: q.project_id, resource: q.resource, hard_limit: q.hard_limit, created_at: q.created_at, updated_at: null };
    try {
      await this.ctx.client.send(
        new PutCommand({
          TableName: this.ctx.tableName,
          Item: {
            ...attributesOf(quota),
            ...quotaKey(quota.project_id, quota.resource),
            [ENTITY_ATTRIBUTE]: "quota",
            [BY_KIND_PK]: QUOTA_KIND,
            [BY_KIND_SK]: String(quota.id).padStart(ID_DIGITS, "0"),
          },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": PARTITION_KEY },
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new QuotaExists(q.project_id, q.resource);
      throw err;
    }
    return quota;
  }

  async getQuota(projectId: string, resource: QuotaResource): Promise<Quota | undefined> {
    const { Item } = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: quotaKey(projectId, resource), ConsistentRead: true }));
    return Item ? quotaOf(Item) : undefined;
  }

  async listQuotas(filter: { projectId?: string }): Promise<Quota[]> {
    if (filter.projectId === undefined) {
      const items = await queryAll(this.ctx, {
        IndexName: BY_KIND_INDEX,
        KeyConditionExpression: "#pk = :kind",
        ExpressionAttributeNames: { "#pk": BY_KIND_PK },
        ExpressionAttributeValues: { ":kind": QUOTA_KIND },
      });
      return items.map(quotaOf);
    }
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
      ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#sk": SORT_KEY },
      ExpressionAttributeValues: { ":pk": keys.project(filter.projectId), ":prefix": QUOTA_PREFIX },
      ConsistentRead: true,
    });
    // the partition is in resource order; a project has one quota per resource, so few to sort
    return items.map(quotaOf).sort((a, b) => a.id - b.id);
  }

  async updateQuota(projectId: string, resource: QuotaResource, hardLimit: number, updatedAt: string): Promise<Quota | undefined> {
    try {
      const { Attributes } = await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: quotaKey(projectId, resource),
          UpdateExpression: "SET #limit = :limit, #updated = :updated",
          ConditionExpression: "attribute_exists(#pk)",
          ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#limit": "hard_limit", "#updated": "updated_at" },
          ExpressionAttributeValues: { ":limit": hardLimit, ":updated": updatedAt },
          ReturnValues: "ALL_NEW",
        }),
      );
      return quotaOf(Attributes as Item);
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }

  async deleteQuota(projectId: string, resource: QuotaResource): Promise<boolean> {
    const { Attributes } = await this.ctx.client.send(
      new DeleteCommand({ TableName: this.ctx.tableName, Key: quotaKey(projectId, resource), ReturnValues: "ALL_OLD" }),
    );
    return Attributes !== undefined;
  }
}

/** The quota out of its item (the key and index attributes stripped). */
function quotaOf(item: Item): Quota {
  return domainOf<Quota>(item);
}
