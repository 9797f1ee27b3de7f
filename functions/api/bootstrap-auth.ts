// The nodes' way in: a request whose X-Auth-Token is a bay's bootstrap token acts for that
// bay only, and only on the certificates API (read the CA, sign a CSR within its role's
// subject policy). Any other token goes to the configured authenticator (Keystone, or noauth
// for local use).
import type { BayTable } from "../../shared/ports/bay-table.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import { bootstrapTokenBay, verifyBootstrapToken, type BootstrapRole } from "../../shared/domain/bootstrap-token.ts";
import type { Caller } from "./env.ts";

type Authenticate = (headers: Headers) => Promise<Caller>;

export function withBootstrapTokens(table: BayTable, inner: Authenticate, now: () => Date = () => new Date()): Authenticate {
  return async (headers) => {
    const token = headers.get("x-auth-token");
    const bayId = token ? bootstrapTokenBay(token) : undefined;
    if (!token || !bayId) return inner(headers);
    const bay = await table.getBay(bayId);
    const role = bay ? verifyBootstrapToken(bay.bootstrap, token, now()) : undefined;
    if (!bay || !role) throw new ApiError(401, "Unauthorized", "The bay bootstrap token is not valid (wrong, replaced by a newer one, or expired).");
    return { projectId: bay.project_id, userId: `bootstrap:${bay.uuid}`, isAdmin: false, bootstrapBay: bay.uuid, bootstrapRole: role };
  };
}

/**
 * The node role a bootstrap caller acts in: the one its token was verified for. undefined for
 * every other caller; a bootstrap caller without one is refused (fails closed).
 */
export function bootstrapRole(caller: Caller): BootstrapRole | undefined {
  if (!caller.bootstrapBay) return undefined;
  if (!caller.bootstrapRole) throw new ApiError(403, "Forbidden", "The bay bootstrap token names no node role.");
  return caller.bootstrapRole;
}

/** What a bootstrap token may do: the certificates API's GET and POST, for its own bay. */
export function bootstrapAllows(method: string, path: string): boolean {
  return (method === "GET" && /^\/v1\/certificates\/[^/]+$/.test(path)) || (method === "POST" && /^\/v1\/certificates\/?$/.test(path));
}
