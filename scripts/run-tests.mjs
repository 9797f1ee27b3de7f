// `npm test`: brings up the dev cloud (a real Keystone + Heat on 127.0.0.1, installed from
// Debian's packages on first use) unless it is already running, runs every test file under
// test/ with node:test (Node 20 does not expand globs, so the files are listed here), and
// stops the dev cloud again if it started it. CI reads the closing "# pass N" / "# fail N".
//   node scripts/run-tests.mjs [files...]   (default: every test/**/*.test.ts but test/bench)
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";

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

const env = {
  ...process.env,
  DEVCLOUD_DIR: process.env.DEVCLOUD_DIR ?? join(root, ".bayforge", "devcloud"),
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};
const devcloud = (cmd) => spawnSync("bash", ["scripts/devcloud/devcloud.sh", cmd], { stdio: ["ignore", "ignore", "inherit"], env }).status;

const needsCloud = process.env.BAYFORGE_TEST_NO_CLOUD !== "1";
const started = needsCloud && devcloud("status") !== 0;
if (started) {
  console.log("# bringing up the dev cloud (Keystone + Heat on 127.0.0.1) for the tests");
  if (devcloud("up") !== 0) {
    console.error("the dev cloud did not come up; see", join(env.DEVCLOUD_DIR, "logs"));
    process.exit(1);
  }
}
let status;
try {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "--test", "--test-reporter=tap", `--test-concurrency=${process.env.BAYFORGE_TEST_CONCURRENCY ?? 3}`, ...files],
    { stdio: "inherit", env },
  );
  status = r.status ?? 1;
} finally {
  if (started) devcloud("down");
}
process.exit(status);
