// Keystone mode as users meet it, on the real dev cloud: tokens required (401 and nothing
// written without one), every read and write scoped to the token's project (demo and demo2
// cannot see or touch each other's bays or baymodels, both ways), admin sees all, stacks made
// in the user's own project through a trust, and no trust, trustee user, certificate or
// stack left behind by a failed or a deleted bay (checked in Keystone and Heat).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, startBayforge, userToken, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud, stacksNamed } from "../support/heat-check.ts";
import { cloudsYamlPath } from "../support/devcloud.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { openstackFromEnv, TrustClient, TrusteeUsers, trusteeName, type OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `ks${Date.now().toString(36)}`;
const MODEL = { coe: "kubernetes", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", image_id: "fedora-atomic" };

let bf: BayforgeProcess;
let stores: LocalStores;
let demo: OpenStack;
let admin: OpenStack;
let as: { demo: Record<string, string>; demo2: Record<string, string>; admin: Record<string, string> };

before(async () => {
  demo = demoCloud();
  admin = openstackFromEnv({ OS_CLIENT_CONFIG_FILE: cloudsYamlPath(), OS_CLOUD: "devcloud-admin" })!;
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3" } });
  stores = openLocalStores(bf.dataDir);
  as = {
    demo: { "x-auth-token": await userToken("devcloud-demo") },
    demo2: { "x-auth-token": await userToken("devcloud-demo2") },
    admin: { "x-auth-token": await userToken("devcloud-admin") },
  };
});

after(async () => {
  await bf?.kill("SIGTERM");
  await stores?.close();
  if (demo) {
    await deleteStacks(demo, RUN);
    await demo.close();
  }
  await admin?.close();
});

const counts = async () => ({ bays: (await stores.table.listBays({})).length, models: (await stores.table.listBayModels({})).length, queued: (await stores.queue.stats()).visible });

/** What Keystone still holds of a bay's credentials (its first trustee user by name, a rotated one by its own). */
async function leftInKeystone(bayUuid: string, creds: { trust_id?: string | null; trustee?: { trust_id: string; user_id: string; username?: string } | null }) {
  const trusts = new TrustClient(admin.session);
  const users = new TrusteeUsers(admin.session);
  const left: string[] = [];
  for (const id of [creds.trust_id, creds.trustee?.trust_id]) if (id && (await trusts.get(id))) left.push(`trust ${id}`);
  for (const name of new Set([trusteeName(bayUuid), creds.trustee?.username])) if (name && (await users.find(await users.domainId(), name))) left.push(`user ${name}`);
  return left;
}

describe("tokens are required", () => {
  it("no token or a bad one: 401 naming the problem, nothing written or queued", async () => {
    const before = await counts();
    for (const headers of [{ "x-auth-token": "" }, { "x-auth-token": "not-a-token" }, { "x-auth-token": "gAAAAABinvalidtokenvalue" }]) {
      const post = await api(bf.url, "POST", "/v1/baymodels", { ...MODEL, name: `${RUN}-nope` }, headers);
      assert.equal(post.status, 401, JSON.stringify(headers));
      assert.match(post.json.errors[0].detail, /requires authentication/);
      assert.equal((await api(bf.url, "GET", "/v1/bays", undefined, headers)).status, 401);
    }
    const bare = await fetch(`${bf.url}/v1/bays`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "x", baymodel_id: "y" }) });
    assert.equal(bare.status, 401);
    assert.deepEqual(await counts(), before);
  });
  it("version discovery needs none", async () => {
    assert.equal((await fetch(`${bf.url}/`)).status, 200);
    assert.equal((await fetch(`${bf.url}/v1`)).status, 200);
  });
});

