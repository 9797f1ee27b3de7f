// GET /v1/mservices as Magnum serves it (magnum_services.py): admins only, every service with
// Magnum's fields, "up" while it beats within 180 s. The API harness beats as infra/local's API
// does (here every 200 ms, to see report_count grow); a row whose last beat is old is written
// through the store. Admin calls use noauth's X-Roles, as Magnum's noauth trusts it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually } from "../support/eventually.ts";
import { HARNESS_HOST, startApi, type ApiHarness } from "../support/api-harness.ts";
import { SERVICE_DOWN_SECONDS } from "../../shared/bays/services.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbedded } from "../../infra/local/embedded.ts";
import { createLogger } from "../../shared/observability/logger.ts";

const ADMIN = { "x-roles": "admin", "x-project-id": "admin-project" };
const FIELDS = ["id", "host", "binary", "state", "report_count", "disabled", "disabled_reason", "created_at", "updated_at", "last_seen_up"];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

let api: ApiHarness;
before(async () => {
  api = await startApi({}, { heartbeatMs: 200 });
});
after(() => api.close());

const list = async (headers: Record<string, string> = ADMIN) => {
  const res = await api.call("GET", "/v1/mservices", undefined, headers);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.mservices as Array<Record<string, unknown>>;
};
const apiRow = (rows: Array<Record<string, unknown>>) => rows.find((r) => r.host === HARNESS_HOST && r.binary === "bayforge-api");

describe("GET /v1/mservices", () => {
  it("shows an admin the API's own row, up, in Magnum's shape, its report_count growing with the beats", async () => {
    const first = apiRow(await list());
    assert.ok(first, "the API beat at start");
    assert.deepEqual(Object.keys(first), FIELDS);
    assert.equal(first.state, "up");
    assert.equal(first.disabled, false);
    assert.equal(first.disabled_reason, null);
    assert.ok(Number.isInteger(first.id) && (first.id as number) >= 1);
    assert.match(first.created_at as string, ISO);
    assert.equal(first.last_seen_up, first.updated_at ?? first.created_at);
    const later = await eventually("another beat", async () => {
      const row = apiRow(await list());
      return row && (row.report_count as number) > (first.report_count as number) ? row : undefined;
    });
    assert.equal(later.id, first.id);
    assert.ok((later.report_count as number) > (first.report_count as number), `${first.report_count} → ${later.report_count}`);
    assert.match(later.updated_at as string, ISO);
    assert.equal(later.last_seen_up, later.updated_at);
    assert.equal(later.created_at, first.created_at);
  });

  it("shows a row whose last beat is older than 180 s as down, and one within 180 s as up, by id ascending", async () => {
    const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    await api.stores.services.beat("gone-host", "bayforge-worker", ago(SERVICE_DOWN_SECONDS + 60));
    await api.stores.services.beat("gone-host", "bayforge-worker", ago(SERVICE_DOWN_SECONDS + 5));
    await api.stores.services.beat("new-host", "bayforge-worker", ago(SERVICE_DOWN_SECONDS - 30));
    const rows = await list();
    const gone = rows.find((r) => r.host === "gone-host")!;
    assert.equal(gone.state, "down");
    assert.equal(gone.report_count, 2);
    assert.equal(gone.last_seen_up, gone.updated_at);
    assert.equal(rows.find((r) => r.host === "new-host")!.state, "up", "a first beat (no updated_at yet) counts from created_at");
    const ids = rows.map((r) => r.id as number);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.equal(new Set(ids).size, ids.length);
  });

  it("refuses a non-admin with Magnum's 403 (policy magnum-service:get_all) and writes nothing", async () => {
    const before = await api.stores.services.list();
    for (const headers of [{ "x-project-id": "demo" }, { "x-project-id": "demo", "x-roles": "member,reader" }, { "x-roles": "administrator" }] as Record<string, string>[]) {
      const res = await api.call("GET", "/v1/mservices", undefined, headers);
      assert.equal(res.status, 403, JSON.stringify(res.json));
      assert.equal(res.json.errors.length, 1);
      assert.equal(res.json.errors[0].status, 403);
      assert.equal(res.json.errors[0].detail, "Policy doesn't allow magnum-service:get_all to be performed.");
    }
    const after = await api.stores.services.list();
    // the heartbeat may have counted meanwhile; no row was added, none changed host or binary
    assert.deepEqual(after.map((r) => [r.id, r.host, r.binary]), before.map((r) => [r.id, r.host, r.binary]));
  });

  it("is served without a microversion gate, with a trailing slash, and listed by GET /v1 after certificates", async () => {
    for (const version of ["container-infra 1.1", "container-infra latest"]) {
      const res = await api.call("GET", "/v1/mservices/", undefined, { ...ADMIN, "OpenStack-API-Version": version });
      assert.equal(res.status, 200, `${version}: ${JSON.stringify(res.json)}`);
    }
    const v1 = await api.call("GET", "/v1");
    const keys = Object.keys(v1.json);
    assert.equal(keys.indexOf("mservices"), keys.indexOf("certificates") + 1);
    assert.deepEqual(v1.json.mservices.map((l: { rel: string }) => l.rel), ["self", "bookmark"]);
    assert.match(v1.json.mservices[0].href, /\/v1\/mservices\/$/);
  });
});

describe("the embedded default (infra/local, npm start)", () => {
  it("beats two rows at start, api and worker, as this host; its timers stop with it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bf-mservices-embedded-"));
    // the worker needs a cloud to start; with an empty queue it never calls it (nothing listens on port 9)
    const env = { BAYFORGE_DATA_DIR: dir, PORT: "0", BAYFORGE_AUTH: "noauth", OS_AUTH_URL: "http://127.0.0.1:9/v3", OS_USERNAME: "u", OS_PASSWORD: "p", OS_PROJECT_NAME: "p", OS_USER_DOMAIN_NAME: "Default", OS_PROJECT_DOMAIN_NAME: "Default" };
    const running = await startEmbedded({ api: true, worker: true }, env, createLogger({}, "error", () => {}));
    try {
      const res = await fetch(`${running.url}/v1/mservices`, { headers: ADMIN });
      assert.equal(res.status, 200);
      const rows = ((await res.json()) as { mservices: Array<Record<string, unknown>> }).mservices;
      assert.deepEqual(rows.map((r) => [r.host, r.binary, r.state, r.report_count]), [[hostname(), "bayforge-worker", "up", 1], [hostname(), "bayforge-api", "up", 1]]);
    } finally {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
