// Two deliveries of one bay.create at once (SQS delivers at least once): one stack, and the
// bootstrap token in that stack is the one whose hash the bay holds, so the nodes' CSRs are
// signed. Stand-in Heat that holds the first create until the second delivery has asked for
// its own (the interleaving is forced; on the real Heat it is a matter of luck); the embedded
// stores and key vault are real.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { verifyBootstrapToken } from "../../shared/domain/bootstrap-token.ts";
import { createBay } from "../../functions/worker/steps/create-bay.ts";
import { stepDeps, storedBay } from "../support/worker-deps.ts";
import { OrchestratorError, type Stack } from "../../shared/ports/orchestrator.ts";
import { StandinHeat, stackOf } from "../support/standin-heat.ts";

let dir: string;
let stores: LocalStores;
let vault: LocalKeyVault;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-create-dup-"));
  stores = openLocalStores(dir);
  vault = await LocalKeyVault.forDataDir(dir, {});
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Heat with one stack name: the first create waits for the second to be asked, which gets 409 once the first has landed. */
function racingHeat() {
  let stack: Stack | undefined;
  let secondAsked!: () => void;
  const second = new Promise<void>((r) => (secondAsked = r));
  let firstLanded!: () => void;
  const landed = new Promise<void>((r) => (firstLanded = r));
  const heat = new StandinHeat({
    findStack: async () => stack,
    getStack: async () => stack,
    createStack: async (req, n) => {
      if (n === 1) {
        // (bounded: should the second delivery never ask, the test fails instead of hanging)
        await Promise.race([second, new Promise((r) => setTimeout(r, 5_000).unref())]);
        stack = stackOf(req.stack_name, "stack-1", "CREATE_IN_PROGRESS");
        firstLanded();
        return { id: stack.id };
      }
      secondAsked();
      await landed;
      throw new OrchestratorError(`The Stack (${req.stack_name}) already exists.`, 409, false);
    },
  });
  return { heat, tokens: () => heat.created.map((r) => String(r.parameters.user_token)), minionTokens: () => heat.created.map((r) => String(r.parameters.minion_token)) };
}

describe("concurrent duplicate deliveries of bay.create", () => {
  it("make one stack, whose bootstrap token is the one the bay accepts", async () => {
    const bay = await storedBay(stores.table, "dup");
    const { heat, tokens: asked, minionTokens } = racingHeat();
    const deps = stepDeps({
      table: stores.table,
      queue: stores.queue,
      heatFor: () => heat,
      vault,
      definitionContext: async (b, token) => ({ authUrl: "http://keystone/v3", username: "demo", tenantName: "demo", userToken: token, magnumUrl: "http://bayforge/v1", discoveryUrl: b.discovery_url ?? "" }),
    });
    const msg = { v: 1 as const, kind: "bay.create" as const, bayId: bay.uuid, projectId: "p", requestId: "r", attempt: 0 };
    await Promise.all([createBay(msg, deps), createBay(msg, deps)]);
    const tokens = asked();

    assert.equal(tokens.length, 2, "both deliveries asked Heat");
    const saved = (await stores.table.getBay(bay.uuid))!;
    assert.equal(saved.stack_id, "stack-1");
    assert.ok(verifyBootstrapToken(saved.bootstrap, tokens[0], new Date()), "the stack's token is the bay's: the nodes' CSRs will be signed");
    assert.equal(tokens[1], tokens[0], "the duplicate offered Heat the same token");
    const minions = minionTokens();
    assert.equal(minions[1], minions[0], "and the same minions' token");
    assert.equal(verifyBootstrapToken(saved.bootstrap, tokens[0], new Date()), "master");
    assert.equal(verifyBootstrapToken(saved.bootstrap, minions[0], new Date()), "minion", "the minions' token is accepted, as a minion's");
    assert.ok(!JSON.stringify(saved).includes(tokens[0]), "the token is not stored in clear");
    assert.equal(createHash("sha256").update(tokens[0]).digest("hex"), saved.bootstrap?.hash);
  });
});
