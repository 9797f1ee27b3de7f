import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { BAYMODEL, startApi, type ApiHarness } from "../support/api-harness.ts";

let api: ApiHarness;
let modelUuid: string;
before(async () => {
  api = await startApi({ BAYFORGE_PUBLIC_URL: "http://bayforge.test:9511" });
  const r = await api.call("POST", "/v1/baymodels", BAYMODEL);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  modelUuid = r.json.uuid;
});
after(() => api.close());

describe("POST /v1/baymodels", () => {
  it("answers 201 with Magnum's fields, defaults, links and a Location", async () => {
    const r = await api.call("POST", "/v1/baymodels", { ...BAYMODEL, name: "other" });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("location"), `http://bayforge.test:9511/v1/baymodels/${r.json.uuid}`);
    assert.equal(r.json.network_driver, "flannel");
    assert.equal(r.json.tls_disabled, false);
    assert.equal(r.json.public, false);
    assert.equal(r.json.server_type, "vm");
    assert.deepEqual(r.json.links.map((l: any) => l.rel), ["self", "bookmark"]);
    assert.ok(!("project_id" in r.json), "internal fields are not served");
    const byName = await api.call("GET", "/v1/baymodels/other");
    assert.equal(byName.json.uuid, r.json.uuid);
    assert.equal((await api.call("DELETE", `/v1/baymodels/${r.json.uuid}`)).status, 204);
    assert.equal((await api.call("GET", `/v1/baymodels/${r.json.uuid}`)).status, 404);
  });
  it("lists baymodels in the short collection view", async () => {
    const r = await api.call("GET", "/v1/baymodels");
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json.baymodels[0]).sort(), ["apiserver_port", "coe", "image_id", "links", "name", "uuid"]);
  });
  it("hides another project's private baymodel", async () => {
    const r = await api.call("GET", `/v1/baymodels/${modelUuid}`, undefined, { "x-project-id": "someone-else" });
    assert.equal(r.status, 404);
  });
});

