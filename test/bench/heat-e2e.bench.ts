// A bay end to end on the real dev cloud vs the same stack created directly on Heat, in one
// run, alternating: POST /v1/bays → CREATE_COMPLETE as the API shows it, against POST
// /stacks (same template, files and parameters, as the demo user) → CREATE_COMPLETE as Heat
// shows it, both watched every 250 ms (and Heat asked for the stack as often in both: its API
// and engine share one process). Goal: Bayforge ≤ Heat + 1 s (median). Bayforge runs with its
// default settings (Keystone mode, default poll schedule) behind proxies that count its
// Heat API calls per bay (goal ≤ 10 on average) and its Keystone calls per bay (token
// validations, trusts, the trustee user, trust-scoped tokens).
//   node --import tsx test/bench/heat-e2e.bench.ts   (BENCH_ROUNDS, default 5; needs the dev cloud)
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dump, load, CORE_SCHEMA } from "js-yaml";
import { api, startBayforge } from "../support/bayforge-process.ts";
import { cloudsYamlPath, ensureDevcloudUp, withKeystoneHashRounds } from "../support/devcloud.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import { demoCloud } from "../support/heat-check.ts";
import { kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";
import { percentile, writeResult } from "./results.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS) || 5;
const WATCH_MS = 250;
const RUN = `e2e${Date.now().toString(36)}`;

await ensureDevcloudUp();
const os = demoCloud();
const heatBase = new URL(await os.heat.endpoint()).origin;
const proxy = await startFaultProxy(heatBase);
const keystone = await startFaultProxy(new URL(os.session.cloud.auth.authUrl).origin);
const dir = mkdtempSync(join(tmpdir(), "bf-bench-e2e-"));
const doc = load(readFileSync(cloudsYamlPath(), "utf8"), { schema: CORE_SCHEMA }) as { clouds: Record<string, Record<string, unknown>> };
doc.clouds["devcloud-bayforge"].orchestration_endpoint_override = `${proxy.url}/v1/%(project_id)s`;
const auth = doc.clouds["devcloud-bayforge"].auth as Record<string, string>;
auth.auth_url = `${keystone.url}${new URL(auth.auth_url).pathname}`;
const clouds = join(dir, "clouds.yaml");
writeFileSync(clouds, dump(doc));
const bf = await startBayforge({ dataDir: dir, env: { OS_CLIENT_CONFIG_FILE: clouds } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Round = { bayforgeSeconds: number; heatSeconds: number; stackPostAfter: number; stackPostSeconds: number; directPostSeconds: number; heatCalls: number; callsByKind: Record<string, number>; keystoneCalls: number; keystoneByKind: Record<string, number> };
/** `METHOD /path` with ids folded, for counting calls by kind. */
const kind = (c: { method: string; path: string }) =>
  `${c.method} ${c.path.replace(/\?.*$/, "").replace(/\/[0-9a-f]{32}(?=\/|$)/g, "/{id}").replace(/\/v1\/\{id\}/, "").replace(/\/stacks\/[^/]+\/[^/]+/, "/stacks/{name}/{id}").replace(/\/stacks\/[^/{]+$/, "/stacks/{name}")}`;
const byKind = (calls: Array<{ method: string; path: string }>) => {
  const out: Record<string, number> = {};
  for (const c of calls) out[kind(c)] = (out[kind(c)] ?? 0) + 1;
  return out;
};
try {
  const model = await api(bf.url, "POST", "/v1/baymodels", { name: `${RUN}-model`, coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "demo-key", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium" });
  if (model.status !== 201) throw new Error(`baymodel: ${model.status} ${JSON.stringify(model.json)}`);
  const { template, files } = kubeclusterTemplate();
  // at the dev cloud's bcrypt cost (4) and at Keystone's default (12), which every trustee user
  // made pays in Keystone (BENCH_HASH_ROUNDS: which, default "4,12")
  for (const hashRounds of (process.env.BENCH_HASH_ROUNDS ?? "4,12").split(",").map(Number)) {
    await withKeystoneHashRounds(hashRounds, async () => {
      const rounds: Round[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        // Bayforge, end to end
        proxy.seen.length = 0;
        keystone.seen.length = 0;
        const t0 = performance.now();
        const made = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-${hashRounds}-bay${i}`, baymodel_id: `${RUN}-model`, node_count: 2, master_count: 1 });
        if (made.status !== 201 && made.status !== 202) throw new Error(`bay: ${made.status} ${JSON.stringify(made.json)}`);
        const uuid = made.json.uuid as string;
        let bay: any;
        // Heat sees the same load as in the direct run below, whose watcher asks Heat for the stack
        // every 250 ms (heat-all's API and engine share one process): here the bench asks Heat for
        // Bayforge's stack as often, from when the bay shows its stack id
        let watching = true;
        const heatWatcher = (async () => {
          let stackName: string | undefined;
          while (watching) {
            if (bay?.stack_id) {
              stackName ??= (await os.heat.findStack(bay.stack_id))?.stack_name; // once: the name the bay does not show
              if (stackName) await os.heat.getStack(stackName, bay.stack_id).catch(() => {});
            }
            await sleep(WATCH_MS);
          }
        })();
        for (;;) {
          bay = (await api(bf.url, "GET", `/v1/bays/${uuid}`)).json;
          if (!String(bay.status).endsWith("IN_PROGRESS")) break;
          await sleep(WATCH_MS);
        }
        const bayforgeSeconds = (performance.now() - t0) / 1000;
        watching = false;
        await heatWatcher;
        if (bay.status !== "CREATE_COMPLETE") throw new Error(`bay ${uuid}: ${bay.status} ${bay.status_reason}`);
        const calls = proxy.seen.filter((c) => c.path.includes("/stacks"));
        const callsByKind = byKind(calls);
        // where the time went: Bayforge's POST /stacks, from the bay's POST, and how long Heat took to answer it
        const post = calls.find((c) => c.method === "POST");
        const stackPostAfter = post ? (post.at - t0) / 1000 : NaN;
        const stackPostSeconds = (post?.ms ?? NaN) / 1000;
        const keystoneCalls = [...keystone.seen];

        // The same stack directly on Heat: Bayforge's parameters (hidden ones come back masked
        // and are filled with a placeholder: nothing boots here, so nothing reads them)
        const theirs = await os.heat.findStack(bay.stack_id);
        const parameters = Object.fromEntries(
          Object.entries(theirs?.parameters ?? {}).filter(([k]) => !k.startsWith("OS::")).map(([k, v]) => [k, v === "******" ? "x" : v]),
        );
        const t1 = performance.now();
        const direct = await os.heat.createStack({ stack_name: `${RUN}-${hashRounds}-direct${i}`, template, files, parameters });
        const directPostSeconds = (performance.now() - t1) / 1000;
        let status: string;
        for (;;) {
          const s = await os.heat.getStack(`${RUN}-${hashRounds}-direct${i}`, direct.id);
          status = s?.stack_status ?? "GONE";
          if (!status.endsWith("IN_PROGRESS")) break;
          await sleep(WATCH_MS);
        }
        const heatSeconds = (performance.now() - t1) / 1000;
        if (status !== "CREATE_COMPLETE") throw new Error(`direct stack: ${status}`);
        const s2 = (n: number) => Number(n.toFixed(2));
        rounds.push({ bayforgeSeconds: s2(bayforgeSeconds), heatSeconds: s2(heatSeconds), stackPostAfter: s2(stackPostAfter), stackPostSeconds: s2(stackPostSeconds), directPostSeconds: s2(directPostSeconds), heatCalls: calls.length, callsByKind, keystoneCalls: keystoneCalls.length, keystoneByKind: byKind(keystoneCalls) });
        console.log(JSON.stringify(rounds.at(-1)));

        await api(bf.url, "DELETE", `/v1/bays/${uuid}`);
        await os.heat.deleteStack(`${RUN}-${hashRounds}-direct${i}`, direct.id);
        for (let w = 0; w < 240; w++) {
          if ((await api(bf.url, "GET", `/v1/bays/${uuid}`)).status === 404) break;
          await sleep(500);
        }
      }
      const bfMed = percentile(rounds.map((r) => r.bayforgeSeconds), 50);
      const heatMed = percentile(rounds.map((r) => r.heatSeconds), 50);
      const result = {
        keystone: { passwordHashRounds: hashRounds, cache: "memcached" },
        what: "bay (1 master, 2 minions) POST → CREATE_COMPLETE through Bayforge (npm start, Keystone mode, default poll schedule) vs the same template and parameters created directly on the dev cloud's Heat; both watched every 250 ms, and Heat asked for each stack every 250 ms in both runs (the direct run's watcher; a twin of it in Bayforge's); rounds alternate",
        rounds,
        medianBayforgeSeconds: bfMed,
        medianHeatSeconds: heatMed,
        overheadSeconds: Number((bfMed - heatMed).toFixed(2)),
        // each round's bay against the direct stack made right after it (Heat's own time for one
        // stack varies by a second or two from the next: pairs cancel the drift)
        pairedOverheadSeconds: Number(percentile(rounds.map((r) => r.bayforgeSeconds - r.heatSeconds), 50).toFixed(2)),
        heatCallsPerBay: Number((rounds.reduce((a, r) => a + r.heatCalls, 0) / rounds.length).toFixed(1)),
        keystoneCallsPerBay: Number((rounds.reduce((a, r) => a + r.keystoneCalls, 0) / rounds.length).toFixed(1)),
        goal: { overheadSeconds: 1, heatCallsPerBay: 10 },
      };
      writeResult(hashRounds === 4 ? "heat-e2e" : `heat-e2e-bcrypt${hashRounds}`, result);
      console.log(JSON.stringify(result, null, 2));
    });
  }
} finally {
  await api(bf.url, "DELETE", `/v1/baymodels/${RUN}-model`).catch(() => {});
  await bf.kill("SIGTERM");
  await proxy.close();
  await keystone.close();
  await os.close();
}
