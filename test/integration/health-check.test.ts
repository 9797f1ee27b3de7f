// The periodic health check (issue 13, "Health and versions"): the worker asks a finished bay's
// API for /readyz and its nodes' Ready condition with the client certificate Bayforge holds for
// the bay, and the bay shows HEALTHY, UNHEALTHY or UNKNOWN with Magnum's reason map; the
// sweeper sends the checks that are due, a bounded number a sweep. No real cluster runs here:
// the API is an HTTPS stand-in (test/support/kube-api-standin.ts) that verifies the client
// certificate against the bay's CA. The bay, its certificates and the queue are the real
// embedded stores, its client key in the real local key vault, the client the real adapter.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { generateBayCertificates } from "../../shared/certs/bay-ca.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import { checkHealth } from "../../functions/worker/steps/check-health.ts";
import { enqueueHealthChecks } from "../../functions/worker/sweeper.ts";
import { handleDeadLetter, handleMessage, parseMessage } from "../../functions/worker/handle-message.ts";
import { standinServingCertificate, startKubeApiStandin, type KubeAnswer, type KubeApiStandin, type KubeCall } from "../support/kube-api-standin.ts";
import { stepDeps, storeBayCerts, storedBay } from "../support/worker-deps.ts";

let dir: string;
let stores: LocalStores;
let vault: LocalKeyVault;
let certs: Awaited<ReturnType<typeof generateBayCertificates>>;
let serverCert: string;
let serverKey: string;
let clock = Date.parse("2026-12-06T12:00:00Z");

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-health-"));
  stores = openLocalStores(dir);
  vault = await LocalKeyVault.forDataDir(dir, {});
  certs = await generateBayCertificates({ bayUuid: "4e0c1f2a-0000-4000-8000-000000000013", bayName: "health" });
  ({ cert: serverCert, key: serverKey } = standinServingCertificate(certs));
});
after(async () => {
  await stores?.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** A finished bay on the real table, with its certificates stored as the worker stores them. */
async function bayAt(apiAddress: string | null, patch: Partial<Bay> = {}): Promise<Bay> {
  const bay = await storedBay(stores.table, `health-${++n}`, { status: "CREATE_COMPLETE", api_address: apiAddress, stack_id: "s-1", ...patch }, new Date(clock));
  await storeBayCerts(stores.table, vault, bay.uuid, certs, new Date(clock));
  return bay;
}

const deps = (extra: Partial<WorkerDeps> = {}): WorkerDeps =>
  stepDeps({ table: stores.table, queue: stores.queue, vault, now: () => new Date(clock), health: { intervalSeconds: 60, perSweep: 100, connectTimeoutMs: 1_000, budgetMs: 3_000 }, ...extra });
const check = async (bay: Bay, d = deps()) => {
  await checkHealth({ v: 1, kind: "bay.health", bayId: bay.uuid, projectId: bay.project_id, requestId: "r", attempt: 0 }, d);
  clock += 61_000; // the next check is due
  return (await stores.table.getBay(bay.uuid))!;
};

const node = (name: string, ready: string | undefined) => ({ metadata: { name }, status: { conditions: ready === undefined ? [] : [{ type: "MemoryPressure", status: "False" }, { type: "Ready", status: ready }] } });

/** A cluster the stand-in serves: /readyz, /version and a node list, as the test sets them. */
function cluster() {
  const state = {
    readyz: { status: 200, text: "ok" },
    version: "v1.35.8",
    nodes: [node("k-master-0", "True"), node("k-minion-0", "True")] as unknown[],
  };
  let handle = (c: KubeCall): KubeAnswer | Promise<KubeAnswer> => {
    const path = c.path.split("?")[0];
    if (path === "/readyz") return { status: 0, raw: (res) => res.writeHead(state.readyz.status, { "content-type": "text/plain" }).end(state.readyz.text) };
    if (path === "/version") return { status: 200, body: { major: "1", minor: "35", gitVersion: state.version } };
    if (path === "/api/v1/nodes") return { status: 200, body: { kind: "NodeList", metadata: {}, items: state.nodes } };
    return { status: 404, body: {} };
  };
  return { state, get handle() { return handle; }, set handle(h) { handle = h; } };
}

describe("the health check of one bay (stand-in Kubernetes API)", () => {
  let kube: KubeApiStandin;
  let c: ReturnType<typeof cluster>;
  beforeEach(async () => {
    await kube?.close();
    c = cluster();
    kube = await startKubeApiStandin({ ca: certs.caCertPem, cert: serverCert, key: serverKey, listen: { port: 0 }, handle: (call) => c.handle(call) });
  });
  after(() => kube?.close());

  it("is HEALTHY with Magnum's reason when /readyz is ok and every node is Ready, asked with Bayforge's client certificate", async () => {
    const bay = await check(await bayAt(kube.url!));
    assert.equal(bay.health_status, "HEALTHY");
    assert.deepEqual(bay.health_status_reason, { "k-master-0.Ready": "True", "k-minion-0.Ready": "True", api: "ok" });
    assert.equal(bay.coe_version, "v1.35.8");
    assert.deepEqual(kube.calls.map((x) => `${x.method} ${x.path.split("?")[0]}`), ["GET /readyz", "GET /api/v1/nodes", "GET /version"]);
    assert.ok(kube.calls.every((x) => x.client === "CN=admin, O=system:masters"), kube.calls.map((x) => x.client).join("; "));
  });

  it("is UNHEALTHY naming the node that is not Ready, and HEALTHY again once it is", async () => {
    let bay = await check(await bayAt(kube.url!));
    c.state.nodes[1] = node("k-minion-0", "Unknown");
    bay = await check(bay);
    assert.equal(bay.health_status, "UNHEALTHY");
    assert.deepEqual(bay.health_status_reason, { "k-minion-0.Ready": "False", "k-master-0.Ready": "True", api: "ok" });
    c.state.nodes[1] = node("k-minion-0", "True");
    assert.equal((await check(bay)).health_status, "HEALTHY");
  });

  it("is UNHEALTHY with the API's words when /readyz answers not ready", async () => {
    c.state.readyz = { status: 500, text: "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n" };
    const bay = await check(await bayAt(kube.url!));
    assert.equal(bay.health_status, "UNHEALTHY");
    assert.equal(bay.health_status_reason!.api, "[+]ping ok [-]etcd failed: reason withheld readyz check failed");
  });

  it("is UNKNOWN with the reason when the API is gone, and keeps coe_version from the bay's kube_tag", async () => {
    const bay = await bayAt(kube.url!);
    await kube.close();
    const after = await check(bay);
    assert.equal(after.health_status, "UNKNOWN");
    assert.match(after.health_status_reason!.api, new RegExp(`^The cluster ${bay.name} is not accessible: the Kubernetes API at https://127\\.0\\.0\\.1:\\d+ could not be reached \\(ECONNREFUSED\\)$`));
    assert.match(after.coe_version!, /^v\d+\.\d+\.\d+$/, "the template's default release");
  });

  it("is UNKNOWN when the API does not answer within the check's budget (and the check ends)", async () => {
    c.handle = () => new Promise(() => {}); // accepts, never answers
    const started = Date.now();
    const bay = await check(await bayAt(kube.url!), deps({ health: { intervalSeconds: 60, perSweep: 1, connectTimeoutMs: 500, budgetMs: 1_000 } }));
    assert.equal(bay.health_status, "UNKNOWN");
    assert.match(bay.health_status_reason!.api, /not accessible: the Kubernetes API at \S+ (did not answer within 1 s|could not be reached \(TIMEOUT\))$/);
    assert.ok(Date.now() - started < 30_000, "bounded");
  });

  it("is UNKNOWN, without a call, for a bay without an API address", async () => {
    const bay = await check(await bayAt(null, { status: "CREATE_FAILED" }));
    assert.deepEqual([bay.health_status, bay.health_status_reason], ["UNKNOWN", { api: `The cluster ${bay.name} is not accessible: it has no Kubernetes API address` }]);
    assert.equal(kube.calls.length, 0);
  });

  it("leaves a bay alone that an operation started on, and one that is gone", async () => {
    const bay = await bayAt(kube.url!, { status: "UPDATE_IN_PROGRESS" });
    const after = await check(bay);
    assert.equal(after.version, bay.version, "not written");
    assert.equal(after.health_status, undefined);
    await checkHealth({ v: 1, kind: "bay.health", bayId: "no-such-bay", projectId: "p", requestId: "r", attempt: 0 }, deps());
    assert.equal(kube.calls.length, 0);
  });

  it("drops its verdict when the bay's API moved during the check, and a duplicate right after a check is a no-op", async () => {
    const bay = await bayAt(kube.url!);
    c.handle = async (call) => {
      if (call.path === "/readyz") {
        const cur = (await stores.table.getBay(bay.uuid))!;
        await stores.table.updateBay({ ...cur, api_address: "https://127.0.0.1:1", version: cur.version + 1 }, cur.version);
      }
      return cluster().handle(call);
    };
    const after = await check(bay);
    assert.equal(after.health_status, undefined, "the answer was about the old address");
    c.handle = cluster().handle;
    const fresh = await bayAt(kube.url!);
    const d = deps();
    await checkHealth({ v: 1, kind: "bay.health", bayId: fresh.uuid, projectId: "p", requestId: "r", attempt: 0 }, d);
    const calls = kube.calls.length;
    await checkHealth({ v: 1, kind: "bay.health", bayId: fresh.uuid, projectId: "p", requestId: "r", attempt: 0 }, d);
    assert.equal(kube.calls.length, calls, "the second message found it just checked");
  });

  it("moves updated_at only when what users see changed", async () => {
    const first = await check(await bayAt(kube.url!));
    const again = await check(first);
    assert.equal(again.updated_at, first.updated_at);
    assert.ok(again.health_checked_at! > first.health_checked_at!);
  });

  it("is routed by the worker, never retried nor dead-lettered into a failed bay", async () => {
    const bay = await bayAt(kube.url!);
    const msg = parseMessage({ v: 1, kind: "bay.health", bayId: bay.uuid, projectId: bay.project_id, requestId: "r", attempt: 0 });
    await handleMessage(msg, deps({ table: Object.assign(Object.create(stores.table), { getBay: async () => Promise.reject(Object.assign(new Error("table down"), { code: "ECONNRESET" })) }) }));
    await handleDeadLetter(msg, 5, deps());
    const stored = (await stores.table.getBay(bay.uuid))!;
    assert.equal(stored.status, "CREATE_COMPLETE");
    await handleMessage(msg, deps());
    assert.equal((await stores.table.getBay(bay.uuid))!.health_status, "HEALTHY");
  });
});

describe("the sweeper's health checks", () => {
  /** Every message in the queue, taken off it. */
  async function drain() {
    const out = [];
    for (let got = await stores.queue.receive(10, 60); got.length; got = await stores.queue.receive(10, 60))
      for (const m of got) {
        out.push(m.body);
        await stores.queue.delete(m.receipt);
      }
    return out;
  }
  beforeEach(async () => {
    await drain();
    // earlier cases' bays are not this suite's: move them out of the checked statuses
    for (const b of await stores.table.listBays({})) await stores.table.updateBay({ ...b, status: "DELETE_IN_PROGRESS", version: b.version + 1 }, b.version);
  });

  it("sends bay.health for finished bays that are due, the longest unchecked first, at most perSweep, never for a bay in progress", async () => {
    const never = await bayAt(null);
    const old = await bayAt(null, { health_checked_at: new Date(clock - 600_000).toISOString() });
    const recent = await bayAt(null, { health_checked_at: new Date(clock - 10_000).toISOString() });
    const older = await bayAt(null, { status: "UPDATE_FAILED", health_checked_at: new Date(clock - 900_000).toISOString() });
    await bayAt(null, { status: "UPDATE_IN_PROGRESS" });
    const d = deps({ health: { intervalSeconds: 60, perSweep: 2 } });
    assert.equal(await enqueueHealthChecks(d), 2);
    assert.deepEqual((await drain()).map((m) => [m.kind, m.bayId]), [["bay.health", never.uuid], ["bay.health", older.uuid]]);
    assert.equal(await enqueueHealthChecks(deps()), 3, "with a larger bound: every due bay");
    assert.deepEqual((await drain()).map((m) => m.bayId), [never.uuid, older.uuid, old.uuid]);
    assert.ok(recent, "checked 10 s ago: not due");
  });

  it("does not send a second check for a bay whose check is still in the queue, and none when off", async () => {
    const bay = await bayAt(null);
    assert.equal(await enqueueHealthChecks(deps()), 1);
    assert.equal(await enqueueHealthChecks(deps()), 0, "its message is still queued");
    assert.deepEqual((await drain()).map((m) => m.bayId), [bay.uuid]);
    assert.equal(await enqueueHealthChecks(deps({ health: { intervalSeconds: 0, perSweep: 10 } })), 0);
  });
});

describe("a health check's write and a user's operation on the same bay", () => {
  it("an operation planned before a check wrote the bay still starts (no 409); a real change in between is still a 409", async () => {
    const { scaleBay } = await import("../../shared/bays/operate.ts");
    const { createLogger } = await import("../../shared/observability/logger.ts");
    const opsDeps = { table: stores.table, queue: stores.queue, vault: undefined as never, log: createLogger({}, "error"), defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5 };
    const caller = { projectId: "p", userId: "u", isAdmin: false };
    const read = await storedBay(stores.table, "raced", { status: "CREATE_COMPLETE", stack_id: "s", trust_id: "t", node_count: 1 });
    // a check writes between the user's read and the user's write
    await stores.table.updateBay({ ...read, health_status: "HEALTHY", health_status_reason: { api: "ok" }, health_checked_at: new Date().toISOString(), coe_version: "v1.35.8", version: read.version + 1 }, read.version);
    const { bay } = await scaleBay(opsDeps, caller, read, { node_count: 2, nodes_to_remove: [] }, "req-raced");
    assert.equal(bay.status, "UPDATE_IN_PROGRESS");
    assert.equal(bay.node_count, 2);
    assert.equal(bay.health_status, "HEALTHY", "the check's write is kept");

    const other = await storedBay(stores.table, "changed", { status: "CREATE_COMPLETE", stack_id: "s", trust_id: "t", node_count: 1 });
    await stores.table.updateBay({ ...other, node_count: 3, version: other.version + 1 }, other.version);
    await assert.rejects(scaleBay(opsDeps, caller, other, { node_count: 2, nodes_to_remove: [] }, "req-changed"), (e: Error & { status?: number }) => e.status === 409 && /changed while it was being updated/.test(e.message));
  });
});
