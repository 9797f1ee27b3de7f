// The chat-ops webhook as a Hono app built from ports: Slack (POST /slack) and Mattermost
// (POST /mattermost) slash commands, form-encoded. Every request is verified before anything
// else (401 and no effect otherwise); then the command runs through the bay operations (shared/bays)
// on the shared table and queue, for the project the team/channel is mapped to, and is answered
// at once with an ephemeral message (200, as chat platforms expect, errors included). The
// worker posts the outcome to the command's response_url when the bay settles.
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { randomUUID } from "node:crypto";
import { ApiError } from "../../shared/domain/errors.ts";
import { parseBayRequest } from "../../shared/domain/bay.ts";
import { parseBayPatch } from "../../shared/domain/bay-update.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { BayOpsDeps, Caller } from "../../shared/bays/deps.ts";
import { acceptAndEnqueue } from "../../shared/bays/accept.ts";
import { deleteBay, scaleBay } from "../../shared/bays/operate.ts";
import { findBayModel, getBay } from "../../shared/bays/lookup.ts";
import { hasCredential, mayChange, type ChatOpsMapping } from "../../shared/ports/chatops-mappings.ts";
import { parseCommand, usage, UsageError, type Command } from "./command.ts";
import { verifyMattermost, verifySlack, type ReplayGuard, type Verdict } from "./verify.ts";

export type Platform = "slack" | "mattermost";

export interface WebhookDeps {
  /** the bay operations' dependencies (noauth style: no identity) */
  bays: BayOpsDeps;
  /** largest request body accepted, bytes (at most 64 KiB: a slash command is small) */
  maxBodyBytes: number;
  slackSigningSecret?: string;
  mattermostToken?: string;
  /** the mapping of "slack:<team>[:<channel>]" / "mattermost:<team>[:<channel>]" */
  mapping(key: string): Promise<ChatOpsMapping | undefined>;
  /**
   * Keystone mode: a mapping acts only with its application credential (the worker creates the
   * stacks with it, in the mapped project); one without is answered with how to add it.
   */
  needsCredential: boolean;
  replay: ReplayGuard;
  now?: () => Date;
}

type Reply = { response_type: "ephemeral" | "in_channel"; text: string };
const ephemeral = (text: string): Reply => ({ response_type: "ephemeral", text });

