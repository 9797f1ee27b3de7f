// A delete whose request was retried after a lost answer: Heat (convergence) marks the running
// delete DELETE_FAILED "Stack DELETE cancelled" and starts the new one seconds later. The bay
// must not be reported DELETE_FAILED in that window (CI saw exactly that under the fault proxy).
// Stand-in Heat replaying the statuses, because the window cannot be hit on demand on the real
// one; the bay table is the real embedded store.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { acceptBay, parseBayRequest } from "../../shared/domain/bay.ts";
import { newBayModel } from "../../shared/domain/baymodel.ts";
import { kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";
import { pollBay } from "../../functions/worker/steps/poll-bay.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import type { Orchestrator, Stack } from "../../shared/ports/orchestrator.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";

const owner = { projectId: "p", userId: "u" };
let dir: string;
let stores: LocalStores;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-poll-cancel-"));
  stores = openLocalStores(dir);
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A Heat that answers getStack from a script of statuses (undefined = the stack is gone). */
function scriptedHeat(statuses: Array<[string, string] | undefined>) {
  const deletes: string[] = [];
  let i = 0;
  const heat: Orchestrator = {
    createStack: async () => assert.fail("no create expected"),
    findStack: async () => undefined,
    getStack: async (name, id) => {
      const s = statuses[Math.min(i++, statuses.length - 1)];
      if (!s) return undefined;
      return { id, stack_name: name, stack_status: s[0], stack_status_reason: s[1], timeout_mins: null, parameters: { number_of_minions: "1" }, outputs: [] } satisfies Stack;
    },
    deleteStack: async (_name, id) => void deletes.push(id),
    updateStack: async () => {},
    listResources: async () => [],
  };
  return { heat, deletes };
}

async function deletingBay(name: string) {
  const model = newBayModel({ name: `m-${name}`, coe: "kubernetes", image_id: "img", keypair_id: "k", external_network_id: "public" }, owner, new Date().toISOString());
  await stores.table.putBayModel(model);
  const bay = acceptBay(parseBayRequest({ name, baymodel_id: model.uuid }), model.uuid, owner, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now: new Date() });
  await stores.table.createBay(bay);
  return stores.table.updateBay({ ...bay, status: "DELETE_IN_PROGRESS", stack_id: `stack-${name}`, deadline_at: null, version: bay.version + 1 }, bay.version);
}

/** Runs the bay's poll chain the way the queue would, until no next poll is sent. */
async function pollToEnd(bayId: string, heat: Orchestrator) {
  const sent: WorkMessage[] = [];
  const deps: WorkerDeps = {
    table: stores.table,
    queue: { send: async (m) => void sent.push(m) },
    heatFor: () => heat,
    vault: {} as KeyVault,
    log: createLogger({}, "error"),
    template: () => kubeclusterTemplate(),
    definitionContext: async () => assert.fail("not used"),
    pollDelays: [1],
    retryDelays: [1],
    now: () => new Date(),
  };
  let msg: WorkMessage | undefined = { v: 1, kind: "bay.poll", bayId, projectId: "p", requestId: "r", attempt: 0, seq: 0 };
  let polls = 0;
  while (msg && polls < 20) {
    const before = sent.length;
    await pollBay(msg, deps);
    polls++;
    msg = sent.length > before ? sent[sent.length - 1] : undefined;
  }
  return { polls, bay: await stores.table.getBay(bayId) };
}

describe("delete poll over Heat's cancelled-delete window (stand-in Heat)", () => {
  it("a delete Heat cancelled for a newer one is not a failure: the bay goes on to be deleted", async () => {
    const bay = await deletingBay("superseded");
    const { heat, deletes } = scriptedHeat([["DELETE_FAILED", "Stack DELETE cancelled"], ["DELETE_IN_PROGRESS", "Stack DELETE started"], undefined]);
    const { bay: after } = await pollToEnd(bay.uuid, heat);
    assert.equal(after, undefined, "the bay is deleted");
    assert.equal(deletes.length, 0, "the newer delete was running: nothing sent again");
  });

  it("still cancelled a poll later: the delete is sent again, and the bay is deleted when Heat does it", async () => {
    const bay = await deletingBay("resent");
    const cancelled: [string, string] = ["DELETE_FAILED", "Stack DELETE cancelled"];
    const { heat, deletes } = scriptedHeat([cancelled, cancelled, ["DELETE_IN_PROGRESS", "Stack DELETE started"], undefined]);
    const { bay: after } = await pollToEnd(bay.uuid, heat);
    assert.equal(after, undefined);
    assert.deepEqual(deletes, [`stack-resent`]);
  });

  it("cancelled for good: a few deletes sent again, then DELETE_FAILED with Heat's reason, not polled forever", async () => {
    const bay = await deletingBay("stuck");
    const { heat, deletes } = scriptedHeat([["DELETE_FAILED", "Stack DELETE cancelled"]]);
    const { bay: after, polls } = await pollToEnd(bay.uuid, heat);
    assert.equal(after?.status, "DELETE_FAILED");
    assert.equal(after?.status_reason, "Stack DELETE cancelled");
    assert.equal(deletes.length, 3);
    assert.ok(polls <= 6, `${polls} polls`);
  });

  it("any other DELETE_FAILED ends the delete at once, with Heat's reason", async () => {
    const bay = await deletingBay("failed");
    const { heat, deletes } = scriptedHeat([["DELETE_FAILED", "Resource DELETE failed: Conflict: port in use"]]);
    const { bay: after, polls } = await pollToEnd(bay.uuid, heat);
    assert.equal(after?.status, "DELETE_FAILED");
    assert.match(after?.status_reason ?? "", /port in use/);
    assert.equal(polls, 1);
    assert.equal(deletes.length, 0);
  });
});
