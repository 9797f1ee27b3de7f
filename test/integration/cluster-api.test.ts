// The modern Magnum API (clusters, cluster templates, nodegroups, resize, version discovery)
// on real embedded stores: the shapes python-magnumclient reads, the same bays underneath.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApi, type ApiHarness } from "../support/api-harness.ts";

const LATEST = { "OpenStack-API-Version": "container-infra latest" };
// What `openstack coe cluster template create` sends (python-magnumclient 4): unset options as null.
const TEMPLATE = {
  name: "k8s-tpl", image_id: "fedora-atomic", keypair_id: null, external_network_id: "public", coe: "kubernetes",
  fixed_network: null, fixed_subnet: null, network_driver: null, volume_driver: null, dns_nameserver: null,
  flavor_id: "m1.small", master_flavor_id: "m1.medium", docker_volume_size: 10, docker_storage_driver: null,
  http_proxy: null, https_proxy: null, no_proxy: null, labels: { kube_tag: "v1.18.16" }, tls_disabled: false,
  public: false, registry_enabled: false, server_type: "vm", master_lb_enabled: false,
};
const CLUSTER = { cluster_template_id: "k8s-tpl", create_timeout: 60, discovery_url: null, keypair: "demo-key", master_count: 1, name: "c1", node_count: 2 };

let api: ApiHarness;
let tplId: string;
before(async () => {
  api = await startApi({ BAYFORGE_PUBLIC_URL: "http://bayforge.test:9511" });
  const r = await api.call("POST", "/v1/clustertemplates", TEMPLATE, LATEST);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  tplId = r.json.uuid;
});
after(() => api.close());

describe("version discovery", () => {
  it("serves / and /v1 without a token, with the microversion range", async () => {
    const root = await api.call("GET", "/");
    assert.equal(root.status, 200);
    assert.deepEqual(root.json.versions.map((v: any) => [v.id, v.min_version, v.max_version, v.status]), [["v1", "1.1", "1.14", "CURRENT"]]);
    const v1 = await api.call("GET", "/v1");
    assert.equal(v1.status, 200);
    for (const k of ["bays", "baymodels", "clusters", "clustertemplates", "certificates", "credentials"]) assert.equal(v1.json[k][0].href, `http://bayforge.test:9511/v1/${k}/`);
    assert.equal(v1.headers.get("openstack-api-maximum-version"), "container-infra 1.14");
  });
  it("lists bays and baymodels under /v1 only for clients at 1.10 or older (1.11 removed them)", async () => {
    const current = await api.call("GET", "/v1", undefined, LATEST);
    assert.deepEqual(Object.keys(current.json).filter((k) => !["id", "media_types", "links"].includes(k)), ["clustertemplates", "clusters", "quotas", "certificates", "mservices", "stats", "nodegroups", "credentials"]);
    const old = await api.call("GET", "/v1", undefined, { "OpenStack-API-Version": "container-infra 1.10" });
    assert.ok(old.json.bays && old.json.baymodels);
  });
  it("refuses a microversion above the maximum with 406", async () => {
    const r = await api.call("GET", "/v1/clusters", undefined, { "OpenStack-API-Version": "container-infra 1.99" });
    assert.equal(r.status, 406);
  });
});

describe("cluster templates", () => {
  it("accept the client's nulls, serve driver/hidden/tags, and read as baymodels too", async () => {
    const r = await api.call("GET", `/v1/clustertemplates/${tplId}`, undefined, LATEST);
    assert.equal(r.json.keypair_id, null);
    assert.equal(r.json.network_driver, "flannel");
    assert.equal(r.json.hidden, false);
    assert.equal(r.json.driver, "k8s_fedora_atomic_v1");
    assert.equal((await api.call("GET", `/v1/baymodels/${tplId}`)).json.name, "k8s-tpl");
    const list = await api.call("GET", "/v1/clustertemplates", undefined, LATEST);
    assert.deepEqual(list.json.clustertemplates.map((t: any) => t.uuid), [tplId]);
    // as Magnum 15's list: every field, so `--fields coe,image_id,…` columns are filled
    assert.deepEqual(list.json.clustertemplates[0], r.json);
  });
  it("refuse unknown attributes with 400 and write nothing", async () => {
    const before = await api.counts();
    const r = await api.call("POST", "/v1/clustertemplates", { ...TEMPLATE, name: "x", colour: "blue" }, LATEST);
    assert.equal(r.status, 400);
    assert.match(r.json.errors[0].detail, /colour/);
    assert.deepEqual(await api.counts(), before);
  });
  it("a bay from a template with no keypair is 400 (a cluster must name one)", async () => {
    const before = await api.counts();
    const r = await api.call("POST", "/v1/bays", { name: "nokey", baymodel_id: tplId });
    assert.equal(r.status, 400);
    assert.match(r.json.errors[0].detail, /keypair/);
    const c = await api.call("POST", "/v1/clusters", { ...CLUSTER, keypair: null }, LATEST);
    assert.equal(c.status, 400);
    assert.match(c.json.errors[0].detail, /keypair/);
    assert.deepEqual(await api.counts(), before);
  });
});

