// Composition root of the API function: settings + stores + key vault → the Hono app.
import type { Settings } from "../../shared/config.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { WorkQueue } from "../../shared/ports/work-queue.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import { createApp } from "./app.ts";
import { noauth } from "./noauth.ts";
import { withBootstrapTokens } from "./bootstrap-auth.ts";

/** `parts.vault` must be the worker's (same key): the API decrypts the CA keys the worker stored. */
export function composeApi(settings: Settings, parts: { table: BayTable; queue: WorkQueue; vault: KeyVault }, log: Logger) {
  return createApp({
    table: parts.table,
    queue: parts.queue,
    vault: parts.vault,
    log,
    authenticate: withBootstrapTokens(parts.table, noauth(settings.noauthProject)),
    defaultTimeoutMinutes: settings.defaultTimeoutMinutes,
    deadlineGraceMinutes: settings.deadlineGraceMinutes,
    publicUrl: settings.publicUrl,
    maxBodyBytes: settings.maxBodyBytes,
  });
}
