// The health decision as Magnum's monitor makes it (reason shapes, values), which bays are
// checked and when, the bounds on what a tenant's API may put in a reason, and coe_version.
// No I/O.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { boundedText, healthChanged, healthDue, isHealthChecked, judgeHealth, MAX_REASON_NODES, MAX_REASON_TEXT, nodeKey, type HealthProbe } from "../../shared/domain/health.ts";
import { coeVersionField, intendedCoeVersion } from "../../shared/domain/coe-version.ts";
import { newBayModel } from "../../shared/domain/baymodel.ts";
import { BAY_STATUSES } from "../../shared/domain/status.ts";
import { kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";

const ready = (status = 200, text = "ok") => ({ status, text });
const nodes = (...list: Array<[string, boolean]>) => ({ items: list.map(([name, r]) => ({ name, ready: r })), complete: true });
const answered = (readyz: { status: number; text: string }, n: Extract<HealthProbe, { reachable: true }>["nodes"]): HealthProbe => ({ reachable: true, readyz, nodes: n });

describe("the health decision (Magnum's k8s_monitor)", () => {
  it("is HEALTHY with {api: ok, <node>.Ready: True} when the API is ready and every node is Ready", () => {
    assert.deepEqual(judgeHealth("k8s", answered(ready(), nodes(["k8s-master-0", true], ["k8s-minion-0", true]))), {
      status: "HEALTHY",
      reason: { "k8s-master-0.Ready": "True", "k8s-minion-0.Ready": "True", api: "ok" },
    });
  });
  it("is UNHEALTHY naming the node whose Ready condition is not True", () => {
    const r = judgeHealth("k8s", answered(ready(), nodes(["m-0", true], ["n-0", false])));
    assert.equal(r.status, "UNHEALTHY");
    assert.deepEqual(r.reason, { "n-0.Ready": "False", "m-0.Ready": "True", api: "ok" });
  });
  it("is UNHEALTHY with the API's own words when /readyz answers but is not ready", () => {
    const r = judgeHealth("k8s", answered(ready(500, "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed"), nodes(["m-0", true])));
    assert.equal(r.status, "UNHEALTHY");
    assert.equal(r.reason.api, "[+]ping ok [-]etcd failed: reason withheld readyz check failed");
    assert.equal(judgeHealth("k8s", answered(ready(503, ""), nodes())).reason.api, "answered 503");
  });
  it("is UNHEALTHY saying so when the nodes cannot be listed", () => {
    const r = judgeHealth("k8s", answered(ready(), { error: "answered 403 to GET /api/v1/nodes" }));
    assert.deepEqual(r, { status: "UNHEALTHY", reason: { nodes: "the nodes could not be listed: answered 403 to GET /api/v1/nodes", api: "ok" } });
  });
  it("is UNKNOWN with the reason when the API cannot be reached", () => {
    assert.deepEqual(judgeHealth("k8s", { reachable: false, why: "the Kubernetes API at https://10.0.0.2:6443 could not be reached (ECONNREFUSED)" }), {
      status: "UNKNOWN",
      reason: { api: "The cluster k8s is not accessible: the Kubernetes API at https://10.0.0.2:6443 could not be reached (ECONNREFUSED)" },
    });
  });
  it("is HEALTHY with no nodes registered, as Magnum's all() of nothing", () => {
    assert.equal(judgeHealth("k8s", answered(ready(), nodes())).status, "HEALTHY");
  });
  it("is never HEALTHY when the node list was cut short", () => {
    const r = judgeHealth("k8s", answered(ready(), { items: [{ name: "a", ready: true }], complete: false }));
    assert.equal(r.status, "UNHEALTHY");
    assert.equal(r.reason.nodes, "1+ nodes, 0+ not Ready; 1 shown");
  });
});

describe("bounds on what a tenant's API puts in the reason", () => {
  it("names at most MAX_REASON_NODES nodes, the NotReady ones first, and says how many there are", () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ name: `node-${i}`, ready: i % 1000 !== 7 }));
    const r = judgeHealth("k8s", answered(ready(), { items: many, complete: true }));
    assert.equal(r.status, "UNHEALTHY");
    const keys = Object.keys(r.reason).filter((k) => k.endsWith(".Ready"));
    assert.equal(keys.length, MAX_REASON_NODES);
    assert.deepEqual(keys.slice(0, 5), ["node-7.Ready", "node-1007.Ready", "node-2007.Ready", "node-3007.Ready", "node-4007.Ready"]);
    assert.equal(r.reason.nodes, `5000 nodes, 5 not Ready; ${MAX_REASON_NODES} shown`);
  });
  it("cuts long names to Kubernetes' 253 characters and replaces characters a node name cannot have", () => {
    assert.equal(nodeKey("x".repeat(100_000)), `${"x".repeat(253)}.Ready`);
    assert.equal(nodeKey('<script>"\n\u0000'), "?script????.Ready");
    assert.equal(nodeKey(""), "(unnamed).Ready");
  });
  it("keeps one bounded line of an answer's text", () => {
    const t = boundedText("a\r\n\tb\u2028c" + "z".repeat(10_000_000));
    assert.equal(t.length, MAX_REASON_TEXT);
    assert.ok(t.startsWith("a b c") && t.endsWith("…"));
    assert.equal(boundedText(undefined), "");
  });
  it("tells a change in what users see from the same verdict again", () => {
    const r = judgeHealth("k8s", answered(ready(), nodes(["a", true])));
    assert.equal(healthChanged({ health_status: "HEALTHY", health_status_reason: { ...r.reason } }, r), false);
    assert.equal(healthChanged({ health_status: "UNHEALTHY", health_status_reason: r.reason }, r), true);
    assert.equal(healthChanged({}, r), true);
  });
});

