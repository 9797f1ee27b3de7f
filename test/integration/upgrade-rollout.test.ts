// Issue 15: the upgrade's rollout through the real pieces on the embedded table: the API's
// start (shared/bays/upgrade.ts), the worker's bay.upgrade step, and the agents' reads and
// reports (shared/bays/node-agent.ts, what the /v1/agent routes call once a request is
// verified). The queue is the test's: every message is delivered twice (at-least-once), and a
// worker is killed mid-look (its write never happens; the message comes back). The agents are
// simulated as the real one behaves: each command id runs once, its result re-reported.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import { upgradeCluster, rolloutNodes } from "../../shared/bays/upgrade.ts";
import { desiredState, reportNode } from "../../shared/bays/node-agent.ts";
import { driveUpgrade } from "../../functions/worker/steps/upgrade-rollout.ts";
import { stepDeps, storedBay } from "../support/worker-deps.ts";
import { newBayModel } from "../../shared/domain/baymodel.ts";

let dir: string;
let stores: LocalStores;
const log = createLogger({}, "error");

before(() => {
  dir = mkdtempSync(join(tmpdir(), "bf-upgrade-"));
  stores = openLocalStores(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function setup(name: string): Promise<{ bay: Bay; to: string }> {
  const owner = { projectId: "p", userId: "u" };
  const now = new Date().toISOString();
  const from = newBayModel({ name: `${name}-135`, coe: "kubernetes", image_id: "ubuntu-24.04", keypair_id: "k", external_network_id: "public", labels: { kube_tag: "v1.35.8" } }, owner, now);
  const to = newBayModel({ name: `${name}-136`, coe: "kubernetes", image_id: "ubuntu-24.04", keypair_id: "k", external_network_id: "public", labels: { kube_tag: "v1.36.2" } }, owner, now);
  await stores.table.putBayModel(from);
  await stores.table.putBayModel(to);
  const bay = await storedBay(stores.table, name, { status: "CREATE_COMPLETE", baymodel_id: from.uuid, node_count: 2, minions: { "0": "10.0.0.10", "1": "10.0.0.11" } });
  return { bay, to: to.uuid };
}

interface Run {
  status: string;
  reason: string | null;
  /** commands the agents ran, in order: "<node> <action>" */
  ran: string[];
  bay: Bay;
}

/**
 * Drives the rollout to its end: messages delivered twice each; the `kill`-th look dies before
 * its write (and is delivered again); agents act after every delivery, `failing` fails its upgrade.
 */
async function drive(bay: Bay, to: string, o: { failing?: string; kill?: number } = {}): Promise<Run> {
  const queue: WorkMessage[] = [];
  let table: BayTable = stores.table;
  const ops = { table, queue: { send: async (m: WorkMessage) => void queue.push(m) }, vault: undefined as never, log, defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5 };
  await upgradeCluster(ops, { projectId: "p", userId: "u", isAdmin: false }, bay, { cluster_template: to, max_batch_size: 1, nodegroup: null }, "req-up");
  const names = rolloutNodes(bay, null).map((n) => n.name);
  const done = new Map<string, { result: "succeeded" | "failed"; reason?: string }>();
  const ran: string[] = [];
  let looks = 0;
  const agents = async () => {
    for (const node of names) {
      const current = (await stores.table.getBay(bay.uuid))!;
      const want = desiredState(current, node);
      if (!want.command) continue;
      let r = done.get(want.command.id);
      if (!r) {
        ran.push(`${node} ${want.command.action}`);
        r = node === o.failing && want.command.action !== "uncordon" ? { result: "failed", reason: `${want.command.action} on ${node}: kubeadm exit 1` } : { result: "succeeded" };
        done.set(want.command.id, r);
      }
      const version = r.result === "succeeded" ? want.command.version : "v1.35.8";
      await reportNode({ table: stores.table, queue: ops.queue, log }, current, node, { command_id: want.command.id, result: r.result, version, reason: r.reason ?? null });
    }
  };
  for (let i = 0; i < 400 && queue.length; i++) {
    const msg = queue.shift()!;
    for (const delivery of [1, 2]) {
      looks++;
      const killed = looks === o.kill;
      // a killed worker: the look's write never lands (the process died); the queue redelivers
      table = killed
        ? new Proxy(stores.table, {
            get: (t, k) => (k === "updateBay" ? async () => Promise.reject(new Error("worker killed")) : typeof t[k as keyof BayTable] === "function" ? (t[k as keyof BayTable] as (...a: unknown[]) => unknown).bind(t) : t[k as keyof BayTable]),
          })
        : stores.table;
      const deps = stepDeps({ table, queue: { send: async (m) => void queue.push(m) }, log });
      await driveUpgrade(msg, deps).catch((e) => {
        if (!killed) throw e;
        queue.unshift(msg); // redelivered after the visibility timeout
      });
      if (killed) break;
      void delivery;
    }
    await agents();
  }
  const end = (await stores.table.getBay(bay.uuid))!;
  return { status: end.status, reason: end.status_reason, ran, bay: end };
}

describe("an upgrade's rollout, duplicate deliveries and a killed worker included", () => {
  it("ends UPDATE_COMPLETE on the new template and version, each node's command run once, in order", async () => {
    const { bay, to } = await setup("up-ok");
    const r = await drive(bay, to, { kill: 5 });
    assert.equal(r.status, "UPDATE_COMPLETE", r.reason ?? "");
    const [m, w0, w1] = rolloutNodes(bay, null).map((n) => n.name);
    assert.deepEqual(r.ran, [`${m} upgrade-apply`, `${w0} upgrade-node`, `${w0} uncordon`, `${w1} upgrade-node`, `${w1} uncordon`]);
    assert.equal(r.bay.baymodel_id, to);
    assert.equal(r.bay.coe_version, "v1.36.2");
    assert.ok(r.bay.upgrade!.nodes.every((n) => n.step === "done" && n.version === "v1.36.2"));
    const events = await stores.table.listEvents(bay.uuid);
    // no address for the API on this bay: the worker says it could not drain, each time, before the upgrade
    assert.equal(events.filter((e) => e.kind === "drain_skipped").length >= 2, true);
    assert.equal(events.filter((e) => e.kind === "upgrade_complete").length, 1, "completed once, whatever the duplicates");
  });

  it("stops at a failing worker: UPDATE_FAILED naming it, the next worker never told anything, the cluster on its old template", async () => {
    const { bay, to } = await setup("up-fail");
    const [m, w0, w1] = rolloutNodes(bay, null).map((n) => n.name);
    const r = await drive(bay, to, { failing: w0, kill: 3 });
    assert.equal(r.status, "UPDATE_FAILED");
    assert.match(r.reason!, new RegExp(`^Upgrade to v1\\.36\\.2 failed on node ${w0}: upgrade-node on ${w0}: kubeadm exit 1\\.`));
    assert.deepEqual(r.ran, [`${m} upgrade-apply`, `${w0} upgrade-node`]);
    assert.equal(r.bay.upgrade!.nodes.find((n) => n.name === w1)!.step, "pending");
    assert.equal(r.bay.baymodel_id, bay.baymodel_id);
    assert.equal(r.bay.coe_version ?? null, null);
    // a failed rollout gives no node a command any more
    for (const n of [m, w0, w1]) assert.equal(desiredState(r.bay, n).command, null, n);
    assert.ok(r.bay.upgrade!.finished_at);
  });
});