export function createWebhookApp(deps: WebhookDeps): Hono {
  const app = new Hono();
  const log = deps.bays.log.child({ fn: "webhook" });
  const now = () => deps.now?.() ?? deps.bays.now?.() ?? new Date();

  app.use(
    bodyLimit({
      maxSize: Math.min(deps.maxBodyBytes, 64 * 1024),
      onError: (c) => c.json({ error: "request body too large" }, 413),
    }),
  );

  const refuse = (c: Context, platform: Platform, v: Verdict & { ok: false }) => {
    log.warn("chat-ops request refused", { platform, reason: v.reason });
    return c.json({ error: "unauthorized" }, 401);
  };

  app.post("/slack", async (c) => {
    if (!deps.slackSigningSecret) return c.json({ error: "Slack is not configured" }, 404);
    const raw = await c.req.text();
    const v = await verifySlack(
      deps.slackSigningSecret,
      { timestamp: c.req.header("x-slack-request-timestamp"), signature: c.req.header("x-slack-signature") },
      raw,
      deps.replay,
      now().getTime(),
    );
    if (!v.ok) return refuse(c, "slack", v);
    return c.json(await handle("slack", new URLSearchParams(raw)));
  });

  app.post("/mattermost", async (c) => {
    if (!deps.mattermostToken) return c.json({ error: "Mattermost is not configured" }, 404);
    const form = new URLSearchParams(await c.req.text());
    const v = verifyMattermost(deps.mattermostToken, form.get("token"));
    if (!v.ok) return refuse(c, "mattermost", v);
    return c.json(await handle("mattermost", form));
  });

  async function handle(platform: Platform, form: URLSearchParams): Promise<Reply | Record<string, never>> {
    if (form.get("ssl_check") === "1") return {}; // Slack's certificate probe
    const cmd = form.get("command") || "/bay";
    const team = form.get("team_id") ?? "";
    const channel = form.get("channel_id") ?? "";
    const requestId = `req-${randomUUID()}`;
    const mapping = team ? ((channel && (await deps.mapping(`${platform}:${team}:${channel}`))) || (await deps.mapping(`${platform}:${team}`))) : undefined;
    const project = mapping?.project_id;
    const userId = form.get("user_id") ?? "";
    const rlog = log.child({ platform, team, channel, user: userId || undefined, requestId });
    if (!mapping || !project) {
      rlog.warn("chat-ops team not mapped to a project");
      return ephemeral(`This ${platform === "slack" ? "workspace" : "team"} is not connected to a Bayforge project. An operator can map "${platform}:${team.slice(0, 64)}" (or "${platform}:${team.slice(0, 64)}:${channel.slice(0, 64)}" for this channel only) to a project with \`bayforge chatops map\`.`);
    }
    if (deps.needsCredential && !hasCredential(mapping)) {
      rlog.warn("chat-ops mapping has no application credential", { mapping: mapping.key });
      return ephemeral(`This ${platform === "slack" ? "workspace" : "team"} is mapped to project ${project} without an application credential (or trust), which Bayforge needs to act in that project. An operator can add one with \`bayforge chatops map ${mapping.key} --project ${project} --application-credential-id <id>\` (a member of the project creates it: \`openstack application credential create\`).`);
    }
    let command: Command;
    try {
      command = parseCommand(form.get("text") ?? "", cmd);
    } catch (e) {
      if (e instanceof UsageError) return ephemeral(`${e.message}\n${usage(cmd)}`);
      throw e;
    }
    // create, scale and delete only for the mapping's allow-list (list, status and help for anyone)
    if ((command.action === "create" || command.action === "scale" || command.action === "delete") && !mayChange(mapping, userId)) {
      rlog.warn("chat-ops user not on the mapping's allow-list", { action: command.action, mapping: mapping.key });
      return ephemeral(`You are not allowed to ${command.action} bays from here: only the users on this channel's allow-list may create, scale or delete (anyone may list and show). Ask an operator to add your user id (${userId.slice(0, 64) || "unknown"}) to the mapping ${mapping.key}. Nothing was changed.`);
    }
    const caller: Caller = {
      projectId: project,
      userId: `${platform}:${userId || "unknown"}`,
      userName: form.get("user_name") ?? undefined,
      isAdmin: false,
      ...(hasCredential(mapping) ? { chatopsMapping: mapping.key } : {}),
    };
    const responseUrl = form.get("response_url");
    const notify = responseUrl && /^https?:\/\//i.test(responseUrl) ? { response_url: responseUrl, platform } : null;
    rlog.info("chat-ops command", { action: command.action, project });
    try {
      return ephemeral(await run(command, { caller, requestId, notify, cmd, project }));
    } catch (e) {
      if (e instanceof ApiError) return ephemeral(`${e.status === 503 ? "Try again: " : ""}${e.detail}`);
      rlog.error("chat-ops command failed", { err: e });
      return ephemeral(`Something went wrong on Bayforge's side (request ${requestId}); nothing may have changed. Try \`${cmd} status\` or ask an operator.`);
    }
  }

  type Ctx = { caller: Caller; requestId: string; notify: Bay["notify"]; cmd: string; project: string };

  async function run(command: Command, x: Ctx): Promise<string> {
    const base = (deps.bays.publicUrl ?? "").replace(/\/+$/, "");
    const tell = x.notify ? " I'll post here when it is done." : "";
    switch (command.action) {
      case "help":
        return usage(x.cmd);
      case "list": {
        const bays = await deps.bays.table.listBays({ projectId: x.project });
        if (!bays.length) return `No bays in project ${x.project}.`;
        return [`Bays in project ${x.project}:`, ...bays.map((b) => `• ${b.name} — ${b.status} (${b.master_count}+${b.node_count} nodes)`)].join("\n");
      }
      case "status":
        return statusText(await getBay(deps.bays.table, x.caller, command.name));
      case "create": {
        const req = parseBayRequest({
          name: command.name,
          baymodel_id: command.model,
          ...(command.nodes !== undefined ? { node_count: command.nodes } : {}),
          ...(command.masters !== undefined ? { master_count: command.masters } : {}),
          ...(command.timeout !== undefined ? { bay_create_timeout: command.timeout } : {}),
        }, deps.bays.maxNodesPerBay);
        const model = await findBayModel(deps.bays.table, x.caller, req.baymodel_id);
        if (!model) throw new ApiError(400, `BayModel ${req.baymodel_id} could not be found in project ${x.project}.`);
        if (!model.keypair_id) throw new ApiError(400, `BayModel ${model.name ?? model.uuid} has no keypair_id; a bay needs one.`);
        const bay = await acceptAndEnqueue(withNotify(x.notify), x.caller, req, model, x.requestId, base);
        return `Accepted: bay ${bay.name} (${bay.uuid}) is being created from baymodel ${model.name ?? model.uuid} with ${bay.master_count} master(s) and ${bay.node_count} node(s).${tell}`;
      }
      case "scale": {
        const bay = await getBay(deps.bays.table, x.caller, command.name);
        const want = parseBayPatch([{ op: "replace", path: "/node_count", value: command.nodes }], bay, deps.bays.maxNodesPerBay);
        const { update } = await scaleBay(withNotify(x.notify, bay.uuid), x.caller, bay, want, x.requestId);
        return `Accepted: bay ${bay.name} is being scaled from ${update.previous_node_count} to ${update.node_count} node(s).${tell}`;
      }
      case "delete": {
        const bay = await getBay(deps.bays.table, x.caller, command.name);
        await deleteBay(withNotify(x.notify, bay.uuid), x.caller, bay, x.requestId);
        return `Accepted: bay ${bay.name} is being deleted (was ${bay.status}).${x.notify ? " I'll post here if the delete fails." : ""}`;
      }
    }
  }

  /**
   * The bay operations write the bay themselves; this table wrapper adds where to post the
   * outcome to the one write that starts the operation (the create, or the move to
   * *_IN_PROGRESS of the bay being scaled or deleted), so it is stored in the same write.
   */
  function withNotify(notify: Bay["notify"], bayUuid?: string): BayOpsDeps {
    if (!notify) return deps.bays;
    const table = deps.bays.table;
    let done = false; // one write only: a later take-back write keeps what it restores
    const createBay: BayTable["createBay"] = (bay) => {
      done = true;
      return table.createBay({ ...bay, notify });
    };
    const updateBay: BayTable["updateBay"] = (bay, expected) => {
      const mine = !done && bay.uuid === bayUuid && bay.status.endsWith("_IN_PROGRESS");
      if (mine) done = true;
      return table.updateBay(mine ? { ...bay, notify } : bay, expected);
    };
    const wrapped = new Proxy(table, {
      get(t, p) {
        if (p === "createBay" && !bayUuid) return createBay;
        if (p === "updateBay" && bayUuid) return updateBay;
        const v = Reflect.get(t, p, t);
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
    return { ...deps.bays, table: wrapped };
  }

  app.notFound((c) => c.json({ error: `no chat-ops endpoint at ${c.req.method} ${c.req.path}; POST /slack or /mattermost` }, 404));
  app.onError((err, c) => {
    log.error("chat-ops request failed", { err });
    return c.json(ephemeral("Something went wrong on Bayforge's side; nothing may have changed."), 500);
  });
  return app;
}

function statusText(bay: Bay): string {
  const parts = [`bay ${bay.name}: ${bay.status}`, `${bay.master_count} master(s), ${bay.node_count} node(s)`];
  if (bay.api_address) parts.push(`api ${bay.api_address}`);
  let text = parts.join(" — ");
  if (bay.status_reason) text += `\n${bay.status_reason.slice(0, 500)}`;
  if (bay.faults?.length) text += `\nfailed: ${bay.faults.slice(0, 3).map((f) => `${f.resource} (${f.reason ?? f.type})`).join("; ")}`;
  return text;
}
