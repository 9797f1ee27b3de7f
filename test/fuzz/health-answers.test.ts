// Fuzzing the health check with what a hostile or broken bay API may answer: oversized bodies,
// malformed JSON, JSON of any shape, huge node lists, long and odd names, endless pagination,
// connections cut mid-answer. A bay's API is the tenant's. Every answer goes through the real
// path (TLS with the bay's client certificate, the Kubernetes adapter, the check step, the
// embedded table); for every one the check ends, the bay shows one of Magnum's three values,
// and the reason stays small: strings only, one line each, a bounded number of them.
// FUZZ_SEED / FUZZ_SCALE: see support/runs.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerResponse } from "node:http";
import { fuzzParams } from "./support/runs.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { KubernetesClients } from "../../shared/adapters/kubernetes/index.ts";
import { generateBayCertificates } from "../../shared/certs/bay-ca.ts";
import { HEALTH_STATUSES, MAX_NODE_NAME, MAX_REASON_NODES, MAX_REASON_TEXT } from "../../shared/domain/health.ts";
import { checkHealth } from "../../functions/worker/steps/check-health.ts";
import { standinServingCertificate, startKubeApiStandin, type KubeAnswer, type KubeApiStandin } from "../support/kube-api-standin.ts";
import { stepDeps, storeBayCerts, storedBay } from "../support/worker-deps.ts";

/** The adapter's cap on one answer, made small here so that "oversized" stays cheap to send. */
const CAP = 256 * 1024;

