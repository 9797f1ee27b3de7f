// (Just over 300 lines on purpose: every BayTable method on DynamoDB, each one conditional write, side by side.)
// BayTable on DynamoDB (single table, see table-definition.ts for the keys). Each item holds
// the domain object's own attributes plus its keys; every conditional write is one PutItem or
// DeleteItem with a ConditionExpression, so no transaction is ever needed (dynalite, which
// the tests run against, has none).
//
// Consistency: GetItem is strongly consistent (callers read a version, then write on it).
// Lists come from GSIs, which DynamoDB keeps eventually consistent: a bay created a moment
// ago may be missing from a list for a fraction of a second (dynalite is always current).
import { randomBytes } from "node:crypto";
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Bay, BayCerts, BayEvent, BayModel } from "../../domain/model.ts";
import { isInProgress } from "../../domain/status.ts";
import { AlreadyExists, CertsChanged, VersionConflict, type BayTable, type ListFilter } from "../../ports/bay-table.ts";
import { checkReplacementCerts } from "../../ports/preconditions.ts";
import { attributesOf, domainOf, isConditionFailed, queryAll, type DynamoContext, type Item } from "./items.ts";
import {
  BY_KIND_INDEX, BY_KIND_PK, BY_KIND_SK, BY_PROJECT_INDEX, BY_PROJECT_PK, BY_PROJECT_SK, ENTITY_ATTRIBUTE,
  PARTITION_KEY, SEP, SORT_KEY, SPARSE_INDEX, SPARSE_PK, SPARSE_SK, TTL_ATTRIBUTE, keys,
} from "./table-definition.ts";

export const DEFAULT_EVENT_RETENTION_DAYS = 90;

export interface DynamoBayTableOptions extends DynamoContext {
  /** events expire (DynamoDB TTL on expires_at) this many days after they were appended; default 90 */
  eventRetentionDays?: number;
  /** the clock for event expiry (tests); default Date.now */
  now?: () => number;
}

const names = (...attrs: string[]) => Object.fromEntries(attrs.map((a) => [`#${a}`, a]));

export class DynamoBayTable implements BayTable {
  private readonly ctx: DynamoContext;
  private readonly retentionSeconds: number;
  private readonly now: () => number;
  /** last event stamp handed out by this process (strictly increasing, see appendEvent) */
  private lastStamp = 0;

