// Property-based fuzzing of every route the API serves (its own route table, app.routes: a new
// route without a generator fails the first test), over real HTTP on the embedded SQLite
// stores: generated ids and names, query strings, microversion and content-type headers, JSON
// bodies of every wrong shape (types, huge and unicode strings, nesting 30,000 deep,
// __proto__/constructor keys), JSON patches, CSRs, YAML manifests and etcd forms. For every
// case: never a 5xx or a hang; a refusal is in Magnum's error envelope (etcd's for discovery)
// and writes nothing — checked on the SQLite file itself, every table; nothing pollutes
// Object.prototype. Sharper properties check that the 400 names the field, the attribute or the
// paging parameter that is wrong. FUZZ_SEED / FUZZ_SCALE: see support/runs.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { fuzzParams } from "./support/runs.ts";
import { BAYMODEL_FIELDS } from "../../shared/domain/baymodel.ts";
import { BAY_FIELDS } from "../../shared/domain/bay.ts";
import { CLUSTER_FIELDS, CLUSTER_TEMPLATE_FIELDS } from "../../shared/domain/cluster.ts";
import type { FieldRule } from "../../shared/domain/fields.ts";
import type { Bay, BayModel } from "../../shared/domain/model.ts";
import type { Quota } from "../../shared/ports/quota-store.ts";
import type { BayStatus } from "../../shared/domain/status.ts";
import { ensureCertificates } from "../../functions/worker/steps/certificates.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import { servedRoutes, startFuzzApi, type FuzzApi, type Outgoing, type Sent } from "./support/fuzz-api.ts";
import { contentType, junk, number, own, PROTO_KEYS, query, rawBody, rawSegment, segment, text, toJsonText, versionHeaders } from "./support/arbitraries.ts";
import { manifestText } from "./support/manifests.ts";
import { MAX_VERSION } from "../../functions/api/microversion.ts";
import { fromJson } from "../../functions/api/wsme-json.ts";
import { leaks, privateKey } from "../security/support/secrets.ts";


const OTHER = "other-project";
/** noauth's admin: X-Roles, as Magnum's noauth reads it */
const ADMIN = { "x-roles": "admin" };
let api: FuzzApi;
let work: string;
const stats = { cases: 0, accepted: 0, byStatus: new Map<number, number>() };

// ------------------------------------------------------------------ fixtures