describe("clusters", () => {
  let id: string;
  it("create answers 202 {uuid}, enqueues the bay's create, and shows as a cluster and as a bay", async () => {
    const before = await api.counts();
    const r = await api.call("POST", "/v1/clusters", { ...CLUSTER, labels: { extra: "1" }, merge_labels: true, flavor_id: "m1.large" }, LATEST);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.deepEqual(Object.keys(r.json), ["uuid"]);
    id = r.json.uuid;
    const after = await api.counts();
    assert.equal(after.bays, before.bays + 1);
    assert.equal(after.messages, before.messages + 1);
    const c = (await api.call("GET", `/v1/clusters/c1`, undefined, LATEST)).json;
    assert.equal(c.uuid, id);
    assert.equal(c.cluster_template_id, tplId);
    assert.equal(c.keypair, "demo-key");
    assert.equal(c.flavor_id, "m1.large", "the cluster's own flavor wins");
    assert.equal(c.master_flavor_id, "m1.medium", "the template's where the cluster sets none");
    assert.deepEqual(c.labels, { kube_tag: "v1.18.16", extra: "1" });
    assert.deepEqual(c.labels_added, { extra: "1" });
    assert.equal(c.create_timeout, 60);
    assert.equal(c.status, "CREATE_IN_PROGRESS");
    assert.equal(c.links[0].href, `http://bayforge.test:9511/v1/clusters/${id}`);
    assert.equal((await api.call("GET", `/v1/bays/${id}`)).json.baymodel_id, tplId);
  });
  it("lists in Magnum 15's collection view, and in full under /detail", async () => {
    const V12 = { "OpenStack-API-Version": "container-infra 1.12" };
    const list = (await api.call("GET", "/v1/clusters", undefined, V12)).json.clusters;
    assert.deepEqual(Object.keys(list[0]), ["uuid", "name", "cluster_template_id", "keypair", "node_count", "master_count", "docker_volume_size", "labels", "master_flavor_id", "flavor_id", "create_timeout", "links", "stack_id", "status", "health_status", "merge_labels"]);
    const detail = (await api.call("GET", "/v1/clusters/detail", undefined, V12)).json.clusters;
    assert.equal(detail[0].api_address, null);
    assert.ok("node_addresses" in detail[0]);
  });
  it("names the stack cluster_id from 1.13 on, in stack_id's place, and stack_id before (list, detail, show)", async () => {
    const bay = (await api.stores.table.getBay(id))!;
    await api.stores.table.updateBay({ ...bay, stack_id: "5f0e3c1a-0000-4000-8000-00000000beef", version: bay.version + 1 }, bay.version); // as the worker records it
    const at = (v: string) => ({ "OpenStack-API-Version": `container-infra ${v}` });
    for (const [path, pick] of [["/v1/clusters", (j: any) => j.clusters.find((c: any) => c.uuid === id)], ["/v1/clusters/detail", (j: any) => j.clusters.find((c: any) => c.uuid === id)], [`/v1/clusters/${id}`, (j: any) => j]] as const) {
      const now = pick((await api.call("GET", path, undefined, at("1.13"))).json);
      assert.equal(now.cluster_id, "5f0e3c1a-0000-4000-8000-00000000beef", path);
      assert.ok(!("stack_id" in now), path);
      const keys = Object.keys(now);
      assert.equal(keys[keys.indexOf("links") + 1], "cluster_id", `${path}: in stack_id's place`);
      const before = pick((await api.call("GET", path, undefined, at("1.12"))).json);
      assert.equal(before.stack_id, "5f0e3c1a-0000-4000-8000-00000000beef", path);
      assert.ok(!("cluster_id" in before), path);
    }
  });
  it("has the default master and worker nodegroups", async () => {
    const r = await api.call("GET", `/v1/clusters/${id}/nodegroups`, undefined, LATEST);
    assert.deepEqual(r.json.nodegroups.map((g: any) => [g.name, g.role, g.node_count, g.is_default]), [["default-master", "master", 1, true], ["default-worker", "worker", 2, true]]);
    const one = await api.call("GET", `/v1/clusters/${id}/nodegroups/default-worker`, undefined, LATEST);
    assert.equal(one.json.flavor_id, "m1.large");
    assert.equal((await api.call("GET", `/v1/clusters/${id}/nodegroups/nope`, undefined, LATEST)).status, 404);
  });
  it("resize is refused while the cluster is being created (409 naming the status), nothing changes", async () => {
    const before = await api.counts();
    const r = await api.call("POST", `/v1/clusters/${id}/actions/resize`, { node_count: 3 }, LATEST);
    assert.equal(r.status, 409);
    assert.match(r.json.errors[0].detail, /CREATE_IN_PROGRESS/);
    assert.deepEqual(await api.counts(), before);
  });
  it("resize of a complete cluster: 202, UPDATE_IN_PROGRESS, the named minion recorded for Heat", async () => {
    const bay = (await api.stores.table.getBay(id))!;
    await api.stores.table.updateBay({ ...bay, status: "CREATE_COMPLETE", minions: { "0": "10.0.0.3", "1": "10.0.0.4" }, version: bay.version + 1 }, bay.version);
    const bad = await api.call("POST", `/v1/clusters/${id}/actions/resize`, { node_count: 1, nodes_to_remove: ["10.9.9.9"] }, LATEST);
    assert.equal(bad.status, 400);
    assert.match(bad.json.errors[0].detail, /10\.9\.9\.9 is not a minion/);
    const r = await api.call("POST", `/v1/clusters/${id}/actions/resize`, { node_count: 1, nodes_to_remove: ["0"] }, LATEST);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const after = (await api.stores.table.getBay(id))!;
    assert.equal(after.status, "UPDATE_IN_PROGRESS");
    assert.deepEqual(after.update?.nodes_to_remove, ["0"]);
    assert.equal(after.node_count, 1);
  });
  it("delete answers 204 and moves the cluster to DELETE_IN_PROGRESS; a second delete is 409", async () => {
    assert.equal((await api.call("DELETE", `/v1/clusters/${id}`, undefined, LATEST)).status, 204);
    assert.equal((await api.call("GET", `/v1/clusters/${id}`, undefined, LATEST)).json.status, "DELETE_IN_PROGRESS");
    assert.equal((await api.call("DELETE", `/v1/clusters/${id}`, undefined, LATEST)).status, 409);
  });
  it("an unknown cluster is 404 in Magnum's words", async () => {
    const r = await api.call("GET", "/v1/clusters/does-not-exist", undefined, LATEST);
    assert.equal(r.status, 404);
    assert.equal(r.json.errors[0].detail, "Cluster does-not-exist could not be found.");
  });
});

