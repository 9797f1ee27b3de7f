// Keystone as the API and the worker need it for a bay: Bayforge acts for the user through a
// trust (delegation), and the bay's nodes get a trustee user of their own with a trust from
// the same user (Magnum's trustee), both made with the user's token at request time.

export interface Delegator {
  userId: string;
  projectId: string;
  /** the roles of the user's token; a trust delegates all of them (implied roles included) */
  roles: string[];
}

export interface NewTrustee {
  user_id: string;
  username: string;
  domain_id: string;
  /** plaintext: the caller encrypts it before storing */
  password: string;
  trust_id: string;
}

export interface Identity {
  /**
   * A trust from the user to Bayforge's service user, used by the worker for this operation.
   * `marker` is the trust's expiry, chosen per bay operation far in the future: it makes the
   * trust findable again (findDelegation) by a step that did not see its answer.
   */
  delegate(userToken: string, who: Delegator, marker: Date): Promise<string>;
  /** The user's trust to Bayforge on the project made with `marker`, if there is one. */
  findDelegation(userToken: string, who: Delegator, marker: Date): Promise<string | undefined>;
  /**
   * The bay's trustee user and the user's trust to it (for the nodes). `generation` names the
   * user of a credential rotation (the first trustee has none), so old and new coexist until
   * the stack uses the new one.
   */
  createTrustee(userToken: string, who: Delegator, bayUuid: string, generation?: number): Promise<NewTrustee>;
  /** Removals tolerate what is already gone. */
  deleteTrust(trustId: string): Promise<void>;
  deleteUser(userId: string): Promise<void>;
}

/**
 * Keystone refused, or could not be reached. `status` is undefined when no answer came;
 * `retryable` is true for failures a later attempt may not meet (5xx, 429, no answer).
 */
export class IdentityError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "IdentityError";
  }
}

/** One service in Keystone's catalog, with its endpoints. */
export interface CatalogEndpoint {
  id?: string;
  interface: string;
  region_id?: string | null;
  region?: string | null;
  url: string;
}

export interface CatalogEntry {
  id?: string;
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

/** Who a valid, project-scoped token speaks for. */
export interface ValidatedToken {
  userId: string;
  userName: string;
  userDomainId: string;
  projectId: string;
  projectName: string;
  projectDomainId: string;
  /** role names, implied roles included (member → reader) */
  roles: string[];
  expiresAt: Date;
  /** set when the token was obtained through a trust */
  trustId?: string;
  /** only when the validator was asked for catalogs */
  catalog?: CatalogEntry[];
}

/**
 * What validating a user's token found (keystonemiddleware's auth_token for Magnum's API).
 * `valid: false` is the user's problem (401), not Keystone's: `reason` is safe to show.
 */
export type TokenValidation = { valid: true; token: ValidatedToken } | { valid: false; reason: string };

export interface TokenValidator {
  validate(token: string): Promise<TokenValidation>;
}
