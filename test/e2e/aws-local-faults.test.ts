// Faults on `npm run aws-local` against the dev cloud (the worker's Heat behind a fault proxy):
//   - the whole aws-local process group SIGKILLed while 10 bays are in flight, then started
//     again on the same data dir: every bay ends CREATE_COMPLETE with exactly one stack;
//   - every message delivered twice (BAYFORGE_AWS_LOCAL_DELIVER_TWICE=1, from the restart on):
//     still one stack per bay;
//   - a step that always fails (for one bay, Heat's create answers 409 and the lookup that
//     follows is redirected nowhere, so the step throws every time): after the
//     queue's maxReceiveCount the message reaches the DLQ, whose function fails the bay with
//     the reason, and Heat never made a stack for it.
// A short visibility timeout (10 s instead of the template's 720) keeps the dead-lettering
// within a minute: a test knob of aws-local, like the others here.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CORE_SCHEMA, dump, load } from "js-yaml";
import { api, freePort } from "../support/bayforge-process.ts";
import { startAwsLocal, type AwsLocalProcess } from "../support/aws-local-process.ts";
import { cloudsYamlPath } from "../support/devcloud.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { deleteStacks, demoCloud, stacksNamed } from "../support/heat-check.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `awf${Date.now().toString(36)}`;
const MODEL = { coe: "kubernetes", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", image_id: "fedora-atomic" };
const BROKEN = `${RUN}-broken`;
const WAIT_MS = 480_000;

let os: OpenStack;
let heatProxy: FaultProxy;
let aws: AwsLocalProcess | undefined;
let dataDir: string;
let port: number;
let env: Record<string, string>;

/** True when a Heat request is about `bayName`'s stack (its name in the path, or in a create's body). */
const aboutBay = (path: string, body: string, bayName: string) => {
  const stack = new RegExp(`^${bayName}-[a-z2-7]{12}$`);
  const inPath = /\/stacks\/([^/?]+)/.exec(path)?.[1];
  if (inPath && stack.test(decodeURIComponent(inPath))) return true;
  const named = /"stack_name":"([^"]+)"/.exec(body)?.[1];
  return !!named && stack.test(named);
};

const bayStatus = async (id: string) => (await api(aws!.url, "GET", `/v1/bays/${id}`)).json;

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = WAIT_MS): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s\n${aws?.logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** Each named bay CREATE_COMPLETE, and exactly one live stack per bay in the demo project. */
async function expectCompleteWithOneStack(bays: Array<{ name: string; uuid: string }>) {
  for (const b of bays) {
    const bay = await until(`${b.name} complete`, async () => {
      const s = await bayStatus(b.uuid);
      return !String(s?.status).endsWith("_IN_PROGRESS") && s;
    });
    assert.equal(bay.status, "CREATE_COMPLETE", `${b.name}: ${bay.status_reason}`);
  }
  for (const b of bays) {
    const stacks = (await stacksNamed(os, `${b.name}-`)).filter((s) => s.stack_status !== "DELETE_COMPLETE");
    assert.equal(stacks.length, 1, `${b.name}: ${stacks.map((s) => s.stack_name)}`);
  }
}

async function createBays(prefix: string, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = await api(aws!.url, "POST", "/v1/bays", { name: `${prefix}${i}`, baymodel_id: `${RUN}-model`, node_count: 1 });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    out.push({ name: `${prefix}${i}`, uuid: r.json.uuid as string });
  }
  return out;
}

before(async () => {
  os = demoCloud();
  heatProxy = await startFaultProxy(new URL(await os.heat.endpoint()).origin);
  // the broken bay: its create "conflicts", and the lookup that follows is redirected nowhere
  // (a 302 without Location), every time: the step throws, as on a cloud answering nonsense
  heatProxy.rule = (m, path, body) =>
    !aboutBay(path, body, BROKEN) ? "forward" : m === "POST" ? { status: 409, body: '{"code": 409, "title": "Conflict", "explanation": "stack exists"}' } : { status: 302, body: "" };
  dataDir = mkdtempSync(join(tmpdir(), "bf-awslocal-faults-"));
  const doc = load(readFileSync(cloudsYamlPath(), "utf8"), { schema: CORE_SCHEMA }) as { clouds: Record<string, Record<string, any>> };
  doc.clouds["devcloud-bayforge"].orchestration_endpoint_override = `${heatProxy.url}/v1/%(project_id)s`;
  const clouds = join(dataDir, "clouds-proxied.yaml");
  writeFileSync(clouds, dump(doc));
  port = await freePort();
  env = { OS_CLIENT_CONFIG_FILE: clouds, BAYFORGE_POLL_DELAYS: "2,2,2,3", BAYFORGE_AWS_LOCAL_VISIBILITY_SECONDS: "10", BAYFORGE_AWS_LOCAL_SWEEP_SECONDS: "15" };
  aws = await startAwsLocal({ dataDir, port, env });
  assert.equal((await api(aws.url, "POST", "/v1/baymodels", { ...MODEL, name: `${RUN}-model` })).status, 201);
});

after(async () => {
  await aws?.kill("SIGTERM");
  await heatProxy?.close();
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

describe("faults on aws-local", () => {
  it("SIGKILL of the whole aws-local while 10 bays are in flight, then a restart: every bay completes with exactly one stack", async () => {
    const bays = await createBays(`${RUN}-k`, 10);
    // in flight: some stacks asked of Heat, not every bay done
    await until("three stacks requested", async () => (await stacksNamed(os, `${RUN}-k`)).length >= 3, 120_000);
    const statuses = await Promise.all(bays.map(async (b) => (await bayStatus(b.uuid)).status));
    assert.ok(statuses.some((s) => s === "CREATE_IN_PROGRESS"), `some bay still in flight: ${statuses}`);
    await aws!.kill("SIGKILL");
    // started again on the same data dir and port; from now on every message is delivered twice
    aws = await startAwsLocal({ dataDir, port, env: { ...env, BAYFORGE_AWS_LOCAL_DELIVER_TWICE: "1" } });
    await expectCompleteWithOneStack(bays);
  });

  it("every message delivered twice: new bays still get exactly one stack each", async () => {
    const bays = await createBays(`${RUN}-d`, 3);
    await expectCompleteWithOneStack(bays);
    const work = (await aws!.status()).mappings.find((m) => /WorkQueue/.test(m.queue))!;
    assert.ok(work.copies >= 3, `messages were delivered twice (${work.copies} copies)`);
  });

  it("a step that always fails: its bay is failed by the dead-letter function, with the reason, and no stack is left", async () => {
    const r = await api(aws!.url, "POST", "/v1/bays", { name: BROKEN, baymodel_id: `${RUN}-model`, node_count: 1 });
    assert.equal(r.status, 201);
    const bay = await until("the broken bay failed", async () => {
      const s = await bayStatus(r.json.uuid);
      return s?.status === "CREATE_FAILED" && s;
    });
    assert.match(bay.status_reason, /could not process bay\.create for this bay after 5 deliveries/);
    assert.ok(heatProxy.seen.some((s) => s.verdict !== "forward"), "Heat's answers for it were replaced");
    assert.equal((await stacksNamed(os, `${BROKEN}-`)).length, 0);
    const dlq = (await aws!.status()).mappings.find((m) => /DeadLetter/.test(m.queue))!;
    assert.ok(dlq.invocations >= 1, "the dead-letter function was invoked");
  });
});
