// Bayforge's own settings, from environment variables (the same names locally and in
// Lambda). OpenStack credentials are not here: they come from clouds.yaml / OS_* as
// openstacksdk reads them (shared/adapters/openstack/config/).
import type { ChatOpsMapping, MappingCredential } from "./ports/chatops-mappings.ts";
import { resolve } from "node:path";
import { DEFAULT_MAX_NODES_PER_BAY } from "./domain/bay.ts";

export interface Settings {
  dataDir: string;
  host: string;
  port: number;
  /** how nodes and clients reach this API; default http://<host>:<port> */
  publicUrl: string;
  defaultTimeoutMinutes: number;
  deadlineGraceMinutes: number;
  maxBodyBytes: number;
  maxManifestBytes: number;
  /** the most masters, and the most worker nodes, one bay may have (create, manifests, scale, resize) */
  maxNodesPerBay: number;
  /** the clusters a project without a quota may have (Magnum's [quotas] max_clusters_per_project); -1: no limit, as in OpenStack's quotas */
  maxClustersPerProject: number;
  workerConcurrency: number;
  visibilitySeconds: number;
  maxReceives: number;
  pollDelays: number[];
  retryDelays: number[];
  sweepEverySeconds: number;
  /** how often the worker checks each finished bay's Kubernetes API (Magnum's health_polling_interval); 0: never */
  healthIntervalSeconds: number;
  /** the most health checks one sweep enqueues (the longest unchecked first) */
  healthChecksPerSweep: number;
  /**
   * keystone (default): every request carries a Keystone token, validated with Bayforge's
   * service user (the configured cloud), and the work is done through trusts. noauth: local
   * use only, set explicitly; every caller is `noauthProject` and no token is asked.
   */
  auth: "keystone" | "noauth";
  /** local use only: every caller is this project, no token asked */
  noauthProject: string;
  /** Keystone domain of the bays' trustee users (Magnum's trustee_domain) */
  trusteeDomain: string;
  /** chat-ops webhook (functions/webhook): off unless a signing secret or token is set */
  chatops: ChatOpsSettings;
}

export interface ChatOpsSettings {
  /** Slack app's signing secret (BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET); never log it */
  slackSigningSecret?: string;
  /** Mattermost slash command's token (BAYFORGE_CHATOPS_MATTERMOST_TOKEN); never log it */
  mattermostToken?: string;
  /**
   * BAYFORGE_CHATOPS_PROJECTS: `{"slack:T123": "project", "slack:T123:C456": "other",
   * "mattermost:<team id>": "..."}`; a channel's own entry wins over its team's.
   */
  projects: Record<string, string>;
  /**
   * On AWS, from the chat-ops secret: mappings with an application credential (or a trust)
   * and an allow-list; their credentials in `credentials`, by mapping key (in memory only).
   */
  mappings?: Record<string, ChatOpsMapping>;
  credentials?: Record<string, MappingCredential>;
}

const int = (env: NodeJS.ProcessEnv, name: string, dflt: number, min = 0): number => {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
};
const list = (env: NodeJS.ProcessEnv, name: string, dflt: number[]): number[] => {
  const raw = env[name];
  if (!raw) return dflt;
  const out = raw.split(",").map((s) => Number(s.trim()));
  if (!out.length || out.some((n) => !Number.isFinite(n) || n < 0))
    throw new Error(`${name} must be a comma-separated list of seconds, got ${JSON.stringify(raw)}`);
  return out;
};

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const host = env.HOST || "127.0.0.1";
  const port = int(env, "PORT", 9511);
  return {
    dataDir: resolve(env.BAYFORGE_DATA_DIR || ".bayforge"),
    host,
    port,
    publicUrl: (env.BAYFORGE_PUBLIC_URL || `http://${host}:${port}`).replace(/\/+$/, ""),
    defaultTimeoutMinutes: int(env, "BAYFORGE_DEFAULT_TIMEOUT_MINUTES", 60, 1),
    deadlineGraceMinutes: int(env, "BAYFORGE_DEADLINE_GRACE_MINUTES", 5),
    maxBodyBytes: int(env, "BAYFORGE_MAX_BODY_BYTES", 64 * 1024, 1024),
    maxManifestBytes: int(env, "BAYFORGE_MAX_MANIFEST_BYTES", 1024 * 1024, 1024),
    maxNodesPerBay: int(env, "BAYFORGE_MAX_NODES_PER_BAY", DEFAULT_MAX_NODES_PER_BAY, 1),
    maxClustersPerProject: int(env, "BAYFORGE_MAX_CLUSTERS_PER_PROJECT", 20, -1),
    workerConcurrency: int(env, "BAYFORGE_WORKER_CONCURRENCY", 8, 1),
    visibilitySeconds: int(env, "BAYFORGE_VISIBILITY_SECONDS", 300, 1),
    maxReceives: int(env, "BAYFORGE_MAX_RECEIVES", 5, 1),
    // Heat takes tens of seconds for a small bay: poll soon, then back off.
    pollDelays: list(env, "BAYFORGE_POLL_DELAYS", [5, 3, 3, 5, 5, 10, 10, 15, 30, 60]),
    retryDelays: list(env, "BAYFORGE_RETRY_DELAYS", [5, 15, 30, 60, 120, 300]),
    sweepEverySeconds: int(env, "BAYFORGE_SWEEP_SECONDS", 60, 1),
    healthIntervalSeconds: int(env, "BAYFORGE_HEALTH_INTERVAL_SECONDS", 60, 0),
    healthChecksPerSweep: int(env, "BAYFORGE_HEALTH_CHECKS_PER_SWEEP", 100, 1),
    auth: authMode(env.BAYFORGE_AUTH),
    noauthProject: env.BAYFORGE_NOAUTH_PROJECT || "default",
    trusteeDomain: env.BAYFORGE_TRUSTEE_DOMAIN || "bayforge",
    chatops: {
      slackSigningSecret: env.BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET || undefined,
      mattermostToken: env.BAYFORGE_CHATOPS_MATTERMOST_TOKEN || undefined,
      projects: chatopsProjects(env.BAYFORGE_CHATOPS_PROJECTS),
    },
  };
}

function chatopsProjects(raw: string | undefined): Record<string, string> {
  if (!raw?.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new Error('BAYFORGE_CHATOPS_PROJECTS must be a JSON object such as {"slack:T123": "project-id"}; it is not valid JSON');
  }
  if (!v || typeof v !== "object" || Array.isArray(v) || Object.entries(v).some(([k, p]) => !/^(slack|mattermost):[^:\s]+(:[^:\s]+)?$/.test(k) || typeof p !== "string" || !p))
    throw new Error('BAYFORGE_CHATOPS_PROJECTS must map "slack:<team id>[:<channel id>]" or "mattermost:<team id>[:<channel id>]" to a project id (a non-empty string)');
  return v as Record<string, string>;
}

function authMode(raw: string | undefined): Settings["auth"] {
  if (!raw || raw === "keystone") return "keystone";
  if (raw === "noauth") return "noauth";
  throw new Error(`BAYFORGE_AUTH must be keystone or noauth, got ${JSON.stringify(raw)}`);
}
