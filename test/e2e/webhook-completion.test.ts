// Chat-ops end to end: `npm start` with the webhook configured (BAYFORGE_AUTH=noauth: a chat
// request carries no Keystone token, so the worker acts with Bayforge's own cloud credentials,
// the dev cloud's `bayforge` service user), a signed Slack `/bay create`, the bay built by the
// real dev cloud Heat, and the completion POSTed to the command's response_url (a local server).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { devcloudEnv, startBayforge, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks } from "../support/heat-check.ts";
import { openstackFromEnv, type OpenStack } from "../../shared/adapters/openstack/index.ts";
import { slackSignature } from "../../functions/webhook/verify.ts";

const RUN = `chat${Date.now().toString(36)}`;
const SECRET = `e2e-signing-secret-${RUN}`;
const PROJECT = `chatops-${RUN}`;
const MODEL = { name: `${RUN}-model`, coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium", docker_volume_size: 5 };

let bf: BayforgeProcess;
let os: OpenStack;
let hooks: Server;
let hookUrl: string;
const posts: Array<{ path: string; body: any }> = [];
const waiters: Array<() => void> = [];

before(async () => {
  hooks = createServer((req, res) => {
    let data = "";
    req.on("data", (d) => (data += d));
    req.on("end", () => {
      let body: unknown = data;
      try {
        body = JSON.parse(data);
      } catch {
        /* kept as text */
      }
      posts.push({ path: req.url!, body });
      res.end("ok");
      waiters.splice(0).forEach((w) => w());
    });
  });
  await new Promise<void>((r) => hooks.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/commands/TE2E/${RUN}/secret-part`;
  bf = await startBayforge({
    env: {
      BAYFORGE_AUTH: "noauth",
      BAYFORGE_POLL_DELAYS: "3,2,2,3,5",
      BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET: SECRET,
      BAYFORGE_CHATOPS_PROJECTS: JSON.stringify({ "slack:TE2E": PROJECT }),
    },
  });
  const r = await fetch(`${bf.url}/v1/baymodels`, { method: "POST", headers: { "content-type": "application/json", "x-project-id": PROJECT }, body: JSON.stringify(MODEL) });
  assert.equal(r.status, 201, await r.text());
  // noauth: the stacks are Bayforge's own (its service user's project)
  os = openstackFromEnv(devcloudEnv())!;
});

after(async () => {
  await bf?.kill("SIGTERM");
  hooks?.closeAllConnections();
  await new Promise((r) => hooks?.close(r));
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

async function slash(text: string) {
  const body = new URLSearchParams({ team_id: "TE2E", channel_id: "CE2E", user_id: "UE2E", user_name: "e2e", command: "/bay", text, response_url: hookUrl, trigger_id: `${Date.now()}.${Math.random()}` }).toString();
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(`${bf.url}/webhook/slack`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": slackSignature(SECRET, ts, body) },
    body,
  });
  return { status: res.status, json: (await res.json()) as any };
}

async function waitForPost(match: RegExp, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = posts.find((p) => match.test(String(p.body?.text)));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no completion matching ${match} within ${timeoutMs} ms; got ${JSON.stringify(posts)}\n${bf.logs().slice(-3000)}`);
    await new Promise<void>((r) => {
      waiters.push(r);
      setTimeout(r, 2000);
    });
  }
}

describe("chat-ops through npm start on the real dev cloud", () => {
  it("a signed /bay create is accepted at once, the bay completes on Heat, and CREATE_COMPLETE is posted to the response_url", async () => {
    const name = `${RUN}-bay`;
    const r = await slash(`create ${name} --model ${MODEL.name} --nodes 1`);
    assert.equal(r.status, 200);
    // answered before the bay is made (the platforms give a command 3 s): accepted, not done
    assert.equal(r.json.response_type, "ephemeral");
    assert.match(r.json.text, new RegExp(`^Accepted: bay ${name} `));

    const post = await waitForPost(new RegExp(`^bay ${name}: (CREATE_COMPLETE|CREATE_FAILED)`), 240_000);
    assert.equal(post.path, `/commands/TE2E/${RUN}/secret-part`);
    assert.equal(post.body.response_type, "in_channel");
    assert.match(post.body.text, new RegExp(`^bay ${name}: CREATE_COMPLETE \\(api https://[^,]+:6443, 1 master, 1 node\\)$`));

    const bay = (await (await fetch(`${bf.url}/v1/bays/${name}`, { headers: { "x-project-id": PROJECT } })).json()) as any;
    assert.equal(bay.status, "CREATE_COMPLETE");
    assert.ok(bay.stack_id);
    const stack = await os.heat.findStack(bay.stack_id);
    assert.equal(stack?.stack_status, "CREATE_COMPLETE", "the stack is real, in Bayforge's own project");

    const status = await slash(`status ${name}`);
    assert.match(status.json.text, new RegExp(`^bay ${name}: CREATE_COMPLETE`));
    // the response_url's path never reaches the logs
    assert.ok(!bf.logs().includes("secret-part"), "response_url path not logged");
    assert.ok(!bf.logs().includes(SECRET), "signing secret not logged");
  });

  it("a replayed or unsigned request is refused with 401", async () => {
    const body = new URLSearchParams({ team_id: "TE2E", text: "list" }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const send = (sig: string) =>
      fetch(`${bf.url}/webhook/slack`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": sig }, body });
    assert.equal((await send(slackSignature(SECRET, ts, body))).status, 200);
    assert.equal((await send(slackSignature(SECRET, ts, body))).status, 401);
    assert.equal((await send(slackSignature("wrong", ts, body))).status, 401);
  });
});
