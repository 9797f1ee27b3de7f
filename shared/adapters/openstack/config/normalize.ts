// Normalization: one cloud's raw settings (a clouds.yaml entry, or OS_* variables turned into
// one) become a CloudConfig, with keystoneauth's spellings and defaults, or a CloudConfigError
// naming the missing or wrong setting as the user wrote it (`OS_PASSWORD` or `auth.password`).
import { CloudConfigError, isObject, type AuthConfig, type CloudConfig, type EndpointInterface, type ProjectScope, type Raw } from "./types.ts";

/** keystoneauth's habit: an auth URL without a version gets /v3. */
export function identityV3Url(authUrl: string): string {
  const url = authUrl.trim().replace(/\/+$/, "");
  if (/\/v3$/.test(url)) return url;
  if (/\/v2\.0$/.test(url)) return url.replace(/\/v2\.0$/, "/v3");
  return `${url}/v3`;
}

export interface Where {
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

export function normalize(cloud: Raw, where: Where): CloudConfig {
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

function scalar(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim() === "" ? undefined : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

/** Drops undefined fields so configs compare and print cleanly. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