describe("POST /v1/bays", () => {
  it("answers 201 with the full bay in CREATE_IN_PROGRESS and a Location by default (1.1), and enqueues its create", async () => {
    const before = await api.counts();
    const r = await api.call("POST", "/v1/bays", { name: "k8s-one", baymodel_id: modelUuid, node_count: 2 });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.headers.get("location"), `http://bayforge.test:9511/v1/bays/${r.json.uuid}`);
    assert.equal(r.headers.get("openstack-api-version"), "container-infra 1.1");
    assert.equal(r.headers.get("openstack-api-minimum-version"), "container-infra 1.1");
    assert.equal(r.headers.get("x-openstack-magnum-api-maximum-version"), "1.14");
    assert.equal(r.json.status, "CREATE_IN_PROGRESS");
    assert.equal(r.json.node_count, 2);
    assert.equal(r.json.master_count, 1);
    assert.equal(r.json.bay_create_timeout, 60);
    assert.deepEqual(r.json.node_addresses, []);
    for (const f of ["uuid", "name", "baymodel_id", "discovery_url", "stack_id", "status_reason", "api_address", "master_addresses", "links", "created_at", "updated_at"])
      assert.ok(f in r.json, `field ${f}`);
    const after = await api.counts();
    assert.deepEqual([after.bays - before.bays, after.messages - before.messages], [1, 1]);
    const [msg] = await api.stores.queue.receive(1, 1);
    assert.deepEqual([msg.body.kind, msg.body.bayId, msg.body.v], ["bay.create", r.json.uuid, 1]);
    await api.stores.queue.changeVisibility(msg.receipt, 0);
  });
  it("answers 400 naming master_lb_enabled for 2 masters on a baymodel without a load balancer, and writes nothing", async () => {
    const before = await api.counts();
    const r = await api.call("POST", "/v1/bays", { name: "k8s-two-masters", baymodel_id: modelUuid, master_count: 2 });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(r.json.errors[0].detail, /master_count must be 1 when master_lb_enabled is False/);
    assert.deepEqual(await api.counts(), before);
  });
  it("answers 202 with only the uuid when the client asks for container-infra 1.2", async () => {
    const r = await api.call("POST", "/v1/bays", { name: "k8s-async", baymodel_id: "k8s-model" }, { "OpenStack-API-Version": "container-infra 1.2" });
    assert.equal(r.status, 202);
    assert.deepEqual(Object.keys(r.json), ["uuid"]);
    assert.equal(r.headers.get("openstack-api-version"), "container-infra 1.2");
    assert.equal((await api.call("GET", `/v1/bays/${r.json.uuid}`)).json.name, "k8s-async");
  });
  it("answers 201 to the mitaka header X-OpenStack-Magnum-API-Version: 1.1", async () => {
    const r = await api.call("POST", "/v1/bays", { baymodel_id: modelUuid }, { "X-OpenStack-Magnum-API-Version": "1.1" });
    assert.equal(r.status, 201);
    assert.match(r.json.name, /^bay-/);
  });
  it("treats 'latest' as the newest version", async () => {
    const r = await api.call("GET", "/v1/clusters", undefined, { "OpenStack-API-Version": "container-infra latest" });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("openstack-api-version"), "container-infra 1.14");
  });
  it("serves bays and baymodels up to 1.10 and answers 404 from 1.11 on (Magnum removed them), saying what to use", async () => {
    for (const path of ["/v1/bays", "/v1/baymodels", "/v1/bays/detail"]) {
      const old = await api.call("GET", path, undefined, { "OpenStack-API-Version": "container-infra 1.10" });
      assert.equal(old.status, 200, path);
      for (const v of ["1.11", "latest"]) {
        const gone = await api.call("GET", path, undefined, { "OpenStack-API-Version": `container-infra ${v}` });
        assert.equal(gone.status, 404, `${path} at ${v}`);
        assert.match(gone.json.errors[0].detail, /Magnum removed bay(model)?s in version 1\.11\. Use \/v1\/cluster(template)?s, or ask for version 1\.10/);
      }
    }
    const before = await api.counts();
    const refused = await api.call("POST", "/v1/bays", { baymodel_id: "k8s-model" }, { "X-OpenStack-Magnum-API-Version": "1.11" });
    assert.equal(refused.status, 404);
    assert.deepEqual(await api.counts(), before, "nothing written");
  });
  it("lists bays in the collection view and finds one by name; a name two bays share gives 409", async () => {
    const list = await api.call("GET", "/v1/bays");
    assert.ok(list.json.bays.length >= 2);
    assert.deepEqual(Object.keys(list.json.bays[0]).sort(), ["bay_create_timeout", "baymodel_id", "links", "master_count", "name", "node_count", "stack_id", "status", "uuid"]);
    assert.equal((await api.call("GET", "/v1/bays/k8s-one")).json.node_count, 2);
    await api.call("POST", "/v1/bays", { name: "twin", baymodel_id: modelUuid });
    await api.call("POST", "/v1/bays", { name: "twin", baymodel_id: modelUuid });
    const dup = await api.call("GET", "/v1/bays/twin");
    assert.equal(dup.status, 409);
    assert.match(dup.json.errors[0].detail, /Multiple bays exist with same name/);
  });
  it("does not show a bay to another project", async () => {
    const r = await api.call("GET", "/v1/bays/k8s-one", undefined, { "x-project-id": "someone-else" });
    assert.equal(r.status, 404);
    assert.equal((await api.call("GET", "/v1/bays", undefined, { "x-project-id": "someone-else" })).json.bays.length, 0);
  });
  it("refuses to delete a baymodel that bays use, naming them", async () => {
    const r = await api.call("DELETE", `/v1/baymodels/${modelUuid}`);
    assert.equal(r.status, 400);
    assert.match(r.json.errors[0].detail, /referenced by.*k8s-one/);
  });
});

