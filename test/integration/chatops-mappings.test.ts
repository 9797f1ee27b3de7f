// Chat-ops mappings on the embedded store and `bayforge chatops` (no cloud needed here: the
// Keystone checks are in test/e2e/chatops-keystone.test.ts): the application credential's
// secret is on disk only encrypted, bound to its mapping; the command refuses bad input
// before it writes anything.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { mayChange } from "../../shared/ports/chatops-mappings.ts";
import { chatops } from "../../cli/commands/chatops.ts";
import { handleMessage } from "../../functions/worker/handle-message.ts";
import { mappingClouds } from "../../shared/adapters/openstack/mapping-clouds.ts";
import { Session } from "../../shared/adapters/openstack/identity/session.ts";
import { stepDeps, storedBay } from "../support/worker-deps.ts";

const SECRET = "app-cred-secret-Zq81xP0o";
let dir: string;
let stores: LocalStores;
let vault: LocalKeyVault;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-chatops-"));
  stores = openLocalStores(dir);
  vault = await LocalKeyVault.forDataDir(dir, {});
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `bayforge chatops ...` on the test's data dir, stdin given; no cloud configured. */
async function cli(args: string[], stdin = "") {
  const out: string[] = [];
  const code = await chatops(args, { BAYFORGE_DATA_DIR: dir }, { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, readStdin: async () => stdin });
  return { code, out: out.join("") };
}

describe("chat-ops mappings (embedded store)", () => {
  it("keeps the application credential's secret only encrypted, bound to its mapping, and serves it decrypted to the worker", async () => {
    const mappings = stores.chatops(vault);
    await mappings.put({ key: "slack:T1", project_id: "p1", app_credential_id: "ac1", trust_id: null, allow: ["U1"] }, SECRET);
    assert.deepEqual(await mappings.get("slack:T1"), { key: "slack:T1", project_id: "p1", app_credential_id: "ac1", trust_id: null, allow: ["U1"] });
    assert.deepEqual(await mappings.credential("slack:T1"), { kind: "application_credential", id: "ac1", secret: SECRET, project_id: "p1" });
    for (const f of readdirSync(dir)) assert.ok(!readFileSync(join(dir, f)).includes(SECRET), `${f} holds the secret in clear`);
    // a row's ciphertext copied to another mapping does not decrypt there
    const db = new Database(join(dir, "bayforge.sqlite"));
    try {
      const { doc } = db.prepare("SELECT doc FROM chatops_mappings WHERE key = ?").get("slack:T1") as { doc: string };
      db.prepare("INSERT INTO chatops_mappings (key, doc, created_at) VALUES (?, ?, ?)").run("slack:T2", JSON.stringify({ ...JSON.parse(doc), key: "slack:T2" }), new Date().toISOString());
    } finally {
      db.close();
    }
    await assert.rejects(mappings.credential("slack:T2"));
    assert.equal(await mappings.remove("slack:T2"), true);
    await mappings.put({ key: "slack:T3", project_id: "p3", app_credential_id: null, trust_id: "tr3", allow: null }, null);
    assert.deepEqual(await mappings.credential("slack:T3"), { kind: "trust", trust_id: "tr3", project_id: "p3" });
    assert.equal(await mappings.credential("slack:nope"), undefined);
  });

  it("an allow-list limits who may change bays; none lets anyone", () => {
    const m = { key: "slack:T", project_id: "p", app_credential_id: "a", allow: ["U1"] };
    assert.equal(mayChange(m, "U1"), true);
    assert.equal(mayChange(m, "U2"), false);
    assert.equal(mayChange({ ...m, allow: null }, "U2"), true);
    assert.equal(mayChange({ ...m, allow: [] }, "U2"), true);
  });
});

