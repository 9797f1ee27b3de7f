// Every Keystone v3 URL the identity clients use, in one place.
import { identityV3Url } from "../config/index.ts";

/** POST here to authenticate; the token comes back in X-Subject-Token. */
export const tokensURL = (authUrl: string): string => `${identityV3Url(authUrl)}/auth/tokens`;

const seg = encodeURIComponent;

/** GET here with X-Subject-Token validates a token; `nocatalog` leaves the catalog out. */
export const validateURL = (authUrl: string, withCatalog: boolean): string =>
  tokensURL(authUrl) + (withCatalog ? "" : "?nocatalog");

export const trustsURL = (authUrl: string): string => `${identityV3Url(authUrl)}/OS-TRUST/trusts`;
export const trustURL = (authUrl: string, id: string): string => `${trustsURL(authUrl)}/${seg(id)}`;

export const usersURL = (authUrl: string): string => `${identityV3Url(authUrl)}/users`;
export const userURL = (authUrl: string, id: string): string => `${usersURL(authUrl)}/${seg(id)}`;
/** the users of a domain with exactly this name (at most one) */
export const userByNameURL = (authUrl: string, domainId: string, name: string): string =>
  `${usersURL(authUrl)}?domain_id=${seg(domainId)}&name=${seg(name)}`;

export const domainByNameURL = (authUrl: string, name: string): string =>
  `${identityV3Url(authUrl)}/domains?name=${seg(name)}`;
