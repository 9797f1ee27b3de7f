// The chat-ops webhook's secrets on AWS: the Slack signing secret, the Mattermost token and
// the team → project map, from one Secrets Manager secret instead of environment variables
// (which anyone allowed to read the function's configuration can read). The secret's
// SecretString is JSON:
//
//   {"slackSigningSecret": "...", "mattermostToken": "...", "projects": {
//     "slack:T123": {"project": "<id>", "applicationCredentialId": "...", "applicationCredentialSecret": "...",
//                    "allow": ["U0123"]},
//     "slack:T123:C456": {"project": "<id>", "trustId": "...", "allow": []},
//     "mattermost:team1": "<project id>"}}
//
// A mapping's application credential (created by a member of the project) or trust (from a
// member to Bayforge's service user, impersonating, one redelegation) is what the worker makes,
// scales and deletes that mapping's stacks with, in the project: the worker reads this secret
// too (the bay names its mapping, never the secret). `allow`: the chat user ids that may
// create, scale and delete (absent or empty: anyone in the channel). A bare project id is the
// old form: its bays' stacks are made with Bayforge's own credentials, in its own project.
//
// Either credential may be left out (that platform is then not served); `projects` may be
// left out when BAYFORGE_CHATOPS_PROJECTS gives it (it names no secret). The values mean
// exactly what the BAYFORGE_CHATOPS_* variables mean locally: they go through the same
// loader (loadSettings), so the same rules refuse a bad project map.
//
// Cached per container, and read again after `maxAgeMs` (default 5 minutes), so a rotated
// signing secret is in use within minutes without a redeploy. When a re-read fails, the
// values in hand are kept (retried after a minute): Secrets Manager being unreachable does not
// stop a webhook that is already running. A failed first read is not kept.
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { loadSettings, type ChatOpsSettings } from "../../config.ts";
import { MAPPING_KEY, type ChatOpsMapping, type MappingCredential } from "../../ports/chatops-mappings.ts";

export interface ChatOpsSecretOptions {
  client: SecretsManagerClient;
  /** the secret's ARN or name */
  secretId: string;
  /** BAYFORGE_CHATOPS_PROJECTS, used when the secret has no `projects` */
  projectsFallback?: string;
  /** how long a value read is used before the secret is read again (default 5 minutes) */
  maxAgeMs?: number;
  /** after a failed re-read, how long the old value is used before trying again (default 1 minute) */
  retryMs?: number;
  now?: () => number;
  logger?: { warn(msg: string, fields?: Record<string, unknown>): void };
}

/** The secret is missing, empty, or not the JSON described above. Never carries the secret's value. */
export class ChatOpsSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChatOpsSecretError";
  }
}

export class ChatOpsSecret {
  #value: ChatOpsSettings | undefined;
  #freshUntil = 0;
  #reading: Promise<ChatOpsSettings> | undefined;
  private readonly maxAgeMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;

  constructor(private readonly o: ChatOpsSecretOptions) {
    if (!o.secretId) throw new TypeError("ChatOpsSecret needs the secret's ARN or name");
    this.maxAgeMs = o.maxAgeMs ?? 5 * 60_000;
    this.retryMs = o.retryMs ?? 60_000;
    this.now = o.now ?? Date.now;
  }

  /** The chat-ops settings: from memory while fresh, else read again (one read at a time). */
  settings(): Promise<ChatOpsSettings> {
    if (this.#value && this.now() < this.#freshUntil) return Promise.resolve(this.#value);
    return (this.#reading ??= this.#refresh().finally(() => (this.#reading = undefined)));
  }

  async #refresh(): Promise<ChatOpsSettings> {
    try {
      const value = await this.#read();
      this.#value = value;
      this.#freshUntil = this.now() + this.maxAgeMs;
      return value;
    } catch (err) {
      if (!this.#value) throw err;
      this.o.logger?.warn("chat-ops secret could not be read again; keeping the values in use", { secret: this.o.secretId, err });
      this.#freshUntil = this.now() + this.retryMs;
      return this.#value;
    }
  }

  async #read(): Promise<ChatOpsSettings> {
    const what = `chat-ops secret ${this.o.secretId}`;
    const out = await this.o.client.send(new GetSecretValueCommand({ SecretId: this.o.secretId }));
    const text = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString("utf8") : undefined);
    if (!text?.trim()) throw new ChatOpsSecretError(`${what} is empty`);
    return chatopsFromSecret(text, { secretId: this.o.secretId, projectsFallback: this.o.projectsFallback });
  }
}

const KNOWN = ["slackSigningSecret", "mattermostToken", "projects"];

