// `npm test`: brings up the dev cloud (a real Keystone + Heat on 127.0.0.1, installed from
// Debian's packages on first use) unless it is already running, and runs every test file under
// test/ with node:test (Node 20 does not expand globs, so the files are listed here), in two
// phases on the same dev cloud:
//   1. the light profile (Nova/Neutron/Octavia resources are placeholders): everything but test/full/;
//   2. the full profile (real Glance, Placement, Nova, Neutron, Octavia and the node simulator):
//      test/full/, one file at a time (each boots real servers' user_data on 2 cores).
// It stops the dev cloud again if it started it. CI reads each phase's closing "# pass N" / "# fail N".
//   node scripts/run-tests.mjs [files...]   (default: every test/**/*.test.ts but test/bench)
//   BAYFORGE_TEST_CLOUD=light               skips phase 2
import { readdirSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";

const root = resolve(import.meta.dirname, "..");
process.chdir(root);
const walk = (d) =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === "bench" ? [] : walk(join(d, e.name))) : e.name.endsWith(".test.ts") ? [join(d, e.name)] : [],
  );
const only = process.argv.slice(2);
const files = only.length ? only : walk("test").sort();
if (!files.length) {
  console.error("no test files found");
  process.exit(1);
}
const isFull = (f) => resolve(f).startsWith(resolve("test", "full") + sep);
const lightFiles = files.filter((f) => !isFull(f));
const fullFiles = process.env.BAYFORGE_TEST_CLOUD === "light" ? [] : files.filter(isFull);

const env = {
  ...process.env,
  DEVCLOUD_DIR: process.env.DEVCLOUD_DIR ?? join(root, ".bayforge", "devcloud"),
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};
const devcloud = (...args) => spawnSync("bash", ["scripts/devcloud/devcloud.sh", ...args], { stdio: ["ignore", "ignore", "inherit"], env }).status;
// Each failure's TAP block ("not ok" and its YAML, bounded) is kept and printed again at the very
// end: a CI log that keeps only its tail still names what failed, with its error and location.
const failures = [];
const runTests = (list, concurrency) =>
  new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", `--test-concurrency=${concurrency}`, ...list], { stdio: ["ignore", "pipe", "inherit"], env });
    let block = null;
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => {
      process.stdout.write(line + "\n");
      if (block) {
        if (block.length < 80) block.push(line);
        if (/^\s*\.\.\.$/.test(line)) block = null;
      } else if (/^\s*not ok \d+/.test(line) && failures.length < 50) failures.push((block = [line]));
    });
    child.on("close", (code) => done(code ?? 1));
  });

const needsCloud = process.env.BAYFORGE_TEST_NO_CLOUD !== "1";
// Stopped again at the end only if this run started it: a status check that failed under load
// while the cloud ran is corrected by `up`, which says "already up" and changes nothing.
let started = needsCloud && devcloud("status") !== 0;
const bringUp = (profile) => {
  console.log(`# bringing up the dev cloud's ${profile} profile on 127.0.0.1 for the tests`);
  const up = spawnSync("bash", ["scripts/devcloud/devcloud.sh", "up", ...(profile === "full" ? ["--full"] : [])], { stdio: ["ignore", "ignore", "pipe"], env, encoding: "utf8" });
  process.stderr.write(up.stderr ?? "");
  if (profile === "light" && /already up/.test(up.stderr ?? "")) started = false;
  if (up.status === 0) return true;
  console.error(`the dev cloud's ${profile} profile did not come up; see`, join(env.DEVCLOUD_DIR, "logs"));
  return false;
};
// The tools some test files install on first use (Debian's chromium, etcd, the OpenStack client),
// installed once here before the files run, so no test's timeout includes an apt-get.
const ensureTools = () => {
  console.log("# making sure the tests' tools are installed (chromium, etcd, the OpenStack client)");
  return ["scripts/ensure-chromium.sh", "scripts/etcd/ensure-etcd.sh", "scripts/devcloud/ensure-openstack-client.sh"].every(
    (s) => spawnSync("bash", [s], { stdio: ["ignore", "ignore", "inherit"], env }).status === 0,
  );
};
let status = 0;
try {
  if (lightFiles.length) {
    status = (needsCloud && !bringUp("light")) || (!only.length && !ensureTools()) ? 1 : await runTests(lightFiles, process.env.BAYFORGE_TEST_CONCURRENCY ?? 3);
  }
  if (fullFiles.length) {
    const full = needsCloud && !bringUp("full") ? 1 : await runTests(fullFiles, 1);
    status = status || full;
  }
} finally {
  if (started) devcloud("down");
}
if (failures.length) {
  console.log(`# ${failures.length} failing test(s), again:`);
  for (const f of failures) console.log(f.map((l) => `#   ${l}`).join("\n"));
}
process.exit(status);
