// Which OpenStack cloud to talk to, found the way openstacksdk finds it: `OS_CLOUD` names a
// cloud in clouds.yaml (with secure.yaml merged over it), or plain `OS_*` variables describe one.
//
// Differences from openstacksdk, on purpose: no vendor profiles; a clouds.yaml holding a single
// cloud is not picked when OS_CLOUD is unset (a function must not guess its cloud); a missing
// OS_CLIENT_CONFIG_FILE / OS_CLIENT_SECURE_FILE is an error instead of being skipped.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { FAILSAFE_SCHEMA, load, Type } from "js-yaml";

export type EndpointInterface = "public" | "internal" | "admin";

/** Which project the token is for (Heat needs a project-scoped token). */
export interface ProjectScope {
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
}

/**
 * A trust-scoped token instead of a project-scoped one: the trustee acts in the trust's
 * project, for its trustor when the trust impersonates (Keystone OS-TRUST). Set by code
 * (the worker acting for a user), never read from clouds.yaml; it wins over a project scope.
 */
export interface TrustScope {
  trustId?: string;
}

export interface PasswordAuth extends ProjectScope, TrustScope {
  type: "password";
  authUrl: string;
  userId?: string;
  username?: string;
  userDomainId?: string;
  userDomainName?: string;
  password: string;
}

/** Application credentials carry their own project: no scope is sent. */
export interface ApplicationCredentialAuth {
  type: "application_credential";
  authUrl: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret: string;
  /** the credential's owner, needed only when it is named rather than given by id */
  userId?: string;
  username?: string;
  userDomainId?: string;
  userDomainName?: string;
}

export interface TokenAuth extends ProjectScope, TrustScope {
  type: "token";
  authUrl: string;
  token: string;
}

export type AuthConfig = PasswordAuth | ApplicationCredentialAuth | TokenAuth;

export interface CloudConfig {
  /** the cloud's name in clouds.yaml, or "envvars" when it came from OS_* variables */
  cloud: string;
  /** the clouds.yaml path it came from, or "environment" */
  source: string;
  auth: AuthConfig;
  regionName?: string;
  /** catalog interface to use; "public" unless configured */
  interface: EndpointInterface;
  /** skip TLS verification (OS_INSECURE / `insecure: true` / `verify: false`) */
  insecure: boolean;
  /** path of a PEM CA bundle (OS_CACERT / `cacert`) */
  cacert?: string;
  /** per-request timeout from `api_timeout` / OS_API_TIMEOUT (seconds there, ms here) */
  apiTimeoutMs?: number;
  /** service type → URL, from `<service>_endpoint_override` / OS_<SERVICE>_ENDPOINT_OVERRIDE */
  endpointOverrides: Record<string, string>;
}

export interface LoadOptions {
  /** where `./clouds.yaml` is looked for (default process.cwd()) */
  cwd?: string;
  /** home directory for `~/.config/openstack` (default env.HOME, then os.homedir()) */
  home?: string;
  /** system-wide directory (default /etc/openstack) */
  systemDir?: string;
}

export class CloudConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CloudConfigError";
  }
}

type Env = Record<string, string | undefined>;
type Raw = Record<string, unknown>;

// Scalars stay the text that was written: with CORE_SCHEMA an unquoted password `0123` would
// become 123 and a digits-only id would lose precision. Only null (`~`, `null`, empty) is
// resolved; booleans are read from their text where a flag is expected.
const CONFIG_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [
    new Type("tag:yaml.org,2002:null", {
      kind: "scalar",
      resolve: (d: string | null) => d === null || /^(~|null|Null|NULL)?$/.test(d),
      construct: () => null,
    }),
  ],
});

const FILE_SUFFIXES = [".yaml", ".yml", ".json"];
// OS_* variables that select or locate a cloud without describing one (as openstacksdk).
const SELECTORS = new Set(["OS_CLOUD", "OS_REGION_NAME", "OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE", "OS_CLOUD_NAME"]);
const SECRET_FIELDS = new Set(["password", "applicationCredentialSecret", "token"]);