describe("listing like Magnum: limit, marker, sort_key, sort_dir, next", () => {
  before(async () => {
    for (const [name, n] of [["p-b", 3], ["p-a", 1], ["p-c", 2]] as const) {
      const r = await api.call("POST", "/v1/clusters", { ...CLUSTER, name, node_count: n }, LATEST);
      assert.equal(r.status, 202);
    }
  });
  it("pages with limit and follows the next link to the end, in creation order", async () => {
    const seen: string[] = [];
    let url: string | undefined = "/v1/clusters?limit=2";
    let pages = 0;
    while (url) {
      const r = await api.call("GET", url, undefined, LATEST);
      assert.equal(r.status, 200);
      seen.push(...r.json.clusters.map((c: any) => c.name));
      url = r.json.next?.replace("http://bayforge.test:9511", "");
      if (url) assert.match(url, /^\/v1\/clusters\?limit=2&sort_key=id&sort_dir=asc&marker=[0-9a-f-]{36}$/);
      pages++;
    }
    const all = (await api.call("GET", "/v1/clusters", undefined, LATEST)).json.clusters.map((c: any) => c.name);
    assert.deepEqual(seen, all);
    assert.equal(pages, Math.ceil(all.length / 2) + (all.length % 2 === 0 ? 1 : 0));
  });
  it("sorts by a field, either way", async () => {
    const asc = (await api.call("GET", "/v1/bays?sort_key=name&sort_dir=asc")).json.bays.map((b: any) => b.name).filter((n: string) => n.startsWith("p-"));
    assert.deepEqual(asc, ["p-a", "p-b", "p-c"]);
    const desc = (await api.call("GET", "/v1/clusters?sort_key=node_count&sort_dir=desc", undefined, LATEST)).json.clusters.map((c: any) => c.node_count);
    assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
  });
  it("refuses a bad limit, direction, sort key or marker, naming it", async () => {
    for (const [q, status, words] of [["limit=0", 400, /Limit must be positive/], ["limit=x", 400, /limit/], ["sort_dir=up", 400, /sort direction/], ["sort_key=colour", 400, /colour/], ["marker=4b5c2d1e-0000-4000-8000-000000000000", 404, /could not be found/]] as const) {
      const r = await api.call("GET", `/v1/bays?${q}`);
      assert.equal(r.status, status, q);
      assert.match(r.json.errors[0].detail, words);
    }
  });
});

