// Which failures are worth another try: the one rule the HTTP transport (retrying a request)
// and the worker (re-sending a step's message with a delay) both follow. Pure: it looks only
// at the shape of an answer's status or of an error.

/** Node's (and undici's) codes for a connection that failed, dropped or timed out. */
const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  // DNS: a temporary failure, and a name not (yet, or no longer) resolved
  "EAI_AGAIN",
  "ENOTFOUND",
  // fetch() (undici)
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/**
 * Codes of a connection that was never made (refused, unreachable, not resolved, connecting
 * timed out): a request that failed so cannot have reached the service.
 */
const NEVER_SENT_CODES = new Set(["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND", "UND_ERR_CONNECT_TIMEOUT"]);

/** The connection failed before the request could be sent (see NEVER_SENT_CODES). */
export function isNeverSentCode(code: string | undefined): boolean {
  return code !== undefined && NEVER_SENT_CODES.has(code);
}

/**
 * 429 and 503: the service, or the balancer before it, says it did not act on the request. Any
 * other 5xx may come after the service acted (an error past the write, a gateway timing out).
 */
export function isNotActedStatus(status: number): boolean {
  return status === 429 || status === 503;
}

/** 408, 429 and 5xx other than 501 Not Implemented / 505 are worth another try. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** A system error code of a connection that may work the next time. */
export function isRetryableCode(code: string | undefined): boolean {
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/**
 * True for failures that may pass: an error that says so itself (`retryable`, as the ports'
 * errors and the transport's do), else one whose code, or whose cause's, is a retryable one.
 */
export function isRetryableError(e: unknown, depth = 0): boolean {
  if (!e || typeof e !== "object" || depth > 8) return false;
  const err = e as { retryable?: unknown; code?: unknown; cause?: unknown };
  if (typeof err.retryable === "boolean") return err.retryable;
  if (typeof err.code === "string" && isRetryableCode(err.code)) return true;
  return err.cause !== undefined && err.cause !== e && isRetryableError(err.cause, depth + 1);
}
