// Who may call the chat-ops webhook: Slack's signed requests (signing secret, v0) with a
// 5-minute timestamp window and a replay guard, and Mattermost's slash-command token. No I/O:
// the replay guard is a port (shared/ports/replay-guard.ts): in memory per process for the
// embedded default, the DynamoDB table on AWS (functions/webhook/lambda.ts).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { ReplayGuard } from "../../shared/ports/replay-guard.ts";

export type { ReplayGuard } from "../../shared/ports/replay-guard.ts";

/** Slack refuses requests older than this; so do we, and we remember signatures as long. */
export const SLACK_WINDOW_SECONDS = 5 * 60;

/**
 * One process's memory: enough for the embedded default (one process; a restart forgets,
 * and the 5-minute window bounds what that lets through). Several Lambda containers do not
 * share it: on AWS the webhook uses DynamoReplayGuard (a conditional put with a TTL).
 */
export class MemoryReplayGuard implements ReplayGuard {
  private readonly seen = new Map<string, number>();
  constructor(private readonly maxEntries = 100_000) {}
  async firstUse(key: string, expiresAt: number, now: number): Promise<boolean> {
    for (const [k, exp] of this.seen) {
      if (exp > now) break; // roughly time-ordered: stop at the first live one
      this.seen.delete(k);
    }
    const exp = this.seen.get(key);
    if (exp !== undefined && exp > now) return false;
    if (this.seen.size >= this.maxEntries) {
      // full of live signatures: refuse rather than forget one (fails closed)
      for (const [k, e] of this.seen) if (e <= now) this.seen.delete(k);
      if (this.seen.size >= this.maxEntries) return false;
    }
    this.seen.set(key, expiresAt);
    return true;
  }
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Slack's v0 signature: `v0=` + hex HMAC-SHA256(secret, `v0:<timestamp>:<raw body>`),
 * the timestamp within 5 minutes of now (either way), the signature never seen before.
 */
export async function verifySlack(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  rawBody: string,
  replay: ReplayGuard,
  nowMs: number,
): Promise<Verdict> {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return { ok: false, reason: "missing X-Slack-Request-Timestamp or X-Slack-Signature" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed timestamp" };
  const ts = Number(timestamp);
  if (Math.abs(nowMs / 1000 - ts) > SLACK_WINDOW_SECONDS) return { ok: false, reason: "stale timestamp" };
  const m = /^v0=([0-9a-f]{64})$/.exec(signature.trim());
  if (!m) return { ok: false, reason: "malformed signature" };
  const expected = createHmac("sha256", secret).update(`v0:${timestamp}:${rawBody}`, "utf8").digest();
  if (!timingSafeEqual(Buffer.from(m[1], "hex"), expected)) return { ok: false, reason: "bad signature" };
  // Only a valid signature is remembered, for as long as its timestamp would be accepted.
  if (!(await replay.firstUse(`slack:${m[1]}`, (ts + SLACK_WINDOW_SECONDS + 1) * 1000, nowMs))) return { ok: false, reason: "replayed signature" };
  return { ok: true };
}

/** Mattermost's slash command token, compared in constant time (as digests of equal length). */
export function verifyMattermost(expected: string, given: string | null | undefined): Verdict {
  if (!given) return { ok: false, reason: "missing token" };
  const a = createHash("sha256").update(expected, "utf8").digest();
  const b = createHash("sha256").update(given, "utf8").digest();
  return timingSafeEqual(a, b) ? { ok: true } : { ok: false, reason: "bad token" };
}

/** For tests and tools: the headers Slack would send with `rawBody` at `timestamp` (seconds). */
export function slackSignature(secret: string, timestamp: number | string, rawBody: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${rawBody}`, "utf8").digest("hex")}`;
}
