// `npm run aws-local` as a user runs it, in a child process (its own process group, so a
// SIGKILL reaches the runner and every function instance at once), on its own data dir and
// port, against the dev cloud as its bayforge service user. Output goes to a log file.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { dynamoStores } from "../../shared/adapters/dynamodb/index.ts";
import { ROOT, devcloudEnv, freePort, killGroup } from "./bayforge-process.ts";

export interface AwsLocalStatus {
  api: string;
  endpoints: { dynamodb: string; sqs: string; region: string; tables: string[]; queues: Record<string, string> };
  functions: Record<string, { name: string; busy: number; peak: number; instances: number; started: number; limit: number | null }>;
  mappings: Array<{ function: string; queue: string; maxConcurrency: number | null; invocations: number; copies: number }>;
}

export interface AwsLocalProcess {
  url: string;
  dataDir: string;
  port: number;
  child: ChildProcess;
  logs(): string;
  status(): Promise<AwsLocalStatus>;
  /** the DynamoDB stores of its table, as a test reads them */
  stores(): Promise<ReturnType<typeof dynamoStores>>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface AwsLocalOptions {
  dataDir?: string;
  port?: number;
  env?: Record<string, string>;
}

export async function startAwsLocal(o: AwsLocalOptions = {}): Promise<AwsLocalProcess> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), "bf-awslocal-"));
  const port = o.port ?? (await freePort());
  const statusPort = await freePort();
  const logFile = join(dataDir, `aws-local-${Date.now()}.log`);
  const out = openSync(logFile, "a");
  const child = spawn("npm", ["run", "--silent", "aws-local"], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...devcloudEnv(),
      PORT: String(port),
      BAYFORGE_AWS_LOCAL_DIR: dataDir,
      BAYFORGE_AWS_LOCAL_STATUS_PORT: String(statusPort),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...o.env,
    },
    stdio: ["ignore", out, out],
    detached: true,
  });
  closeSync(out);
  const statusUrl = `http://127.0.0.1:${statusPort}/status`;
  const logs = () => readFileSync(logFile, "utf8");
  const status = async () => (await (await fetch(statusUrl)).json()) as AwsLocalStatus;
  let clients: DynamoDBClient | undefined;
  const p: AwsLocalProcess = {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    port,
    child,
    logs,
    status,
    async stores() {
      const s = await status();
      clients?.destroy();
      clients = new DynamoDBClient({ endpoint: s.endpoints.dynamodb, region: s.endpoints.region, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" } });
      return dynamoStores({ client: DynamoDBDocumentClient.from(clients), tableName: s.endpoints.tables[0] });
    },
    async kill(signal = "SIGKILL") {
      clients?.destroy();
      await killGroup(child, signal);
    },
  };
  const deadline = Date.now() + 120_000; // a start builds and synthesizes first
  while (!/aws-local ready/.test(logs())) {
    if (child.exitCode !== null) throw new Error(`aws-local exited early:\n${logs().slice(-4000)}`);
    if (Date.now() > deadline) {
      await p.kill();
      throw new Error(`aws-local did not start within 120 s:\n${logs().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return p;
}
