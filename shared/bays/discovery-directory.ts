// A bay's etcd discovery directory. Magnum (mitaka) asks discovery.etcd.io/new?size=<masters>
// when a bay names no discovery_url; Bayforge serves the protocol itself
// (functions/api/routes/discovery.ts), and this makes the directory and its URL.
import { randomFillSync } from "node:crypto";
import type { DiscoveryStore } from "../ports/discovery-store.ts";

/** Where the API mounts the discovery protocol. */
export const DISCOVERY_PATH = "/v1/discovery";
/** Largest cluster size a directory is created for (etcd recommends 3, 5 or 7). */
export const MAX_CLUSTER_SIZE = 64;

/**
 * Creates a discovery directory for a cluster of `size` members and returns its URL under
 * `publicUrl` (Bayforge's base URL as the bay's nodes reach it): what a bay gets as its
 * discovery_url when the request names none.
 */
export async function newDiscoveryUrl(deps: { discovery: DiscoveryStore; now?: () => Date }, publicUrl: string, size: number): Promise<string> {
  if (!Number.isInteger(size) || size < 1 || size > MAX_CLUSTER_SIZE)
    throw new RangeError(`etcd discovery size must be an integer from 1 to ${MAX_CLUSTER_SIZE}, not ${size}`);
  const token = randomHex(16);
  await deps.discovery.createDirectory(token, size, deps.now?.() ?? new Date());
  return `${publicUrl.replace(/\/+$/, "")}${DISCOVERY_PATH}/${token}`;
}

// Tokens are cut from a pooled buffer of random bytes refilled when used up, as randomUUID's
// own cache does: one call into the CSPRNG per 256 tokens instead of one per bay (3 % of the
// accept path's CPU). No byte is handed out twice.
const pool = Buffer.alloc(4096);
let used = pool.length;
function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString("hex", used, used + bytes);
  used += bytes;
  return hex;
}
