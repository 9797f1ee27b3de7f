// Chat-ops: tells the channel a bay operation started from a slash command is over, by
// POSTing to the command's response_url (stored on the bay as `notify`). Best effort: a short
// timeout, never throws, and never logs the URL's path (Slack's and Mattermost's response
// URLs carry their secret there) — only its host.
import type { Bay } from "../../../shared/domain/model.ts";
import type { WorkerDeps } from "../deps.ts";

const TIMEOUT_MS = 3000;

export async function notifyCompletion(deps: Pick<WorkerDeps, "log">, bay: Bay, o: { timeoutMs?: number } = {}): Promise<void> {
  const target = bay.notify;
  if (!target?.response_url) return;
  let host = "?";
  try {
    const url = new URL(target.response_url);
    host = url.host;
    if (url.protocol !== "https:" && url.protocol !== "http:") return;
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ response_type: "in_channel", text: completionText(bay) }),
      signal: AbortSignal.timeout(o.timeoutMs ?? TIMEOUT_MS),
      redirect: "error",
    });
    await res.body?.cancel().catch(() => {});
    if (!res.ok) deps.log.warn("chat-ops completion not accepted", { bay: bay.uuid, platform: target.platform, host, status: res.status });
    else deps.log.info("chat-ops completion posted", { bay: bay.uuid, platform: target.platform, host });
  } catch (e) {
    deps.log.warn("chat-ops completion not posted", { bay: bay.uuid, platform: target.platform, host, err: (e as Error)?.name ?? "error", code: (e as { cause?: { code?: string } })?.cause?.code });
  }
}

/** `bay demo: CREATE_COMPLETE (api 10.0.0.5:6443, 1 master, 2 nodes)` or the failure's reason. */
export function completionText(bay: Bay): string {
  if (bay.status === "DELETE_COMPLETE") return `bay ${bay.name}: deleted`;
  if (bay.status.endsWith("_COMPLETE")) {
    const api = bay.api_address ? `api ${bay.api_address}, ` : "";
    return `bay ${bay.name}: ${bay.status} (${api}${bay.master_count} master${bay.master_count === 1 ? "" : "s"}, ${bay.node_count} node${bay.node_count === 1 ? "" : "s"})`;
  }
  const reason = (bay.status_reason ?? "").slice(0, 500);
  const faults = bay.faults?.length ? `; failed: ${bay.faults.slice(0, 3).map((f) => `${f.resource} (${f.reason ?? f.type})`).join("; ")}` : "";
  return `bay ${bay.name}: ${bay.status}${reason ? ` — ${reason}` : ""}${faults}`;
}
