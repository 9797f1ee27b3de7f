// At-least-once delivery and crashes never make a second CA or a second stack: the worker
// is killed (SIGKILL) at the step boundaries of bay.create and restarted, and the create
// message is delivered several times at once. A fault proxy between the worker and Heat
// holds or drops Heat calls so the kill lands exactly where the test wants it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load, dump, CORE_SCHEMA } from "js-yaml";
import { api, startBayforge, waitForBay, type BayforgeProcess } from "../support/bayforge-process.ts";
import { cloudsYamlPath } from "../support/devcloud.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { deleteStacks, demoCloud, stacksNamed } from "../support/heat-check.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import type { OpenStack } from "../../shared/adapters/openstack/index.ts";

const RUN = `idem${Date.now().toString(36)}`;
const FAST = { BAYFORGE_POLL_DELAYS: "3,2,2,3,5", BAYFORGE_VISIBILITY_SECONDS: "4", BAYFORGE_SWEEP_SECONDS: "600" };

let dataDir: string;
let apiProc: BayforgeProcess;
let proxy: FaultProxy;
let os: OpenStack;
let stores: LocalStores;
let proxiedClouds: string;
const workers: BayforgeProcess[] = [];

/** A clouds.yaml like the dev cloud's, whose Heat endpoint is the fault proxy. */
function writeProxiedClouds(dir: string, proxyUrl: string): string {
  const doc = load(readFileSync(cloudsYamlPath(), "utf8"), { schema: CORE_SCHEMA }) as { clouds: Record<string, Record<string, unknown>> };
  doc.clouds["devcloud-bayforge"].orchestration_endpoint_override = `${proxyUrl}/v1/%(project_id)s`;
  const file = join(dir, "clouds-proxied.yaml");
  writeFileSync(file, dump(doc));
  return file;
}

const startWorker = async () => {
  const w = await startBayforge({ dataDir, role: "worker", env: { ...FAST, OS_CLIENT_CONFIG_FILE: proxiedClouds } });
  workers.push(w);
  return w;
};

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function newBay(key: string): Promise<string> {
  const r = await api(apiProc.url, "POST", "/v1/bays", { name: `${RUN}-${key}`, baymodel_id: `${RUN}-model`, node_count: 1 });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.uuid;
}
const createPosts = () => proxy.seen.filter((s) => s.method === "POST" && /\/stacks$/.test(s.path)).length;

before(async () => {
  os = demoCloud();
  dataDir = mkdtempSync(join(tmpdir(), "bf-idem-"));
  const heat = new URL(await os.heat.endpoint());
  proxy = await startFaultProxy(heat.origin);
  proxiedClouds = writeProxiedClouds(dataDir, proxy.url);
  apiProc = await startBayforge({ dataDir, role: "api", env: FAST });
  stores = openLocalStores(dataDir);
  const r = await api(apiProc.url, "POST", "/v1/baymodels", { name: `${RUN}-model`, coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "k", external_network_id: "public" });
  assert.equal(r.status, 201);
});

after(async () => {
  for (const w of workers) await w.kill("SIGTERM");
  await apiProc?.kill("SIGTERM");
  await proxy?.close();
  await stores?.close();
  if (os) {
    await deleteStacks(os, RUN);
    await os.close();
  }
});

describe("bay.create survives crashes and duplicate delivery", () => {
  it("worker killed after the CA is stored, before Heat made the stack: one CA, one stack, bay completes", async () => {
    proxy.rule = (m, p) => (m === "POST" && /\/stacks$/.test(p) ? "hold" : "forward");
    const w1 = await startWorker();
    const id = await newBay("killed-before-stack");
    await until("the stack create call", () => createPosts() >= 1);
    const ca = (await stores.table.getCerts(id))?.ca_cert_pem;
    assert.ok(ca, "the CA was stored before the stack was asked for");
    await w1.kill("SIGKILL");
    assert.equal((await stacksNamed(os, `${RUN}-killed-before-stack-`)).length, 0, "Heat never got the create");

    proxy.rule = () => "forward";
    await startWorker();
    const bay = await waitForBay(apiProc.url, id, 180_000);
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    assert.equal((await stores.table.getCerts(id))?.ca_cert_pem, ca, "the same CA, not a second one");
    assert.equal((await stacksNamed(os, `${RUN}-killed-before-stack-`)).length, 1);
    await workers.pop()!.kill("SIGTERM");
  });

  it("worker killed after Heat made the stack, before it was recorded: the stack is found, not made twice", async () => {
    // The first create reaches Heat but its answer is lost; any later one is held. (The proxy
    // asks the rule before it records the request: the first create sees `posts` recorded.)
    const posts = createPosts();
    proxy.rule = (m, p) => (m === "POST" && /\/stacks$/.test(p) ? (createPosts() === posts ? "forward-then-drop" : "hold") : "forward");
    const w1 = await startWorker();
    const id = await newBay("killed-after-stack");
    await until("the stack in Heat", async () => (await stacksNamed(os, `${RUN}-killed-after-stack-`)).length === 1 || undefined);
    await w1.kill("SIGKILL");
    assert.equal((await stores.table.getBay(id))?.stack_id, null, "not recorded when the worker died");

    proxy.rule = () => "forward";
    await startWorker();
    const bay = await waitForBay(apiProc.url, id, 180_000);
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    const stacks = await stacksNamed(os, `${RUN}-killed-after-stack-`);
    assert.equal(stacks.length, 1);
    assert.equal(bay.stack_id, stacks[0].id);
    assert.equal(createPosts() - posts, 1, "the stack Heat made was found: no second create was sent");
    await workers.pop()!.kill("SIGTERM");
  });

  it("the create message delivered three times at once: one CA, one stack, bay completes", async () => {
    const id = await newBay("thrice");
    const msg = { v: 1 as const, kind: "bay.create" as const, bayId: id, projectId: "default", requestId: "req-dup", attempt: 0 };
    await stores.queue.send(msg);
    await stores.queue.send(msg);
    await startWorker();
    const bay = await waitForBay(apiProc.url, id, 180_000);
    assert.equal(bay.status, "CREATE_COMPLETE", bay.status_reason);
    assert.equal((await stacksNamed(os, `${RUN}-thrice-`)).length, 1, "one stack");
    const events = await stores.table.listEvents(id);
    assert.equal(events.filter((e) => e.kind === "certificates").length, 1, "one CA generated and kept");
    assert.equal(events.filter((e) => e.kind === "stack_requested").length, 1, "one stack recorded");
  });
});
