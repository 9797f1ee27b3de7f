// ServiceRegistry on DynamoDB (single table, see table-definition.ts):
//
//   pk SERVICE#<host>     sk BINARY#<binary>   the row; gsi2 SERVICE / <id, 16 digits>
//   pk COUNTER#SERVICE    sk COUNTER           `value`: the last id handed out
//
// A beat on a known row is one UpdateItem (ADD report_count, conditional on the row existing);
// only the first beat of a (host, binary) takes an id from the counter (UpdateItem ADD, as
// quota-store.ts does) and makes the row with a conditional update. Of two first beats racing,
// the loser's id is skipped and its beat counted on the winner's row: ids only grow, may have
// gaps. The list is one Query of the by-kind index on SERVICE, already in id order.
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { checkService, type ServiceRecord, type ServiceRegistry } from "../../ports/service-registry.ts";
import { domainOf, isConditionFailed, nextCounterValue, queryAll, type DynamoContext, type Item } from "./items.ts";
import { BY_KIND_INDEX, BY_KIND_PK, BY_KIND_SK, ENTITY_ATTRIBUTE, PARTITION_KEY, SEP, SORT_KEY } from "./table-definition.ts";

const SERVICE_KIND = "SERVICE";
/** zero-padded so the index's string sort key orders ids numerically */
const ID_DIGITS = 16;

const serviceKey = (host: string, binary: string) => ({ [PARTITION_KEY]: `SERVICE${SEP}${host}`, [SORT_KEY]: `BINARY${SEP}${binary}` });

export class DynamoServiceRegistry implements ServiceRegistry {
  constructor(private readonly ctx: DynamoContext) {}

  async beat(host: string, binary: string, at: string): Promise<ServiceRecord> {
    checkService(host, binary);
    const again = await this.beatKnown(host, binary, at);
    if (again) return again;
    const id = await nextCounterValue(this.ctx, "SERVICE");
    try {
      const { Attributes } = await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: serviceKey(host, binary),
          UpdateExpression:
            "SET #id = :id, #host = :host, #binary = :binary, #created = :at, #updated = :null, #entity = :entity, #kpk = :kind, #ksk = :ksk ADD #count :one",
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: {
            "#pk": PARTITION_KEY, "#id": "id", "#host": "host", "#binary": "binary", "#created": "created_at", "#updated": "updated_at",
            "#entity": ENTITY_ATTRIBUTE, "#kpk": BY_KIND_PK, "#ksk": BY_KIND_SK, "#count": "report_count",
          },
          ExpressionAttributeValues: {
            ":id": id, ":host": host, ":binary": binary, ":at": at, ":null": null, ":entity": "service",
            ":kind": SERVICE_KIND, ":ksk": String(id).padStart(ID_DIGITS, "0"), ":one": 1,
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return serviceOf(Attributes as Item);
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    // another first beat made the row meanwhile: this one counts on it
    const counted = await this.beatKnown(host, binary, at);
    if (!counted) throw new Error(`the service row ${host}/${binary} was made and is gone again`);
    return counted;
  }

  async list(): Promise<ServiceRecord[]> {
    const items = await queryAll(this.ctx, {
      IndexName: BY_KIND_INDEX,
      KeyConditionExpression: "#pk = :kind",
      ExpressionAttributeNames: { "#pk": BY_KIND_PK },
      ExpressionAttributeValues: { ":kind": SERVICE_KIND },
    });
    return items.map(serviceOf);
  }

  /** The beat of a row that exists (one UpdateItem); undefined when there is none yet. */
  private async beatKnown(host: string, binary: string, at: string): Promise<ServiceRecord | undefined> {
    try {
      const { Attributes } = await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: serviceKey(host, binary),
          UpdateExpression: "SET #updated = :at ADD #count :one",
          ConditionExpression: "attribute_exists(#pk)",
          ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#updated": "updated_at", "#count": "report_count" },
          ExpressionAttributeValues: { ":at": at, ":one": 1 },
          ReturnValues: "ALL_NEW",
        }),
      );
      return serviceOf(Attributes as Item);
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }
}

/** The row out of its item, its attributes in the port's order (the key and index attributes dropped). */
function serviceOf(item: Item): ServiceRecord {
  const s = domainOf<ServiceRecord>(item);
  return { id: s.id, host: s.host, binary: s.binary, report_count: s.report_count, created_at: s.created_at, updated_at: s.updated_at ?? null };
}
