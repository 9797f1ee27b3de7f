// Keystone mode: the request only carries the caller's token (encrypted on the bay); the
// worker's first step makes the credentials with it, against the REAL Keystone of the dev
// cloud. One delivery makes them while a duplicate waits; a step that died after making them
// is taken over and its trust found again by the operation's marker (nothing made twice, so
// nothing leaked); a token that expired while the message waited fails the bay, saying so.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCloudConfig, type CloudConfig } from "../../shared/adapters/openstack/config/index.ts";
import { Session } from "../../shared/adapters/openstack/identity/session.ts";
import { KeystoneIdentity, TrustClient, TrusteeUsers, trusteeName } from "../../shared/adapters/openstack/index.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { delegationMarker, makeCredentials, releaseCredentials } from "../../shared/bay-credentials.ts";
import { delegationFor } from "../../shared/bays/delegation.ts";
import { ensureCredentials, CLAIM_MS } from "../../functions/worker/steps/make-credentials.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import { silentLogger } from "../../shared/observability/logger.ts";
import { cloudsYamlPath, ensureDevcloudUp } from "../support/devcloud.ts";
import { stepDeps, storedBay } from "../support/worker-deps.ts";

const cloud = (name: string): CloudConfig => loadCloudConfig({ OS_CLOUD: `devcloud-${name}`, OS_CLIENT_CONFIG_FILE: cloudsYamlPath() })!;

