// Over HTTP on the embedded stores: a node_count or master_count above the bound (default
// 1,000 nodes per bay) is a 400 naming the field and the bound, and nothing is written, on
// every route that takes one: POST /v1/bays and /v1/clusters, a batch manifest, a scale
// (PATCH /node_count, bays and clusters) and a cluster resize.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { BAYMODEL, startApi, type ApiHarness } from "../support/api-harness.ts";

const LATEST = { "OpenStack-API-Version": "container-infra latest" };

async function boundedRoutes(api: ApiHarness, max: number) {
  const m = await api.call("POST", "/v1/baymodels", BAYMODEL);
  assert.equal(m.status, 201, JSON.stringify(m.json));
  const b = await api.call("POST", "/v1/bays", { name: "b1", baymodel_id: m.json.uuid, node_count: max, master_count: 1 });
  assert.equal(b.status, 201, `${max} nodes is within the bound: ${JSON.stringify(b.json)}`);
  const bay = b.json.uuid as string;
  const patch = (v: number) => [{ op: "replace", path: "/node_count", value: v }];
  const manifest = (field: string, v: number) => `bays:\n  - {name: m1, baymodel: ${BAYMODEL.name}, ${field}: ${v}}\n`;
  const over = [max + 1, 1_000_000_000_000];
  const cases: Array<{ name: string; send: () => ReturnType<ApiHarness["call"]>; field: RegExp }> = [];
  for (const v of over)
    for (const field of ["node_count", "master_count"]) {
      cases.push({ name: `POST /v1/bays ${field} ${v}`, send: () => api.call("POST", "/v1/bays", { name: "x", baymodel_id: BAYMODEL.name, [field]: v }), field: new RegExp(`field/attribute ${field}\\. Value: '${v}'`) });
      cases.push({ name: `POST /v1/clusters ${field} ${v}`, send: () => api.call("POST", "/v1/clusters", { name: "x", cluster_template_id: BAYMODEL.name, [field]: v }, LATEST), field: new RegExp(`field/attribute ${field}\\. Value: '${v}'`) });
      cases.push({ name: `POST /v1/batches ${field} ${v}`, send: () => api.call("POST", "/v1/batches", manifest(field, v), { "content-type": "application/yaml" }), field: new RegExp(`bays\\[0\\]\\.${field}: Value: '${v}'`) });
    }
  for (const v of over) {
    cases.push({ name: `PATCH /v1/bays node_count ${v}`, send: () => api.call("PATCH", `/v1/bays/${bay}`, patch(v)), field: /node_count/ });
    cases.push({ name: `PATCH /v1/clusters node_count ${v}`, send: () => api.call("PATCH", `/v1/clusters/${bay}`, patch(v), LATEST), field: /node_count/ });
    cases.push({ name: `resize node_count ${v}`, send: () => api.call("POST", `/v1/clusters/${bay}/actions/resize`, { node_count: v }, LATEST), field: /node_count/ });
  }
  const before = await api.counts();
  const stored = (await api.stores.table.getBay(bay))!;
  for (const c of cases) {
    const r = await c.send();
    assert.equal(r.status, 400, `${c.name}: ${JSON.stringify(r.json)}`);
    const detail = r.json.errors[0].detail as string;
    assert.match(detail, c.field, c.name);
    assert.match(detail, new RegExp(`less or equal to ${max} \\(the maximum nodes per bay\\)`), c.name);
  }
  assert.deepEqual(await api.counts(), before, "nothing written");
  assert.deepEqual(await api.stores.table.getBay(bay), stored, "the bay unchanged");
}

describe("the default bound: 1,000 nodes per bay", () => {
  let api: ApiHarness;
  before(async () => (api = await startApi()));
  after(() => api.close());
  it("above it: 400 naming the field and the bound on every route; nothing written", () => boundedRoutes(api, 1000));
});

describe("a configured bound (BAYFORGE_MAX_NODES_PER_BAY=20)", () => {
  let api: ApiHarness;
  before(async () => (api = await startApi({ BAYFORGE_MAX_NODES_PER_BAY: "20" })));
  after(() => api.close());
  it("above it: 400 naming the field and the bound on every route; nothing written", () => boundedRoutes(api, 20));
});
