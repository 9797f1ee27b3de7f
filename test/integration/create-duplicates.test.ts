// Deliveries of one bay.create (SQS delivers at least once): two at once make one stack, by one
// create call, and the bootstrap token in it is the one whose hash the bay holds, so the nodes'
// CSRs are signed; a later delivery looks for the stack before making one. Stand-in Heat that
// holds the first create while the duplicate arrives (the interleaving is forced; on the real
// Heat it is a matter of luck); the embedded stores and key vault are real.
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
import { CLAIM_MS } from "../../functions/worker/steps/make-credentials.ts";

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

/** Heat with one stack name, counting lookups; the first create is held until `release()`. */
function heldHeat() {
  let stack: Stack | undefined;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const lookups: string[] = [];
  const heat = new StandinHeat({
    findStack: async (name) => {
      lookups.push(name);
      return stack;
    },
    getStack: async () => stack,
    createStack: async (req, n) => {
      if (n === 1) await Promise.race([held, new Promise((r) => setTimeout(r, 5_000).unref())]);
      if (stack) throw new OrchestratorError(`The Stack (${req.stack_name}) already exists.`, 409, false);
      stack = stackOf(req.stack_name, `stack-${n}`, "CREATE_IN_PROGRESS");
      return { id: stack.id };
    },
  });
  return { heat, lookups, release, tokens: () => heat.created.map((r) => String(r.parameters.user_token)), minionTokens: () => heat.created.map((r) => String(r.parameters.minion_token)) };
}

const definitionContext = async (b: { discovery_url?: string | null }, token: string) => ({ authUrl: "http://keystone/v3", username: "demo", tenantName: "demo", userToken: token, magnumUrl: "http://bayforge/v1", discoveryUrl: b.discovery_url ?? "" });
const createMsg = (bayId: string) => ({ v: 1 as const, kind: "bay.create" as const, bayId, projectId: "p", requestId: "r", attempt: 0 });

