// The chat-ops webhook on AWS Lambda behind API Gateway (or a function URL): the same Hono
// app as on the local server (composeWebhook), wrapped by hono/aws-lambda. Not deployed by
// infra/aws yet. It needs BAYFORGE_AUTH=noauth on this function (chat requests carry no
// Keystone token, see compose.ts), plus BAYFORGE_TABLE_NAME, BAYFORGE_QUEUE_URL,
// BAYFORGE_KMS_KEY_ID, BAYFORGE_PUBLIC_URL and the BAYFORGE_CHATOPS_* settings. The worker
// then creates these bays with Bayforge's own cloud credentials (bays without a trust).
// Replay protection is per container (memory) on Lambda: see verify.ts.
import { Hono } from "hono";
import { handle, type APIGatewayProxyResult, type LambdaContext, type LambdaEvent } from "hono/aws-lambda";
import { loadSettings, type Settings } from "../../shared/config.ts";
import { createLogger, type Logger } from "../../shared/observability/logger.ts";
import { awsConfigFromEnv, once, openAwsStores } from "../../shared/adapters/aws/index.ts";
import { composeWebhook, type WebhookParts } from "./compose.ts";

export interface LambdaWebhookParts extends WebhookParts {
  settings: Settings;
  log: Logger;
}

export type LambdaWebhookHandler = (event: LambdaEvent, context?: LambdaContext) => Promise<APIGatewayProxyResult>;

/** The webhook app as a Lambda handler, on the stores given. */
export function createLambdaHandler(parts: LambdaWebhookParts): LambdaWebhookHandler {
  const { settings, log, ...webhookParts } = parts;
  const app = composeWebhook(settings, webhookParts, log);
  // served at /slack and /mattermost, or under /webhook as on the local server
  const root = new Hono();
  root.route("/webhook", app);
  root.route("/", app);
  const run = handle(root);
  return (event, context) => run(event, context);
}

/** The handler on AWS, from the environment. */
export async function lambdaHandlerFromEnv(env: NodeJS.ProcessEnv = process.env, log: Logger = createLogger({ service: "bayforge", fn: "webhook" })): Promise<LambdaWebhookHandler> {
  const settings = loadSettings(env);
  const cfg = awsConfigFromEnv(env);
  const { table, queue, vault, discovery } = openAwsStores(cfg);
  return createLambdaHandler({ settings, log, table, queue, vault, discovery });
}

const webhook = once(() => lambdaHandlerFromEnv());

export async function handler(event: LambdaEvent, context?: LambdaContext): Promise<APIGatewayProxyResult> {
  return (await webhook())(event, context);
}
