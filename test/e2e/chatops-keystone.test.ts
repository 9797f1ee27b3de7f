// Chat-ops in Keystone mode through `npm start` on the real dev cloud: an operator maps a Slack
// team to the demo project with `bayforge chatops map` (checked with Keystone, written to the
// data dir), and a signed Slack `/bay create` makes a stack that is the demo project's own:
// it shows in demo's `openstack stack list` and in no other project's (demo2's, Bayforge's
// service project). A user not on the mapping's allow-list is refused and nothing is written.
// The credentials are made here through Keystone's API as the project's member (demo).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { slashCommand } from "../support/slack-command.ts";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { api, devcloudEnv, ROOT, startBayforge, userToken, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { keystoneAs } from "../support/devcloud.ts";
import { deleteStacks, demoCloud, stacksNamed, assertStackOnlyIn } from "../support/heat-check.ts";
import { WriteProbe } from "../fuzz/support/write-probe.ts";
import { openstackFromEnv, type OpenStack } from "../../shared/adapters/openstack/index.ts";
import { mappingClouds } from "../../shared/adapters/openstack/mapping-clouds.ts";

const RUN = `cks${Date.now().toString(36)}`;
const SECRET = `chatops-keystone-${RUN}`;
const TEAM = `T${RUN.toUpperCase()}`;
const ALLOWED = "UALLOWED1";
const MODEL = { name: `${RUN}-model`, coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium" };

let bf: BayforgeProcess;
let demo: OpenStack;
let demo2: OpenStack;
let service: OpenStack;
const me = { token: "", userId: "", projectId: "", roles: [] as string[] };
const made = { appCredentials: [] as string[], trusts: [] as string[] };

/** Keystone's API as demo (the project's member), with its password token. */
const asDemo = keystoneAs(() => me.token);

/** `bayforge chatops ...` as an operator runs it, on the running Bayforge's data dir. */
function chatopsCli(args: string[], stdin = ""): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "bayforge.mjs"), "chatops", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...devcloudEnv(), BAYFORGE_DATA_DIR: bf.dataDir },
    input: stdin,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const slash = (user: string, text: string) => slashCommand(bf.url, { secret: SECRET, team: TEAM, channel: "CKS", user, text });

before(async () => {
  // Keystone mode (the default): no BAYFORGE_AUTH
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "3,2,2,3,5", BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET: SECRET } });
  demo = demoCloud();
  demo2 = openstackFromEnv({ ...devcloudEnv(), OS_CLOUD: "devcloud-demo2" })!;
  service = openstackFromEnv(devcloudEnv())!;
  me.token = await userToken("devcloud-demo");
  const info = await demo.session.tokenInfo();
  Object.assign(me, { userId: info.userId, projectId: info.projectId!, roles: info.roles });
  const m = await api(bf.url, "POST", "/v1/baymodels", MODEL);
  assert.equal(m.status, 201, JSON.stringify(m.json));
});

after(async () => {
  await bf?.kill("SIGTERM");
  for (const id of made.appCredentials) await asDemo("DELETE", `/users/${me.userId}/application_credentials/${id}`).catch(() => {});
  for (const id of made.trusts) await asDemo("DELETE", `/OS-TRUST/trusts/${id}`).catch(() => {});
  if (demo) await deleteStacks(demo, RUN);
  await Promise.all([demo?.close(), demo2?.close(), service?.close()]);
});

