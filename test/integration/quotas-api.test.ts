// Project quotas as Magnum serves them (/v1/quotas, its controller's codes and messages) and
// enforced on every create path, on real embedded stores. Admin calls use noauth's X-Roles,
// as Magnum's noauth trusts it; test/e2e/keystone-auth.test.ts does the same with real
// Keystone tokens.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApi, type ApiHarness } from "../support/api-harness.ts";

const LATEST = { "OpenStack-API-Version": "container-infra latest" };
const ADMIN = { ...LATEST, "x-roles": "reader,admin", "x-project-id": "admin-project" };
const TEMPLATE = { name: "q-tpl", image_id: "fedora-atomic", keypair_id: "demo-key", external_network_id: "public", coe: "kubernetes", flavor_id: "m1.small" };
const as = (project: string) => ({ ...LATEST, "x-project-id": project });

let api: ApiHarness;
before(async () => {
  // a default of 2 clusters per project keeps the cases small
  api = await startApi({ BAYFORGE_MAX_CLUSTERS_PER_PROJECT: "2" });
});
after(() => api.close());

/** A template of the project's own, and a cluster create for it. */
async function clusterIn(project: string, name: string) {
  const t = await api.call("POST", "/v1/clustertemplates", { ...TEMPLATE, name: `${name}-tpl` }, as(project));
  assert.equal(t.status, 201, JSON.stringify(t.json));
  return () => api.call("POST", "/v1/clusters", { cluster_template_id: t.json.uuid, name: `${name}-${Math.random().toString(36).slice(2, 8)}`, node_count: 1 }, as(project));
}

