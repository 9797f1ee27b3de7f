// What both DynamoDB adapters share: paginated queries, conditional-failure detection, and
// the conversion between domain objects and items.
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { KEY_ATTRIBUTES } from "./table-definition.ts";

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
