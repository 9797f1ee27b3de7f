// What the transport throws when a request got no usable answer. Its messages never hold a
// header or body that was sent or received, so tokens, passwords and a hostile server's text
// cannot leak through them.
import { isNeverSentCode, isRetryableCode } from "../../domain/retryable.ts";

export type TransportFailure =
  /** no answer within the time allowed */
  | "timeout"
  /** the connection failed, dropped, or could not be made (bad URL, bad TLS certificate) */
  | "connection"
  /** an answer came, larger than the transport accepts: aborted, its body dropped */
  | "too_large";

/** The request got no (usable) HTTP answer. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly kind: TransportFailure,
    /** false for failures a retry cannot fix (bad TLS certificate, invalid URL, an answer too large) */
    readonly retryable: boolean,
    readonly attempts: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = "TransportError";
  }

  /** The request may have reached the service (a timeout, a dropped connection), unlike one whose connection was never made. */
  get maybeSent(): boolean {
    return !isNeverSentCode(this.code);
  }
}

export const TOO_LARGE = "ERESPONSETOOLARGE";

/** An answer over the limit: names the limit and the request, never the body. */
export function tooLarge(what: string, limit: number, attempt: number, announced?: number): TransportError {
  const size = announced !== undefined ? `it announced ${announced} bytes` : "more came";
  return new TransportError(`the answer to ${what} exceeded the ${formatBytes(limit)} limit (${size}); it was aborted and not kept`, "too_large", false, attempt, TOO_LARGE);
}

/** The error of one failed attempt, as a TransportError that knows its attempt. */
export function toTransportError(e: unknown, attempt: number, timeoutMs: number): TransportError {
  if (e instanceof TransportError) return new TransportError(e.message, e.kind, e.retryable, attempt, e.code);
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err?.code ?? err?.cause?.code;
  const causeCode = err?.cause?.code;
  const effective = isRetryableCode(code) ? code : isRetryableCode(causeCode) ? causeCode : code;
  const message = err?.cause?.message && err.cause.message !== err.message ? `${err.message}: ${err.cause.message}` : String(err?.message ?? e);
  if (effective === "ETIMEDOUT") {
    // connecting that timed out says so itself ("no connection within", "connect ETIMEDOUT")
    const what = err?.message ? err.message : `no answer within ${timeoutMs} ms`;
    return new TransportError(`${what} (${effective})`, "timeout", true, attempt, effective);
  }
  return new TransportError(message, "connection", isRetryableCode(effective), attempt, effective);
}

/** "16 MiB", "512 KiB", "1000 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} bytes`;
}
