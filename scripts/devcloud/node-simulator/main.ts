// The dev cloud's node simulator (full profile): Nova's fake virt driver makes servers ACTIVE
// without booting anything, so this daemon boots them. It follows the servers in Nova (admin,
// all projects) and runs each ACTIVE server's user_data once, part by part as cloud-init
// would, in a node sandbox on the server's Neutron addresses; a bay node's last part then
// signals its real Heat wait condition. See simulator.ts, network.ts, sandbox.ts.
//   DEVCLOUD_DIR=… OS_CLIENT_CONFIG_FILE=<dir>/clouds.yaml OS_CLOUD=devcloud-admin \
//     node --import tsx scripts/devcloud/node-simulator/main.ts
// Optional: NODE_SIMULATOR_POLL_S (5), NODE_SIMULATOR_CONCURRENCY (4),
// NODE_SIMULATOR_BOOT_TIMEOUT_S (1800). Logs to stdout; a log per node in <dir>/logs/nodes/.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openstackFromEnv } from "../../../shared/adapters/openstack/index.ts";
import { CloudReader } from "./cloud.ts";
import { NodeSimulator } from "./simulator.ts";

const log = (msg: string) => console.log(`${new Date().toISOString()} ${msg}`);
const num = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};

const dir = process.env.DEVCLOUD_DIR;
if (!dir) throw new Error("DEVCLOUD_DIR is not set");
if (process.getuid?.() !== 0) throw new Error("the node simulator needs root (network namespaces, unshare, chroot)");
const os = openstackFromEnv(process.env);
if (!os) throw new Error("no cloud configured: set OS_CLIENT_CONFIG_FILE and OS_CLOUD (devcloud-admin)");

const sim = new NodeSimulator(new CloudReader(os), {
  dir,
  concurrency: num("NODE_SIMULATOR_CONCURRENCY", 4),
  bootTimeoutMs: num("NODE_SIMULATOR_BOOT_TIMEOUT_S", 1800) * 1000,
  log,
});
const pollMs = num("NODE_SIMULATOR_POLL_S", 5) * 1000;

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping every node`);
    sim.shutdown().finally(() => process.exit(0));
  });
}
// A bad server or a failing service must not end the daemon: log and go on.
process.on("uncaughtException", (e) => log(`unexpected error: ${e.stack ?? e}`));
process.on("unhandledRejection", (e) => log(`unexpected rejection: ${e instanceof Error ? e.stack : e}`));

/** Which code runs (the dev-cloud script restarts the simulator when its files change). */
const code = createHash("sha256");
for (const d of [import.meta.dirname, join(import.meta.dirname, "sandbox")])
  for (const f of readdirSync(d).sort()) if (/\.(ts|mjs|sh)$/.test(f)) code.update(readFileSync(join(d, f)));

await sim.adopt();
log(`node simulator up: following Nova's servers every ${pollMs / 1000} s, ${process.env.NODE_SIMULATOR_CONCURRENCY ?? 4} boots at a time, code ${code.digest("hex").slice(0, 12)} (state in ${dir}/node-simulator, namespaces ${sim.names.prefix}*)`);
let lastError = "";
while (!stopping) {
  try {
    await sim.tick();
    lastError = "";
  } catch (e) {
    // the cloud may be starting or restarting: say it once, keep polling
    const msg = e instanceof Error ? e.message : String(e);
    if (msg !== lastError) log(`poll failed: ${msg}`);
    lastError = msg;
  }
  await new Promise((r) => setTimeout(r, pollMs));
}
