// What Keystone answers: the token (value from X-Subject-Token, the rest from the body) and
// its service catalog, with the lookup of one service's endpoint in it.
import type { EndpointInterface } from "../config/types.ts";
import type { HttpResponse } from "../../http/index.ts";
import { IdentityError, type CatalogEndpoint, type CatalogEntry } from "../../../ports/identity.ts";

// the error and catalog types are the port's: callers of Identity use them without importing this adapter
export { IdentityError, type CatalogEndpoint, type CatalogEntry };


/** A token's facts, without its value (which only the session holds). */
export interface TokenInfo {
  expiresAt: Date;
  issuedAt?: Date;
  userId: string;
  userName?: string;
  projectId?: string;
  projectName?: string;
  roles: string[];
  catalog: CatalogEntry[];
  /** how it was obtained ("password", "token" when rescoped, ...), as Keystone lists them */
  methods?: string[];
}

/** Takes the token out of a 201 from POST /v3/auth/tokens. */
export function extractToken(res: HttpResponse): { value: string; info: TokenInfo } {
  const value = res.headers["x-subject-token"];
  const token = (res.body as { token?: Record<string, unknown> } | undefined)?.token;
  if (!value || !token || typeof token.expires_at !== "string") {
    throw new IdentityError("Keystone answered 201 without a token (X-Subject-Token header and token body)", res.status, false);
  }
  const expiresAt = new Date(token.expires_at);
  if (Number.isNaN(expiresAt.getTime())) {
    throw new IdentityError(`Keystone's token has an unreadable expires_at "${token.expires_at}"`, res.status, false);
  }
  const issuedAt = typeof token.issued_at === "string" ? new Date(token.issued_at) : undefined;
  const user = (token.user ?? {}) as { id?: string; name?: string };
  const project = token.project as { id?: string; name?: string } | undefined;
  const roles = Array.isArray(token.roles) ? (token.roles as Array<{ name?: string }>).map((r) => r.name ?? "") : [];
  const catalog = Array.isArray(token.catalog) ? (token.catalog as CatalogEntry[]) : [];
  return {
    value,
    info: {
      expiresAt,
      issuedAt: issuedAt && !Number.isNaN(issuedAt.getTime()) ? issuedAt : undefined,
      userId: user.id ?? "",
      userName: user.name,
      projectId: project?.id,
      projectName: project?.name,
      roles,
      catalog,
      methods: Array.isArray(token.methods) ? token.methods.filter((m): m is string => typeof m === "string") : undefined,
    },
  };
}

export interface EndpointQuery {
  interface?: EndpointInterface;
  region?: string;
}

/**
 * The URL of `serviceType` in the catalog for the interface (public unless asked) and, when
 * given, the region. Throws IdentityError listing what the catalog does offer.
 */
export function findEndpoint(catalog: CatalogEntry[], serviceType: string, q: EndpointQuery = {}): string {
  const iface = q.interface ?? "public";
  const entries = catalog.filter((e) => e.type === serviceType);
  if (!entries.length) {
    const types = [...new Set(catalog.map((e) => e.type))].sort();
    throw new IdentityError(
      `the service catalog has no "${serviceType}" service (it has: ${types.join(", ") || "nothing"})`,
      undefined,
      false,
    );
  }
  const endpoints = entries.flatMap((e) => e.endpoints ?? []);
  const match = endpoints.find(
    (ep) =>
      ep.interface.replace(/URL$/, "") === iface &&
      (!q.region || ep.region_id === q.region || ep.region === q.region),
  );
  if (!match) {
    const offered = endpoints.map((ep) => `${ep.interface}@${ep.region_id ?? ep.region ?? "?"}`).join(", ");
    throw new IdentityError(
      `the service catalog has no ${iface} "${serviceType}" endpoint` +
        (q.region ? ` in region "${q.region}"` : "") +
        ` (it has: ${offered || "none"})`,
      undefined,
      false,
    );
  }
  return match.url.replace(/\/+$/, "");
}

/** Keystone's error text: `{"error": {"code", "title", "message"}}`. */
export function keystoneMessage(body: unknown, status: number): string {
  const err = (body as { error?: { message?: unknown; title?: unknown } } | undefined)?.error;
  if (err && typeof err.message === "string" && err.message) return err.message;
  if (err && typeof err.title === "string" && err.title) return err.title;
  if (typeof body === "string" && body.trim() && !body.trimStart().startsWith("<")) return body.trim().slice(0, 300);
  return `HTTP ${status}`;
}
