// The API as magnum-ui (Horizon's dashboard) sends to it, on real embedded stores: every create
// value a Python str() ("5", "False"), "" for a null discovery_url, booleans in labels, and
// template updates as JSON patches whose /labels is the repr of a dict and which remove the
// template's driver. Magnum's WSME layer takes all of these; test/e2e/magnum-ui-replay.test.ts
// replays the dashboard's own code against the dev cloud.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApi, type ApiHarness } from "../support/api-harness.ts";

const V113 = { "OpenStack-API-Version": "container-infra 1.13" };
const ADMIN = { ...V113, "x-roles": "reader,admin", "x-project-id": "admin-project" };
// magnum-ui's create: _cleanup_params makes every value a string, labels a map
const TEMPLATE = {
  name: "ui-tpl", coe: "kubernetes", server_type: "vm", image_id: "fedora-atomic", flavor_id: "m1.small", master_flavor_id: "m1.medium",
  docker_volume_size: "5", network_driver: "flannel", volume_driver: "cinder", external_network_id: "public", dns_nameserver: "8.8.8.8",
  master_lb_enabled: "False", floating_ip_enabled: "True", tls_disabled: "false", labels: { kube_tag: "v1.28.9" },
};

let api: ApiHarness;
let tplId: string;
before(async () => {
  api = await startApi();
});
after(() => api.close());

describe("cluster templates as magnum-ui sends them", () => {
  it("a create with string numbers and booleans is 201 with typed values", async () => {
    const r = await api.call("POST", "/v1/clustertemplates", TEMPLATE, V113);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    tplId = r.json.uuid;
    assert.deepEqual([r.json.docker_volume_size, r.json.master_lb_enabled, r.json.floating_ip_enabled, r.json.tls_disabled], [5, false, true, false]);
  });
  it("what no WSME type takes is still 400, and nothing is written", async () => {
    const before = await api.counts();
    for (const [field, value] of [["docker_volume_size", "five"], ["docker_volume_size", "2.5"], ["master_lb_enabled", "maybe"]] as const) {
      const r = await api.call("POST", "/v1/clustertemplates", { ...TEMPLATE, name: "bad", [field]: value }, V113);
      assert.equal(r.status, 400, `${field}=${value}`);
      assert.match(r.json.errors[0].detail, new RegExp(`field/attribute ${field}`));
    }
    assert.deepEqual(await api.counts(), before);
  });
  it("an update: /labels replaced by the repr of a dict, a boolean as a string, the driver removed → 200", async () => {
    const r = await api.call("PATCH", `/v1/clustertemplates/${tplId}`, [
      { op: "replace", path: "/labels", value: "{'kube_tag': 'v1.28.9', 'cloud_provider_enabled': 'true'}" },
      { op: "replace", path: "/master_lb_enabled", value: "True" },
      { op: "remove", path: "/driver" },
    ], V113);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.labels, { kube_tag: "v1.28.9", cloud_provider_enabled: "true" });
    assert.equal(r.json.master_lb_enabled, true);
    assert.equal(r.json.driver, "k8s_fedora_atomic_v1", "Bayforge's one driver stays");
    const only = await api.call("PATCH", `/v1/clustertemplates/${tplId}`, [{ op: "remove", path: "/driver" }], V113);
    assert.equal(only.status, 200, "removing the driver alone changes nothing");
    assert.deepEqual(only.json.labels, r.json.labels);
  });
  it("an update with a string number, or a /labels that is no Python literal, is 400 (as Magnum); nothing changes", async () => {
    const before = (await api.call("GET", `/v1/clustertemplates/${tplId}`, undefined, V113)).json;
    for (const patch of [
      [{ op: "replace", path: "/docker_volume_size", value: "6" }],
      [{ op: "replace", path: "/labels", value: "{'a': b}" }],
      [{ op: "replace", path: "/labels", value: "['a']" }],
      [{ op: "replace", path: "/driver", value: "other" }],
    ]) {
      const r = await api.call("PATCH", `/v1/clustertemplates/${tplId}`, patch, V113);
      assert.equal(r.status, 400, JSON.stringify(patch));
    }
    assert.deepEqual((await api.call("GET", `/v1/clustertemplates/${tplId}`, undefined, V113)).json, before);
  });
});

describe("clusters as magnum-ui sends them", () => {
  let id: string;
  it("a create with string counts and timeout, discovery_url \"\" and boolean labels is 202; the values are typed", async () => {
    const r = await api.call("POST", "/v1/clusters", {
      discovery_url: "", create_timeout: "60", name: "ui-c", cluster_template_id: tplId, keypair: "demo-key",
      labels: { availability_zone: "nova", auto_healing_enabled: false }, master_lb_enabled: "False", master_count: "1", node_count: "2",
    }, V113);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    id = r.json.uuid;
    const c = (await api.call("GET", `/v1/clusters/${id}`, undefined, V113)).json;
    assert.deepEqual([c.node_count, c.master_count, c.create_timeout, c.master_lb_enabled], [2, 1, 60, false]);
    assert.match(c.discovery_url, /\/v1\/discovery\//, "\"\" is no discovery_url: Bayforge's own is made");
    assert.deepEqual([c.labels.availability_zone, c.labels.auto_healing_enabled], ["nova", "false"]);
  });
  it("a resize's node_count may be a string of digits too (WSME's int): past validation to the status rule", async () => {
    const bad = await api.call("POST", `/v1/clusters/${id}/actions/resize`, { node_count: "x" }, V113);
    assert.equal(bad.status, 400);
    assert.match(bad.json.errors[0].detail, /node_count/);
    const r = await api.call("POST", `/v1/clusters/${id}/actions/resize`, { node_count: "3" }, V113);
    assert.equal(r.status, 409, JSON.stringify(r.json)); // the cluster is still being created
    assert.match(r.json.errors[0].detail, /CREATE_IN_PROGRESS/);
  });
});

describe("quotas as magnum-ui sends them (admin)", () => {
  it("create with hard_limit \"7\" → 201 with 7; update with {id, hard_limit} → 202", async () => {
    const made = await api.call("POST", "/v1/quotas", { project_id: "ui-project", resource: "Cluster", hard_limit: "7" }, ADMIN);
    assert.equal(made.status, 201, JSON.stringify(made.json));
    assert.equal(made.json.hard_limit, 7);
    const updated = await api.call("PATCH", "/v1/quotas/ui-project/Cluster", { id: String(made.json.id), hard_limit: "9" }, ADMIN);
    assert.equal(updated.status, 202, JSON.stringify(updated.json));
    assert.equal(updated.json.hard_limit, 9);
  });
});
