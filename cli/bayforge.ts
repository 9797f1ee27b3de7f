// `bayforge`: the command line for Bayforge's Magnum API. Entry point and dispatch; the
// commands are in commands/, the REST client and auth in client.ts, `bay wait`'s spinner in
// progress.ts. Exit codes: 0 done, 1 failed (API error, *_FAILED bay, timeout), 2 usage error.
import { parseCommand, USAGE, UsageError } from "./args.ts";
import { ApiError, baseUrl, CliError, Client, givenToken, resolveToken, type Env } from "./client.ts";
import { bayCreate, bayDelete, bayList, bayScale, bayShow } from "./commands/bay.ts";
import { baymodelCreate, baymodelList, baymodelShow } from "./commands/baymodel.ts";
import type { Ctx } from "./commands/context.ts";
import { bayWait } from "./commands/wait.ts";
import { apply } from "./commands/apply.ts";
import { chatops } from "./commands/chatops.ts";

const COMMANDS: Record<string, (ctx: Ctx) => Promise<number>> = {
  "bay create": bayCreate,
  "bay list": bayList,
  "bay show": bayShow,
  "bay scale": bayScale,
  "bay delete": bayDelete,
  "bay wait": bayWait,
  "baymodel list": baymodelList,
  "baymodel show": baymodelShow,
  "baymodel create": baymodelCreate,
  apply,
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function main(argv: string[], env: Env = process.env): Promise<number> {
  // operator commands on the local data dir (not the API): chat-ops mappings
  if (argv[0] === "chatops") return chatops(argv.slice(1), env as NodeJS.ProcessEnv, { stdout: process.stdout, stderr: process.stderr, readStdin });
  let cmd;
  try {
    const parsed = parseCommand(argv);
    if (parsed.help) {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    cmd = parsed;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bayforge: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  const client = new Client(baseUrl(cmd.url, env), () => resolveToken(cmd.token, env), !givenToken(cmd.token, env));
  const ctx: Ctx = {
    client,
    cmd,
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin,
    pollMs: Number(env.BAYFORGE_WAIT_POLL_MS) || 2000,
  };
  try {
    return await COMMANDS[cmd.name](ctx);
  } catch (e) {
    if (e instanceof ApiError) process.stderr.write(`bayforge: ${e.detail} (HTTP ${e.status})\n`);
    else if (e instanceof CliError) process.stderr.write(`bayforge: ${e.message}\n`);
    else process.stderr.write(`bayforge: ${(e as Error)?.stack ?? e}\n`);
    return 1;
  }
}

// stdout/stderr to a pipe or file are written synchronously on Linux, so exiting loses nothing;
// exiting at once avoids waiting for idle keep-alive sockets.
process.exit(await main(process.argv.slice(2)));
