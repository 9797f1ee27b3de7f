// Composition root of the chat-ops webhook: settings + the shared stores → the Hono app.
//
// The webhook is its own authority: a verified request from a mapped team or channel acts for
// that mapping's project, with no user token. In Keystone mode a mapping carries an
// application credential of its project (created by a member; `bayforge chatops map` checks it
// with Keystone and stores its secret encrypted): the bays it creates name the mapping, and the
// worker makes, scales and deletes their stacks with that credential, in the mapped project.
// In noauth mode (local use only) a mapping may be a bare project id (BAYFORGE_CHATOPS_PROJECTS),
// and its bays' stacks are made with Bayforge's own cloud credentials.
import type { Settings } from "../../shared/config.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { WorkQueue } from "../../shared/ports/work-queue.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { DiscoveryStore } from "../../shared/ports/discovery-store.ts";
import type { QuotaStore } from "../../shared/ports/quota-store.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import type { ChatOpsMapping, ChatOpsMappings } from "../../shared/ports/chatops-mappings.ts";
import { createWebhookApp, type WebhookDeps } from "./app.ts";
import { MemoryReplayGuard, type ReplayGuard } from "./verify.ts";

export interface WebhookParts {
  table: BayTable;
  queue: WorkQueue;
  vault: KeyVault;
  discovery?: DiscoveryStore;
  /** project quotas, enforced on the bays chat-ops creates */
  quotas?: QuotaStore;
  /** the operators' mappings (locally: `bayforge chatops map`); looked up before BAYFORGE_CHATOPS_PROJECTS */
  mappings?: Pick<ChatOpsMappings, "get">;
  /** default: this process's memory */
  replay?: ReplayGuard;
  now?: () => Date;
}

/** Chat-ops is configured when a Slack signing secret or a Mattermost token is set. */
export const chatopsEnabled = (settings: Settings): boolean => !!(settings.chatops.slackSigningSecret || settings.chatops.mattermostToken);

export function composeWebhook(settings: Settings, parts: WebhookParts, log: Logger) {
  if (!chatopsEnabled(settings))
    throw new Error("chat-ops needs BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET or BAYFORGE_CHATOPS_MATTERMOST_TOKEN");
  const fixed = settings.chatops.mappings ?? {};
  if (!Object.keys(settings.chatops.projects).length && !Object.keys(fixed).length && !parts.mappings)
    log.warn("chat-ops has no team mapped to a project: every command will be answered 'not connected'");
  // the operators' store first, then the settings' (an AWS secret's entries, BAYFORGE_CHATOPS_PROJECTS)
  const mapping = async (key: string): Promise<ChatOpsMapping | undefined> => {
    const stored = await parts.mappings?.get(key);
    if (stored) return stored;
    if (Object.hasOwn(fixed, key)) return fixed[key];
    const project = Object.hasOwn(settings.chatops.projects, key) ? settings.chatops.projects[key] : undefined;
    return project ? { key, project_id: project, app_credential_id: null, trust_id: null, allow: null } : undefined;
  };
  log.info("chat-ops webhook ready", {
    slack: !!settings.chatops.slackSigningSecret,
    mattermost: !!settings.chatops.mattermostToken,
    auth: settings.auth,
    teams: [...new Set([...Object.keys(settings.chatops.projects), ...Object.keys(fixed)])],
  });
  const deps: WebhookDeps = {
    bays: {
      table: parts.table,
      queue: parts.queue,
      vault: parts.vault,
      discovery: parts.discovery,
      identity: undefined,
      log,
      defaultTimeoutMinutes: settings.defaultTimeoutMinutes,
      maxNodesPerBay: settings.maxNodesPerBay,
      quotas: parts.quotas,
      maxClustersPerProject: settings.maxClustersPerProject,
      deadlineGraceMinutes: settings.deadlineGraceMinutes,
      publicUrl: settings.publicUrl,
      now: parts.now,
    },
    maxBodyBytes: settings.maxBodyBytes,
    slackSigningSecret: settings.chatops.slackSigningSecret,
    mattermostToken: settings.chatops.mattermostToken,
    mapping,
    needsCredential: settings.auth === "keystone",
    replay: parts.replay ?? new MemoryReplayGuard(),
    now: parts.now,
  };
  return createWebhookApp(deps);
}
