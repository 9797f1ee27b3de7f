// baymodel list | show | create -f model.yaml
import { readFile } from "node:fs/promises";
import { load } from "js-yaml";
import { CliError, seg } from "../client.ts";
import { fields, table } from "../format.ts";
import { print, printJson, type Ctx } from "./context.ts";

const FIRST = ["uuid", "name", "coe", "image_id", "keypair_id", "flavor_id", "master_flavor_id", "external_network_id"];

export async function baymodelList(ctx: Ctx): Promise<number> {
  const r = await ctx.client.request<{ baymodels: Record<string, unknown>[] }>("GET", "/v1/baymodels");
  if (ctx.cmd.json) printJson(ctx, r);
  else print(ctx, table(r.baymodels, ["uuid", "name", "coe", "image_id"]));
  return 0;
}

export async function baymodelShow(ctx: Ctx): Promise<number> {
  const m = await ctx.client.request("GET", `/v1/baymodels/${seg(ctx.cmd.args.name)}`);
  if (ctx.cmd.json) printJson(ctx, m);
  else print(ctx, fields(m, FIRST));
  return 0;
}

/** The file's YAML (or JSON) mapping, as the POST body. */
export async function readModel(file: string, readStdin: () => Promise<string>): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = file === "-" ? await readStdin() : await readFile(file, "utf8");
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let body: unknown;
  try {
    body = load(text);
  } catch (e) {
    throw new CliError(`${file}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new CliError(`${file}: expected a mapping of baymodel attributes`);
  return body as Record<string, unknown>;
}

export async function baymodelCreate(ctx: Ctx): Promise<number> {
  const body = await readModel(ctx.cmd.options.file!, ctx.readStdin);
  const m = await ctx.client.request("POST", "/v1/baymodels", body);
  if (ctx.cmd.json) printJson(ctx, m);
  else print(ctx, fields(m, FIRST));
  return 0;
}
