// The cloud configuration's shape, as the loader (index.ts) returns it and the OpenStack
// adapter uses it, and the error that says what is missing or wrong in it.

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

// what the loader's parts share: raw settings as read, before normalization
export type Env = Record<string, string | undefined>;
export type Raw = Record<string, unknown>;

export function isObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v;
}
