// What the session asks Keystone: the body of POST /v3/auth/tokens for each supported
// credential kind (password, application credential, token), with the project or trust scope.
import type { AuthConfig, ProjectScope, TrustScope } from "../config/types.ts";

type Json = Record<string, unknown>;

function domain(id: string | undefined, name: string | undefined): Json | undefined {
  if (id) return { id };
  if (name) return { name };
  return undefined;
}

function userRef(u: { userId?: string; username?: string; userDomainId?: string; userDomainName?: string }): Json {
  if (u.userId) return { id: u.userId };
  return { name: u.username, domain: domain(u.userDomainId, u.userDomainName) };
}

function projectScope(s: ProjectScope): Json | undefined {
  if (s.projectId) return { project: { id: s.projectId } };
  if (s.projectName) {
    return { project: { name: s.projectName, domain: domain(s.projectDomainId, s.projectDomainName) } };
  }
  return undefined;
}

/** A trust scope, when there is one, else the project scope. */
function scope(s: ProjectScope & TrustScope): Json | undefined {
  return s.trustId ? { "OS-TRUST:trust": { id: s.trustId } } : projectScope(s);
}

/** The JSON body of POST /v3/auth/tokens. It holds the secret: never log it. */
export function authRequestBody(auth: AuthConfig): Json {
  switch (auth.type) {
    case "password":
      return {
        auth: {
          identity: { methods: ["password"], password: { user: { ...userRef(auth), password: auth.password } } },
          scope: scope(auth),
        },
      };
    case "token":
      return {
        auth: { identity: { methods: ["token"], token: { id: auth.token } }, scope: scope(auth) },
      };
    case "application_credential": {
      const cred: Json = auth.applicationCredentialId
        ? { id: auth.applicationCredentialId, secret: auth.applicationCredentialSecret }
        : { name: auth.applicationCredentialName, user: userRef(auth), secret: auth.applicationCredentialSecret };
      // an application credential is bound to its project: sending a scope is an error
      return { auth: { identity: { methods: ["application_credential"], application_credential: cred } } };
    }
  }
}

/** Who is authenticating, for messages: the user or credential name, never a secret. */
export function describeCredential(auth: AuthConfig): string {
  switch (auth.type) {
    case "password":
      return `user "${auth.username ?? auth.userId}"` + (auth.trustId ? " through a trust" : "");
    case "token":
      return "the configured token" + (auth.trustId ? " through a trust" : "");
    case "application_credential":
      return `application credential "${auth.applicationCredentialId ?? auth.applicationCredentialName}"`;
  }
}
