// A batch manifest of BENCH_BATCH_BAYS (1,000) bays: POST /v1/batches → every bay's stack
// requested from Heat. Goal ≤ 60 s here. The API and the worker run as two processes on the
// embedded default (as `npm start` splits with BAYFORGE_ROLE), noauth, with Bayforge's own
// service user on the dev cloud's real Keystone. Heat is a stand-in that answers every call at
// once and records each stack create: the dev cloud's single heat-engine takes seconds per
// nested stack, so a real Heat would measure Heat (heat-e2e.bench.ts measures it per bay).
// The worker's resident memory is sampled from /proc throughout (peak = VmHWM), first under a
// batch of 10, then under the 1,000.
//   node --import tsx test/bench/batch-fanout.bench.ts   (needs the dev cloud: `npm run devcloud up`)
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dump, load, CORE_SCHEMA } from "js-yaml";
import { startBayforge, type BayforgeProcess } from "../support/bayforge-process.ts";
import { cloudsYamlPath, ensureDevcloudUp } from "../support/devcloud.ts";
import { writeResult } from "./results.ts";

const BIG = Number(process.env.BENCH_BATCH_BAYS) || 1000;

await ensureDevcloudUp();

// The stand-in Heat: lookups by name answer 404 until the stack exists, creates answer 201
// with the stack's link, reads answer CREATE_IN_PROGRESS (the bays stay in progress).
const created = new Map<string, { id: string; at: number }>();
const heatCalls = new Map<string, number>();
const heat = createServer((req: IncomingMessage, res: ServerResponse) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    const url = new URL(req.url ?? "/", "http://heat");
    const path = url.pathname;
    const key = `${req.method} ${path.replace(/\/stacks\/[^/]+(\/[^/]+)?/, "/stacks/{stack}")}`;
    heatCalls.set(key, (heatCalls.get(key) ?? 0) + 1);
    const base = `http://${req.headers.host}${path.replace(/\/stacks.*$/, "")}`;
    const json = (status: number, doc: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(doc));
    };
    if (req.method === "POST" && path.endsWith("/stacks")) {
      const name = (JSON.parse(body) as { stack_name: string }).stack_name;
      let s = created.get(name);
      if (!s) created.set(name, (s = { id: randomUUID(), at: performance.now() }));
      return json(201, { stack: { id: s.id, links: [{ href: `${base}/stacks/${name}/${s.id}`, rel: "self" }] } });
    }
    const m = /\/stacks\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (req.method === "GET" && m) {
      const name = decodeURIComponent(m[1]);
      const s = created.get(name);
      if (!s) return json(404, { error: { message: `The Stack (${name}) could not be found.`, type: "EntityNotFound" } });
      if (!m[2]) return json(302, {}, { location: `${base}/stacks/${name}/${s.id}` });
      return json(200, { stack: { id: s.id, stack_name: name, stack_status: "CREATE_IN_PROGRESS", stack_status_reason: "", parameters: {}, outputs: [], creation_time: new Date().toISOString(), links: [] } });
    }
    json(200, { resources: [] });
  });
});
await new Promise<void>((r) => heat.listen(0, "127.0.0.1", r));
const heatUrl = `http://127.0.0.1:${(heat.address() as AddressInfo).port}`;

const dir = mkdtempSync(join(tmpdir(), "bf-bench-batch-"));
const doc = load(readFileSync(cloudsYamlPath(), "utf8"), { schema: CORE_SCHEMA }) as { clouds: Record<string, Record<string, unknown>> };
doc.clouds["devcloud-bayforge"].orchestration_endpoint_override = `${heatUrl}/v1/%(project_id)s`;
const clouds = join(dir, "clouds.yaml");
writeFileSync(clouds, dump(doc));

// one project makes the batch's 1,000 bays: no default quota
const env = { BAYFORGE_AUTH: "noauth", OS_CLIENT_CONFIG_FILE: clouds, BAYFORGE_POLL_DELAYS: "900", BAYFORGE_SWEEP_SECONDS: "3600", BAYFORGE_MAX_CLUSTERS_PER_PROJECT: "-1" };
const apiProc = await startBayforge({ dataDir: dir, role: "api", env });
let worker: BayforgeProcess | undefined;
const results: Record<string, unknown>[] = [];
try {
  worker = await startBayforge({ dataDir: dir, role: "worker", env });
  const workerPid = nodePid(worker.child.pid!);
  for (const bays of [10, BIG]) {
    const prefix = `fan${bays}x${Date.now().toString(36)}`;
    const manifest = {
      baymodels: [{ name: `${prefix}-model`, coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "k", external_network_id: "public", flavor_id: "m1.small" }],
      bays: Array.from({ length: bays }, (_, i) => ({ name: `${prefix}-${i}`, baymodel: `${prefix}-model`, node_count: 1 })),
    };
    const before = created.size;
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(rssKiB(workerPid, "VmRSS")), 100);
    const t0 = performance.now();
    const r = await fetch(`${apiProc.url}/v1/batches`, { method: "POST", headers: { "content-type": "application/yaml" }, body: dump(manifest) });
    if (r.status !== 202) throw new Error(`POST /v1/batches: ${r.status} ${await r.text()}`);
    const acceptedMs = performance.now() - t0;
    const deadline = t0 + 15 * 60_000;
    while ([...created.keys()].filter((k) => k.startsWith(prefix)).length < bays) {
      if (performance.now() > deadline) throw new Error(`only ${created.size - before} of ${bays} stacks requested after 15 minutes`);
      await new Promise((res) => setTimeout(res, 100));
    }
    clearInterval(sampler);
    const ats = [...created].filter(([k]) => k.startsWith(prefix)).map(([, s]) => s.at - t0);
    const allMs = Math.max(...ats);
    results.push({
      bays,
      postAnsweredMs: Math.round(acceptedMs),
      firstStackMs: Math.round(Math.min(...ats)),
      allStacksRequestedSeconds: Number((allMs / 1000).toFixed(1)),
      baysPerSecond: Number((bays / (allMs / 1000)).toFixed(1)),
      workerRssMiB: { atStart: Math.round((rss[0] ?? 0) / 1024), peak: Math.round(Math.max(...rss) / 1024) },
      ...(bays === BIG ? { goal: { allStacksRequestedSeconds: 60 } } : {}),
    });
    console.log(JSON.stringify(results.at(-1)));
  }
  const workerPeakMiB = Math.round(rssKiB(workerPid, "VmHWM") / 1024);
  const result = {
    what: `POST /v1/batches of N bays → every stack requested (stand-in Heat answering at once; real Keystone, noauth), API and worker as separate processes on the embedded default (worker concurrency ${process.env.BAYFORGE_WORKER_CONCURRENCY ?? 8})`,
    runs: results,
    workerPeakRssMiB: workerPeakMiB,
    heatCallsByKind: Object.fromEntries(heatCalls),
    note: "per bay the worker makes 2 RSA-2048 key pairs (Magnum's default rsa_key_size), encrypts the CA key, renders the template and asks Heat for the stack: key generation is most of its CPU",
  };
  writeResult("batch-fanout", result);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await worker?.kill("SIGTERM");
  await apiProc.kill("SIGTERM");
  heat.close();
}

/** The node process under `npm start` (startBayforge spawns npm, which spawns sh, then node). */
function nodePid(npmPid: number): number {
  const children = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const queue = [npmPid];
  while (queue.length) {
    const pid = queue.shift()!;
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (/start\.ts/.test(cmd) && cmd.startsWith("node")) return pid;
    queue.push(...children(pid));
  }
  throw new Error(`no node process under ${npmPid}`);
}

function rssKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}