describe("two projects", () => {
  const ids: Record<string, string> = {};
  before(async () => {
    for (const who of ["demo", "demo2"] as const) {
      const m = await api(bf.url, "POST", "/v1/baymodels", { ...MODEL, name: `${RUN}-${who}-model` }, as[who]);
      assert.equal(m.status, 201, JSON.stringify(m.json));
      ids[`${who}-model`] = m.json.uuid;
    }
    const b = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-ok`, baymodel_id: ids["demo-model"], node_count: 1 }, as.demo);
    assert.equal(b.status, 201, JSON.stringify(b.json));
    ids["demo-bay"] = b.json.uuid;
    const accepted = (await stores.table.getBay(b.json.uuid))!;
    assert.ok(accepted.delegation || accepted.trust_id, "accepted with the caller's token for the worker (or already past it)");
    assert.ok(!JSON.stringify(accepted).includes(as.demo["x-auth-token"]), "the token is stored only encrypted");
  });

  it("each sees only its own bays and baymodels, by uuid, by name and in lists, both ways", async () => {
    for (const [me, other] of [["demo", "demo2"], ["demo2", "demo"]] as const) {
      const theirs = ids[`${other}-model`];
      assert.equal((await api(bf.url, "GET", `/v1/baymodels/${theirs}`, undefined, as[me])).status, 404, `${me} reads ${other}'s baymodel`);
      assert.equal((await api(bf.url, "GET", `/v1/baymodels/${RUN}-${other}-model`, undefined, as[me])).status, 404);
      const list = (await api(bf.url, "GET", "/v1/baymodels", undefined, as[me])).json.baymodels.map((m: { uuid: string }) => m.uuid);
      assert.ok(list.includes(ids[`${me}-model`]) && !list.includes(theirs), `${me}'s list`);
      assert.equal((await api(bf.url, "DELETE", `/v1/baymodels/${theirs}`, undefined, as[me])).status, 404, `${me} deletes ${other}'s baymodel`);
      assert.equal((await api(bf.url, "PATCH", `/v1/baymodels/${theirs}`, [{ op: "replace", path: "/name", value: "x" }], as[me])).status, 404);
      const b = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-steal`, baymodel_id: theirs }, as[me]);
      assert.equal(b.status, 400, `${me} builds on ${other}'s baymodel`);
    }
    const bay = ids["demo-bay"];
    assert.equal((await api(bf.url, "GET", `/v1/bays/${bay}`, undefined, as.demo2)).status, 404);
    assert.equal((await api(bf.url, "GET", `/v1/bays/${RUN}-ok`, undefined, as.demo2)).status, 404);
    assert.equal((await api(bf.url, "PATCH", `/v1/bays/${bay}`, [{ op: "replace", path: "/node_count", value: 2 }], as.demo2)).status, 404);
    assert.equal((await api(bf.url, "DELETE", `/v1/bays/${bay}`, undefined, as.demo2)).status, 404);
    assert.equal((await api(bf.url, "GET", `/v1/certificates/${bay}`, undefined, as.demo2)).status, 404);
    assert.ok(!(await api(bf.url, "GET", "/v1/bays", undefined, as.demo2)).json.bays.some((b: { uuid: string }) => b.uuid === bay));
    assert.equal((await api(bf.url, "GET", `/v1/baymodels/${ids["demo-model"]}`, undefined, as.demo)).json.name, `${RUN}-demo-model`, "nothing was renamed");
  });

  it("an admin sees every project's bays", async () => {
    const all = (await api(bf.url, "GET", "/v1/bays", undefined, as.admin)).json.bays.map((b: { uuid: string }) => b.uuid);
    assert.ok(all.includes(ids["demo-bay"]));
  });

  it("quotas with real tokens: only an admin sets one; a project at it gets Magnum's 403 and nothing is written; raised, the next create is accepted", async () => {
    const project = (await stores.table.getBay(ids["demo-bay"]))!.project_id;
    const body = { project_id: project, resource: "Cluster", hard_limit: 1 };
    const refused = await api(bf.url, "POST", "/v1/quotas", body, as.demo);
    assert.equal(refused.status, 403, "a member may not set their own quota");
    const set = await api(bf.url, "POST", "/v1/quotas", body, as.admin);
    assert.equal(set.status, 201, JSON.stringify(set.json));
    try {
      assert.equal((await api(bf.url, "GET", `/v1/quotas/${project}/Cluster`, undefined, as.demo)).json.hard_limit, 1, "demo reads its own quota");
      assert.equal((await api(bf.url, "GET", `/v1/quotas/${project}/Cluster`, undefined, as.demo2)).status, 403, "demo2 may not");
      const before = await counts();
      const full = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-over`, baymodel_id: ids["demo-model"], node_count: 1 }, as.demo);
      assert.equal(full.status, 403, JSON.stringify(full.json));
      assert.match(full.json.errors[0].detail, /You have reached the maximum clusters per project, 1\. You may delete a cluster to make room for a new one\./);
      assert.deepEqual(await counts(), before, "nothing written or queued");

      assert.equal((await api(bf.url, "PATCH", `/v1/quotas/${project}/Cluster`, { hard_limit: 2 }, as.admin)).status, 202);
      const next = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-over`, baymodel_id: ids["demo-model"], node_count: 1 }, as.demo);
      assert.equal(next.status, 201, JSON.stringify(next.json));
      assert.equal((await api(bf.url, "DELETE", `/v1/bays/${next.json.uuid}`, undefined, as.demo)).status, 204);
    } finally {
      assert.equal((await api(bf.url, "DELETE", `/v1/quotas/${project}/Cluster`, undefined, as.admin)).status, 204);
    }
  });

  it("the stack is made in the user's own project, through a trust that lives with the bay", async () => {
    const bay = await waitForBay(bf.url, ids["demo-bay"], 180_000);
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    const mine = await stacksNamed(demo, `${RUN}-ok-`);
    assert.deepEqual(mine.map((s) => s.id), [bay.stack_id], "demo's own `openstack stack list` shows it");
    const stored = (await stores.table.getBay(bay.uuid))!;
    assert.ok(stored.trust_id && (await new TrustClient(admin.session).get(stored.trust_id)), "the user's trust to Bayforge stays: Heat's own trust for the stack derives from it");
    assert.ok(stored.trustee?.user_id, "the nodes' trustee stays while the bay lives");
    assert.ok(!JSON.stringify(stored).includes("password\":"), "no plaintext password stored");
  });

  it("credential rotation (API 1.12): the stack gets a new trustee user and trust, the old ones are removed once it has them", async () => {
    const before = (await stores.table.getBay(ids["demo-bay"]))!;
    const at = (v: string, who: Record<string, string>) => ({ ...who, "OpenStack-API-Version": `container-infra ${v}` });
    assert.equal((await api(bf.url, "PATCH", `/v1/credentials/${before.uuid}`, undefined, at("1.11", as.demo))).status, 406, "not before 1.12");
    assert.equal((await api(bf.url, "PATCH", `/v1/credentials/${before.uuid}`, undefined, at("1.12", as.demo2))).status, 404, "not another project's");
    assert.equal((await stores.table.getBay(before.uuid))!.version, before.version, "refusals wrote nothing");
    const r = await api(bf.url, "PATCH", `/v1/credentials/${before.uuid}`, undefined, at("1.12", as.demo));
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.deepEqual(r.json, { uuid: before.uuid });
    assert.equal((await api(bf.url, "PATCH", `/v1/credentials/${before.uuid}`, undefined, at("1.12", as.demo))).status, 409, "one rotation at a time");
    const bay = await waitForBay(bf.url, before.uuid, 180_000);
    assert.equal(bay.status, "UPDATE_COMPLETE", bay.status_reason);
    const after = (await stores.table.getBay(before.uuid))!;
    assert.ok(after.trustee && before.trustee);
    assert.notEqual(after.trustee.user_id, before.trustee.user_id, "a new trustee user");
    assert.notEqual(after.trustee.trust_id, before.trustee.trust_id, "and a new trust to it");
    assert.equal(after.trust_id, before.trust_id, "the trust the stack's Heat trust derives from stays");
    assert.ok(await new TrustClient(admin.session).get(after.trustee.trust_id), "the new trust exists");
    const stack = await demo.heat.getStack(after.stack_name, after.stack_id!);
    assert.equal(stack?.parameters.trustee_user_id, after.trustee.user_id, "the stack has the new trustee");
    assert.equal(stack?.parameters.trustee_username, after.trustee.username);
    assert.deepEqual(await leftInKeystone(before.uuid, { trustee: before.trustee }), [], "the old trustee user and its trust are gone");
    assert.deepEqual([after.node_count, after.node_addresses, after.minions], [before.node_count, before.node_addresses, before.minions], "the nodes stay as they were");
    assert.ok(!after.update?.trustee && !after.update?.trustees_left?.length, "nothing left pending");
  });

  it("deleting the bay leaves no trust, trustee user, certificate or stack behind", async () => {
    const before = (await stores.table.getBay(ids["demo-bay"]))!;
    assert.equal((await api(bf.url, "DELETE", `/v1/bays/${ids["demo-bay"]}`, undefined, as.demo)).status, 204);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (await api(bf.url, "GET", `/v1/bays/${ids["demo-bay"]}`, undefined, as.demo)).status === 200) await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await api(bf.url, "GET", `/v1/bays/${ids["demo-bay"]}`, undefined, as.demo)).status, 404);
    assert.deepEqual(await leftInKeystone(before.uuid, before), []);
    assert.equal(await stores.table.getCerts(before.uuid), undefined);
    assert.equal((await stacksNamed(demo, `${RUN}-ok-`)).filter((s) => s.stack_status !== "DELETE_COMPLETE").length, 0);
  });

  it("a bay whose stack fails keeps no trust or trustee; deleting it then removes the stack and certificates", async () => {
    const m = await api(bf.url, "POST", "/v1/baymodels", { ...MODEL, name: `${RUN}-broken`, image_id: "broken-image" }, as.demo);
    const b = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-broken`, baymodel_id: m.json.uuid }, as.demo);
    assert.equal(b.status, 201);
    const bay = await waitForBay(bf.url, b.json.uuid, 180_000);
    assert.equal(bay.status, "CREATE_FAILED");
    // the worker made them (the request only carried the token) and recorded what it made
    const made = (await stores.table.listEvents(bay.uuid)).find((e) => e.kind === "credentials")?.detail ?? "";
    const trust_id = /trust (\S+)/.exec(made)?.[1];
    assert.ok(trust_id && made.includes(trusteeName(bay.uuid)), `credentials made by the worker: ${made}`);
    // removed right after the failure is recorded (the bay may show CREATE_FAILED a moment before)
    let left = await leftInKeystone(bay.uuid, { trust_id });
    for (let i = 0; i < 60 && left.length; i++) {
      await new Promise((r) => setTimeout(r, 500));
      left = await leftInKeystone(bay.uuid, { trust_id });
    }
    assert.deepEqual(left, [], "nothing left in Keystone by the failure");
    assert.equal((await api(bf.url, "DELETE", `/v1/bays/${bay.uuid}`, undefined, as.demo)).status, 204, "delete makes a new trust with the user's token");
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (await api(bf.url, "GET", `/v1/bays/${bay.uuid}`, undefined, as.demo)).status === 200) await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await api(bf.url, "GET", `/v1/bays/${bay.uuid}`, undefined, as.demo)).status, 404);
    assert.equal((await stacksNamed(demo, `${RUN}-broken-`)).filter((s) => s.stack_status !== "DELETE_COMPLETE").length, 0, "stack gone");
    assert.equal(await stores.table.getCerts(bay.uuid), undefined);
  });
});