interface Fixtures {
  model: BayModel;
  template: BayModel;
  otherModel: BayModel;
  bays: Record<"creating" | "complete" | "failed" | "deleting" | "other", Bay>;
  batch: string;
  token: string;
  csr: string;
  /** the fixtures' uuids: what restore() keeps */
  modelUuids: Set<string>;
  bayUuids: Set<string>;
  /** another project's quota (admins may change it) */
  quota: Quota;
}
let fx: Fixtures;

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await api.send({ method: "POST", path, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  assert.ok(r.status < 300, `${path}: ${r.status} ${r.text}`);
  return r.json;
}

async function bayIn(status: BayStatus, name: string, o: { project?: string; certs?: boolean; minions?: Record<string, string>; nodes?: number } = {}): Promise<Bay> {
  const created = await post("/v1/bays", { name, baymodel_id: o.project ? fx.otherModel.uuid : fx.model.uuid, node_count: o.nodes ?? 1 }, o.project ? { "x-project-id": o.project } : {});
  let bay = (await api.stores.table.getBay(created.uuid))!;
  if (o.certs) await ensureCertificates(bay, { table: api.stores.table, vault: api.vault, now: () => new Date() } as unknown as WorkerDeps);
  bay = (await api.stores.table.getBay(bay.uuid))!;
  return api.stores.table.updateBay({ ...bay, status, ...(o.minions ? { minions: o.minions } : {}), version: bay.version + 1 }, bay.version);
}

before(async () => {
  api = await startFuzzApi();
  work = mkdtempSync(join(tmpdir(), "bf-fuzz-csr-"));
  const r = spawnSync("openssl", ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", join(work, "k.pem"), "-out", join(work, "csr.pem"), "-subj", "/CN=node.invalid", "-addext", "subjectAltName=IP:10.0.0.5"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const model = await post("/v1/baymodels", { name: "fx-model", coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "demo-key", external_network_id: "public", labels: { a: "1" } });
  const template = await post("/v1/clustertemplates", { name: "fx-template", coe: "kubernetes", image_id: "fedora-atomic", external_network_id: "public" });
  const otherModel = await post("/v1/baymodels", { name: "fx-other-model", coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "k", external_network_id: "public" }, { "x-project-id": OTHER });
  fx = { model, template, otherModel, csr: readFileSync(join(work, "csr.pem"), "utf8") } as Fixtures;
  fx.bays = {
    creating: await bayIn("CREATE_IN_PROGRESS", "fx-creating"),
    complete: await bayIn("CREATE_COMPLETE", "fx-complete", { certs: true, nodes: 2, minions: { "0": "10.0.0.5", "1": "10.0.0.6" } }),
    failed: await bayIn("CREATE_FAILED", "fx-failed", { certs: true }),
    deleting: await bayIn("DELETE_IN_PROGRESS", "fx-deleting", { certs: true }),
    other: await bayIn("CREATE_COMPLETE", "fx-other", { project: OTHER, certs: true }),
  };
  fx.batch = (await api.send({ method: "POST", path: "/v1/batches", headers: { "content-type": "application/yaml" }, body: "bays:\n  - {name: fx-batch-bay, baymodel: fx-model}\n" })).json.uuid;
  fx.token = fx.bays.complete.discovery_url!.split("/").pop()!;
  for (const k of ["model", "template", "otherModel"] as const) fx[k] = (await api.stores.table.getBayModel(fx[k].uuid))!;
  fx.modelUuids = new Set([fx.model.uuid, fx.template.uuid, fx.otherModel.uuid]);
  fx.bayUuids = new Set(Object.values(fx.bays).map((b) => b.uuid));
  fx.quota = await post("/v1/quotas", { project_id: OTHER, hard_limit: 40 }, ADMIN);
  // /v1/mservices lists something: a service that beats and one long silent (no heartbeat runs here)
  await api.stores.services.beat("fx-host", "bayforge-api", new Date().toISOString());
  await api.stores.services.beat("fx-host", "bayforge-worker", new Date(Date.now() - 3_600_000).toISOString());
  api.probe.rebase();
});

after(async () => {
  const statuses = [...stats.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(" ");
  console.log(`fuzz api-routes: ${stats.cases} cases, ${stats.accepted} accepted writes, statuses ${statuses}`);
  await api?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const sameDoc = (a: object, b: object) => JSON.stringify({ ...a, version: 0 }) === JSON.stringify({ ...b, version: 0 });

/** After an accepted write: back to the fixtures exactly (the test's own writes, not the API's). */
async function restore(): Promise<void> {
  const t = api.stores.table;
  for (const b of await t.listBays({})) if (!fx.bayUuids.has(b.uuid)) await t.deleteBay(b.uuid, b.version);
  for (const m of await t.listBayModels({})) if (!fx.modelUuids.has(m.uuid)) await t.deleteBayModel(m.uuid);
  for (const m of [fx.model, fx.template, fx.otherModel]) {
    const cur = await t.getBayModel(m.uuid);
    if (!cur || !sameDoc(cur, m)) await t.putBayModel(m);
  }
  for (const b of Object.values(fx.bays)) {
    const cur = (await t.getBay(b.uuid))!;
    if (!sameDoc(cur, b)) await t.updateBay({ ...b, version: cur.version + 1 }, cur.version);
  }
  const q = api.stores.quotas;
  const fxq = fx.quota;
  for (const x of await q.listQuotas({})) if (x.project_id !== fxq.project_id || x.resource !== fxq.resource) await q.deleteQuota(x.project_id, x.resource);
  const cur = await q.getQuota(fxq.project_id, fxq.resource);
  if (!cur) fx.quota = await q.createQuota({ project_id: fxq.project_id, resource: fxq.resource, hard_limit: fxq.hard_limit, created_at: fxq.created_at });
  else if (cur.hard_limit !== fxq.hard_limit) fx.quota = (await q.updateQuota(fxq.project_id, fxq.resource, fxq.hard_limit, new Date().toISOString()))!;
  api.probe.rebase();
}

// ------------------------------------------------------------------ the checks every case gets

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join();
const clip = (s: string, n = 400) => (s.length > n ? `${s.slice(0, n)}... (${s.length} chars)` : s);
const show = (req: Outgoing, res?: Sent) =>
  `${req.method} ${clip(req.path, 200)} ${JSON.stringify(req.headers ?? {})} body=${clip(typeof req.body === "string" ? req.body : String(req.body))}` +
  (res ? ` → ${res.status} ${clip(res.text)}` : "");

/** The error answer's shape: Magnum's envelope, or etcd's JSON for the discovery protocol. */
function assertRefusal(req: Outgoing, res: Sent): void {
  if (req.method === "HEAD") return; // no body to read
  if (res.status === 431) {
    // Node's HTTP server refuses a request line and headers over its 16 KiB before the app runs
    const size = req.path.length + Object.entries(req.headers ?? {}).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
    assert.ok(size > 14_000, `431 for ${size} bytes of headers: ${show(req, res)}`);
    return;
  }
  const path = new URL(`http://h${req.path}`).pathname; // as the server sees it ("..", "%2e%2e" resolved)
  // the discovery protocol answers in etcd's JSON; what the app refuses before it (a bad
  // microversion header, a body over the app's limit) is in Magnum's envelope
  if (/^\/v1\/discovery\/[^/]+/.test(path) && ["GET", "PUT"].includes(req.method) && !res.json?.errors) {
    assert.ok(typeof res.json?.errorCode === "number" && typeof res.json.message === "string" && typeof res.json.cause === "string", `etcd error shape: ${show(req, res)}`);
    return;
  }
  // the console (off here: noauth) answers people with an HTML page saying why; what the app
  // refuses before it (a bad microversion header, a body over the limit) is in Magnum's envelope
  if (/^\/console(\/|$)/.test(path) && !res.json?.errors) {
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/, show(req, res));
    assert.match(res.text, /<main[^>]*>[\s\S]*\S[\s\S]*<\/main>/, `a page saying why: ${show(req, res)}`);
    assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'self'/, show(req, res));
    return;
  }
  if (res.status === 405 && path.startsWith("/v1/discovery/")) {
    assert.equal(res.text, "Method Not Allowed", show(req, res));
    return;
  }
  const errors = res.json?.errors;
  assert.ok(Array.isArray(errors) && errors.length === 1, `Magnum's error envelope: ${show(req, res)}`);
  const [e] = errors;
  assert.equal(e.status, res.status, show(req, res));
  assert.equal(e.code, res.status === 406 ? "magnum.microversion-unsupported" : "client", show(req, res));
  assert.ok(typeof e.title === "string" && e.title.trim(), `a title: ${show(req, res)}`);
  assert.ok(typeof e.detail === "string" && e.detail.trim(), `a detail naming the problem: ${show(req, res)}`);
  assert.equal(e.request_id, res.headers.get("x-openstack-request-id"), show(req, res));
}

/** Sends one case and checks what every case must hold; returns the answer for sharper checks. */
async function exercise(req: Outgoing): Promise<Sent> {
  let res: Sent;
  try {
    res = await api.send(req);
  } catch (e) {
    throw new Error(`no answer (${(e as Error).message}): ${show(req)}`);
  }
  stats.cases++;
  stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
  const wrote = api.probe.changed();
  assert.ok(res.status < 500, `a server error: ${show(req, res)}`);
  // Node's own 431 comes before the app; every answer of the app names its request for the logs
  if (res.status !== 431) assert.match(res.headers.get("x-openstack-request-id") ?? "", /^req-[0-9a-f-]{36}$/, `x-openstack-request-id: ${show(req, res)}`);
  assert.equal(Object.getOwnPropertyNames(Object.prototype).sort().join(), PROTOTYPE_KEYS, `Object.prototype was polluted: ${show(req, res)}`);
  if (res.status >= 400) {
    assertRefusal(req, res);
    assert.ok(!wrote, `a refused request wrote to the store: ${show(req, res)}`);
  } else if (req.method === "GET" || req.method === "HEAD") {
    assert.ok(!wrote, `a read wrote to the store: ${show(req, res)}`);
  } else if (wrote) {
    stats.accepted++;
    await restore();
  }
  return res;
}

// ------------------------------------------------------------------ generators

/** the newest microversion served (1.MAX_MINOR) */
const MAX_MINOR = Number(MAX_VERSION.split(".")[1]);
const none = fc.constant(undefined);
const versions = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: MAX_MINOR }).map((m): Record<string, string> => ({ "openstack-api-version": `container-infra 1.${m}` })) },
  { weight: 1, arbitrary: versionHeaders },
);
const project = fc.oneof({ weight: 8, arbitrary: none }, fc.constantFrom(OTHER, "", "default ", "*"));
const bayName = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_.-]{0,20}$/);

/** An id or name in a path: the fixtures' (own and another project's), near misses, and junk. */
const ident = (values: () => string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(null).chain(() => fc.constantFrom(...values())) },
    { weight: 1, arbitrary: fc.constant(null).chain(() => fc.constantFrom(...values())).map((v) => v.toUpperCase()) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 3, arbitrary: text },
    { weight: 1, arbitrary: fc.constantFrom("detail", "events", "actions", "nodegroups", "default-worker") },
  ).map(segment);
const inPath = (id: fc.Arbitrary<string>) => fc.oneof({ weight: 9, arbitrary: id }, rawSegment);

const bayIds = () => Object.values(fx.bays).flatMap((b) => [b.uuid, b.name]);
const modelIds = () => [fx.model, fx.template, fx.otherModel].flatMap((m) => [m.uuid, m.name!]);
const bayIdent = inPath(ident(bayIds));
const modelIdent = inPath(ident(modelIds));
const batchIdent = inPath(ident(() => [fx.batch]));
const nodegroupIdent = inPath(ident(() => ["default-worker", "default-master", `${fx.bays.complete.uuid.slice(0, 24)}00000000bbbb`, `${fx.bays.complete.uuid.slice(0, 24)}00000000aaaa`]));

