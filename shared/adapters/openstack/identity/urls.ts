// Every Keystone v3 URL the session uses, in one place.
import { identityV3Url } from "../config.ts";

/** POST here to authenticate; the token comes back in X-Subject-Token. */
export const tokensURL = (authUrl: string): string => `${identityV3Url(authUrl)}/auth/tokens`;