describe("bad input: a 4xx naming the problem, and nothing written or enqueued", () => {
  const huge = JSON.stringify({ name: "x", baymodel_id: "k8s-model", discovery_url: "a".repeat(70_000) });
  const cases: Array<[string, string, unknown, number, RegExp, Record<string, string>?]> = [
    ["broken JSON", "/v1/bays", '{"name": "x", ', 400, /not valid JSON/],
    ["a JSON array", "/v1/bays", "[1,2]", 400, /JSON object/],
    ["a JSON string", "/v1/bays", '"bay"', 400, /JSON object/],
    ["an empty body", "/v1/bays", "", 400, /empty/],
    ["a non-JSON content type", "/v1/bays", "name=x", 415, /application\/json/, { "content-type": "application/x-www-form-urlencoded" }],
    ["a body over the size limit", "/v1/bays", huge, 413, /exceeds the limit/],
    ["node_count as a word", "/v1/bays", { baymodel_id: "k8s-model", node_count: "three" }, 400, /node_count.*integer/],
    ["node_count 0", "/v1/bays", { baymodel_id: "k8s-model", node_count: 0 }, 400, /node_count.*greater or equal to 1/],
    ["node_count negative", "/v1/bays", { baymodel_id: "k8s-model", node_count: -1 }, 400, /node_count/],
    ["node_count fractional", "/v1/bays", { baymodel_id: "k8s-model", node_count: 2.5 }, 400, /node_count.*integer/],
    ["node_count null", "/v1/bays", { baymodel_id: "k8s-model", node_count: null }, 400, /node_count.*null/],
    ["master_count 0", "/v1/bays", { baymodel_id: "k8s-model", master_count: 0 }, 400, /master_count/],
    ["bay_create_timeout negative", "/v1/bays", { baymodel_id: "k8s-model", bay_create_timeout: -5 }, 400, /bay_create_timeout/],
    ["a name with a space", "/v1/bays", { baymodel_id: "k8s-model", name: "my bay" }, 400, /name/],
    ["a name starting with a digit", "/v1/bays", { baymodel_id: "k8s-model", name: "9lives" }, 400, /name.*start with a letter/],
    ["a name of 243 characters", "/v1/bays", { baymodel_id: "k8s-model", name: "b".repeat(243) }, 400, /name.*242/],
    ["a name that is an object", "/v1/bays", { baymodel_id: "k8s-model", name: { a: 1 } }, 400, /name.*string/],
    ["an unknown attribute", "/v1/bays", { baymodel_id: "k8s-model", flavour: "big" }, 400, /Unknown attribute.*flavour/],
    ["a read-only attribute", "/v1/bays", { baymodel_id: "k8s-model", stack_id: "x" }, 400, /stack_id.*read-only/],
    ["no baymodel_id", "/v1/bays", { name: "x" }, 400, /baymodel_id.*Mandatory/],
    ["baymodel_id a number", "/v1/bays", { baymodel_id: 7 }, 400, /baymodel_id.*string/],
    ["an unknown baymodel", "/v1/bays", { baymodel_id: "no-such-model" }, 400, /BayModel no-such-model could not be found/],
    ["another project's baymodel", "/v1/bays", { baymodel_id: "k8s-model" }, 400, /could not be found/, { "x-project-id": "someone-else" }],
    ["discovery_url a number", "/v1/bays", { baymodel_id: "k8s-model", discovery_url: 5 }, 400, /discovery_url/],
    ["an unsupported microversion", "/v1/bays", { baymodel_id: "k8s-model" }, 406, /9\.99.*not supported/, { "OpenStack-API-Version": "container-infra 9.99" }],
    ["a malformed microversion", "/v1/bays", { baymodel_id: "k8s-model" }, 400, /MAJOR\.MINOR/, { "X-OpenStack-Magnum-API-Version": "one" }],
    ["a baymodel without image_id", "/v1/baymodels", { ...BAYMODEL, image_id: undefined }, 400, /image_id.*Mandatory/],
    ["a baymodel for swarm", "/v1/baymodels", { ...BAYMODEL, coe: "swarm" }, 400, /not supported/],
    ["a baymodel with a list as a label", "/v1/baymodels", { ...BAYMODEL, labels: { kube_tag: [1] } }, 400, /labels\.kube_tag/],
    ["a baymodel with a bad dns_nameserver", "/v1/baymodels", { ...BAYMODEL, dns_nameserver: "8.8.8.888" }, 400, /dns_nameserver/],
    ["a baymodel with docker_volume_size 0", "/v1/baymodels", { ...BAYMODEL, docker_volume_size: 0 }, 400, /docker_volume_size/],
    ["a baymodel with apiserver_port 80", "/v1/baymodels", { ...BAYMODEL, apiserver_port: 80 }, 400, /apiserver_port.*1024/],
    ["a baymodel with network_driver weave", "/v1/baymodels", { ...BAYMODEL, network_driver: "weave" }, 400, /weave/],
    ["a public baymodel from a non-admin", "/v1/baymodels", { ...BAYMODEL, public: true }, 403, /administrators/],
  ];
  for (const [what, path, body, status, detail, headers] of cases) {
    it(`${what} → ${status}`, async () => {
      const before = await api.counts();
      const r = await api.call("POST", path, body, headers);
      assert.equal(r.status, status, JSON.stringify(r.json));
      const err = r.json.errors?.[0];
      assert.ok(err, `Magnum error envelope, got ${JSON.stringify(r.json)}`);
      assert.equal(err.status, status);
      assert.match(err.detail, detail);
      assert.ok(r.headers.get("openstack-api-maximum-version"), "version headers on errors too");
      assert.deepEqual(await api.counts(), before, "nothing written or enqueued");
    });
  }
});
