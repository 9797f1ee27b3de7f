// The dev cloud's two profiles side by side: how long `devcloud.sh up [--full]` takes from a
// stopped, already bootstrapped state dir; the resident memory and idle CPU of every process
// it started (the pid files in <dir>/run and their children); and a 1-master, 2-minion bay's
// time through Bayforge (behind an Octavia load balancer; POST → CREATE_COMPLETE, Keystone mode, default settings). On the
// full profile that time includes every node's simulated boot and wait-condition signal.
//   node --import tsx test/bench/devcloud-profiles.bench.ts   (BENCH_PROFILES=light,full)
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { api, startBayforge } from "../support/bayforge-process.ts";
import { devcloudDir, devcloudScript } from "../support/devcloud.ts";
import { writeResult } from "./results.ts";

const PROFILES = (process.env.BENCH_PROFILES ?? "light,full").split(",");
const IDLE_SECONDS = 30;
const RUN = `prof${Date.now().toString(36)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const devcloud = (...args: string[]) => {
  const r = spawnSync("bash", [devcloudScript, ...args], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error(`devcloud.sh ${args.join(" ")} failed (${r.status})`);
};

/** Every process of the dev cloud: the pids in <dir>/run/*.pid and all their descendants. */
function devcloudPids(): number[] {
  const run = join(devcloudDir(), "run");
  const roots = readdirSync(run)
    .filter((f) => f.endsWith(".pid"))
    .map((f) => Number(readFileSync(join(run, f), "utf8").trim()))
    .filter((p) => p > 0);
  const parent = new Map<number, number>();
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const all = new Set(roots.filter((p) => parent.has(p)));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) if (all.has(ppid) && !all.has(pid)) all.add(pid), (grew = true);
  }
  return [...all];
}

const rssMiB = (pids: number[]) =>
  Math.round(
    pids.reduce((sum, p) => {
      try {
        return sum + Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
      } catch {
        return sum;
      }
    }, 0) / 1024,
  );
/** CPU seconds (user + system) the processes have used so far. */
const cpuSeconds = (pids: number[]) =>
  pids.reduce((sum, p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return sum + (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
    } catch {
      return sum;
    }
  }, 0);

async function bayTime(): Promise<number> {
  const bf = await startBayforge();
  try {
    const model = { name: `${RUN}-model`, coe: "kubernetes", image_id: "ubuntu-noble", keypair_id: "default", external_network_id: "public", flavor_id: "m1.small", master_flavor_id: "m1.medium", master_lb_enabled: true };
    if ((await api(bf.url, "POST", "/v1/baymodels", model)).status !== 201) throw new Error("baymodel refused");
    const t0 = performance.now();
    const made = await api(bf.url, "POST", "/v1/bays", { name: `${RUN}-bay`, baymodel_id: `${RUN}-model`, master_count: 1, node_count: 2 });
    let bay: any;
    for (;;) {
      bay = (await api(bf.url, "GET", `/v1/bays/${made.json.uuid}`)).json;
      if (!String(bay.status).endsWith("IN_PROGRESS")) break;
      await sleep(250);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (bay.status !== "CREATE_COMPLETE") throw new Error(`bay ${bay.status}: ${bay.status_reason}`);
    await api(bf.url, "DELETE", `/v1/bays/${made.json.uuid}`);
    while ((await api(bf.url, "GET", `/v1/bays/${made.json.uuid}`)).status === 200) await sleep(1000);
    await api(bf.url, "DELETE", `/v1/baymodels/${RUN}-model`);
    return Number(seconds.toFixed(1));
  } finally {
    await bf.kill("SIGTERM");
  }
}

const runs = [];
for (const profile of PROFILES) {
  devcloud("up", ...(profile === "full" ? ["--full"] : [])); // installed and bootstrapped first
  devcloud("down");
  const t0 = performance.now();
  devcloud("up", ...(profile === "full" ? ["--full"] : []));
  const upSeconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  await sleep(5_000);
  const pids = devcloudPids();
  const cpu0 = cpuSeconds(pids);
  await sleep(IDLE_SECONDS * 1000);
  const idleCpuPercent = Number((((cpuSeconds(pids) - cpu0) / IDLE_SECONDS) * 100).toFixed(1));
  const residentMiB = rssMiB(pids);
  const bay1plus2Seconds = await bayTime();
  runs.push({ profile, upSeconds, processes: pids.length, residentMiB, idleCpuPercent, bay1plus2Seconds });
  console.log(JSON.stringify(runs.at(-1)));
}
writeResult("devcloud-profiles", {
  what: "`devcloud.sh up [--full]` from a stopped, bootstrapped state dir; resident memory and idle CPU (% of one core, over 30 s) of every dev-cloud process; a 1-master + 2-minion bay POST → CREATE_COMPLETE through Bayforge (Keystone mode)",
  runs,
});