describe("PATCH of baymodels and cluster templates (JSON patch, create's rules)", () => {
  it("replaces a field and a label, keeps the identity, answers 200 with the result", async () => {
    const r = await api.call("PATCH", `/v1/clustertemplates/${tplId}`, [{ op: "replace", path: "/dns_nameserver", value: "8.8.8.8" }, { op: "add", path: "/labels/flannel_backend", value: "vxlan" }], LATEST);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.uuid, tplId);
    assert.equal(r.json.dns_nameserver, "8.8.8.8");
    assert.deepEqual(r.json.labels, { kube_tag: "v1.18.16", flannel_backend: "vxlan" });
    assert.ok(r.json.updated_at);
    assert.equal((await api.call("GET", `/v1/baymodels/${tplId}`)).json.dns_nameserver, "8.8.8.8", "the baymodel is the same thing");
  });
  it("refuses removing a mandatory field, unknown or read-only fields, and bad values; nothing changes", async () => {
    const before = (await api.call("GET", `/v1/baymodels/${tplId}`)).json;
    for (const [patch, words] of [
      [[{ op: "remove", path: "/image_id" }], /image_id can not be removed/],
      [[{ op: "replace", path: "/colour", value: "x" }], /colour/],
      [[{ op: "replace", path: "/uuid", value: "x" }], /read-only/],
      [[{ op: "replace", path: "/docker_volume_size", value: -1 }], /docker_volume_size/],
      [[{ op: "replace", path: "/dns_nameserver", value: "not-an-ip" }], /dns_nameserver/],
      [{ name: "x" }, /JSON patch/],
    ] as const) {
      const r = await api.call("PATCH", `/v1/baymodels/${tplId}`, patch);
      assert.equal(r.status, 400, JSON.stringify(patch));
      assert.match(r.json.errors[0].detail, words);
    }
    assert.deepEqual((await api.call("GET", `/v1/baymodels/${tplId}`)).json, before);
  });
  it("only an admin may make one public, and another project cannot change it at all", async () => {
    assert.equal((await api.call("PATCH", `/v1/baymodels/${tplId}`, [{ op: "replace", path: "/public", value: true }])).status, 403);
    assert.equal((await api.call("PATCH", `/v1/baymodels/${tplId}`, [{ op: "replace", path: "/name", value: "mine" }], { "x-project-id": "someone-else" })).status, 404);
  });
});

