// bay create | list | show | scale | delete (wait is in wait.ts).
import { seg } from "../client.ts";
import { fields, table } from "../format.ts";
import { print, printJson, type Ctx } from "./context.ts";

export const BAY_FIRST = ["uuid", "name", "status", "status_reason", "baymodel_id", "node_count", "master_count", "api_address", "stack_id", "created_at", "updated_at"];

export async function bayCreate(ctx: Ctx): Promise<number> {
  const { name } = ctx.cmd.args;
  const o = ctx.cmd.options;
  const body: Record<string, unknown> = { name, baymodel_id: o.model };
  if (o.nodes !== undefined) body.node_count = o.nodes;
  if (o.masters !== undefined) body.master_count = o.masters;
  if (o.timeout !== undefined) body.bay_create_timeout = o.timeout;
  const bay = await ctx.client.request("POST", "/v1/bays", body);
  if (ctx.cmd.json) printJson(ctx, bay);
  else print(ctx, `${fields(bay, BAY_FIRST)}\n\nfollow it with: bayforge bay wait ${name}`);
  return 0;
}

export async function bayList(ctx: Ctx): Promise<number> {
  const r = await ctx.client.request<{ bays: Record<string, unknown>[] }>("GET", "/v1/bays");
  if (ctx.cmd.json) printJson(ctx, r);
  else print(ctx, table(r.bays, ["uuid", "name", "status", "node_count", "master_count", "baymodel_id"]));
  return 0;
}

export async function bayShow(ctx: Ctx): Promise<number> {
  const bay = await ctx.client.request("GET", `/v1/bays/${seg(ctx.cmd.args.name)}`);
  if (ctx.cmd.json) printJson(ctx, bay);
  else print(ctx, fields(bay, BAY_FIRST));
  return 0;
}

export async function bayScale(ctx: Ctx): Promise<number> {
  const { name, N } = ctx.cmd.args;
  const bay = await ctx.client.request("PATCH", `/v1/bays/${seg(name)}`, [{ op: "replace", path: "/node_count", value: Number(N) }]);
  if (ctx.cmd.json) printJson(ctx, bay);
  else print(ctx, `bay ${name}: scaling to ${N} node(s), ${bay?.status ?? "accepted"}; follow it with: bayforge bay wait ${name}`);
  return 0;
}

export async function bayDelete(ctx: Ctx): Promise<number> {
  const { name } = ctx.cmd.args;
  await ctx.client.request("DELETE", `/v1/bays/${seg(name)}`); // 204, no body
  if (!ctx.cmd.json) print(ctx, `bay ${name}: deleting; follow it with: bayforge bay wait ${name}`);
  return 0;
}