describe("deliveries of bay.create (SQS delivers at least once)", () => {
  it("two at once make one stack, by one create call, whose bootstrap token is the one the bay accepts", async () => {
    const bay = await storedBay(stores.table, "dup");
    const { heat, lookups, release, tokens, minionTokens } = heldHeat();
    const deps = stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, vault, definitionContext });
    const first = createBay(createMsg(bay.uuid), deps);
    // the duplicate arrives while the first one's create is in flight at Heat
    while (heat.created.length === 0) await new Promise((r) => setTimeout(r, 5));
    await createBay(createMsg(bay.uuid), deps);
    release();
    await first;

    assert.equal(heat.created.length, 1, "only the claimant asked Heat for the stack");
    assert.deepEqual(lookups, [], "the first claimant did not ask whether the stack exists: no create was ever sent");
    const saved = (await stores.table.getBay(bay.uuid))!;
    assert.equal(saved.stack_id, "stack-1");
    assert.equal(saved.create_claim, null, "the claim is cleared once the stack is recorded");
    const [token] = tokens();
    assert.equal(verifyBootstrapToken(saved.bootstrap, token, new Date()), "master", "the stack's token is the bay's: the nodes' CSRs will be signed");
    assert.equal(verifyBootstrapToken(saved.bootstrap, minionTokens()[0], new Date()), "minion", "the minions' token is accepted, as a minion's");
    assert.ok(!JSON.stringify(saved).includes(token), "the token is not stored in clear");
    assert.equal(createHash("sha256").update(token).digest("hex"), saved.bootstrap?.hash);
  });

  it("a live claimant slower than the claim's lifetime keeps it (renewed as it works): a duplicate then still stops", async () => {
    const bay = await storedBay(stores.table, "slow");
    const { heat, lookups, release } = heldHeat();
    const deps = stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, vault, definitionContext, claimMs: 300 });
    const first = createBay(createMsg(bay.uuid), deps);
    while (heat.created.length === 0) await new Promise((r) => setTimeout(r, 5));
    // Heat holds the create for 5 claim lifetimes; the duplicate comes in the middle
    await new Promise((r) => setTimeout(r, 750));
    await createBay(createMsg(bay.uuid), deps);
    await new Promise((r) => setTimeout(r, 750));
    release();
    await first;
    assert.equal(heat.created.length, 1, "no second create: the claim was still held");
    assert.deepEqual(lookups, [], "the duplicate asked Heat nothing");
    assert.equal((await stores.table.getBay(bay.uuid))!.stack_id, "stack-1");
  });

  it("a delivery taking over a dead step's stale claim finds the stack that step made, and makes none", async () => {
    const bay = await storedBay(stores.table, "dead");
    const { heat, lookups, release } = heldHeat();
    release();
    const deps = stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, vault, definitionContext });
    // a step made the stack and died before recording it: its claim is older than CLAIM_MS
    const { id } = await heat.createStack({ stack_name: bay.stack_name, template: {}, files: {}, parameters: {} });
    const claimedAt = new Date(Date.now() - CLAIM_MS - 1_000).toISOString();
    await stores.table.updateBay({ ...bay, create_claim: { by: "dead-step", at: claimedAt }, version: bay.version + 1 }, bay.version);

    await createBay(createMsg(bay.uuid), deps);
    assert.deepEqual(lookups, [bay.stack_name], "it looked for the stack first");
    assert.equal(heat.created.length, 1, "and made no second one");
    assert.equal((await stores.table.getBay(bay.uuid))!.stack_id, id);
  });

  it("a duplicate that finds a live claim stops, asking Heat nothing and queueing nothing", async () => {
    const bay = await storedBay(stores.table, "live");
    const { heat, lookups } = heldHeat();
    const deps = stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, vault, definitionContext });
    await stores.table.updateBay({ ...bay, create_claim: { by: "other-step", at: new Date().toISOString() }, version: bay.version + 1 }, bay.version);
    const sent: unknown[] = [];
    await createBay(createMsg(bay.uuid), { ...deps, queue: { ...deps.queue, send: async (m: unknown) => void sent.push(m) } as typeof deps.queue });
    assert.equal(heat.created.length, 0);
    assert.deepEqual(lookups, []);
    assert.deepEqual(sent, [], "the claimant's message carries the create on");
  });

  it("a create that failed with an error to retry releases the claim at once, and the retry asks Heat again", async () => {
    const bay = await storedBay(stores.table, "retry");
    let calls = 0;
    const lookups: string[] = [];
    const heat = new StandinHeat({
      findStack: async (name) => void lookups.push(name),
      createStack: async () => {
        if (++calls === 1) throw new OrchestratorError("Heat timed out", 504, true);
        return { id: "stack-2" };
      },
    });
    const deps = stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, vault, definitionContext });
    await assert.rejects(createBay(createMsg(bay.uuid), deps), /timed out/);
    assert.equal((await stores.table.getBay(bay.uuid))!.create_claim?.by, null, "released at once, not left to go stale");
    await createBay(createMsg(bay.uuid), deps);
    assert.deepEqual(lookups, [bay.stack_name], "the first delivery asked nothing; the retry asked Heat: the timed-out create may have landed");
    assert.equal((await stores.table.getBay(bay.uuid))!.stack_id, "stack-2");
  });

  it("a create that got no answer (it may still act in Heat) is never sent again before it settles: the retry re-queues itself, then adopts the stack the first one made", async () => {
    const bay = await storedBay(stores.table, "unanswered");
    let landed: Stack | undefined;
    const lookups: string[] = [];
    const heat = new StandinHeat({
      findStack: async (name) => (lookups.push(name), landed),
      // Heat got it and will make the stack later, but its answer is lost
      createStack: async () => {
        throw new OrchestratorError("Heat did not answer POST …/stacks: no answer within 30000 ms", undefined, true, undefined, true);
      },
    });
    let now = Date.now();
    const sent: Array<{ m: { attempt: number; kind: string }; delay?: number }> = [];
    const base = stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, vault, definitionContext, createSettleMs: 30_000, now: () => new Date(now) });
    const deps = { ...base, queue: { ...base.queue, send: async (m: { attempt: number; kind: string }, o?: { delaySeconds?: number }) => void sent.push({ m, delay: o?.delaySeconds }) } as unknown as typeof base.queue };
    await assert.rejects(createBay(createMsg(bay.uuid), deps), /no answer/);
    const released = (await stores.table.getBay(bay.uuid))!.create_claim;
    assert.equal(released?.by, null, "released, so the retry can take over");
    assert.equal(released?.settles_at, new Date(now + 30_000).toISOString(), "no create before it settles");

    // the retry (2 s later) asks Heat before the late stack shows: it sends no create, and comes back when it has settled
    now += 2_000;
    await createBay(createMsg(bay.uuid), deps);
    assert.equal(heat.created.length, 1, "no second create while the first may still act");
    assert.deepEqual(sent, [{ m: { ...createMsg(bay.uuid) }, delay: 28 }], "the same attempt, once it has settled");

    // by when it has settled, the first create did make its stack: adopted, not made again
    landed = stackOf(bay.stack_name, "stack-late", "CREATE_IN_PROGRESS");
    now += 28_000;
    await createBay(createMsg(bay.uuid), deps);
    assert.equal(heat.created.length, 1);
    assert.equal((await stores.table.getBay(bay.uuid))!.stack_id, "stack-late");
    assert.deepEqual(lookups, [bay.stack_name, bay.stack_name], "the two later deliveries asked");
  });

  it("once an unanswered create has settled and Heat has no stack, the retry creates it", async () => {
    const bay = await storedBay(stores.table, "settled");
    let calls = 0;
    const heat = new StandinHeat({
      findStack: async () => undefined,
      createStack: async () => {
        if (++calls === 1) throw new OrchestratorError("Heat did not answer: connection failed (ECONNRESET)", undefined, true, undefined, true);
        return { id: "stack-2" };
      },
    });
    let now = Date.now();
    const deps = stepDeps({ table: stores.table, queue: stores.queue, heatFor: () => heat, vault, definitionContext, createSettleMs: 5_000, now: () => new Date(now) });
    await assert.rejects(createBay(createMsg(bay.uuid), deps), /ECONNRESET/);
    now += 5_001;
    await createBay(createMsg(bay.uuid), deps);
    assert.equal(calls, 2);
    assert.equal((await stores.table.getBay(bay.uuid))!.stack_id, "stack-2");
  });
});
