// `npm start`: Bayforge's API and worker in one process on the embedded stores. With no
// cloud configured (no OS_CLOUD, no OS_AUTH_URL) it first brings up the dev cloud (a real
// Keystone + Heat on 127.0.0.1, see scripts/devcloud/) and runs as its `bayforge` service
// user; users call with their own Keystone tokens (e.g. the dev cloud's demo user).
//   BAYFORGE_ROLE=api|worker|all (default all) runs one part alone.
//   BAYFORGE_DEVCLOUD=full brings up the dev cloud's full profile (real Nova, Neutron, Glance,
//   Placement, Octavia and the node simulator) instead of the light one.
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { loadCloudConfig } from "../../shared/adapters/openstack/config/index.ts";
import { startEmbedded } from "./embedded.ts";

const root = resolve(import.meta.dirname, "../..");
const role = process.env.BAYFORGE_ROLE ?? "all";
if (!["api", "worker", "all"].includes(role)) {
  console.error(`BAYFORGE_ROLE must be api, worker or all, not ${role}`);
  process.exit(2);
}
const env = { ...process.env };
let devcloudStarted = false;

if ((role !== "api" || env.BAYFORGE_AUTH !== "noauth") && !loadCloudConfig(env)) {
  const dir = env.DEVCLOUD_DIR ?? join(root, ".bayforge", "devcloud");
  const full = env.BAYFORGE_DEVCLOUD === "full";
  console.error(`bayforge: no OpenStack cloud configured (OS_CLOUD / OS_AUTH_URL); bringing up the dev cloud's ${full ? "full" : "light"} profile in ${dir} (first time: installs Debian's packages, a few minutes)`);
  const devcloud = (...args: string[]) =>
    spawnSync("bash", [join(root, "scripts/devcloud/devcloud.sh"), ...args], { stdio: ["ignore", "ignore", "inherit"], env: { ...env, DEVCLOUD_DIR: dir } }).status;
  devcloudStarted = devcloud("status") !== 0;
  // a running light profile is extended when the full one is asked for; otherwise a running
  // dev cloud is used as it is
  if ((devcloudStarted || full) && devcloud("up", ...(full ? ["--full"] : [])) !== 0) {
    console.error("bayforge: the dev cloud did not come up; see", join(dir, "logs"));
    process.exit(1);
  }
  env.OS_CLIENT_CONFIG_FILE = join(dir, "clouds.yaml");
  env.OS_CLOUD = "devcloud-bayforge";
  console.error(`bayforge: acting as the dev cloud's bayforge service user (OS_CLOUD=devcloud-bayforge in ${env.OS_CLIENT_CONFIG_FILE})`);
  console.error(`bayforge: call the API with a user's token, e.g. TOKEN=$(openstack --os-cloud devcloud-demo token issue -f value -c id)`);
  if (devcloudStarted) {
    process.on("exit", () => {
      console.error("bayforge: stopping the dev cloud it started");
      devcloud("down");
    });
  }
}

try {
  const running = await startEmbedded({ api: role !== "worker", worker: role !== "api" }, env);
  if (running.url) console.error(`bayforge: API on ${running.url} (data in ${running.settings.dataDir})`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`bayforge: ${signal}, stopping`);
    await running.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
} catch (e) {
  console.error(`bayforge: ${(e as Error).message}`);
  process.exit(1);
}
