// Cold start of each Lambda function on aws-local: for every function of the synthesized stack,
// 10 fresh instances (a new child process each, as a new execution environment), each measured
// as Lambda's REPORT line would: the init phase (importing the bundle) and the first invocation
// (which makes the function's clients, reads its secret and serves one small event: the api a
// GET /, the SQS consumers an empty batch, the sweeper a scheduled event on an empty table).
// Both builds: the AWS SDK bundled (dist/, deployed) and external (scripts/build.mjs
// --sdk=external, resolved from node_modules as from the nodejs22.x runtime's own copy).
// The functions run against aws-local's servers and stand-ins and the dev cloud (their first
// invocation reads the OpenStack secret; no Keystone call is made on these events).
//
//   node --import tsx test/bench/aws-local-cold-start.bench.ts     BENCH_RUNS=10
//
// Writes test/bench/results/aws-local-cold-start.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { BUNDLES } from "../../infra/aws/stack.ts";
import { FunctionPool } from "../../infra/aws-local/function-pool.ts";
import { runAwsLocal } from "../../infra/aws-local/start.ts";
import { toEvent } from "../../infra/aws-local/http-api.ts";
import type { FunctionSpec } from "../../infra/aws-local/template.ts";
import { cloudsYamlPath } from "../support/devcloud.ts";
import type { IncomingMessage } from "node:http";

const root = resolve(import.meta.dirname, "..", "..");
const RUNS = Number(process.env.BENCH_RUNS) || 10;

const round = (n: number) => Math.round(n * 10) / 10;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return round(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2);
};

function build(args: string[]): void {
  const r = spawnSync(process.execPath, ["scripts/build.mjs", "--quiet", ...args], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`build ${args.join(" ")} failed:\n${r.stderr}${r.stdout}`);
}

/** A small event for each kind of function. */
function eventFor(spec: FunctionSpec): unknown {
  if (spec.exportName === "sweepHandler") return { version: "0", id: "bench", "detail-type": "Scheduled Event", source: "aws.events", time: new Date().toISOString(), region: "us-east-1", resources: [], detail: {} };
  if (/Webhook/.test(spec.logicalId)) {
    // an unsigned chat command: the webhook reads its secret, then refuses it (401)
    const req = { url: "/webhook/slack", method: "POST", httpVersion: "1.1", rawHeaders: ["host", "127.0.0.1", "content-type", "application/x-www-form-urlencoded"], headers: { host: "127.0.0.1" }, socket: { remoteAddress: "127.0.0.1" } } as unknown as IncomingMessage;
    return toEvent(req, Buffer.from("command=%2Fbay&text=list"), { routeKey: "$default", apiId: "awslocal", accountId: "000000000000", domainName: "127.0.0.1" });
  }
  if (/Api/.test(spec.logicalId)) {
    const req = { url: "/", method: "GET", httpVersion: "1.1", rawHeaders: ["host", "127.0.0.1", "user-agent", "bench"], headers: { host: "127.0.0.1" }, socket: { remoteAddress: "127.0.0.1" } } as unknown as IncomingMessage;
    return toEvent(req, Buffer.alloc(0), { routeKey: "$default", apiId: "awslocal", accountId: "000000000000", domainName: "127.0.0.1" });
  }
  return { Records: [] };
}

const tmp = mkdtempSync(join(tmpdir(), "bayforge-bench-awslocal-"));
// a chat-ops secret, so the stack has the webhook function too (as deployed with chat-ops)
const chatopsSecret = join(tmp, "chatops-secret.json");
writeFileSync(chatopsSecret, JSON.stringify({ slackSigningSecret: "bench-only-signing-secret", projects: {} }), { mode: 0o600 });
const running = await runAwsLocal({
  BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE: chatopsSecret,
  ...process.env,
  OS_CLIENT_CONFIG_FILE: process.env.OS_CLIENT_CONFIG_FILE ?? cloudsYamlPath(),
  OS_CLOUD: process.env.OS_CLOUD ?? "devcloud-bayforge",
  PORT: "0",
  BAYFORGE_AWS_LOCAL_DIR: join(tmp, "data"),
  BAYFORGE_AWS_LOCAL_SWEEP_SECONDS: "86400",
  LOG_LEVEL: "warn",
});
try {
  const extDir = join(tmp, "sdk-external");
  build(["--sdk=external", `--outdir=${extDir}`]);
  symlinkSync(join(root, "node_modules"), join(tmp, "node_modules"), "dir"); // the runtime's SDK
  // which dist/<bundle> each function's asset is (the asset is a copy of it)
  const bundleOf = (spec: FunctionSpec) => BUNDLES.find((b) => readFileSync(join(root, "dist", b, "index.mjs")).equals(readFileSync(join(spec.codeDir, "index.mjs"))))!;
  const variants = { "sdk-bundled": join(root, "dist"), "sdk-external": extDir };
  const samples = new Map<string, { initMs: number[]; firstInvocationMs: number[] }>();
  // interleaved (run i of every function and variant, then run i+1), so load drift spreads evenly
  for (let i = 0; i < RUNS; i++)
    for (const spec of running.topology.functions.values())
      for (const [variant, dir] of Object.entries(variants)) {
        const pool = new FunctionPool({ ...spec, codeDir: join(dir, bundleOf(spec)) }, { runtimeEnv: running.runtimeEnv, arn: `arn:aws:lambda:us-east-1:000000000000:function:${spec.name}` });
        const r = await pool.invoke(eventFor(spec));
        await pool.close();
        if (!r.ok) throw new Error(`${spec.name} (${variant}) failed: ${r.error.errorType}: ${r.error.errorMessage}`);
        const key = `${variant}/${spec.name.replace(/^[^-]+-/, "").replace(/[A-F0-9]{8}$/, "")}`;
        const s = samples.get(key) ?? { initMs: [], firstInvocationMs: [] };
        s.initMs.push(r.report!.initMs!);
        s.firstInvocationMs.push(r.report!.durationMs!);
        samples.set(key, s);
      }
  const figures = Object.fromEntries([...samples].map(([k, s]) => [k, { initMs: median(s.initMs), firstInvocationMs: median(s.firstInvocationMs), totalMs: round(median(s.initMs) + median(s.firstInvocationMs)) }]));
  const results = {
    name: "Cold start on aws-local (init + first invocation, median of fresh instances)",
    what: `Each function of the synthesized stack started ${RUNS} times in a fresh instance on aws-local: initMs is the init phase (import of index.mjs), firstInvocationMs the first invocation (clients made, the OpenStack secret read, one small event served). AWS SDK bundled (deployed) vs external (the runtime's copy). The webhook function (in the stack only with a chat-ops secret) runs with a bench-only secret; its event is an unsigned command, refused.`,
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}` },
    runs: undefined,
    samples: RUNS,
    ...figures,
  };
  mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
  const out = join(import.meta.dirname, "results", "aws-local-cold-start.json");
  writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  console.log(`cold start on aws-local, median of ${RUNS} fresh instances (${process.version}, ${results.machine.cpus}); ms`);
  for (const [k, f] of Object.entries(figures)) console.log(`  ${k.padEnd(36)} init ${String(f.initMs).padStart(7)}   first invocation ${String(f.firstInvocationMs).padStart(7)}   total ${String(f.totalMs).padStart(7)}`);
} finally {
  await running.stop();
  rmSync(tmp, { recursive: true, force: true });
}
