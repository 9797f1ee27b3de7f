// The chat-ops webhook on AWS Lambda behind the HTTP API (POST /webhook/slack and
// /webhook/mattermost, deployed by infra/aws when a chat-ops secret is given): the same Hono
// app as on the local server (composeWebhook), wrapped by hono/aws-lambda.
//
// What differs from the local server:
// - The Slack signing secret, the Mattermost token and the team → project map come from a
//   Secrets Manager secret (BAYFORGE_CHATOPS_SECRET_ARN; shared/adapters/aws/chatops-secret.ts),
//   re-read every few minutes, so a rotated secret takes effect without a redeploy. Without
//   that variable, the BAYFORGE_CHATOPS_* variables as locally.
// - Replays are refused across containers: seen signatures are recorded in the DynamoDB table
//   (conditional put, TTL), not in this container's memory.
// - It is its own authority (signed requests from mapped teams), as chat-ops always is: chat
//   requests carry no Keystone token, so this function composes the webhook noauth-style even
//   though the API function beside it is Keystone-only. A mapping with an application
//   credential (or trust) in the secret makes bays that name it, and the worker (which reads
//   the same secret) makes their stacks with it, in the mapped project; a bare project id's
//   bays are made with Bayforge's own cloud credentials, as for BAYFORGE_AUTH=noauth.
// - It holds no key: without a Keystone token it makes no trustee, so it never encrypts or
//   decrypts anything (and is granted no KMS key: reading the table, it gets only ciphertext).
//
// Each container beats the services' row (bayforge-webhook, host: the function's name) at most
// every 10 s, inside an invocation (shared/bays/heartbeat.ts).
//
// Configuration: BAYFORGE_TABLE_NAME, BAYFORGE_QUEUE_URL, BAYFORGE_PUBLIC_URL,
// BAYFORGE_CHATOPS_SECRET_ARN, plus loadSettings' BAYFORGE_* tuning.
import { Hono } from "hono";
import { handle, type APIGatewayProxyResult, type LambdaContext, type LambdaEvent } from "hono/aws-lambda";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { loadSettings, type ChatOpsSettings, type Settings } from "../../shared/config.ts";
import { createLogger, type Logger } from "../../shared/observability/logger.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { ServiceRegistry } from "../../shared/ports/service-registry.ts";
import { SERVICE_BINARIES, lambdaHeartbeat, lambdaHost, withBeat } from "../../shared/bays/heartbeat.ts";
import { dynamoStores } from "../../shared/adapters/dynamodb/index.ts";
import { SqsWorkQueue } from "../../shared/adapters/sqs/work-queue.ts";
import { ChatOpsSecret } from "../../shared/adapters/aws/chatops-secret.ts";
import { composeWebhook, type WebhookParts } from "./compose.ts";
import { MemoryReplayGuard } from "./verify.ts";

/** The environment variables this function reads (besides loadSettings' BAYFORGE_*). */
export const WEBHOOK_ENV = {
  tableName: "BAYFORGE_TABLE_NAME",
  queueUrl: "BAYFORGE_QUEUE_URL",
  publicUrl: "BAYFORGE_PUBLIC_URL",
  chatopsSecret: "BAYFORGE_CHATOPS_SECRET_ARN",
} as const;

export interface LambdaWebhookParts extends WebhookParts {
  settings: Settings;
  log: Logger;
  /**
   * The chat-ops settings now (the secret, cached): asked on every request; when it answers
   * other values than before (a rotated secret) the app is composed again with them.
   * Default: settings.chatops, fixed.
   */
  chatops?: () => Promise<ChatOpsSettings>;
  /** the services' heartbeats, and the host this container beats as (bayforge-webhook); either absent → no heartbeat */
  services?: ServiceRegistry;
  heartbeatHost?: string;
}

export type LambdaWebhookHandler = (event: LambdaEvent, context?: LambdaContext) => Promise<APIGatewayProxyResult>;

