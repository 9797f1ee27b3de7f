// The chat-ops webhook's secrets on AWS: the Slack signing secret, the Mattermost token and
// the team → project map, from one Secrets Manager secret instead of environment variables
// (which anyone allowed to read the function's configuration can read). The secret's
// SecretString is JSON:
//
//   {"slackSigningSecret": "...", "mattermostToken": "...", "projects": {"slack:T123": "project-id"}}
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
  const env = {
    BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET: (doc.slackSigningSecret as string | undefined) ?? "",
    BAYFORGE_CHATOPS_MATTERMOST_TOKEN: (doc.mattermostToken as string | undefined) ?? "",
    BAYFORGE_CHATOPS_PROJECTS: doc.projects === undefined || doc.projects === null ? (o.projectsFallback ?? "") : JSON.stringify(doc.projects),
  };
  try {
    return loadSettings(env).chatops;
  } catch (e) {
    // the loader names the variable; here it is the secret's `projects`
    throw new ChatOpsSecretError(`${what}: projects ${(e as Error).message.replace(/^BAYFORGE_CHATOPS_PROJECTS /, "")}`);
  }
}
