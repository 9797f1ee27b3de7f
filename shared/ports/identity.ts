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
  /** A trust from the user to Bayforge's service user, used by the worker for this operation. */
  delegate(userToken: string, who: Delegator): Promise<string>;
  /** The bay's trustee user and the user's trust to it (for the nodes). */
  createTrustee(userToken: string, who: Delegator, bayUuid: string): Promise<NewTrustee>;
  /** Removals tolerate what is already gone. */
  deleteTrust(trustId: string): Promise<void>;
  deleteUser(userId: string): Promise<void>;
}
