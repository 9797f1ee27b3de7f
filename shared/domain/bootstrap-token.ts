// The per-bay bootstrap tokens the nodes present to Bayforge's certificates API. Magnum passed
// the user's own Keystone token, which expires during slow boots and can do anything the user
// can; these are random, bound to one bay and one role, short-lived, and only their SHA-256 is
// stored.
//
// Two roles, because what a node may have signed depends on it (shared/certs/csr-policy.ts):
// masters get their control plane's certificates, minions only their kubelet's. The role is
// part of the token, and each role's token has its own stored hash, so a minion (or a pod that
// reads a minion's user_data) cannot pass for a master. The minions' token is derived from the
// masters' (an HMAC keyed with it): the worker keeps one secret per bay, encrypted, and every
// delivery of a create hands Heat the same pair. A master can derive the minions' token; it
// holds far more than a minion anyway.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const PREFIX = "bfb";

export type BootstrapRole = "master" | "minion";

export interface BootstrapRecord {
  /** hex SHA-256 of the masters' token */
  hash: string;
  /** hex SHA-256 of the minions' token (absent on records made before tokens had roles) */
  minion_hash?: string;
  expires_at: string;
  /**
   * The masters' token, encrypted by the KeyVault, so that every delivery of a create step
   * hands Heat the same tokens (absent on records made before it was kept).
   */
  token_encrypted?: string;
}

/**
 * `bfb_<bay uuid>_<role>_<43 chars of base64url>`; before roles, `bfb_<bay uuid>_<43 chars>`
 * (read as a minion's: a bay made then only boots minions any more, when it grows).
 */
const TOKEN = /^bfb_([0-9a-f-]{36})_(?:(master|minion)_)?([A-Za-z0-9_-]{43})$/;

/** A new masters' token for the bay, and the record (both roles' hashes) that accepts it and the minions'. */
export function newBootstrapToken(bayUuid: string, now: Date, ttlMinutes: number): { token: string; record: BootstrapRecord } {
  const token = `${PREFIX}_${bayUuid}_master_${randomBytes(32).toString("base64url")}`;
  return {
    token,
    record: {
      hash: sha256(token),
      minion_hash: sha256(minionToken(bayUuid, token)),
      expires_at: new Date(now.getTime() + ttlMinutes * 60_000).toISOString(),
    },
  };
}

/** The minions' token of a bay whose masters hold `masterToken` (what the template gives the minions). */
export function minionToken(bayUuid: string, masterToken: string): string {
  const mac = createHmac("sha256", masterToken).update(`bayforge minion bootstrap token:${bayUuid}`).digest("base64url");
  return `${PREFIX}_${bayUuid}_minion_${mac}`;
}

/** The bay a token claims to be for, or undefined when it is not a bootstrap token at all. */
export function bootstrapTokenBay(token: string): string | undefined {
  return TOKEN.exec(token)?.[1];
}

/** The role a token claims (verify it before trusting it). */
export function bootstrapTokenRole(token: string): BootstrapRole | undefined {
  const m = TOKEN.exec(token);
  return m ? ((m[2] as BootstrapRole | undefined) ?? "minion") : undefined;
}

/** The token's role when `record` accepts it (its role's hash, not expired); else undefined. */
export function verifyBootstrapToken(record: BootstrapRecord | null | undefined, token: string, now: Date): BootstrapRole | undefined {
  const m = TOKEN.exec(token);
  if (!m || !record || now > new Date(record.expires_at)) return undefined;
  const expected = m[2] === "minion" ? record.minion_hash : record.hash;
  if (!expected) return undefined;
  const a = Buffer.from(sha256(token), "hex");
  const b = Buffer.from(expected, "hex");
  return a.length === b.length && timingSafeEqual(a, b) ? (m[2] === "master" ? "master" : "minion") : undefined;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
