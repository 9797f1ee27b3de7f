// The AWS adapters in one call, for the Lambda composition roots (functions/*/lambda*.ts):
// DynamoDB stores (bays, discovery, batches), the SQS work queue, the KMS key vault and
// Bayforge's own OpenStack cloud (from Secrets Manager, or from OS_* / OS_CLOUD like
// locally), configured by environment variables. Nothing here talks to AWS until it is used; the clients take region and
// credentials from the Lambda environment (AWS_REGION, the function's role).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { KMSClient } from "@aws-sdk/client-kms";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { loadSettings, type Settings } from "../../config.ts";
import type { BayTable } from "../../ports/bay-table.ts";
import type { DiscoveryStore } from "../../ports/discovery-store.ts";
import type { QuotaStore } from "../../ports/quota-store.ts";
import type { ReplayGuard } from "../../ports/replay-guard.ts";
import type { ServiceRegistry } from "../../ports/service-registry.ts";
import type { BatchStore } from "../../ports/batch-store.ts";
import { dynamoStores } from "../dynamodb/index.ts";
import { SqsWorkQueue } from "../sqs/work-queue.ts";
import { openstackFor, openstackFromEnv, type OpenStack } from "../openstack/index.ts";
import { KmsKeyVault } from "./kms-key-vault.ts";
import { OpenStackSecret } from "./openstack-secret.ts";

export { KmsKeyVault, KeyVaultError, KMS_FORMAT, type KmsKeyVaultOptions } from "./kms-key-vault.ts";
export { OpenStackSecret, cloudEnvFromSecret, type OpenStackSecretOptions } from "./openstack-secret.ts";
export { ChatOpsSecret, ChatOpsSecretError, chatopsFromSecret, type ChatOpsSecretOptions } from "./chatops-secret.ts";

/** The environment variables the Lambda functions read (besides loadSettings' BAYFORGE_*). */
export const AWS_ENV = {
  tableName: "BAYFORGE_TABLE_NAME",
  queueUrl: "BAYFORGE_QUEUE_URL",
  kmsKeyId: "BAYFORGE_KMS_KEY_ID",
  /** ARN or name of the secret holding Bayforge's OpenStack credentials (optional: else OS_* / OS_CLOUD) */
  openstackSecret: "BAYFORGE_OPENSTACK_SECRET_ARN",
  publicUrl: "BAYFORGE_PUBLIC_URL",
} as const;

export interface AwsConfig {
  tableName: string;
  queueUrl: string;
  kmsKeyId: string;
  openstackSecretId?: string;
}

/** Reads the AWS configuration; throws one error naming every required variable that is missing. */
export function awsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AwsConfig {
  const required = [AWS_ENV.tableName, AWS_ENV.queueUrl, AWS_ENV.kmsKeyId, AWS_ENV.publicUrl];
  const missing = required.filter((k) => !env[k]?.trim());
  if (missing.length) throw new Error(`Bayforge on AWS needs ${missing.join(", ")} (set by the deployment)`);
  return {
    tableName: env[AWS_ENV.tableName]!.trim(),
    queueUrl: env[AWS_ENV.queueUrl]!.trim(),
    kmsKeyId: env[AWS_ENV.kmsKeyId]!.trim(),
    openstackSecretId: env[AWS_ENV.openstackSecret]?.trim() || undefined,
  };
}

export interface AwsStores {
  table: BayTable;
  discovery: DiscoveryStore;
  /** batch manifests: the API serves /v1/batches with it, the worker applies them */
  batches: BatchStore;
  /** project quotas (/v1/quotas), enforced on every create */
  quotas: QuotaStore;
  /** Bayforge's own services and their heartbeats (/v1/mservices) */
  services: ServiceRegistry;
  /** signed requests seen (chat-ops, the nodes' agents), shared by every container */
  replay: ReplayGuard;
  queue: SqsWorkQueue;
  vault: KmsKeyVault;
}

/** Clients may be injected (tests, a custom endpoint); by default one per service from the environment. */
export interface AwsClients {
  dynamodb?: DynamoDBDocumentClient;
  sqs?: SQSClient;
  kms?: KMSClient;
  secrets?: SecretsManagerClient;
}

export function openAwsStores(cfg: AwsConfig, clients: AwsClients = {}): AwsStores {
  const { table, discovery, batches, quotas, services, replay } = dynamoStores({
    client: clients.dynamodb ?? DynamoDBDocumentClient.from(new DynamoDBClient({})),
    tableName: cfg.tableName,
  });
  return {
    table,
    discovery,
    batches,
    quotas,
    services,
    replay,
    queue: new SqsWorkQueue({ client: clients.sqs ?? new SQSClient({}), queueUrl: cfg.queueUrl }),
    vault: new KmsKeyVault({ client: clients.kms ?? new KMSClient({}), keyId: cfg.kmsKeyId }),
  };
}

/**
 * Bayforge's own cloud: from the secret when one is configured (read once), else from OS_CLOUD /
 * OS_* in the environment as locally. undefined when neither describes a cloud.
 */
export async function openstackFromAws(
  cfg: AwsConfig,
  env: NodeJS.ProcessEnv = process.env,
  o: { secrets?: SecretsManagerClient; logger?: { warn(msg: string, fields?: Record<string, unknown>): void } } = {},
): Promise<OpenStack | undefined> {
  if (!cfg.openstackSecretId) return openstackFromEnv(env, { logger: o.logger });
  const secret = new OpenStackSecret({ client: o.secrets ?? new SecretsManagerClient({}), secretId: cfg.openstackSecretId, cloud: env.OS_CLOUD || undefined });
  const cloud = await secret.cloudConfig();
  const logger = o.logger;
  return openstackFor(cloud, logger ? { onRetry: (n) => logger.warn("openstack request retried", { ...n, cloud: cloud.cloud }) } : {});
}

/**
 * loadSettings for a Lambda function, refusing what holds only locally: noauth (an API on the
 * internet without Keystone), and a public URL guessed from HOST/PORT.
 */
export function lambdaSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  if (env.BAYFORGE_AUTH && env.BAYFORGE_AUTH !== "keystone")
    throw new Error(`BAYFORGE_AUTH=${env.BAYFORGE_AUTH} is for local use only; Bayforge on AWS authenticates with Keystone`);
  if (!env[AWS_ENV.publicUrl]?.trim())
    throw new Error(`${AWS_ENV.publicUrl} must name the API's public URL (links, Location, and the URL bays' nodes call back)`);
  return loadSettings(env);
}

/** A value made on first use and kept for the container's life; a failure is not kept (the next call tries again). */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    const current = (p ??= make());
    current.catch(() => {
      if (p === current) p = undefined;
    });
    return current;
  };
}