describe("the worker makes a bay's Keystone credentials with the token the request carried (real Keystone)", () => {
  let dir: string;
  let stores: LocalStores;
  let service: Session, demo: Session;
  let identity: KeystoneIdentity;
  let vault: LocalKeyVault;
  let token: string;
  let who: { userId: string; projectId: string; roles: string[] };
  const made: Bay[] = [];

  before(async () => {
    await ensureDevcloudUp();
    dir = mkdtempSync(join(tmpdir(), "bf-wcreds-"));
    stores = openLocalStores(dir);
    vault = await LocalKeyVault.forDataDir(dir, {});
    service = new Session(cloud("bayforge"));
    demo = new Session(cloud("demo"));
    identity = new KeystoneIdentity(service);
    token = await demo.token();
    const info = await demo.tokenInfo();
    who = { userId: info.userId, projectId: info.projectId!, roles: info.roles };
  });
  after(async () => {
    for (const b of made) {
      const now = await stores.table.getBay(b.uuid);
      await releaseCredentials(identity, { trust_id: now?.trust_id, trustee: now?.trustee }).catch(() => {});
    }
    await stores?.close();
    await service?.close();
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A bay as a Keystone-mode request stores it: the caller's token encrypted, no credentials. */
  async function acceptedBay(name: string, tokenExpiresAt = new Date(Date.now() + 3600_000)): Promise<Bay> {
    const bay = await storedBay(stores.table, name);
    const delegation = await delegationFor(
      { table: stores.table, queue: stores.queue, vault, log: silentLogger, identity, defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5 },
      { projectId: who.projectId, userId: who.userId, isAdmin: false, token, roles: who.roles, tokenExpiresAt },
      bay.uuid,
    );
    const saved = await stores.table.updateBay({ ...bay, project_id: who.projectId, delegation, version: bay.version + 1 }, bay.version);
    made.push(saved);
    return saved;
  }

  function deps(sent: WorkMessage[], now = () => new Date()): WorkerDeps {
    return stepDeps({
      table: stores.table,
      queue: { send: async (m) => void sent.push(m) },
      vault,
      now,
      releaseCredentials: (bay, o) => releaseCredentials(identity, { trust_id: bay.trust_id, trustee: o.trustee ? bay.trustee : null }),
      makeCredentials: (bay, t, o) =>
        makeCredentials(identity, vault, t, { userId: bay.delegation!.user_id, projectId: bay.project_id, roles: bay.delegation!.roles }, bay.uuid, {
          ...o,
          marker: delegationMarker(bay.uuid, bay.poll_seq),
        }),
    });
  }

  const msg = (bay: Bay): WorkMessage => ({ v: 1, kind: "bay.create", bayId: bay.uuid, projectId: bay.project_id, requestId: "r", attempt: 0 });

  it("the stored bay holds the token only encrypted, and no credentials until the worker makes them", async () => {
    const bay = await acceptedBay("carried");
    assert.ok(bay.delegation && !bay.trust_id && !bay.trustee);
    assert.ok(!JSON.stringify(bay).includes(token), "the token is not stored in clear");
    const sent: WorkMessage[] = [];
    const done = await ensureCredentials(msg(bay), deps(sent), bay);
    assert.ok(done?.trust_id && done.trustee, "trust and trustee made by the step");
    assert.equal(done.delegation, null, "the token leaves the bay once the credentials are recorded");
    const trust = await new TrustClient(service).get(done.trust_id);
    assert.equal(trust?.trustorUserId, who.userId);
    assert.equal(trust?.projectId, who.projectId);
    assert.equal(trust?.expiresAt?.getTime(), delegationMarker(bay.uuid, bay.poll_seq).getTime(), "the operation's marker is the trust's expiry");
    assert.deepEqual(sent, []);
  });

  it("two deliveries at once: one makes the credentials, the other stops (nothing re-sent); a later one finds them made", async () => {
    const bay = await acceptedBay("dup");
    const sent: WorkMessage[] = [];
    const [a, b] = await Promise.all([ensureCredentials(msg(bay), deps(sent), bay), ensureCredentials(msg(bay), deps(sent), bay)]);
    const winner = a ?? b;
    assert.ok(winner?.trust_id, "one delivery recorded credentials");
    assert.equal([a, b].filter(Boolean).length, 1, "the other one stopped");
    assert.equal(sent.length, 0, "and sent nothing: the claimant's message carries the operation on");
    const again = await ensureCredentials(msg(bay), deps([]), (await stores.table.getBay(bay.uuid))!);
    assert.equal(again?.trust_id, winner.trust_id, "the redelivery goes on with the recorded credentials");
    const mine = (await new TrustClient(service).listForTrustor(token, who.userId)).filter((t) => t.expiresAt?.getTime() === delegationMarker(bay.uuid, bay.poll_seq).getTime());
    assert.deepEqual(mine.map((t) => t.id), [winner.trust_id], "exactly one trust to Bayforge for the operation");
  });

  it("a step that died after making the trust: the takeover finds it by its marker, makes no second one", async () => {
    const bay = await acceptedBay("crashed");
    // the dead step: claimed, made the trust, never recorded it
    const t0 = new Date();
    const claimed = await stores.table.updateBay({ ...bay, delegation: { ...bay.delegation!, claimed_by: "dead-step", claimed_at: t0.toISOString(), attempted: true }, version: bay.version + 1 }, bay.version);
    const lost = await identity.delegate(token, who, delegationMarker(bay.uuid, bay.poll_seq));
    const sent: WorkMessage[] = [];
    // while its claim is fresh, a duplicate stops
    assert.equal(await ensureCredentials(msg(claimed), deps(sent, () => new Date(t0.getTime() + 1000)), claimed), undefined);
    assert.equal(sent.length, 0);
    // once it is stale (the queue hands the dead step's message out again later), it is taken over
    const later = () => new Date(t0.getTime() + CLAIM_MS + 1000);
    const done = await ensureCredentials(msg(claimed), deps([], later), (await stores.table.getBay(bay.uuid))!);
    assert.equal(done?.trust_id, lost, "the trust the dead step made is the one recorded");
    const users = new TrusteeUsers(service);
    assert.equal(await users.find(await users.domainId(), trusteeName(bay.uuid)), done?.trustee?.user_id, "one trustee user, by the bay's name");
  });

  it("making credentials whose answers were lost again: the same trust to Bayforge (Keystone's 409), the same trustee user, and its trusts go with it", async () => {
    const bay = await acceptedBay("again");
    const marker = delegationMarker(bay.uuid, bay.poll_seq);
    const first = await identity.delegate(token, who, marker);
    assert.equal(await identity.delegate(token, who, marker), first, "the user's trust to Bayforge");
    // a failed attempt deleted its trust (Keystone only marks it deleted, and keeps refusing its
    // twin): the next attempt gets a new one a second later, which findDelegation still finds
    const scrap = await identity.delegate(token, who, new Date(marker.getTime() + 7 * 1000));
    await identity.deleteTrust(scrap);
    const next = await identity.delegate(token, who, new Date(marker.getTime() + 7 * 1000));
    assert.notEqual(next, scrap);
    assert.equal((await new TrustClient(service).get(next))?.expiresAt?.getTime(), marker.getTime() + 8 * 1000);
    await identity.deleteTrust(next);
    const trustee = await identity.createTrustee(token, who, bay.uuid);
    const again = await identity.createTrustee(token, who, bay.uuid);
    assert.equal(again.user_id, trustee.user_id, "the trustee user, by its name");
    await releaseCredentials(identity, { trust_id: first, trustee: again });
    const trusts = new TrustClient(service);
    for (const id of [first, trustee.trust_id, again.trust_id]) assert.equal(await trusts.get(id), undefined, `trust ${id} gone (the trustee's with its user)`);
  });

  it("a token about to expire is refused at the request (401 naming the time), before anything is stored", async () => {
    await assert.rejects(acceptedBay("too-late", new Date(Date.now() + 60_000)), (e: Error & { status?: number; detail?: string }) => {
      assert.equal(e.status, 401);
      assert.match(e.detail ?? "", /expires at .* too soon .* valid for 2 more minutes/);
      return true;
    });
  });

  it("a token that expired while the message waited fails the bay with the reason, and makes nothing", async () => {
    const bay = await acceptedBay("expired", new Date(Date.now() + 5 * 60_000));
    const sent: WorkMessage[] = [];
    const done = await ensureCredentials(msg(bay), deps(sent, () => new Date(Date.now() + 6 * 60_000)), bay);
    assert.equal(done, undefined);
    const failed = (await stores.table.getBay(bay.uuid))!;
    assert.equal(failed.status, "CREATE_FAILED");
    assert.match(failed.status_reason ?? "", /Keystone token expired .* before Bayforge could act on the request/);
    assert.ok(!failed.trust_id && !failed.trustee);
    assert.equal(failed.delegation, null, "the caller's token leaves the failed bay");
    const users = new TrusteeUsers(service);
    assert.equal(await users.find(await users.domainId(), trusteeName(bay.uuid)), undefined, "no trustee user made");
  });
});
