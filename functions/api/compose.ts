// Composition root of the API function: settings + stores → the Hono app.
import type { Settings } from "../../shared/config.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { WorkQueue } from "../../shared/ports/work-queue.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import { createApp } from "./app.ts";
import { noauth } from "./noauth.ts";

export function composeApi(settings: Settings, stores: { table: BayTable; queue: WorkQueue }, log: Logger) {
  return createApp({
    table: stores.table,
    queue: stores.queue,
    log,
    authenticate: noauth(settings.noauthProject),
    defaultTimeoutMinutes: settings.defaultTimeoutMinutes,
    deadlineGraceMinutes: settings.deadlineGraceMinutes,
    publicUrl: settings.publicUrl,
    maxBodyBytes: settings.maxBodyBytes,
  });
}
