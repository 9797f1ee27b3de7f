// Directories of the etcd v2 discovery protocol, which Bayforge serves itself so that a bay's
// masters can bootstrap etcd (`--discovery=<url>`) without reaching discovery.etcd.io.
//
// Each directory is a small etcd keyspace of its own: creating it writes `_config/size` at
// index 1, and every registered member takes the next index. The index is per directory,
// not global: the etcd client only ever compares indexes within its own directory, and a
// per-directory counter is one conditional write in DynamoDB where a global one would be a
// hot key.

export interface DiscoveryDirectory {
  /** 128 random bits, lowercase hex: the secret in the discovery URL */
  token: string;
  /** the expected cluster size (`_config/size`) */
  size: number;
  /** the directory's current etcd index (X-Etcd-Index): 1 + members registered */
  index: number;
  /** ISO 8601; for expiring old directories */
  createdAt: string;
}

/** One registration: the key `<token>/<id>` whose value is `<name>=<peer url>[,...]`. */
export interface DiscoveryMember {
  /** etcd member id in hex, as etcd's types.ID.String() writes it */
  id: string;
  value: string;
  /** index of the create; members never change, so it is also their modifiedIndex */
  createdIndex: number;
}

/** A directory and its members (oldest first), read at one index. */
export interface DiscoverySnapshot {
  directory: DiscoveryDirectory;
  members: DiscoveryMember[];
}

export type AddMemberResult =
  /** registered at `member.createdIndex`, which is the directory's new index */
  | { outcome: "created"; member: DiscoveryMember; index: number }
  /** the id was registered before (etcd's "Key already exists"); nothing changed */
  | { outcome: "exists"; member: DiscoveryMember; index: number }
  /** the directory already holds `maxMembers` members; nothing changed */
  | { outcome: "full"; index: number }
  /** no directory with that token */
  | { outcome: "missing" };

export interface DiscoveryStore {
  /** Creates an empty directory at index 1; throws DiscoveryDirectoryExists if the token is taken. */
  createDirectory(token: string, size: number, createdAt: Date): Promise<DiscoveryDirectory>;
  getDirectory(token: string): Promise<DiscoveryDirectory | undefined>;
  /** Registers `id` only if absent and fewer than `maxMembers` are registered, atomically. */
  addMember(token: string, id: string, value: string, maxMembers: number): Promise<AddMemberResult>;
  /** The directory with its members, consistent with `directory.index`. */
  listMembers(token: string): Promise<DiscoverySnapshot | undefined>;
}

export class DiscoveryDirectoryExists extends Error {
  constructor() {
    // never the token itself: it is the directory's only secret
    super("a discovery directory with this token already exists");
    this.name = "DiscoveryDirectoryExists";
  }
}
