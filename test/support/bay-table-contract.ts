// What every BayTable adapter must do, as one suite each adapter's test runs against itself
// (SQLite now, DynamoDB later). Every case makes its own ids, so the suite also passes on a
// table that other cases (or earlier runs) already wrote to.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import type { Bay, BayCerts, BayEvent, BayModel } from "../../shared/domain/model.ts";
import { AlreadyExists, CertsChanged, VersionConflict, type BayTable } from "../../shared/ports/bay-table.ts";

export interface BayTableHandle {
  table: BayTable;
  close(): Promise<void>;
}

export function sampleBayModel(overrides: Partial<BayModel> = {}): BayModel {
  return {
    uuid: randomUUID(),
    name: "k8s-model",
    project_id: `project-${randomUUID()}`,
    user_id: "user-1",
    coe: "kubernetes",
    image_id: "fedora-atomic-latest",
    flavor_id: "m1.small",
    master_flavor_id: "m1.small",
    keypair_id: "default",
    external_network_id: "public",
    fixed_network: null,
    fixed_subnet: null,
    dns_nameserver: "8.8.8.8",
    docker_volume_size: 5,
    docker_storage_driver: "devicemapper",
    network_driver: "flannel",
    volume_driver: null,
    apiserver_port: null,
    cluster_distro: "fedora-atomic",
    labels: { flannel_backend: "vxlan" },
    tls_disabled: false,
    public: false,
    server_type: "vm",
    http_proxy: null,
    https_proxy: null,
    no_proxy: null,
    registry_enabled: false,
    insecure_registry: null,
    master_lb_enabled: false,
    floating_ip_enabled: true,
    created_at: new Date().toISOString(),
    updated_at: null,
    ...overrides,
  };
}

export function sampleBay(overrides: Partial<Bay> = {}): Bay {
  const uuid = overrides.uuid ?? randomUUID();
  const name = overrides.name ?? "k8s";
  return {
    uuid,
    name,
    project_id: `project-${randomUUID()}`,
    user_id: "user-1",
    baymodel_id: randomUUID(),
    node_count: 1,
    master_count: 1,
    discovery_url: null,
    bay_create_timeout: 60,
    status: "CREATE_IN_PROGRESS",
    status_reason: null,
    stack_id: null,
    api_address: null,
    node_addresses: [],
    master_addresses: [],
    created_at: new Date().toISOString(),
    updated_at: null,
    version: 1,
    stack_name: `${name}-${uuid.slice(0, 12)}`,
    deadline_at: null,
    request_id: `req-${randomUUID()}`,
    poll_seq: 0,
    ...overrides,
  };
}

export function sampleCerts(bayUuid: string, tag: string): BayCerts {
  return {
    bay_uuid: bayUuid,
    ca_cert_pem: `-----BEGIN CERTIFICATE-----\n${tag}-ca\n-----END CERTIFICATE-----\n`,
    ca_key_encrypted: `${tag}-ca-key-ciphertext`,
    client_cert_pem: `-----BEGIN CERTIFICATE-----\n${tag}-client\n-----END CERTIFICATE-----\n`,
    client_key_encrypted: `${tag}-client-key-ciphertext`,
    created_at: new Date().toISOString(),
  };
}

const uuids = (items: { uuid: string }[]) => items.map((i) => i.uuid);
/** `items` reduced to the given uuids, keeping the adapter's order. */
const only = <T extends { uuid: string }>(items: T[], wanted: string[]) => items.filter((i) => wanted.includes(i.uuid));
const at = (second: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, second)).toISOString();

