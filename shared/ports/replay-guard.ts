// Remembers what the chat-ops webhook already accepted (a Slack request's signature), until
// it expires, so that the same signed request is refused a second time. In a process's
// memory for the embedded default (functions/webhook/verify.ts); on AWS in the DynamoDB table
// (shared/adapters/dynamodb/replay-guard.ts), shared by every Lambda container.
export interface ReplayGuard {
  /** true the first time `key` is seen before `expiresAt` (ms); false for a replay */
  firstUse(key: string, expiresAt: number, now: number): Promise<boolean>;
}
