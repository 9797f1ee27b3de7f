// A delete delivered again after its trust was released (real Keystone + Heat, light cloud).
// finishDelete removes the bay's trust and trustee user once Heat says the stack is gone, then
// the bay; under Heat overload the step can time out in between, and the queue delivers its
// message again. That delivery must finish the delete as the first would have (the bay
// removed, nothing left in Keystone), not fail on Keystone's 401 "Could not find trust". A
// trust gone while the stack still stands fails the delete at once, saying so; the stack stays,
// and the user's next delete (a new token, so a new trust) removes it.
// The worker is composed as in production (composeWorker: Heat through the bay's trust).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCloudConfig, type CloudConfig } from "../../shared/adapters/openstack/config/index.ts";
import { HeatClient, KeystoneIdentity, Session, TrustClient } from "../../shared/adapters/openstack/index.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { delegationMarker, makeCredentials, releaseCredentials } from "../../shared/bay-credentials.ts";
import { composeWorker } from "../../functions/worker/compose.ts";
import { handleMessage } from "../../functions/worker/handle-message.ts";
import { deleteBay } from "../../shared/bays/operate.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import { loadSettings } from "../../shared/config.ts";
import { silentLogger } from "../../shared/observability/logger.ts";
import { cloudsYamlPath, ensureDevcloudUp } from "../support/devcloud.ts";
import { storedBay } from "../support/worker-deps.ts";
import { eventually } from "../support/eventually.ts";

const cloud = (name: string): CloudConfig => loadCloudConfig({ OS_CLOUD: `devcloud-${name}`, OS_CLIENT_CONFIG_FILE: cloudsYamlPath() })!;
const RUN = `dtg${Date.now().toString(36)}`;
// one placeholder resource: the delete path is what is under test, not the bay's template
const TEMPLATE = { heat_template_version: "2016-10-14", resources: { nothing: { type: "OS::Heat::None" } } };

