// What every command gets: the API client, the parsed command line, and where to write.
import type { Command } from "../args.ts";
import type { Client } from "../client.ts";
import type { ProgressStream } from "../progress.ts";

export interface Ctx {
  client: Client;
  cmd: Command;
  stdout: ProgressStream;
  stderr: ProgressStream;
  /** stdin's text (baymodel create -f -) */
  readStdin(): Promise<string>;
  /** ms between polls in `bay wait` */
  pollMs: number;
}

export const print = (ctx: Ctx, text: string) => void ctx.stdout.write(text.endsWith("\n") ? text : text + "\n");
export const warn = (ctx: Ctx, text: string) => void ctx.stderr.write(text.endsWith("\n") ? text : text + "\n");
export const printJson = (ctx: Ctx, value: unknown) => print(ctx, JSON.stringify(value, null, 2));