const PAGING = ["limit", "marker", "sort_key", "sort_dir"];
const pagingValue = fc.oneof(
  fc.constantFrom("1", "2", "1000", "1001", "0", "-1", "abc", "1.5", " 1", "", "99999999999999999999999", "asc", "desc", "ASC", "name", "node_count", "created_at", "id", "uuid", "status", "cluster_template_id", "labels"),
  fc.constant(null).chain(() => fc.constantFrom(...bayIds(), ...modelIds())),
);

/** A JSON object body: valid, one to three fields changed or dropped, wholly junk, or not JSON at all. */
function jsonBody(valid: fc.Arbitrary<Record<string, unknown>>, keys: string[]): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...keys) }, fc.constantFrom(...PROTO_KEYS), text), fc.option(junk, { freq: 6 }));
  const nearValid = fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([body, edits]) => {
    const o = own(Object.entries(body));
    for (const [k, v] of edits) {
      if (v === null) delete o[k];
      else Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return toJsonText(o);
  });
  return fc.oneof({ weight: 2, arbitrary: valid.map((v) => JSON.stringify(v)) }, { weight: 5, arbitrary: nearValid }, { weight: 1, arbitrary: junk.map(toJsonText) }, { weight: 1, arbitrary: rawBody });
}

/** A JSON patch: valid ops, ops with every member wrong, thousands of ops, or junk. */
function patchBody(valid: fc.Arbitrary<Record<string, unknown>>, paths: string[]): fc.Arbitrary<string> {
  const op = fc.oneof(
    { weight: 3, arbitrary: valid },
    fc
      .record(
        {
          op: fc.oneof(fc.constantFrom("add", "replace", "remove", "move", "copy", "test", "REPLACE"), junk),
          path: fc.oneof(fc.constantFrom(...paths, "/labels/__proto__", "/labels/constructor", "/__proto__", "/constructor", "/", "", "/~1", "/labels/a/b", "no-slash"), text.map((t) => `/${t}`), junk),
          value: junk,
          from: fc.constantFrom("/name", "/labels"),
        },
        { requiredKeys: [] },
      )
      .map((r) => own(Object.entries(r))),
    junk,
  );
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(op, { minLength: 0, maxLength: 4 }).map(toJsonText) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.integer({ min: 100, max: 3000 })).map(([v, n]) => JSON.stringify(Array.from({ length: n }, () => v))) },
    { weight: 1, arbitrary: jsonBody(valid, ["op", "path", "value"]) },
  );
}

/** Valid labels: keys of 1 to 255 characters (any), string values. */
const labels = fc
  .array(fc.tuple(fc.oneof(fc.stringMatching(/^[a-z_]{1,12}$/), text.filter((k) => k.length >= 1 && k.length <= 255)), fc.oneof(fc.string({ maxLength: 12 }), text)), { maxLength: 3 })
  .map(own);
const validModel = fc
  .record(
    {
      name: fc.oneof(bayName, fc.constant(null)),
      flavor_id: fc.constantFrom("m1.small", null),
      docker_volume_size: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constant(null)),
      dns_nameserver: fc.oneof(fc.ipV4(), fc.constant(null)),
      apiserver_port: fc.integer({ min: 1024, max: 65535 }),
      labels,
      tls_disabled: fc.boolean(),
      master_lb_enabled: fc.boolean(),
      network_driver: fc.constantFrom("flannel", "calico"),
      volume_driver: fc.constantFrom("cinder", "rexray", null),
    },
    { requiredKeys: [] },
  )
  .map((r) => ({ coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "k", external_network_id: "public", ...r }));
const validTemplate = validModel.chain((m) => fc.record({ hidden: fc.boolean(), tags: fc.constantFrom("a,b", null), drop: fc.boolean() }, { requiredKeys: [] }).map(({ drop, ...x }) => {
  const out: Record<string, unknown> = { ...m, ...x };
  if (drop) delete out.keypair_id;
  return out;
}));
const counts = { node_count: fc.integer({ min: 1, max: 5 }), master_count: fc.integer({ min: 1, max: 3 }) };
const validBay = fc.record(
  { name: fc.oneof(bayName, fc.constant(null)), baymodel_id: fc.constant(null).chain(() => fc.constantFrom(fx.model.uuid, "fx-model", fx.template.uuid, fx.otherModel.uuid)), ...counts, bay_create_timeout: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.constant(null)), discovery_url: fc.constantFrom("https://discovery.etcd.io/abc", null) },
  { requiredKeys: ["baymodel_id"] },
);
const validCluster = fc.record(
  {
    name: bayName,
    cluster_template_id: fc.constant(null).chain(() => fc.constantFrom(fx.template.uuid, "fx-template", fx.model.uuid)),
    ...counts,
    create_timeout: fc.integer({ min: 0, max: 120 }),
    keypair: fc.constantFrom("k", null),
    labels,
    merge_labels: fc.boolean(),
    master_lb_enabled: fc.boolean(),
    floating_ip_enabled: fc.boolean(),
    flavor_id: fc.constantFrom("m1.small", null),
  },
  { requiredKeys: ["cluster_template_id"] },
);
const validResize = fc.record(
  { node_count: fc.integer({ min: 1, max: 4 }), nodes_to_remove: fc.subarray(["0", "1", "10.0.0.5", "10.0.0.9", "x"]), nodegroup: fc.constantFrom("default-worker", "default-master", "x") },
  { requiredKeys: ["node_count"] },
);
const validUpgrade = fc.record(
  { cluster_template: fc.constant(null).chain(() => fc.constantFrom(fx.template.uuid, "fx-template", fx.model.uuid, "x")), max_batch_size: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, -1, 1.5)), nodegroup: fc.constantFrom("default-worker", "default-master", "x") },
  { requiredKeys: ["cluster_template"] },
);
// the upgrade needs 1.8: mostly asked for, sometimes not
const upgradeVersions = fc.oneof({ weight: 4, arbitrary: fc.constantFrom({ "openstack-api-version": "container-infra 1.8" }, { "openstack-api-version": "container-infra latest" }) }, versions);
const validReport = fc.record(
  { command_id: fc.constantFrom("upgrade-node-1", "upgrade-apply-0", "x", ""), result: fc.constantFrom("running", "succeeded", "failed", "idle", "x"), version: fc.constantFrom("v1.36.2", "1.36", ""), step: fc.constantFrom("idle", "upgrade", "X"), reason: text },
  { requiredKeys: ["result"] },
);
/** A node agent's request: no token; made-up certificates, timestamps and signatures (a valid one needs a node's key). */
const headerValue = fc.stringMatching(/^[\x21-\x7e]{0,100}$/);
const nodeHeaders = fc.record(
  {
    "x-bayforge-node-certificate": fc.oneof(fc.base64String({ maxLength: 400 }), headerValue, fc.constant("A".repeat(7000)), fc.constant(null).map(() => Buffer.from(fx.csr).toString("base64"))),
    "x-bayforge-node-timestamp": fc.oneof(fc.constant(null).map(() => String(Math.floor(Date.now() / 1000))), fc.integer({ min: -1, max: 2 ** 40 }).map(String), headerValue),
    "x-bayforge-node-signature": fc.oneof(fc.base64String({ maxLength: 120 }), headerValue),
  },
  { requiredKeys: [] },
);
const nodeName = fc.oneof(fc.constantFrom("k8s-abcdef123456-minion-0", "x", "-", "A"), text.map(segment), rawSegment);
function agentRequest(method: string, suffix: string, body?: fc.Arbitrary<string>): fc.Arbitrary<Outgoing> {
  return fc
    .tuple(request(method, p("/v1/agent/bays/", bayIdent, "/nodes/", nodeName, suffix), body ? json(body) : {}), nodeHeaders)
    .map(([o, h]) => ({ ...o, headers: { ...o.headers, ...(h as Record<string, string>) } }));
}
/** The fixture CSR, or one mangled: a byte changed, cut short, another PEM type, junk in the armour. */
const csr = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null).map(() => fx.csr) },
  fc.tuple(fc.nat(), fc.constantFrom("A", "/", "=", "\n", "-", "é")).map(([at, c]) => {
    const i = 40 + (at % (fx.csr.length - 80));
    return fx.csr.slice(0, i) + c + fx.csr.slice(i + 1);
  }),
  fc.nat().map((n) => fx.csr.slice(0, n % fx.csr.length)),
  fc.constant(null).map(() => fx.csr.replace(/CERTIFICATE REQUEST/g, "PRIVATE KEY")),
  fc.base64String({ maxLength: 400 }).map((b) => `-----BEGIN CERTIFICATE REQUEST-----\n${b}\n-----END CERTIFICATE REQUEST-----\n`),
  fc.constant(null).map(() => `${fx.csr}${fx.csr}`),
  text,
);
const validSign = fc
  .record({ key: fc.constantFrom("bay_uuid", "cluster_uuid"), bay: fc.constant(null).chain(() => fc.constantFrom(...bayIds())), csr })
  .map(({ key, bay, csr }) => ({ [key]: bay, csr }));
