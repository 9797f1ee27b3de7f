// A cluster's health_status and coe_version on the light dev cloud (issue 13, Done when 5):
// Bayforge creates the bay on the real Heat, then its worker checks the bay's Kubernetes API
// every sweep (a short interval here). The dev cloud boots no Kubernetes, so the bay's API is
// first an address nothing answers at (UNKNOWN), then the test points the bay's api_address at
// a stand-in API (test/support/kube-api-standin.ts, a stand-in: no real cluster runs here) that
// serves TLS with a certificate the bay's CA signed through Bayforge's own certificates API and
// requires the bay's client certificate: HEALTHY; a node NotReady: UNHEALTHY with the reason;
// the API gone: UNKNOWN with the reason.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, startBayforge, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import { eventually } from "../support/eventually.ts";
import { startKubeApiStandin, type KubeApiStandin } from "../support/kube-api-standin.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { VersionConflict } from "../../shared/ports/bay-table.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `hlt${Date.now().toString(36)}`;
const LATEST = { "OpenStack-API-Version": "container-infra latest" };
const KUBE_TAG = "v1.34.2";

let bf: BayforgeProcess;
let os: OpenStack;
let stores: LocalStores;
let kube: KubeApiStandin | undefined;
let id: string;
let name: string;
const nodes = [
  { name: "placeholder-master-0", ready: "True" },
  { name: "placeholder-minion-0", ready: "True" },
];

