// A Heat whose reads fail for longer than the retry budget while the stack goes on (CI saw
// Heat answer 500 "ResourcePropertiesData ... not found" for a stack mid-create for longer than
// 2+4+8 s): the poll of a create keeps trying until the bay's deadline, and the bay completes
// with the stack; past the deadline, or for a delete (no deadline), the bay fails with the
// reason. Stand-in Heat scripting the failures (the real one cannot be made to fail on
// demand); the bay table is the real embedded store.
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
import { handleMessage } from "../../functions/worker/handle-message.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import { OrchestratorError, type Orchestrator, type Stack } from "../../shared/ports/orchestrator.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";

const owner = { projectId: "p", userId: "u" };
let dir: string;
let stores: LocalStores;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "bf-poll-retry-"));
  stores = openLocalStores(dir);
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

/** getStack fails (500) `failures` times, then answers `status` (undefined: the stack is gone). */
function failingHeat(failures: number, status: string | undefined) {
  let reads = 0;
  const heat: Orchestrator = {
    createStack: async () => assert.fail("no create expected"),
    findStack: async () => undefined,
    getStack: async (name, id) => {
      if (++reads <= failures) throw new OrchestratorError("ResourcePropertiesData with id {} not found", 500, true);
      if (!status) return undefined;
      return { id, stack_name: name, stack_status: status, stack_status_reason: `Stack ${status}`, timeout_mins: null, parameters: {}, outputs: [] } satisfies Stack;
    },
    deleteStack: async () => {},
    updateStack: async () => {},
    listResources: async () => [],
  };
  return heat;
}

async function bayIn(name: string, status: "CREATE_IN_PROGRESS" | "DELETE_IN_PROGRESS", deadlineInMs: number | null) {
  const model = newBayModel({ name: `m-${name}`, coe: "kubernetes", image_id: "img", keypair_id: "k", external_network_id: "public" }, owner, new Date().toISOString());
  await stores.table.putBayModel(model);
  const bay = acceptBay(parseBayRequest({ name, baymodel_id: model.uuid }), model.uuid, owner, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: "r", now: new Date() });
  await stores.table.createBay(bay);
  const deadline_at = deadlineInMs === null ? null : new Date(Date.now() + deadlineInMs).toISOString();
  return stores.table.updateBay({ ...bay, status, stack_id: `stack-${name}`, deadline_at, version: bay.version + 1 }, bay.version);
}

/** Handles the bay's messages as the queue would deliver them, until none is sent. */
async function run(bayId: string, heat: Orchestrator) {
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
    retryDelays: [2, 4, 8],
    now: () => new Date(),
  };
  let msg: WorkMessage | undefined = { v: 1, kind: "bay.poll", bayId, projectId: "p", requestId: "r", attempt: 0, seq: 0 };
  let handled = 0;
  while (msg && handled < 50) {
    const before = sent.length;
    await handleMessage(msg, deps);
    handled++;
    msg = sent.length > before ? sent[sent.length - 1] : undefined;
  }
  return { handled, bay: await stores.table.getBay(bayId) };
}

describe("poll retries (stand-in Heat failing reads)", () => {
  it("a create's poll outlasts the retry budget while the deadline is ahead, and the bay completes", async () => {
    const bay = await bayIn("outlasts", "CREATE_IN_PROGRESS", 60 * 60_000);
    const { bay: after, handled } = await run(bay.uuid, failingHeat(7, "CREATE_COMPLETE"));
    assert.equal(after?.status, "CREATE_COMPLETE", after?.status_reason ?? "");
    assert.equal(handled, 8, "7 failed reads retried, then the read that saw it complete");
  });

  it("past the deadline the bay fails with Heat's reason", async () => {
    const bay = await bayIn("overdue", "CREATE_IN_PROGRESS", -1_000);
    const { bay: after } = await run(bay.uuid, failingHeat(100, "CREATE_COMPLETE"));
    assert.equal(after?.status, "CREATE_FAILED");
    assert.match(after?.status_reason ?? "", /kept failing after 4 attempts: ResourcePropertiesData/);
  });

  it("a delete's poll (no deadline) gives up after the retry budget, DELETE_FAILED with the reason", async () => {
    const bay = await bayIn("deleting", "DELETE_IN_PROGRESS", null);
    const { bay: after, handled } = await run(bay.uuid, failingHeat(100, undefined));
    assert.equal(after?.status, "DELETE_FAILED");
    assert.match(after?.status_reason ?? "", /kept failing after 4 attempts/);
    assert.equal(handled, 4);
  });
});