let dir: string;
let stores: LocalStores;
let vault: LocalKeyVault;
let kube: KubeApiStandin;
/** what the stand-in answers to each path in the current case */
let answers: Record<string, KubeAnswer> = {};
let bayTemplate: { certs: Awaited<ReturnType<typeof generateBayCertificates>> };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-health-fuzz-"));
  stores = openLocalStores(dir);
  vault = await LocalKeyVault.forDataDir(dir, {});
  const certs = await generateBayCertificates({ bayUuid: "9b7e3d10-0000-4000-8000-0000000000f0", bayName: "fuzz" });
  const { cert, key } = standinServingCertificate(certs);
  kube = await startKubeApiStandin({
    ca: certs.caCertPem,
    cert,
    key,
    listen: { port: 0 },
    handle: (c) => answers[c.path.split("?")[0]] ?? { status: 404, body: {} },
  });
  bayTemplate = { certs };
});
after(async () => {
  await kube?.close();
  await stores?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An answer written as it is: any status, any bytes, any content type (or a connection cut). */
const raw = (status: number, body: string | Buffer, contentType = "application/json", cut = false): KubeAnswer => ({
  status,
  raw: (res: ServerResponse) => {
    if (cut) {
      res.writeHead(status, { "content-type": contentType, "content-length": String(Buffer.byteLength(body) + 1000) });
      res.write(body);
      return void res.socket?.destroy();
    }
    res.writeHead(status, { "content-type": contentType }).end(body);
  },
});

const statusArb = fc.constantFrom(200, 200, 200, 201, 204, 301, 401, 403, 404, 429, 500, 503);
const nameArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 400 }),
  fc.constantFrom("", "__proto__", "constructor", "api", "nodes", "<img src=x onerror=alert(1)>", "a\nb\u0000c\u2028d", "x".repeat(100_000)),
);
const readyArb = fc.oneof(fc.constantFrom("True", "False", "Unknown", "true", "yes", ""), fc.jsonValue({ maxDepth: 2 }));
const conditionsArb = fc.oneof(
  fc.array(fc.record({ type: fc.constantFrom("Ready", "MemoryPressure", "DiskPressure", "ready"), status: readyArb }, { requiredKeys: [] }), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const nodeArb = fc.oneof({ weight: 5, arbitrary: fc.record({ metadata: fc.record({ name: nameArb }, { requiredKeys: [] }), status: fc.record({ conditions: conditionsArb }, { requiredKeys: [] }) }, { requiredKeys: [] }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
/** many nodes, cheaply: n copies of a generated one with numbered names */
const manyNodesArb = fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 300 }), fc.boolean()).map(([n, len, ready]) =>
  Array.from({ length: n }, (_, i) => ({ metadata: { name: `${"n".repeat(len)}-${i}` }, status: { conditions: [{ type: "Ready", status: ready || i % 7 ? "True" : "False" }] } })),
);

const nodesAnswerArb: fc.Arbitrary<KubeAnswer> = fc.oneof(
  fc.tuple(statusArb, fc.array(nodeArb, { maxLength: 20 }), fc.option(fc.string({ maxLength: 50 }))).map(([status, items, cont]) => ({ status, body: { kind: "NodeList", metadata: cont === null ? {} : { continue: cont }, items } })),
  manyNodesArb.map((items) => ({ status: 200, body: { kind: "NodeList", metadata: {}, items } })),
  // endless pagination: the same page and a continue token, every time
  fc.array(nodeArb, { maxLength: 5 }).map((items) => ({ status: 200, body: { metadata: { continue: "again" }, items } })),
  fc.tuple(statusArb, fc.jsonValue({ maxDepth: 4 })).map(([status, body]) => ({ status, body })),
  fc.tuple(statusArb, fc.string({ maxLength: 200 })).map(([status, text]) => raw(status, `{"items": [${text}`)),
  fc.constant(raw(200, Buffer.alloc(CAP + 10, "["))),
  fc.constant(raw(200, `{"items": [${'{"metadata":{"name":"x"}},'.repeat(100)}`, "application/json", true)),
);
const readyzAnswerArb: fc.Arbitrary<KubeAnswer> = fc.oneof(
  fc.tuple(statusArb, fc.constantFrom("ok", "")).map(([s, t]) => raw(s, t, "text/plain")),
  fc.tuple(statusArb, fc.string({ unit: "binary", maxLength: 2000 })).map(([s, t]) => raw(s, t, "text/plain")),
  fc.tuple(statusArb, fc.jsonValue({ maxDepth: 3 })).map(([status, body]) => ({ status, body })),
  fc.constant(raw(200, Buffer.alloc(CAP + 10, "o"), "text/plain")),
  fc.constant(raw(200, "ok-ok-ok", "text/plain", true)),
);
const versionAnswerArb: fc.Arbitrary<KubeAnswer> = fc.oneof(
  fc.constantFrom("v1.35.8", "v1.2", "<script>", "v1.35.8\n", "x".repeat(5000)).map((gitVersion) => ({ status: 200, body: { gitVersion } })),
  fc.tuple(statusArb, fc.jsonValue({ maxDepth: 3 })).map(([status, body]) => ({ status, body })),
);

describe("health check: hostile bay API answers (fuzz)", () => {
  it("always ends with one of Magnum's values and a small reason of one-line strings", async () => {
    const deps = stepDeps({
      table: stores.table,
      queue: stores.queue,
      vault,
      kubernetes: new KubernetesClients({ maxResponseBytes: CAP }),
      health: { intervalSeconds: 60, perSweep: 1, connectTimeoutMs: 1_000, budgetMs: 10_000 },
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(readyzAnswerArb, nodesAnswerArb, versionAnswerArb, async (readyz, nodes, version) => {
        answers = { "/readyz": readyz, "/api/v1/nodes": nodes, "/version": version };
        const { certs } = bayTemplate;
        const bay = await storedBay(stores.table, `fuzz-${++n}`, { status: "CREATE_COMPLETE", api_address: kube.url! });
        await storeBayCerts(stores.table, vault, bay.uuid, certs);
        await checkHealth({ v: 1, kind: "bay.health", bayId: bay.uuid, projectId: "p", requestId: "r", attempt: 0 }, deps);
        const after = (await stores.table.getBay(bay.uuid))!;
        assert.ok(HEALTH_STATUSES.includes(after.health_status!), `status ${after.health_status}`);
        const reason = after.health_status_reason!;
        const entries = Object.entries(reason);
        assert.ok(entries.length >= 1 && entries.length <= MAX_REASON_NODES + 2, `${entries.length} entries`);
        for (const [k, v] of entries) {
          assert.equal(typeof v, "string");
          assert.ok(k === "api" || k === "nodes" || (k.endsWith(".Ready") && k.length <= MAX_NODE_NAME + 6 && /^[A-Za-z0-9._?()-]+$/.test(k)), `key ${JSON.stringify(k.slice(0, 80))}`);
          if (k.endsWith(".Ready")) assert.ok(v === "True" || v === "False");
          else assert.ok(v.length <= MAX_REASON_TEXT && !/[\u0000-\u001f\u007f\u2028\u2029]/.test(v), `${k}: ${JSON.stringify(v.slice(0, 80))}`);
        }
        assert.ok(JSON.stringify(reason).length < 40_000);
        if (after.health_status === "HEALTHY") assert.equal(reason.api, "ok");
        assert.match(after.coe_version ?? "", /^v\d+\.\d+\.\d+/);
        assert.ok(after.coe_version!.length <= 100);
      }),
      fuzzParams(60),
    );
  });
});