/** The webhook app as a Lambda handler, on the stores given. */
export function createLambdaHandler(parts: LambdaWebhookParts): LambdaWebhookHandler {
  const { settings, log, chatops, services, heartbeatHost, ...rest } = parts;
  const beat = services && heartbeatHost ? lambdaHeartbeat(services, { host: heartbeatHost, binary: SERVICE_BINARIES.webhook, log }) : undefined;
  // one replay guard for every composition (a re-composed app must still know what was seen)
  const webhookParts: WebhookParts = { ...rest, replay: rest.replay ?? new MemoryReplayGuard() };
  let current: { chatops: ChatOpsSettings; run: ReturnType<typeof handle> } | undefined;
  const runFor = (values: ChatOpsSettings) => {
    if (current?.chatops !== values) {
      const app = composeWebhook({ ...settings, chatops: values }, webhookParts, log);
      // served under /webhook (the HTTP API's routes, as on the local server), or at /slack and /mattermost
      const root = new Hono();
      root.route("/webhook", app);
      root.route("/", app);
      current = { chatops: values, run: handle(root) };
    }
    return current.run;
  };
  if (!chatops) runFor(settings.chatops); // refuses a configuration without secrets at once
  return (event, context) => withBeat(beat, async () => runFor(chatops ? await chatops() : settings.chatops)(event, context));
}

/** The function refuses to encrypt: nothing on its path needs a key (see the top of this file). */
const NO_KEY: KeyVault = {
  encrypt: () => Promise.reject(new Error("the chat-ops webhook holds no key: it makes no trustees (no Keystone token)")),
  decrypt: () => Promise.reject(new Error("the chat-ops webhook holds no key")),
};

/** The handler on AWS, from the environment. Throws naming every required variable that is missing. */
export async function lambdaHandlerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  log: Logger = createLogger({ service: "bayforge", fn: "webhook" }),
  clients: { dynamodb?: DynamoDBDocumentClient; sqs?: SQSClient; secrets?: SecretsManagerClient } = {},
): Promise<LambdaWebhookHandler> {
  const missing = [WEBHOOK_ENV.tableName, WEBHOOK_ENV.queueUrl, WEBHOOK_ENV.publicUrl].filter((k) => !env[k]?.trim());
  if (missing.length) throw new Error(`the chat-ops webhook on AWS needs ${missing.join(", ")} (set by the deployment)`);
  // noauth-style: the webhook verifies every request itself (see the top of this file)
  const settings: Settings = { ...loadSettings(env), auth: "noauth" };
  const secretId = env[WEBHOOK_ENV.chatopsSecret]?.trim();
  const secret = secretId
    ? new ChatOpsSecret({ client: clients.secrets ?? new SecretsManagerClient({}), secretId, projectsFallback: env.BAYFORGE_CHATOPS_PROJECTS, logger: log })
    : undefined;
  const tableName = env[WEBHOOK_ENV.tableName]!.trim();
  const { table, discovery, replay, quotas, services } = dynamoStores({ client: clients.dynamodb ?? DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName });
  const queue = new SqsWorkQueue({ client: clients.sqs ?? new SQSClient({}), queueUrl: env[WEBHOOK_ENV.queueUrl]!.trim() });
  const chatops = secret ? () => secret.settings() : undefined;
  if (chatops) await chatops(); // a secret that cannot be read fails this start (tried again on the next request)
  log.info("webhook ready", { table: tableName, secret: secretId ?? null });
  return createLambdaHandler({ settings, log, table, queue, vault: NO_KEY, discovery, replay, quotas, chatops, services, heartbeatHost: lambdaHost(env) });
}

let webhook: Promise<LambdaWebhookHandler> | undefined;

export async function handler(event: LambdaEvent, context?: LambdaContext): Promise<APIGatewayProxyResult> {
  const current = (webhook ??= lambdaHandlerFromEnv());
  current.catch(() => {
    if (webhook === current) webhook = undefined; // a failed start is not kept
  });
  return (await current)(event, context);
}
