// Replays against the chat-ops webhook, beyond test/integration/webhook.test.ts (which sends one
// replay right away, a 6-minute-old and a far-future timestamp, a tampered body): the same
// signed request sent many times at once creates one bay; a replay at any moment of the
// 5-minute window, at its very edge and after it is refused (the clock moved, not waited
// for); a request whose command failed is remembered all the same; oversized bodies through
// `npm start`'s server are refused and leave the connection usable; nothing secret is logged.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, fetch as undiciFetch } from "undici";
import { slackSignature, SLACK_WINDOW_SECONDS } from "../../functions/webhook/verify.ts";
import { startEmbedded, type Embedded } from "../../infra/local/embedded.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { MATTERMOST_TOKEN, PROJECT, PROJECTS, SLACK_SECRET, startFuzzWebhook, type FuzzWebhook } from "../fuzz/support/fuzz-webhook.ts";
import { leaks, secretString } from "./support/secrets.ts";

let hook: FuzzWebhook;
let n = 0;
const form = (text: string, extra: Record<string, string> = {}) =>
  new URLSearchParams({ team_id: "T123", channel_id: "C1", user_id: "U42", command: "/bay", text, response_url: "https://hooks.slack.example/commands/T123/1/SECRETPATH", trigger_id: `r${++n}`, ...extra }).toString();
const signatures: string[] = [];
/** A slash command signed with the app's secret, `ageSeconds` old; its signature is kept for the log scan. */
const signed = (text: string, ageSeconds = 0) => {
  const body = form(text);
  const ts = Math.floor(hook.now().getTime() / 1000) - ageSeconds;
  const signature = slackSignature(SLACK_SECRET, ts, body);
  signatures.push(signature);
  return { body, ts, signature };
};
const bays = async (name: string) => (await hook.stores.table.listBays({ projectId: PROJECT })).filter((b) => b.name === name);
const queued = async () => {
  const s = await hook.stores.queue.stats();
  return s.visible + s.inFlight + s.delayed + s.deadLetters;
};

before(async () => {
  hook = await startFuzzWebhook();
});
after(() => hook?.close());

