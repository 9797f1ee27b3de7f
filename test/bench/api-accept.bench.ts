// The API's accept path on the embedded default, alone in its own process (BAYFORGE_ROLE=api):
// POST /v1/bays → bay stored, discovery directory made, create message durably queued → 202.
// A load generator in this process keeps CONNECTIONS requests in flight on loopback for
// DURATION seconds and records every latency. Goal: ≥ 3,000 req/s and p99 ≤ 20 ms.
// noauth: the Keystone check is a cached hash lookup once warm, and a real Keystone on this
// 2-core machine would be measured instead of Bayforge.
//   node --import tsx test/bench/api-accept.bench.ts   (BENCH_SECONDS, BENCH_CONNECTIONS)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Pool } from "undici";
import { freePort } from "../support/bayforge-process.ts";
import { percentile, writeResult } from "./results.ts";

const root = resolve(import.meta.dirname, "..", "..");
const SECONDS = Number(process.env.BENCH_SECONDS) || 10;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS) || 32;

const results: Record<string, unknown>[] = [];
// default logging (info: one JSON line per accepted bay) and warn, side by side
for (const logLevel of ["info", "warn"]) {
const dataDir = mkdtempSync(join(tmpdir(), "bf-bench-api-"));
const port = await freePort();
const child = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), "--import", "tsx", "infra/local/start.ts"], {
  cwd: root,
  env: { ...process.env, BAYFORGE_ROLE: "api", BAYFORGE_AUTH: "noauth", PORT: String(port), BAYFORGE_DATA_DIR: dataDir, LOG_LEVEL: logLevel },
  stdio: ["ignore", "ignore", "pipe"],
});
let stderr = "";
child.stderr!.on("data", (d) => (stderr += d));
const url = `http://127.0.0.1:${port}`;
const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/`)).ok) break;
    } catch {
      /* not yet */
    }
    if (i > 200) throw new Error(`the API did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const headers = { "content-type": "application/json", "openstack-api-version": "container-infra 1.2" };
  const model = await pool.request({ method: "POST", path: "/v1/baymodels", headers, body: JSON.stringify({ name: "bench", coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "k", external_network_id: "public" }) });
  if (model.statusCode !== 201) throw new Error(`baymodel: ${model.statusCode} ${await model.body.text()}`);
  await model.body.dump();

  let n = 0;
  let errors = 0;
  const latencies: number[] = [];
  const one = async () => {
    const t = performance.now();
    const res = await pool.request({ method: "POST", path: "/v1/bays", headers, body: JSON.stringify({ name: `b${n++}`, baymodel_id: "bench", node_count: 1 }) });
    await res.body.dump();
    if (res.statusCode !== 202) errors++;
    return performance.now() - t;
  };
  // warm-up: JIT, SQLite page cache
  const warmEnd = performance.now() + 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => { while (performance.now() < warmEnd) await one(); }));
  errors = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => { while (performance.now() < end) latencies.push(await one()); }));
  const elapsed = (performance.now() - start) / 1000;
  const result = {
    what: "POST /v1/bays → stored + queued → 202, embedded default (SQLite WAL), API alone, noauth",
    logLevel,
    connections: CONNECTIONS,
    seconds: Number(elapsed.toFixed(2)),
    requests: latencies.length,
    errors,
    reqPerSec: Math.round(latencies.length / elapsed),
    p50ms: Number(percentile(latencies, 50).toFixed(2)),
    p99ms: Number(percentile(latencies, 99).toFixed(2)),
    goal: { reqPerSec: 3000, p99ms: 20 },
  };
  results.push(result);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await pool.close();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  rmSync(dataDir, { recursive: true, force: true });
}
}
writeResult("api-accept", { runs: results, goal: { reqPerSec: 3000, p99ms: 20 } });
