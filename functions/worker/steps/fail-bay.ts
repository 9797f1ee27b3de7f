// Moves an in-progress bay to its operation's *_FAILED status with a reason a user can read.
import type { Bay } from "../../../shared/domain/model.ts";
import type { BayStatus } from "../../../shared/domain/status.ts";
import type { WorkerDeps } from "../deps.ts";
import { updateBay } from "../bay-store.ts";
import { releaseAfterOperation } from "./release-credentials.ts";
import { notifyCompletion } from "./notify.ts";
import { failedNodeGroups } from "../../../shared/domain/nodegroup.ts";

const FAILED: Record<string, BayStatus> = {
  CREATE_IN_PROGRESS: "CREATE_FAILED",
  UPDATE_IN_PROGRESS: "UPDATE_FAILED",
  DELETE_IN_PROGRESS: "DELETE_FAILED",
};

export async function failBay(deps: WorkerDeps, bay: Bay, reason: string): Promise<Bay | undefined> {
  const at = deps.now();
  let notify: Bay["notify"];
  // Only the call whose write failed the bay reports it (a concurrent duplicate delivery
  // finds it failed already and must not record or notify it again).
  let moved = false;
  const saved = await updateBay(
    deps.table,
    bay,
    // the chat-ops response_url is used once: a later operation must not post to it; the
    // caller's token the operation carried (keystone mode) is no longer needed either
    (b) => {
      if (!(moved = !!FAILED[b.status])) return undefined;
      notify = b.notify;
      const nodegroups = failedNodeGroups(b, reason, at); // a node group's operation fails with it
      return { status: FAILED[b.status], status_reason: reason, notify: null, delegation: null, ...(nodegroups ? { nodegroups } : {}) };
    },
    at,
  );
  if (moved && saved && saved.status.endsWith("_FAILED")) {
    deps.log.warn("bay failed", { bay: bay.uuid, status: saved.status, reason });
    await deps.table.appendEvent({ bay_uuid: bay.uuid, at: at.toISOString(), kind: "failed", detail: reason });
    await notifyCompletion(deps, { ...saved, notify });
    // A bay that never came to life needs no credentials (a later delete brings a new trust).
    // A living stack keeps them: Heat acts later through a trust derived from the user's.
    if (saved.status === "CREATE_FAILED") await releaseAfterOperation(deps, saved, { trustee: true });
  }
  return saved;
}