  constructor(options: DynamoBayTableOptions) {
    const { client, tableName, pageSize } = options;
    if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1))
      throw new RangeError(`pageSize must be a positive integer, not ${pageSize}`);
    const days = options.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS;
    if (!(days > 0)) throw new RangeError(`eventRetentionDays must be > 0, not ${days}`);
    this.ctx = { client, tableName, pageSize };
    this.retentionSeconds = Math.round(days * 86_400);
    this.now = options.now ?? Date.now;
  }

  // --- baymodels ---------------------------------------------------------------------------

  async putBayModel(model: BayModel): Promise<void> {
    const created = keys.created(model.created_at, model.uuid);
    await this.put({
      ...attributesOf(model),
      ...keys.bayModel(model.uuid),
      [ENTITY_ATTRIBUTE]: "baymodel",
      [BY_PROJECT_PK]: keys.project(model.project_id),
      [BY_PROJECT_SK]: `${keys.bayModelKind}${SEP}${created}`,
      [BY_KIND_PK]: keys.bayModelKind,
      [BY_KIND_SK]: created,
      ...(model.public ? { [SPARSE_PK]: keys.bayModelPublic, [SPARSE_SK]: created } : {}),
    });
  }

  async getBayModel(uuid: string): Promise<BayModel | undefined> {
    return this.get<BayModel>(keys.bayModel(uuid));
  }

  async listBayModels(filter: ListFilter): Promise<BayModel[]> {
    if (filter.projectId === undefined) return (await this.queryKind(keys.bayModelKind)).map((i) => domainOf<BayModel>(i));
    const [own, shared] = await Promise.all([
      this.queryProject(filter.projectId, keys.bayModelKind),
      this.querySparse(keys.bayModelPublic),
    ]);
    // Own public baymodels are in both lists: keep one, in the order of the sort key.
    const byUuid = new Map<string, Item>();
    for (const item of [...own, ...shared]) byUuid.set(String(item.uuid), item);
    return [...byUuid.values()].sort(byKindSortKey).map((i) => domainOf<BayModel>(i));
  }

  /** The visible list filtered: a project's baymodels are few, and no index is keyed by name. */
  async listBayModelsNamed(name: string, filter: ListFilter): Promise<BayModel[]> {
    return (await this.listBayModels(filter)).filter((m) => m.name === name);
  }

  async deleteBayModel(uuid: string): Promise<void> {
    await this.ctx.client.send(new DeleteCommand({ TableName: this.ctx.tableName, Key: keys.bayModel(uuid) }));
  }

  // --- bays --------------------------------------------------------------------------------

  async createBay(bay: Bay): Promise<void> {
    try {
      await this.put(this.bayItem(bay), { ConditionExpression: `attribute_not_exists(#pk)`, ExpressionAttributeNames: names(PARTITION_KEY) });
    } catch (err) {
      if (isConditionFailed(err)) throw new AlreadyExists(bay.uuid);
      throw err;
    }
  }

  async getBay(uuid: string): Promise<Bay | undefined> {
    return this.get<Bay>(keys.bay(uuid));
  }

  async listBays(filter: ListFilter): Promise<Bay[]> {
    const items =
      filter.projectId === undefined
        ? await this.queryKind(keys.bayKind)
        : await this.queryProject(filter.projectId, keys.bayKind);
    return items.map((i) => domainOf<Bay>(i));
  }

  /** Counted by the project index with Select COUNT: only the keys are read, page by page, up to atMost. */
  async countBays(projectId: string, atMost: number): Promise<number> {
    let n = 0;
    let start: Record<string, unknown> | undefined;
    do {
      if (n >= atMost) return atMost;
      const page = await this.ctx.client.send(
        new QueryCommand({
          TableName: this.ctx.tableName,
          IndexName: BY_PROJECT_INDEX,
          KeyConditionExpression: `#pk = :pk AND begins_with(#sk, :prefix)`,
          ExpressionAttributeNames: { "#pk": BY_PROJECT_PK, "#sk": BY_PROJECT_SK },
          ExpressionAttributeValues: { ":pk": keys.project(projectId), ":prefix": `${keys.bayKind}${SEP}` },
          Select: "COUNT",
          Limit: Math.min(this.ctx.pageSize ?? Infinity, atMost - n),
          ExclusiveStartKey: start,
        }),
      );
      n += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return Math.min(n, atMost);
  }

  async listBaysInProgress(): Promise<Bay[]> {
    return (await this.querySparse(keys.bayInProgress)).map((i) => domainOf<Bay>(i));
  }

  /**
   * One conditional PutItem of the whole bay: the GSI keys are recomputed, so a bay leaving
   * *_IN_PROGRESS drops out of the sparse index in the same write. A bay that no longer
   * exists also answers VersionConflict (nothing to update at that version).
   */
  async updateBay(bay: Bay, expectedVersion: number): Promise<Bay> {
    const stored: Bay = { ...bay, version: expectedVersion + 1 };
    try {
      await this.put(this.bayItem(stored), {
        ConditionExpression: `attribute_exists(#pk) AND #version = :expected`,
        ExpressionAttributeNames: names(PARTITION_KEY, "version"),
        ExpressionAttributeValues: { ":expected": expectedVersion },
      });
    } catch (err) {
      if (isConditionFailed(err)) throw new VersionConflict(bay.uuid, expectedVersion);
      throw err;
    }
    return domainOf<Bay>(attributesOf(stored));
  }

  async deleteBay(uuid: string, expectedVersion: number): Promise<void> {
    try {
      await this.ctx.client.send(
        new DeleteCommand({
          TableName: this.ctx.tableName,
          Key: keys.bay(uuid),
          ConditionExpression: `#version = :expected`,
          ExpressionAttributeNames: names("version"),
          ExpressionAttributeValues: { ":expected": expectedVersion },
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new VersionConflict(uuid, expectedVersion);
      throw err;
    }
  }

  private bayItem(bay: Bay): Item {
    const created = keys.created(bay.created_at, bay.uuid);
    return {
      ...attributesOf(bay),
      ...keys.bay(bay.uuid),
      [ENTITY_ATTRIBUTE]: "bay",
      [BY_PROJECT_PK]: keys.project(bay.project_id),
      [BY_PROJECT_SK]: `${keys.bayKind}${SEP}${created}`,
      [BY_KIND_PK]: keys.bayKind,
      [BY_KIND_SK]: created,
      // sparse: only bays the sweeper has to look at are in gsi3
      ...(isInProgress(bay.status) ? { [SPARSE_PK]: keys.bayInProgress, [SPARSE_SK]: created } : {}),
    };
  }

  // --- certs -------------------------------------------------------------------------------

  /**
   * A PutItem conditional on the item's absence: of two racing workers exactly one CA is
   * stored. The loser reads the stored one back (strongly consistent); should it have been
   * deleted in between, the put is tried again rather than answering certs nobody stored.
   */
  async putCertsIfAbsent(certs: BayCerts): Promise<BayCerts> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.put(this.certsItem(certs), { ConditionExpression: `attribute_not_exists(#pk)`, ExpressionAttributeNames: names(PARTITION_KEY) });
        return domainOf<BayCerts>(attributesOf(certs));
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      const stored = await this.getCerts(certs.bay_uuid);
      if (stored) return stored;
    }
    throw new Error(`certs for bay ${certs.bay_uuid} kept vanishing during putCertsIfAbsent`);
  }

  async getCerts(bayUuid: string): Promise<BayCerts | undefined> {
    return this.get<BayCerts>(keys.certs(bayUuid));
  }

  /** One conditional PutItem on the stored created_at: of two rotations exactly one wins. */
  async replaceCerts(certs: BayCerts, expectedCreatedAt: string): Promise<BayCerts> {
    checkReplacementCerts(certs, expectedCreatedAt);
    try {
      await this.put(this.certsItem(certs), {
        ConditionExpression: `attribute_exists(#pk) AND #created_at = :expected`,
        ExpressionAttributeNames: names(PARTITION_KEY, "created_at"),
        ExpressionAttributeValues: { ":expected": expectedCreatedAt },
      });
    } catch (err) {
      if (isConditionFailed(err)) throw new CertsChanged(certs.bay_uuid, expectedCreatedAt);
      throw err;
    }
    return domainOf<BayCerts>(attributesOf(certs));
  }

  async deleteCerts(bayUuid: string): Promise<void> {
    await this.ctx.client.send(new DeleteCommand({ TableName: this.ctx.tableName, Key: keys.certs(bayUuid) }));
  }

  private certsItem(certs: BayCerts): Item {
    return { ...attributesOf(certs), ...keys.certs(certs.bay_uuid), [ENTITY_ATTRIBUTE]: "certs" };
  }

  // --- events ------------------------------------------------------------------------------

  /**
   * Append-only: a new item per event (conditional on its key being new, so nothing is ever
   * overwritten), sorted by `EVENT#<at>#<stamp>#<random>`. `stamp` is the append time in
   * microseconds, strictly increasing within this process, so events with the same `at` list
   * in the order they were appended (across processes: in the order of their clocks); the
   * random part keeps two processes' keys apart. `expires_at` lets DynamoDB's TTL remove the
   * event `eventRetentionDays` after it was appended.
   */
  async appendEvent(event: BayEvent): Promise<void> {
    const now = this.now();
    const expiresAt = Math.floor(now / 1000) + this.retentionSeconds;
    for (let attempt = 0; ; attempt++) {
      this.lastStamp = Math.max(this.lastStamp + 1, Math.floor(now * 1000));
      const sk = `${keys.eventPrefix}${event.at}${SEP}${String(this.lastStamp).padStart(17, "0")}${SEP}${randomBytes(6).toString("hex")}`;
      try {
        await this.put(
          {
            ...attributesOf(event),
            [PARTITION_KEY]: keys.eventPartition(event.bay_uuid),
            [SORT_KEY]: sk,
            [ENTITY_ATTRIBUTE]: "event",
            [TTL_ATTRIBUTE]: expiresAt,
          },
          { ConditionExpression: `attribute_not_exists(#pk)`, ExpressionAttributeNames: names(PARTITION_KEY) },
        );
        return;
      } catch (err) {
        if (!isConditionFailed(err) || attempt >= 3) throw err;
      }
    }
  }

  /**
   * The bay's events, oldest first. DynamoDB deletes expired items only eventually (within
   * days of expires_at), so expired ones still stored are filtered out here.
   */
  async listEvents(bayUuid: string): Promise<BayEvent[]> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: `#pk = :pk AND begins_with(#sk, :prefix)`,
      FilterExpression: `attribute_not_exists(#ttl) OR #ttl > :now`,
      ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#sk": SORT_KEY, "#ttl": TTL_ATTRIBUTE },
      ExpressionAttributeValues: { ":pk": keys.eventPartition(bayUuid), ":prefix": keys.eventPrefix, ":now": Math.floor(this.now() / 1000) },
      ConsistentRead: true,
    });
    return items.map((i) => domainOf<BayEvent>(i));
  }

  // --- helpers -----------------------------------------------------------------------------

  private async put(item: Item, condition: Pick<ConstructorParameters<typeof PutCommand>[0], "ConditionExpression" | "ExpressionAttributeNames" | "ExpressionAttributeValues"> = {}) {
    await this.ctx.client.send(new PutCommand({ TableName: this.ctx.tableName, Item: item, ...condition }));
  }

  private async get<T>(key: Item): Promise<T | undefined> {
    const r = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: key, ConsistentRead: true }));
    return r.Item ? domainOf<T>(r.Item as Item) : undefined;
  }

  /** a project's bays or own baymodels, by created_at then uuid */
  private queryProject(projectId: string, kind: string): Promise<Item[]> {
    return queryAll(this.ctx, {
      IndexName: BY_PROJECT_INDEX,
      KeyConditionExpression: `#pk = :pk AND begins_with(#sk, :prefix)`,
      ExpressionAttributeNames: { "#pk": BY_PROJECT_PK, "#sk": BY_PROJECT_SK },
      ExpressionAttributeValues: { ":pk": keys.project(projectId), ":prefix": `${kind}${SEP}` },
    });
  }

  /** every bay or every baymodel, by created_at then uuid */
  private queryKind(kind: string): Promise<Item[]> {
    return queryAll(this.ctx, {
      IndexName: BY_KIND_INDEX,
      KeyConditionExpression: `#pk = :pk`,
      ExpressionAttributeNames: { "#pk": BY_KIND_PK },
      ExpressionAttributeValues: { ":pk": kind },
    });
  }

  private querySparse(partition: string): Promise<Item[]> {
    return queryAll(this.ctx, {
      IndexName: SPARSE_INDEX,
      KeyConditionExpression: `#pk = :pk`,
      ExpressionAttributeNames: { "#pk": SPARSE_PK },
      ExpressionAttributeValues: { ":pk": partition },
    });
  }
}

/** Code-unit (not locale) order of the sort key: DynamoDB's byte order for these ASCII keys. */
function byKindSortKey(a: Item, b: Item): number {
  const x = String(a[BY_KIND_SK]);
  const y = String(b[BY_KIND_SK]);
  return x < y ? -1 : x > y ? 1 : 0;
}
