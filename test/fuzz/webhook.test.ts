// Property-based fuzzing of the chat-ops webhook: the slash command's parser on its own (fast,
// many cases) and the Slack and Mattermost endpoints over real HTTP on the embedded SQLite
// stores. Signed requests with any command text and form: always 200 and an ephemeral answer,
// and a write only when the answer says "Accepted". Any change to a signed request (a byte of
// the body, the timestamp, the signature) or no signature at all: 401 and no write. Never a
// 5xx. FUZZ_SEED / FUZZ_SCALE: see support/runs.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { fuzzParams } from "./support/runs.ts";
import { parseCommand, tokenize, UsageError, type Command } from "../../functions/webhook/command.ts";
import { slackSignature } from "../../functions/webhook/verify.ts";
import type { Bay } from "../../shared/domain/model.ts";
import { segment, text } from "./support/arbitraries.ts";
import { MATTERMOST_TOKEN, PROJECT, SLACK_SECRET, startFuzzWebhook, type FuzzWebhook } from "./support/fuzz-webhook.ts";
import type { Sent } from "./support/fuzz-api.ts";
import { leaks, secretString } from "../security/support/secrets.ts";

let cases = 0;
const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}... (${s.length} chars)` : s);

// ------------------------------------------------------------------ command text

const WORDS = [
  "create", "status", "scale", "delete", "list", "help", "CREATE", "Scale", "explode", "",
  "fx-complete", "fx-creating", "k8s-model", "nope", "a.b_c-1", "9lives", "-x", "--", "my bay",
  "--model", "--baymodel", "--nodes", "--masters", "--timeout", "--model=k8s-model", "--nodes=3", "--nodes=", "--flavor", "--model=",
  "0", "1", "2", "3", "999999", "1000000", "-1", "1.5", "1e3", "0x10", "٣", "abc",
  '"', "'", "\u201c", "\u201d", "\u2018", "\u2019", '"a b"', "'c d'", "\u201ce f\u201d", '""',
  "&lt;", "&gt;", "&amp;", "<@U123>", "<#C1|x>", "`x`", "*", "😀", "\u0000", "é",
];
const SPACE = fc.constantFrom(" ", " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "");
/** Command texts: words of the grammar (right and wrong), joined by any white space, or junk. */
const commandText = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...WORDS) }, text), SPACE), { maxLength: 8 }).map((ws) => ws.map(([w, s]) => w + s).join("")) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => "create " + "a ".repeat(n)) },
);

const isCommand = (c: Command) => {
  const whole = (n: number | undefined, min: number) => n === undefined || (Number.isInteger(n) && n >= min && n <= 999_999);
  switch (c.action) {
    case "create":
      return typeof c.name === "string" && c.model.length > 0 && whole(c.nodes, 1) && whole(c.masters, 1) && whole(c.timeout, 0);
    case "scale":
      return c.name.length > 0 && whole(c.nodes, 1) && c.nodes !== undefined;
    case "status":
    case "delete":
      return c.name.length > 0;
    case "list":
    case "help":
      return true;
  }
};

describe("the slash command's parser (no I/O)", () => {
  it("any text: a well-formed command, or a usage error saying what is wrong — nothing else", () => {
    fc.assert(
      fc.property(commandText, fc.constantFrom("/bay", "/bays", "/x"), (t, cmd) => {
        cases++;
        let c: Command;
        try {
          c = parseCommand(t, cmd);
        } catch (e) {
          assert.ok(e instanceof UsageError, `not a UsageError: ${(e as Error)?.stack} for ${JSON.stringify(clip(t))}`);
          assert.ok(e.message.trim().length > 0);
          return;
        }
        assert.ok(isCommand(c), `${JSON.stringify(c)} from ${JSON.stringify(clip(t))}`);
      }),
      fuzzParams(3000),
    );
  });

  it("keeps any words whole: plain ones as they are, ones with white space when quoted", () => {
    // words without quotes or Slack's escapes (tokenize decodes &lt; &gt; &amp;)
    const word = fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).filter((w) => !/["'\u201c\u201d\u2018\u2019]|&(lt|gt|amp);/.test(w) && w.trim() === w && w.length > 0);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), SPACE.filter((s) => s !== ""), (words, sep) => {
        cases++;
        const typed = words.map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(sep);
        assert.deepEqual(tokenize(typed), words, JSON.stringify(typed));
      }),
      fuzzParams(1500),
    );
  });
});

// ------------------------------------------------------------------ over HTTP

let hook: FuzzWebhook;
let fixtures: Bay[];
let nonce = 0;

before(async () => {
  hook = await startFuzzWebhook();
  const model = (await hook.stores.table.listBayModels({ projectId: PROJECT }))[0];
  const bay = (name: string, status: Bay["status"], node_count: number): Bay => ({
    uuid: randomUUID(), name, project_id: PROJECT, user_id: "slack:U1", baymodel_id: model.uuid, node_count, master_count: 1, discovery_url: null,
    bay_create_timeout: 60, status, status_reason: null, stack_id: null, api_address: null, node_addresses: [], master_addresses: [],
    created_at: new Date().toISOString(), updated_at: null, version: 1, stack_name: `${name}-x`, deadline_at: null, request_id: "req-fixture", poll_seq: 0,
    minions: { "0": "10.0.0.5", "1": "10.0.0.6" },
  });
  for (const b of [bay("fx-complete", "CREATE_COMPLETE", 2), bay("fx-creating", "CREATE_IN_PROGRESS", 1)]) await hook.stores.table.createBay(b);
  fixtures = await hook.stores.table.listBays({});
  hook.probe.rebase();
});
after(async () => {
  console.log(`fuzz webhook: ${cases} cases`);
  await hook?.close();
});

/** After an accepted command: the fixtures back exactly as they were (the test's own writes). */
async function restore(): Promise<void> {
  const t = hook.stores.table;
  for (const b of await t.listBays({})) {
    const f = fixtures.find((x) => x.uuid === b.uuid);
    if (!f) await t.deleteBay(b.uuid, b.version);
    else if (JSON.stringify({ ...b, version: 0 }) !== JSON.stringify({ ...f, version: 0 })) await t.updateBay({ ...f, version: b.version + 1 }, b.version);
  }
  hook.probe.rebase();
}

const fieldValue = fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 12 }) }, text);
/** A slash command's form: Slack's fields (right, wrong, missing, repeated) and extra junk. */
const slackForm = fc
  .record(
    {
      team_id: fc.oneof({ weight: 6, arbitrary: fc.constant("T123") }, fc.constantFrom("T999", "", "t123", "slack:T123"), fieldValue),
      channel_id: fc.oneof({ weight: 3, arbitrary: fc.constant("C1") }, fc.constantFrom("CSPECIAL", "", ":"), fieldValue),
      user_id: fc.oneof(fc.constant("U42"), fieldValue),
      user_name: fieldValue,
      command: fc.oneof({ weight: 4, arbitrary: fc.constant("/bay") }, fc.constantFrom("/bays", "", "bay"), fieldValue),
      text: commandText,
      response_url: fc.oneof(fc.constant("https://hooks.slack.example/commands/T123/1/x"), fc.constantFrom("", "javascript:alert(1)", "http://127.0.0.1:1/x", "file:///etc/passwd", "HTTPS://X"), fieldValue),
      ssl_check: fc.constantFrom("1", "0"),
      token: fieldValue,
    },
    { requiredKeys: ["team_id", "text"] },
  )
  .chain((f) => fc.array(fc.tuple(fc.oneof(fc.constantFrom("text", "team_id", "command"), fieldValue), fieldValue), { maxLength: 2 }).map((extra) => ({ f, extra })))
  .map(({ f, extra }) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v !== undefined) p.append(k, v);
    for (const [k, v] of extra) p.append(k, v);
    p.append("trigger_id", `t${++nonce}`); // each request its own signature (the same one twice is a replay)
    return p.toString();
  });

function expectNoEffect(what: string, res: Sent) {
  const wrote = hook.probe.changed();
  assert.ok(!wrote, `no effect expected, but the store changed: ${what} → ${res.status} ${clip(res.text)}`);
}

describe("over HTTP", () => {
  it("a signed Slack command, any form and text: 200 with an ephemeral answer; a write only when it says Accepted", async () => {
    await fc.assert(
      fc.asyncProperty(slackForm, async (body) => {
        cases++;
        const res = await hook.slack(body);
        const form = new URLSearchParams(body);
        const where = `${clip(body)} → ${res.status} ${clip(res.text)}`;
        if (body.length > 65_536) {
          assert.equal(res.status, 413, where); // over the webhook's limit, signed or not
          return expectNoEffect(body, res);
        }
        assert.equal(res.status, 200, where);
        if (form.get("ssl_check") === "1") {
          assert.deepEqual(res.json, {}, where);
          return expectNoEffect(body, res);
        }
        assert.equal(res.json.response_type, "ephemeral", where);
        assert.ok(typeof res.json.text === "string" && res.json.text.trim(), where);
        assert.doesNotMatch(res.json.text, /went wrong on Bayforge's side/, where);
        if (!res.json.text.startsWith("Accepted")) return expectNoEffect(body, res);
        assert.ok(hook.probe.changed(), `answered Accepted but nothing was written: ${where}`);
        await restore();
      }),
      fuzzParams(1200),
    );
  });

  it("a signed request changed in any way (a byte of the body, the timestamp, the signature, the secret): 401 and no write", async () => {
    const change = fc.oneof(
      fc.record({ kind: fc.constant("body" as const), at: fc.nat(), with: fc.constantFrom("a", "%", "&", "=", "+", "0", " ", "é") }),
      fc.record({ kind: fc.constant("body-append" as const), with: fc.constantFrom("&text=delete+fx-complete", "&team_id=T999", "x", "\n") }),
      fc.record({ kind: fc.constant("body-cut" as const), at: fc.nat() }),
      fc.record({ kind: fc.constant("ts" as const), by: fc.oneof(fc.integer({ min: -400, max: 400 }).filter((n) => n !== 0), fc.constantFrom(-1e6, 1e6)) }),
      fc.record({ kind: fc.constant("ts-text" as const), to: fc.constantFrom("0", "", "abc", "1e9", "-1", "9999999999999") }),
      fc.record({ kind: fc.constant("ts-pad" as const) }),
      fc.record({ kind: fc.constant("sig" as const), at: fc.nat(), hex: fc.constantFrom(..."0123456789abcdef") }),
      fc.record({ kind: fc.constant("sig-form" as const), how: fc.constantFrom("upper", "v1", "bare", "short", "long", "empty", "sha1") }),
      fc.record({ kind: fc.constant("secret" as const), secret: fc.constantFrom("", "x", SLACK_SECRET.slice(0, -1), `${SLACK_SECRET}x`, SLACK_SECRET.toUpperCase()) }),
      fc.record({ kind: fc.constant("headers" as const), drop: fc.constantFrom("x-slack-signature", "x-slack-request-timestamp", "both") }),
    );
    await fc.assert(
      fc.asyncProperty(slackForm, change, async (body, c) => {
        const ts = Math.floor(hook.now().getTime() / 1000);
        const signature = slackSignature(SLACK_SECRET, ts, body);
        const hex = signature.slice(3);
        let sendBody = body;
        let sendTs: string = String(ts);
        let sendSig = signature;
        const headers: Record<string, string> = {};
        switch (c.kind) {
          case "body": {
            const i = c.at % body.length;
            fc.pre(body[i] !== c.with);
            sendBody = body.slice(0, i) + c.with + body.slice(i + 1);
            break;
          }
          case "body-append":
            sendBody = body + c.with;
            break;
          case "body-cut":
            sendBody = body.slice(0, c.at % body.length);
            break;
          case "ts":
            sendTs = String(ts + c.by);
            break;
          case "ts-text":
            sendTs = c.to;
            break;
          case "ts-pad":
            sendTs = `0${ts}`;
            break;
          case "sig": {
            const i = c.at % hex.length;
            fc.pre(hex[i] !== c.hex);
            sendSig = `v0=${hex.slice(0, i)}${c.hex}${hex.slice(i + 1)}`;
            break;
          }
          case "sig-form":
            sendSig = { upper: `v0=${hex.toUpperCase()}`, v1: `v1=${hex}`, bare: hex, short: signature.slice(0, -2), long: `${signature}00`, empty: "", sha1: `v0=${hex.slice(0, 40)}` }[c.how];
            fc.pre(sendSig !== signature);
            break;
          case "secret":
            sendSig = slackSignature(c.secret, ts, body);
            break;
          case "headers":
            break;
        }
        // the signature is over what was sent: sign the original, send the changed one
        const h: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": sendTs, "x-slack-signature": sendSig, ...headers };
        if (c.kind === "headers") {
          if (c.drop !== "x-slack-request-timestamp") delete h["x-slack-signature"];
          if (c.drop !== "x-slack-signature") delete h["x-slack-request-timestamp"];
        }
        cases++;
        const res = await hook.send({ method: "POST", path: "/slack", headers: h, body: sendBody });
        if (sendBody.length > 65_536) return void assert.equal(res.status, 413);
        assert.equal(res.status, 401, `${JSON.stringify(c)} ${clip(sendBody)} → ${res.status} ${clip(res.text)}`);
        assert.deepEqual(res.json, { error: "unauthorized" });
        expectNoEffect(JSON.stringify(c), res);
      }),
      fuzzParams(900),
    );
  });

  it("Mattermost: any token but the configured one is 401 with no write; with it, the same answers as Slack", async () => {
    const token = fc.oneof(fc.constantFrom("", MATTERMOST_TOKEN.slice(0, -1), `${MATTERMOST_TOKEN}x`, MATTERMOST_TOKEN.toUpperCase(), ` ${MATTERMOST_TOKEN}`), fieldValue);
    await fc.assert(
      fc.asyncProperty(slackForm, fc.oneof({ weight: 2, arbitrary: fc.constant(MATTERMOST_TOKEN) }, token), async (form, t) => {
        cases++;
        const p = new URLSearchParams(form);
        p.delete("token");
        p.set("team_id", p.get("team_id") === "T123" ? "mmteam" : p.get("team_id")!);
        const body = `token=${segment(t)}&${p}`;
        const res = await hook.send({ method: "POST", path: "/mattermost", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
        const where = `${clip(body)} → ${res.status} ${clip(res.text)}`;
        if (body.length > 65_536) {
          assert.equal(res.status, 413, where);
          return expectNoEffect(body, res);
        }
        if (t !== MATTERMOST_TOKEN) {
          assert.equal(res.status, 401, where);
          return expectNoEffect(body, res);
        }
        assert.equal(res.status, 200, where);
        if (p.get("ssl_check") === "1") return expectNoEffect(body, res);
        assert.equal(res.json.response_type, "ephemeral", where);
        if (!res.json.text.startsWith("Accepted")) return expectNoEffect(body, res);
        assert.ok(hook.probe.changed(), where);
        await restore();
      }),
      fuzzParams(600),
    );
  });

  it("anything else (other paths and methods, no or junk headers, bodies over the limit): a 4xx, never a 5xx, no write", async () => {
    const junkHeader = fc.string({ unit: "binary-ascii", maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, "").trim());
    const req = fc.record({
      method: fc.constantFrom("POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"),
      path: fc.oneof(fc.constantFrom("/slack", "/mattermost", "/", "/slack/", "/SLACK", "/webhook/slack", "/slack?x=1", "/%73lack"), text.map((t) => `/${segment(t)}`)),
      type: fc.constantFrom("application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data; boundary=x", ""),
      ts: fc.oneof(fc.constant(undefined), junkHeader, fc.constant(null).map(() => String(Math.floor(hook.now().getTime() / 1000)))),
      sig: fc.oneof(fc.constant(undefined), junkHeader, fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `v0=${h}`)),
      body: fc.oneof(fc.string({ maxLength: 200 }), slackForm, fc.integer({ min: 60_000, max: 120_000 }).map((n) => `text=${"a".repeat(n)}`)),
    });
    await fc.assert(
      fc.asyncProperty(req, async (r) => {
        cases++;
        const headers: Record<string, string> = { "content-type": r.type, ...(r.ts !== undefined ? { "x-slack-request-timestamp": r.ts } : {}), ...(r.sig !== undefined ? { "x-slack-signature": r.sig } : {}) };
        const res = await hook.send({ method: r.method, path: r.path, headers, body: r.method === "GET" ? undefined : r.body });
        const where = `${r.method} ${r.path} ${JSON.stringify(headers)} ${clip(r.body)} → ${res.status} ${clip(res.text)}`;
        assert.ok(res.status >= 400 && res.status < 500, where);
        // 431: Node's HTTP server refuses a request line over its 16 KiB before the app runs
        if (r.method !== "OPTIONS" && res.status !== 431) assert.ok(typeof res.json?.error === "string", where);
        if (res.status === 431) assert.ok(r.path.length > 14_000, where);
        if (r.body.length > 65_536 && r.method !== "GET" && res.status !== 431) assert.equal(res.status, 413, where);
        expectNoEffect(where, res);
      }),
      fuzzParams(500),
    );
  });
});

describe("what the fuzzing left in the webhook's log", () => {
  it("holds neither the signing secret nor the Mattermost token", () => {
    assert.ok(hook.logs.some((l) => l.includes("chat-ops request refused")));
    assert.deepEqual(leaks(Buffer.from(hook.logs.join("\n")), [secretString("the Slack signing secret", SLACK_SECRET), secretString("the Mattermost token", MATTERMOST_TOKEN)]), []);
  });
});
