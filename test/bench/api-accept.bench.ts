// The API's accept path on the embedded default, alone in its own process (BAYFORGE_ROLE=api):
// POST /v1/bays → bay stored, discovery directory made, create message durably queued → 202.
// A load generator in this process keeps CONNECTIONS requests in flight on loopback for
// DURATION seconds and records every latency. Goals: noauth ≥ 3,000 req/s and p99 ≤ 20 ms;
// Keystone mode (what real deployments run: the dev cloud's real Keystone validates the
// token, cached once warm; the bay carries the token encrypted and the worker makes the
// trusts, so no Keystone write is on this path) ≥ 1,000 req/s and p99 ≤ 50 ms at 8 connections,
// with the dev cloud's bcrypt cost (4) and Keystone's default (12).
//   node --import tsx test/bench/api-accept.bench.ts   (BENCH_SECONDS, BENCH_CONNECTIONS)
// BENCH_RUNS=noauth-info,noauth-warn runs only those runs (auth-logLevel, the Keystone ones as
// keystone-info and keystone-info-12) and writes no results file: for A/B runs while working,
// without the dev cloud. Each run also reports the api process's CPU (user + system, from
// /proc) per request over the measured window, which load on the machine moves less than req/s.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Pool } from "undici";
import { devcloudEnv, freePort, userToken } from "../support/bayforge-process.ts";
import { ensureDevcloudUp, keystoneHashRounds } from "../support/devcloud.ts";
import { percentile, writeResult } from "./results.ts";

const root = resolve(import.meta.dirname, "..", "..");
const SECONDS = Number(process.env.BENCH_SECONDS) || 10;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS) || 32;

const results: Record<string, unknown>[] = [];
// noauth with default logging (info: one JSON line per accepted bay) and warn, then Keystone mode
const runs = [
  { auth: "noauth", logLevel: "info", connections: CONNECTIONS, goal: { reqPerSec: 3000, p99ms: 20 } },
  { auth: "noauth", logLevel: "warn", connections: CONNECTIONS, goal: { reqPerSec: 3000, p99ms: 20 } },
  { auth: "keystone", logLevel: "info", connections: 8, goal: { reqPerSec: 1000, p99ms: 50 } },
  // Keystone's own default bcrypt cost (the dev cloud's is 4): no password is checked on this
  // path, and this run shows it
  { auth: "keystone", logLevel: "info", connections: 8, goal: { reqPerSec: 1000, p99ms: 50 }, hashRounds: 12 },
];
const only = process.env.BENCH_RUNS?.split(",").map((s) => s.trim());
const selected = only ? runs.filter((r) => only.includes([r.auth, r.logLevel, ...(r.hashRounds ? [r.hashRounds] : [])].join("-"))) : runs;
// CPU time (user + system, ms) of a process so far, from /proc; undefined where there is none
const cpuMs = (pid: number | undefined): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
};
const defaultRounds = process.env.DEVCLOUD_PASSWORD_HASH_ROUNDS;
for (const { auth, logLevel, connections: CONNECTIONS, goal, hashRounds } of selected) {
const keystone = auth === "keystone";
if (hashRounds) process.env.DEVCLOUD_PASSWORD_HASH_ROUNDS = String(hashRounds);
if (keystone) await ensureDevcloudUp();
const dataDir = mkdtempSync(join(tmpdir(), "bf-bench-api-"));
const port = await freePort();
const child = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), "--import", "tsx", "infra/local/start.ts"], {
  cwd: root,
  env: { ...process.env, ...(keystone ? devcloudEnv() : {}), BAYFORGE_ROLE: "api", BAYFORGE_AUTH: auth, PORT: String(port), BAYFORGE_DATA_DIR: dataDir, LOG_LEVEL: logLevel,
    // one project makes every bay here: no default quota (a project's own quota is still read per create)
    BAYFORGE_MAX_CLUSTERS_PER_PROJECT: "-1" },
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
  const headers: Record<string, string> = { "content-type": "application/json", "openstack-api-version": "container-infra 1.2" };
  if (keystone) headers["x-auth-token"] = await userToken("devcloud-demo");
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
  const cpuStart = cpuMs(child.pid);
  const end = start + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => { while (performance.now() < end) latencies.push(await one()); }));
  const elapsed = (performance.now() - start) / 1000;
  const cpuEnd = cpuMs(child.pid);
  const result = {
    what: `POST /v1/bays → stored + queued → 202, embedded default (SQLite WAL), API alone, ${keystone ? `Keystone mode (the dev cloud's Keystone, bcrypt cost ${keystoneHashRounds()})` : "noauth"}`,
    auth,
    ...(keystone ? { keystone: { passwordHashRounds: keystoneHashRounds(), cache: "memcached" } } : {}),
    logLevel,
    connections: CONNECTIONS,
    seconds: Number(elapsed.toFixed(2)),
    requests: latencies.length,
    errors,
    reqPerSec: Math.round(latencies.length / elapsed),
    p50ms: Number(percentile(latencies, 50).toFixed(2)),
    p99ms: Number(percentile(latencies, 99).toFixed(2)),
    ...(cpuStart !== undefined && cpuEnd !== undefined ? { apiCpuMsPerReq: Number(((cpuEnd - cpuStart) / latencies.length).toFixed(3)) } : {}),
    goal,
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
// the dev cloud's Keystone as it was
if (defaultRounds === undefined) delete process.env.DEVCLOUD_PASSWORD_HASH_ROUNDS;
else process.env.DEVCLOUD_PASSWORD_HASH_ROUNDS = defaultRounds;
if (selected.some((r) => r.hashRounds)) await ensureDevcloudUp();
if (!only) writeResult("api-accept", { runs: results, goal: { noauth: { reqPerSec: 3000, p99ms: 20 }, keystone: { reqPerSec: 1000, p99ms: 50, connections: 8 } } });