describe("which bays are checked, and when", () => {
  it("checks finished and failed bays (as Magnum's periodic task), never one in progress", () => {
    const checked = BAY_STATUSES.filter(isHealthChecked);
    assert.deepEqual(checked, ["CREATE_FAILED", "CREATE_COMPLETE", "UPDATE_FAILED", "UPDATE_COMPLETE", "DELETE_FAILED", "RESUME_COMPLETE", "RESTORE_COMPLETE", "ROLLBACK_COMPLETE", "SNAPSHOT_COMPLETE", "CHECK_COMPLETE", "ADOPT_COMPLETE"]);
  });
  it("is due when never checked, or checked an interval ago or more", () => {
    const now = new Date("2026-12-06T12:00:00Z");
    assert.equal(healthDue({ status: "CREATE_COMPLETE" }, now, 60_000), true);
    assert.equal(healthDue({ status: "CREATE_COMPLETE", health_checked_at: "2026-12-06T11:59:30Z" }, now, 60_000), false);
    assert.equal(healthDue({ status: "CREATE_COMPLETE", health_checked_at: "2026-12-06T11:59:00Z" }, now, 60_000), true);
    assert.equal(healthDue({ status: "UPDATE_IN_PROGRESS" }, now, 60_000), false);
    assert.equal(healthDue({ status: "UPDATE_COMPLETE", health_checked_at: "not a time" }, now, 60_000), true);
  });
});

describe("coe_version", () => {
  const model = newBayModel({ name: "m", coe: "kubernetes", image_id: "i", keypair_id: "k", external_network_id: "public", labels: { kube_tag: "v1.34.2" } }, { projectId: "p", userId: "u" }, new Date().toISOString());
  const templateDefault = String((kubeclusterTemplate().template.parameters as any).kube_tag.default);

  it("is the release the nodes install: the cluster's kube_tag, else the template's, else kubecluster.yaml's default", () => {
    assert.equal(intendedCoeVersion({ overrides: { labels: { kube_tag: "v1.33.0" } } }, model, templateDefault), "v1.33.0");
    assert.equal(intendedCoeVersion({}, model, templateDefault), "v1.34.2");
    assert.equal(intendedCoeVersion({}, { ...model, labels: {} }, templateDefault), templateDefault);
    assert.match(templateDefault, /^v\d+\.\d+\.\d+$/);
  });
  it("takes the release the API reports when it looks like one, else keeps the intended one", () => {
    assert.deepEqual(coeVersionField("v1.34.2", "v1.34.3"), { coe_version: "v1.34.3" });
    assert.deepEqual(coeVersionField("v1.34.2", "v1.34.3+k3s1"), { coe_version: "v1.34.3+k3s1" });
    for (const hostile of ["<b>v1</b>", "v1.2", "v1.2.3\n", `v1.2.3-${"a".repeat(1000)}`, undefined, null])
      assert.deepEqual(coeVersionField("v1.34.2", hostile), { coe_version: "v1.34.2" }, String(hostile));
  });
});
