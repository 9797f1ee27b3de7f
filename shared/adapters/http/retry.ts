// How the transport spaces its retries: exponential backoff with jitter, a server's
// Retry-After honoured, all within a bounded total time. Which failures are retried at all is
// the one rule in shared/domain/retryable.ts.
import type { Method } from "./transport.ts";

export interface RetryPolicy {
  /** attempts in all, the first included */
  attempts: number;
  /** backoff before retry n is about baseDelayMs * 2^(n-1), jittered, at most maxDelayMs */
  baseDelayMs: number;
  maxDelayMs: number;
  /** no retry starts once this much time has passed since the first attempt */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, budgetMs: 90_000 };

export interface RetryNotice {
  method: Method;
  /** origin + path, no query */
  url: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

/** The policy with defaults filled in and at least one attempt. */
export function retryPolicy(given: Partial<RetryPolicy> = {}): RetryPolicy {
  const p = { ...DEFAULT_RETRY, ...given };
  return { ...p, attempts: Math.max(1, Math.floor(p.attempts)) };
}

/** Milliseconds to wait before retrying after `attempt`: what Retry-After asks (capped), else jittered backoff. */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfter: string | undefined): number {
  const { baseDelayMs, maxDelayMs } = policy;
  const asked = parseRetryAfter(retryAfter);
  if (asked !== undefined) return Math.min(asked, maxDelayMs);
  const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  // "equal jitter": at least half the step, so retries never bunch up at zero delay
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

function parseRetryAfter(v: string | undefined): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