/**
 * The configured cloud, or undefined when neither OS_CLOUD nor any describing OS_* variable is
 * set. Throws CloudConfigError naming what is missing or wrong.
 */
export function loadCloudConfig(env: Env = process.env, opts: LoadOptions = {}): CloudConfig | undefined {
  const cloudName = nonEmpty(env.OS_CLOUD);
  if (cloudName) return fromCloudsYaml(cloudName, env, opts);
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

/** keystoneauth's habit: an auth URL without a version gets /v3. */
export function identityV3Url(authUrl: string): string {
  const url = authUrl.trim().replace(/\/+$/, "");
  if (/\/v3$/.test(url)) return url;
  if (/\/v2\.0$/.test(url)) return url.replace(/\/v2\.0$/, "/v3");
  return `${url}/v3`;
}

// ------------------------------------------------------------------ clouds.yaml

function fromCloudsYaml(cloudName: string, env: Env, opts: LoadOptions): CloudConfig {
  const home = opts.home ?? nonEmpty(env.HOME) ?? homedir();
  const userDir = join(nonEmpty(env.XDG_CONFIG_HOME) ?? join(home, ".config"), "openstack");
  const dirs = [opts.cwd ?? process.cwd(), userDir, opts.systemDir ?? "/etc/openstack"];

  let path: string | undefined;
  const override = nonEmpty(env.OS_CLIENT_CONFIG_FILE);
  if (override) {
    path = resolve(opts.cwd ?? process.cwd(), override);
    if (!existsSync(path)) {
      throw new CloudConfigError(`OS_CLIENT_CONFIG_FILE names ${path}, which does not exist`);
    }
  } else {
    const candidates = dirs.flatMap((d) => FILE_SUFFIXES.map((s) => join(d, `clouds${s}`)));
    path = candidates.find((p) => existsSync(p));
    if (!path) {
      throw new CloudConfigError(
        `OS_CLOUD is "${cloudName}" but no clouds.yaml was found (looked in ${dirs.join(", ")}; ` +
          `or set OS_CLIENT_CONFIG_FILE)`,
      );
    }
  }
  let doc = readYaml(path);

  const secureOverride = nonEmpty(env.OS_CLIENT_SECURE_FILE);
  let securePath: string | undefined;
  if (secureOverride) {
    securePath = resolve(opts.cwd ?? process.cwd(), secureOverride);
    if (!existsSync(securePath)) {
      throw new CloudConfigError(`OS_CLIENT_SECURE_FILE names ${securePath}, which does not exist`);
    }
  } else {
    securePath = FILE_SUFFIXES.map((s) => join(dirname(path!), `secure${s}`)).find((p) => existsSync(p));
  }
  if (securePath) doc = deepMerge(doc, readYaml(securePath));

  const clouds = doc.clouds;
  if (!isObject(clouds)) throw new CloudConfigError(`${path} has no "clouds:" mapping`);
  const cloud = clouds[cloudName];
  if (!isObject(cloud)) {
    const known = Object.keys(clouds);
    throw new CloudConfigError(
      `OS_CLOUD names cloud "${cloudName}", which is not in ${path}` +
        (known.length ? ` (clouds there: ${known.join(", ")})` : " (it defines no clouds)"),
    );
  }
  const raw: Raw = { ...cloud };
  if (raw.region_name === undefined && nonEmpty(env.OS_REGION_NAME)) raw.region_name = env.OS_REGION_NAME;
  return normalize(raw, { cloud: cloudName, source: path, fromEnv: false });
}

function readYaml(path: string): Raw {
  let parsed: unknown;
  try {
    parsed = load(readFileSync(path, "utf8"), { schema: CONFIG_SCHEMA, filename: path });
  } catch (e) {
    throw new CloudConfigError(`cannot read ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (parsed == null) return {};
  if (!isObject(parsed)) throw new CloudConfigError(`${path} is not a YAML mapping`);
  return parsed;
}

// ------------------------------------------------------------------ normalization

interface Where {
  cloud: string;
  source: string;
  fromEnv: boolean;
}

/** How a key is spelled where the user wrote it: `OS_PASSWORD` or `auth.password`. */
function spell(where: Where, key: string, inAuth = true): string {
  return where.fromEnv ? `OS_${key.toUpperCase()}` : inAuth ? `auth.${key}` : key;
}

function context(where: Where): string {
  return where.fromEnv ? "the OS_* environment" : `cloud "${where.cloud}" in ${where.source}`;
}

function normalize(cloud: Raw, where: Where): CloudConfig {
  const auth: Raw = isObject(cloud.auth) ? { ...cloud.auth } : {};
  // A key may sit in `auth:` or at the cloud's top level (as OS_* variables put it), with
  // dashes or underscores; old tenant_* names mean project_*.
  const get = (...keys: string[]): string | undefined => {
    for (const k of keys) {
      for (const variant of [k, k.replace(/_/g, "-")]) {
        const v = scalar(auth[variant]) ?? scalar(cloud[variant]);
        if (v !== undefined) return v;
      }
    }
    return undefined;
  };

  const version = get("identity_api_version");
  if (version && !/^3(\.\d+)?$/.test(version)) {
    throw new CloudConfigError(
      `${context(where)}: identity API version ${version} is not supported; only Keystone v3 is`,
    );
  }

  const authUrl = get("auth_url");
  const domainId = get("domain_id");
  const domainName = get("domain_name");
  const scope: ProjectScope = {
    projectId: get("project_id", "tenant_id"),
    projectName: get("project_name", "tenant_name"),
    projectDomainId: get("project_domain_id") ?? domainId,
    projectDomainName: get("project_domain_name") ?? domainName,
  };
  const user = {
    userId: get("user_id"),
    username: get("username", "user_name"),
    userDomainId: get("user_domain_id") ?? domainId,
    userDomainName: get("user_domain_name") ?? domainName,
  };
  const password = get("password");
  const token = get("token", "auth_token");
  const appCred = {
    applicationCredentialId: get("application_credential_id"),
    applicationCredentialName: get("application_credential_name"),
    applicationCredentialSecret: get("application_credential_secret"),
  };

  const declaredType = get("auth_type", "auth_plugin");
  const type = authType(declaredType, where, { appCred: !!appCred.applicationCredentialSecret, token: !!token, password: !!password });

  const missing = (what: string): never => {
    throw new CloudConfigError(`${context(where)}: ${what} is missing`);
  };
  if (!authUrl) missing(spell(where, "auth_url"));
  const url = identityV3Url(authUrl!);

  let authCfg: AuthConfig;
  if (type === "password") {
    if (!password) missing(spell(where, "password"));
    if (!user.userId && !user.username) missing(`${spell(where, "username")} (or ${spell(where, "user_id")})`);
    if (!user.userId && !user.userDomainId && !user.userDomainName) {
      missing(`${spell(where, "user_domain_name")} (or ${spell(where, "user_domain_id")}), needed with a user name`);
    }
    checkScope(scope, where, missing);
    authCfg = compact({ type: "password", authUrl: url, ...user, password: password!, ...scope });
  } else if (type === "token") {
    if (!token) missing(spell(where, "token"));
    checkScope(scope, where, missing);
    authCfg = compact({ type: "token", authUrl: url, token: token!, ...scope });
  } else {
    if (!appCred.applicationCredentialSecret) missing(spell(where, "application_credential_secret"));
    if (!appCred.applicationCredentialId) {
      if (!appCred.applicationCredentialName) {
        missing(`${spell(where, "application_credential_id")} (or ${spell(where, "application_credential_name")})`);
      }
      if (!user.userId && !user.username) {
        missing(`${spell(where, "user_id")} (or ${spell(where, "username")}), needed with a named application credential`);
      }
      if (!user.userId && !user.userDomainId && !user.userDomainName) {
        missing(`${spell(where, "user_domain_name")} (or ${spell(where, "user_domain_id")}), needed with a user name`);
      }
    }
    authCfg = compact({
      type: "application_credential",
      authUrl: url,
      ...appCred,
      applicationCredentialSecret: appCred.applicationCredentialSecret!,
      ...(appCred.applicationCredentialId ? {} : user),
    });
  }

  const iface = get("interface", "endpoint_type");
  const insecureRaw = get("insecure");
  const verifyRaw = get("verify");
  const timeout = get("api_timeout");
  let apiTimeoutMs: number | undefined;
  if (timeout !== undefined) {
    const s = Number(timeout);
    if (!Number.isFinite(s) || s <= 0) {
      throw new CloudConfigError(`${context(where)}: ${spell(where, "api_timeout", false)} must be a number of seconds, not "${timeout}"`);
    }
    apiTimeoutMs = Math.round(s * 1000);
  }

  const endpointOverrides: Record<string, string> = {};
  for (const [k, v] of Object.entries(cloud)) {
    const m = /^(.+)_endpoint_override$/.exec(k);
    const s = scalar(v);
    if (m && s) endpointOverrides[m[1].replace(/_/g, "-")] = s;
  }

  return compact({
    cloud: where.cloud,
    source: where.source,
    auth: authCfg,
    regionName: regionOf(cloud),
    interface: endpointInterface(iface, where),
    insecure: truthy(insecureRaw) || (verifyRaw !== undefined && !truthy(verifyRaw)),
    cacert: get("cacert"),
    apiTimeoutMs,
    endpointOverrides,
  });
}

function authType(
  declared: string | undefined,
  where: Where,
  has: { appCred: boolean; token: boolean; password: boolean },
): AuthConfig["type"] {
  if (!declared) {
    if (has.appCred) return "application_credential";
    if (has.token && !has.password) return "token";
    return "password";
  }
  switch (declared.toLowerCase()) {
    case "password":
    case "v3password":
      return "password";
    case "v3applicationcredential":
    case "applicationcredential":
    case "application_credential":
      return "application_credential";
    case "token":
    case "v3token":
      return "token";
    default:
      throw new CloudConfigError(
        `${context(where)}: auth type "${declared}" (${spell(where, "auth_type", false)}) is not supported; ` +
          `use password, v3applicationcredential or token`,
      );
  }
}

function checkScope(scope: ProjectScope, where: Where, missing: (what: string) => never): void {
  if (!scope.projectId && !scope.projectName) {
    missing(`${spell(where, "project_name")} (or ${spell(where, "project_id")}), needed for a project-scoped token`);
  }
  if (!scope.projectId && !scope.projectDomainId && !scope.projectDomainName) {
    missing(`${spell(where, "project_domain_name")} (or ${spell(where, "project_domain_id")}), needed with a project name`);
  }
}

function regionOf(cloud: Raw): string | undefined {
  const name = scalar(cloud.region_name);
  if (name) return name.split(",")[0].trim() || undefined;
  if (Array.isArray(cloud.regions) && cloud.regions.length) {
    const first = cloud.regions[0];
    return isObject(first) ? scalar(first.name) : scalar(first);
  }
  return undefined;
}

function endpointInterface(v: string | undefined, where: Where): EndpointInterface {
  if (!v) return "public";
  const i = v.toLowerCase().replace(/url$/, "");
  if (i === "public" || i === "internal" || i === "admin") return i;
  throw new CloudConfigError(`${context(where)}: interface "${v}" is not one of public, internal, admin`);
}

// ------------------------------------------------------------------ helpers

function isObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function scalar(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim() === "" ? undefined : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

function deepMerge(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Raw, v) : v;
  }
  return out;
}

/** Drops undefined fields so configs compare and print cleanly. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