before(async () => {
  os = demoCloud();
  // a sweep every second and a check every second: the test waits seconds, not minutes
  bf = await startBayforge({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3", BAYFORGE_SWEEP_SECONDS: "1", BAYFORGE_HEALTH_INTERVAL_SECONDS: "1" } });
  stores = openLocalStores(bf.dataDir);
  const t = await api(bf.url, "POST", "/v1/clustertemplates", { name: `${RUN}-tpl`, coe: "kubernetes", image_id: "fedora-atomic", external_network_id: "public", keypair_id: null, flavor_id: "m1.small", labels: { kube_tag: KUBE_TAG } }, LATEST);
  assert.equal(t.status, 201, JSON.stringify(t.json));
  name = `${RUN}-c`;
  const c = await api(bf.url, "POST", "/v1/clusters", { name, cluster_template_id: `${RUN}-tpl`, keypair: "demo-key", node_count: 1, master_count: 1, create_timeout: 20 }, LATEST);
  assert.equal(c.status, 202, JSON.stringify(c.json));
  id = c.json.uuid;
  const bay = await waitForBay(bf.url, id, 180_000);
  assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
});

after(async () => {
  await kube?.close();
  await bf?.kill("SIGTERM");
  await stores?.close();
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

const show = async () => {
  const r = await api(bf.url, "GET", `/v1/clusters/${id}`, undefined, LATEST);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
};
/** The cluster once its health_status is `status` (polled; the check runs every sweep). */
const healthBecomes = (status: string, what: string) =>
  eventually(what, async () => {
    const c = await show();
    return c.health_status === status ? c : undefined;
  }, 120_000, 500);

/** An API stand-in on 127.0.0.1 with a serving certificate the bay's CA signed (POST /v1/certificates, as a node gets its own). */
async function startBaysApi(): Promise<KubeApiStandin> {
  const dir = mkdtempSync(join(tmpdir(), "bf-health-e2e-"));
  try {
    const key = execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], { encoding: "utf8" });
    execFileSync("bash", ["-c", `umask 077; cat > ${join(dir, "key.pem")}`], { input: key });
    const csr = execFileSync("openssl", ["req", "-new", "-key", join(dir, "key.pem"), "-subj", "/CN=kube-apiserver", "-addext", "subjectAltName=IP:127.0.0.1"], { encoding: "utf8" });
    const signed = await api(bf.url, "POST", "/v1/certificates", { cluster_uuid: id, csr }, LATEST);
    assert.equal(signed.status, 201, JSON.stringify(signed.json));
    const ca = await api(bf.url, "GET", `/v1/certificates/${id}`, undefined, LATEST);
    assert.equal(ca.status, 200);
    return await startKubeApiStandin({
      ca: ca.json.pem,
      cert: signed.json.pem,
      key: readFileSync(join(dir, "key.pem"), "utf8"),
      listen: { port: 0 },
      handle: (c) => {
        const path = c.path.split("?")[0];
        if (path === "/readyz") return { status: 0, raw: (res) => res.writeHead(200, { "content-type": "text/plain" }).end("ok") };
        if (path === "/version") return { status: 200, body: { major: "1", minor: "34", gitVersion: KUBE_TAG } };
        if (path === "/api/v1/nodes") return { status: 200, body: { kind: "NodeList", metadata: {}, items: nodes.map((n) => ({ metadata: { name: n.name }, status: { conditions: [{ type: "Ready", status: n.ready }] } })) } };
        return { status: 404, body: {} };
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Points the bay's api_address at `url` in Bayforge's table (the dev cloud's API address leads nowhere). */
async function pointApiAt(url: string) {
  for (;;) {
    const bay = (await stores.table.getBay(id))!;
    try {
      await stores.table.updateBay({ ...bay, api_address: url, version: bay.version + 1 }, bay.version);
      return;
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e; // a health check wrote meanwhile: read again
    }
  }
}

describe("health_status and coe_version of a cluster on the real Heat", () => {
  it("shows coe_version, the release of the template's kube_tag, once the cluster is complete", async () => {
    const c = await eventually("coe_version set", async () => {
      const now = await show();
      return now.coe_version ? now : undefined;
    }, 120_000, 500);
    assert.equal(c.coe_version, KUBE_TAG);
    assert.equal(c.container_version, null);
  });

  it("is UNKNOWN, saying why, while nothing answers at the cluster's API address", async () => {
    const c = await healthBecomes("UNKNOWN", "UNKNOWN for an API address nothing answers at");
    assert.match(c.health_status_reason.api, new RegExp(`^The cluster ${name} is not accessible: the Kubernetes API at https://[\\d.]+:6443 `));
    assert.deepEqual(Object.keys(c.health_status_reason), ["api"]);
  });

  it("turns HEALTHY with Magnum's reason once the cluster's API answers ready and its nodes are Ready", async () => {
    kube = await startBaysApi();
    await pointApiAt(kube.url!);
    const c = await healthBecomes("HEALTHY", "HEALTHY once the API answers");
    assert.deepEqual(c.health_status_reason, { "placeholder-master-0.Ready": "True", "placeholder-minion-0.Ready": "True", api: "ok" });
    assert.equal(c.coe_version, KUBE_TAG);
    assert.ok(kube.calls.every((x) => x.client === "CN=admin, O=system:masters"), "Bayforge's client certificate for the bay");
    // the list view shows it too (`openstack coe cluster list` has the column)
    const list = await api(bf.url, "GET", "/v1/clusters", undefined, LATEST);
    assert.equal(list.json.clusters.find((x: { uuid: string }) => x.uuid === id).health_status, "HEALTHY");
  });

  it("turns UNHEALTHY naming the node that is not Ready", async () => {
    nodes[1].ready = "False";
    const c = await healthBecomes("UNHEALTHY", "UNHEALTHY with a node NotReady");
    assert.deepEqual(c.health_status_reason, { "placeholder-minion-0.Ready": "False", "placeholder-master-0.Ready": "True", api: "ok" });
  });

  it("turns UNKNOWN with the reason when the API stops answering", async () => {
    await kube!.close();
    kube = undefined;
    const c = await healthBecomes("UNKNOWN", "UNKNOWN once the API is gone");
    assert.match(c.health_status_reason.api, new RegExp(`^The cluster ${name} is not accessible: the Kubernetes API at https://127\\.0\\.0\\.1:\\d+ could not be reached \\(ECONNREFUSED\\)$`));
  });
});
