// A Slack slash command as Slack sends it (form body, signed with the app's signing secret),
// posted to a Bayforge webhook; the command's answer text.
import assert from "node:assert/strict";
import { slackSignature } from "../../functions/webhook/verify.ts";

export async function slashCommand(baseUrl: string, o: { secret: string; team: string; channel: string; user: string; text: string }): Promise<string> {
  const body = new URLSearchParams({ team_id: o.team, channel_id: o.channel, user_id: o.user, user_name: o.user.toLowerCase(), command: "/bay", text: o.text, trigger_id: `${Date.now()}.${Math.random()}` }).toString();
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(`${baseUrl}/webhook/slack`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": slackSignature(o.secret, ts, body) },
    body,
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { text: string }).text;
}
