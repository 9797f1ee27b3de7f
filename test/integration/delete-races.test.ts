// A delete that interrupts a create: the create step, still running, writes the bay (its
// bootstrap token) between the delete's read and its removal of the bay. The bay must go at
// once, not wait for the queue to redeliver the delete (minutes: CI saw a bay stay
// DELETE_IN_PROGRESS past its test's two minutes). Real embedded store; no Heat is needed
// (the stack is already gone when finishDelete runs).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { finishDelete } from "../../functions/worker/steps/delete-bay.ts";
import { VersionConflict } from "../../shared/ports/bay-table.ts";
import { stepDeps, storedBay } from "../support/worker-deps.ts";

let dir: string;
let stores: LocalStores;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "bf-delete-race-"));
  stores = openLocalStores(dir);
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("finishing a delete while another step writes the bay", () => {
  it("removes the bay even though it changed since the delete read it", async () => {
    const read = await storedBay(stores.table, "raced", { status: "DELETE_IN_PROGRESS", deadline_at: null });
    // what the interrupted create does meanwhile: a write that bumps the version
    await stores.table.updateBay({ ...read, status_reason: "retrying: the stack create failed", version: read.version + 1 }, read.version);
    await finishDelete(stepDeps({ table: stores.table, queue: stores.queue }), read);
    assert.equal(await stores.table.getBay(read.uuid), undefined);
    assert.ok((await stores.table.listEvents(read.uuid)).some((e) => e.kind === "deleted"));
  });

  it("does not remove a bay that is no longer being deleted (the conflict stands)", async () => {
    const read = await storedBay(stores.table, "revived", { status: "DELETE_IN_PROGRESS", deadline_at: null });
    await stores.table.updateBay({ ...read, status: "DELETE_FAILED", version: read.version + 1 }, read.version);
    await assert.rejects(finishDelete(stepDeps({ table: stores.table, queue: stores.queue }), read), VersionConflict);
    assert.equal((await stores.table.getBay(read.uuid))?.status, "DELETE_FAILED");
  });
});
