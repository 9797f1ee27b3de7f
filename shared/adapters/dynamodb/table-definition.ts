// The one DynamoDB table behind BayTable, DiscoveryStore, BatchStore, QuotaStore, ServiceRegistry and the chat-ops replay
// guard (single-table design): the key and index names, how every item type is keyed, and the
// CreateTable input that the tests give dynalite and the CDK app mirrors (infra/aws imports
// the constants below).
//
// Items (every key is a string; <created> is `<created_at>#<uuid>`):
//   bay            pk BAY#<uuid>          sk BAY
//                  gsi1 PROJECT#<project> / BAY#<created>
//                  gsi2 BAY / <created>
//                  gsi3 BAY#IN_PROGRESS / <created>   only while the status ends in _IN_PROGRESS
//   bay certs      pk BAY#<uuid>          sk CERTS
//   bay event      pk BAY#<uuid>          sk EVENT#<at>#<stamp>#<random>     expires_at (TTL)
//   baymodel       pk BAYMODEL#<uuid>     sk BAYMODEL
//                  gsi1 PROJECT#<project> / BAYMODEL#<created>
//                  gsi2 BAYMODEL / <created>
//                  gsi3 BAYMODEL#PUBLIC / <created>   only while public
//   discovery dir  pk DISCOVERY#<token>   sk DIRECTORY   (its members inside the item)
//   batch          pk BATCH#<id>          sk BATCH       (the batch without its bays; the lease)
//                  gsi1 PROJECT#<project> / BATCH#<created>
//   batch bay      pk BATCH#<id>          sk ITEM#<index, 6 digits>   (manifest entry + outcome)
//   chat replay    pk REPLAY#<key>        sk REPLAY      expires_at (TTL)
//   quota          pk PROJECT#<project>   sk QUOTA#<resource>
//                  gsi2 QUOTA / <id, 16 digits>
//   quota ids      pk COUNTER#QUOTA       sk COUNTER     `value`: the last id handed out (ADD)
//   service        pk SERVICE#<host>      sk BINARY#<binary>   (a heartbeat's row)
//                  gsi2 SERVICE / <id, 16 digits>
//   service ids    pk COUNTER#SERVICE     sk COUNTER     `value`: the last id handed out (ADD)
// Besides its keys an item holds the domain object's own attributes (Bay, BayModel, ...),
// plus `entity` (the item type, for people reading the table).
//
// Access patterns:
//  - a bay, its certs, a baymodel, a discovery directory with its members: GetItem
//    (strongly consistent).
//  - a project's bays / a project's own baymodels: Query gsi1 on PROJECT#<project>,
//    begins_with BAY# / BAYMODEL# (a project's bays and baymodels are one item collection).
//  - every bay / every baymodel (admins): Query gsi2 on BAY / BAYMODEL.
//  - baymodels visible to a project: its own (gsi1) merged with the public ones (gsi3 on
//    BAYMODEL#PUBLIC); other projects' private baymodels are never read.
//  - bays in progress (the sweeper): Query gsi3 on BAY#IN_PROGRESS. The key exists only while
//    the status ends in _IN_PROGRESS, so the index holds just those bays (sparse).
//  - a bay's events in time order: Query pk = BAY#<uuid>, begins_with(sk, EVENT#); append-only.
//  - a batch with its bays in manifest order: Query pk = BATCH#<id> (one item collection,
//    strongly consistent); a project's batches: Query gsi1 on PROJECT#<project>, begins_with
//    BATCH# (no route lists them yet; 'BATCH#' is not a prefix of 'BAY#' or the reverse).
//  - a chat-ops signature seen before: conditional PutItem on REPLAY#<key>.
//  - a project's quotas: Query pk = PROJECT#<project>, begins_with(sk, QUOTA#); every quota
//    (admins): Query gsi2 on QUOTA (see quota-store.ts).
//  - Bayforge's services (admins, /v1/mservices): Query gsi2 on SERVICE (service-registry.ts).
// Every list is ordered by created_at then uuid: '#' sorts below every character of an ISO
// 8601 time, so a time that is a prefix of another still sorts first, as with the SQLite
// adapter's ORDER BY created_at, uuid.
//
// gsi2's partitions (BAY, BAYMODEL) and gsi3's are one key each: fine at Magnum's scale (a
// partition takes 1000 writes/s, and only bay and baymodel writes go there); shard the key
// if bays ever number in the hundreds of thousands.
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

export const PARTITION_KEY = "pk";
export const SORT_KEY = "sk";

