// The dev cloud: a real Keystone + Heat on 127.0.0.1, run by scripts/devcloud/devcloud.sh
// (see scripts/devcloud/README.md). Tests call ensureDevcloudUp() before talking to it and
// find their credentials in cloudsYamlPath() (clouds `devcloud-admin`, `devcloud-demo`).
//
// Heat there behaves like a real cloud's: server_image "broken-image" makes a stack end
// CREATE_FAILED, "slow-image" takes 300 s to boot (timeout_mins 1 -> "Timed out").
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

/** The repository root (two levels above test/support/). */
export const repoRoot = resolve(here, "..", "..");

/** The dev cloud's control script. */
export const devcloudScript = join(repoRoot, "scripts", "devcloud", "devcloud.sh");

/** The state dir: $DEVCLOUD_DIR, or <repo>/.bayforge/devcloud (as devcloud.sh decides). */
export function devcloudDir(): string {
  const dir = process.env.DEVCLOUD_DIR;
  return dir ? resolve(dir) : join(repoRoot, ".bayforge", "devcloud");
}

/** clouds.yaml written by `devcloud.sh up` (clouds `devcloud-admin` and `devcloud-demo`). */
export function cloudsYamlPath(): string {
  return join(devcloudDir(), "clouds.yaml");
}

/** Keystone v3 URL of the dev cloud (DEVCLOUD_KEYSTONE_PORT, default 5000). */
export function devcloudAuthUrl(): string {
  return `http://127.0.0.1:${process.env.DEVCLOUD_KEYSTONE_PORT || "5000"}/v3`;
}

function run(command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "bash",
      [devcloudScript, command],
      { cwd: repoRoot, env: process.env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(`devcloud.sh ${command} failed (${error.code ?? error.signal ?? error.message}):\n${stderr}${stdout}`),
          );
        } else {
          resolvePromise(stdout);
        }
      },
    );
  });
}

let inFlight: Promise<void> | undefined;

/**
 * Brings the dev cloud up (`devcloud.sh up`): installs and bootstraps it the first time
 * (about a minute), restarts its processes when they are gone (or their configuration
 * changed), and returns in about 0.4 s when it already runs. Concurrent calls in one
 * process share one run; the script itself serializes callers from different processes.
 */
export function ensureDevcloudUp(): Promise<void> {
  inFlight ??= run("up", 15 * 60_000)
    .then(() => undefined)
    .finally(() => {
      inFlight = undefined;
    });
  return inFlight;
}

/** Stops the dev cloud's processes (`devcloud.sh down`); its state dir is kept. */
export async function devcloudDown(): Promise<void> {
  await run("down", 2 * 60_000);
}
