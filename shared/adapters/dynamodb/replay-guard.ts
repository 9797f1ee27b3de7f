// The chat-ops replay guard on DynamoDB: one item per accepted signature (pk REPLAY#<key>),
// written by a PutItem that succeeds only if no live item has that key. Every Lambda
// container shares the table, so a request replayed to another container is refused too
// (a guard in memory refuses it only in the container that saw it).
//
// expires_at is the table's TTL attribute: DynamoDB removes the item some time after it
// expires (within days, not at once), so the condition also lets an expired item that is
// still stored be written over: a signature counts as seen only until it expires.
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { ReplayGuard } from "../../ports/replay-guard.ts";
import { isConditionFailed, type DynamoContext } from "./items.ts";
import { ENTITY_ATTRIBUTE, PARTITION_KEY, TTL_ATTRIBUTE, keys } from "./table-definition.ts";

export class DynamoReplayGuard implements ReplayGuard {
  constructor(private readonly ctx: Pick<DynamoContext, "client" | "tableName">) {}

  async firstUse(key: string, expiresAt: number, now: number): Promise<boolean> {
    try {
      await this.ctx.client.send(
        new PutCommand({
          TableName: this.ctx.tableName,
          // seconds, rounded up: never forgotten before expiresAt
          Item: { ...keys.replay(key), [ENTITY_ATTRIBUTE]: "chatops-replay", [TTL_ATTRIBUTE]: Math.ceil(expiresAt / 1000) },
          ConditionExpression: "attribute_not_exists(#pk) OR #ttl <= :now",
          ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#ttl": TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ":now": Math.floor(now / 1000) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }
}
