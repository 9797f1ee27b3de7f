// One HTTP exchange with an OpenStack API as every client here needs it: JSON in and out, a
// per-attempt timeout, and retries with exponential backoff + jitter on 5xx, 429, timeouts and
// dropped connections, within a bounded total time. It never reports headers or bodies it
// sent, so tokens and passwords cannot leak through its errors or retry notices.
import { readFileSync } from "node:fs";
import { Agent, request, type Dispatcher } from "undici";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";

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
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpRequest {
  method: Method;
  url: string;
  headers?: Record<string, string>;
  /** sent as JSON */
  json?: unknown;
  /**
   * Do not keep the connection for another request. Keystone under uwsgi closes every
   * connection after its answer; a pooled socket would fail the next request with ECONNRESET.
   */
  closeConnection?: boolean;
  /** this request's per-attempt timeout, instead of the transport's */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  /** lower-case names; repeated headers joined with ", " */
  headers: Record<string, string>;
  /** parsed JSON when the server said JSON, else the text; undefined when empty */
  body: unknown;
  /** how many attempts it took (1 = no retry) */
  attempts: number;
}

export interface RetryNotice {
  method: Method;
  /** origin + path, no query */
  url: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

/** The request got no HTTP answer: it timed out or the connection failed. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly kind: "timeout" | "connection",
    /** false for failures a retry cannot fix (bad TLS certificate, invalid URL) */
    readonly retryable: boolean,
    readonly attempts: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

export interface TransportOptions {
  /** per-attempt timeout covering connect, headers and body (default 30 s) */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** skip TLS verification */
  insecure?: boolean;
  /** path of a PEM CA bundle */
  cacert?: string;
  /** use this dispatcher instead of a private Agent (it is not closed by close()) */
  dispatcher?: Dispatcher;
  /** told about each retry; the notice holds no header or body */
  onRetry?: (n: RetryNotice) => void;
  userAgent?: string;
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** 408, 429 and 5xx other than 501 Not Implemented / 505 are worth another try. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

export class HttpTransport {
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: boolean;
  private readonly onRetry?: (n: RetryNotice) => void;
  private readonly userAgent: string;

  constructor(opts: TransportOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.retry.attempts = Math.max(1, Math.floor(this.retry.attempts));
    this.onRetry = opts.onRetry;
    this.userAgent = opts.userAgent ?? "bayforge";
    if (opts.dispatcher) {
      this.dispatcher = opts.dispatcher;
      this.ownDispatcher = false;
    } else {
      const connect: Record<string, unknown> = {};
      if (opts.insecure) connect.rejectUnauthorized = false;
      if (opts.cacert) connect.ca = readFileSync(opts.cacert, "utf8");
      this.dispatcher = new Agent({ connect, keepAliveTimeout: 4_000 });
      this.ownDispatcher = true;
    }
  }

  /**
   * Sends the request, retrying what is retryable. Resolves with the last HTTP answer (any
   * status: callers decide what a 4xx means), or rejects with TransportError when no answer came.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const started = Date.now();
    const { attempts, budgetMs } = this.retry;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse | undefined;
      let failure: TransportError | undefined;
      try {
        res = await this.once(req, attempt);
      } catch (e) {
        failure = toTransportError(e, attempt, req.timeoutMs ?? this.timeoutMs);
      }
      const retryable = res ? isRetryableStatus(res.status) : failure!.retryable;
      if (!retryable || attempt >= attempts) {
        if (res) return res;
        throw failure!;
      }
      const delay = this.backoff(attempt, res?.headers["retry-after"]);
      if (Date.now() - started + delay > budgetMs) {
        if (res) return res;
        throw failure!;
      }
      this.onRetry?.({
        method: req.method,
        url: safeUrl(req.url),
        attempt,
        delayMs: delay,
        reason: res ? `HTTP ${res.status}` : `${failure!.kind}: ${failure!.code ?? failure!.message}`,
      });
      await sleep(delay);
    }
  }

  async close(): Promise<void> {
    if (this.ownDispatcher) await this.dispatcher.close();
  }

  private async once(req: HttpRequest, attempt: number): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const headers: Record<string, string> = {
        accept: "application/json",
        "user-agent": this.userAgent,
        ...lowerKeys(req.headers ?? {}),
      };
      let body: string | undefined;
      if (req.json !== undefined) {
        body = JSON.stringify(req.json);
        headers["content-type"] = "application/json";
      }
      const res = await request(req.url, {
        method: req.method,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: controller.signal,
        reset: req.closeConnection === true,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      }); // undici 7 never follows redirects here: Heat's 302s come back as they are
      const text = await res.body.text();
      const resHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) resHeaders[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
      }
      return { status: res.statusCode, headers: resHeaders, body: parseBody(text, resHeaders["content-type"]), attempts: attempt };
    } catch (e) {
      if (timedOut) throw new TransportError(`no answer within ${timeoutMs} ms`, "timeout", true, attempt, "TIMEOUT");
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  private backoff(attempt: number, retryAfter: string | undefined): number {
    const { baseDelayMs, maxDelayMs } = this.retry;
    const asked = parseRetryAfter(retryAfter);
    if (asked !== undefined) return Math.min(asked, maxDelayMs);
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    // "equal jitter": at least half the step, so retries never bunch up at zero delay
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }
}

function toTransportError(e: unknown, attempt: number, timeoutMs: number): TransportError {
  if (e instanceof TransportError) return new TransportError(e.message, e.kind, e.retryable, attempt, e.code);
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err?.code && err.code !== "UND_ERR" ? err.code : err?.cause?.code;
  const causeCode = err?.cause?.code;
  const effective = code && RETRYABLE_CODES.has(code) ? code : causeCode && RETRYABLE_CODES.has(causeCode) ? causeCode : code;
  const message = err?.cause?.message && err.cause.message !== err.message ? `${err.message}: ${err.cause.message}` : String(err?.message ?? e);
  if (effective && TIMEOUT_CODES.has(effective)) {
    return new TransportError(`no answer within ${timeoutMs} ms (${effective})`, "timeout", true, attempt, effective);
  }
  return new TransportError(message, "connection", !!effective && RETRYABLE_CODES.has(effective), attempt, effective);
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === "") return undefined;
  if (contentType?.includes("json") || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function parseRetryAfter(v: string | undefined): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** origin + path: what may appear in a message or log line. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
