// Chat-ops on `npm run aws-local`, Keystone mode, against the real dev cloud: the stack
// synthesized with a chat-ops secret (so it has the webhook function behind the HTTP API, as
// deployed), whose value (the Slack signing secret and a mapping of a Slack team to the demo
// project with a trust from demo to Bayforge) the Secrets Manager stand-in serves from a file.
// A signed Slack `/bay create` makes one bay, whose stack the worker function makes with the
// mapping's credential: it shows in the demo project's own stack list (Heat's API as demo), and
// in no other project's. A user off the mapping's allow-list is refused; an allowed one deletes it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { slashCommand } from "../support/slack-command.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, devcloudEnv, userToken, waitForBay } from "../support/bayforge-process.ts";
import { startAwsLocal, type AwsLocalProcess } from "../support/aws-local-process.ts";
import { keystoneAs } from "../support/devcloud.ts";
import { deleteStacks, demoCloud, stacksNamed, assertStackOnlyIn } from "../support/heat-check.ts";
import { openstackFromEnv, type OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `awc${Date.now().toString(36)}`;
const SECRET = `aws-local-chatops-${RUN}`;
const TEAM = `T${RUN.toUpperCase()}`;
const ALLOWED = "UALLOWED1";
const MODEL = { name: `${RUN}-model`, coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium" };

let aws: AwsLocalProcess;
let demo: OpenStack, demo2: OpenStack, service: OpenStack;
let dir: string;
let trustId: string | undefined;
const me = { token: "", userId: "", projectId: "", roles: [] as string[] };

/** Keystone's API as demo (the project's member). */
const asDemo = keystoneAs(() => me.token);

const slash = (user: string, text: string) => slashCommand(aws.url, { secret: SECRET, team: TEAM, channel: "CAWS", user, text });

before(async () => {
  demo = demoCloud();
  demo2 = openstackFromEnv({ ...devcloudEnv(), OS_CLOUD: "devcloud-demo2" })!;
  service = openstackFromEnv(devcloudEnv())!;
  me.token = await userToken("devcloud-demo");
  const info = await demo.session.tokenInfo();
  Object.assign(me, { userId: info.userId, projectId: info.projectId!, roles: info.roles });
  // demo (the project's member) trusts Bayforge's service user: impersonation, one redelegation (Heat's)
  const serviceUser = (await service.session.tokenInfo()).userId;
  const trust = await asDemo("POST", "/OS-TRUST/trusts", {
    trust: { trustor_user_id: me.userId, trustee_user_id: serviceUser, project_id: me.projectId, roles: me.roles.map((name) => ({ name })), impersonation: true, allow_redelegation: true, redelegation_count: 1 },
  });
  assert.equal(trust.status, 201, JSON.stringify(trust.json));
  trustId = trust.json.trust.id;
  // the chat-ops secret's value, as an operator puts it in Secrets Manager
  dir = mkdtempSync(join(tmpdir(), "bf-awc-"));
  const file = join(dir, "chatops.json");
  writeFileSync(file, JSON.stringify({ slackSigningSecret: SECRET, projects: { [`slack:${TEAM}`]: { project: me.projectId, trustId, allow: [ALLOWED] } } }), { mode: 0o600 });
  aws = await startAwsLocal({ env: { BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE: file, BAYFORGE_POLL_DELAYS: "3,2,2,3,5" } });
  const m = await api(aws.url, "POST", "/v1/baymodels", MODEL);
  assert.equal(m.status, 201, JSON.stringify(m.json));
});

after(async () => {
  await aws?.kill("SIGTERM");
  if (trustId) await asDemo("DELETE", `/OS-TRUST/trusts/${trustId}`).catch(() => {});
  if (demo) await deleteStacks(demo, RUN);
  await Promise.all([demo?.close(), demo2?.close(), service?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("chat-ops on aws-local (the webhook function, Keystone mode, the real dev cloud)", () => {
  it("a signed /bay create makes one bay whose stack is the mapped project's own (demo's stack list, no other); off the allow-list is refused", async () => {
    const name = `${RUN}-bay`;
    assert.match(await slash("UOUTSIDER", `create ${name} --model ${MODEL.name} --nodes 1`), /^You are not allowed to create bays from here.*Nothing was changed\.$/s);
    assert.equal((await api(aws.url, "GET", `/v1/bays/${name}`)).status, 404, "the refused create made no bay");

    assert.match(await slash(ALLOWED, `create ${name} --model ${MODEL.name} --nodes 1`), new RegExp(`^Accepted: bay ${name} `));
    // as demo, through the api function: the bay is the demo project's
    const bay = await waitForBay(aws.url, name, 240_000);
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);

    await assertStackOnlyIn({ owner: demo, other: demo2, service, prefix: RUN, stackId: bay.stack_id });

    assert.match(await slash(ALLOWED, `delete ${name}`), new RegExp(`^Accepted: bay ${name} is being deleted`));
    const deadline = Date.now() + 180_000;
    while ((await api(aws.url, "GET", `/v1/bays/${name}`)).status !== 404) {
      assert.ok(Date.now() < deadline, "the bay is deleted within 3 minutes");
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.deepEqual(await stacksNamed(demo, RUN), [], "its stack deleted from demo's project, with the mapping's trust");
    assert.ok(!aws.logs().includes(SECRET), "the signing secret is not logged");
  });
});
