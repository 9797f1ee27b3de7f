// apply -f <bays.yaml> [--wait] [--timeout S]: POST /v1/batches with the manifest (baymodels and
// bays, `kubectl apply` style), print the batch id and its summary; with --wait, poll
// GET /v1/batches/{id} until every bay has left *_IN_PROGRESS: exit 1 if any failed (or timeout).
import { readFile } from "node:fs/promises";
import { CORE_SCHEMA, load } from "js-yaml";
import { CliError, isTransient, seg } from "../client.ts";
import { elapsed, table } from "../format.ts";
import { print, printJson, warn, type Ctx } from "./context.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface BatchView {
  uuid: string;
  status: string;
  done: boolean;
  summary: Record<string, number>;
  bays: Array<{ name: string; action: string; status: string | null; reason: string | null; status_reason: string | null }>;
}

const line = (s: Record<string, number>) =>
  `${s.total} bays: ${s.create} to create, ${s.scale} to scale, ${s.unchanged} unchanged, ${s.pending} pending; ` +
  `${s.complete} complete, ${s.in_progress} in progress, ${s.failed} failed`;

export async function apply(ctx: Ctx): Promise<number> {
  const file = ctx.cmd.options.file!;
  let text: string;
  try {
    text = file === "-" ? await ctx.readStdin() : await readFile(file, "utf8");
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = load(text, { schema: CORE_SCHEMA, json: true });
  } catch (e) {
    throw new CliError(`${file}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  // the server checks the whole manifest and names every problem by its path
  const accepted = await ctx.client.request<{ uuid: string }>("POST", "/v1/batches", doc);
  const id = accepted.uuid;
  if (!ctx.cmd.json) print(ctx, `batch ${id} accepted; follow it with: bayforge apply -f ${file} --wait (or GET /v1/batches/${id})`);
  const timeoutS = ctx.cmd.options.timeout ?? 0;
  const start = Date.now();
  let last = "";
  let failingSince: number | undefined;
  for (;;) {
    let b: BatchView;
    try {
      b = await ctx.client.request<BatchView>("GET", `/v1/batches/${seg(id)}`);
      failingSince = undefined;
    } catch (e) {
      if (ctx.cmd.options.wait && isTransient(e) && (failingSince ??= Date.now()) > Date.now() - 120_000) {
        await sleep(Math.max(ctx.pollMs, 2000));
        continue;
      }
      throw e;
    }
    const now = line(b.summary);
    if (!ctx.cmd.options.wait || b.done) {
      if (ctx.cmd.json) printJson(ctx, b);
      else {
        print(ctx, `batch ${id}: ${now}${ctx.cmd.options.wait ? ` (${elapsed(Date.now() - start)})` : ""}`);
        const bad = b.bays.filter((x) => x.action === "failed" || String(x.status).endsWith("_FAILED") || x.status === "DELETED");
        if (bad.length) warn(ctx, table(bad.map((x) => ({ ...x, why: x.reason ?? x.status_reason })), ["name", "action", "status", "why"]));
      }
      return ctx.cmd.options.wait && b.summary.failed > 0 ? 1 : 0;
    }
    if (now !== last && !ctx.cmd.json) print(ctx, `batch ${id}: ${now}`);
    last = now;
    if (timeoutS > 0 && Date.now() - start >= timeoutS * 1000) {
      warn(ctx, `batch ${id}: still not done after ${timeoutS}s: ${now}`);
      return 1;
    }
    await sleep(ctx.pollMs);
  }
}
