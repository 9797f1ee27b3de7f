// Chat-ops on aws-local: BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE names a file holding the chat-ops
// secret's value, the same JSON an operator puts in Secrets Manager for the deployed stack
// (shared/adapters/aws/chatops-secret.ts: the Slack signing secret, the Mattermost token, the
// mappings with their credentials). With it the stack is synthesized with a chat-ops secret
// (so it has the webhook function and its routes, as deployed) and the Secrets Manager
// stand-in serves the file's content under that secret's ARN. The file is read again on every
// read of the secret, so editing it is updating the secret (the functions re-read it within
// 5 minutes, as on AWS). Nothing here ever prints the file's content.
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";

export interface ChatOpsSecretFile {
  path: string;
  /** the secret's value now */
  read(): string;
}

/** The file named by the environment, checked to be readable JSON; undefined when none is named. */
export function chatopsSecretFile(env: NodeJS.ProcessEnv): ChatOpsSecretFile | undefined {
  const named = env.BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE?.trim();
  if (!named) return undefined;
  const path = resolve(named);
  const read = () => readFileSync(path, "utf8");
  let value: unknown;
  try {
    value = JSON.parse(read());
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? "not JSON";
    throw new Error(`BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE ${path}: cannot be read as the chat-ops secret's JSON (${why})`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new Error(`BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE ${path}: must hold a JSON object ({"slackSigningSecret": ..., "projects": {...}}), as the deployed secret does`);
  if ((statSync(path).mode & 0o077) !== 0) process.emitWarning(`${path} holds secrets and is readable by others: chmod 600 it`);
  return { path, read };
}
