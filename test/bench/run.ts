// `npm run bench`: runs every test/bench/*.bench.ts (or the ones named), one process each;
// each writes its results to test/bench/results/<name>.json. Benchmarks, not tests:
// scripts/run-tests.mjs skips this directory.
import { readdirSync } from "node:fs";
import { renderBenchmarks } from "./render.ts";
import { basename, join, resolve } from "node:path";
import { spawnSync } from "node:child_process";

const dir = import.meta.dirname;
const root = resolve(dir, "..", "..");
const named = process.argv.slice(2);
const files = named.length
  ? named.map((f) => resolve(f))
  : readdirSync(dir)
      .filter((f) => f.endsWith(".bench.ts"))
      .sort()
      .map((f) => join(dir, f));
if (!files.length) {
  console.error("no test/bench/*.bench.ts found");
  process.exit(1);
}
// Benchmarks that need the dev cloud bring it up; stop it again if it was not running before.
const devcloud = (cmd: string) => spawnSync("bash", ["scripts/devcloud/devcloud.sh", cmd], { cwd: root, stdio: ["ignore", "ignore", "inherit"] }).status;
const cloudWasUp = devcloud("status") === 0;
let failed = 0;
for (const file of files) {
  console.log(`# bench ${basename(file)}`);
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { stdio: "inherit", cwd: root });
  if (r.status !== 0) {
    failed++;
    console.error(`# ${basename(file)} failed (exit ${r.status ?? r.signal})`);
  }
}
if (!cloudWasUp && devcloud("status") === 0) devcloud("down");
renderBenchmarks(join(dir, "results"), join(root, "BENCHMARKS.md"));
process.exit(failed ? 1 : 0);
