// The template aws-local reads must describe the bundles built from the sources now: each start
// runs `npm run build` and `cdk synth` first (~10 s), unless `skipBuild` (then only when dist/
// or the template is missing, or the template is older than a bundle). A lock directory keeps
// two aws-local starts (tests run files in parallel) from building at once. A stack with other
// context (chat-ops) is synthesized into its own directory, so neither overwrites the other's.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { BUNDLES } from "../aws/stack.ts";

export interface SynthOptions {
  skipBuild?: boolean;
  /** where the cloud assembly goes (default cdk.out, as `npm run synth`) */
  outdir?: string;
  /** CDK context (-c key=value), e.g. chatopsSecretArn: the stack then has the webhook function */
  context?: Record<string, string>;
}

export async function ensureSynth(root: string, template: () => string, log: (msg: string) => void, o: SynthOptions = {}): Promise<void> {
  const lock = join(root, ".bayforge", "aws-local-synth.lock");
  mkdirSync(join(root, ".bayforge"), { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a lock left by a killed start goes stale after 2 minutes
      if (waited > 120_000 || Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const run = (cmd: string, args: string[]) => {
      const r = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status})`);
    };
    // the webhook's bundle is deployed only with a chat-ops secret
    const bundles = BUNDLES.filter((b) => b !== "webhook" || o.context?.chatopsSecretArn).map((b) => join(root, "dist", b, "index.mjs"));
    if (!o.skipBuild || !bundles.every((f) => existsSync(f))) {
      log("building the bundles (npm run build)");
      run(process.execPath, ["scripts/build.mjs", "--quiet"]);
    }
    let file: string | undefined;
    try {
      file = template();
    } catch {
      file = undefined;
    }
    const newest = Math.max(...bundles.map((f) => statSync(f).mtimeMs));
    if (!o.skipBuild || !file || !existsSync(file) || statSync(file).mtimeMs < newest) {
      log("synthesizing the stack (cdk synth)");
      const context = Object.entries(o.context ?? {}).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
      run(join(root, "node_modules", ".bin", "cdk"), ["synth", "-q", "--no-notices", ...(o.outdir ? ["-o", o.outdir] : []), ...context]);
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
