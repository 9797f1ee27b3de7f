// bay wait <name> [--timeout S]: polls the bay (and its events for the progress line) until
// it leaves *_IN_PROGRESS: 0 on *_COMPLETE, 1 on *_FAILED (the status_reason printed) or on
// timeout. A bay that is (or becomes) 404 is gone: 0, the end of a delete. Bayforge or
// Keystone briefly away (5xx, refused connections) is shown and retried for up to 2 minutes.
import { ApiError, isTransient, seg } from "../client.ts";
import { elapsed } from "../format.ts";
import { Progress } from "../progress.ts";
import { print, printJson, warn, type Ctx } from "./context.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TRANSIENT_LIMIT_MS = 120_000;

export async function bayWait(ctx: Ctx): Promise<number> {
  const { name } = ctx.cmd.args;
  const timeoutS = ctx.cmd.options.timeout ?? 0;
  const start = Date.now();
  // with --json, stdout is for the final bay: progress goes to stderr
  const progress = new Progress(ctx.cmd.json ? ctx.stderr : ctx.stdout, `bay ${name}`);
  const timedOut = () => timeoutS > 0 && Date.now() - start >= timeoutS * 1000;
  let seen = false;
  let failingSince: number | undefined;
  let status = "?";
  try {
    for (;;) {
      let bay: any;
      try {
        bay = await ctx.client.request("GET", `/v1/bays/${seg(name)}`);
        failingSince = undefined;
      } catch (e) {
        if (isTransient(e) && (failingSince ??= Date.now()) > Date.now() - TRANSIENT_LIMIT_MS && !timedOut()) {
          progress.update({ status, event: { kind: "retrying", detail: (e as Error).message } });
          await sleep(Math.max(ctx.pollMs, 2000));
          continue;
        }
        if (!(e instanceof ApiError && e.status === 404)) throw e;
        progress.stop();
        if (seen) print(ctx, `bay ${name}: deleted (${elapsed(Date.now() - start)})`);
        else warn(ctx, `bay ${name}: not found, nothing to wait for (${e.detail})`);
        return 0;
      }
      seen = true;
      status = String(bay.status);
      let event: { kind: string; detail: string } | undefined;
      try {
        const r = await ctx.client.request<{ events: { kind: string; detail: string }[] }>("GET", `/v1/bays/${seg(bay.uuid)}/events`);
        const last = r.events.at(-1);
        if (last) event = { kind: last.kind, detail: last.detail ?? "" };
      } catch (e) {
        if (!(isTransient(e) || (e instanceof ApiError && e.status === 404))) throw e; // gone meanwhile: the next GET says so
      }
      progress.update({ status, event });
      if (!status.endsWith("_IN_PROGRESS")) {
        progress.stop();
        if (ctx.cmd.json) printJson(ctx, bay);
        if (status.endsWith("_FAILED")) {
          warn(ctx, `bay ${name}: ${status}: ${bay.status_reason ?? "(no reason given)"}`);
          return 1;
        }
        if (!ctx.cmd.json) print(ctx, `bay ${name}: ${status} (${elapsed(Date.now() - start)})`);
        return 0;
      }
      if (timedOut()) {
        progress.stop();
        warn(ctx, `bay ${name}: still ${status} after ${timeoutS} s (${bay.status_reason ?? ""})`);
        return 1;
      }
      await sleep(ctx.pollMs);
    }
  } finally {
    progress.stop();
  }
}
