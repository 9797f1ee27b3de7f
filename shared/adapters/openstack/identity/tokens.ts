// Validation of users' tokens, as keystonemiddleware's auth_token does it for Magnum's API:
// GET /v3/auth/tokens with the service's token in X-Auth-Token and the user's in
// X-Subject-Token. Answers are cached in memory under a SHA-256 of the token (never the token
// itself) until the token expires or a TTL passes, whichever comes first, so a revoked token
// is refused again at most one TTL later; concurrent validations of one token share a request.
import { createHash } from "node:crypto";
import type { Session } from "./session.ts";
import { asService, refused } from "./call.ts";
import { IdentityError, type CatalogEntry } from "./results.ts";
import type { TokenValidation, ValidatedToken } from "../../../ports/identity.ts";

export type { TokenValidation, ValidatedToken };
import { validateURL } from "./urls.ts";

export interface TokenValidatorOptions {
  /** how long a validation is reused at most (default 60 s; 0: ask Keystone every time) */
  cacheTtlMs?: number;
  /** validations kept at most; the least recently used go first (default 10 000) */
  maxEntries?: number;
  /** ask Keystone for the token's service catalog too (default false: `?nocatalog`) */
  catalog?: boolean;
  /** per-attempt timeout of the validation request (default: the session transport's) */
  timeoutMs?: number;
  /** clock, for tests */
  now?: () => number;
}

interface Entry {
  result: Extract<TokenValidation, { valid: true }>;
  /** local clock time after which Keystone is asked again */
  until: number;
}

const DEFAULT_TTL_MS = 60_000;
const DEFAULT_MAX_ENTRIES = 10_000;
// Fernet tokens are ~180-250 URL-safe characters; anything that could not be sent in a header
// (or is absurdly long) is refused without asking Keystone.
const TOKEN_SHAPE = /^[\x21-\x7e]{1,8192}$/;

export const INVALID_TOKEN = "The token is invalid, expired or revoked.";
export const NOT_PROJECT_SCOPED =
  "The token is not scoped to a project (unscoped, domain or system scope); Bayforge needs a project-scoped token.";

export class TokenValidator {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly withCatalog: boolean;
  private readonly timeoutMs?: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<TokenValidation>>();
  private lookups = 0;

  /** `session` is the service user's: it must hold the admin or service role to validate others' tokens. */
  constructor(
    readonly session: Session,
    opts: TokenValidatorOptions = {},
  ) {
    this.ttlMs = Math.max(0, opts.cacheTtlMs ?? DEFAULT_TTL_MS);
    this.maxEntries = Math.max(1, Math.floor(opts.maxEntries ?? DEFAULT_MAX_ENTRIES));
    this.withCatalog = opts.catalog ?? false;
    this.timeoutMs = opts.timeoutMs;
    this.now = opts.now ?? Date.now;
  }

  /** How many times Keystone was asked to validate a token. */
  get keystoneLookups(): number {
    return this.lookups;
  }

  /** Validations currently cached. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /**
   * Whom `token` speaks for, or why it is refused. Throws IdentityError when Keystone cannot
   * answer (no answer, 5xx) or refuses the service itself (403: it lacks the role to validate).
   */
  async validate(token: string): Promise<TokenValidation> {
    if (!TOKEN_SHAPE.test(token)) return { valid: false, reason: INVALID_TOKEN };
    const key = digest(token);
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      if (this.now() < hit.until) {
        this.cache.set(key, hit); // most recently used last
        return hit.result;
      }
    }
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.lookup(token).then(
      (result) => {
        if (this.inflight.get(key) === p) {
          this.inflight.delete(key);
          if (result.valid) this.remember(key, result);
        }
        return result;
      },
      (e: unknown) => {
        if (this.inflight.get(key) === p) this.inflight.delete(key);
        throw e;
      },
    );
    this.inflight.set(key, p);
    return p;
  }

  /** Drops what is known about `token` (after revoking it, say). */
  forget(token: string): void {
    const key = digest(token);
    this.cache.delete(key);
    this.inflight.delete(key);
  }

  private remember(key: string, result: Extract<TokenValidation, { valid: true }>): void {
    if (this.ttlMs === 0) return;
    const now = this.now();
    const until = Math.min(now + this.ttlMs, result.token.expiresAt.getTime());
    if (until <= now) return;
    this.cache.set(key, { result, until });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  private async lookup(token: string): Promise<TokenValidation> {
    this.lookups++;
    const res = await asService(this.session, {
      method: "GET",
      url: validateURL(this.session.cloud.auth.authUrl, this.withCatalog),
      headers: { "x-subject-token": token },
      timeoutMs: this.timeoutMs,
    });
    // 404: unknown, expired or revoked; 401 after the session's own re-authentication: the
    // subject was refused (Keystone's text quotes the token, so it is not passed on)
    if (res.status === 404 || res.status === 401) return { valid: false, reason: INVALID_TOKEN };
    if (res.status === 403) {
      throw refused(res, "Keystone does not let Bayforge's service user validate tokens (it needs the admin or service role)", [token]);
    }
    if (res.status !== 200) throw refused(res, "Keystone could not validate a token", [token]);
    return parse(res.body, this.withCatalog);
  }
}

/** The cache key: never the token itself. */
function digest(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

type Ref = { id?: unknown; name?: unknown; domain?: { id?: unknown; name?: unknown } };

function parse(body: unknown, withCatalog: boolean): TokenValidation {
  const t = (body as { token?: Record<string, unknown> } | undefined)?.token;
  const expiresAt = typeof t?.expires_at === "string" ? new Date(t.expires_at) : undefined;
  const user = t?.user as Ref | undefined;
  if (!t || !expiresAt || Number.isNaN(expiresAt.getTime()) || typeof user?.id !== "string") {
    throw new IdentityError("Keystone validated a token but its answer holds no token (user, expires_at)", 200, false);
  }
  const project = t.project as Ref | undefined;
  if (typeof project?.id !== "string") return { valid: false, reason: NOT_PROJECT_SCOPED };
  const roles = Array.isArray(t.roles)
    ? (t.roles as Array<{ name?: unknown }>).map((r) => r.name).filter((n): n is string => typeof n === "string")
    : [];
  const trust = t["OS-TRUST:trust"] as { id?: unknown } | undefined;
  return {
    valid: true,
    token: {
      userId: user.id,
      userName: str(user.name),
      userDomainId: str(user.domain?.id),
      projectId: project.id,
      projectName: str(project.name),
      projectDomainId: str(project.domain?.id),
      roles,
      expiresAt,
      ...(typeof trust?.id === "string" ? { trustId: trust.id } : {}),
      ...(withCatalog ? { catalog: Array.isArray(t.catalog) ? (t.catalog as CatalogEntry[]) : [] } : {}),
    },
  };
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