const modelPatchOp = fc.oneof(
  bayName.map((v) => ({ op: "replace", path: "/name", value: v })),
  fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ maxLength: 8 })).map(([k, v]) => ({ op: "add", path: `/labels/${k}`, value: v })),
  fc.constantFrom({ op: "remove", path: "/labels/a" }, { op: "remove", path: "/flavor_id" }, { op: "replace", path: "/docker_volume_size", value: 3 }, { op: "remove", path: "/image_id" }, { op: "replace", path: "/public", value: true }),
);
// quotas: the admin-only routes are sent as an admin most of the time, so their writes are reached
const roles = fc.oneof({ weight: 4, arbitrary: fc.constantFrom("admin", "reader,admin", " Admin ") }, fc.constantFrom(undefined, "", "member", "administrator"), fc.stringMatching(/^[\x21-\x7e]{0,40}$/));
const quotaProject = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(OTHER, "default", "q-new") }, text.map(segment), rawSegment);
const quotaResource = fc.oneof({ weight: 4, arbitrary: fc.constant("Cluster") }, fc.constantFrom("cluster", "Volume", ""), text.map(segment));
const quotaLimit = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 100 }) }, fc.constantFrom(0, -1, 2 ** 53, 1.5));
const validQuota = fc.record({ project_id: fc.constantFrom(OTHER, "default", "q-new"), resource: fc.constant("Cluster"), hard_limit: quotaLimit }, { requiredKeys: ["project_id"] });
const bayPatchOp = fc.integer({ min: 1, max: 5 }).map((n) => ({ op: "replace", path: "/node_count", value: n }));
const NODEGROUP_KEYS = ["name", "flavor_id", "image_id", "node_count", "min_node_count", "max_node_count", "labels", "merge_labels", "role", "docker_volume_size", "node_labels", "node_taints", "uuid", "status", "is_default"];
const validNodegroup = fc.record(
  {
    name: bayName,
    flavor_id: fc.constantFrom("m1.large", null),
    image_id: fc.constantFrom("fedora-atomic", null),
    node_count: fc.integer({ min: 0, max: 4 }),
    min_node_count: fc.integer({ min: 0, max: 2 }),
    max_node_count: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
    labels,
    merge_labels: fc.boolean(),
    role: fc.constantFrom("worker", "gpu", "master", null),
    node_labels: fc.oneof(labels, fc.constant({ "kubernetes.io/role": "x" }), fc.constant({ "example.com/a": "b" })),
    node_taints: fc.oneof(
      fc.constant([{ key: "dedicated", value: "gpu", effect: "NoSchedule" }]),
      fc.constant([{ key: "a", effect: "Sometimes" }]),
      fc.array(fc.record({ key: text, value: text, effect: fc.constantFrom("NoSchedule", "NoExecute", "x") }), { maxLength: 3 }),
    ),
  },
  { requiredKeys: ["name"] },
);
const nodegroupPatchOp = fc.oneof(
  fc.tuple(fc.constantFrom("/min_node_count", "/max_node_count"), fc.integer({ min: 0, max: 6 })).map(([path, value]) => ({ op: "replace", path, value })),
  fc.constantFrom({ op: "remove", path: "/max_node_count" }, { op: "replace", path: "/max_node_count", value: null }),
);

const json = (arb: fc.Arbitrary<string>) => ({ body: arb, contentType });

interface CaseOptions {
  query?: fc.Arbitrary<string>;
  body?: fc.Arbitrary<string | undefined>;
  contentType?: fc.Arbitrary<string | undefined>;
  /** X-Roles (noauth's admin), for the admin-only routes */
  roles?: fc.Arbitrary<string | undefined>;
  /** microversion headers (default: any) */
  versions?: fc.Arbitrary<Record<string, string>>;
}
/** One request to `method` on `path` (a path arbitrary), with headers and whatever else the route reads. */
function request(method: fc.Arbitrary<string> | string, path: fc.Arbitrary<string>, o: CaseOptions = {}): fc.Arbitrary<Outgoing> {
  return fc
    .record({
      method: typeof method === "string" ? fc.constant(method) : method,
      path,
      query: o.query ?? fc.oneof({ weight: 5, arbitrary: fc.constant("") }, query(["x"])),
      body: o.body ?? none,
      type: o.contentType ?? none,
      versions: o.versions ?? versions,
      project,
      roles: o.roles ?? none,
    })
    .map(({ method, path, query, body, type, versions, project, roles }) => ({
      method,
      path: path + query,
      headers: { ...versions, ...(type !== undefined ? { "content-type": type } : {}), ...(project !== undefined ? { "x-project-id": project } : {}), ...(roles !== undefined ? { "x-roles": roles } : {}) },
      body: method === "GET" || method === "HEAD" ? undefined : body,
    }));
}
const p = (...parts: Array<string | fc.Arbitrary<string>>) => fc.tuple(...parts.map((x) => (typeof x === "string" ? fc.constant(x) : x))).map((xs) => xs.join(""));
const list = (path: string) => request("GET", fc.constant(path), { query: query(PAGING, pagingValue) });

