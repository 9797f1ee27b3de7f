// The chat-ops webhook over HTTP, mounted at /webhook on the embedded server (noauth, API only,
// SQLite stores in a temp dir): Slack signatures, stale timestamps and replays, Mattermost
// tokens, the commands, usage errors, and the worker's completion notice. Then the webhook's
// Lambda entry as deployed on AWS: on DynamoDB (dynalite) and SQS (fauxqs), its secrets from a
// stub Secrets Manager (none can run here), replays refused across two containers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type { LambdaEvent } from "hono/aws-lambda";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { lambdaHandlerFromEnv, createLambdaHandler, type LambdaWebhookHandler } from "../../functions/webhook/lambda.ts";
import { ChatOpsSecret, ChatOpsSecretError, chatopsFromSecret } from "../../shared/adapters/aws/chatops-secret.ts";
import { dynamoStores } from "../../shared/adapters/dynamodb/index.ts";
import { SqsWorkQueue } from "../../shared/adapters/sqs/work-queue.ts";
import { loadSettings } from "../../shared/config.ts";
import { startLocalAws, type LocalAws } from "../support/aws-local.ts";
import { sampleBayModel } from "../support/bay-table-contract.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbedded, type Embedded } from "../../infra/local/embedded.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { slackSignature } from "../../functions/webhook/verify.ts";
import { parseCommand, tokenize, UsageError } from "../../functions/webhook/command.ts";
import { completionText, notifyCompletion } from "../../functions/worker/steps/notify.ts";
import { BAYMODEL } from "../support/api-harness.ts";
import type { Bay } from "../../shared/domain/model.ts";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const MM_TOKEN = "xr3j5x3p4pfjpfn7ifbjmewmjw";
const PROJECT = "chat-project";
const RESPONSE_URL = "https://hooks.slack.example/commands/T123/1234/SECRETPATHxyz";

let bf: Embedded;
let dataDir: string;
const logs: string[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "bf-webhook-"));
  bf = await startEmbedded(
    { api: true, worker: false },
    {
      BAYFORGE_DATA_DIR: dataDir,
      PORT: "0",
      BAYFORGE_AUTH: "noauth",
      BAYFORGE_PUBLIC_URL: "http://bayforge.test:9511",
      BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET: SECRET,
      BAYFORGE_CHATOPS_MATTERMOST_TOKEN: MM_TOKEN,
      BAYFORGE_CHATOPS_PROJECTS: JSON.stringify({ "slack:T123": PROJECT, "slack:T123:CSPECIAL": "special-project", "mattermost:mmteam": PROJECT }),
    },
    createLogger({}, "debug", (l) => logs.push(l)),
  );
  const r = await fetch(`${bf.url}/v1/baymodels`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-project-id": PROJECT },
    body: JSON.stringify(BAYMODEL),
  });
  assert.equal(r.status, 201, await r.text());
});
after(async () => {
  await bf.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const slackForm = (text: string, extra: Record<string, string> = {}) =>
  form({ token: "legacy", team_id: "T123", team_domain: "acme", channel_id: "C999", user_id: "U42", user_name: "ada", command: "/bay", text, response_url: RESPONSE_URL, trigger_id: "1.2.3", ...extra });

async function slack(body: string, o: { secret?: string; ts?: number; sign?: string; headers?: Record<string, string> } = {}) {
  const ts = o.ts ?? Math.floor(Date.now() / 1000);
  const res = await fetch(`${bf.url}/webhook/slack`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(ts),
      "x-slack-signature": slackSignature(o.secret ?? SECRET, ts, o.sign ?? body),
      ...o.headers,
    },
    body,
  });
  return { status: res.status, json: (await res.json()) as any };
}
async function mattermost(text: string, token = MM_TOKEN, extra: Record<string, string> = {}) {
  const res = await fetch(`${bf.url}/webhook/mattermost`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form({ token, team_id: "mmteam", channel_id: "mmchan", user_id: "mmuser", user_name: "grace", command: "/bay", text, response_url: "http://127.0.0.1:1/hooks/mm", ...extra }),
  });
  return { status: res.status, json: (await res.json()) as any };
}
async function counts() {
  const s = await bf.stores.queue.stats();
  return { bays: (await bf.stores.table.listBays({})).length, messages: (s.visible ?? 0) + (s.inFlight ?? 0) + (s.delayed ?? 0) + (s.deadLetters ?? 0) };
}
const bayNamed = async (name: string) => (await bf.stores.table.listBays({})).find((b) => b.name === name);
async function markComplete(name: string) {
  const b = (await bayNamed(name))!;
  await bf.stores.table.updateBay({ ...b, status: "CREATE_COMPLETE", version: b.version + 1 }, b.version);
}

