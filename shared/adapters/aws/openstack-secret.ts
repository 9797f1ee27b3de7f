// Bayforge's own OpenStack credentials (its service user) from AWS Secrets Manager, read
// once per container and turned into the CloudConfig the OpenStack adapter uses, by the
// same loader as locally (shared/adapters/openstack/config/), so a secret means exactly
// what the same text means in clouds.yaml or in the environment. The secret's SecretString
// is either:
//
//   - a clouds.yaml document (YAML, or the same as JSON: {"clouds": {...}}); the cloud is
//     `cloud` / OS_CLOUD when given, else the document's only cloud. The loader reads files,
//     so the document is written to a private directory under the temp dir (0700, file 0600:
//     Lambda's /tmp belongs to the container) and named by OS_CLIENT_CONFIG_FILE;
//   - a JSON object of OS_* variables ({"OS_AUTH_URL": ..., "OS_USERNAME": ..., ...}), read
//     as if they were the environment.
//
// Paths inside the secret (`cacert`) must exist in the function's package or /tmp.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { FAILSAFE_SCHEMA, load } from "js-yaml";
import { CloudConfigError, loadCloudConfig, type CloudConfig } from "../openstack/config/index.ts";

export interface OpenStackSecretOptions {
  client: SecretsManagerClient;
  /** the secret's ARN or name */
  secretId: string;
  /** which cloud of a clouds.yaml secret (default: the only one it has) */
  cloud?: string;
  /** where a clouds.yaml secret is written for the loader (default: a new private dir in the temp dir) */
  dir?: string;
}

/** One secret, fetched once: every call after the first answers from memory (a failure is not kept). */
export class OpenStackSecret {
  #env: Promise<Record<string, string>> | undefined;
  #cloud: Promise<CloudConfig> | undefined;

  constructor(private readonly o: OpenStackSecretOptions) {
    if (!o.secretId) throw new TypeError("OpenStackSecret needs the secret's ARN or name");
  }

  /** The environment the OpenStack loader reads: OS_* variables, or OS_CLOUD + OS_CLIENT_CONFIG_FILE. */
  env(): Promise<Record<string, string>> {
    const p = (this.#env ??= this.#load());
    p.catch(() => {
      if (this.#env === p) this.#env = undefined;
    });
    return p;
  }

  /** Bayforge's cloud as the OpenStack adapter takes it (openstackFor). */
  cloudConfig(): Promise<CloudConfig> {
    const p = (this.#cloud ??= this.env().then((env) => {
      const cfg = loadCloudConfig(env);
      if (!cfg) throw new CloudConfigError(`secret ${this.o.secretId} describes no cloud`);
      return cfg;
    }));
    p.catch(() => {
      if (this.#cloud === p) this.#cloud = undefined;
    });
    return p;
  }

  async #load(): Promise<Record<string, string>> {
    const out = await this.o.client.send(new GetSecretValueCommand({ SecretId: this.o.secretId }));
    const text = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString("utf8") : undefined);
    if (!text?.trim()) throw new CloudConfigError(`secret ${this.o.secretId} is empty`);
    return cloudEnvFromSecret(text, { secretId: this.o.secretId, cloud: this.o.cloud, dir: this.o.dir });
  }
}

/**
 * The loader's environment for a secret's text (see the top of this file). Writes the
 * clouds.yaml file when the secret is one. Throws CloudConfigError for anything else.
 */
export function cloudEnvFromSecret(text: string, o: { secretId?: string; cloud?: string; dir?: string } = {}): Record<string, string> {
  const what = `secret ${o.secretId ?? "(OpenStack credentials)"}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (json !== undefined) {
    if (!isObject(json)) throw new CloudConfigError(`${what} is JSON but not an object of OS_* variables or a clouds document`);
    const osKeys = Object.keys(json).filter((k) => k.startsWith("OS_"));
    if (osKeys.length && !("clouds" in json)) {
      const env: Record<string, string> = {};
      for (const k of osKeys) {
        const v = json[k];
        if (v === null || v === undefined) continue;
        if (typeof v === "object") throw new CloudConfigError(`${what}: ${k} must be a string`);
        env[k] = String(v);
      }
      return env;
    }
    if (!("clouds" in json)) throw new CloudConfigError(`${what} is JSON with neither OS_* variables nor a "clouds" mapping`);
  }
  // a clouds document (YAML; JSON is YAML too)
  let doc: unknown;
  try {
    doc = load(text, { schema: FAILSAFE_SCHEMA });
  } catch (e) {
    throw new CloudConfigError(`${what} is neither a JSON object of OS_* variables nor a clouds.yaml document: ${(e as Error).message.split("\n")[0]}`);
  }
  const clouds = isObject(doc) ? doc.clouds : undefined;
  if (!isObject(clouds)) throw new CloudConfigError(`${what} has no "clouds:" mapping (and no OS_* variables)`);
  const names = Object.keys(clouds);
  const cloud = o.cloud || (names.length === 1 ? names[0] : undefined);
  if (!cloud)
    throw new CloudConfigError(`${what} holds ${names.length ? `several clouds (${names.join(", ")})` : "no cloud"}; name one with OS_CLOUD`);
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "bayforge-openstack-"));
  const file = join(dir, "clouds.yaml");
  writeFileSync(file, text, { mode: 0o600 });
  return { OS_CLOUD: cloud, OS_CLIENT_CONFIG_FILE: file };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
