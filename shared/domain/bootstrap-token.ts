// The per-bay bootstrap token the nodes present to Bayforge's certificates API (the
// template's `user_token`). Magnum passed the user's own Keystone token, which expires
// during slow boots and can do anything the user can; this one is random, bound to one
// bay, short-lived, and only its SHA-256 is stored.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const PREFIX = "bfb";

export interface BootstrapRecord {
  /** hex SHA-256 of the whole token */
  hash: string;
  expires_at: string;
  /**
   * The token itself, encrypted by the KeyVault, so that every delivery of a create step
   * hands Heat the same token (absent on records made before it was kept).
   */
  token_encrypted?: string;
}

/** `bfb_<bay uuid>_<43 chars of base64url randomness>`: the bay is in the token, so no index is needed. */
export function newBootstrapToken(bayUuid: string, now: Date, ttlMinutes: number): { token: string; record: BootstrapRecord } {
  const token = `${PREFIX}_${bayUuid}_${randomBytes(32).toString("base64url")}`;
  return { token, record: { hash: sha256(token), expires_at: new Date(now.getTime() + ttlMinutes * 60_000).toISOString() } };
}

/** The bay a token claims to be for, or undefined when it is not a bootstrap token at all. */
export function bootstrapTokenBay(token: string): string | undefined {
  const m = /^bfb_([0-9a-f-]{36})_[A-Za-z0-9_-]{43}$/.exec(token);
  return m?.[1];
}

export function verifyBootstrapToken(record: BootstrapRecord | null | undefined, token: string, now: Date): boolean {
  if (!record || now > new Date(record.expires_at)) return false;
  const a = Buffer.from(sha256(token), "hex");
  const b = Buffer.from(record.hash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
