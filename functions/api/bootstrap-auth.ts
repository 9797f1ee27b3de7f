// The nodes' way in: a request whose X-Auth-Token is a bay's bootstrap token acts for that
// bay only, and only on the certificates API (read the CA, sign a CSR). Any other token goes
// to the configured authenticator (Keystone, or noauth for local use).
import type { BayTable } from "../../shared/ports/bay-table.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import { bootstrapTokenBay, verifyBootstrapToken } from "../../shared/domain/bootstrap-token.ts";
import type { Caller } from "./env.ts";

type Authenticate = (headers: Headers) => Promise<Caller>;

export function withBootstrapTokens(table: BayTable, inner: Authenticate, now: () => Date = () => new Date()): Authenticate {
  return async (headers) => {
    const token = headers.get("x-auth-token");
    const bayId = token ? bootstrapTokenBay(token) : undefined;
    if (!token || !bayId) return inner(headers);
    const bay = await table.getBay(bayId);
    if (!bay || !verifyBootstrapToken(bay.bootstrap, token, now()))
      throw new ApiError(401, "Unauthorized", "The bay bootstrap token is not valid (wrong, replaced by a newer one, or expired).");
    return { projectId: bay.project_id, userId: `bootstrap:${bay.uuid}`, isAdmin: false, bootstrapBay: bay.uuid };
  };
}

/** What a bootstrap token may do: the certificates API's GET and POST, for its own bay. */
export function bootstrapAllows(method: string, path: string): boolean {
  return (method === "GET" && /^\/v1\/certificates\/[^/]+$/.test(path)) || (method === "POST" && /^\/v1\/certificates\/?$/.test(path));
}