describe("etcd discovery served by Bayforge", () => {
  it("a bay without discovery_url gets one of Bayforge's own, sized to its masters, readable without a token", async () => {
    const r = await api.call("POST", "/v1/bays", { name: "disc", baymodel_id: "k8s-tpl", master_count: 3 });
    // the template has no keypair: give the bay one through the cluster API instead
    assert.equal(r.status, 400);
    const c = await api.call("POST", "/v1/clusters", { ...CLUSTER, name: "disc", master_count: 3, master_lb_enabled: true }, LATEST);
    assert.equal(c.status, 202);
    const bay = (await api.call("GET", `/v1/clusters/${c.json.uuid}`, undefined, LATEST)).json;
    assert.match(bay.discovery_url, /^http:\/\/bayforge\.test:9511\/v1\/discovery\/[0-9a-f]{32}$/);
    const size = await fetch(`${api.url}${new URL(bay.discovery_url).pathname}/_config/size`);
    assert.equal(size.status, 200);
    assert.equal(((await size.json()) as { node: { value: string } }).node.value, "3");
  });
  it("keeps a discovery_url the user gave", async () => {
    const c = await api.call("POST", "/v1/clusters", { ...CLUSTER, name: "own-disc", discovery_url: "https://discovery.etcd.io/abc" }, LATEST);
    assert.equal((await api.call("GET", `/v1/clusters/${c.json.uuid}`, undefined, LATEST)).json.discovery_url, "https://discovery.etcd.io/abc");
  });
});

describe("as today's clients send it: trailing slashes, nulls, ?rollback", () => {
  it("a trailing slash is the same route (nodegroup list, lists with --limit/--sort-key, one cluster)", async () => {
    const made = await api.call("POST", "/v1/clusters", { ...CLUSTER, name: "slash" }, LATEST);
    assert.equal(made.status, 202, JSON.stringify(made.json));
    const id = made.json.uuid;
    for (const path of ["/v1/clusters", "/v1/clustertemplates?limit=1&sort_key=name&sort_dir=asc", `/v1/clusters/${id}/nodegroups`, `/v1/clusters/${id}`, "/v1/clusters/detail?limit=2"]) {
      const [p, q] = path.split("?");
      const plain = await api.call("GET", path, undefined, LATEST);
      const slashed = await api.call("GET", `${p}/${q ? `?${q}` : ""}`, undefined, LATEST);
      assert.equal(plain.status, 200, path);
      assert.equal(slashed.status, 200, `${path} with a trailing slash: ${JSON.stringify(slashed.json)}`);
      assert.deepEqual(slashed.json, plain.json, path);
    }
  });

  it("a template create with driver: null and hidden: null is accepted (client master sends them); a driver value is read-only", async () => {
    const r = await api.call("POST", "/v1/clustertemplates", { ...TEMPLATE, name: "nulls", driver: null, hidden: null }, LATEST);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.hidden, false);
    const before = await api.counts();
    const set = await api.call("POST", "/v1/clustertemplates", { ...TEMPLATE, name: "driven", driver: "k8s_capi" }, LATEST);
    assert.equal(set.status, 400);
    assert.match(set.json.errors[0].detail, /driver .*read-only/);
    assert.deepEqual(await api.counts(), before);
  });

  it("only an admin may create a hidden template (Magnum's publish policy), and nothing is written", async () => {
    const before = await api.counts();
    const r = await api.call("POST", "/v1/clustertemplates", { ...TEMPLATE, name: "hid", hidden: true }, LATEST);
    assert.equal(r.status, 403);
    assert.match(r.json.errors[0].detail, /hidden/);
    assert.deepEqual(await api.counts(), before);
  });

  it("?rollback=True at 1.3+ records that Heat is to undo a failed update; before 1.3, or not a boolean, 400", async () => {
    const made = await api.call("POST", "/v1/clusters", { ...CLUSTER, name: "rb" }, LATEST);
    const id = made.json.uuid;
    const bay = (await api.stores.table.getBay(id))!;
    await api.stores.table.updateBay({ ...bay, status: "CREATE_COMPLETE", version: bay.version + 1 }, bay.version);
    const patch = [{ op: "replace", path: "/node_count", value: 3 }];
    const before = await api.counts();
    const old = await api.call("PATCH", `/v1/clusters/${id}/?rollback=True`, patch, { "OpenStack-API-Version": "container-infra 1.2" });
    assert.equal(old.status, 400);
    assert.match(old.json.errors[0].detail, /Unknown argument: "rollback"/);
    const bad = await api.call("PATCH", `/v1/clusters/${id}?rollback=maybe`, patch, LATEST);
    assert.equal(bad.status, 400);
    assert.match(bad.json.errors[0].detail, /rollback.*maybe/);
    assert.deepEqual(await api.counts(), before);
    assert.equal((await api.stores.table.getBay(id))!.status, "CREATE_COMPLETE");
    const r = await api.call("PATCH", `/v1/clusters/${id}/?rollback=True`, patch, LATEST);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const after = (await api.stores.table.getBay(id))!;
    assert.equal(after.status, "UPDATE_IN_PROGRESS");
    assert.equal(after.update?.rollback, true);
  });
});

