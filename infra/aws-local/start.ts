// `npm run aws-local`: Bayforge's AWS topology on one machine, from the synthesized template
// (template.ts): the HTTP API (http-api.ts) in front of the api function, the work queue and
// its DLQ on fauxqs with their event source mappings (sqs-event-source.ts), the sweeper on its
// schedule, DynamoDB on dynalite (dynamodb.ts), and stand-ins for KMS and Secrets Manager
// (aws-json-standins.ts). Each function runs its bundle in instances of its own
// (function-pool.ts). Bayforge's cloud: OS_CLOUD / OS_* as for `npm start` (else the dev cloud).
//
//   PORT (9511), HOST (127.0.0.1)           the HTTP API
//   BAYFORGE_AWS_LOCAL_SKIP_BUILD=1         use dist/ and cdk.out as they are (else build + synth first)
//   BAYFORGE_AWS_LOCAL_DIR                  data (default .bayforge/aws-local): tables, queues, keys
//   BAYFORGE_AWS_LOCAL_STATUS_PORT          a status endpoint (GET /status: each function's peak concurrency...)
//   BAYFORGE_AWS_LOCAL_SWEEP_SECONDS        the sweeper's schedule instead of the rule's rate
//   BAYFORGE_AWS_LOCAL_VISIBILITY_SECONDS   test knob: the redriven queues' visibility timeout instead of the template's
//   BAYFORGE_AWS_LOCAL_DELIVER_TWICE=1      test fault: every message is delivered twice
//   BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE  the chat-ops secret's JSON: the stack then has the webhook (chatops-secret-file.ts)
//   other BAYFORGE_* variables are added to every function's environment (the template's own win)
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join, resolve } from "node:path";
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { createLogger } from "../../shared/observability/logger.ts";
import { ENV } from "../aws/stack.ts";
import { startAwsJsonStandins } from "./aws-json-standins.ts";
import { ensureTable, startDynamo } from "./dynamodb.ts";
import { FunctionPool } from "./function-pool.ts";
import { startHttpApi } from "./http-api.ts";
import { openstackSecretValue } from "./openstack-secret-value.ts";
import { restoreQueues, snapshotQueues } from "./queue-snapshot.ts";
import { startSqs } from "./sqs-server.ts";
import { chatopsSecretFile } from "./chatops-secret-file.ts";
import { startEventSource } from "./sqs-event-source.ts";
import { ensureSynth } from "./synth.ts";
import { ACCOUNT, readTopology, templatePath, type Topology } from "./template.ts";

const root = resolve(import.meta.dirname, "..", "..");
const log = createLogger({ service: "bayforge", fn: "aws-local" });

export interface RunningAwsLocal {
  url: string;
  topology: Topology;
  pools: Map<string, FunctionPool>;
  /** the environment every function instance gets under its own (region, credentials, endpoints) */
  runtimeEnv: Record<string, string>;
  status(): unknown;
  stop(): Promise<void>;
}