// etcd discovery: the fixture's directory, others that do not exist, and junk; never a truthy
// `wait` on a real directory (that long poll is held for 25 s by design).
const token = fc.oneof({ weight: 3, arbitrary: fc.constant(null).map(() => fx.token) }, fc.stringMatching(/^[0-9a-f]{32}$/), text.map(segment), rawSegment);
const etcdKey = fc.oneof(fc.constantFrom("", "_config", "_config/size", "_config/x", "_x", "a/b/c", "0", "ffffffffffffffff", "10000000000000000", "ABC"), fc.stringMatching(/^[0-9a-f]{1,16}$/), text.map(segment));
const ETCD_FLAGS = ["recursive", "sorted", "wait", "waitIndex", "prevExist", "quorum", "dir", "ttl"];
const etcdQuery = query(ETCD_FLAGS, fc.constantFrom("true", "false", "1", "0", "t", "TRUE", "yes", "", "-1", "99999999999999999999", "abc"));
const noWaitOnRealDirectory = (o: Outgoing) => !(o.path.includes(fx.token) && /[?&]wait=(1|t|T|TRUE|true|True)(&|$)/.test(o.path));
const etcdForm = fc.oneof(
  fc.oneof(fc.constant("etcd0=http://10.0.0.5:2380"), text, fc.integer({ min: 4000, max: 9000 }).map((n) => "x".repeat(n))).map((v) => `value=${segment(v)}`),
  fc.constantFrom("", "value=", "value", "a=b", "value=a&value=b", "%zz=1"),
  rawBody,
);
const etcdType = fc.oneof({ weight: 4, arbitrary: fc.constant("application/x-www-form-urlencoded") }, contentType);
const otherMethods = fc.constantFrom("POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND");

/** A generator for every route of app.routes, keyed as servedRoutes() names them. */
function routeCases(): Record<string, fc.Arbitrary<Outgoing>> {
  const bay = (suffix = "") => p("/v1/bays/", bayIdent, suffix);
  const cluster = (suffix = "") => p("/v1/clusters/", bayIdent, suffix);
  return {
    "GET /": request("GET", fc.constant("/")),
    "GET /v1": request("GET", fc.constant("/v1")),
    "GET /v1/discovery/:token": request("GET", p("/v1/discovery/", token), { query: etcdQuery }).filter(noWaitOnRealDirectory),
    "GET /v1/discovery/:token/*": request("GET", p("/v1/discovery/", token, "/", etcdKey), { query: etcdQuery }).filter(noWaitOnRealDirectory),
    "PUT /v1/discovery/:token": request("PUT", p("/v1/discovery/", token), { query: etcdQuery, body: etcdForm, contentType: etcdType }),
    "PUT /v1/discovery/:token/*": request("PUT", p("/v1/discovery/", token, "/", etcdKey), { query: etcdQuery, body: etcdForm, contentType: etcdType }),
    "ALL /v1/discovery/:token": request(otherMethods, p("/v1/discovery/", token), { body: etcdForm }),
    "ALL /v1/discovery/:token/*": request(otherMethods, p("/v1/discovery/", token, "/", etcdKey), { body: etcdForm }),

    "POST /v1/baymodels": request("POST", fc.constant("/v1/baymodels"), json(jsonBody(validModel, Object.keys(BAYMODEL_FIELDS)))),
    "GET /v1/baymodels": list("/v1/baymodels"),
    "GET /v1/baymodels/detail": list("/v1/baymodels/detail"),
    "GET /v1/baymodels/:ident": request("GET", p("/v1/baymodels/", modelIdent)),
    "PATCH /v1/baymodels/:ident": request("PATCH", p("/v1/baymodels/", modelIdent), json(patchBody(modelPatchOp, Object.keys(BAYMODEL_FIELDS).map((k) => `/${k}`)))),
    "DELETE /v1/baymodels/:ident": request("DELETE", p("/v1/baymodels/", modelIdent), { body: fc.option(rawBody, { nil: undefined }) }),

    "POST /v1/clustertemplates": request("POST", fc.constant("/v1/clustertemplates"), json(jsonBody(validTemplate, Object.keys(CLUSTER_TEMPLATE_FIELDS)))),
    "GET /v1/clustertemplates": list("/v1/clustertemplates"),
    "GET /v1/clustertemplates/detail": list("/v1/clustertemplates/detail"),
    "GET /v1/clustertemplates/:ident": request("GET", p("/v1/clustertemplates/", modelIdent)),
    "PATCH /v1/clustertemplates/:ident": request("PATCH", p("/v1/clustertemplates/", modelIdent), json(patchBody(modelPatchOp, Object.keys(CLUSTER_TEMPLATE_FIELDS).map((k) => `/${k}`)))),
    "DELETE /v1/clustertemplates/:ident": request("DELETE", p("/v1/clustertemplates/", modelIdent)),

    "POST /v1/bays": request("POST", fc.constant("/v1/bays"), json(jsonBody(validBay, Object.keys(BAY_FIELDS)))),
    "GET /v1/bays": list("/v1/bays"),
    "GET /v1/bays/detail": list("/v1/bays/detail"),
    "GET /v1/bays/:ident": request("GET", bay()),
    "GET /v1/bays/:ident/events": request("GET", bay("/events")),
    "PATCH /v1/bays/:ident": request("PATCH", bay(), json(patchBody(bayPatchOp, ["/node_count", "/name", "/master_count", "/uuid", "/node_count/x", "/nope"]))),
    "DELETE /v1/bays/:ident": request("DELETE", bay()),

    "POST /v1/clusters": request("POST", fc.constant("/v1/clusters"), json(jsonBody(validCluster, Object.keys(CLUSTER_FIELDS)))),
    "GET /v1/clusters": list("/v1/clusters"),
    "GET /v1/clusters/detail": list("/v1/clusters/detail"),
    "GET /v1/clusters/:ident": request("GET", cluster()),
    "PATCH /v1/clusters/:ident": request("PATCH", cluster(), json(patchBody(bayPatchOp, ["/node_count", "/name", "/labels", "/nope"]))),
    "DELETE /v1/clusters/:ident": request("DELETE", cluster()),
    "POST /v1/clusters/:ident/actions/resize": request("POST", cluster("/actions/resize"), json(jsonBody(validResize, ["node_count", "nodes_to_remove", "nodegroup"]))),
    "POST /v1/clusters/:ident/actions/upgrade": request("POST", cluster("/actions/upgrade"), { ...json(jsonBody(validUpgrade, ["cluster_template", "max_batch_size", "nodegroup", "rollback"])), versions: upgradeVersions }),
    "GET /v1/agent/bays/:bay/nodes/:node": agentRequest("GET", ""),
    "POST /v1/agent/bays/:bay/nodes/:node/report": agentRequest("POST", "/report", jsonBody(validReport, ["command_id", "result", "version", "step", "reason"])),
    "POST /v1/agent/bays/:bay/nodes/:node/certificates": agentRequest("POST", "/certificates", jsonBody(fc.record({ csr }), ["csr"])),
    "GET /v1/clusters/:ident/nodegroups": request("GET", cluster("/nodegroups"), { query: query(["role"], fc.constantFrom("master", "worker", "", "x")) }),
    "GET /v1/clusters/:ident/nodegroups/:ng": request("GET", p("/v1/clusters/", bayIdent, "/nodegroups/", nodegroupIdent)),
    "POST /v1/clusters/:ident/nodegroups": request("POST", cluster("/nodegroups"), json(jsonBody(validNodegroup, NODEGROUP_KEYS))),
    "PATCH /v1/clusters/:ident/nodegroups/:ng": request("PATCH", p("/v1/clusters/", bayIdent, "/nodegroups/", nodegroupIdent), json(patchBody(nodegroupPatchOp, ["/min_node_count", "/max_node_count", "/node_count", "/name", "/nope"]))),
    "DELETE /v1/clusters/:ident/nodegroups/:ng": request("DELETE", p("/v1/clusters/", bayIdent, "/nodegroups/", nodegroupIdent)),

    // the console is off without Keystone: every page and form says so (tested signed in, in a
    // browser, in test/e2e/console-browser.test.ts)
    "ALL /console/*": request(fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"), p("/console/", inPath(fc.constantFrom("", "bays", "sign-in", "sign-out", "bays/x", "bays.json", "templates", "batches", "static/x.js"))), {
      body: fc.option(rawBody, { nil: undefined }),
      contentType: fc.constantFrom("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json"),
    }),
    "GET /console/static/console.css": request("GET", fc.constant("/console/static/console.css")),
    "GET /console/static/console.js": request("GET", fc.constant("/console/static/console.js")),

    "GET /v1/certificates/:ident": request("GET", p("/v1/certificates/", bayIdent)),
    "POST /v1/certificates": request("POST", fc.constant("/v1/certificates"), json(jsonBody(validSign, ["bay_uuid", "cluster_uuid", "csr", "pem", "links"]))),
    "PATCH /v1/certificates/:ident": request("PATCH", p("/v1/certificates/", bayIdent), { body: fc.option(fc.oneof(rawBody, junk.map(toJsonText)), { nil: undefined }), contentType }),
    "PATCH /v1/credentials/:ident": request("PATCH", p("/v1/credentials/", bayIdent), { body: fc.option(fc.oneof(rawBody, junk.map(toJsonText)), { nil: undefined }), contentType, roles }),

    "POST /v1/batches": request("POST", fc.constant("/v1/batches"), {
      body: manifestText(["fx-model", "fx-template", "fx-other-model"]),
      contentType: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("application/yaml", "text/yaml", "application/x-yaml", "application/json") }, contentType),
    }),
    "GET /v1/batches/:id": request("GET", p("/v1/batches/", batchIdent)),
    "GET /v1/quotas": request("GET", fc.constant("/v1/quotas"), { query: query(["all_tenants", ...PAGING], fc.constantFrom("True", "true", "1", "False", "", "x")), roles }),
    "POST /v1/quotas": request("POST", fc.constant("/v1/quotas"), { ...json(jsonBody(validQuota, ["project_id", "resource", "hard_limit", "id", "created_at"])), roles }),
    "GET /v1/quotas/:project/:resource": request("GET", p("/v1/quotas/", quotaProject, "/", quotaResource), { roles }),
    "PATCH /v1/quotas/:project/:resource": request("PATCH", p("/v1/quotas/", quotaProject, "/", quotaResource), { ...json(jsonBody(fc.record({ hard_limit: quotaLimit }), ["hard_limit", "project_id", "resource"])), roles }),
    "DELETE /v1/quotas/:project/:resource": request("DELETE", p("/v1/quotas/", quotaProject, "/", quotaResource), { roles }),
    "GET /v1/mservices": request("GET", fc.constant("/v1/mservices"), { query: query(["all_tenants", "host", "binary", ...PAGING], fc.constantFrom("True", "fx-host", "bayforge-api", "", "x")), roles }),
    "GET /v1/stats": request("GET", fc.constant("/v1/stats"), { query: query(["project_id", "type"], fc.constantFrom("cluster", "CLUSTER", "node", "", "fx-project", "x".repeat(300))) }),
  };
}

