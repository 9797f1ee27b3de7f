// The console's SignIn on Keystone v3: POST /v3/auth/tokens with the person's credentials
// (password scoped to a project, or an application credential, which carries its own), and
// DELETE /v3/auth/tokens with the token as both the caller and the subject (a user may revoke
// their own token: no service power is used). Neither the password nor the token is logged.
import { safeUrl, TransportError } from "../../http/index.ts";
import { SignInRefused, type SignIn, type SignInCredentials, type SignedIn } from "../../../ports/sign-in.ts";
import type { Session } from "./session.ts";
import { asToken, refused, transportToIdentityError } from "./call.ts";
import { authRequestBody } from "./requests.ts";
import { extractToken, findEndpoint, IdentityError } from "./results.ts";
import type { AuthConfig } from "../config/types.ts";
import { tokensURL } from "./urls.ts";

export class KeystoneSignIn implements SignIn {
  /** `session`: Bayforge's own (its Keystone URL and transport); `forget`: drop a revoked token's cached validation */
  constructor(
    private readonly session: Session,
    private readonly forget: (token: string) => void = () => {},
  ) {}

  async signIn(cred: SignInCredentials): Promise<SignedIn> {
    const authUrl = this.session.cloud.auth.authUrl;
    const auth: AuthConfig =
      cred.kind === "password"
        ? { type: "password", authUrl, username: cred.username, password: cred.password, userDomainName: cred.domainName, projectName: cred.projectName, projectDomainName: cred.domainName }
        : { type: "application_credential", authUrl, applicationCredentialId: cred.id, applicationCredentialSecret: cred.secret };
    const url = tokensURL(authUrl);
    let res;
    try {
      res = await this.session.transport.send({ method: "POST", url, json: authRequestBody(auth), closeConnection: true });
    } catch (e) {
      if (e instanceof TransportError) throw transportToIdentityError(e, `POST ${safeUrl(url)}`);
      throw e;
    }
    // 400 (a malformed scope), 401 (wrong secret, no role on the project), 404 (unknown project)
    if (res.status === 400 || res.status === 401 || res.status === 404)
      throw new SignInRefused("Keystone refused these credentials: check the user, password, project and domain (or the application credential).");
    if (res.status !== 201 && res.status !== 200) throw refused(res, "Keystone could not sign the user in");
    const { value, info } = extractToken(res);
    if (!info.projectId) throw new SignInRefused("Keystone gave a token with no project: name a project the user has a role on.");
    return { token: value, expiresAt: info.expiresAt, userName: info.userName ?? info.userId, projectName: info.projectName ?? info.projectId, orchestrationUrl: this.orchestrationUrl(info.catalog, info.projectId) };
  }

  /** Heat's URL for the person's project: Bayforge's own override, else their catalog's (same interface and region as Bayforge's). */
  private orchestrationUrl(catalog: Parameters<typeof findEndpoint>[0], projectId: string): string | undefined {
    const cloud = this.session.cloud;
    const override = cloud.endpointOverrides.orchestration;
    if (override) return override.replace(/[%$]\((tenant_id|project_id)\)s/g, projectId).replace(/\/+$/, "");
    try {
      return findEndpoint(catalog, "orchestration", { interface: cloud.interface, region: cloud.regionName });
    } catch {
      return undefined;
    }
  }

  async revoke(token: string): Promise<void> {
    this.forget(token);
    const res = await asToken(this.session, token, { method: "DELETE", url: tokensURL(this.session.cloud.auth.authUrl), headers: { "x-subject-token": token } });
    this.forget(token);
    // 404/401: already revoked or expired
    if (res.status !== 204 && res.status !== 200 && res.status !== 404 && res.status !== 401) throw refused(res, "Keystone could not revoke the token", [token]);
  }
}

export { IdentityError };