/** Starts the whole topology (what `npm run aws-local` runs), configured by `env` (see the top of this file). */
export async function runAwsLocal(env: NodeJS.ProcessEnv = process.env): Promise<RunningAwsLocal> {
  const say = (msg: string, fields?: Record<string, unknown>) => log.info(msg, fields);
  const REGION = env.AWS_REGION ?? "us-east-1";
  const CREDENTIALS = { accessKeyId: "AKIDAWSLOCAL", secretAccessKey: "aws-local" };
  const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bayforge/openstack-AwsLcl`;

  const CHATOPS_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bayforge/chatops-AwsLcl`;
  const chatops = chatopsSecretFile(env);

  // with chat-ops, the stack as `cdk deploy -c chatopsSecretArn=…` makes it, in an assembly of its own
  const cdkOut = chatops ? join(root, ".bayforge", "cdk.out-chatops") : join(root, "cdk.out");
  const template = () => templatePath(cdkOut, env.BAYFORGE_AWS_LOCAL_STACK);
  await ensureSynth(root, template, say, {
    skipBuild: env.BAYFORGE_AWS_LOCAL_SKIP_BUILD === "1",
    ...(chatops ? { outdir: cdkOut, context: { chatopsSecretArn: CHATOPS_SECRET_ARN } } : {}),
  });
  const dataDir = resolve(env.BAYFORGE_AWS_LOCAL_DIR ?? join(root, ".bayforge", "aws-local"));
  mkdirSync(join(dataDir, "dynamodb"), { recursive: true, mode: 0o700 });
  const secretValue = openstackSecretValue(env, root, (m) => say(m));

  // Servers first: the template's values (queue URLs, the API's URL) name them.
  const dynamo = await startDynamo(join(dataDir, "dynamodb"));
  const sqsServer = await startSqs(REGION);
  const sqsEndpoint = sqsServer.endpoint;
  const routes = new Map<string, string>();
  const pools = new Map<string, FunctionPool>();
  const http = await startHttpApi(env.HOST ?? "127.0.0.1", Number(env.PORT ?? 9511), {
    routes,
    invoke: (id, event) => pools.get(id)!.invoke(event),
    apiId: "awslocal",
    region: REGION,
    accountId: ACCOUNT,
  });
  const topology = readTopology(template(), cdkOut, { region: REGION, queueUrlBase: sqsEndpoint, apiUrl: http.url, parameters: { OpenStackSecretArn: SECRET_ARN, PublicUrl: env.BAYFORGE_PUBLIC_URL ?? "", ...(chatops ? { ChatOpsSecretArn: CHATOPS_SECRET_ARN } : {}) } });

  const keyArns = [...new Set([...topology.functions.values()].map((f) => f.environment[ENV.kmsKeyId]).filter(Boolean))];
  const secrets = [{ arn: SECRET_ARN, name: "bayforge/openstack", value: secretValue }, ...(chatops ? [{ arn: CHATOPS_SECRET_ARN, name: "bayforge/chatops", value: chatops.read }] : [])];
  const standins = await startAwsJsonStandins({ dataDir, keyArns, secrets });
  if (chatops) say(`chat-ops: the webhook function serves ${[...topology.routes.keys()].filter((k) => k.includes("/webhook/")).join(", ")}; its secret is ${chatops.path}`);

  const dynamodb = new DynamoDBClient({ endpoint: dynamo.url, region: REGION, credentials: CREDENTIALS });
  for (const t of topology.tableNames) say(`table ${t} ${await ensureTable(dynamodb, t)}`);
  const sqs = new SQSClient({ endpoint: sqsEndpoint, region: REGION, credentials: CREDENTIALS });
  const queues = [...topology.queues.values()].sort((a, b) => Number(!!a.attributes.RedrivePolicy) - Number(!!b.attributes.RedrivePolicy)); // DLQs first
  const visibility = env.BAYFORGE_AWS_LOCAL_VISIBILITY_SECONDS;
  for (const q of queues) {
    const attributes = { ...q.attributes, ...(visibility && q.attributes.RedrivePolicy ? { VisibilityTimeout: visibility } : {}) };
    sqsServer.createQueue(q.name, q.url, q.arn, attributes);
    say(`queue ${q.name}`, attributes);
  }
  const snapshotFile = join(dataDir, "queues.json");
  const restored = await restoreQueues(snapshotFile, sqs, queues);
  if (restored) say(`restored ${restored} queued messages from the last run`);
  const stopSnapshots = snapshotQueues(snapshotFile, sqsServer, queues);

  // Functions: the runtime's environment, then the template's (which wins over passed-through BAYFORGE_*).
  const passed = Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && ((k.startsWith("BAYFORGE_") && !k.startsWith("BAYFORGE_AWS_LOCAL_")) || k === "LOG_LEVEL")) as Array<[string, string]>);
  const runtimeEnv = {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: "aws-local",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    AWS_ENDPOINT_URL_KMS: standins.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: standins.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...passed,
  };
  if (Object.keys(passed).length) say("added to every function's environment", { variables: Object.keys(passed) });
  for (const f of topology.functions.values()) {
    pools.set(f.logicalId, new FunctionPool(f, { runtimeEnv, arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${f.name}`, log: say }));
    say(`function ${f.name}`, { handler: `index.${f.exportName}`, timeoutSeconds: f.timeoutSeconds, memoryMB: f.memoryMB, reservedConcurrency: f.reservedConcurrency ?? null });
  }
  for (const [key, fn] of topology.routes) routes.set(key, fn);

  const sources = topology.mappings.map((m) => {
    say(`event source ${topology.queues.get(m.queueId)!.name} → ${topology.functions.get(m.functionId)!.name}`, { ...m });
    return startEventSource({
      sqs,
      queue: topology.queues.get(m.queueId)!,
      mapping: m,
      region: REGION,
      invoke: (event) => pools.get(m.functionId)!.invoke(event, { wait: true }),
      deliverTwice: env.BAYFORGE_AWS_LOCAL_DELIVER_TWICE === "1",
      log: (msg, fields) => log.warn(msg, fields),
    });
  });
  const timers = topology.schedules.map((s) => {
    const every = Number(env.BAYFORGE_AWS_LOCAL_SWEEP_SECONDS) || s.everySeconds;
    say(`schedule ${s.expression} → ${topology.functions.get(s.functionId)!.name}`, { everySeconds: every });
    return setInterval(async () => {
      const r = await pools.get(s.functionId)!.invoke(
        { version: "0", id: randomUUID(), "detail-type": "Scheduled Event", source: "aws.events", account: ACCOUNT, time: new Date().toISOString().replace(/\.\d+Z$/, "Z"), region: REGION, resources: [], detail: {} },
        { wait: true },
      );
      if (!r.ok) log.warn("scheduled invocation failed", { function: topology.functions.get(s.functionId)!.name, error: r.error.errorType, message: r.error.errorMessage });
    }, every * 1000);
  });

  const status = () => ({
    api: http.url,
    endpoints: { dynamodb: dynamo.url, sqs: sqsEndpoint, region: REGION, tables: topology.tableNames, queues: Object.fromEntries(queues.map((q) => [q.logicalId, q.url])) },
    functions: Object.fromEntries([...pools.values()].map((p) => [p.spec.logicalId, { name: p.spec.name, ...p.stats }])),
    mappings: topology.mappings.map((m, i) => ({ function: m.functionId, queue: m.queueId, maxConcurrency: m.maxConcurrency ?? null, ...sources[i].stats })),
  });
  const statusPort = env.BAYFORGE_AWS_LOCAL_STATUS_PORT;
  const statusServer = statusPort
    ? createServer((req, res) => {
        res.writeHead(req.url === "/status" ? 200 : 404, { "content-type": "application/json" });
        res.end(req.url === "/status" ? JSON.stringify(status()) : "{}");
      }).listen(Number(statusPort), "127.0.0.1")
    : undefined;

  say(`aws-local ready: HTTP API on ${http.url}`, { stack: topology.stackName, dataDir, status: statusPort ? `http://127.0.0.1:${statusPort}/status` : null });


  return {
    url: http.url,
    topology,
    pools,
    runtimeEnv,
    status,
    async stop() {
      for (const t of timers) clearInterval(t);
      http.server.close();
      statusServer?.close();
      await Promise.all(sources.map((s) => s.stop()));
      await Promise.all([...pools.values()].map((p) => p.close()));
      stopSnapshots();
      await sqsServer.stop();
      dynamo.server.close();
      standins.server.close();
      dynamodb.destroy();
      sqs.destroy();
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  const running = await runAwsLocal();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`, running.status() as Record<string, unknown>);
    await running.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}
