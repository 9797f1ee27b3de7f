// A Keystone v3 session: authenticates once, reuses the token until shortly before it
// expires, lets concurrent callers share one authentication in flight, finds service
// endpoints in the catalog, and re-authenticates once when a service answers 401.
import type { CloudConfig } from "../config/types.ts";
import { HttpTransport, safeUrl, TransportError, type HttpRequest, type HttpResponse, type TransportOptions } from "../../http/index.ts";
import { isRetryableStatus } from "../../../domain/retryable.ts";
import { transportToIdentityError } from "./call.ts";
import { authRequestBody, describeCredential } from "./requests.ts";
import { extractToken, findEndpoint, IdentityError, keystoneMessage, type EndpointQuery, type TokenInfo } from "./results.ts";
import { tokensURL } from "./urls.ts";

export interface SessionOptions extends TransportOptions {
  /** share a transport (and its connection pool) instead of creating one */
  transport?: HttpTransport;
  /**
   * Re-authenticate this long before the token expires (default 5 minutes, at most half the
   * token's lifetime so short-lived tokens are still reused).
   */
  expiryMarginMs?: number;
  /** clock, for tests */
  now?: () => number;
  /**
   * A trust-scoped session of the trust's own trustee: get its tokens by rescoping this
   * session's token to the trust (Keystone's `token` method) instead of checking the password
   * again, a bcrypt hash on every trust (12 rounds by default). Keystone refusing (a token
   * revoked, rescoping disabled) falls back to the password.
   */
  rescopeFrom?: Session;
}

interface Current {
  value: string;
  info: TokenInfo;
  /** local clock time after which the token is renewed */
  refreshAt: number;
}

const DEFAULT_MARGIN_MS = 5 * 60_000;

export class Session {
  readonly cloud: CloudConfig;
  readonly transport: HttpTransport;
  private readonly ownTransport: boolean;
  private readonly marginMs: number;
  private readonly now: () => number;
  private current?: Current;
  private inflight?: Promise<Current>;
  private authCount = 0;
  private readonly rescopeFrom?: Session;
  private readonly trustId?: string;

  constructor(cloud: CloudConfig, opts: SessionOptions = {}) {
    this.cloud = cloud;
    this.marginMs = opts.expiryMarginMs ?? DEFAULT_MARGIN_MS;
    this.now = opts.now ?? Date.now;
    this.trustId = cloud.auth.type === "application_credential" ? undefined : cloud.auth.trustId;
    this.rescopeFrom = this.trustId ? opts.rescopeFrom : undefined;
    if (opts.transport) {
      this.transport = opts.transport;
      this.ownTransport = false;
    } else {
      this.transport = new HttpTransport({
        insecure: cloud.insecure,
        cacert: cloud.cacert,
        timeoutMs: cloud.apiTimeoutMs,
        ...stripUndefined(opts),
      });
      this.ownTransport = true;
    }
  }

  /** How many times this session has asked Keystone for a token. */
  get authentications(): number {
    return this.authCount;
  }

  /** A valid token value. Put it in X-Auth-Token; never in a message or log. */
  async token(): Promise<string> {
    return (await this.valid()).value;
  }

  /** Facts about the current token (project, roles, catalog, expiry), without its value. */
  async tokenInfo(): Promise<TokenInfo> {
    return (await this.valid()).info;
  }

  /** The id of the project the token is scoped to. */
  async projectId(): Promise<string> {
    const info = await this.tokenInfo();
    if (!info.projectId) {
      throw new IdentityError(
        `the token for ${describeCredential(this.cloud.auth)} is not scoped to a project; Heat needs a project-scoped token`,
        undefined,
        false,
      );
    }
    return info.projectId;
  }

  /**
   * The endpoint URL of a service type: the cloud's `<type>_endpoint_override` if configured,
   * else the catalog's, for the configured interface and region unless `q` says otherwise.
   */
  async endpoint(serviceType: string, q: EndpointQuery = {}): Promise<string> {
    const override = this.cloud.endpointOverrides[serviceType];
    if (override) {
      const projectId = await this.projectId();
      return override.replace(/[%$]\((tenant_id|project_id)\)s/g, projectId).replace(/\/+$/, "");
    }
    const info = await this.tokenInfo();
    return findEndpoint(info.catalog, serviceType, {
      interface: q.interface ?? this.cloud.interface,
      region: q.region ?? this.cloud.regionName,
    });
  }

  /**
   * Authenticates now (or joins an authentication already in flight). `force` discards the
   * current token first.
   */
  async authenticate(opts: { force?: boolean } = {}): Promise<TokenInfo> {
    if (opts.force) this.current = undefined;
    return (await this.valid()).info;
  }

  /** Forgets the token (only if it is still `value`, when given), so the next call re-authenticates. */
  invalidate(value?: string): void {
    if (value === undefined || this.current?.value === value) this.current = undefined;
  }

  /**
   * An authenticated request to a service (absolute URL). A 401 invalidates the token and the
   * request is sent once more with a fresh one; whatever comes back then is returned.
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const first = await this.token();
    const res = await this.transport.send(withToken(req, first));
    if (res.status !== 401) return res;
    this.invalidate(first);
    const second = await this.token();
    // `attempts` stays the transport's count for this answer: a 401 was not acted upon, so
    // it does not count as a possibly-applied earlier attempt
    return this.transport.send(withToken(req, second));
  }

  async close(): Promise<void> {
    if (this.ownTransport) await this.transport.close();
  }

  private async valid(): Promise<Current> {
    const c = this.current;
    if (c && this.now() < c.refreshAt) return c;
    if (!this.inflight) {
      this.inflight = this.fetchToken().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async fetchToken(): Promise<Current> {
    const url = tokensURL(this.cloud.auth.authUrl);
    const who = describeCredential(this.cloud.auth);
    let res: HttpResponse | undefined;
    if (this.rescopeFrom) {
      const mine = await this.rescopeFrom.token().catch(() => undefined);
      if (mine) {
        res = await this.askKeystone(url, authRequestBody({ type: "token", authUrl: this.cloud.auth.authUrl, token: mine, trustId: this.trustId }));
        if (res.status !== 201 && res.status !== 200) res = undefined;
      }
    }
    res ??= await this.askKeystone(url, authRequestBody(this.cloud.auth));
    if (res.status !== 201 && res.status !== 200) {
      const retryable = isRetryableStatus(res.status);
      throw new IdentityError(
        `Keystone refused to authenticate ${who} (HTTP ${res.status}): ${keystoneMessage(res.body, res.status)}`,
        res.status,
        retryable,
      );
    }
    const received = this.now();
    const { value, info } = extractToken(res);
    // Lifetime from Keystone's own issued_at/expires_at, counted on the local clock from
    // receipt, so a skewed local clock does not make a fresh token look expired.
    const lifetime = info.issuedAt ? info.expiresAt.getTime() - info.issuedAt.getTime() : info.expiresAt.getTime() - received;
    const margin = Math.min(this.marginMs, Math.max(0, lifetime) / 2);
    const current = { value, info, refreshAt: received + lifetime - margin };
    this.current = current;
    return current;
  }

  private async askKeystone(url: string, json: Record<string, unknown>): Promise<HttpResponse> {
    this.authCount++;
    try {
      return await this.transport.send({ method: "POST", url, json, closeConnection: true });
    } catch (e) {
      if (e instanceof TransportError) throw transportToIdentityError(e, `POST ${safeUrl(url)}`);
      throw e;
    }
  }
}

function withToken(req: HttpRequest, token: string): HttpRequest {
  return { ...req, headers: { ...req.headers, "x-auth-token": token } };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
