// Chat-ops mappings: a chat team or channel (`slack:T123`, `slack:T123:C456`, `mattermost:<team>`)
// → the project it acts in, the credential of that project the worker acts with (created by a
// member of the project: an application credential, or a trust to Bayforge's service user),
// and who may change bays from the chat. Locally they
// are rows of the embedded store with the secret encrypted by the key vault (`bayforge chatops
// map`); on AWS, entries of the chat-ops secret.

export interface ChatOpsMapping {
  /** `slack:<team>[:<channel>]` or `mattermost:<team>[:<channel>]` */
  key: string;
  project_id: string;
  /** the application credential's id (its secret is never part of a mapping read) */
  app_credential_id: string | null;
  /** or a trust from a member of the project to Bayforge's service user (impersonation, one redelegation) */
  trust_id?: string | null;
  /** chat user ids allowed to create, scale and delete; null or empty: anyone in the channel */
  allow: string[] | null;
}

/** An application credential of the mapped project, as the worker authenticates with it. */
export interface AppCredential {
  id: string;
  secret: string;
  project_id: string;
}

/** What the worker acts with for a mapping's bays. */
export type MappingCredential = ({ kind: "application_credential" } & AppCredential) | { kind: "trust"; trust_id: string; project_id: string };

export interface ChatOpsMappings {
  get(key: string): Promise<ChatOpsMapping | undefined>;
  /** the mapping's credential (an application credential's secret decrypted); undefined when unmapped or without one */
  credential(key: string): Promise<MappingCredential | undefined>;
}

/** Whether the mapping can act in its project (Keystone mode needs it). */
export const hasCredential = (m: ChatOpsMapping): boolean => !!(m.app_credential_id || m.trust_id);

/** Keys as the webhook looks them up: a channel's own mapping first, then its team's. */
export const MAPPING_KEY = /^(slack|mattermost):[^:\s]{1,64}(:[^:\s]{1,64})?$/;

/**
 * A chat-ops bay's mapping (or its credential) was removed while the bay still needs it: the
 * worker fails the bay's operation at once with this message (retrying cannot bring it back).
 */
export class MappingGone extends Error {
  readonly retryable = false;
  constructor(readonly key: string) {
    super(`The chat-ops mapping ${key} this bay acts with is gone or has no credential: an operator can map it again (bayforge chatops map ${key} ...), then retry the operation.`);
    this.name = "MappingGone";
  }
}

/** Whether a chat user may change bays under this mapping (create, scale, delete). */
export const mayChange = (m: ChatOpsMapping, userId: string): boolean => !m.allow?.length || m.allow.includes(userId);
