// The OpenStack adapter in one call: the cloud from the environment (OS_CLOUD + clouds.yaml,
// or OS_* variables), a Keystone session for it, and a Heat client implementing Orchestrator.
import { loadCloudConfig, type CloudConfig, type LoadOptions } from "./config/index.ts";
import { Session, type SessionOptions } from "./identity/session.ts";
import { HeatClient, type HeatClientOptions } from "./orchestration/stacks.ts";

export interface OpenStack {
  cloud: CloudConfig;
  session: Session;
  heat: HeatClient;
  /** closes the session's connections */
  close(): Promise<void>;
}

export interface OpenStackOptions extends SessionOptions {
  heat?: HeatClientOptions;
  load?: LoadOptions;
  /** retries are logged here as warnings (method, URL without query, attempt, delay, reason) */
  logger?: { warn(msg: string, fields?: Record<string, unknown>): void };
}

/** undefined when no cloud is configured; throws CloudConfigError when one is configured badly. */
export function openstackFromEnv(
  env: Record<string, string | undefined> = process.env,
  opts: OpenStackOptions = {},
): OpenStack | undefined {
  const { heat: heatOpts, load, logger, ...sessionOpts } = opts;
  const cloud = loadCloudConfig(env, load);
  if (!cloud) return undefined;
  if (logger && !sessionOpts.onRetry) {
    sessionOpts.onRetry = (n) => logger.warn("openstack request retried", { ...n, cloud: cloud.cloud });
  }
  return openstackFor(cloud, sessionOpts, heatOpts);
}

/** The same, for a cloud configuration already in hand. */
export function openstackFor(cloud: CloudConfig, opts: SessionOptions = {}, heatOpts: HeatClientOptions = {}): OpenStack {
  const session = new Session(cloud, opts);
  return { cloud, session, heat: new HeatClient(session, heatOpts), close: () => session.close() };
}

export { CloudConfigError, loadCloudConfig, redactCloudConfig, type CloudConfig } from "./config/index.ts";
export { HttpTransport, TransportError, DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, type RetryPolicy } from "../http/index.ts";
export { IdentityError, type TokenInfo } from "./identity/results.ts";
export { Session, type SessionOptions } from "./identity/session.ts";
export { HeatClient, type HeatClientOptions } from "./orchestration/stacks.ts";
export {
  TokenValidator,
  INVALID_TOKEN,
  NOT_PROJECT_SCOPED,
  type TokenValidation,
  type TokenValidatorOptions,
  type ValidatedToken,
} from "./identity/tokens.ts";
export { TrustClient, trustScopedCloud, trustSession, type Trust, type TrustRequest } from "./identity/trusts.ts";
export { KeystoneIdentity } from "./identity/keystone-identity.ts";
export { TrusteeUsers, trusteeName, type TrusteeUser, type TrusteeUsersOptions } from "./identity/trustees.ts";