export function bayTableContract(name: string, make: () => Promise<BayTableHandle>): void {
  const withTable = async (fn: (table: BayTable) => Promise<void>) => {
    const { table, close } = await make();
    try {
      await fn(table);
    } finally {
      await close();
    }
  };

  describe(`BayTable contract: ${name}`, () => {
    describe("baymodels", () => {
      it("returns a stored baymodel exactly as put, and undefined for an unknown uuid", () =>
        withTable(async (table) => {
          const model = sampleBayModel({ labels: { a: "1", b: "two" } });
          await table.putBayModel(model);
          assert.deepEqual(await table.getBayModel(model.uuid), model);
          assert.equal(await table.getBayModel(randomUUID()), undefined);
        }));

      it("replaces a baymodel put again under the same uuid", () =>
        withTable(async (table) => {
          const model = sampleBayModel();
          await table.putBayModel(model);
          const changed = { ...model, name: "renamed", public: true };
          await table.putBayModel(changed);
          assert.deepEqual(await table.getBayModel(model.uuid), changed);
        }));

      it("lists a project's own baymodels plus other projects' public ones, never their private ones", () =>
        withTable(async (table) => {
          const a = `project-a-${randomUUID()}`;
          const b = `project-b-${randomUUID()}`;
          const aPrivate = sampleBayModel({ project_id: a, created_at: at(1) });
          const bPrivate = sampleBayModel({ project_id: b, created_at: at(2) });
          const bPublic = sampleBayModel({ project_id: b, public: true, created_at: at(3) });
          for (const m of [bPublic, bPrivate, aPrivate]) await table.putBayModel(m);
          const mine = [aPrivate.uuid, bPrivate.uuid, bPublic.uuid];

          assert.deepEqual(uuids(only(await table.listBayModels({ projectId: a }), mine)), [aPrivate.uuid, bPublic.uuid]);
          assert.deepEqual(uuids(only(await table.listBayModels({ projectId: b }), mine)), [bPrivate.uuid, bPublic.uuid]);
          assert.deepEqual(uuids(only(await table.listBayModels({}), mine)), [aPrivate.uuid, bPrivate.uuid, bPublic.uuid]);
          const listed = (await table.listBayModels({ projectId: a })).find((m) => m.uuid === bPublic.uuid);
          assert.deepEqual(listed, bPublic);
        }));

      it("lists the visible baymodels of one name, as listBayModels filtered by it", () =>
        withTable(async (table) => {
          const a = `project-a-${randomUUID()}`;
          const b = `project-b-${randomUUID()}`;
          const name = `named-${randomUUID()}`;
          const aOwn = sampleBayModel({ project_id: a, name, created_at: at(1) });
          const bPrivate = sampleBayModel({ project_id: b, name, created_at: at(2) });
          const bPublic = sampleBayModel({ project_id: b, name, public: true, created_at: at(3) });
          const other = sampleBayModel({ project_id: a, name: `${name}-other`, created_at: at(4) });
          for (const m of [bPublic, other, bPrivate, aOwn]) await table.putBayModel(m);

          assert.deepEqual(uuids(await table.listBayModelsNamed(name, { projectId: a })), [aOwn.uuid, bPublic.uuid]);
          assert.deepEqual(uuids(await table.listBayModelsNamed(name, { projectId: b })), [bPrivate.uuid, bPublic.uuid]);
          assert.deepEqual(uuids(await table.listBayModelsNamed(name, {})), [aOwn.uuid, bPrivate.uuid, bPublic.uuid]);
          assert.deepEqual(await table.listBayModelsNamed(name, { projectId: a }), [aOwn, bPublic]);
          assert.deepEqual(await table.listBayModelsNamed(name.toUpperCase(), {}), []);
          assert.deepEqual(await table.listBayModelsNamed(`${name}-`, {}), []);
          // renamed: found by its new name only
          await table.putBayModel({ ...aOwn, name: `${name}-renamed` });
          assert.deepEqual(uuids(await table.listBayModelsNamed(name, { projectId: a })), [bPublic.uuid]);
          assert.deepEqual(uuids(await table.listBayModelsNamed(`${name}-renamed`, { projectId: a })), [aOwn.uuid]);
        }));

      it("deletes a baymodel (and deleting an unknown one is not an error)", () =>
        withTable(async (table) => {
          const model = sampleBayModel();
          await table.putBayModel(model);
          await table.deleteBayModel(model.uuid);
          assert.equal(await table.getBayModel(model.uuid), undefined);
          assert.deepEqual(only(await table.listBayModels({ projectId: model.project_id }), [model.uuid]), []);
          await table.deleteBayModel(model.uuid);
        }));
    });

    describe("bays", () => {
      it("returns a created bay exactly as given, and undefined for an unknown uuid", () =>
        withTable(async (table) => {
          const bay = sampleBay({ node_addresses: ["10.0.0.5"], bay_create_timeout: 0, discovery_url: "https://d/x" });
          await table.createBay(bay);
          assert.deepEqual(await table.getBay(bay.uuid), bay);
          assert.equal(await table.getBay(randomUUID()), undefined);
        }));

      it("refuses a second bay with the same uuid with AlreadyExists and keeps the first", () =>
        withTable(async (table) => {
          const bay = sampleBay();
          await table.createBay(bay);
          await assert.rejects(table.createBay({ ...bay, name: "other" }), (e: unknown) => {
            assert.ok(e instanceof AlreadyExists);
            assert.equal(e.uuid, bay.uuid);
            return true;
          });
          assert.deepEqual(await table.getBay(bay.uuid), bay);
        }));

      it("lists only the project's own bays, ordered by created_at then uuid; all of them without a project", () =>
        withTable(async (table) => {
          const a = `project-a-${randomUUID()}`;
          const b = `project-b-${randomUUID()}`;
          const [u1, u2] = [randomUUID(), randomUUID()].sort();
          const late = sampleBay({ project_id: a, created_at: at(30) });
          const tieSecond = sampleBay({ uuid: u2, project_id: a, created_at: at(10) });
          const tieFirst = sampleBay({ uuid: u1, project_id: a, created_at: at(10) });
          const early = sampleBay({ project_id: a, created_at: at(5) });
          const other = sampleBay({ project_id: b, created_at: at(1) });
          for (const bay of [late, tieSecond, other, tieFirst, early]) await table.createBay(bay);

          assert.deepEqual(uuids(await table.listBays({ projectId: a })), [early.uuid, u1, u2, late.uuid]);
          assert.deepEqual(await table.listBays({ projectId: b }), [other]);
          assert.deepEqual(await table.listBays({ projectId: `project-${randomUUID()}` }), []);
          const all = [late, tieSecond, other, tieFirst, early].map((x) => x.uuid);
          assert.deepEqual(uuids(only(await table.listBays({}), all)), [other.uuid, early.uuid, u1, u2, late.uuid]);
        }));

      it("counts a project's bays in every status, none of another project's, and not a deleted one", () =>
        withTable(async (table) => {
          const a = `project-a-${randomUUID()}`;
          const bays = [sampleBay({ project_id: a }), sampleBay({ project_id: a, status: "CREATE_FAILED" }), sampleBay({ project_id: a, status: "DELETE_IN_PROGRESS" })];
          for (const bay of [...bays, sampleBay({ project_id: `project-b-${randomUUID()}` })]) await table.createBay(bay);
          assert.equal(await table.countBays(a, 20), 3);
          assert.equal(await table.countBays(a, 2), 2, "counted up to atMost only");
          assert.equal(await table.countBays(a, 0), 0);
          await table.deleteBay(bays[0].uuid, bays[0].version);
          assert.equal(await table.countBays(a, 20), 2);
          assert.equal(await table.countBays(`project-${randomUUID()}`, 20), 0);
        }));

      it("lists bays whose status is *_IN_PROGRESS for the sweeper, across projects", () =>
        withTable(async (table) => {
          const creating = sampleBay({ status: "CREATE_IN_PROGRESS" });
          const updating = sampleBay({ status: "UPDATE_IN_PROGRESS" });
          const deleting = sampleBay({ status: "DELETE_IN_PROGRESS" });
          const done = sampleBay({ status: "CREATE_COMPLETE" });
          const failed = sampleBay({ status: "CREATE_FAILED" });
          for (const bay of [creating, updating, deleting, done, failed]) await table.createBay(bay);
          const listed = await table.listBaysInProgress();
          const mine = uuids(only(listed, uuids([creating, updating, deleting, done, failed])));
          assert.deepEqual(mine.sort(), uuids([creating, updating, deleting]).sort());

          await table.updateBay({ ...creating, status: "CREATE_COMPLETE" }, creating.version);
          assert.ok(!uuids(await table.listBaysInProgress()).includes(creating.uuid));
        }));

      it("updates a bay at the expected version, bumping the version by one", () =>
        withTable(async (table) => {
          const bay = sampleBay({ version: 1 });
          await table.createBay(bay);
          const next = { ...bay, status: "CREATE_COMPLETE" as const, api_address: "https://10.0.0.4:6443", master_addresses: ["10.0.0.4"] };
          const stored = await table.updateBay(next, 1);
          assert.deepEqual(stored, { ...next, version: 2 });
          assert.deepEqual(await table.getBay(bay.uuid), stored);
          const again = await table.updateBay({ ...stored, status_reason: "done" }, 2);
          assert.equal(again.version, 3);
        }));

      it("keeps a bay's coe_version and health check (status, reason map, time) through updates and lists", () =>
        withTable(async (table) => {
          const bay = sampleBay({ status: "CREATE_COMPLETE", api_address: "https://10.0.0.4:6443" });
          await table.createBay(bay);
          const reason = { "k8s-abc-minion-0.Ready": "False", "k8s-abc-master-0.Ready": "True", api: "ok" };
          const checked = { ...bay, coe_version: "v1.35.8", health_status: "UNHEALTHY" as const, health_status_reason: reason, health_checked_at: at(7) };
          const stored = await table.updateBay(checked, bay.version);
          assert.deepEqual(stored, { ...checked, version: bay.version + 1 });
          assert.deepEqual(await table.getBay(bay.uuid), stored);
          assert.deepEqual(only(await table.listBays({}), [bay.uuid]), [stored]);
          assert.deepEqual(only(await table.listBays({ projectId: bay.project_id }), [bay.uuid]), [stored]);
          // the reason is replaced whole by the next check
          const next = await table.updateBay({ ...stored, health_status: "HEALTHY", health_status_reason: { api: "ok" } }, stored.version);
          assert.deepEqual((await table.getBay(bay.uuid))!.health_status_reason, { api: "ok" });
          assert.equal(next.coe_version, "v1.35.8");
        }));

      it("answers an update with the bay as a read gives it back: members set to undefined are not stored", () =>
        withTable(async (table) => {
          const bay = sampleBay({ trust_id: "trust-1" });
          await table.createBay(bay);
          // as the worker drops a finished update or a used trust: `{ ...bay, trust_id: undefined }`
          const stored = await table.updateBay({ ...bay, trust_id: undefined, update: undefined }, bay.version);
          assert.deepEqual(stored, await table.getBay(bay.uuid));
          assert.ok(!("trust_id" in stored) && !("update" in stored), Object.keys(stored).join(", "));
        }));

      it("lets exactly one of two writers holding the same version win; the other gets VersionConflict", () =>
        withTable(async (table) => {
          const bay = sampleBay({ version: 4 });
          await table.createBay(bay);
          const results = await Promise.allSettled([
            table.updateBay({ ...bay, status: "CREATE_COMPLETE" }, 4),
            table.updateBay({ ...bay, status: "CREATE_FAILED", status_reason: "boom" }, 4),
          ]);
          const won = results.filter((r) => r.status === "fulfilled");
          const lost = results.filter((r) => r.status === "rejected");
          assert.equal(won.length, 1);
          assert.equal(lost.length, 1);
          const reason = (lost[0] as PromiseRejectedResult).reason as unknown;
          assert.ok(reason instanceof VersionConflict, `expected VersionConflict, got ${String(reason)}`);
          assert.equal(reason.uuid, bay.uuid);
          assert.equal(reason.expected, 4);
          const stored = await table.getBay(bay.uuid);
          assert.deepEqual(stored, (won[0] as PromiseFulfilledResult<Bay>).value);
          assert.equal(stored?.version, 5);

          // and the same again, one after the other: the second writer read version 4 too
          await assert.rejects(table.updateBay({ ...bay, status: "CREATE_FAILED" }, 4), VersionConflict);
          assert.deepEqual(await table.getBay(bay.uuid), stored);
        }));

      it("answers VersionConflict when updating a bay that does not exist", () =>
        withTable(async (table) => {
          await assert.rejects(table.updateBay(sampleBay(), 1), VersionConflict);
        }));

      it("deletes a bay only at the expected version, leaving its certs and events", () =>
        withTable(async (table) => {
          const bay = sampleBay({ version: 2 });
          await table.createBay(bay);
          await table.putCertsIfAbsent(sampleCerts(bay.uuid, "one"));
          await table.appendEvent({ bay_uuid: bay.uuid, at: at(1), kind: "accepted", detail: "" });

          await assert.rejects(table.deleteBay(bay.uuid, 1), VersionConflict);
          assert.deepEqual(await table.getBay(bay.uuid), bay);
          await table.deleteBay(bay.uuid, 2);
          assert.equal(await table.getBay(bay.uuid), undefined);
          assert.deepEqual(only(await table.listBays({ projectId: bay.project_id }), [bay.uuid]), []);
          await assert.rejects(table.deleteBay(bay.uuid, 2), VersionConflict);

          assert.ok(await table.getCerts(bay.uuid));
          assert.equal((await table.listEvents(bay.uuid)).length, 1);
        }));

      it("lets a deleted bay's uuid be created again", () =>
        withTable(async (table) => {
          const bay = sampleBay();
          await table.createBay(bay);
          await table.deleteBay(bay.uuid, bay.version);
          await table.createBay(bay);
          assert.deepEqual(await table.getBay(bay.uuid), bay);
        }));
    });

    describe("certs", () => {
      it("keeps the first certs when put twice and returns those to the second caller", () =>
        withTable(async (table) => {
          const bayUuid = randomUUID();
          const first = sampleCerts(bayUuid, "first");
          assert.deepEqual(await table.putCertsIfAbsent(first), first);
          assert.deepEqual(await table.putCertsIfAbsent(sampleCerts(bayUuid, "second")), first);
          assert.deepEqual(await table.getCerts(bayUuid), first);
        }));

      it("stores one CA when two workers race, and both get that one back", () =>
        withTable(async (table) => {
          const bayUuid = randomUUID();
          const [x, y] = await Promise.all([
            table.putCertsIfAbsent(sampleCerts(bayUuid, "x")),
            table.putCertsIfAbsent(sampleCerts(bayUuid, "y")),
          ]);
          assert.deepEqual(x, y);
          assert.deepEqual(await table.getCerts(bayUuid), x);
        }));

      it("replaces certs (CA rotation) only while the stored ones are those read, keyed by created_at", () =>
        withTable(async (table) => {
          const bayUuid = randomUUID();
          const old = { ...sampleCerts(bayUuid, "old"), created_at: at(1) };
          await table.putCertsIfAbsent(old);
          const rotated = { ...sampleCerts(bayUuid, "rotated"), created_at: at(2) };
          assert.deepEqual(await table.replaceCerts(rotated, old.created_at), rotated);
          assert.deepEqual(await table.getCerts(bayUuid), rotated);

          // a writer that read the old certs is refused, and the rotated ones stay
          const stale = { ...sampleCerts(bayUuid, "stale"), created_at: at(3) };
          await assert.rejects(table.replaceCerts(stale, old.created_at), (e: unknown) => {
            assert.ok(e instanceof CertsChanged, `expected CertsChanged, got ${String(e)}`);
            assert.equal(e.bayUuid, bayUuid);
            assert.equal(e.expectedCreatedAt, old.created_at);
            return true;
          });
          assert.deepEqual(await table.getCerts(bayUuid), rotated);
          // and putCertsIfAbsent still keeps whatever is stored
          assert.deepEqual(await table.putCertsIfAbsent(sampleCerts(bayUuid, "late-worker")), rotated);
        }));

      it("lets exactly one of two rotations that read the same certs win", () =>
        withTable(async (table) => {
          const bayUuid = randomUUID();
          const old = { ...sampleCerts(bayUuid, "old"), created_at: at(1) };
          await table.putCertsIfAbsent(old);
          const x = { ...sampleCerts(bayUuid, "x"), created_at: at(2) };
          const y = { ...sampleCerts(bayUuid, "y"), created_at: at(3) };
          const results = await Promise.allSettled([table.replaceCerts(x, old.created_at), table.replaceCerts(y, old.created_at)]);
          const won = results.filter((r) => r.status === "fulfilled");
          const lost = results.filter((r) => r.status === "rejected");
          assert.equal(won.length, 1);
          assert.equal(lost.length, 1);
          assert.ok((lost[0] as PromiseRejectedResult).reason instanceof CertsChanged);
          assert.deepEqual(await table.getCerts(bayUuid), (won[0] as PromiseFulfilledResult<BayCerts>).value);
        }));

      it("refuses to replace certs a bay does not have, and creates none", () =>
        withTable(async (table) => {
          const bayUuid = randomUUID();
          await assert.rejects(table.replaceCerts({ ...sampleCerts(bayUuid, "new"), created_at: at(2) }, at(1)), CertsChanged);
          assert.equal(await table.getCerts(bayUuid), undefined);
        }));

      it("refuses replacement certs carrying the created_at they replace (it is their version)", () =>
        withTable(async (table) => {
          const bayUuid = randomUUID();
          const old = { ...sampleCerts(bayUuid, "old"), created_at: at(1) };
          await table.putCertsIfAbsent(old);
          await assert.rejects(table.replaceCerts({ ...sampleCerts(bayUuid, "same"), created_at: at(1) }, at(1)), RangeError);
          assert.deepEqual(await table.getCerts(bayUuid), old);
        }));

      it("deletes certs, after which new ones can be stored", () =>
        withTable(async (table) => {
          const bayUuid = randomUUID();
          await table.putCertsIfAbsent(sampleCerts(bayUuid, "old"));
          await table.deleteCerts(bayUuid);
          assert.equal(await table.getCerts(bayUuid), undefined);
          const fresh = sampleCerts(bayUuid, "new");
          assert.deepEqual(await table.putCertsIfAbsent(fresh), fresh);
          await table.deleteCerts(randomUUID());
        }));
    });

    describe("events", () => {
      it("lists a bay's events ordered by time, ties in the order appended, and only that bay's", () =>
        withTable(async (table) => {
          const bayUuid = randomUUID();
          const events: BayEvent[] = [
            { bay_uuid: bayUuid, at: at(1), kind: "accepted", detail: "POST /v1/bays", request_id: "req-1" },
            { bay_uuid: bayUuid, at: at(2), kind: "certs", detail: "CA generated" },
            { bay_uuid: bayUuid, at: at(2), kind: "stack", detail: "stacks.create sent" },
            { bay_uuid: bayUuid, at: at(2), kind: "poll", detail: "CREATE_IN_PROGRESS" },
            { bay_uuid: bayUuid, at: at(9), kind: "complete", detail: "CREATE_COMPLETE" },
          ];
          for (const e of events) await table.appendEvent(e);
          await table.appendEvent({ bay_uuid: randomUUID(), at: at(3), kind: "other", detail: "" });
          assert.deepEqual(await table.listEvents(bayUuid), events);
          assert.deepEqual(await table.listEvents(randomUUID()), []);
        }));

      it("keeps identical events as separate entries (append-only, no dedupe)", () =>
        withTable(async (table) => {
          const bayUuid = randomUUID();
          const e: BayEvent = { bay_uuid: bayUuid, at: at(1), kind: "poll", detail: "again" };
          await table.appendEvent(e);
          await table.appendEvent(e);
          assert.deepEqual(await table.listEvents(bayUuid), [e, e]);
        }));
    });
  });
}
