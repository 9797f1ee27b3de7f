// DiscoveryStore on DynamoDB: ONE item per directory (pk DISCOVERY#<token>, sk DIRECTORY)
// that holds its size, its etcd index AND its members, as two maps keyed by member id:
// `members` (id → value) and `indexes` (id → the index it was registered at).
//
// Why the members live inside the directory item (and not as items of their own):
// - A registration must, atomically, check that the id is new and that the directory is not
//   full, take the next index, and store the member. With members in the item that is ONE
//   conditional UpdateItem:
//     SET members.<id> = :value, indexes.<id> = index + 1, index = index + 1
//     IF attribute_exists(pk) AND attribute_not_exists(members.<id>) AND index <= :max
//   (index is 1 + the members registered, so `index <= max` is "fewer than max members";
//   the member's index goes in a second map, `indexes`, set in the same expression).
//   DynamoDB applies it to the item under its own lock: no transaction, which dynalite (the
//   tests' DynamoDB) does not have, and no read-modify-write window.
// - Reads are consistent for free: one strongly consistent GetItem returns the index and
//   exactly the members registered up to it, which is what the etcd watch logic needs
//   (listMembers' "consistent with directory.index"). With a counter item plus member items,
//   a writer that bumped the counter and died before putting its member would leave a hole
//   at that index forever, and a listing could see the index before the member.
// - It fits: the route allows at most MAX_CLUSTER_SIZE + EXTRA_REGISTRATIONS = 80 members of
//   at most 4096 characters each (~330 KB), under DynamoDB's 400 KB item limit.
// A refused update does not say which condition failed (dynalite has no
// ReturnValuesOnConditionCheckFailure), so the outcome is read back afterwards: members are
// never removed and the index only grows, so what the read shows is still why it failed.
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { DiscoveryDirectoryExists, type AddMemberResult, type DiscoveryDirectory, type DiscoveryMember, type DiscoverySnapshot, type DiscoveryStore } from "../../ports/discovery-store.ts";
import { isConditionFailed, type DynamoContext, type Item } from "./items.ts";
import { ENTITY_ATTRIBUTE, PARTITION_KEY, keys } from "./table-definition.ts";

interface DirectoryItem {
  token: string;
  size: number;
  /** 1 + the members registered (etcd's X-Etcd-Index for this directory) */
  index: number;
  created_at: string;
  /** member id → value (`<name>=<peer url>[,...]`) */
  members: Record<string, string>;
  /** member id → the index it was registered at */
  indexes: Record<string, number>;
}

const toDirectory = (d: DirectoryItem): DiscoveryDirectory => ({ token: d.token, size: d.size, index: d.index, createdAt: d.created_at });
const toMember = (d: DirectoryItem, id: string): DiscoveryMember => ({ id, value: d.members[id], createdIndex: Number(d.indexes[id]) });

export class DynamoDiscoveryStore implements DiscoveryStore {
  private readonly ctx: DynamoContext;

  constructor(ctx: DynamoContext) {
    this.ctx = ctx;
  }

  async createDirectory(token: string, size: number, createdAt: Date): Promise<DiscoveryDirectory> {
    const dir: DirectoryItem = { token, size, index: 1, created_at: createdAt.toISOString(), members: {}, indexes: {} };
    try {
      await this.ctx.client.send(
        new PutCommand({
          TableName: this.ctx.tableName,
          Item: { ...dir, ...keys.directory(token), [ENTITY_ATTRIBUTE]: "discovery-directory" },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": PARTITION_KEY },
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new DiscoveryDirectoryExists();
      throw err;
    }
    return toDirectory(dir);
  }

  async getDirectory(token: string): Promise<DiscoveryDirectory | undefined> {
    const dir = await this.read(token);
    return dir && toDirectory(dir);
  }

  async addMember(token: string, id: string, value: string, maxMembers: number): Promise<AddMemberResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const r = await this.ctx.client.send(
          new UpdateCommand({
            TableName: this.ctx.tableName,
            Key: keys.directory(token),
            // Right-hand operands read the item as it was before the update, so the member's
            // index and the directory's new index are the same number.
            UpdateExpression: "SET #members.#id = :value, #indexes.#id = #index + :one, #index = #index + :one",
            ConditionExpression: "attribute_exists(#pk) AND attribute_not_exists(#members.#id) AND #index <= :max",
            ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#members": "members", "#indexes": "indexes", "#id": id, "#index": "index" },
            ExpressionAttributeValues: { ":value": value, ":one": 1, ":max": maxMembers },
            ReturnValues: "UPDATED_NEW",
          }),
        );
        const index = Number((r.Attributes as { index?: unknown } | undefined)?.index);
        if (!Number.isInteger(index)) throw new Error(`the discovery directory update returned no index`);
        return { outcome: "created", member: { id, value, createdIndex: index }, index };
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      // Refused: find out why. Members are never removed and the index only grows, so the
      // state read now still explains the refusal.
      const dir = await this.read(token);
      if (!dir) return { outcome: "missing" };
      if (Object.hasOwn(dir.members ?? {}, id)) return { outcome: "exists", member: toMember(dir, id), index: dir.index };
      if (dir.index - 1 >= maxMembers) return { outcome: "full", index: dir.index };
      // none of the three (a directory written by something else?): try once more
    }
    throw new Error("a discovery registration was refused for no reason the directory shows");
  }

  async listMembers(token: string): Promise<DiscoverySnapshot | undefined> {
    const dir = await this.read(token);
    if (!dir) return undefined;
    const members = Object.keys(dir.members ?? {})
      .map((id) => toMember(dir, id))
      .sort((a, b) => a.createdIndex - b.createdIndex);
    return { directory: toDirectory(dir), members };
  }

  private async read(token: string): Promise<DirectoryItem | undefined> {
    const r = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: keys.directory(token), ConsistentRead: true }));
    return r.Item as (Item & DirectoryItem) | undefined;
  }
}
