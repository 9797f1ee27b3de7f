// The value of the OpenStack secret the functions read (BAYFORGE_OPENSTACK_SECRET_ARN) from the
// same OS_CLOUD / OS_* variables as `npm start`: the named cloud's clouds.yaml entry (one cloud,
// as the deployed secret holds), or a JSON object of the OS_* variables. Without either, the
// dev cloud's bayforge service user, as `npm start` does.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { findCloud } from "../../shared/adapters/openstack/config/find.ts";
import { loadCloudConfig } from "../../shared/adapters/openstack/config/index.ts";

export function openstackSecretValue(env: NodeJS.ProcessEnv, root: string, log: (msg: string) => void): string {
  let e = env;
  if (!loadCloudConfig(e)) {
    const dir = env.DEVCLOUD_DIR ?? join(root, ".bayforge", "devcloud");
    const devcloud = (...args: string[]) => spawnSync("bash", [join(root, "scripts/devcloud/devcloud.sh"), ...args], { stdio: ["ignore", "ignore", "inherit"], env: { ...env, DEVCLOUD_DIR: dir } }).status;
    if (devcloud("status") !== 0) {
      log(`no OpenStack cloud configured (OS_CLOUD / OS_AUTH_URL); bringing up the dev cloud's light profile in ${dir}`);
      if (devcloud("up") !== 0) throw new Error(`the dev cloud did not come up; see ${join(dir, "logs")}`);
    }
    e = { ...env, OS_CLIENT_CONFIG_FILE: join(dir, "clouds.yaml"), OS_CLOUD: "devcloud-bayforge" };
    log(`acting as the dev cloud's bayforge service user (OS_CLOUD=devcloud-bayforge in ${e.OS_CLIENT_CONFIG_FILE})`);
  }
  const cloud = e.OS_CLOUD?.trim();
  if (cloud) {
    const { raw } = findCloud(cloud, e, {});
    return JSON.stringify({ clouds: { [cloud]: raw } });
  }
  return JSON.stringify(Object.fromEntries(Object.entries(e).filter(([k, v]) => k.startsWith("OS_") && v)));
}