describe("a delete delivered again after its trust was released (real Keystone and Heat)", () => {
  let dir: string;
  let stores: LocalStores;
  let service: Session, demo: Session;
  let demoHeat: HeatClient;
  let identity: KeystoneIdentity;
  let deps: WorkerDeps;
  let vault: LocalKeyVault;
  const sessions: Session[] = [];
  const sent: WorkMessage[] = [];
  const made: Bay[] = [];
  const stacks: Array<{ name: string; id: string }> = [];

  before(async () => {
    await ensureDevcloudUp();
    dir = mkdtempSync(join(tmpdir(), "bf-dtg-"));
    stores = openLocalStores(dir);
    vault = await LocalKeyVault.forDataDir(dir, {});
    service = new Session(cloud("bayforge"));
    demo = new Session(cloud("demo"));
    demoHeat = new HeatClient(demo);
    identity = new KeystoneIdentity(service);
    deps = worker(service);
  });

  /** The worker as composed in production; a timed-out instance is replaced by a new one (no tokens in hand). */
  function worker(session = new Session(cloud("bayforge"))): WorkerDeps {
    if (session !== service) sessions.push(session);
    const queue = { send: async (m: WorkMessage) => void sent.push(m) };
    return composeWorker(loadSettings({}), { table: stores.table, queue: queue as never, heat: new HeatClient(session), session, vault, log: silentLogger, identity: new KeystoneIdentity(session) });
  }
  after(async () => {
    for (const s of stacks) await demoHeat.deleteStack(s.name, s.id).catch(() => {});
    for (const b of made) await releaseCredentials(identity, { trust_id: b.trust_id, trustee: b.trustee }).catch(() => {});
    await stores?.close();
    for (const s of sessions) await s.close();
    await service?.close();
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A bay of demo's with its trust and trustee (as the create made them) and a stack in demo's project, being deleted. */
  async function deletingBay(name: string): Promise<Bay> {
    const info = await demo.tokenInfo();
    const bay = await storedBay(stores.table, `${RUN}-${name}`, { project_id: info.projectId!, user_id: info.userId });
    const creds = await makeCredentials(identity, deps.vault, await demo.token(), { userId: info.userId, projectId: info.projectId!, roles: info.roles }, bay.uuid, {
      trustee: true,
      lookFirst: false,
      marker: delegationMarker(bay.uuid, bay.poll_seq),
    });
    let saved = await stores.table.updateBay({ ...bay, ...creds, version: bay.version + 1 }, bay.version);
    made.push(saved);
    const { id } = await deps.heatFor(saved).createStack({ stack_name: saved.stack_name, template: TEMPLATE, files: {}, parameters: {}, timeout_mins: 5 } as never);
    stacks.push({ name: saved.stack_name, id });
    await eventually(`stack ${saved.stack_name} CREATE_COMPLETE`, async () => ((await demoHeat.getStack(saved.stack_name, id))?.stack_status === "CREATE_COMPLETE" ? true : undefined), 180_000, 1000);
    saved = await stores.table.updateBay({ ...saved, stack_id: id, status: "DELETE_IN_PROGRESS", version: saved.version + 1 }, saved.version);
    return saved;
  }

  const message = (bay: Bay, kind: "bay.delete" | "bay.poll"): WorkMessage => ({ v: 1, kind, bayId: bay.uuid, projectId: bay.project_id, requestId: `r-${kind}`, attempt: 0, seq: bay.poll_seq });
  const userExists = async (id: string) =>
    (await fetch(`${service.cloud.auth.authUrl.replace(/\/+$/, "")}/users/${id}`, { headers: { "x-auth-token": await service.token() } })).status !== 404;
  const stackGone = async (bay: Bay) => {
    const s = await demoHeat.getStack(bay.stack_name, bay.stack_id!);
    return !s || s.stack_status === "DELETE_COMPLETE";
  };

  // Which message comes again depends on where the delivery died: the poll that saw the stack
  // gone, or the delete step itself (the sweeper re-sends it for an idle bay; a duplicate).
  for (const again of ["bay.poll", "bay.delete"] as const) {
    it(`the stack gone and the trust released: the ${again} delivered again finishes the delete (bay removed, trustee user gone)`, async () => {
      const bay = await deletingBay(again === "bay.poll" ? "gone-poll" : "gone-delete");
      await handleMessage(message(bay, "bay.delete"), deps);
      const poll = sent.find((m) => m.bayId === bay.uuid && m.kind === "bay.poll");
      assert.ok(poll, "the delete step sent its poll");
      await eventually("Heat deleted the stack", async () => ((await stackGone(bay)) ? true : undefined), 180_000, 1000);

      // the delivery that found the stack gone removed the bay's trust, then died (its timeout)
      await identity.deleteTrust(bay.trust_id!);
      assert.ok(await userExists(bay.trustee!.user_id), "the trustee user is still there: the step died before it");

      // the queue delivers the message again, to a new instance (no tokens in hand)
      const instance = worker();
      await handleMessage(again === "bay.poll" ? poll : message(bay, "bay.delete"), instance);
      assert.equal(await stores.table.getBay(bay.uuid), undefined, "the bay is removed, as the normal path removes it");
      const events = await stores.table.listEvents(bay.uuid);
      assert.ok(events.some((e) => e.kind === "deleted"), `a 'deleted' event is recorded: ${events.map((e) => e.kind).join(", ")}`);
      assert.ok(!events.some((e) => e.kind === "failed"), "nothing failed");
      assert.equal(await userExists(bay.trustee!.user_id), false, "the nodes' trustee user is removed (nothing leaks)");
      // and the other message, delivered after: nothing left to do
      await handleMessage(again === "bay.poll" ? message(bay, "bay.delete") : poll, instance);
      assert.equal(await stores.table.getBay(bay.uuid), undefined);
    });
  }

  it("the trust gone while the stack stands: the delete fails at once with the reason; deleted again (a new token, a new trust), the bay goes", async () => {
    const bay = await deletingBay("stands");
    await identity.deleteTrust(bay.trust_id!);
    await handleMessage(message(bay, "bay.delete"), worker());
    const failed = (await stores.table.getBay(bay.uuid))!;
    assert.equal(failed.status, "DELETE_FAILED");
    assert.match(failed.status_reason ?? "", new RegExp(`no longer has trust ${bay.trust_id}`));
    assert.match(failed.status_reason ?? "", /still there: delete the bay again to retry/);
    assert.equal(failed.trust_id, null, "the bay lets the dead trust go, so a new delete makes a new one");
    assert.equal((await demoHeat.getStack(bay.stack_name, bay.stack_id!))?.stack_status, "CREATE_COMPLETE", "the stack is untouched");

    // the user deletes it again, as DELETE /v1/bays/{id} does: the request carries demo's token
    const info = await demo.tokenInfo();
    const caller = { projectId: info.projectId!, userId: info.userId, isAdmin: false, token: await demo.token(), roles: info.roles, tokenExpiresAt: new Date(Date.now() + 3600_000) };
    const ops = { table: stores.table, queue: { send: async (m: WorkMessage) => void sent.push(m) }, vault, log: silentLogger, identity, defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5 };
    const again = await deleteBay(ops as never, caller, failed, "r-again");
    assert.ok(again.delegation, "the new request carries the caller's token for the worker");
    const instance = worker();
    const handled = new Set<WorkMessage>(sent);
    await handleMessage(message(again, "bay.delete"), instance);
    const renewed = await stores.table.getBay(bay.uuid);
    if (renewed) made.push(renewed); // its new trust, released in after() if the test stops here
    // the queue hands out each poll the worker sends from here on (at once: their delays are not waited)
    await eventually(
      "the bay removed",
      async () => {
        for (const m of sent.filter((x) => x.bayId === bay.uuid && !handled.has(x))) {
          handled.add(m);
          await handleMessage(m, instance);
        }
        return (await stores.table.getBay(bay.uuid)) ? undefined : true;
      },
      180_000,
      1000,
    );
    assert.ok(await stackGone(bay), "its stack deleted in Heat");
    assert.equal(await userExists(bay.trustee!.user_id), false, "the nodes' trustee user is removed");
    assert.ok(renewed?.trust_id && renewed.trust_id !== bay.trust_id, "the delete acted through a new trust");
    assert.equal(await new TrustClient(service).get(renewed.trust_id), undefined, "which is removed with the bay");
  });
});
