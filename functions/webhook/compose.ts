// Composition root of the chat-ops webhook: settings + the shared stores → the Hono app.
//
// The webhook is its own authority: a verified request from a mapped team acts for that
// team's project, with no user token. Bayforge's Keystone mode does its work through trusts
// made with the user's own token, which a chat request does not carry; so chat-ops runs in
// noauth style only (BAYFORGE_AUTH=noauth): bays are created with Bayforge's own cloud
// credentials, as the API's noauth mode does. In keystone mode it refuses to start.
import type { Settings } from "../../shared/config.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { WorkQueue } from "../../shared/ports/work-queue.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { DiscoveryStore } from "../../shared/ports/discovery-store.ts";
import type { QuotaStore } from "../../shared/ports/quota-store.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import { createWebhookApp, type WebhookDeps } from "./app.ts";
import { MemoryReplayGuard, type ReplayGuard } from "./verify.ts";

export interface WebhookParts {
  table: BayTable;
  queue: WorkQueue;
  vault: KeyVault;
  discovery?: DiscoveryStore;
  /** project quotas, enforced on the bays chat-ops creates */
  quotas?: QuotaStore;
  /** default: this process's memory */
  replay?: ReplayGuard;
  now?: () => Date;
}

/** Chat-ops is configured when a Slack signing secret or a Mattermost token is set. */
export const chatopsEnabled = (settings: Settings): boolean => !!(settings.chatops.slackSigningSecret || settings.chatops.mattermostToken);

export function composeWebhook(settings: Settings, parts: WebhookParts, log: Logger) {
  if (!chatopsEnabled(settings))
    throw new Error("chat-ops needs BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET or BAYFORGE_CHATOPS_MATTERMOST_TOKEN");
  if (settings.auth !== "noauth")
    throw new Error(
      "chat-ops acts without a user's Keystone token, so it runs only with BAYFORGE_AUTH=noauth (bays are then created with Bayforge's own cloud credentials); unset the BAYFORGE_CHATOPS_* secrets or set BAYFORGE_AUTH=noauth",
    );
  if (!Object.keys(settings.chatops.projects).length)
    log.warn("chat-ops has no team mapped to a project (BAYFORGE_CHATOPS_PROJECTS): every command will be answered 'not connected'");
  log.info("chat-ops webhook ready", {
    slack: !!settings.chatops.slackSigningSecret,
    mattermost: !!settings.chatops.mattermostToken,
    teams: Object.keys(settings.chatops.projects),
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
    projects: settings.chatops.projects,
    replay: parts.replay ?? new MemoryReplayGuard(),
    now: parts.now,
  };
  return createWebhookApp(deps);
}