describe("the worker and a mapping gone", () => {
  it("a chat-ops bay whose mapping was removed fails its operation at once, saying how to fix it (no redelivery, nothing sent to Heat)", async () => {
    const mappings = stores.chatops(vault);
    await mappings.put({ key: "slack:TGONE", project_id: "p", app_credential_id: null, trust_id: "tr", allow: null }, null);
    await mappings.remove("slack:TGONE");
    // the worker's clouds for mapped bays, as composeWorker makes them (no Keystone is reached: the mapping is read first)
    const service = new Session({ cloud: "t", source: "test", auth: { type: "password", authUrl: "http://127.0.0.1:9/v3", username: "u", password: "x" }, interface: "public", insecure: false, endpointOverrides: {} });
    const clouds = mappingClouds(service, (ref) => mappings.credential(ref));
    // its stack being made when the operator unmapped it: the next poll reads Heat with the mapping
    const bay = await storedBay(stores.table, "gone-bay", { chatops_mapping: "slack:TGONE", stack_id: "stack-gone" });
    const sent: unknown[] = [];
    const deps = stepDeps({ table: stores.table, queue: { send: async (m) => void sent.push(m) }, heatFor: (b) => clouds(b.chatops_mapping!).heat });
    await handleMessage({ v: 1, kind: "bay.poll", bayId: bay.uuid, projectId: "p", requestId: "r", attempt: 0, seq: bay.poll_seq }, deps);
    const failed = await stores.table.getBay(bay.uuid);
    assert.equal(failed?.status, "CREATE_FAILED");
    assert.match(failed!.status_reason!, /chat-ops mapping slack:TGONE this bay acts with is gone .*bayforge chatops map slack:TGONE/);
    assert.deepEqual(sent, [], "not retried");
    await service.close();
  });
});

describe("bayforge chatops", () => {
  it("maps, lists and unmaps; a mapping without a credential says it serves noauth only", async () => {
    const mapped = await cli(["map", "mattermost:team9:chan", "--project", "proj-9", "--allow", "u1, u2"]);
    assert.equal(mapped.code, 0, mapped.out);
    assert.match(mapped.out, /mapped mattermost:team9:chan to project proj-9 without a credential \(served only with BAYFORGE_AUTH=noauth\); 2 user\(s\) may create, scale and delete/);
    assert.match((await cli(["list"])).out, /^mattermost:team9:chan\tproject proj-9\tno credential \(noauth only\)\tallow u1,u2$/m);
    assert.deepEqual(await cli(["unmap", "mattermost:team9:chan"]), { code: 0, out: "unmapped mattermost:team9:chan\n" });
    assert.equal((await cli(["unmap", "mattermost:team9:chan"])).code, 1);
  });

  it("refuses bad input before anything is written (exit 2), and a credential it cannot check (exit 1)", async () => {
    const before = JSON.stringify(await stores.chatops(vault).list());
    const refused = [
      await cli(["map", "slack", "--project", "p"]),
      await cli(["map", "T123", "--project", "p"]),
      await cli(["map", "slack:T1", "--project", "p q"]),
      await cli(["map", "slack:T1"]),
      await cli(["map", "slack:T1", "--project", "p", "--allow", "U1,bad id"]),
      await cli(["map", "slack:T1", "--project", "p", "--application-credential-id", "ac", "--trust-id", "t"]),
      await cli(["map", "slack:T1", "--project", "p", "--application-credential-id", "ac"], "\n"),
      await cli(["map", "slack:T1", "--project", "p", "--secret", SECRET]),
      await cli(["frobnicate", "slack:T1"]),
    ];
    for (const r of refused) assert.equal(r.code, 2, r.out);
    assert.match(refused[6].out, /secret is read from stdin, which was empty/);
    // with a secret but no cloud to check it with: refused, never echoed
    const unchecked = await cli(["map", "slack:T1", "--project", "p", "--application-credential-id", "ac"], `${SECRET}\n`);
    assert.equal(unchecked.code, 1);
    assert.match(unchecked.out, /no OpenStack cloud configured to check the credential with/);
    for (const r of [...refused, unchecked]) assert.ok(!r.out.includes(SECRET), "the secret is never echoed");
    assert.equal(JSON.stringify(await stores.chatops(vault).list()), before);
  });
});
