// One HTTP exchange with an OpenStack API as every client here needs it: JSON in and out, a
// per-attempt timeout, and retries with exponential backoff + jitter on 5xx, 429, timeouts and
// dropped connections, within a bounded total time. It never reports headers or bodies it
// sent, so tokens and passwords cannot leak through its errors or retry notices.
// node:http/https rather than undici: the exchange is simple (JSON, no streaming, no
// redirects) and undici was ~525 KB of every Lambda bundle.
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

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
  /** a shorter limit on connecting alone (an unreachable host is told quickly); default none */
  connectTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** skip TLS verification */
  insecure?: boolean;
  /** path of a PEM CA bundle */
  cacert?: string;
  /** TLS material given as PEM text: CA bundle, and a client certificate with its key */
  tls?: { ca?: string; cert?: string; key?: string };
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
]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT"]);
/** Idle pooled connections are closed after this long (servers drop theirs after ~5 s). */
const IDLE_MS = 4_000;

/** 408, 429 and 5xx other than 501 Not Implemented / 505 are worth another try. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

export class HttpTransport {
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  private readonly connectTimeoutMs?: number;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly onRetry?: (n: RetryNotice) => void;
  private readonly userAgent: string;

  constructor(opts: TransportOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.connectTimeoutMs = opts.connectTimeoutMs;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.retry.attempts = Math.max(1, Math.floor(this.retry.attempts));
    this.onRetry = opts.onRetry;
    this.userAgent = opts.userAgent ?? "bayforge";
    const pool = { keepAlive: true, timeout: IDLE_MS };
    this.httpAgent = new http.Agent(pool);
    this.httpsAgent = new https.Agent({
      ...pool,
      ...(opts.insecure ? { rejectUnauthorized: false } : {}),
      ...(opts.cacert ? { ca: readFileSync(opts.cacert, "utf8") } : opts.tls?.ca ? { ca: opts.tls.ca } : {}),
      ...(opts.tls?.cert ? { cert: opts.tls.cert } : {}),
      ...(opts.tls?.key ? { key: opts.tls.key } : {}),
    });
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
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private once(req: HttpRequest, attempt: number): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const url = new URL(req.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return Promise.reject(new TransportError(`unsupported URL scheme ${url.protocol}`, "connection", false, attempt, "ERR_INVALID_URL"));
    }
    const headers: Record<string, string> = { accept: "application/json", "user-agent": this.userAgent, ...lowerKeys(req.headers ?? {}) };
    let body: Buffer | undefined;
    if (req.json !== undefined) {
      body = Buffer.from(JSON.stringify(req.json));
      headers["content-type"] ??= "application/json";
      headers["content-length"] = String(body.length);
    }
    if (req.closeConnection) headers.connection = "close";
    const secure = url.protocol === "https:";
    return new Promise<HttpResponse>((resolve, reject) => {
      let timedOut = false;
      let settled = false;
      const finish = (e: unknown, res?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (res) resolve(res);
        else reject(timedOut ? new TransportError(`no answer within ${timeoutMs} ms`, "timeout", true, attempt, "TIMEOUT") : e);
      };
      // one deadline for connect, headers and body; node never follows redirects, so Heat's 302s come back as they are
      const r = (secure ? https : http).request(url, { method: req.method, headers, agent: secure ? this.httpsAgent : this.httpAgent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => finish(e));
        res.on("end", () => {
          if (!res.complete) return finish(Object.assign(new Error("the connection closed before the whole answer came"), { code: "ECONNRESET" }));
          const resHeaders: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) resHeaders[k] = Array.isArray(v) ? v.join(", ") : v;
          const text = Buffer.concat(chunks).toString("utf8");
          finish(undefined, { status: res.statusCode ?? 0, headers: resHeaders, body: parseBody(text, resHeaders["content-type"]), attempts: attempt });
        });
      });
      const timer = setTimeout(() => {
        timedOut = true;
        r.destroy();
        finish(undefined);
      }, timeoutMs);
      r.on("error", (e) => finish(e));
      const connectMs = this.connectTimeoutMs;
      if (connectMs !== undefined && connectMs < timeoutMs)
        r.on("socket", (socket) => {
          if (!socket.connecting) return; // a pooled connection
          const t = setTimeout(() => r.destroy(Object.assign(new Error(`no connection within ${connectMs} ms`), { code: "ETIMEDOUT" })), connectMs);
          socket.once("connect", () => clearTimeout(t));
          socket.once("close", () => clearTimeout(t));
        });
      r.end(body);
    });
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
  const code = err?.code ?? err?.cause?.code;
  const causeCode = err?.cause?.code;
  const effective = code && RETRYABLE_CODES.has(code) ? code : causeCode && RETRYABLE_CODES.has(causeCode) ? causeCode : code;
  const message = err?.cause?.message && err.cause.message !== err.message ? `${err.message}: ${err.cause.message}` : String(err?.message ?? e);
  if (effective && TIMEOUT_CODES.has(effective)) {
    // connecting that timed out says so itself ("no connection within", "connect ETIMEDOUT")
    const what = effective === "ETIMEDOUT" && err?.message ? err.message : `no answer within ${timeoutMs} ms`;
    return new TransportError(`${what} (${effective})`, "timeout", true, attempt, effective);
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
