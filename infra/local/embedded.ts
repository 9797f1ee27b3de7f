// The embedded default: the API and/or the worker in this process, on the SQLite stores
// under the data dir, against the cloud named by OS_CLOUD / OS_* (clouds.yaml). The API
// alone needs no cloud; the worker alone serves no HTTP (both are benchmarked that way).
// Each part beats its row in the services table (/v1/mservices) every 10 s as this host
// (os.hostname()): api and worker in one process are two rows.
import { hostname } from "node:os";
import { loadSettings, type Settings } from "../../shared/config.ts";
import { createLogger, type Logger } from "../../shared/observability/logger.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { KeystoneIdentity, openstackFromEnv } from "../../shared/adapters/openstack/index.ts";
import { composeApi } from "../../functions/api/compose.ts";
import { chatopsEnabled, composeWebhook } from "../../functions/webhook/compose.ts";
import { composeWorker } from "../../functions/worker/compose.ts";
import { listen, type Listening } from "../../functions/api/serve.ts";
import { startLocalWorker, type RunningWorker } from "../../functions/worker/local-consumer.ts";
import { handleDeadLetter } from "../../functions/worker/handle-message.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import { SERVICE_BINARIES, startHeartbeat, type RunningHeartbeat } from "../../shared/bays/heartbeat.ts";

export interface Embedded {
  settings: Settings;
  stores: LocalStores;
  url?: string;
  stop(): Promise<void>;
}

export async function startEmbedded(
  parts: { api: boolean; worker: boolean },
  env: NodeJS.ProcessEnv = process.env,
  log: Logger = createLogger({ service: "bayforge" }),
): Promise<Embedded> {
  const settings = loadSettings(env);
  // The dead-letter hook needs the worker's deps, which need the queue: wire it late.
  let workerDeps: WorkerDeps | undefined;
  const stores = openLocalStores(settings.dataDir, {
    queue: {
      maxReceives: settings.maxReceives,
      onDeadLetter: parts.worker
        ? async (dl) => {
            if (workerDeps) await handleDeadLetter(dl.body, dl.receiveCount, workerDeps);
          }
        : undefined,
    },
  });
  let http: Listening | undefined;
  let worker: RunningWorker | undefined;
  const closers: Array<() => Promise<void> | void> = [];
  const heartbeats: RunningHeartbeat[] = [];
  const beat = async (binary: string) => heartbeats.push(await startHeartbeat(stores.services, { host: hostname(), binary, log }));
  const stopHeartbeats = async () => {
    for (const h of heartbeats.splice(0)) await h.stop();
  };
  try {
    // One vault (one key file under the data dir, or BAYFORGE_MASTER_KEY_FILE) for both parts:
    // the worker encrypts the CA keys that the API decrypts to sign nodes' CSRs.
    const vault = await LocalKeyVault.forDataDir(settings.dataDir, env);
    // chat-ops mappings (`bayforge chatops map`): the webhook finds the project, the worker
    // acts with the mapping's application credential
    const mappings = stores.chatops(vault);
    // Bayforge's own cloud: the worker's (its service user, which acts through the users'
    // trusts) and, in keystone mode, the API's (to validate tokens and make trusts).
    const needsCloud = parts.worker || settings.auth === "keystone";
    const cloud = needsCloud ? openstackFromEnv(env, { logger: log.child({ fn: "openstack" }) }) : undefined;
    if (needsCloud && !cloud)
      throw new Error(
        "no OpenStack cloud configured: set OS_CLOUD (clouds.yaml) or OS_AUTH_URL and the other OS_* variables for Bayforge's service user" +
          (parts.worker ? "" : ", or BAYFORGE_AUTH=noauth to run the API alone without Keystone (local use only)"),
      );
    if (cloud) closers.push(() => cloud.close());
    const identity = cloud && settings.auth === "keystone" ? new KeystoneIdentity(cloud.session, { trusteeDomain: settings.trusteeDomain }) : undefined;
    if (parts.worker && cloud) {
      const workerLog = log.child({ fn: "worker" });
      // the stores include the batch store: the worker applies batch.apply (composeWorker)
      workerDeps = composeWorker(settings, { ...stores, heat: cloud.heat, session: cloud.session, vault, identity, log: workerLog, mappingCredential: (ref) => mappings.credential(ref) });
      worker = startLocalWorker(stores.queue, workerDeps, {
        concurrency: settings.workerConcurrency,
        visibilitySeconds: settings.visibilitySeconds,
        idleMs: 200,
        sweepEveryMs: settings.sweepEverySeconds * 1000,
      });
      await beat(SERVICE_BINARIES.worker);
      log.info("worker started", { cloud: cloud.session.cloud.cloud, concurrency: settings.workerConcurrency });
    }
    if (parts.api) {
      const app = composeApi(settings, { ...stores, vault, session: cloud?.session, discovery: stores.discovery, batches: stores.batches, quotas: stores.quotas }, log.child({ fn: "api" }));
      // chat-ops (functions/webhook) on the same server, when a signing secret or token is set
      if (chatopsEnabled(settings)) app.route("/webhook", composeWebhook(settings, { ...stores, vault, discovery: stores.discovery, mappings }, log));
      http = await listen(app, settings.port, settings.host);
      await beat(SERVICE_BINARIES.api);
      log.info("api listening", { url: http.url, dataDir: settings.dataDir, auth: settings.auth });
    }
  } catch (e) {
    await stopHeartbeats();
    await worker?.stop();
    for (const c of closers) await c();
    await stores.close();
    throw e;
  }
  return {
    settings,
    stores,
    url: http?.url,
    async stop() {
      await stopHeartbeats();
      await http?.close();
      await worker?.stop();
      for (const c of closers) await c();
      await stores.close();
    },
  };
}
