// The API as the fuzzers meet it: composed exactly as `npm start` composes it (noauth, the
// embedded SQLite stores with discovery and batches, the key file), served over real HTTP on
// 127.0.0.1, with its route table (app.routes) and a WriteProbe on its SQLite file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import { loadSettings } from "../../../shared/config.ts";
import { openLocalStores, type LocalStores } from "../../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../../shared/adapters/local/key-vault.ts";
import { composeApi } from "../../../functions/api/compose.ts";
import { listen } from "../../../functions/api/serve.ts";
import { createLogger } from "../../../shared/observability/logger.ts";
import { WriteProbe } from "./write-probe.ts";
import { readAnswer } from "../../support/http-answer.ts";

export interface Sent {
  status: number;
  headers: Headers;
  text: string;
  /** the body parsed as JSON, or undefined */
  json: any;
}

export interface Outgoing {
  method: string;
  /** path and query, already encoded */
  path: string;
  headers?: Record<string, string>;
  /** sent as bytes: fetch adds no Content-Type of its own */
  body?: string | Uint8Array;
}

export interface FuzzApi {
  url: string;
  app: Hono<any>;
  stores: LocalStores;
  vault: LocalKeyVault;
  dataDir: string;
  logs: string[];
  probe: WriteProbe;
  send(req: Outgoing): Promise<Sent>;
  close(): Promise<void>;
}

/** A request that takes longer than this is a hang, and fails the property. */
export const REQUEST_TIMEOUT_MS = 10_000;

export async function startFuzzApi(env: Record<string, string> = {}): Promise<FuzzApi> {
  const dataDir = mkdtempSync(join(tmpdir(), "bf-fuzz-"));
  const settings = loadSettings({ BAYFORGE_DATA_DIR: dataDir, PORT: "0", BAYFORGE_AUTH: "noauth", BAYFORGE_PUBLIC_URL: "http://bayforge.test:9511", ...env });
  const stores = openLocalStores(dataDir);
  const vault = await LocalKeyVault.forDataDir(dataDir, {});
  const logs: string[] = [];
  const log = createLogger({}, "debug", (line) => logs.push(line));
  const app = composeApi(settings, { ...stores, vault }, log);
  const server = await listen(app, 0);
  const probe = new WriteProbe(stores.file);
  return {
    url: server.url,
    app,
    stores,
    vault,
    dataDir,
    logs,
    probe,
    send: (req) => send(server.url, req),
    async close() {
      probe.close();
      await server.close();
      await stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function send(base: string, req: Outgoing): Promise<Sent> {
  const body = req.body === undefined ? undefined : typeof req.body === "string" ? Buffer.from(req.body, "utf8") : req.body;
  let res: Response;
  try {
    res = await fetch(base + req.path, { method: req.method, headers: req.headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${(e as Error).message}${cause ? ` (${cause.code ?? ""} ${cause.message ?? ""})` : ""}`);
  }
  return readAnswer(res);
}

/**
 * Middleware entries of app.routes: not routes. App-level (request id, versions, body limit,
 * auth), and the 1.11 gate of bays and baymodels (404 from that version on).
 */
const MIDDLEWARE_PATHS = new Set(["/*", "/v1/*", "/v1/bays/*", "/v1/baymodels/*"]);

/** Every route the app serves, as "METHOD /path" (ALL = any method the route's other entries do not serve). */
export function servedRoutes(app: Hono<any>): string[] {
  const out = new Set<string>();
  for (const r of app.routes) if (!MIDDLEWARE_PATHS.has(r.path)) out.add(`${r.method} ${r.path}`);
  return [...out].sort();
}