describe("Slack: signed requests", () => {
  it("a signed /bay create answers 200 ephemeral 'accepted', stores the bay CREATE_IN_PROGRESS with its response_url, and queues one create", async () => {
    const before = await counts();
    const r = await slack(slackForm("create demo --model k8s-model --nodes 2"));
    assert.equal(r.status, 200);
    assert.equal(r.json.response_type, "ephemeral");
    assert.match(r.json.text, /^Accepted: bay demo \([0-9a-f-]{36}\) is being created from baymodel k8s-model with 1 master\(s\) and 2 node\(s\)\. I'll post here/);
    const after = await counts();
    assert.deepEqual([after.bays - before.bays, after.messages - before.messages], [1, 1]);
    const bay = (await bayNamed("demo"))!;
    assert.equal(bay.status, "CREATE_IN_PROGRESS");
    assert.equal(bay.project_id, PROJECT);
    assert.equal(bay.node_count, 2);
    assert.equal(bay.user_id, "slack:U42");
    assert.deepEqual(bay.notify, { response_url: RESPONSE_URL, platform: "slack" });
    const [msg] = await bf.stores.queue.receive(10, 1);
    assert.equal(msg.body.kind, "bay.create");
    assert.equal(msg.body.bayId, bay.uuid);
    await bf.stores.queue.delete(msg.receipt);
    // the API serves the bay, without the internal notify field
    const api = (await (await fetch(`${bf.url}/v1/bays/demo`, { headers: { "x-project-id": PROJECT } })).json()) as any;
    assert.equal(api.status, "CREATE_IN_PROGRESS");
    assert.ok(!("notify" in api));
  });

  it("refuses a tampered body, a wrong secret, a 6-minute-old or far-future timestamp, missing headers: 401, nothing written or queued", async () => {
    const before = await counts();
    const body = slackForm("create evil --model k8s-model");
    const cases = [
      await slack(body, { sign: slackForm("create harmless --model k8s-model") }),
      await slack(body.replace("evil", "evil2"), { sign: body }),
      await slack(body, { secret: "not-the-secret" }),
      await slack(body, { ts: Math.floor(Date.now() / 1000) - 6 * 60 }),
      await slack(body, { ts: Math.floor(Date.now() / 1000) + 6 * 60 }),
      await slack(body, { headers: { "x-slack-signature": "v0=zz" } }),
      await slack(body, { headers: { "x-slack-request-timestamp": "yesterday" } }),
    ];
    const missing = await fetch(`${bf.url}/webhook/slack`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    for (const r of cases) assert.equal(r.status, 401, JSON.stringify(r.json));
    assert.equal(missing.status, 401);
    assert.deepEqual(await counts(), before);
    assert.equal(await bayNamed("evil"), undefined);
  });

  it("refuses a replayed request (same signature within the window) with 401 and no effect", async () => {
    const body = slackForm("create replayed --model k8s-model");
    const ts = Math.floor(Date.now() / 1000);
    const first = await slack(body, { ts });
    assert.equal(first.status, 200);
    assert.match(first.json.text, /^Accepted/);
    const before = await counts();
    const again = await slack(body, { ts });
    assert.equal(again.status, 401);
    assert.deepEqual(await counts(), before);
    assert.equal((await bf.stores.table.listBays({})).filter((b) => b.name === "replayed").length, 1);
  });

  it("never logs the secret, the response_url's path or the signature", () => {
    const all = logs.join("\n");
    assert.ok(!all.includes(SECRET));
    assert.ok(!all.includes("SECRETPATHxyz"));
    assert.ok(!all.includes(MM_TOKEN));
    assert.match(all, /chat-ops request refused/);
  });
});

describe("Mattermost: the slash command's token", () => {
  it("a good token runs the command; a bad, missing or prefix token is 401 with no effect", async () => {
    const ok = await mattermost("create mm-bay --model k8s-model");
    assert.equal(ok.status, 200);
    assert.match(ok.json.text, /^Accepted: bay mm-bay/);
    assert.deepEqual((await bayNamed("mm-bay"))!.notify, { response_url: "http://127.0.0.1:1/hooks/mm", platform: "mattermost" });
    const before = await counts();
    for (const t of ["wrong-token", "", MM_TOKEN.slice(0, -1), MM_TOKEN + "x"]) {
      const r = await mattermost("create mm-evil --model k8s-model", t);
      assert.equal(r.status, 401, `token ${JSON.stringify(t)}`);
    }
    assert.deepEqual(await counts(), before);
  });
  it("Slack's signature does not open the Mattermost endpoint, nor the reverse", async () => {
    const body = slackForm("list");
    const ts = Math.floor(Date.now() / 1000);
    const r = await fetch(`${bf.url}/webhook/mattermost`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": slackSignature(SECRET, ts, body) },
      body,
    });
    assert.equal(r.status, 401);
    const r2 = await fetch(`${bf.url}/webhook/slack`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form({ token: MM_TOKEN, team_id: "T123", text: "list" }) });
    assert.equal(r2.status, 401);
  });
});

