// Bayforge's own parts as Magnum lists its services (/v1/mservices, Magnum's magnum_service
// table): one row per (host, binary), kept by a heartbeat from each running part. Locally a
// SQLite table (shared/adapters/local); on AWS items in the DynamoDB table
// (shared/adapters/dynamodb). test/support/service-registry-contract.ts is what both must do.

/** Magnum's columns: host and binary are String(255). */
export const MAX_HOST_LENGTH = 255;
export const MAX_BINARY_LENGTH = 255;

export interface ServiceRecord {
  /** a positive integer, assigned at the first beat, never reused (Magnum's autoincrement id) */
  id: number;
  host: string;
  binary: string;
  /** how many beats the row has had */
  report_count: number;
  /** the first beat's time */
  created_at: string;
  /** the last beat's time; null until the second beat */
  updated_at: string | null;
}

export interface ServiceRegistry {
  /**
   * One heartbeat of `binary` on `host` at `at` (ISO 8601): the first makes the row (a new id,
   * report_count 1, created_at = at), each later one adds 1 to report_count and sets updated_at.
   * Throws RangeError on an empty or too long host or binary.
   */
  beat(host: string, binary: string, at: string): Promise<ServiceRecord>;
  /** Every row, by id ascending. */
  list(): Promise<ServiceRecord[]>;
}

/** The bounds both adapters check before they write. */
export function checkService(host: string, binary: string): void {
  if (typeof host !== "string" || host.length === 0 || host.length > MAX_HOST_LENGTH) throw new RangeError(`a service's host must be 1 to ${MAX_HOST_LENGTH} characters`);
  if (typeof binary !== "string" || binary.length === 0 || binary.length > MAX_BINARY_LENGTH) throw new RangeError(`a service's binary must be 1 to ${MAX_BINARY_LENGTH} characters`);
}
