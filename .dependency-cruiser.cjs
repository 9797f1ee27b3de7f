// The layering rules `npm test` enforces (npm run lint:deps); see ../shared/ARCHITECTURE.md:
//   functions/<a> never imports functions/<b>;
//   shared/domain does no I/O;
//   adapters are imported only by composition roots (and by other adapters).
// test/unit/dependency-rules.test.ts shows each rule failing on a forbidden import.

/** Node's modules that reach the outside world (files, network, processes). */
const IO_CORE = ["fs", "fs/promises", "http", "https", "http2", "net", "tls", "dgram", "dns", "dns/promises", "child_process", "cluster", "worker_threads", "inspector", "readline", "repl"];
/** Packages that talk to a service, a file or a socket. */
const IO_PACKAGES = ["@aws-sdk", "better-sqlite3", "undici", "hono", "@hono"];

/** Files that wire ports to adapters from configuration: one per function, and the entry points. */
const COMPOSITION_ROOTS = [
  "^functions/[^/]+/compose\\.ts$",
  "^functions/[^/]+/lambda[^/]*\\.ts$",
  "^infra/",
  "^cli/",
  "^bin/",
  "^scripts/",
  "^test/",
];

module.exports = {
  forbidden: [
    {
      name: "no-cross-function",
      comment: "A function never imports another function's folder: what both need belongs in shared/ (shared/bays for bay operations).",
      severity: "error",
      from: { path: "^functions/([^/]+)/" },
      to: { path: "^functions/", pathNot: "^functions/$1/" },
    },
    {
      name: "domain-no-io",
      comment: "shared/domain is pure: no file, network or process access.",
      severity: "error",
      from: { path: "^shared/domain/" },
      to: { dependencyTypes: ["core"], path: `^(node:)?(${IO_CORE.join("|")})$` },
    },
    {
      name: "domain-no-io-packages",
      comment: "shared/domain is pure: no package that talks to a service, a file or a socket.",
      severity: "error",
      from: { path: "^shared/domain/" },
      to: { path: `(^|node_modules/)(${IO_PACKAGES.join("|")})(/|$)` },
    },
    {
      name: "domain-no-outer-layers",
      comment: "shared/domain imports nothing from the layers around it (adapters, the application layer, functions).",
      severity: "error",
      from: { path: "^shared/domain/" },
      to: { path: "^(shared/(adapters|bays|observability)|functions|infra|cli)/" },
    },
    {
      name: "adapters-only-in-composition-roots",
      comment: "Only a composition root (functions/*/compose.ts, functions/*/lambda*.ts, infra/, cli/) imports an adapter; everything else gets ports.",
      severity: "error",
      from: { pathNot: ["^shared/adapters/", ...COMPOSITION_ROOTS] },
      to: { path: "^shared/adapters/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|cdk\\.out|\\.bayforge)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".mjs", ".js", ".json"] },
    moduleSystems: ["es6", "cjs"],
  },
};