describe("commands", () => {
  it("list shows the project's bays only", async () => {
    const r = await mattermost("list");
    assert.equal(r.json.response_type, "ephemeral");
    assert.match(r.json.text, /^Bays in project chat-project:/);
    assert.match(r.json.text, /• demo — CREATE_IN_PROGRESS \(1\+2 nodes\)/);
    const special = await slack(slackForm("list", { channel_id: "CSPECIAL" }));
    assert.equal(special.json.text, "No bays in project special-project.");
  });
  it("status names the bay's status; an unknown bay is said so", async () => {
    const r = await slack(slackForm("status demo"));
    assert.match(r.json.text, /^bay demo: CREATE_IN_PROGRESS — 1 master\(s\), 2 node\(s\)/);
    const missing = await slack(slackForm('status "nope"'));
    assert.equal(missing.status, 200);
    assert.equal(missing.json.text, "Bay nope could not be found.");
    // another project's bay is invisible, as in the API
    const other = await slack(slackForm("status demo", { channel_id: "CSPECIAL" }));
    assert.equal(other.json.text, "Bay demo could not be found.");
  });
  it("scale refuses a bay in progress, then scales a complete one: UPDATE_IN_PROGRESS, one update queued, the new response_url kept", async () => {
    const busy = await slack(slackForm("scale demo 3"));
    assert.equal(busy.status, 200);
    assert.match(busy.json.text, /CREATE_IN_PROGRESS/);
    await markComplete("demo");
    const before = await counts();
    const url2 = "https://hooks.slack.example/commands/T123/5678/other";
    const r = await slack(slackForm("scale demo 3", { response_url: url2 }));
    assert.equal(r.json.text, "Accepted: bay demo is being scaled from 2 to 3 node(s). I'll post here when it is done.");
    const bay = (await bayNamed("demo"))!;
    assert.equal(bay.status, "UPDATE_IN_PROGRESS");
    assert.equal(bay.node_count, 3);
    assert.equal(bay.notify?.response_url, url2);
    const after = await counts();
    assert.deepEqual([after.bays - before.bays, after.messages - before.messages], [0, 1]);
    const msgs = await bf.stores.queue.receive(10, 1);
    assert.deepEqual(msgs.filter((m) => m.body.bayId === bay.uuid).map((m) => m.body.kind), ["bay.update"]);
    for (const m of msgs) await bf.stores.queue.delete(m.receipt);
  });
  it("delete moves the bay to DELETE_IN_PROGRESS and queues its delete; a second delete is refused", async () => {
    const r = await slack(slackForm("delete replayed"));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.match(r.json.text, /^Accepted: bay replayed is being deleted \(was CREATE_IN_PROGRESS\)/);
    assert.equal((await bayNamed("replayed"))!.status, "DELETE_IN_PROGRESS");
    const msgs = await bf.stores.queue.receive(10, 1);
    assert.ok(msgs.some((m) => m.body.kind === "bay.delete"));
    for (const m of msgs) await bf.stores.queue.delete(m.receipt);
    const again = await slack(slackForm("delete replayed", { trigger_id: "another" })); // else the same signature: a replay
    assert.match(again.json.text, /already DELETE_IN_PROGRESS/);
  });
  it("help and an empty command answer the usage", async () => {
    for (const t of ["help", "", "  "]) {
      const r = await slack(slackForm(t));
      assert.equal(r.status, 200);
      assert.match(r.json.text, /^Usage:\n• `\/bay create <name> --model <baymodel>/);
    }
  });
  it("usage errors answer 200 ephemeral with what is wrong and the usage, and change nothing", async () => {
    const before = await counts();
    const cases: Array<[string, RegExp]> = [
      ["create", /needs a bay name/],
      ["create x", /needs a baymodel: `\/bay create x --model <baymodel>/],
      ["create x --model k8s-model --nodes two", /--nodes takes a whole number ≥ 1, not "two"/],
      ["create x --model k8s-model --nodes 0", /--nodes takes a whole number ≥ 1/],
      ["create x --model k8s-model --flavor big", /Unknown option --flavor/],
      ["create a b --model k8s-model", /takes one bay name, got 2/],
      ['create "unterminated --model k8s-model', /Unterminated quote/],
      ["scale demo", /needs the new node count/],
      ["scale demo lots", /whole number/],
      ["status", /needs a bay name/],
      ["status a b", /Too many words/],
      ["explode demo", /Unknown command "explode"/],
    ];
    for (const [text, re] of cases) {
      const r = await slack(slackForm(text));
      assert.equal(r.status, 200, text);
      assert.equal(r.json.response_type, "ephemeral");
      assert.match(r.json.text, re, text);
      assert.match(r.json.text, /Usage:/, text);
    }
    // the domain's own rules, in Magnum's words
    const badName = await slack(slackForm('create "my bay" --model k8s-model'));
    assert.match(badName.json.text, /Invalid input for field\/attribute name/);
    const noModel = await slack(slackForm("create x --model missing"));
    assert.equal(noModel.json.text, "BayModel missing could not be found in project chat-project.");
    assert.deepEqual(await counts(), before);
  });
  it("a team that is not mapped gets told how to connect it, and nothing happens", async () => {
    const before = await counts();
    const r = await slack(slackForm("create x --model k8s-model", { team_id: "TOTHER" }));
    assert.equal(r.status, 200);
    assert.match(r.json.text, /not connected to a Bayforge project.*"slack:TOTHER"/);
    assert.deepEqual(await counts(), before);
  });
});

