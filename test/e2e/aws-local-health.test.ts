// The health check on `npm run aws-local` (the Lambda bundles, SQS on fauxqs, DynamoDB on
// dynalite, the sweeper on its schedule) against the dev cloud: the sweeper function sends
// bay.health through SQS, the worker function checks the bay's API (on the light profile an
// address nothing answers at) and stores the verdict, the reason map and coe_version in
// DynamoDB; the cluster then shows UNKNOWN with the reason, and the template's kube_tag.
// The HEALTHY and UNHEALTHY verdicts are test/e2e/health-status.test.ts's (the embedded default).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, waitForBay } from "../support/bayforge-process.ts";
import { startAwsLocal, type AwsLocalProcess } from "../support/aws-local-process.ts";
import { deleteStacks, demoCloud } from "../support/heat-check.ts";
import { eventually } from "../support/eventually.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `awsh${Date.now().toString(36)}`;
const LATEST = { "OpenStack-API-Version": "container-infra latest" };

let aws: AwsLocalProcess;
let os: OpenStack;
let id: string;

before(async () => {
  os = demoCloud();
  aws = await startAwsLocal({ env: { BAYFORGE_POLL_DELAYS: "2,2,2,3", BAYFORGE_AWS_LOCAL_SWEEP_SECONDS: "3", BAYFORGE_HEALTH_INTERVAL_SECONDS: "3" } });
  const t = await api(aws.url, "POST", "/v1/clustertemplates", { name: `${RUN}-tpl`, coe: "kubernetes", image_id: "fedora-atomic", external_network_id: "public", keypair_id: null, flavor_id: "m1.small", labels: { kube_tag: "v1.33.5" } }, LATEST);
  assert.equal(t.status, 201, JSON.stringify(t.json));
  const c = await api(aws.url, "POST", "/v1/clusters", { name: `${RUN}-c`, cluster_template_id: `${RUN}-tpl`, keypair: "demo-key", node_count: 1, master_count: 1, create_timeout: 20 }, LATEST);
  assert.equal(c.status, 202, JSON.stringify(c.json));
  id = c.json.uuid;
  assert.equal((await waitForBay(aws.url, id, 180_000)).status, "CREATE_COMPLETE");
});

after(async () => {
  await aws?.kill("SIGTERM");
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

describe("health on aws-local (the Lambda bundles)", () => {
  it("the sweeper function's check, run by the worker function, shows UNKNOWN with the reason and coe_version from DynamoDB", async () => {
    const c = await eventually("a health status", async () => {
      const r = await api(aws.url, "GET", `/v1/clusters/${id}`, undefined, LATEST);
      return r.json.health_status ? r.json : undefined;
    }, 180_000, 1_000);
    assert.equal(c.health_status, "UNKNOWN");
    assert.match(c.health_status_reason.api, new RegExp(`^The cluster ${RUN}-c is not accessible: the Kubernetes API at https://[\\d.]+:6443 `));
    assert.equal(c.coe_version, "v1.33.5");
    const list = await api(aws.url, "GET", "/v1/clusters", undefined, LATEST);
    assert.equal(list.json.clusters.find((x: { uuid: string }) => x.uuid === id).health_status, "UNKNOWN");
  });
});
