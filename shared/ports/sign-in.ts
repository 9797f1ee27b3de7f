// Signing a person in to the web console: their own credentials → a project-scoped Keystone
// token for them, and revoking it at sign-out. The console then acts with that token exactly
// as an API client would (X-Auth-Token), so it sees what the API lets the token see.

export type SignInCredentials =
  | { kind: "password"; username: string; password: string; projectName: string; domainName: string }
  | { kind: "application_credential"; id: string; secret: string };

export interface SignedIn {
  /** the user's token: kept only sealed in the console's cookie, never logged */
  token: string;
  expiresAt: Date;
  /** for the console's header: who is signed in, to which project */
  userName: string;
  projectName: string;
  /** Heat's endpoint in the person's catalog (for the timeline's resources), when it has one */
  orchestrationUrl?: string;
}

export interface SignIn {
  /** Throws SignInRefused when Keystone refuses the credentials; IdentityError when it cannot answer. */
  signIn(cred: SignInCredentials): Promise<SignedIn>;
  /** Revokes the token at Keystone (a token already gone counts as revoked) and forgets any cached validation. */
  revoke(token: string): Promise<void>;
}

/** The credentials were refused (wrong password, unknown project, no role on it): the person's to fix. */
export class SignInRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignInRefused";
  }
}