// ------------------------------------------------------------------ properties

describe("every route, generated input: never a 5xx, a refusal in the error envelope, and no write when refused", () => {
  const RUNS_PER_ROUTE = 170;

  it("has a generator for every route the app serves (a new route needs one here)", () => {
    const cases = routeCases();
    assert.deepEqual(servedRoutes(api.app).filter((r) => !cases[r]), [], "routes without a fuzz generator");
    assert.deepEqual(Object.keys(cases).filter((r) => !servedRoutes(api.app).includes(r)), [], "generators for routes the app no longer serves");
  });

  it(`sends ${RUNS_PER_ROUTE} generated requests to each route`, async () => {
    const failed: string[] = [];
    for (const [route, arb] of Object.entries(routeCases())) {
      await fc.assert(fc.asyncProperty(arb, async (req) => void (await exercise(req))), fuzzParams(RUNS_PER_ROUTE)).catch((e: Error) => {
        failed.push(`${route}: ${e.message}`);
      });
    }
    assert.deepEqual(failed, [], `${failed.length} route(s) failed:\n${failed.join("\n\n")}`);
  });

  it("answers paths and methods no route serves in the envelope, never with a 5xx", async () => {
    const path = fc.array(fc.oneof(fc.constantFrom("v1", "bays", "clusters", "baymodels", "nodegroups", "actions", "resize", "quotas", "federations", "stats", "mservices", "certificates", "batches", "discovery"), text.map(segment), rawSegment), { minLength: 1, maxLength: 5 });
    const arb = request(fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"), path.map((ps) => `/${ps.join("/")}`), { body: rawBody, contentType });
    await fc.assert(fc.asyncProperty(arb, async (req) => void (await exercise(req))), fuzzParams(300));
  });
});

// --- sharper: the 400 names what is wrong -------------------------------------------------------

const SIGN_FIELDS: Record<string, FieldRule> = {
  bay_uuid: { spec: { type: "string", min: 1, max: 255 } },
  cluster_uuid: { spec: { type: "string", min: 1, max: 255 } },
  csr: { spec: { type: "string", min: 1 }, required: true },
};
/** 400, or 413 when the generated body is over the API's limit (64 KiB). */
function assertBadRequest(req: Outgoing, res: Sent): boolean {
  if (Buffer.byteLength(req.body ?? "") > 65_536) {
    assert.equal(res.status, 413, show(req, res));
    return false;
  }
  assert.equal(res.status, 400, show(req, res));
  return true;
}
/** A string as the server reads it from a URL (lone surrogates became U+FFFD in UTF-8). */
const wire = (s: string) => Buffer.from(s, "utf8").toString("utf8");
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A value that breaks `rule` (its type, range, length, pattern, enum or null-ness). */
function breaking(rule: FieldRule): fc.Arbitrary<unknown> {
  const s = rule.spec;
  const notString = fc.oneof(number, fc.boolean(), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }), fc.constant({}));
  const out: fc.Arbitrary<unknown>[] = rule.nullable ? [] : [fc.constant(null)];
  switch (s.type) {
    case "string":
      out.push(notString);
      if (s.max !== undefined) out.push(fc.integer({ min: s.max + 1, max: s.max + 300 }).map((n) => "a".repeat(n)));
      if (s.min) out.push(fc.constant(""));
      if (s.pattern) out.push(text.filter((t) => t.length >= (s.min ?? 0) && t.length <= (s.max ?? Infinity) && !s.pattern!.test(t)));
      if (s.enum) out.push(text.filter((t) => !s.enum!.includes(t)));
      break;
    case "integer":
      out.push(fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)), fc.boolean(), fc.constant([]), fc.constant({ n: 1 })));
      if (s.min !== undefined) out.push(fc.integer({ min: -1e9, max: s.min - 1 }));
      if (s.max !== undefined) out.push(fc.integer({ min: s.max + 1, max: s.max + 1e9 }));
      break;
    case "boolean":
      out.push(fc.oneof(fc.constantFrom("true", "false", "yes", 0, 1, [], {}), text));
      break;
    case "labels":
      out.push(fc.oneof(text, number, fc.constant([]), fc.constant(["a"])));
      out.push(fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.oneof(number, fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}))).map(([k, v]) => own([[k, v]])));
      out.push(fc.constantFrom(own([["", "v"]]), own([["k".repeat(256), "v"]])));
      break;
    case "ipv4":
      out.push(fc.oneof(number, text.filter((t) => !IPV4.test(t))));
      break;
  }
  return fc.oneof(...out);
}