describe("quota CRUD (admin), as Magnum's quota controller answers", () => {
  it("creates (201, default resource Cluster), shows, lists, updates (202) and deletes (204)", async () => {
    const made = await api.call("POST", "/v1/quotas", { project_id: "p-crud", hard_limit: 5 }, ADMIN);
    assert.equal(made.status, 201, JSON.stringify(made.json));
    assert.equal(made.json.project_id, "p-crud");
    assert.equal(made.json.resource, "Cluster");
    assert.equal(made.json.hard_limit, 5);
    assert.ok(Number.isInteger(made.json.id) && made.json.id >= 1);
    assert.match(made.json.created_at, /^\d{4}-\d\d-\d\dT/);

    const shown = await api.call("GET", "/v1/quotas/p-crud/Cluster", undefined, ADMIN);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.json, made.json);

    const mine = await api.call("GET", "/v1/quotas/p-crud/Cluster", undefined, as("p-crud"));
    assert.equal(mine.status, 200, "a project reads its own quota");

    const updated = await api.call("PATCH", "/v1/quotas/p-crud/Cluster", { hard_limit: 7 }, ADMIN);
    assert.equal(updated.status, 202, JSON.stringify(updated.json));
    assert.equal(updated.json.hard_limit, 7);
    assert.ok(updated.json.updated_at);

    const all = await api.call("GET", "/v1/quotas?all_tenants=True", undefined, ADMIN);
    assert.ok(all.json.quotas.some((q: { project_id: string }) => q.project_id === "p-crud"), "an admin lists every project's with all_tenants");
    const own = await api.call("GET", "/v1/quotas", undefined, ADMIN);
    assert.deepEqual(own.json.quotas, [], "without all_tenants an admin lists their own project's");
    const theirs = await api.call("GET", "/v1/quotas?all_tenants=True", undefined, as("p-crud"));
    assert.deepEqual(theirs.json.quotas.map((q: { project_id: string }) => q.project_id), ["p-crud"], "all_tenants means nothing to a non-admin");

    assert.equal((await api.call("DELETE", "/v1/quotas/p-crud/Cluster", undefined, ADMIN)).status, 204);
    const gone = await api.call("GET", "/v1/quotas/p-crud/Cluster", undefined, ADMIN);
    assert.equal(gone.status, 404);
    assert.match(gone.json.errors[0].detail, /p-crud/);
  });

  it("refuses what Magnum refuses, with its codes and messages, and writes nothing", async () => {
    assert.equal((await api.call("POST", "/v1/quotas", { project_id: "p-dup", hard_limit: 3 }, ADMIN)).status, 201);
    const before = await api.call("GET", "/v1/quotas?all_tenants=True", undefined, ADMIN);
    const cases: Array<[string, string, unknown, Record<string, string>, number, RegExp]> = [
      ["POST", "/v1/quotas", { project_id: "p-dup", hard_limit: 9 }, ADMIN, 409, /Quota for project p-dup already exists for resource Cluster/],
      ["POST", "/v1/quotas", { hard_limit: 9 }, ADMIN, 400, /Must provide a valid project ID/],
      ["POST", "/v1/quotas", { project_id: "p-x", hard_limit: 0 }, ADMIN, 400, /hard_limit/],
      ["POST", "/v1/quotas", { project_id: "p-x", hard_limit: "many" }, ADMIN, 400, /hard_limit/],
      ["POST", "/v1/quotas", { project_id: "p-x", resource: "Volume" }, ADMIN, 400, /resource.*Cluster/],
      ["POST", "/v1/quotas", { project_id: "p-x", colour: "red" }, ADMIN, 400, /colour/],
      ["POST", "/v1/quotas", { project_id: "p-x", hard_limit: 9 }, as("p-x"), 403, /quota:create/],
      ["PATCH", "/v1/quotas/p-dup/Cluster", { hard_limit: 99 }, as("p-dup"), 403, /quota:update/],
      ["PATCH", "/v1/quotas/p-none/Cluster", { hard_limit: 2 }, ADMIN, 404, /p-none/],
      ["PATCH", "/v1/quotas/p-dup/Cluster", { hard_limit: -1 }, ADMIN, 400, /hard_limit/],
      ["DELETE", "/v1/quotas/p-dup/Cluster", undefined, as("p-dup"), 403, /quota:delete/],
      ["GET", "/v1/quotas/p-dup/Cluster", undefined, as("p-other"), 403, /Not authorized/],
      ["GET", "/v1/quotas/p-dup/Volume", undefined, ADMIN, 404, /p-dup and resource Volume could not be found/],
    ];
    for (const [method, path, body, headers, status, detail] of cases) {
      const r = await api.call(method, path, body, headers);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.json)}`);
      assert.match(r.json.errors[0].detail, detail, `${method} ${path}`);
    }
    assert.deepEqual((await api.call("GET", "/v1/quotas?all_tenants=True", undefined, ADMIN)).json, before.json, "nothing written");
  });
});

describe("quotas enforced on create", () => {
  it("a project at the default limit gets Magnum's 403 and nothing is written; a quota above it lets the next through", async () => {
    const create = await clusterIn("p-full", "full");
    for (let i = 0; i < 2; i++) assert.equal((await create()).status, 202);
    const before = await api.counts();
    const refused = await create();
    assert.equal(refused.status, 403);
    assert.equal(refused.json.errors[0].title, "Resource limit exceeded");
    assert.equal(refused.json.errors[0].detail, "Resource limit exceeded: You have reached the maximum clusters per project, 2. You may delete a cluster to make room for a new one.");
    // the other entry points count the same bays
    const bay = await api.call("POST", "/v1/bays", { name: "full-bay", baymodel_id: "full-tpl", node_count: 1 }, { ...as("p-full"), "OpenStack-API-Version": "container-infra 1.10" });
    assert.equal(bay.status, 403, JSON.stringify(bay.json));
    assert.deepEqual(await api.counts(), before, "nothing stored or queued");

    assert.equal((await api.call("POST", "/v1/quotas", { project_id: "p-full", hard_limit: 3 }, ADMIN)).status, 201);
    assert.equal((await create()).status, 202, "raised to 3: the third is accepted");
    const again = await create();
    assert.equal(again.status, 403);
    assert.match(again.json.errors[0].detail, /maximum clusters per project, 3\./);
  });

  it("a quota below the default holds the project to it; another project keeps the default", async () => {
    assert.equal((await api.call("POST", "/v1/quotas", { project_id: "p-one", hard_limit: 1 }, ADMIN)).status, 201);
    const one = await clusterIn("p-one", "one");
    assert.equal((await one()).status, 202);
    assert.equal((await one()).status, 403);
    const other = await clusterIn("p-two", "two");
    assert.equal((await other()).status, 202);
    assert.equal((await other()).status, 202);
  });

  it("deleting a cluster makes room (a bay counts until it is gone)", async () => {
    const create = await clusterIn("p-room", "room");
    const a = await create();
    assert.equal((await create()).status, 202);
    assert.equal((await create()).status, 403);
    const bay = (await api.stores.table.getBay(a.json.uuid))!;
    await api.stores.table.deleteBay(bay.uuid, bay.version);
    assert.equal((await create()).status, 202);
  });
});

describe("no default limit", () => {
  it("BAYFORGE_MAX_CLUSTERS_PER_PROJECT=-1 leaves projects without a quota unlimited, and a quota still holds", async () => {
    const free = await startApi({ BAYFORGE_MAX_CLUSTERS_PER_PROJECT: "-1" });
    try {
      const t = await free.call("POST", "/v1/clustertemplates", { ...TEMPLATE, name: "free-tpl" }, LATEST);
      const create = (n: number) => free.call("POST", "/v1/clusters", { cluster_template_id: t.json.uuid, name: `free-${n}`, node_count: 1 }, LATEST);
      for (let i = 0; i < 25; i++) assert.equal((await create(i)).status, 202, `cluster ${i}`);
      assert.equal((await free.call("POST", "/v1/quotas", { project_id: "default", hard_limit: 25 }, { ...ADMIN })).status, 201);
      assert.equal((await create(99)).status, 403);
    } finally {
      await free.close();
    }
  });
});
