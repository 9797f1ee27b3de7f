// The console shows a bay's health as the API serves it: the bays list's Health column (one of
// Magnum's three values, else "—") and, on a bay's page, the reason map and coe_version, as text.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bayPage, bayRow } from "../../functions/api/console/pages.ts";

const HOSTILE = `<img src=x onerror=alert(1)>"'&`;
const cluster = (extra: Record<string, unknown>) => ({ uuid: "11111111-2222-3333-4444-555555555555", name: "b", status: "CREATE_COMPLETE", node_count: 1, master_count: 1, labels: {}, created_at: new Date().toISOString(), cluster_template_id: "t", ...extra });

describe("console: a bay's health", () => {
  it("the bays list shows the health status, and — before the first check or for anything else", () => {
    assert.equal(bayRow(cluster({ health_status: "UNHEALTHY" })).health, "UNHEALTHY");
    assert.equal(bayRow(cluster({ health_status: null })).health, "—");
    assert.equal(bayRow(cluster({ health_status: HOSTILE })).health, "—");
  });

  it("a bay's page shows the status, its reason and the Kubernetes release, escaped", () => {
    const page = String(bayPage({ cluster: cluster({ health_status: "UNHEALTHY", health_status_reason: { [`${HOSTILE}.Ready`]: "False", api: "ok" }, coe_version: "v1.35.8" }), faults: [], events: [] }, { user: "u", project: "p", csrf: "c" }));
    assert.match(page, /<dt>Health<\/dt><dd>UNHEALTHY <span class="muted">\(&lt;img src=x onerror=alert\(1\)&gt;&quot;&#39;&amp;\.Ready: False, api: ok\)<\/span><\/dd>/);
    assert.match(page, /<dt>Kubernetes<\/dt><dd>v1\.35\.8<\/dd>/);
    assert.ok(!page.includes("<img"));
    const before = String(bayPage({ cluster: cluster({ health_status: null, health_status_reason: {}, coe_version: null }), faults: [], events: [] }, { user: "u", project: "p", csrf: "c" }));
    assert.match(before, /<dt>Health<\/dt><dd>—<\/dd>/);
    assert.match(before, /<dt>Kubernetes<\/dt><dd>—<\/dd>/);
  });
});