describe("Slack replays", () => {
  it("the same signed request sent 20 times at once: one accepted, 19 refused, one bay, one message", async () => {
    const { body, ts, signature } = signed("create burst --model k8s-model");
    const before = await queued();
    const answers = await Promise.all(Array.from({ length: 20 }, () => hook.slack(body, { ts, signature })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, ...Array(19).fill(401)]);
    assert.match(answers.find((a) => a.status === 200)!.json.text, /^Accepted: bay burst/);
    assert.equal((await bays("burst")).length, 1);
    assert.equal((await queued()) - before, 1);
  });

  it("a replay is refused at every moment of the window, at its edge and after it, and changes nothing", async () => {
    const { body, ts, signature } = signed("create window --model k8s-model");
    assert.equal((await hook.slack(body, { ts, signature })).status, 200);
    hook.probe.rebase();
    try {
      // seconds after the original: inside the window, its last second, the edge, just past it, long after
      for (const later of [1, 60, 150, 299, SLACK_WINDOW_SECONDS - 0.5, SLACK_WINDOW_SECONDS, SLACK_WINDOW_SECONDS + 0.5, SLACK_WINDOW_SECONDS + 1, SLACK_WINDOW_SECONDS + 2, 3600]) {
        hook.clockOffsetMs = later * 1000 + (ts * 1000 - Date.now());
        const r = await hook.slack(body, { ts, signature });
        assert.equal(r.status, 401, `a replay ${later} s later`);
        assert.ok(!hook.probe.changed(), `a replay ${later} s later wrote`);
      }
    } finally {
      hook.clockOffsetMs = 0;
    }
    assert.equal((await bays("window")).length, 1);
  });

  it("a fresh request in the last second of its window is still accepted, and its replay refused", async () => {
    const { body, ts, signature } = signed("list", SLACK_WINDOW_SECONDS); // as old as accepted
    hook.clockOffsetMs = ts * 1000 + SLACK_WINDOW_SECONDS * 1000 - 250 - Date.now(); // now = a quarter second before the window closes
    try {
      const first = await hook.slack(body, { ts, signature });
      assert.equal(first.status, 200);
      assert.match(first.json.text, /^Bays in project chat-project:/);
      assert.equal((await hook.slack(body, { ts, signature })).status, 401);
    } finally {
      hook.clockOffsetMs = 0;
    }
  });

  it("a request whose command was refused is remembered as well: its replay is 401, not run again", async () => {
    const { body, ts, signature } = signed("create --model k8s-model"); // no name: a usage error
    const first = await hook.slack(body, { ts, signature });
    assert.equal(first.status, 200);
    assert.match(first.json.text, /needs a bay name/);
    assert.equal((await hook.slack(body, { ts, signature })).status, 401);
  });

  it("a replay with the signature in another spelling (upper case, other prefix) or an equal timestamp spelt otherwise is refused", async () => {
    const { body, ts, signature } = signed("create spelling --model k8s-model");
    assert.equal((await hook.slack(body, { ts, signature })).status, 200);
    hook.probe.rebase();
    for (const [sig, t] of [[`v0=${signature.slice(3).toUpperCase()}`, ts], [`V0=${signature.slice(3)}`, ts], [signature, `0${ts}`], [signature, `${ts}.0`]] as const) {
      assert.equal((await hook.slack(body, { ts: t, signature: sig })).status, 401, `${sig.slice(0, 8)} ${t}`);
      assert.ok(!hook.probe.changed());
    }
    assert.equal((await bays("spelling")).length, 1);
  });

  it("logs none of the secret, the signatures, the Mattermost token or the response_url's path", async () => {
    const r = await hook.send({ method: "POST", path: "/mattermost", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `token=${MATTERMOST_TOKEN}x&team_id=mmteam&text=list` });
    assert.equal(r.status, 401);
    const log = Buffer.from(hook.logs.join("\n"));
    assert.match(log.toString(), /chat-ops request refused/, "the refusals were logged");
    const secrets = [secretString("the signing secret", SLACK_SECRET), secretString("the Mattermost token", MATTERMOST_TOKEN), secretString("a response_url path", "SECRETPATH"), ...signatures.map((s, i) => secretString(`signature #${i + 1}`, s.slice(3)))];
    assert.deepEqual(leaks(log, secrets), []);
  });
});

describe("oversized requests to the webhook on `npm start`'s server", () => {
  let bf: Embedded;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "bf-sec-webhook-"));
    bf = await startEmbedded(
      { api: true, worker: false },
      {
        BAYFORGE_DATA_DIR: dataDir,
        PORT: "0",
        BAYFORGE_AUTH: "noauth",
        BAYFORGE_CHATOPS_SLACK_SIGNING_SECRET: SLACK_SECRET,
        BAYFORGE_CHATOPS_PROJECTS: JSON.stringify(PROJECTS),
      },
      createLogger({}, "error", () => {}),
    );
  });
  after(async () => {
    await bf?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("a 2 MB body, signed or not, is 413 and writes nothing; the next request on the same connection works", async () => {
    const agent = new Agent({ connections: 1 });
    try {
      for (const signed of [false, true]) {
        const body = form("x".repeat(2_000_000));
        const ts = Math.floor(Date.now() / 1000);
        const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", ...(signed ? { "x-slack-request-timestamp": String(ts), "x-slack-signature": slackSignature(SLACK_SECRET, ts, body) } : {}) };
        const big = await undiciFetch(`${bf.url}/webhook/slack`, { method: "POST", headers, body, dispatcher: agent });
        assert.equal(big.status, 413);
        await big.text();
        const small = form("list");
        const next = await undiciFetch(`${bf.url}/webhook/slack`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": slackSignature(SLACK_SECRET, ts, small) },
          body: small,
          dispatcher: agent,
        });
        assert.equal(next.status, 200);
        assert.match(((await next.json()) as { text: string }).text, /^No bays in project chat-project/);
      }
      assert.equal((await bf.stores.table.listBays({})).length, 0);
    } finally {
      await agent.close();
    }
  });
});