/** The settings a secret's text stands for (see the top of this file). Throws ChatOpsSecretError. */
export function chatopsFromSecret(text: string, o: { secretId?: string; projectsFallback?: string } = {}): ChatOpsSettings {
  const what = `chat-ops secret ${o.secretId ?? ""}`.trim();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ChatOpsSecretError(`${what} is not JSON; it must be {"slackSigningSecret": "...", "mattermostToken": "...", "projects": {...}}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new ChatOpsSecretError(`${what} must be a JSON object with slackSigningSecret and/or mattermostToken, and projects`);
  const doc = json as Record<string, unknown>;
  const unknown = Object.keys(doc).filter((k) => !KNOWN.includes(k));
  if (unknown.length) throw new ChatOpsSecretError(`${what} has unknown keys ${unknown.join(", ")}; known: ${KNOWN.join(", ")}`);
  for (const k of ["slackSigningSecret", "mattermostToken"])
    if (doc[k] !== undefined && doc[k] !== null && typeof doc[k] !== "string") throw new ChatOpsSecretError(`${what}: ${k} must be a string`);
  if (!doc.slackSigningSecret && !doc.mattermostToken) throw new ChatOpsSecretError(`${what} has neither slackSigningSecret nor mattermostToken`);
  // mappings with a credential are read here; bare project ids go through the loader as before
  const projects = doc.projects === undefined || doc.projects === null ? undefined : doc.projects;
  const withCredential = projects && typeof projects === "object" && !Array.isArray(projects) ? Object.entries(projects as Record<string, unknown>).filter(([, v]) => typeof v === "object" && v !== null) : [];
  const bare = projects && typeof projects === "object" && !Array.isArray(projects) ? Object.fromEntries(Object.entries(projects as Record<string, unknown>).filter(([, v]) => typeof v !== "object" || v === null)) : projects;
  const env = {
    BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET: (doc.slackSigningSecret as string | undefined) ?? "",
    BAYFORGE_CHATOPS_MATTERMOST_TOKEN: (doc.mattermostToken as string | undefined) ?? "",
    BAYFORGE_CHATOPS_PROJECTS: projects === undefined ? (o.projectsFallback ?? "") : JSON.stringify(bare),
  };
  let settings: ChatOpsSettings;
  try {
    settings = loadSettings(env).chatops;
  } catch (e) {
    // the loader names the variable; here it is the secret's `projects`
    throw new ChatOpsSecretError(`${what}: projects ${(e as Error).message.replace(/^BAYFORGE_CHATOPS_PROJECTS /, "")}`);
  }
  if (!withCredential.length) return settings;
  const mappings: Record<string, ChatOpsMapping> = {};
  const credentials: Record<string, MappingCredential> = {};
  for (const [key, v] of withCredential) {
    const m = mappingFromSecret(what, key, v as Record<string, unknown>);
    mappings[key] = m.mapping;
    credentials[key] = m.credential;
  }
  return { ...settings, mappings, credentials };
}

const MAPPING_FIELDS = ["project", "applicationCredentialId", "applicationCredentialSecret", "trustId", "allow"];

/** One `projects` entry with a credential. Errors name the key and the field, never a value. */
function mappingFromSecret(what: string, key: string, v: Record<string, unknown>): { mapping: ChatOpsMapping; credential: MappingCredential } {
  const bad = (why: string) => new ChatOpsSecretError(`${what}: projects["${key.slice(0, 80)}"] ${why}`);
  if (!MAPPING_KEY.test(key)) throw bad('is not "slack:<team id>[:<channel id>]" or "mattermost:<team id>[:<channel id>]"');
  const unknown = Object.keys(v).filter((k) => !MAPPING_FIELDS.includes(k));
  if (unknown.length) throw bad(`has unknown keys ${unknown.join(", ").slice(0, 120)}; known: ${MAPPING_FIELDS.join(", ")}`);
  const str = (k: string) => (typeof v[k] === "string" && (v[k] as string).trim() ? (v[k] as string).trim() : undefined);
  const project = str("project");
  if (!project) throw bad("needs project (the project id)");
  const id = str("applicationCredentialId");
  const secret = str("applicationCredentialSecret");
  const trustId = str("trustId");
  if (trustId && (id || secret)) throw bad("takes an application credential or a trustId, not both");
  if (!trustId && (!id || !secret)) throw bad("needs applicationCredentialId and applicationCredentialSecret (or a trustId)");
  const allow = v.allow === undefined || v.allow === null ? null : v.allow;
  if (allow !== null && (!Array.isArray(allow) || allow.some((u) => typeof u !== "string" || !u.trim())))
    throw bad("allow must be a list of chat user ids");
  return {
    mapping: { key, project_id: project, app_credential_id: id ?? null, trust_id: trustId ?? null, allow: (allow as string[] | null)?.length ? (allow as string[]) : null },
    credential: trustId ? { kind: "trust", trust_id: trustId, project_id: project } : { kind: "application_credential", id: id!, secret: secret!, project_id: project },
  };
}
