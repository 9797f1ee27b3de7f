// The API alone on real embedded stores in a temp dir, served over HTTP on 127.0.0.1.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSettings } from "../../shared/config.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { composeApi } from "../../functions/api/compose.ts";
import { listen } from "../../functions/api/serve.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { readAnswer } from "./http-answer.ts";
import { SERVICE_BINARIES, startHeartbeat } from "../../shared/bays/heartbeat.ts";

/** The host the harness's API beats as in /v1/mservices. */
export const HARNESS_HOST = "api-harness";

export interface ApiHarness {
  url: string;
  stores: LocalStores;
  /** the API's key vault (its key file is in the harness's data dir), to store certs as the worker does */
  vault: LocalKeyVault;
  /** every log line the API wrote, debug and up (JSON) */
  logs: string[];
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: any }>;
  /** bays + baymodels in the table and messages in the queue */
  counts(): Promise<{ bays: number; baymodels: number; messages: number }>;
  close(): Promise<void>;
}

/** heartbeatMs: between the API's beats (default 10 s, as infra/local beats) */
export async function startApi(env: Record<string, string> = {}, o: { heartbeatMs?: number } = {}): Promise<ApiHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), "bf-api-"));
  // the API on its own, for local use: noauth unless a test asks otherwise
  const settings = loadSettings({ BAYFORGE_DATA_DIR: dataDir, PORT: "0", BAYFORGE_AUTH: "noauth", ...env });
  const stores = openLocalStores(dataDir);
  const vault = await LocalKeyVault.forDataDir(dataDir, env);
  const logs: string[] = [];
  const log = createLogger({}, "debug", (line) => logs.push(line));
  const server = await listen(composeApi(settings, { ...stores, vault }, log), 0);
  // the API beats as infra/local's does (one row, bayforge-api)
  const heartbeat = await startHeartbeat(stores.services, { host: HARNESS_HOST, binary: SERVICE_BINARIES.api, log, everyMs: o.heartbeatMs });
  const call: ApiHarness["call"] = async (method, path, body, headers = {}) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return readAnswer(res, (text) => text);
  };
  return {
    url: server.url,
    stores,
    vault,
    logs,
    call,
    async counts() {
      const s = await stores.queue.stats();
      return {
        bays: (await stores.table.listBays({})).length,
        baymodels: (await stores.table.listBayModels({})).length,
        messages: s.visible + s.inFlight + s.delayed + s.deadLetters,
      };
    },
    async close() {
      await heartbeat.stop();
      await server.close();
      await stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const BAYMODEL = {
  name: "k8s-model",
  coe: "kubernetes",
  image_id: "fedora-atomic",
  keypair_id: "demo-key",
  external_network_id: "public",
  flavor_id: "m1.small",
  master_flavor_id: "m1.medium",
  docker_volume_size: 10,
};
