// `npm run build`: one minified ESM bundle per Lambda function, dist/<fn>/index.mjs (+ .map),
// which infra/aws (CDK) deploys as-is with Code.fromAsset("dist/<fn>"), handler index.<export>.
//
//   node scripts/build.mjs [--sdk=external|bundle] [--outdir=dist] [--only=api,worker] [--analyze] [--quiet]
//
// Prints a size report and writes it to <outdir>/sizes.json. Fails when a bundle would pull in
// better-sqlite3 or the embedded default's adapters (shared/adapters/local): those are for
// `npm start` only and a native addon cannot run from a Lambda bundle.
//
// AWS SDK v3: bundled, not left to the nodejs22.x runtime's copy, because cold start is what a
// user of the API waits for. Measured on this machine (Node 20, 2 cores, median of 10 fresh
// processes; test/bench/results/cold-import.json): api 602 KB bundled imports in 38 ms, 197 KB
// with the SDK external in 98 ms (p95 113); worker 559 KB in 36 ms vs 154 KB in 101 ms. The
// external SDK is the CommonJS build: every client whole (all its commands), scanned by
// cjs-module-lexer for the ESM import; bundled, only the tree-shaken ES-module code (package.json
// "module") of what the five clients use is left (~400 KB minified). The bundles have no byte
// goal: what a user waits for is the cold start, measured on aws-local for each function, SDK
// bundled vs external (test/bench/aws-local-cold-start.bench.ts, BENCHMARKS.md; issue 14 dropped
// the api's 300 KB goal for it). The sizes are reported for watching. Bundling also pins the SDK
// to package-lock.json's version, the one the tests ran against, instead of whatever the runtime
// ships that month. `--sdk=external` builds the other variant (the benchmark measures both).
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync, statSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, relative, resolve, sep } from "node:path";

const root = resolve(import.meta.dirname, "..");

/** Lambda functions: the entry point of each bundle. */
export const FUNCTIONS = {
  api: { entry: "functions/api/lambda.ts" },
  worker: { entry: "functions/worker/lambda.ts" },
  "worker-dlq": { entry: "functions/worker/lambda-dlq.ts" },
  webhook: { entry: "functions/webhook/lambda.ts" },
};

// An ESM bundle of CommonJS code (some of the SDK's dependencies) calls require() for
// Node built-ins; ESM has no require, so give the bundle one.
const BANNER = "import{createRequire as __bfCreateRequire}from'node:module';const require=__bfCreateRequire(import.meta.url);";

// The embedded default's pieces, never in a Lambda bundle.
const FORBIDDEN = [
  { test: (p) => p === "better-sqlite3" || p.startsWith("better-sqlite3/"), why: "better-sqlite3 (native addon of the embedded default)" },
  { test: (p) => /(^|[\\/])shared[\\/]adapters[\\/]local([\\/]|$)/.test(p), why: "shared/adapters/local (the embedded default's SQLite stores)" },
];

export function forbidLocalAdapters() {
  return {
    name: "bayforge-no-local-adapters",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return undefined;
        const target = args.path.startsWith(".") ? resolve(args.resolveDir, args.path) : args.path;
        const hit = FORBIDDEN.find((f) => f.test(target));
        if (!hit) return undefined;
        return { errors: [{ text: `${relative(root, args.importer)} imports ${args.path}: ${hit.why} must not be in a Lambda bundle` }] };
      });
    },
  };
}