describe("chat-ops in Keystone mode (npm start, the real dev cloud)", () => {
  it("an application credential is checked at mapping time: a wrong secret is refused and nothing is written; a good one is mapped only if Heat could use it", async () => {
    const created = await asDemo("POST", `/users/${me.userId}/application_credentials`, { application_credential: { name: `${RUN}-chatops`, description: "Bayforge chat-ops test" } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const cred = created.json.application_credential as { id: string; secret: string };
    made.appCredentials.push(cred.id);
    const probe = new WriteProbe(join(bf.dataDir, "bayforge.sqlite"));
    try {
      const bad = chatopsCli(["map", `slack:${TEAM}:CBAD`, "--project", me.projectId, "--application-credential-id", cred.id], "not-the-secret\n");
      assert.equal(bad.status, 1, bad.out);
      assert.match(bad.out, /refused, nothing written: Keystone refused application credential .*\(HTTP 401\)/);
      assert.ok(!bad.out.includes(cred.secret));
      const elsewhere = chatopsCli(["map", `slack:${TEAM}:CBAD`, "--project", "not-demos-project", "--application-credential-id", cred.id], `${cred.secret}\n`);
      assert.equal(elsewhere.status, 1, elsewhere.out);
      assert.match(elsewhere.out, new RegExp(`scoped to project ${me.projectId}, not not-demos-project`));
      assert.equal(probe.changed(), false, "a refused mapping writes nothing");

      // Heat makes a trust from the caller for every stack; Keystone lets application
      // credentials make one only when configured to (the dev cloud's Keystone: not)
      const good = chatopsCli(["map", `slack:${TEAM}:CAC`, "--project", me.projectId, "--application-credential-id", cred.id], `${cred.secret}\n`);
      if (good.status === 0) assert.match(chatopsCli(["list"]).out, new RegExp(`slack:${TEAM}:CAC\\tproject ${me.projectId}\\tapplication credential ${cred.id}`));
      else {
        assert.equal(good.status, 1, good.out);
        assert.match(good.out, /does not let application credential .* make trusts .*Heat makes one for every stack/);
        assert.equal(probe.changed(), false);
      }
      assert.ok(!good.out.includes(cred.secret), "the secret is never printed");

      // the worker's clouds per mapping: with the application credential it is in demo's
      // project (Heat answers for it); a mapping gone fails saying how to fix it
      const clouds = mappingClouds(service.session, async (ref) => (ref === "slack:OK" ? { kind: "application_credential", id: cred.id, secret: cred.secret, project_id: me.projectId } : undefined));
      assert.equal((await clouds("slack:OK").tokenInfo()).projectId, me.projectId);
      assert.equal(await clouds("slack:OK").heat.findStack(`${RUN}-none`), undefined);
      await assert.rejects(clouds("slack:GONE").heat.findStack("x"), /chat-ops mapping slack:GONE this bay acts with is gone .*bayforge chatops map slack:GONE/);
    } finally {
      probe.close();
    }
  });

  it("a signed /bay create makes a stack in the mapped project's own stack list and in no other; a user off the allow-list is refused and nothing is written", async () => {
    // demo (the project's member) trusts Bayforge's service user, as a user of the API does
    const serviceUser = (await service.session.tokenInfo()).userId;
    const trust = await asDemo("POST", "/OS-TRUST/trusts", {
      trust: { trustor_user_id: me.userId, trustee_user_id: serviceUser, project_id: me.projectId, roles: me.roles.map((name) => ({ name })), impersonation: true, allow_redelegation: true, redelegation_count: 1 },
    });
    assert.equal(trust.status, 201, JSON.stringify(trust.json));
    made.trusts.push(trust.json.trust.id);
    const mapped = chatopsCli(["map", `slack:${TEAM}`, "--project", me.projectId, "--trust-id", trust.json.trust.id, "--allow", `${ALLOWED},UALLOWED2`]);
    assert.equal(mapped.status, 0, mapped.out);

    // off the allow-list: refused, nothing written; list is for anyone
    const probe = new WriteProbe(join(bf.dataDir, "bayforge.sqlite"));
    try {
      const name = `${RUN}-bay`;
      const refused = await slash("UOUTSIDER", `create ${name} --model ${MODEL.name} --nodes 1`);
      assert.match(refused, /^You are not allowed to create bays from here.*Nothing was changed\.$/s);
      assert.match(await slash("UOUTSIDER", "list"), new RegExp(`^No bays in project ${me.projectId}\\.$`));
      assert.equal(probe.changed(), false, "the refused create wrote nothing");
      assert.equal((await stacksNamed(demo, RUN)).length, 0);

      const accepted = await slash(ALLOWED, `create ${name} --model ${MODEL.name} --nodes 1`);
      assert.match(accepted, new RegExp(`^Accepted: bay ${name} `));
      // as demo, through the API: the bay is demo's project's
      const bay = await waitForBay(bf.url, name, 240_000);
      assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);

      await assertStackOnlyIn({ owner: demo, other: demo2, service, prefix: RUN, stackId: bay.stack_id });

      assert.match(await slash("UOUTSIDER", `delete ${name}`), /^You are not allowed to delete bays/);
      assert.match(await slash(ALLOWED, `delete ${name}`), new RegExp(`^Accepted: bay ${name} is being deleted`));
      const deadline = Date.now() + 180_000;
      while ((await api(bf.url, "GET", `/v1/bays/${name}`)).status !== 404) {
        assert.ok(Date.now() < deadline, "the bay is deleted within 3 minutes");
        await new Promise((r) => setTimeout(r, 1000));
      }
      assert.deepEqual(await stacksNamed(demo, RUN), [], "its stack deleted from demo's project");
      assert.ok(!bf.logs().includes(SECRET), "the signing secret is not logged");
    } finally {
      probe.close();
    }
  });
});
