// A batch manifest on `npm run aws-local` against the dev cloud (keystone, the demo user): the
// api function stores the batch, the worker function (on the SQS event source) fans it out
// and builds every bay; each bay is created once (one stack per bay in Heat), and the worker
// function never runs more instances at once than the stack allows (its event source
// mapping's MaximumConcurrency, and its reserved concurrency when it has one), read from the
// synthesized template. BAYFORGE_TEST_BATCH_BAYS=200 applies the 200 bays (10 by
// default, as test/e2e/batch-apply.test.ts). The stack lets 2 worker instances run at once, each
// running its batch of 4 records together: 8 Heat operations at once, the embedded default's
// (infra/aws/stack.ts HEAT_STEPS_AT_ONCE). At 10 × 8 = 80 the light dev cloud's one Heat engine
// on 2 cores fell behind with 200 bays (its API answered 500 "No reply on topic engine").
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dump } from "js-yaml";
import { api, ROOT, userToken } from "../support/bayforge-process.ts";
import { startAwsLocal, type AwsLocalProcess } from "../support/aws-local-process.ts";
import { deleteStacks, demoCloud, stacksNamed } from "../support/heat-check.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const BAYS = Number(process.env.BAYFORGE_TEST_BATCH_BAYS) || 10;
const TIMEOUT_MS = Math.max(6, BAYS / 5) * 60_000;
const RUN = `awb${Date.now().toString(36)}`;

let aws: AwsLocalProcess;
let os: OpenStack;

const manifest = {
  baymodels: [{ name: `${RUN}-model`, coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium" }],
  bays: Array.from({ length: BAYS }, (_, i) => ({ name: `${RUN}-${i}`, baymodel: `${RUN}-model`, node_count: 1, bay_create_timeout: 30 })),
};

/** The worker function's concurrency limit in the synthesized template: its SQS mapping's MaximumConcurrency, and its reserved concurrency. */
function workerLimitFromTemplate(): number {
  const t = JSON.parse(readFileSync(join(ROOT, "cdk.out", "Bayforge.template.json"), "utf8"));
  const [workerId, worker] = Object.entries<any>(t.Resources).find(([, r]) => r.Type === "AWS::Lambda::Function" && /^Bayforge worker:/.test(r.Properties.Description))!;
  const mapping = Object.values<any>(t.Resources).find((r) => r.Type === "AWS::Lambda::EventSourceMapping" && r.Properties.FunctionName?.Ref === workerId);
  const limits = [mapping?.Properties.ScalingConfig?.MaximumConcurrency, worker.Properties.ReservedConcurrentExecutions].filter((n) => typeof n === "number");
  assert.ok(limits.length, "the stack sets a concurrency limit for the worker");
  return Math.min(...limits);
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const v = await f().catch((e) => ((last = e), undefined));
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${String(last ?? "")})`);
    await new Promise((r) => setTimeout(r, 3000));
  }
}

before(async () => {
  os = demoCloud();
  aws = await startAwsLocal({ env: { BAYFORGE_POLL_DELAYS: "3,2,2,3,5", BAYFORGE_MAX_CLUSTERS_PER_PROJECT: "-1" } });
});

after(async () => {
  if (aws) {
    for (const b of manifest.bays) await api(aws.url, "DELETE", `/v1/bays/${b.name}`).catch(() => {});
    await until("bays deleted", async () => ((await api(aws.url, "GET", "/v1/bays")).json?.bays ?? []).every((b: any) => !b.name.startsWith(RUN)) || undefined, 300_000).catch(() => {});
    await aws.kill("SIGTERM");
  }
  if (os) {
    await deleteStacks(os, RUN).catch(() => {});
    await os.close();
  }
});

describe(`a batch of ${BAYS} bays on aws-local`, () => {
  it("every bay is created once, and the worker function's concurrency stays within the stack's settings", { timeout: TIMEOUT_MS + 60_000 }, async () => {
    const limit = workerLimitFromTemplate();
    const r = await fetch(`${aws.url}/v1/batches`, { method: "POST", headers: { "content-type": "application/yaml", "x-auth-token": await userToken() }, body: dump(manifest) });
    const body = (await r.json()) as any;
    assert.equal(r.status, 202, JSON.stringify(body));
    const done = await until(
      `${BAYS} bays complete`,
      async () => {
        const g = await api(aws.url, "GET", `/v1/batches/${body.uuid}`);
        if (g.json.summary.failed) throw new Error(`failed: ${JSON.stringify(g.json.bays.filter((b: any) => String(b.status).endsWith("FAILED")).slice(0, 3))}`);
        return g.json.done ? g.json : undefined;
      },
      TIMEOUT_MS,
    );
    assert.equal(done.summary.complete, BAYS, JSON.stringify(done.summary));
    assert.equal(done.summary.create, BAYS);
    const stacks = await stacksNamed(os, `${RUN}-`);
    const perBay = new Map<string, number>();
    for (const s of stacks) {
      const bay = s.stack_name.replace(/-[a-z2-7]{12}$/, "");
      perBay.set(bay, (perBay.get(bay) ?? 0) + 1);
    }
    assert.equal(perBay.size, BAYS, "a stack for every bay");
    assert.deepEqual([...perBay].filter(([, n]) => n !== 1), [], "exactly one stack per bay");

    const worker = Object.values((await aws.status()).functions).find((f) => /WorkerFunction/.test(f.name))!;
    console.log(`# worker function: peak ${worker.peak} concurrent instances (limit ${limit}), ${worker.started} started`);
    assert.ok(worker.peak >= 1 && worker.peak <= limit, `peak ${worker.peak} within ${limit}`);
  });
});
