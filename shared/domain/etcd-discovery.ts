// The etcd v2 discovery keyspace, as etcd's discovery client reads it (go.etcd.io/etcd v3.4
// etcdserver/api/v2discovery over client/keys.go): a directory's nodes, its history of
// events, and etcd's error codes. Pure: the HTTP handlers (functions/api/routes/discovery.ts)
// turn these into answers, the DiscoveryStore port holds the directories.
import type { DiscoveryMember, DiscoverySnapshot } from "../ports/discovery-store.ts";

/** Keys are shown under the prefix discovery.etcd.io used; the client only reads their last segment. */
export const REGISTRY_PREFIX = "/_etcd/registry";
/**
 * Registrations accepted beyond `size`. Members that check the directory before it is full
 * all register, and only the first `size` form the cluster (the others see "cluster is full"
 * and fall back to proxy or exit), so a few extra are normal; unbounded ones are abuse.
 */
export const EXTRA_REGISTRATIONS = 16;
/** A value is `<name>=<peer url>[,<name>=<peer url>...]`: a few hundred bytes in practice. */
export const MAX_VALUE_CHARS = 4096;

/** A directory's token: 128 random bits, hex. */
export const TOKEN = /^[0-9a-f]{32}$/;
/** etcd's types.ID.String(): the member id as lowercase hex without leading zeros. */
export const MEMBER_ID = /^[0-9a-f]{1,16}$/;

export interface EtcdNode {
  key: string;
  value?: string;
  dir?: true;
  nodes?: EtcdNode[];
  modifiedIndex: number;
  createdIndex: number;
}

export interface EtcdEvent {
  action: "set" | "create";
  node: EtcdNode;
}

/** etcd v2 error codes used here (etcdserver/api/v2error/error.go). */
export const ETCD_ERRORS = {
  100: "Key not found",
  103: "Reached the max number of peers in the cluster",
  105: "Key already exists",
  106: "The prefix of given key is a keyword in etcd",
  200: "Value is Required in POST form",
  203: "The given index in POST form is not a number",
  209: "Invalid field",
  210: "Invalid POST form",
  300: "Raft Internal Error",
} as const;
export type EtcdErrorCode = keyof typeof ETCD_ERRORS;
/** v2error's errorStatus; codes it does not list are 400. */
const STATUS: Partial<Record<EtcdErrorCode, number>> = { 100: 404, 105: 412, 300: 500 };

export class EtcdError extends Error {
  constructor(
    readonly code: EtcdErrorCode,
    readonly detail: string,
    readonly index = 0,
    readonly status = STATUS[code] ?? 400,
  ) {
    super(`${ETCD_ERRORS[code]} (${detail})`);
  }

  /** etcd's error JSON */
  get body() {
    return { errorCode: this.code, message: ETCD_ERRORS[this.code], cause: this.detail, index: this.index };
  }
}

/** Go's strconv.ParseBool, which etcd uses for its query flags; absent or "" is false. */
export function parseFlag(name: string, v: string | undefined): boolean {
  if (v === undefined || v === "") return false;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw new EtcdError(209, `invalid value for ${name}`);
}

export const dirKey = (token: string, rel = "") => `${REGISTRY_PREFIX}/${token}${rel ? `/${rel}` : ""}`;

export const memberNode = (token: string, m: DiscoveryMember): EtcdNode => ({
  key: dirKey(token, m.id),
  value: m.value,
  modifiedIndex: m.createdIndex,
  createdIndex: m.createdIndex,
});

/** `_config/size`, written with the directory at index 1 (as discovery.etcd.io's /new does). */
const sizeNode = (s: DiscoverySnapshot): EtcdNode => ({
  key: dirKey(s.directory.token, "_config/size"),
  value: String(s.directory.size),
  modifiedIndex: 1,
  createdIndex: 1,
});

const configNode = (s: DiscoverySnapshot, expand: boolean): EtcdNode => ({
  key: dirKey(s.directory.token, "_config"),
  dir: true,
  ...(expand ? { nodes: [sizeNode(s)] } : {}),
  modifiedIndex: 1,
  createdIndex: 1,
});

/** The node at `rel` ("" = the directory), as etcd's GET shows it, or undefined. */
export function nodeAt(s: DiscoverySnapshot, rel: string, recursive: boolean, sorted: boolean): EtcdNode | undefined {
  const token = s.directory.token;
  if (rel === "") {
    // one level of children unless recursive; members in creation order unless sorted (by key)
    const nodes = [configNode(s, recursive), ...s.members.map((m) => memberNode(token, m))];
    if (sorted) nodes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { key: dirKey(token), dir: true, nodes, modifiedIndex: 1, createdIndex: 1 };
  }
  if (rel === "_config") return configNode(s, true);
  if (rel === "_config/size") return sizeNode(s);
  const m = s.members.find((x) => x.id === rel);
  return m && memberNode(token, m);
}

/** The directory's history: the size key, then each registration. Nothing is ever changed or deleted. */
function events(s: DiscoverySnapshot): { rel: string; index: number; event: EtcdEvent }[] {
  return [
    { rel: "_config/size", index: 1, event: { action: "set", node: sizeNode(s) } },
    ...s.members.map((m) => ({
      rel: m.id,
      index: m.createdIndex,
      event: { action: "create" as const, node: memberNode(s.directory.token, m) },
    })),
  ];
}

/** etcd's watch: the first event at or after `since` on `rel`, or below it when recursive. */
export function firstEvent(s: DiscoverySnapshot, rel: string, recursive: boolean, since: number): EtcdEvent | undefined {
  const matches = (k: string) => k === rel || (recursive && (rel === "" || k.startsWith(`${rel}/`)));
  return events(s).find((e) => e.index >= since && matches(e.rel))?.event;
}