describe("command text", () => {
  it("keeps quoted words whole (straight and smart quotes) and decodes Slack's escapes", () => {
    assert.deepEqual(tokenize(`create "a b" 'c d' \u201ce f\u201d --model=k8s`), ["create", "a b", "c d", "e f", "--model=k8s"]);
    assert.deepEqual(tokenize("status a&amp;b &lt;x&gt;"), ["status", "a&b", "<x>"]);
    assert.deepEqual(parseCommand("CREATE x --model=k8s --nodes=3 --masters 3 --timeout 0"), { action: "create", name: "x", model: "k8s", nodes: 3, masters: 3, timeout: 0 });
    assert.throws(() => parseCommand("scale x 0"), UsageError);
  });
});

describe("completion notice (worker)", () => {
  const bay = (over: Partial<Bay>): Bay =>
    ({ uuid: "u", name: "demo", status: "CREATE_COMPLETE", status_reason: null, api_address: "https://10.0.0.5:6443", master_count: 1, node_count: 2, faults: [], ...over }) as Bay;

  it("POSTs in_channel JSON to the response_url, and never throws or logs the path when it cannot", async () => {
    const got: Array<{ path: string; body: any; type: string | undefined }> = [];
    const server = createServer((req: IncomingMessage, res) => {
      let data = "";
      req.on("data", (d) => (data += d));
      req.on("end", () => {
        got.push({ path: req.url!, body: JSON.parse(data), type: req.headers["content-type"] });
        if (req.url!.includes("slow")) setTimeout(() => res.end("ok"), 1000);
        else res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const lines: string[] = [];
    const log = createLogger({}, "debug", (l) => lines.push(l));
    try {
      await notifyCompletion({ log }, bay({ notify: { response_url: `http://127.0.0.1:${port}/hook/SECRET1`, platform: "slack" } }));
      assert.equal(got.length, 1);
      assert.equal(got[0].path, "/hook/SECRET1");
      assert.equal(got[0].type, "application/json");
      assert.deepEqual(got[0].body, { response_type: "in_channel", text: "bay demo: CREATE_COMPLETE (api https://10.0.0.5:6443, 1 master, 2 nodes)" });
      // no notify: nothing
      await notifyCompletion({ log }, bay({ notify: null }));
      assert.equal(got.length, 1);
      // too slow, unreachable, garbage: no throw
      await notifyCompletion({ log }, bay({ notify: { response_url: `http://127.0.0.1:${port}/slow/SECRET2`, platform: "slack" } }), { timeoutMs: 100 });
      await notifyCompletion({ log }, bay({ notify: { response_url: "http://127.0.0.1:1/SECRET3", platform: "mattermost" } }));
      await notifyCompletion({ log }, bay({ notify: { response_url: "not a url SECRET4", platform: "slack" } }));
      const all = lines.join("\n");
      assert.ok(!/SECRET\d/.test(all), all);
      assert.match(all, /chat-ops completion not posted/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
  it("says why a bay failed", () => {
    assert.equal(
      completionText(bay({ status: "CREATE_FAILED", status_reason: "Resource CREATE failed: boom", faults: [{ resource: "kube_masters/0", type: "OS::Nova::Server", reason: "no image", time: null }] })),
      "bay demo: CREATE_FAILED — Resource CREATE failed: boom; failed: kube_masters/0 (no image)",
    );
  });
});

describe("configuration", () => {
  it("keystone mode: a mapping without an application credential is answered how to add one, and nothing is written; a malformed project map is refused", async () => {
    const { composeWebhook } = await import("../../functions/webhook/compose.ts");
    const { loadSettings } = await import("../../shared/config.ts");
    const settings = loadSettings({ BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET: "s", BAYFORGE_CHATOPS_PROJECTS: JSON.stringify({ "slack:TK": PROJECT }) });
    assert.equal(settings.auth, "keystone");
    const app = composeWebhook(settings, { ...bf.stores, vault: undefined as never }, createLogger({}, "error", () => {}));
    const before = (await bf.stores.table.listBays({ projectId: PROJECT })).length;
    const body = new URLSearchParams({ team_id: "TK", channel_id: "C1", user_id: "U1", command: "/bay", text: "create kbay --model k8s" }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const r = await app.request("/slack", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": slackSignature("s", ts, body) }, body });
    assert.equal(r.status, 200);
    assert.match(((await r.json()) as { text: string }).text, /without an application credential.*bayforge chatops map slack:TK/s);
    assert.equal((await bf.stores.table.listBays({ projectId: PROJECT })).length, before);
    assert.throws(() => loadSettings({ BAYFORGE_CHATOPS_PROJECTS: "{nope" }), /not valid JSON/);
    assert.throws(() => loadSettings({ BAYFORGE_CHATOPS_PROJECTS: '{"T123": "p"}' }), /slack:<team id>/);
    assert.deepEqual(loadSettings({ BAYFORGE_CHATOPS_PROJECTS: '{"slack:T1": "p", "mattermost:m:c": "q"}' }).chatops.projects, { "slack:T1": "p", "mattermost:m:c": "q" });
  });
});

// ---------------------------------------------------------------- on AWS Lambda

/** A stub Secrets Manager (GetSecretValue only) on 127.0.0.1, speaking the service's JSON protocol to the real SDK client. */
async function stubSecretsManager(secrets: Map<string, string>) {
  const calls: string[] = [];
  const server: Server = createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const op = String(req.headers["x-amz-target"] ?? "").replace(/^secretsmanager\./, "");
    const id = (JSON.parse(raw || "{}") as { SecretId?: string }).SecretId ?? "";
    calls.push(`${op} ${id}`);
    const value = secrets.get(id);
    const [status, body] =
      op === "GetSecretValue" && value !== undefined
        ? [200, { ARN: id, Name: "bayforge/chatops", SecretString: value, VersionId: "v1" }]
        : [400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." }];
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "stub" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const client = new SecretsManagerClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" },
    maxAttempts: 1,
  });
  return {
    client,
    calls,
    close: async () => {
      client.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** An HTTP API (payload 2.0) event for a form POST; API Gateway hands such bodies over base64-encoded. */
function formEvent(path: string, body: string, headers: Record<string, string> = {}): LambdaEvent {
  const now = new Date();
  return {
    version: "2.0",
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: { host: "abc.execute-api.eu-west-1.amazonaws.com", "content-type": "application/x-www-form-urlencoded", "user-agent": "Slackbot 1.0", ...headers },
    requestContext: {
      accountId: "123456789012",
      apiId: "abc",
      domainName: "abc.execute-api.eu-west-1.amazonaws.com",
      http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "Slackbot 1.0" },
      requestId: randomUUID(),
      routeKey: `POST ${path}`,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: true,
    body: Buffer.from(body).toString("base64"),
  } as unknown as LambdaEvent;
}

async function invoke(h: LambdaWebhookHandler, event: LambdaEvent) {
  const out = await h(event);
  return { status: out.statusCode, json: JSON.parse(out.isBase64Encoded ? Buffer.from(out.body, "base64").toString() : out.body) as any };
}

describe("on AWS Lambda (DynamoDB on dynalite, SQS on fauxqs, its secret from a stub Secrets Manager)", () => {
  const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bayforge/chatops-AbCdEf";
  const AWS_SECRET = "aws-signing-secret-0123456789abcdef";
  const AWS_MM_TOKEN = "aws-mattermost-token-xyz";
  const AC_SECRET = "application-credential-secret-value";
  const secrets = new Map<string, string>();
  let aws: LocalAws;
  let sm: Awaited<ReturnType<typeof stubSecretsManager>>;
  let containers: LambdaWebhookHandler[];
  const awsLogs: string[] = [];
  let env: Record<string, string>;

  before(async () => {
    aws = await startLocalAws();
    secrets.set(
      SECRET_ARN,
      JSON.stringify({
        slackSigningSecret: AWS_SECRET,
        mattermostToken: AWS_MM_TOKEN,
        projects: { "slack:T123": PROJECT, "mattermost:mmteam": PROJECT, "slack:TAC": { project: PROJECT, applicationCredentialId: "ac-0123", applicationCredentialSecret: AC_SECRET, allow: ["UOK"] } },
      }),
    );
    sm = await stubSecretsManager(secrets);
    env = {
      BAYFORGE_TABLE_NAME: aws.tableName,
      BAYFORGE_QUEUE_URL: aws.queueUrl,
      BAYFORGE_PUBLIC_URL: "https://bayforge.example.com",
      BAYFORGE_CHATOPS_SECRET_ARN: SECRET_ARN,
      AWS_LAMBDA_FUNCTION_NAME: "bayforge-webhook-fn",
    };
    // the baymodel the commands name, in the table
    const { table } = dynamoStores({ client: aws.dynamodb(), tableName: aws.tableName });
    await table.putBayModel(sampleBayModel({ name: "k8s-model", project_id: PROJECT }));
    // two Lambda containers: each its own clients, memory and cache, one table and queue
    const log = createLogger({}, "debug", (l) => awsLogs.push(l));
    containers = [
      await lambdaHandlerFromEnv(env, log, { dynamodb: aws.dynamodb(), sqs: aws.sqs, secrets: sm.client }),
      await lambdaHandlerFromEnv(env, log, { dynamodb: aws.dynamodb(), sqs: aws.sqs, secrets: sm.client }),
    ];
  });
  after(async () => {
    await sm?.close();
    await aws?.close();
  });

  const signed = (body: string, secret = AWS_SECRET, ts = Math.floor(Date.now() / 1000)) =>
    formEvent("/webhook/slack", body, { "x-slack-request-timestamp": String(ts), "x-slack-signature": slackSignature(secret, ts, body) });
  const awsBays = () => dynamoStores({ client: aws.dynamodb(), tableName: aws.tableName }).table.listBays({ projectId: PROJECT });

  it("a signed Slack command (base64 body, as API Gateway sends it) stores the bay in DynamoDB and queues its create on SQS; the secret was read once per container", async () => {
    assert.deepEqual(sm.calls, [`GetSecretValue ${SECRET_ARN}`, `GetSecretValue ${SECRET_ARN}`]);
    const r = await invoke(containers[0], signed(slackForm("create aws-demo --model k8s-model --nodes 2")));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.match(r.json.text, /^Accepted: bay aws-demo \(/);
    const bay = (await awsBays()).find((b) => b.name === "aws-demo");
    assert.equal(bay?.status, "CREATE_IN_PROGRESS");
    assert.equal(bay?.node_count, 2);
    assert.equal(bay?.trust_id ?? null, null, "no trust: the worker acts with Bayforge's own credentials");
    assert.deepEqual(bay?.notify, { response_url: RESPONSE_URL, platform: "slack" });
    const queued = (await aws.receiveRecords()).map((m) => JSON.parse(m.body));
    assert.deepEqual(queued.map((m) => [m.kind, m.bayId]), [["bay.create", bay!.uuid]]);
    assert.equal(sm.calls.length, 2, "served from the container's cache");
  });

  it("a mapping with an application credential: its bays name the mapping (never the secret) for the worker; a user off its allow-list is refused and nothing is stored or queued", async () => {
    const ac = (user: string, name: string) => signed(slackForm(`create ${name} --model k8s-model`, { team_id: "TAC", user_id: user }));
    const refused = await invoke(containers[1], ac("UNOPE", "aws-refused"));
    assert.equal(refused.status, 200);
    assert.match(refused.json.text, /^You are not allowed to create bays from here/);
    assert.equal((await awsBays()).filter((b) => b.name === "aws-refused").length, 0);
    assert.deepEqual(await aws.receiveRecords(), []);
    const ok = await invoke(containers[1], ac("UOK", "aws-mapped"));
    assert.match(ok.json.text, /^Accepted: bay aws-mapped /);
    const bay = (await awsBays()).find((b) => b.name === "aws-mapped")!;
    assert.equal(bay.chatops_mapping, "slack:TAC");
    assert.ok(!JSON.stringify(bay).includes(AC_SECRET));
    await aws.receiveRecords();
    // what the worker reads from the same secret for that mapping
    assert.deepEqual(chatopsFromSecret(secrets.get(SECRET_ARN)!).credentials?.["slack:TAC"], { kind: "application_credential", id: "ac-0123", secret: AC_SECRET, project_id: PROJECT });
  });

  it("the same signed request replayed to ANOTHER container is refused (401) and changes nothing: seen signatures are in the table", async () => {
    const event = signed(slackForm("create aws-replayed --model k8s-model"));
    const first = await invoke(containers[0], event);
    assert.equal(first.status, 200);
    assert.match(first.json.text, /^Accepted/);
    await aws.receiveRecords();
    const again = await invoke(containers[1], event);
    assert.equal(again.status, 401);
    const againSame = await invoke(containers[0], event);
    assert.equal(againSame.status, 401);
    assert.equal((await awsBays()).filter((b) => b.name === "aws-replayed").length, 1);
    assert.deepEqual(await aws.receiveRecords(), []);
  });

  it("uses the secret's values, not the environment's: the local server's secret and token are refused; the secret's Mattermost token works", async () => {
    const env401 = await invoke(containers[1], signed(slackForm("list"), SECRET));
    assert.equal(env401.status, 401);
    const mm = (token: string) => formEvent("/webhook/mattermost", form({ token, team_id: "mmteam", channel_id: "c", user_id: "u", command: "/bay", text: "list" }));
    assert.equal((await invoke(containers[1], mm(MM_TOKEN))).status, 401);
    const ok = await invoke(containers[1], mm(AWS_MM_TOKEN));
    assert.equal(ok.status, 200);
    assert.match(ok.json.text, /^Bays in project chat-project:\n• aws-demo — CREATE_IN_PROGRESS/);
  });

  it("each container beats the function's /v1/mservices row (bayforge-webhook, host: the function's name) at most once per 10 s", async () => {
    const rows = (await dynamoStores({ client: aws.dynamodb(), tableName: aws.tableName }).services.list()).filter((r) => r.host === "bayforge-webhook-fn");
    assert.equal(rows.length, 1);
    assert.equal(rows[0].binary, "bayforge-webhook");
    // both containers were invoked (9 invocations so far): one beat each, more only if 10 s passed
    assert.ok(rows[0].report_count >= 2 && rows[0].report_count < 9, `report_count ${rows[0].report_count}`);
  });

  it("never logs the secret's values", () => {
    const all = awsLogs.join("\n");
    for (const v of [AWS_SECRET, AWS_MM_TOKEN, AC_SECRET]) assert.ok(!all.includes(v));
    assert.match(all, /chat-ops request refused/);
  });

  it("a rotated secret is used once the cached one is older than its max age; a failed re-read keeps the values in use", async () => {
    let t = Date.now();
    const rotating = `${SECRET_ARN.slice(0, -7)}-rotate-Zz9Yy8`;
    secrets.set(rotating, JSON.stringify({ slackSigningSecret: "old-secret", projects: { "slack:T123": PROJECT } }));
    const secret = new ChatOpsSecret({ client: sm.client, secretId: rotating, maxAgeMs: 300_000, retryMs: 60_000, now: () => t });
    const { table, discovery, replay } = dynamoStores({ client: aws.dynamodb(), tableName: aws.tableName });
    const queue = new SqsWorkQueue({ client: aws.sqs, queueUrl: aws.queueUrl });
    // as lambdaHandlerFromEnv composes it, with a clock for the cache
    const h = createLambdaHandler({
      settings: { ...loadSettings(env), auth: "noauth" },
      log: createLogger({}, "error", () => {}),
      table, queue, discovery, replay,
      vault: { encrypt: () => Promise.reject(new Error("no key")), decrypt: () => Promise.reject(new Error("no key")) },
      chatops: () => secret.settings(),
    });
    const list = (s: string) => invoke(h, signed(slackForm("list", { trigger_id: randomUUID() }), s));
    assert.equal((await list("old-secret")).status, 200);
    secrets.set(rotating, JSON.stringify({ slackSigningSecret: "new-secret", projects: { "slack:T123": PROJECT } }));
    t += 299_000;
    assert.equal((await list("old-secret")).status, 200, "still within its max age");
    t += 2_000;
    assert.equal((await list("new-secret")).status, 200, "re-read after 5 minutes");
    assert.equal((await list("old-secret")).status, 401);
    // Secrets Manager failing: the values in hand are kept, and it is tried again a minute later
    secrets.delete(rotating);
    t += 301_000;
    assert.equal((await list("new-secret")).status, 200);
    const reads = sm.calls.filter((c) => c.endsWith(rotating)).length;
    t += 30_000;
    await list("new-secret");
    assert.equal(sm.calls.filter((c) => c.endsWith(rotating)).length, reads, "not read again within the retry delay");
    t += 31_000;
    await list("new-secret");
    assert.equal(sm.calls.filter((c) => c.endsWith(rotating)).length, reads + 1);
  });

  it("refuses to start without its table, queue or public URL, or with a secret it cannot use, never echoing the secret's values", async () => {
    const quiet = createLogger({}, "error", () => {});
    await assert.rejects(lambdaHandlerFromEnv({ BAYFORGE_QUEUE_URL: "q" }, quiet), /needs BAYFORGE_TABLE_NAME, BAYFORGE_PUBLIC_URL/);
    const missing = { ...env, BAYFORGE_CHATOPS_SECRET_ARN: `${SECRET_ARN}-nope` };
    await assert.rejects(lambdaHandlerFromEnv(missing, quiet, { dynamodb: aws.dynamodb(), sqs: aws.sqs, secrets: sm.client }), /ResourceNotFound|can't find/);
    const bad = (value: string) => () => chatopsFromSecret(value, { secretId: "s" });
    assert.throws(bad("slackSigningSecret=hunter2"), (e: Error) => e instanceof ChatOpsSecretError && /not JSON/.test(e.message) && !e.message.includes("hunter2"));
    assert.throws(bad(JSON.stringify({ projects: { "slack:T1": "p" } })), /neither slackSigningSecret nor mattermostToken/);
    assert.throws(bad(JSON.stringify({ slackSigningSecret: "hunter2", token: "x" })), (e: Error) => /unknown keys token/.test(e.message) && !e.message.includes("hunter2"));
    assert.throws(bad(JSON.stringify({ slackSigningSecret: "hunter2", projects: { T1: "p" } })), /projects must map "slack:<team id>/);
    // a mapping with a credential: errors name the key and the field, never a value
    const mapped = (v: unknown) => bad(JSON.stringify({ slackSigningSecret: "hunter2", projects: { "slack:T1": v } }));
    assert.throws(mapped({ project: "p", applicationCredentialId: "id" }), (e: Error) => /projects\["slack:T1"\] needs applicationCredentialId and applicationCredentialSecret/.test(e.message) && !e.message.includes("hunter2"));
    assert.throws(mapped({ project: "p", trustId: "t", applicationCredentialSecret: "s3cr3t" }), (e: Error) => /not both/.test(e.message) && !e.message.includes("s3cr3t"));
    assert.throws(mapped({ applicationCredentialId: "id", applicationCredentialSecret: "s3cr3t" }), /needs project/);
    assert.throws(mapped({ project: "p", trustId: "t", allow: "U1" }), /allow must be a list/);
    assert.deepEqual(chatopsFromSecret(JSON.stringify({ slackSigningSecret: "x", projects: { "slack:T1": { project: "p", trustId: "t" } } })).mappings, {
      "slack:T1": { key: "slack:T1", project_id: "p", app_credential_id: null, trust_id: "t", allow: null },
    });
    // projects may come from BAYFORGE_CHATOPS_PROJECTS instead
    assert.deepEqual(chatopsFromSecret(JSON.stringify({ mattermostToken: "t" }), { projectsFallback: '{"mattermost:m": "p"}' }), { slackSigningSecret: undefined, mattermostToken: "t", projects: { "mattermost:m": "p" } });
  });
});