describe("the 400 names the field, attribute or parameter that is wrong, and nothing is written", () => {
  const resources = () =>
    [
      { path: "/v1/baymodels", rules: BAYMODEL_FIELDS, valid: validModel as fc.Arbitrary<Record<string, unknown>> },
      { path: "/v1/clustertemplates", rules: CLUSTER_TEMPLATE_FIELDS, valid: validTemplate },
      { path: "/v1/bays", rules: BAY_FIELDS, valid: validBay.map((b) => ({ ...b, baymodel_id: fx.model.uuid })) },
      { path: "/v1/clusters", rules: CLUSTER_FIELDS, valid: validCluster.map((c) => ({ ...c, cluster_template_id: fx.template.uuid, keypair: "k", master_lb_enabled: true })) },
      { path: "/v1/certificates", rules: SIGN_FIELDS, valid: fc.constant(null).map(() => ({ bay_uuid: fx.bays.complete.uuid, csr: fx.csr })) },
    ] as const;

  it("one field of a wrong type, range, length or pattern (or a required one missing): 400 naming it", async () => {
    for (const r of resources()) {
      const fields = Object.entries(r.rules).filter(([, rule]) => !rule.readonly);
      const arb = fc
        .tuple(r.valid, fc.constantFrom(...fields))
        .chain(([body, [field, rule]]) =>
          fc.oneof(
            breaking(rule)
              // what Magnum's WSME takes is no wrong value: "5" for an integer, "False", a boolean label, "" for discovery_url
              .filter((v) => JSON.stringify((fromJson({ f: v }, { f: rule.spec.type }) as { f: unknown }).f) === JSON.stringify(v) && !(field === "discovery_url" && v === ""))
              .map((v) => ({ body: own([...Object.entries(body).filter(([k]) => k !== field), [field, v]]), field })),
            ...(rule.required ? [fc.constant({ body: own(Object.entries(body).filter(([k]) => k !== field)), field })] : []),
          ),
        );
      await fc.assert(
        fc.asyncProperty(arb, async ({ body, field }) => {
          const req = { method: "POST", path: r.path, headers: { "content-type": "application/json" }, body: toJsonText(body) };
          const res = await exercise(req);
          if (assertBadRequest(req, res)) assert.ok(res.json.errors[0].detail.includes(field), `the detail names ${field}: ${show(req, res)}`);
        }),
        fuzzParams(300),
      );
    }
  });

  it("an attribute the resource does not have (or may not set): 400 naming it", async () => {
    const cases = [
      ...resources().map((r) => ({ path: () => r.path, rules: r.rules as Record<string, FieldRule>, valid: r.valid })),
      { path: () => `/v1/clusters/${fx.bays.complete.uuid}/actions/resize`, rules: { node_count: {}, nodes_to_remove: {}, nodegroup: {} } as unknown as Record<string, FieldRule>, valid: validResize as fc.Arbitrary<Record<string, unknown>> },
    ];
    for (const c of cases) {
      const settable = (k: string) => Object.hasOwn(c.rules, k) && !c.rules[k].readonly;
      const key = fc.oneof(fc.constantFrom(...PROTO_KEYS), text, fc.constantFrom(...Object.keys(c.rules).filter((k) => c.rules[k].readonly), "project_id", "id")).filter((k) => !settable(k));
      await fc.assert(
        fc.asyncProperty(c.valid, key, junk, async (body, k, v) => {
          // A read-only field that may be null takes null, as today's clients send it (driver, hidden).
          fc.pre(!(v === null && Object.hasOwn(c.rules, k) && c.rules[k].readonly && c.rules[k].nullable));
          const req = { method: "POST", path: c.path(), headers: { "content-type": "application/json" }, body: toJsonText(own([...Object.entries(body), [k, v]])) };
          const res = await exercise(req);
          if (assertBadRequest(req, res)) assert.ok(res.json.errors[0].detail.includes(k), `the detail names ${JSON.stringify(k)}: ${show(req, res)}`);
        }),
        fuzzParams(120),
      );
    }
  });

  it("paging (limit, marker, sort_key, sort_dir): 200, or the 400/404 naming the bad parameter", async () => {
    const lists = [
      { path: "/v1/bays", items: () => api.stores.table.listBays({ projectId: "default" }), keys: {} },
      { path: "/v1/bays/detail", items: () => api.stores.table.listBays({ projectId: "default" }), keys: {} },
      { path: "/v1/clusters", items: () => api.stores.table.listBays({ projectId: "default" }), keys: { cluster_template_id: "baymodel_id", create_timeout: "bay_create_timeout" } },
      { path: "/v1/clusters/detail", items: () => api.stores.table.listBays({ projectId: "default" }), keys: { cluster_template_id: "baymodel_id", create_timeout: "bay_create_timeout" } },
      { path: "/v1/baymodels", items: () => api.stores.table.listBayModels({ projectId: "default" }), keys: {} },
      { path: "/v1/baymodels/detail", items: () => api.stores.table.listBayModels({ projectId: "default" }), keys: {} },
      { path: "/v1/clustertemplates", items: () => api.stores.table.listBayModels({ projectId: "default" }), keys: {} },
      { path: "/v1/clustertemplates/detail", items: () => api.stores.table.listBayModels({ projectId: "default" }), keys: {} },
    ];
    const q = fc.record(
      {
        limit: fc.oneof(fc.integer({ min: -5, max: 2000 }).map(String), fc.constantFrom("abc", "1.5", " 1", "", "1e3", "99999999999999999999999", "-0", "+1")),
        marker: fc.oneof(fc.constant(null).chain(() => fc.constantFrom(...bayIds(), ...modelIds())), fc.uuid(), text),
        sort_key: fc.oneof(fc.constantFrom("name", "node_count", "created_at", "uuid", "id", "status", "cluster_template_id", "create_timeout", "minions", "labels", "hidden", "public", ""), fc.constantFrom(...PROTO_KEYS), text),
        sort_dir: fc.oneof(fc.constantFrom("asc", "desc", "ASC", "Desc", ""), text),
      },
      { requiredKeys: [] },
    );
    for (const l of lists) {
      const items = (await l.items()) as unknown as Array<Record<string, unknown>>;
      const everyItemHas = (k: string) => items.every((x) => Object.hasOwn(x, k));
      const someItemHas = (k: string) => items.some((x) => Object.hasOwn(x, k));
      await fc.assert(
        fc.asyncProperty(q, async (qs) => {
          const search = Object.entries(qs).map(([k, v]) => `${k}=${segment(v!)}`).join("&");
          const req = { method: "GET", path: `${l.path}${search ? `?${search}` : ""}` };
          const res = await exercise(req);
          if (res.status === 431) return; // a query over Node's 16 KiB of headers, refused before the app (checked by exercise)
          const detail: string = res.json?.errors?.[0]?.detail ?? "";
          const sortKey = qs.sort_key === undefined ? undefined : wire(qs.sort_key);
          const marker = qs.marker === undefined ? undefined : wire(qs.marker);
          const key = sortKey ? (Object.hasOwn(l.keys, sortKey) ? (l.keys as Record<string, string>)[sortKey] : sortKey) : "created_at";
          if (qs.limit !== undefined && (!/^-?\d+$/.test(qs.limit) || Number(qs.limit) <= 0)) {
            assert.equal(res.status, 400, show(req, res));
            assert.match(detail, /limit/i, show(req, res));
          } else if (qs.sort_dir !== undefined && !["asc", "desc"].includes(qs.sort_dir)) {
            assert.equal(res.status, 400, show(req, res));
            assert.match(detail, /sort direction/, show(req, res));
          } else if (key !== "id" && key !== "created_at" && !someItemHas(key)) {
            assert.equal(res.status, 400, `sort_key ${JSON.stringify(sortKey)} is no field: ${show(req, res)}`);
            assert.ok(detail.includes(`"${sortKey}"`), show(req, res));
          } else if (key === "id" || key === "created_at" || everyItemHas(key)) {
            if (marker !== undefined && !items.some((x) => x.uuid === marker)) {
              assert.equal(res.status, 404, show(req, res));
              assert.ok(detail.includes(marker), show(req, res));
            } else assert.equal(res.status, 200, show(req, res));
          } else assert.ok([200, 400, 404].includes(res.status), show(req, res));
        }),
        fuzzParams(60),
      );
    }
  });

  it("a microversion header: out of range 406, malformed 400, else served and echoed", async () => {
    const arb = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 20 })).map(([a, b]) => ({ value: `${a}.${b}`, kind: (a === 1 && b >= 1 && b <= MAX_MINOR ? "ok" : "out") as "ok" | "out" | "bad" })),
      fc.oneof(text, fc.constantFrom("1", "1.", "1.1.1", "v1.2", "1,2", "one.two")).filter((t) => t.trim() !== "" && !/^\s*(\d+\.\d+|latest)\s*$/i.test(t) && !/[,\s]/.test(t) && /^[\x21-\x7e]+$/.test(t)).map((value) => ({ value, kind: "bad" as const })),
    );
    await fc.assert(
      fc.asyncProperty(arb, fc.constantFrom("modern", "legacy"), fc.constantFrom("/v1/bays", "/v1/clustertemplates", `/v1/clusters/fx-complete`), async ({ value, kind }, how, path) => {
        const headers: Record<string, string> = how === "modern" ? { "openstack-api-version": `container-infra ${value}` } : { "x-openstack-magnum-api-version": value };
        const req: Outgoing = { method: "GET", path, headers };
        const res = await exercise(req);
        if (kind === "out") assert.equal(res.status, 406, show(req, res));
        else if (kind === "bad") {
          assert.equal(res.status, 400, show(req, res));
          assert.match(res.json.errors[0].detail, /Invalid API version/, show(req, res));
        } else {
          // bays ended with 1.10 (Magnum 1.11 removed them)
          const gone = path === "/v1/bays" && Number(value.split(".")[1]) >= 11;
          assert.equal(res.status, gone ? 404 : 200, show(req, res));
          assert.equal(res.headers.get("openstack-api-version"), `container-infra ${value}`, show(req, res));
        }
      }),
      fuzzParams(300),
    );
  });
});

