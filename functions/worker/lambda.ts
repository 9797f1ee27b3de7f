// Composition root of the worker on AWS Lambda. Two handlers from one bundle:
//   handler       the work queue's SQS trigger (ReportBatchItemFailures): one step per record
//                 (bay steps, and batch.apply: a batch manifest's fan-out, from the table's batches)
//   sweepHandler  a schedule (EventBridge, e.g. every minute): re-sends the steps of idle bays
// The dead-letter queue's consumer is lambda-dlq.ts (the same dependencies).
//
// Configuration is the environment: BAYFORGE_TABLE_NAME, BAYFORGE_QUEUE_URL,
// BAYFORGE_KMS_KEY_ID, BAYFORGE_PUBLIC_URL, BAYFORGE_OPENSTACK_SECRET_ARN (else OS_* /
// OS_CLOUD), BAYFORGE_CHATOPS_SECRET_ARN when chat-ops is deployed (its mappings' credentials:
// chat-ops bays are made with them, in the mapped project), plus loadSettings' BAYFORGE_* tuning. Everything expensive (AWS clients, the
// secret, the Keystone session) is made once per container, on the first invocation; a
// failed start is not remembered, so the next invocation tries again. Every handler beats the
// services' row (bayforge-worker, host: the function's name) at most every 10 s per container,
// inside the invocation (shared/bays/heartbeat.ts); a failed beat fails no record.
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Settings } from "../../shared/config.ts";
import { createLogger, type Logger } from "../../shared/observability/logger.ts";
import { awsConfigFromEnv, lambdaSettings, once, openAwsStores, openstackFromAws } from "../../shared/adapters/aws/index.ts";
import { SERVICE_BINARIES, lambdaHeartbeat, lambdaHost, withBeat } from "../../shared/bays/heartbeat.ts";
import { KeystoneIdentity } from "../../shared/adapters/openstack/index.ts";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ChatOpsSecret } from "../../shared/adapters/aws/chatops-secret.ts";
import { composeWorker } from "./compose.ts";
import type { WorkerDeps } from "./deps.ts";
import { handleDlqBatch, handleSqsBatch } from "./lambda-batch.ts";
import { sweep } from "./sweeper.ts";

export interface AwsWorker {
  settings: Settings;
  deps: WorkerDeps;
  /** this container's heartbeat (lambdaHeartbeat); absent outside Lambda (no function name) */
  beat?: () => Promise<void>;
}

/** The worker's dependencies on AWS, from the environment (what both worker entry points use). */
export async function awsWorkerFromEnv(env: NodeJS.ProcessEnv = process.env, log: Logger = createLogger({ service: "bayforge", fn: "worker" })): Promise<AwsWorker> {
  const settings = lambdaSettings(env);
  const cfg = awsConfigFromEnv(env);
  const stores = openAwsStores(cfg);
  const cloud = await openstackFromAws(cfg, env, { logger: log.child({ fn: "openstack" }) });
  if (!cloud)
    throw new Error("no OpenStack cloud configured: set BAYFORGE_OPENSTACK_SECRET_ARN (a secret holding clouds.yaml or OS_* variables), or OS_CLOUD / OS_* for Bayforge's service user");
  const identity = new KeystoneIdentity(cloud.session, { trusteeDomain: settings.trusteeDomain });
  // chat-ops bays name their mapping; its credential is in the chat-ops secret (cached, re-read every few minutes)
  const chatopsSecretId = env.BAYFORGE_CHATOPS_SECRET_ARN?.trim();
  const chatops = chatopsSecretId ? new ChatOpsSecret({ client: new SecretsManagerClient({}), secretId: chatopsSecretId, logger: log }) : undefined;
  const mappingCredential = chatops ? async (ref: string) => (await chatops.settings()).credentials?.[ref] : undefined;
  const deps = composeWorker(settings, { ...stores, heat: cloud.heat, session: cloud.session, identity, log, mappingCredential });
  const host = lambdaHost(env);
  const beat = host ? lambdaHeartbeat(stores.services, { host, binary: SERVICE_BINARIES.worker, log }) : undefined;
  log.info("worker ready", { cloud: cloud.session.cloud.cloud, table: cfg.tableName });
  return { settings, deps, beat };
}

export const worker = once(() => awsWorkerFromEnv());

/** The work queue's SQS trigger. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { settings, deps, beat } = await worker();
  return withBeat(beat, () => handleSqsBatch(event, deps, { concurrency: settings.workerConcurrency }));
}

/** The sweeper, on a schedule: re-sends the step of every in-progress bay idle too long. */
export async function sweepHandler(): Promise<{ resent: number }> {
  const { deps, beat } = await worker();
  return withBeat(beat, async () => ({ resent: await sweep(deps) }));
}

/** The dead-letter queue's trigger (exported again as `handler` by lambda-dlq.ts). */
export async function dlqHandler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { settings, deps, beat } = await worker();
  return withBeat(beat, () => handleDlqBatch(event, deps, { concurrency: settings.workerConcurrency, maxReceives: settings.maxReceives }));
}
