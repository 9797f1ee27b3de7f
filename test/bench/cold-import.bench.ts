// Cold import of each Lambda bundle: a fresh `node` process imports dist/<fn>/index.mjs and
// reports how long the import took (what a Lambda cold start pays before the handler runs,
// beyond the runtime's own start). Builds the bundles first (npm run build), and also the
// variant with the AWS SDK left external (resolved from node_modules, as the nodejs22.x
// runtime's own SDK would be), to compare the two; plus the deployed variant with
// NODE_OPTIONS=--enable-source-maps (the stack's opt-in `sourceMaps`).
//
//   npm run bench   (or: node --import tsx test/bench/cold-import.bench.ts)
//   BENCH_RUNS=20   runs per bundle and variant (default 10)
//
// Writes test/bench/results/cold-import.json. Goal: median import ≤ 100 ms here.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";

const root = resolve(import.meta.dirname, "..", "..");
const RUNS = Number(process.env.BENCH_RUNS) || 10;
const GOAL_MS = 100;
const BUNDLES = ["api", "worker", "worker-dlq", "webhook"] as const;

interface Sizes {
  sdk: string;
  bundles: Record<string, { bytes: number; kb: number; gzipKB: number }>;
}
interface Variant {
  name: string;
  dir: string;
  nodeOptions?: string;
}
interface Stats {
  min: number;
  median: number;
  p95: number;
  max: number;
}

function build(args: string[]): Sizes {
  const r = spawnSync(process.execPath, ["scripts/build.mjs", "--quiet", ...args], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`build ${args.join(" ")} failed:\n${r.stderr}${r.stdout}`);
  const outdir = args.find((a) => a.startsWith("--outdir="))?.slice("--outdir=".length) ?? "dist";
  return JSON.parse(readFileSync(join(resolve(root, outdir), "sizes.json"), "utf8")) as Sizes;
}

// A clean environment: what a Lambda's module scope sees before any configuration is used.
const childEnv = (nodeOptions?: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AWS_REGION: "eu-west-1",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
});

function importOnce(file: string, nodeOptions?: string): { importMs: number; processMs: number; exports: string[] } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(import.meta.dirname, "import-once.mjs"), file], { env: childEnv(nodeOptions), encoding: "utf8" });
  const processMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`importing ${file} failed (exit ${r.status}):\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { importMs: number; exports: string[] };
  return { importMs: out.importMs, processMs, exports: out.exports };
}

const round = (n: number) => Math.round(n * 10) / 10;
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]; // nearest rank
  return { min: round(s[0]), median: round(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2), p95: round(at(0.95)), max: round(s[s.length - 1]) };
}

const tmp = mkdtempSync(join(tmpdir(), "bayforge-bench-"));
try {
  const t0 = performance.now();
  const bundledSizes = build([]);
  const buildMs = Math.round(performance.now() - t0);
  const extDir = join(tmp, "sdk-external");
  const externalSizes = build(["--sdk=external", `--outdir=${extDir}`]);
  // the external SDK resolves from node_modules, as it would from the runtime's /var/runtime/node_modules
  symlinkSync(join(root, "node_modules"), join(tmp, "node_modules"), "dir");

  const chosen = bundledSizes.sdk === "bundle" ? "sdk-bundled" : "sdk-external";
  const variants: Variant[] = [
    { name: "sdk-bundled", dir: join(root, "dist") },
    { name: "sdk-external", dir: extDir },
    { name: `${chosen}+enable-source-maps`, dir: chosen === "sdk-bundled" ? join(root, "dist") : extDir, nodeOptions: "--enable-source-maps" },
  ];
  const baselineFile = join(tmp, "empty.mjs");
  writeFileSync(baselineFile, "export const handler = async () => {};\n");

  // Interleave runs (run i of every variant and bundle, then run i+1) so drift in the
  // machine's load spreads over all of them instead of skewing one.
  const samples = new Map<string, { importMs: number[]; processMs: number[]; exports?: string[] }>();
  const record = (key: string, r: ReturnType<typeof importOnce>) => {
    const s = samples.get(key) ?? { importMs: [], processMs: [] };
    s.importMs.push(r.importMs);
    s.processMs.push(r.processMs);
    s.exports = r.exports;
    samples.set(key, s);
  };
  importOnce(baselineFile); // warm the OS file cache once
  for (const v of variants) for (const b of BUNDLES) importOnce(join(v.dir, b, "index.mjs"), v.nodeOptions);
  for (let i = 0; i < RUNS; i++) {
    record("baseline", importOnce(baselineFile));
    for (const v of variants) for (const b of BUNDLES) record(`${v.name}/${b}`, importOnce(join(v.dir, b, "index.mjs"), v.nodeOptions));
  }

  const sizeOf = (v: Variant, b: string) => (v.name.startsWith("sdk-external") ? externalSizes : bundledSizes).bundles[b];
  const results = {
    bench: "cold-import",
    date: new Date().toISOString(),
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
    runs: RUNS,
    note: "importMs: await import() of the bundle inside a fresh node process; processMs: the whole process (spawn to exit), including node's own start (see baseline). p95 is nearest-rank (with 10 runs: the slowest).",
    goalMs: GOAL_MS,
    deployed: chosen,
    buildMs,
    baseline: { importMs: stats(samples.get("baseline")!.importMs), processMs: stats(samples.get("baseline")!.processMs) },
    variants: Object.fromEntries(
      variants.map((v) => [
        v.name,
        Object.fromEntries(
          BUNDLES.map((b) => {
            const s = samples.get(`${v.name}/${b}`)!;
            const size = sizeOf(v, b);
            return [b, { bytes: size.bytes, kb: size.kb, gzipKB: size.gzipKB, exports: s.exports, importMs: stats(s.importMs), processMs: stats(s.processMs) }];
          }),
        ),
      ]),
    ),
  };
  mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
  const out = join(import.meta.dirname, "results", "cold-import.json");
  writeFileSync(out, JSON.stringify(results, null, 2) + "\n");

  console.log(`cold import, ${RUNS} fresh node processes each (${results.node}, ${results.cpus}); ms min / median / p95`);
  console.log(`  ${"baseline (empty module)".padEnd(52)} import ${fmt(results.baseline.importMs)}   process ${fmt(results.baseline.processMs)}`);
  for (const [vname, bundles] of Object.entries(results.variants))
    for (const [b, r] of Object.entries(bundles)) {
      const flag = vname === chosen ? (r.importMs.median <= GOAL_MS ? "  ok" : `  OVER ${GOAL_MS} ms`) : "";
      console.log(`  ${`${vname}/${b} (${r.kb} KB)`.padEnd(52)} import ${fmt(r.importMs)}   process ${fmt(r.processMs)}${flag}`);
    }
  console.log(`deployed variant: ${chosen}; results in ${out.slice(root.length + 1)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

function fmt(s: Stats): string {
  return `${s.min.toFixed(1).padStart(6)} / ${s.median.toFixed(1).padStart(6)} / ${s.p95.toFixed(1).padStart(6)}`;
}