// shared/templates/kubernetes-definition.ts finds the HOT templates at
// new URL("../../templates/kubernetes/kubecluster.yaml", import.meta.url), i.e. relative to
// its own source file. In a bundle import.meta.url is dist/<fn>/index.mjs, so the build copies
// templates/ to dist/<fn>/templates/ and points that URL at "./templates/" instead.
const TEMPLATE_SOURCE = join("shared", "templates", "kubernetes-definition.ts");
const TEMPLATE_URL = /(["'`])\.\.\/\.\.\/templates\//g;
function relocateTemplates(state) {
  return {
    name: "bayforge-relocate-templates",
    setup(b) {
      b.onLoad({ filter: /kubernetes-definition\.ts$/ }, (args) => {
        if (!args.path.endsWith(sep + TEMPLATE_SOURCE)) return undefined;
        const src = readFileSync(args.path, "utf8");
        const out = src.replace(TEMPLATE_URL, "$1./templates/");
        if (out === src)
          return { errors: [{ text: `${TEMPLATE_SOURCE} no longer locates templates with "../../templates/": update relocateTemplates() in scripts/build.mjs` }] };
        state.usesTemplates = true;
        return { contents: out, loader: "ts" };
      });
    },
  };
}

function parseArgs(argv) {
  const o = { sdk: "bundle", outdir: "dist", only: null, analyze: false, quiet: false };
  for (const a of argv) {
    const [k, v] = a.replace(/^--/, "").split("=");
    if (k === "sdk" && (v === "external" || v === "bundle")) o.sdk = v;
    else if (k === "outdir" && v) o.outdir = v;
    else if (k === "only" && v) o.only = v.split(",");
    else if (k === "analyze") o.analyze = true;
    else if (k === "quiet") o.quiet = true;
    else throw new Error(`unknown argument ${a}; usage: node scripts/build.mjs [--sdk=external|bundle] [--outdir=dist] [--only=api,worker] [--analyze] [--quiet]`);
  }
  return o;
}

/** Builds the bundles; returns the size report (also written to <outdir>/sizes.json). */
export async function buildAll(opts = {}) {
  const o = { sdk: "bundle", outdir: "dist", only: null, analyze: false, quiet: false, ...opts };
  const outdir = resolve(root, o.outdir);
  const names = o.only ?? Object.keys(FUNCTIONS);
  const report = { sdk: o.sdk, target: "node20", format: "esm", minify: true, bundles: {} };
  const started = performance.now();
  for (const name of names) {
    const fn = FUNCTIONS[name];
    if (!fn) throw new Error(`unknown function ${name}; known: ${Object.keys(FUNCTIONS).join(", ")}`);
    if (!existsSync(join(root, fn.entry))) throw new Error(`${fn.entry} does not exist (the Lambda entry point of ${name})`);
  }
  const built = await Promise.all(names.map(async (name) => {
    const fn = FUNCTIONS[name];
    const entry = join(root, fn.entry);
    const dir = join(outdir, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const state = { usesTemplates: false };
    const t0 = performance.now();
    const result = await build({
      entryPoints: [entry],
      outfile: join(dir, "index.mjs"),
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      // the SDK's ES module builds tree-shake better than its CommonJS ones
      mainFields: ["module", "main"],
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      legalComments: "external",
      banner: { js: BANNER },
      external: o.sdk === "external" ? ["@aws-sdk/*", "@smithy/*"] : [],
      plugins: [forbidLocalAdapters(), relocateTemplates(state)],
      metafile: true,
      logLevel: "silent",
    });
    const ms = performance.now() - t0;
    if (state.usesTemplates) cpSync(join(root, "templates"), join(dir, "templates"), { recursive: true });
    const file = join(dir, "index.mjs");
    const bytes = statSync(file).size;
    const inputs = Object.keys(result.metafile.inputs);
    const leaked = inputs.filter((p) => FORBIDDEN.some((f) => f.test(p)));
    if (leaked.length) throw new Error(`${name} bundle contains ${leaked.join(", ")}`);
    return [name, {
      file: relative(root, file),
      bytes,
      kb: +(bytes / 1024).toFixed(1),
      gzipKB: +(gzipSync(readFileSync(file)).length / 1024).toFixed(1),
      mapKB: +(statSync(file + ".map").size / 1024).toFixed(1),
      templates: state.usesTemplates,
      buildMs: Math.round(ms),
      top: topPackages(result.metafile, file, o.analyze ? 25 : 8),
    }];
  }));
  for (const [name, b] of built) report.bundles[name] = b;
  report.totalMs = Math.round(performance.now() - started);
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, "sizes.json"), JSON.stringify(report, null, 2) + "\n");
  if (!o.quiet) printReport(report, o.analyze);
  return report;
}

/** Bytes of the output contributed by each package (or by the project's own sources). */
function topPackages(metafile, outfile, n) {
  const out = Object.entries(metafile.outputs).find(([k]) => resolve(root, k) === outfile)?.[1];
  const by = new Map();
  for (const [path, { bytesInOutput }] of Object.entries(out?.inputs ?? {})) {
    const m = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    const key = m ? m[1] : "(bayforge)";
    by.set(key, (by.get(key) ?? 0) + bytesInOutput);
  }
  return Object.fromEntries([...by].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, +(v / 1024).toFixed(1)]));
}

function printReport(r, analyze) {
  console.log(`bundles (esm, minified, target node20, AWS SDK ${r.sdk === "bundle" ? "bundled" : "external"}), ${r.totalMs} ms:`);
  for (const [name, b] of Object.entries(r.bundles)) {
    console.log(`  ${name.padEnd(11)} ${String(b.bytes).padStart(9)} bytes  ${String(b.kb).padStart(7)} KB  (gzip ${b.gzipKB} KB)${b.templates ? " + templates/" : ""}  ${b.file}`);
    if (analyze) for (const [pkg, kb] of Object.entries(b.top)) console.log(`      ${String(kb).padStart(7)} KB  ${pkg}`);
  }
}

if (resolve(process.argv[1] ?? "") === import.meta.filename) {
  try {
    await buildAll(parseArgs(process.argv.slice(2)));
  } catch (e) {
    console.error(`build failed: ${e.message}`);
    for (const err of e.errors ?? []) console.error(`  ${err.location ? `${err.location.file}:${err.location.line}: ` : ""}${err.text}`);
    process.exit(1);
  }
}
