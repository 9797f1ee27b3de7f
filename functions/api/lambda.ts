// Composition root of the API on AWS Lambda behind API Gateway (HTTP API, payload 2.0; v1
// and function URLs work too): the same Hono app as the local server (composeApi), wrapped by
// hono/aws-lambda. `createLambdaHandler` is how both this entry and the tests build it.
//
// Configuration is the environment: BAYFORGE_TABLE_NAME, BAYFORGE_QUEUE_URL,
// BAYFORGE_KMS_KEY_ID, BAYFORGE_PUBLIC_URL, BAYFORGE_OPENSTACK_SECRET_ARN (else OS_* /
// OS_CLOUD: Bayforge's service user, which validates tokens and makes trusts), plus
// loadSettings' BAYFORGE_*. Keystone auth only. Everything expensive is made once per
// container, on the first request; a failed start is not remembered. Each container beats
// the services' row (host: the function's name, AWS_LAMBDA_FUNCTION_NAME) at most every 10 s,
// inside an invocation (shared/bays/heartbeat.ts).
import { handle, type APIGatewayProxyResult, type LambdaContext, type LambdaEvent } from "hono/aws-lambda";
import type { Settings } from "../../shared/config.ts";
import { createLogger, type Logger } from "../../shared/observability/logger.ts";
import { awsConfigFromEnv, lambdaSettings, once, openAwsStores, openstackFromAws } from "../../shared/adapters/aws/index.ts";
import { SERVICE_BINARIES, lambdaHeartbeat, lambdaHost, withBeat } from "../../shared/bays/heartbeat.ts";
import { composeApi, type ApiParts } from "./compose.ts";

export interface LambdaApiParts extends ApiParts {
  settings: Settings;
  log: Logger;
  /** with `services`: the host this container beats as (bayforge-api); absent → no heartbeat */
  heartbeatHost?: string;
}

export type LambdaApiHandler = (event: LambdaEvent, context?: LambdaContext) => Promise<APIGatewayProxyResult>;

/** The API app as a Lambda handler, on the stores, vault and cloud given. */
export function createLambdaHandler(parts: LambdaApiParts): LambdaApiHandler {
  const { settings, log, heartbeatHost, ...apiParts } = parts;
  const run = handle(composeApi(settings, apiParts, log));
  const beat = heartbeatHost && parts.services ? lambdaHeartbeat(parts.services, { host: heartbeatHost, binary: SERVICE_BINARIES.api, log }) : undefined;
  return (event, context) => withBeat(beat, () => run(event, context));
}

/** The handler on AWS, from the environment. */
export async function lambdaHandlerFromEnv(env: NodeJS.ProcessEnv = process.env, log: Logger = createLogger({ service: "bayforge", fn: "api" })): Promise<LambdaApiHandler> {
  const settings = lambdaSettings(env);
  const cfg = awsConfigFromEnv(env);
  const { table, queue, vault, discovery, batches, quotas, services, replay } = openAwsStores(cfg);
  const cloud = await openstackFromAws(cfg, env, { logger: log.child({ fn: "openstack" }) });
  if (!cloud)
    throw new Error("no OpenStack cloud configured for Keystone auth: set BAYFORGE_OPENSTACK_SECRET_ARN (a secret holding clouds.yaml or OS_* variables), or OS_CLOUD / OS_* for Bayforge's service user");
  log.info("api ready", { cloud: cloud.session.cloud.cloud, table: cfg.tableName });
  return createLambdaHandler({ settings, log, table, queue, vault, discovery, batches, quotas, services, nodeReplay: replay, heartbeatHost: lambdaHost(env), session: cloud.session });
}

const api = once(() => lambdaHandlerFromEnv());

export async function handler(event: LambdaEvent, context?: LambdaContext): Promise<APIGatewayProxyResult> {
  return (await api())(event, context);
}
