// DynamoDB on dynalite (a DynamoDB-compatible server on LevelDB files), its data in the
// aws-local data dir so a restarted aws-local finds its bays again; the table created from the
// DynamoDB adapter's own definition (as the CDK stack's table is) when it is not there yet.
import { createRequire } from "node:module";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { tableDefinition } from "../../shared/adapters/dynamodb/table-definition.ts";

const require = createRequire(import.meta.url);
const dynalite = require("dynalite") as (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export async function startDynamo(dir: string): Promise<{ url: string; server: Server }> {
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((ok, no) => {
    server.once("error", no);
    server.listen(0, "127.0.0.1", () => ok());
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export async function ensureTable(client: DynamoDBClient, name: string): Promise<"created" | "found"> {
  let created = false;
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
  } catch (e) {
    if ((e as Error).name !== "ResourceNotFoundException") throw e;
    await client.send(new CreateTableCommand(tableDefinition(name)));
    created = true;
  }
  for (let i = 0; ; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === "ACTIVE" && (Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === "ACTIVE")) return created ? "created" : "found";
    if (i > 200) throw new Error(`table ${name} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
