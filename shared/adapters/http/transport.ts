// One HTTP exchange as every client here needs it (OpenStack's APIs, a bay's Kubernetes API):
// JSON in and out, a per-attempt timeout, retries with backoff on what shared/domain/retryable.ts
// calls retryable, within a bounded total time, and a cap on the size of every answer (a bay's
// API is the tenant's; a server must not make Bayforge buffer without end). It never reports
// headers or bodies, so tokens and passwords cannot leak through its errors or retry notices.
// node:http/https rather than undici: the exchange is simple (JSON, no streaming, no
// redirects) and undici was ~525 KB of every Lambda bundle.
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { isNotActedStatus, isRetryableStatus } from "../../domain/retryable.ts";
import { toTransportError, tooLarge, TransportError } from "./errors.ts";
import { backoffMs, retryPolicy, type RetryNotice, type RetryPolicy } from "./retry.ts";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";

export const DEFAULT_TIMEOUT_MS = 30_000;
/** The default cap on one answer: OpenStack's APIs (Heat's resource lists are the largest). */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

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
  /**
   * false for a request that must not reach the service twice (a stack create: two creates
   * of one name can both pass Heat's name check). It is retried only when it surely never acted:
   * the connection was never made, or the answer was 429/503. After a timeout or a dropped
   * connection it may have acted, and the caller decides (TransportError.maybeSent).
   */
  repeatable?: boolean;
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

export interface TransportOptions {
  /** per-attempt timeout covering connect, headers and body (default 30 s) */
  timeoutMs?: number;
  /** a shorter limit on connecting alone (an unreachable host is told quickly); default none */
  connectTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** the largest answer body accepted, in bytes (default 16 MiB); a larger one is aborted */
  maxResponseBytes?: number;
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

/** Idle pooled connections are closed after this long (servers drop theirs after ~5 s). */
const IDLE_MS = 4_000;

export class HttpTransport {
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly maxResponseBytes: number;
  private readonly connectTimeoutMs?: number;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly onRetry?: (n: RetryNotice) => void;
  private readonly userAgent: string;

  constructor(opts: TransportOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.connectTimeoutMs = opts.connectTimeoutMs;
    this.retry = retryPolicy(opts.retry);
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
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
   * status: callers decide what a 4xx means), or rejects with TransportError when no usable
   * answer came (none at all, or one over maxResponseBytes).
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
      const retryable = res
        ? isRetryableStatus(res.status) && (req.repeatable !== false || isNotActedStatus(res.status))
        : failure!.retryable && (req.repeatable !== false || !failure!.maybeSent);
      const delay = retryable && attempt < attempts ? backoffMs(this.retry, attempt, res?.headers["retry-after"]) : -1;
      if (delay < 0 || Date.now() - started + delay > budgetMs) {
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
    const limit = this.maxResponseBytes;
    const what = `${req.method} ${safeUrl(req.url)}`;
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
      // an answer over the limit: fail first, then drop the connection so the rest is never read
      const abort = (announced?: number) => {
        finish(tooLarge(what, limit, attempt, announced));
        r.destroy();
      };
      // one deadline for connect, headers and body; node never follows redirects, so Heat's 302s come back as they are
      let answer: http.IncomingMessage | undefined;
      const r = (secure ? https : http).request(url, { method: req.method, headers, agent: secure ? this.httpsAgent : this.httpAgent }, (res) => {
        answer = res;
        const announced = Number(res.headers["content-length"]);
        if (req.method !== "HEAD" && announced > limit) return abort(announced);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > limit) return abort();
          chunks.push(c);
        });
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
      // bytes after a complete answer (more than its Content-Length said) fail the connection,
      // not the answer: it ends as announced, and the connection is not reused
      r.on("error", (e) => answer?.complete || finish(e));
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
