// node_count and master_count are bounded (default 1,000 nodes per bay, BAYFORGE_MAX_NODES_PER_BAY):
// a bay, a cluster, a manifest's bays, a scale (PATCH) and a resize above the bound are a 400
// that names the field and the bound; at the bound they are accepted.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { acceptBay, BAY_FIELDS, DEFAULT_MAX_NODES_PER_BAY, parseBayRequest } from "../../shared/domain/bay.ts";
import { CLUSTER_FIELDS, parseClusterRequest } from "../../shared/domain/cluster.ts";
import { parseBayPatch, parseResize } from "../../shared/domain/bay-update.ts";
import { parseManifest } from "../../shared/domain/manifest.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import { loadSettings } from "../../shared/config.ts";

function rejects(fn: () => unknown, mention: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${e}`);
    assert.equal(e.status, 400);
    assert.match(e.detail, mention);
    return true;
  });
}
const bound = (field: string, max: number) => new RegExp(`${field}.*less or equal to ${max} \\(the maximum nodes per bay\\)`, "s");

const bay = (node_count = 3) =>
  acceptBay(parseBayRequest({ name: "k8s", baymodel_id: "m", node_count }), "9a1c0b5e-3f0e-4c47-9a55-2c4d1f1f0a11", { projectId: "p", userId: "u" }, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now: new Date() });

describe("the bound on node_count and master_count", () => {
  it("is 1,000 by default, and the field rules say so (the fuzz oracles read them)", () => {
    assert.equal(DEFAULT_MAX_NODES_PER_BAY, 1000);
    for (const rules of [BAY_FIELDS, CLUSTER_FIELDS])
      for (const f of ["node_count", "master_count"]) assert.deepEqual([rules[f].spec.type, (rules[f].spec as { max?: number }).max], ["integer", 1000]);
  });

  it("a bay: 1,000 is accepted; 1,001 and 10^12 are a 400 naming the field and the bound", () => {
    assert.equal(parseBayRequest({ baymodel_id: "m", node_count: 1000, master_count: 1000 }).node_count, 1000);
    for (const field of ["node_count", "master_count"])
      for (const v of [1001, 1_000_000_000_000, 2 ** 53]) rejects(() => parseBayRequest({ baymodel_id: "m", [field]: v }), bound(field, 1000));
  });

  it("a cluster, likewise", () => {
    assert.equal(parseClusterRequest({ cluster_template_id: "t", node_count: 1000 }).bay.node_count, 1000);
    for (const field of ["node_count", "master_count"]) rejects(() => parseClusterRequest({ cluster_template_id: "t", [field]: 1001 }), bound(field, 1000));
  });

  it("a scale (PATCH /node_count) and a resize, likewise", () => {
    assert.equal(parseBayPatch([{ op: "replace", path: "/node_count", value: 1000 }], bay()).node_count, 1000);
    rejects(() => parseBayPatch([{ op: "replace", path: "/node_count", value: 1_000_000_000_000 }], bay()), bound("node_count", 1000));
    assert.equal(parseResize({ node_count: 1000 }).node_count, 1000);
    rejects(() => parseResize({ node_count: 1001 }), bound("node_count", 1000));
  });

  it("a manifest: every bay over the bound is a problem with its path; nothing is applied", () => {
    const doc = (a: number, b: number) => `bays:\n  - {name: a, baymodel: m, node_count: ${a}}\n  - {name: b, baymodel: m, master_count: ${b}}\n`;
    assert.equal(parseManifest(doc(1000, 999)).manifest.bays.length, 2);
    rejects(() => parseManifest(doc(1001, 1_000_000_000_000)), /has 2 problems.*\nbays\[0\]\.node_count: Value: '1001'\. Value should be less or equal to 1000 \(the maximum nodes per bay\)\nbays\[1\]\.master_count: Value: '1000000000000'\./s);
  });

  it("is configurable: every parser takes the maximum, and the default stays 1,000", () => {
    const max = 20;
    assert.equal(parseBayRequest({ baymodel_id: "m", node_count: 20, master_count: 20 }, max).master_count, 20);
    rejects(() => parseBayRequest({ baymodel_id: "m", node_count: 21 }, max), bound("node_count", 20));
    rejects(() => parseBayRequest({ baymodel_id: "m", master_count: 21 }, max), bound("master_count", 20));
    rejects(() => parseClusterRequest({ cluster_template_id: "t", node_count: 21 }, max), bound("node_count", 20));
    rejects(() => parseBayPatch([{ op: "replace", path: "/node_count", value: 21 }], bay(), max), bound("node_count", 20));
    rejects(() => parseResize({ node_count: 21 }, max), bound("node_count", 20));
    rejects(() => parseManifest("bays:\n  - {name: a, baymodel: m, node_count: 21}\n", max), /bays\[0\]\.node_count: .*less or equal to 20/);
    // a larger maximum lets larger bays through; the default rules are untouched
    assert.equal(parseBayRequest({ baymodel_id: "m", node_count: 5000 }, 5000).node_count, 5000);
    assert.equal(parseResize({ node_count: 5000 }, 5000).node_count, 5000);
    assert.equal(parseManifest("bays:\n  - {name: a, baymodel: m, node_count: 5000}\n", 5000).manifest.bays[0].node_count, 5000);
    rejects(() => parseBayRequest({ baymodel_id: "m", node_count: 1001 }), bound("node_count", 1000));
    assert.equal((BAY_FIELDS.node_count.spec as { max?: number }).max, 1000);
  });

  it("BAYFORGE_MAX_NODES_PER_BAY sets it (a positive integer; 1,000 when unset)", () => {
    assert.equal(loadSettings({}).maxNodesPerBay, 1000);
    assert.equal(loadSettings({ BAYFORGE_MAX_NODES_PER_BAY: "250" }).maxNodesPerBay, 250);
    for (const bad of ["0", "-1", "1.5", "many"]) assert.throws(() => loadSettings({ BAYFORGE_MAX_NODES_PER_BAY: bad }), /BAYFORGE_MAX_NODES_PER_BAY must be an integer ≥ 1/);
  });
});