describe("GET /v1/mservices: an admin's only, whatever else is sent", () => {
  it("an admin (X-Roles naming admin) gets 200 with every service, by id; anyone else Magnum's 403", async () => {
    // the fixture's api beats again now: the fuzzing before may have taken longer than the 180 s it stays up
    await api.stores.services.beat("fx-host", "bayforge-api", new Date().toISOString());
    const rows = await api.stores.services.list();
    const isAdmin = (roles: string | undefined) => (roles ?? "").split(",").some((r) => r.trim().toLowerCase() === "admin");
    await fc.assert(
      fc.asyncProperty(request("GET", fc.constant("/v1/mservices"), { roles }), async (req) => {
        const res = await exercise(req);
        // refused before the route: a microversion header (400, 406), or a URL over Node's 16 KiB (431)
        if ([400, 406, 431].includes(res.status)) return;
        if (isAdmin(req.headers?.["x-roles"])) {
          assert.equal(res.status, 200, show(req, res));
          assert.deepEqual(res.json.mservices.map((m: { id: number; state: string }) => [m.id, m.state]), rows.map((r) => [r.id, r.binary === "bayforge-api" ? "up" : "down"]), show(req, res));
        } else {
          assert.equal(res.status, 403, show(req, res));
          assert.equal(res.json.errors[0].detail, "Policy doesn't allow magnum-service:get_all to be performed.", show(req, res));
        }
      }),
      fuzzParams(200),
    );
  });
});

describe("what the fuzzing left in the API's log", () => {
  it("holds no private key (the CAs it signed with and rotated to, the client keys), whatever was sent", async () => {
    const keys = [];
    for (const b of Object.values(fx.bays)) {
      const certs = await api.stores.table.getCerts(b.uuid);
      if (!certs) continue;
      keys.push(privateKey(`${b.name}'s CA key`, await api.vault.decrypt(certs.ca_key_encrypted, `bay:${b.uuid}:ca`)));
      keys.push(privateKey(`${b.name}'s client key`, await api.vault.decrypt(certs.client_key_encrypted, `bay:${b.uuid}:client`)));
      // a rotation's new CA and client keys, stored next to the current ones until its nodes have run it
      if (certs.next) {
        keys.push(privateKey(`${b.name}'s next CA key`, await api.vault.decrypt(certs.next.ca_key_encrypted, `bay:${b.uuid}:ca`)));
        keys.push(privateKey(`${b.name}'s next client key`, await api.vault.decrypt(certs.next.client_key_encrypted, `bay:${b.uuid}:client`)));
      }
    }
    assert.ok(keys.length >= 8);
    assert.ok(api.logs.some((l) => l.includes("certificate signed")) && api.logs.some((l) => l.includes("bay given a new CA")), "the fuzzing signed CSRs and started CA rotations");
    assert.deepEqual(leaks(Buffer.from(api.logs.join("\n")), keys), []);
  });
});
