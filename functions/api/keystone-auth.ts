// Caller resolution with Keystone, as keystonemiddleware's auth_token does it for Magnum: the
// request's X-Auth-Token is validated by Keystone (cached briefly by the validator) and the
// caller is the token's user in the token's project. No token or a bad one: 401; Keystone
// unreachable (or refusing Bayforge itself): 503. The token is never put in a message or log.
import { ApiError } from "../../shared/domain/errors.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import type { TokenValidation, TokenValidator } from "../../shared/ports/identity.ts";
import type { Caller } from "./env.ts";

export interface KeystoneAuthOptions {
  /** a token holding any of these roles is an admin's (default ["admin"], Magnum's context_is_admin) */
  adminRoles?: string[];
  /** where a Keystone failure behind a 503 is logged (without the token) */
  log?: Logger;
}

/** What keystoneAuth needs: the Identity port's token validator. */
export type Validator = TokenValidator;

export const AUTH_REQUIRED = "Authentication required";
const UNAUTHORIZED_DETAIL = "The request you have made requires authentication.";

export function keystoneAuth(validator: Validator, opts: KeystoneAuthOptions = {}): (headers: Headers) => Promise<Caller> {
  const adminRoles = new Set(opts.adminRoles ?? ["admin"]);
  return async (headers: Headers): Promise<Caller> => {
    const token = headers.get("x-auth-token")?.trim();
    if (!token) {
      throw new ApiError(401, AUTH_REQUIRED, `${UNAUTHORIZED_DETAIL} Send a Keystone token in the X-Auth-Token header.`);
    }
    let result: TokenValidation;
    try {
      result = await validator.validate(token);
    } catch (e) {
      opts.log?.error("keystone token validation failed", { err: e });
      throw new ApiError(
        503,
        "Service Unavailable",
        "The authentication service (Keystone) is unavailable; the token could not be validated. Try again later.",
      );
    }
    if (!result.valid) throw new ApiError(401, "Unauthorized", `${UNAUTHORIZED_DETAIL} ${result.reason}`);
    const t = result.token;
    return {
      projectId: t.projectId,
      userId: t.userId,
      isAdmin: t.roles.some((r) => adminRoles.has(r)),
      token,
      tokenExpiresAt: t.expiresAt,
      roles: t.roles,
      userName: t.userName,
      projectName: t.projectName,
    };
  };
}