/** a project's bays and baymodels (gsi1pk = PROJECT#<project>) */
export const BY_PROJECT_INDEX = "gsi1-by-project";
export const BY_PROJECT_PK = "gsi1pk";
export const BY_PROJECT_SK = "gsi1sk";

/** every bay or every baymodel, for admins (gsi2pk = BAY | BAYMODEL) */
export const BY_KIND_INDEX = "gsi2-by-kind";
export const BY_KIND_PK = "gsi2pk";
export const BY_KIND_SK = "gsi2sk";

/** sparse: bays in progress (the sweeper) and public baymodels; the key is absent otherwise */
export const SPARSE_INDEX = "gsi3-sparse";
export const SPARSE_PK = "gsi3pk";
export const SPARSE_SK = "gsi3sk";

/** epoch seconds; the table's TTL attribute (the CDK table sets timeToLiveAttribute to it) */
export const TTL_ATTRIBUTE = "expires_at";

/** the item's type, for people reading the table (not used by any query) */
export const ENTITY_ATTRIBUTE = "entity";

/** Attributes the adapters add to the domain object; stripped again on read. */
export const KEY_ATTRIBUTES = [
  PARTITION_KEY, SORT_KEY, BY_PROJECT_PK, BY_PROJECT_SK, BY_KIND_PK, BY_KIND_SK, SPARSE_PK, SPARSE_SK,
  TTL_ATTRIBUTE, ENTITY_ATTRIBUTE,
] as const;

export interface GlobalIndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
}
/** The GSIs as the CDK app declares them (all string keys, projection ALL). */
export const GLOBAL_INDEXES: readonly GlobalIndexDefinition[] = [
  { name: BY_PROJECT_INDEX, partitionKey: BY_PROJECT_PK, sortKey: BY_PROJECT_SK },
  { name: BY_KIND_INDEX, partitionKey: BY_KIND_PK, sortKey: BY_KIND_SK },
  { name: SPARSE_INDEX, partitionKey: SPARSE_PK, sortKey: SPARSE_SK },
];

// Key values -------------------------------------------------------------------------------

export const SEP = "#";
export const keys = {
  bay: (uuid: string) => ({ [PARTITION_KEY]: `BAY${SEP}${uuid}`, [SORT_KEY]: "BAY" }),
  certs: (bayUuid: string) => ({ [PARTITION_KEY]: `BAY${SEP}${bayUuid}`, [SORT_KEY]: "CERTS" }),
  eventPartition: (bayUuid: string) => `BAY${SEP}${bayUuid}`,
  eventPrefix: `EVENT${SEP}`,
  bayModel: (uuid: string) => ({ [PARTITION_KEY]: `BAYMODEL${SEP}${uuid}`, [SORT_KEY]: "BAYMODEL" }),
  directory: (token: string) => ({ [PARTITION_KEY]: `DISCOVERY${SEP}${token}`, [SORT_KEY]: "DIRECTORY" }),
  batchPartition: (id: string) => `BATCH${SEP}${id}`,
  batch: (id: string) => ({ [PARTITION_KEY]: `BATCH${SEP}${id}`, [SORT_KEY]: "BATCH" }),
  batchItemPrefix: `ITEM${SEP}`,
  /** zero-padded, so the sort key order is the manifest's (a manifest has at most 1000 bays) */
  batchItem: (id: string, index: number) => ({ [PARTITION_KEY]: `BATCH${SEP}${id}`, [SORT_KEY]: `ITEM${SEP}${String(index).padStart(6, "0")}` }),
  batchKind: "BATCH",
  replay: (key: string) => ({ [PARTITION_KEY]: `REPLAY${SEP}${key}`, [SORT_KEY]: "REPLAY" }),
  project: (projectId: string) => `PROJECT${SEP}${projectId}`,
  /** the order every list follows: created_at, then uuid */
  created: (createdAt: string, uuid: string) => `${createdAt}${SEP}${uuid}`,
  bayKind: "BAY",
  bayModelKind: "BAYMODEL",
  bayInProgress: `BAY${SEP}IN_PROGRESS`,
  bayModelPublic: `BAYMODEL${SEP}PUBLIC`,
} as const;

/** CreateTable input: string pk/sk, the three GSIs (projection ALL), on-demand billing. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  const attributes = [PARTITION_KEY, SORT_KEY, ...GLOBAL_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])];
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: attributes.map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: "HASH" },
      { AttributeName: SORT_KEY, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: GLOBAL_INDEXES.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: "HASH" },
        { AttributeName: i.sortKey, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    })),
  };
}
