// The worker's own cost per bay, excluding Heat: bay.create on the embedded stores with real
// certificates (CA + client key pairs, encrypted into the vault), the template and its
// parameters, and the create call answered at once by a stand-in Orchestrator (Heat's time is
// measured separately, end to end). Sequential bays, so each figure is one bay's overhead.
// Goal: p50 ≤ 150 ms.   node --import tsx test/bench/worker-overhead.bench.ts  (BENCH_BAYS)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { acceptBay, parseBayRequest } from "../../shared/domain/bay.ts";
import { newBayModel } from "../../shared/domain/baymodel.ts";
import { kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";
import { createBay } from "../../functions/worker/steps/create-bay.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import { StandinHeat } from "../support/standin-heat.ts";
import { percentile, writeResult } from "./results.ts";

const BAYS = Number(process.env.BENCH_BAYS) || 150; // RSA key generation varies a lot: 40 bays gave p50s from 146 to 163 ms
const dir = mkdtempSync(join(tmpdir(), "bf-bench-worker-"));
const stores = openLocalStores(dir);
const vault = await LocalKeyVault.forDataDir(dir, {});
const heat = new StandinHeat();
const deps: WorkerDeps = {
  table: stores.table,
  queue: stores.queue,
  heatFor: () => heat,
  vault,
  log: createLogger({}, "warn"),
  template: () => kubeclusterTemplate(),
  pollDelays: [5],
  retryDelays: [5],
  now: () => new Date(),
  definitionContext: async (bay, token) => ({ authUrl: "http://keystone/v3", username: "demo", tenantName: "demo", userToken: token, magnumUrl: "http://bayforge/v1", discoveryUrl: bay.discovery_url ?? "http://bayforge/v1/discovery/x" }),
};
const model = newBayModel({ name: "m", coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "k", external_network_id: "public" }, { projectId: "p", userId: "u" }, new Date().toISOString());
await stores.table.putBayModel(model);

const times: number[] = [];
const rss: number[] = [];
for (let i = 0; i < BAYS + 3; i++) {
  const bay = acceptBay(parseBayRequest({ name: `b${i}`, baymodel_id: model.uuid }), model.uuid, { projectId: "p", userId: "u" }, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: `r${i}`, now: new Date() });
  await stores.table.createBay(bay);
  const t = performance.now();
  await createBay({ v: 1, kind: "bay.create", bayId: bay.uuid, projectId: "p", requestId: `r${i}`, attempt: 0 }, deps);
  const ms = performance.now() - t;
  if (i >= 3) times.push(ms); // the first few warm the JIT and the template cache
  rss.push(process.memoryUsage().rss);
}
const stored = (await stores.table.listBays({})).filter((b) => b.stack_id).length;
const result = {
  what: "bay.create step per bay excluding Heat: CA + client certificate (RSA 2048), vault encryption, template + parameters, stack create call (stand-in), bay update + first poll enqueued",
  bays: times.length,
  stacksRequested: stored - 3,
  p50ms: Number(percentile(times, 50).toFixed(1)),
  p99ms: Number(percentile(times, 99).toFixed(1)),
  maxRssMiB: Math.round(Math.max(...rss) / 2 ** 20),
  goal: { p50ms: 150 },
};
writeResult("worker-overhead", result);
console.log(JSON.stringify(result, null, 2));
await stores.close();
rmSync(dir, { recursive: true, force: true });
