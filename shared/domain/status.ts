// Bay statuses as Magnum defines them (magnum/objects/fields.py BayStatus): Heat stack
// statuses copied straight through, plus which moves between them are legal.

export const BAY_STATUSES = [
  "CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE",
  "UPDATE_IN_PROGRESS", "UPDATE_FAILED", "UPDATE_COMPLETE",
  "DELETE_IN_PROGRESS", "DELETE_FAILED", "DELETE_COMPLETE",
  "RESUME_COMPLETE", "RESTORE_COMPLETE", "ROLLBACK_COMPLETE",
  "SNAPSHOT_COMPLETE", "CHECK_COMPLETE", "ADOPT_COMPLETE",
] as const;
export type BayStatus = (typeof BAY_STATUSES)[number];

export const isInProgress = (s: BayStatus): boolean => s.endsWith("_IN_PROGRESS");
export const isFailed = (s: BayStatus): boolean => s.endsWith("_FAILED");
export const isTerminal = (s: BayStatus): boolean => !isInProgress(s);

/** Heat stack status → bay status (Magnum copies them; anything unknown counts as in progress). */
export function bayStatusFromStack(stackStatus: string): BayStatus {
  return (BAY_STATUSES as readonly string[]).includes(stackStatus)
    ? (stackStatus as BayStatus)
    : stackStatus.endsWith("_FAILED")
      ? failedOf(stackStatus)
      : "CREATE_IN_PROGRESS";
}
function failedOf(s: string): BayStatus {
  if (s.startsWith("UPDATE") || s.startsWith("ROLLBACK")) return "UPDATE_FAILED";
  if (s.startsWith("DELETE")) return "DELETE_FAILED";
  return "CREATE_FAILED";
}

// Which operation a status belongs to, and what may follow it.
const NEXT: Record<string, readonly BayStatus[]> = {
  CREATE_IN_PROGRESS: ["CREATE_IN_PROGRESS", "CREATE_COMPLETE", "CREATE_FAILED", "DELETE_IN_PROGRESS"],
  // ROLLBACK_COMPLETE: Heat undid a failed update the user asked to roll back (?rollback=True)
  UPDATE_IN_PROGRESS: ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED", "ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS"],
  DELETE_IN_PROGRESS: ["DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_FAILED"],
};
/** True when a bay may move from `from` to `to` (Magnum: updates only from *_COMPLETE). */
export function canTransition(from: BayStatus, to: BayStatus): boolean {
  if (isInProgress(from)) return NEXT[from].includes(to);
  if (to === "DELETE_IN_PROGRESS") return true;
  if (to === "UPDATE_IN_PROGRESS") return from.endsWith("_COMPLETE") && from !== "DELETE_COMPLETE";
  return false;
}
