// Bayforge run as a user runs it: `npm start` in a child process, on its own data dir and
// port, against the dev cloud's demo project. Output goes to a log file per process.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cloudsYamlPath } from "./devcloud.ts";
import { openstackFromEnv } from "../../shared/adapters/openstack/index.ts";

export const ROOT = resolve(import.meta.dirname, "../..");

export async function freePort(): Promise<number> {
  return new Promise((r, j) => {
    const s = createServer();
    s.once("error", j);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => r(port));
    });
  });
}

export interface BayforgeProcess {
  url: string;
  dataDir: string;
  logFile: string;
  child: ChildProcess;
  logs(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  port?: number;
  env?: Record<string, string>;
  /** BAYFORGE_ROLE: api, worker or all */
  role?: "api" | "worker" | "all";
}

/** Bayforge's own cloud on the dev cloud: its `bayforge` service user (keystone mode). */
export const devcloudEnv = () => ({ OS_CLIENT_CONFIG_FILE: cloudsYamlPath(), OS_CLOUD: "devcloud-bayforge" });

/** A dev cloud user's Keystone token (demo by default), as a client would send it. */
const tokens = new Map<string, Promise<string>>();
export function userToken(cloud = "devcloud-demo"): Promise<string> {
  let t = tokens.get(cloud);
  if (!t) {
    const os = openstackFromEnv({ OS_CLIENT_CONFIG_FILE: cloudsYamlPath(), OS_CLOUD: cloud })!;
    t = os.session.token().finally(() => os.close());
    tokens.set(cloud, t);
  }
  return t;
}

export async function startBayforge(o: StartOptions = {}): Promise<BayforgeProcess> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), "bf-e2e-"));
  const port = o.port ?? (await freePort());
  const logFile = join(dataDir, `bayforge-${o.role ?? "all"}-${Date.now()}.log`);
  const out = openSync(logFile, "a"); // the child writes straight to the file: nothing to pipe, no race
  const child = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...devcloudEnv(),
      PORT: String(port),
      BAYFORGE_DATA_DIR: dataDir,
      BAYFORGE_ROLE: o.role ?? "all",
      ...o.env,
    },
    stdio: ["ignore", out, out],
    detached: true, // own process group: kill() reaches npm, node and nothing else
  });
  closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  const p: BayforgeProcess = {
    url,
    dataDir,
    logFile,
    child,
    logs: () => readFileSync(logFile, "utf8"),
    kill: (signal = "SIGKILL") => killGroup(child, signal),
  };
  const deadline = Date.now() + 60_000;
  const ready = o.role === "worker" ? /worker started/ : /api listening/;
  while (!ready.test(p.logs())) {
    if (child.exitCode !== null) throw new Error(`bayforge exited early:\n${p.logs()}`);
    if (Date.now() > deadline) {
      await p.kill();
      throw new Error(`bayforge did not start within 60 s:\n${p.logs()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return p;
}

/** Minimal client for the Bayforge API in tests: as the demo user unless headers say otherwise. */
export async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const auth: Record<string, string> = Object.keys(headers).some((h) => h.toLowerCase() === "x-auth-token") ? {} : { "x-auth-token": await userToken() };
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", ...auth, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

/** Polls GET /v1/bays/{id} until the bay leaves *_IN_PROGRESS; returns it. */
export async function waitForBay(base: string, id: string, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let bay: any;
  while (Date.now() < deadline) {
    const r = await api(base, "GET", `/v1/bays/${id}`);
    bay = r.json;
    if (r.status === 200 && !String(bay.status).endsWith("_IN_PROGRESS")) return bay;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`bay ${id} still ${bay?.status} after ${timeoutMs} ms (${bay?.status_reason})`);
}

/** Signals a child started `detached` (its own process group) and waits until it has exited. */
export async function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
  await exited;
}
