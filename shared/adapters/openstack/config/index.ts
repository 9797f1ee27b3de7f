// Which OpenStack cloud to talk to, found the way openstacksdk finds it: `OS_CLOUD` names a
// cloud in clouds.yaml (with secure.yaml merged over it; find.ts), or plain `OS_*` variables
// describe one; either way normalize.ts makes it a CloudConfig (types.ts).
//
// Differences from openstacksdk, on purpose: no vendor profiles; a clouds.yaml holding a single
// cloud is not picked when OS_CLOUD is unset (a function must not guess its cloud); a missing
// OS_CLIENT_CONFIG_FILE / OS_CLIENT_SECURE_FILE is an error instead of being skipped.
import { findCloud } from "./find.ts";
import { normalize } from "./normalize.ts";
import { nonEmpty, type AuthConfig, type CloudConfig, type Env, type LoadOptions, type Raw } from "./types.ts";

export {
  CloudConfigError,
  type ApplicationCredentialAuth,
  type AuthConfig,
  type CloudConfig,
  type EndpointInterface,
  type LoadOptions,
  type PasswordAuth,
  type ProjectScope,
  type TokenAuth,
  type TrustScope,
} from "./types.ts";
export { identityV3Url } from "./normalize.ts";

// OS_* variables that select or locate a cloud without describing one (as openstacksdk).
const SELECTORS = new Set(["OS_CLOUD", "OS_REGION_NAME", "OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE", "OS_CLOUD_NAME"]);
const SECRET_FIELDS = new Set(["password", "applicationCredentialSecret", "token"]);

/**
 * The configured cloud, or undefined when neither OS_CLOUD nor any describing OS_* variable is
 * set. Throws CloudConfigError naming what is missing or wrong.
 */
export function loadCloudConfig(env: Env = process.env, opts: LoadOptions = {}): CloudConfig | undefined {
  const cloudName = nonEmpty(env.OS_CLOUD);
  if (cloudName) {
    const { raw, path } = findCloud(cloudName, env, opts);
    return normalize(raw, { cloud: cloudName, source: path, fromEnv: false });
  }
  const described = Object.keys(env).filter(
    (k) => k.startsWith("OS_") && !SELECTORS.has(k) && !/^OS_(TEST|STD|LOG)/.test(k) && nonEmpty(env[k]) !== undefined,
  );
  if (!described.length) return undefined;
  const raw: Raw = {};
  for (const k of described) raw[k.slice(3).toLowerCase()] = env[k];
  if (nonEmpty(env.OS_REGION_NAME)) raw.region_name = env.OS_REGION_NAME;
  return normalize(raw, { cloud: nonEmpty(env.OS_CLOUD_NAME) ?? "envvars", source: "environment", fromEnv: true });
}

/** A copy safe to log: passwords, secrets and tokens replaced. */
export function redactCloudConfig(cfg: CloudConfig): CloudConfig {
  const auth = Object.fromEntries(
    Object.entries(cfg.auth).map(([k, v]) => [k, SECRET_FIELDS.has(k) ? "[redacted]" : v]),
  ) as unknown as AuthConfig;
  return { ...cfg, auth };
}
