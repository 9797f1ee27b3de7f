// What the DynamoDB adapters share: paginated queries, conditional-failure detection, integer
// ids from a counter item, and the conversion between domain objects and items.
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { ENTITY_ATTRIBUTE, KEY_ATTRIBUTES, PARTITION_KEY, SEP, SORT_KEY } from "./table-definition.ts";

export type Item = Record<string, unknown>;

export interface DynamoContext {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Limit per Query page; undefined = DynamoDB's own (1 MB). Small values are for tests. */
  pageSize?: number;
}

/**
 * Every item a query matches, following LastEvaluatedKey until there is none: a result is
 * never cut at DynamoDB's 1 MB page (nor at `pageSize`).
 */
export async function queryAll(ctx: DynamoContext, input: Omit<QueryCommandInput, "TableName" | "ExclusiveStartKey" | "Limit">): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await ctx.client.send(
      new QueryCommand({ ...input, TableName: ctx.tableName, Limit: ctx.pageSize, ExclusiveStartKey: start }),
    );
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A write refused by its ConditionExpression (the SDK's ConditionalCheckFailedException). */
export function isConditionFailed(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/**
 * The domain object as the attributes it is stored with: the same JSON round trip the SQLite
 * adapter stores (undefined members dropped, so the result does not depend on the client's
 * removeUndefinedValues option, and a read gives back exactly what a write was given).
 */
export function attributesOf<T extends object>(value: T): Item {
  return JSON.parse(JSON.stringify(value)) as Item;
}

/** The domain object out of an item: everything but the key and bookkeeping attributes. */
export function domainOf<T>(item: Item): T {
  const out: Item = { ...item };
  for (const k of KEY_ATTRIBUTES) delete out[k];
  return out as T;
}

/**
 * The next integer id of `counter` (1, 2, 3, ...: Magnum's quotas and services have integer
 * ids): one atomic ADD on the counter's own item, so two writers never get the same id.
 */
export async function nextCounterValue(ctx: DynamoContext, counter: string): Promise<number> {
  const { Attributes } = await ctx.client.send(
    new UpdateCommand({
      TableName: ctx.tableName,
      Key: { [PARTITION_KEY]: `COUNTER${SEP}${counter}`, [SORT_KEY]: "COUNTER" },
      UpdateExpression: "ADD #value :one SET #entity = :entity",
      ExpressionAttributeNames: { "#value": "value", "#entity": ENTITY_ATTRIBUTE },
      ExpressionAttributeValues: { ":one": 1, ":entity": "counter" },
      ReturnValues: "UPDATED_NEW",
    }),
  );
  const id = Number((Attributes as { value?: unknown } | undefined)?.value);
  if (!Number.isSafeInteger(id) || id < 1) throw new Error(`the ${counter} id counter returned ${String(Attributes?.value)}`);
  return id;
}
