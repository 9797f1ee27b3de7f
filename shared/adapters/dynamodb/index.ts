// The AWS stores in one call: BayTable, DiscoveryStore, BatchStore, QuotaStore, ServiceRegistry and the chat-ops
// replay guard on one DynamoDB table (single-table design; keys and indexes in table-definition.ts,
// which the CDK app mirrors).
//
// The client is the caller's (region, credentials, endpoint: the composition root's choice).
// Use lib-dynamodb's default unmarshalling (numbers as JS numbers, not wrapNumbers).
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { BayTable } from "../../ports/bay-table.ts";
import type { BatchStore } from "../../ports/batch-store.ts";
import type { DiscoveryStore } from "../../ports/discovery-store.ts";
import type { QuotaStore } from "../../ports/quota-store.ts";
import type { ReplayGuard } from "../../ports/replay-guard.ts";
import type { ServiceRegistry } from "../../ports/service-registry.ts";
import { DynamoBayTable } from "./bay-table.ts";
import { DynamoBatchStore } from "./batch-store.ts";
import { DynamoDiscoveryStore } from "./discovery-store.ts";
import { DynamoQuotaStore } from "./quota-store.ts";
import { DynamoReplayGuard } from "./replay-guard.ts";
import { DynamoServiceRegistry } from "./service-registry.ts";

export { DynamoBayTable, DEFAULT_EVENT_RETENTION_DAYS, type DynamoBayTableOptions } from "./bay-table.ts";
export { DynamoBatchStore } from "./batch-store.ts";
export { DynamoDiscoveryStore } from "./discovery-store.ts";
export { DynamoQuotaStore } from "./quota-store.ts";
export { DynamoReplayGuard } from "./replay-guard.ts";
export { DynamoServiceRegistry } from "./service-registry.ts";
export * from "./table-definition.ts";

export interface DynamoStoresOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** days a bay event is kept before DynamoDB's TTL removes it (default 90) */
  eventRetentionDays?: number;
  /** items per Query page (default: DynamoDB's 1 MB pages); every list still follows all pages */
  pageSize?: number;
  /** clock for event expiry, in ms since the epoch (tests) */
  now?: () => number;
}

export interface DynamoStores {
  table: BayTable;
  discovery: DiscoveryStore;
  batches: BatchStore;
  /** project quotas (/v1/quotas) */
  quotas: QuotaStore;
  /** Bayforge's own services and their heartbeats (/v1/mservices) */
  services: ServiceRegistry;
  /** the chat-ops webhook's record of signatures already accepted */
  replay: ReplayGuard;
}

export function dynamoStores(options: DynamoStoresOptions): DynamoStores {
  const { client, tableName, pageSize } = options;
  return {
    table: new DynamoBayTable(options),
    discovery: new DynamoDiscoveryStore({ client, tableName, pageSize }),
    batches: new DynamoBatchStore({ client, tableName, pageSize }),
    quotas: new DynamoQuotaStore({ client, tableName, pageSize }),
    services: new DynamoServiceRegistry({ client, tableName, pageSize }),
    replay: new DynamoReplayGuard({ client, tableName }),
  };
}