describe("stats (1.4)", () => {
  const V14 = { "OpenStack-API-Version": "container-infra 1.4" };
  it("counts the caller's own clusters and their nodes (masters and workers, every status)", async () => {
    const bays = await api.stores.table.listBays({ projectId: "p-stats" });
    assert.equal(bays.length, 0);
    const mine = { "x-project-id": "p-stats", ...V14 };
    const tpl = await api.call("POST", "/v1/clustertemplates", { ...TEMPLATE, name: "stats-tpl" }, mine);
    assert.equal(tpl.status, 201);
    for (const [name, node_count, master_count] of [["s1", 2, 1], ["s2", 4, 1]] as const)
      assert.equal((await api.call("POST", "/v1/clusters", { ...CLUSTER, cluster_template_id: "stats-tpl", name, node_count, master_count }, mine)).status, 202);
    const r = await api.call("GET", "/v1/stats", undefined, mine);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, { clusters: 2, nodes: 8 });
    assert.deepEqual((await api.call("GET", "/v1/stats?project_id=p-stats&type=Cluster", undefined, mine)).json, { clusters: 2, nodes: 8 }, "naming one's own project");
    assert.deepEqual((await api.call("GET", "/v1/stats", undefined, { "x-project-id": "p-empty", ...V14 })).json, { clusters: 0, nodes: 0 }, "another project sees none of them");
  });
  it("refuses another project's stats to a non-admin (403), another type (400), and before 1.4 (406)", async () => {
    const other = await api.call("GET", "/v1/stats?project_id=p-stats", undefined, { "x-project-id": "p-empty", ...V14 });
    assert.equal(other.status, 403);
    assert.equal(other.json.clusters, undefined);
    const type = await api.call("GET", "/v1/stats?type=node", undefined, V14);
    assert.equal(type.status, 400);
    assert.match(type.json.errors[0].detail, /Allowed values are 'cluster'/);
    const old = await api.call("GET", "/v1/stats", undefined, { "OpenStack-API-Version": "container-infra 1.3" });
    assert.equal(old.status, 406);
    assert.match(old.json.errors[0].detail, /1\.4 or later/);
  });
});

describe("credential rotation (1.12) without Keystone", () => {
  it("answers Magnum's 'not supported by driver' (no trustee exists in noauth), 406 before 1.12, 404 for an unknown cluster; nothing written", async () => {
    const before = await api.counts();
    const bay = (await api.stores.table.listBays({}))[0];
    const rotate = (ident: string, v: string) => api.call("PATCH", `/v1/credentials/${ident}`, undefined, { "OpenStack-API-Version": `container-infra ${v}` });
    const noauth = await rotate(bay.uuid, "1.12");
    assert.equal(noauth.status, 400);
    assert.match(noauth.json.errors[0].detail, /^Credential rotation is not supported by driver: Bayforge runs without Keystone/);
    const old = await rotate(bay.uuid, "1.11");
    assert.equal(old.status, 406);
    assert.match(old.json.errors[0].detail, /1\.12 or later/);
    assert.equal((await rotate("no-such-cluster", "latest")).status, 404);
    assert.deepEqual(await api.counts(), before);
    assert.equal((await api.stores.table.getBay(bay.uuid))!.version, bay.version);
  });
});
