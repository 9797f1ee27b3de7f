// The dev cloud: a real Keystone + Heat on 127.0.0.1, run by scripts/devcloud/devcloud.sh
// (see scripts/devcloud/README.md). Tests call ensureDevcloudUp() before talking to it and
// find their credentials in cloudsYamlPath() (clouds `devcloud-admin`, `devcloud-demo`).
//
// Heat there behaves like a real cloud's: server_image "broken-image" makes a stack end
// CREATE_FAILED, "slow-image" takes 300 s to boot (timeout_mins 1 -> "Timed out").
//
// ensureDevcloudUp({ full: true }) brings up the full profile instead: real Nova (fake virt
// driver), Neutron, Glance, Placement and Octavia (noop amphorae) beside Keystone and Heat,
// and the node simulator. Switching profiles restarts Heat (and stops or starts the rest):
// run the light-profile tests and the full-profile ones one after the other, not together.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
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

/** The dev cloud's Keystone API as the holder of `token()` (read at each call): status and parsed JSON. */
export function keystoneAs(token: () => string): (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }> {
  return async (method, path, body) => {
    const res = await fetch(`${devcloudAuthUrl()}${path}`, { method, headers: { "content-type": "application/json", "x-auth-token": token() }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
}

/** The profile the dev cloud last came up with (`light` when it never did). */
export function devcloudProfile(): "light" | "full" {
  try {
    return readFileSync(join(devcloudDir(), ".profile"), "utf8").trim() === "full" ? "full" : "light";
  } catch {
    return "light";
  }
}

function run(command: string, timeoutMs: number, args: string[] = []): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "bash",
      [devcloudScript, command, ...args],
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

const inFlight = new Map<"light" | "full", Promise<void>>();

/**
 * Brings the dev cloud up (`devcloud.sh up`, or `up --full` with `{ full: true }`): installs
 * and bootstraps it the first time (about a minute; the full profile about two), restarts
 * its processes when they are gone (or their configuration changed), and returns in about
 * 0.5 s when it already runs with that profile. Concurrent calls in one process share one
 * run per profile; the script itself serializes callers from different processes.
 */
export function ensureDevcloudUp(options: { full?: boolean } = {}): Promise<void> {
  const profile = options.full ? "full" : "light";
  let pending = inFlight.get(profile);
  if (!pending) {
    pending = run("up", 15 * 60_000, options.full ? ["--full"] : [])
      .then(() => undefined)
      .finally(() => {
        inFlight.delete(profile);
      });
    inFlight.set(profile, pending);
  }
  return pending;
}

/** Stops the dev cloud's processes (`devcloud.sh down`); its state dir is kept. */
export async function devcloudDown(): Promise<void> {
  await run("down", 2 * 60_000);
}

/** The bcrypt cost the dev cloud's Keystone hashes new passwords with (devcloud.sh: 4 unless told). */
export const keystoneHashRounds = (): number => Number(process.env.DEVCLOUD_PASSWORD_HASH_ROUNDS) || 4;

/**
 * Runs `fn` with the dev cloud's Keystone hashing new passwords with `rounds` (Keystone's
 * default is 12; the dev cloud's 4), restarting Keystone for it and again after. For the
 * benchmarks: what a production Keystone costs the paths that make users or check passwords.
 */
export async function withKeystoneHashRounds<T>(rounds: number, fn: () => Promise<T>): Promise<T> {
  const before = process.env.DEVCLOUD_PASSWORD_HASH_ROUNDS;
  process.env.DEVCLOUD_PASSWORD_HASH_ROUNDS = String(rounds);
  try {
    await ensureDevcloudUp();
    return await fn();
  } finally {
    if (before === undefined) delete process.env.DEVCLOUD_PASSWORD_HASH_ROUNDS;
    else process.env.DEVCLOUD_PASSWORD_HASH_ROUNDS = before;
    await ensureDevcloudUp();
  }
}
