// The chat-ops webhook as `npm start` composes it (composeWebhook: noauth, the embedded SQLite
// stores, Slack signing secret and Mattermost token set, a team mapped to a project), served on
// 127.0.0.1, with a WriteProbe on its SQLite file and a clock the test may move.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSettings } from "../../../shared/config.ts";
import { openLocalStores, type LocalStores } from "../../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../../shared/adapters/local/key-vault.ts";
import { composeWebhook } from "../../../functions/webhook/compose.ts";
import { listen } from "../../../functions/api/serve.ts";
import { createLogger } from "../../../shared/observability/logger.ts";
import { newBayModel } from "../../../shared/domain/baymodel.ts";
import { slackSignature } from "../../../functions/webhook/verify.ts";
import { WriteProbe } from "./write-probe.ts";
import { send, type Outgoing, type Sent } from "./fuzz-api.ts";

export const SLACK_SECRET = "fuzz-signing-secret-0123456789abcdef";
export const MATTERMOST_TOKEN = "fuzzmattermosttoken0123456789";
export const PROJECT = "chat-project";
/** team T123 → PROJECT; its channel CSPECIAL → another project */
export const PROJECTS = { "slack:T123": PROJECT, "slack:T123:CSPECIAL": "special-project", "mattermost:mmteam": PROJECT };

export interface FuzzWebhook {
  url: string;
  stores: LocalStores;
  probe: WriteProbe;
  logs: string[];
  /** the webhook's clock: real time plus this many ms */
  clockOffsetMs: number;
  now(): Date;
  send(req: Outgoing): Promise<Sent>;
  /** A Slack request signed as Slack would sign it at `ts` (seconds; default: the webhook's now). */
  slack(body: string, o?: { ts?: number | string; signature?: string; secret?: string; headers?: Record<string, string> }): Promise<Sent>;
  close(): Promise<void>;
}

export async function startFuzzWebhook(): Promise<FuzzWebhook> {
  const dataDir = mkdtempSync(join(tmpdir(), "bf-fuzz-webhook-"));
  const settings = loadSettings({
    BAYFORGE_DATA_DIR: dataDir,
    PORT: "0",
    BAYFORGE_AUTH: "noauth",
    BAYFORGE_PUBLIC_URL: "http://bayforge.test:9511",
    BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET: SLACK_SECRET,
    BAYFORGE_CHATOPS_MATTERMOST_TOKEN: MATTERMOST_TOKEN,
    BAYFORGE_CHATOPS_PROJECTS: JSON.stringify(PROJECTS),
  });
  const stores = openLocalStores(dataDir);
  const vault = await LocalKeyVault.forDataDir(dataDir, {});
  const logs: string[] = [];
  const log = createLogger({}, "debug", (line) => logs.push(line));
  const hook: FuzzWebhook = {
    url: "",
    stores,
    probe: undefined as unknown as WriteProbe,
    logs,
    clockOffsetMs: 0,
    now: () => new Date(Date.now() + hook.clockOffsetMs),
    send: (req) => send(hook.url, req),
    slack(body, o = {}) {
      const ts = o.ts ?? Math.floor(hook.now().getTime() / 1000);
      return hook.send({
        method: "POST",
        path: "/slack",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-slack-request-timestamp": String(ts),
          "x-slack-signature": o.signature ?? slackSignature(o.secret ?? SLACK_SECRET, ts, body),
          ...o.headers,
        },
        body,
      });
    },
    async close() {
      hook.probe?.close();
      await server.close();
      await stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const app = composeWebhook(settings, { ...stores, vault, discovery: stores.discovery, now: () => hook.now() }, log);
  const server = await listen(app, 0);
  hook.url = server.url;
  // the project's baymodel, as an operator made it through the API
  await stores.table.putBayModel(
    newBayModel({ name: "k8s-model", coe: "kubernetes", image_id: "fedora-atomic", keypair_id: "demo-key", external_network_id: "public" }, { projectId: PROJECT, userId: "operator" }, new Date().toISOString()),
  );
  hook.probe = new WriteProbe(stores.file);
  return hook;
}
