// Issue 15, part 3: a CA rotation through the real pieces on the embedded table: its start
// (shared/bays/rotate-ca.ts, what PATCH /v1/certificates calls), the worker's bay.rotate_ca
// step, and the agents' reads and reports (shared/bays/node-agent.ts, what the /v1/agent routes
// call once a request is verified). The queue is the test's: every message is delivered twice
// (at-least-once), and a worker is killed mid-look (its writes never happen; the message comes
// back), also right between the certificates' swap and the bay's completion. The agents are
// simulated as the real one behaves: each command id runs once, its result re-reported.
// What is checked at every step: `ca show` gives the new CA only once every node trusts it,
// and the bay is never half-rotated (its certificates swapped without the rotation complete,
// or complete without them).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import type { Bay, BayCerts } from "../../shared/domain/model.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import { rotateCa } from "../../shared/bays/rotate-ca.ts";
import { rolloutNodes } from "../../shared/bays/upgrade.ts";
import { desiredState, reportNode } from "../../shared/bays/node-agent.ts";
import { caBundleShown, signingCa, trustedNodeCas } from "../../shared/domain/ca-rotation.ts";
import { generateBayCertificates } from "../../shared/certs/bay-ca.ts";
import { driveCaRotation } from "../../functions/worker/steps/rotate-ca.ts";
import { stepDeps, storeBayCerts, storedBay } from "../support/worker-deps.ts";
import { startApi, type ApiHarness } from "../support/api-harness.ts";
import { signCsr } from "../../shared/certs/sign-csr.ts";
import { canonicalRequest, NODE_CERT_HEADER, NODE_SIGNATURE_HEADER, NODE_TIME_HEADER } from "../../shared/certs/node-request.ts";

let dir: string;
let stores: LocalStores;
let vault: LocalKeyVault;
const log = createLogger({}, "error");
const CALLER = { projectId: "p", userId: "u", isAdmin: false };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-rotate-"));
  stores = openLocalStores(dir);
  vault = await LocalKeyVault.forDataDir(dir, {});
});
after(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

async function setup(name: string): Promise<{ bay: Bay; oldCa: string }> {
  const bay = await storedBay(stores.table, name, { status: "CREATE_COMPLETE", master_count: 1, node_count: 2, minions: { "0": "10.0.0.10", "1": "10.0.0.11" } });
  const made = await generateBayCertificates({ bayUuid: bay.uuid, bayName: bay.name, now: new Date() });
  await storeBayCerts(stores.table, vault, bay.uuid, made);
  return { bay, oldCa: made.caCertPem };
}

const pems = (bundle: string) => bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g)!.map((p) => new X509Certificate(p).fingerprint256);

interface Run {
  bay: Bay;
  certs: BayCerts;
  /** commands the agents ran, in order: "<node> <action>" */
  ran: string[];
  /** what `ca show` gave after each delivery, with the phase and the node steps then */
  shown: Array<{ phase: string | undefined; steps: string; ca: string[] }>;
  /** a worker died right after the certificates' swap */
  swapKilled: boolean;
}

/**
 * Drives the rotation to its end: messages delivered twice each; the looks numbered in `kill`
 * die before their writes (and are delivered again); agents act after every delivery, `failing`
 * fails its command in `failPhase`.
 */
async function drive(bay: Bay, o: { failing?: string; failAction?: string; kill?: number[]; killAfterSwap?: boolean } = {}): Promise<Run> {
  const queue: WorkMessage[] = [];
  const ops = { table: stores.table, queue: { send: async (m: WorkMessage) => void queue.push(m) }, vault, log, defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5 };
  const certs0 = (await stores.table.getCerts(bay.uuid))!;
  await rotateCa(ops, CALLER, bay, certs0, "req-rotate");
  const names = rolloutNodes(bay, null).map((n) => n.name);
  const done = new Map<string, { result: "succeeded" | "failed"; reason?: string }>();
  const ran: string[] = [];
  const shown: Run["shown"] = [];
  let looks = 0;
  let swapKilled = false;
  const agents = async () => {
    for (const node of names) {
      const current = (await stores.table.getBay(bay.uuid))!;
      const certs = (await stores.table.getCerts(bay.uuid))!;
      const want = desiredState(current, node, certs);
      if (!want.command) continue;
      let r = done.get(want.command.id);
      if (!r) {
        ran.push(`${node} ${want.command.action}`);
        r = node === o.failing && want.command.action === o.failAction ? { result: "failed", reason: `${want.command.action} on ${node}: systemctl restart kubelet failed` } : { result: "succeeded" };
        done.set(want.command.id, r);
      }
      await reportNode({ table: stores.table, queue: ops.queue, log }, current, node, { command_id: want.command.id, result: r.result, reason: r.reason ?? null }, certs);
    }
  };
  for (let i = 0; i < 400 && queue.length; i++) {
    const msg = queue.shift()!;
    for (const delivery of [1, 2]) {
      looks++;
      const killed = o.kill?.includes(looks) ?? false;
      // a killed worker: its writes never land (the process died); the queue redelivers
      let table: BayTable = stores.table;
      if (killed) table = failing(stores.table, ["updateBay", "replaceCerts"]);
      // killed right after the certificates' swap: the bay's completion never lands
      else if (o.killAfterSwap && !swapKilled) table = failing(stores.table, ["updateBay"], () => (swapKilled = true), "replaceCerts");
      const deps = stepDeps({ table, queue: { send: async (m) => void queue.push(m) }, log, vault });
      const dies = await driveCaRotation(msg, deps).then(() => false, (e) => {
        if (!/worker killed/.test(String(e))) throw e;
        return true;
      });
      if (dies) {
        queue.unshift(msg); // redelivered after the visibility timeout
        break;
      }
      void delivery;
    }
    await agents();
    const b = (await stores.table.getBay(bay.uuid))!;
    const c = (await stores.table.getCerts(bay.uuid))!;
    shown.push({ phase: b.ca_rotation?.phase, steps: b.ca_rotation?.nodes.map((n) => n.step).join(",") ?? "", ca: pems(caBundleShown(c, b.ca_rotation)) });
    // never half-rotated: the current certificates are the new ones exactly when the rotation completed
    const swapped = c.created_at === b.ca_rotation?.certs_created_at;
    if (b.status === "UPDATE_COMPLETE") assert.ok(swapped, "complete with the old certificates");
    if (swapped && b.status !== "UPDATE_COMPLETE") assert.equal(b.status, "UPDATE_IN_PROGRESS", "swapped, and the bay neither in progress nor complete");
  }
  return { bay: (await stores.table.getBay(bay.uuid))!, certs: (await stores.table.getCerts(bay.uuid))!, ran, shown, swapKilled };
}

/** The table, with `methods` failing as a killed worker's would (after `armed` ran, when given). */
function failing(table: BayTable, methods: string[], onFail?: () => void, armedBy?: string): BayTable {
  let armed = !armedBy;
  return new Proxy(table, {
    get: (t, k) => {
      const v = t[k as keyof BayTable] as unknown;
      if (typeof v !== "function") return v;
      if (k === armedBy) return async (...a: unknown[]) => {
        const r = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, a);
        armed = true;
        return r;
      };
      if (methods.includes(k as string)) return async (...a: unknown[]) => {
        if (!armed) return (v as (...a: unknown[]) => Promise<unknown>).apply(t, a);
        onFail?.();
        throw new Error("worker killed");
      };
      return (v as (...a: unknown[]) => unknown).bind(t);
    },
  });
}

describe("a CA rotation carried to the nodes, duplicate deliveries and killed workers included", () => {
  it("trust-ca, reissue, drop-ca on every node, masters first, each command once; then the new CA is the bay's", async () => {
    const { bay, oldCa } = await setup("rot-ok");
    const r = await drive(bay, { kill: [3, 8] });
    assert.equal(r.bay.status, "UPDATE_COMPLETE", r.bay.status_reason ?? "");
    const [m, w0, w1] = rolloutNodes(bay, null).map((n) => n.name);
    assert.deepEqual(r.ran, [
      `${m} trust-ca`, `${w0} trust-ca`, `${w1} trust-ca`,
      `${m} reissue`, `${w0} reissue`, `${w1} reissue`,
      `${m} drop-ca`, `${w0} drop-ca`, `${w1} drop-ca`,
    ]);
    const oldFp = new X509Certificate(oldCa).fingerprint256;
    const newCa = r.certs.ca_cert_pem;
    const newFp = new X509Certificate(newCa).fingerprint256;
    assert.notEqual(newFp, oldFp);
    assert.equal(r.certs.next ?? null, null);
    assert.deepEqual(pems(caBundleShown(r.certs, r.bay.ca_rotation)), [newFp], "ca show: the new CA alone");
    assert.equal(signingCa(r.certs, r.bay.ca_rotation).ca_cert_pem, newCa);
    assert.deepEqual(trustedNodeCas(r.certs, r.bay.ca_rotation), [newCa], "node certificates of the old CA are refused now");
    // `ca show` over time: the old CA while any node may not trust the new one
    for (const s of r.shown) {
      if (s.phase === "trust") assert.deepEqual(s.ca, [oldFp], `trust phase (${s.steps})`);
      if (s.phase === "reissue") assert.deepEqual(s.ca, [newFp, oldFp], `reissue phase (${s.steps})`);
    }
    assert.ok(r.shown.some((s) => s.phase === "reissue"));
    const events = await stores.table.listEvents(bay.uuid);
    assert.equal(events.filter((e) => e.kind === "ca_rotated").length, 1, "completed once, whatever the duplicates");
    assert.ok(events.some((e) => e.kind === "ca_rotation_step" && /every node trusts the old and the new CA/.test(e.detail)));
    assert.ok(events.some((e) => e.kind === "ca_rotation_step" && e.detail === `worker ${w1}: drop-ca done`));
    // the new keys are stored encrypted, and decrypt for this bay
    assert.match(await vault.decrypt(r.certs.ca_key_encrypted, `bay:${bay.uuid}:ca`), /PRIVATE KEY/);
  });

  it("a worker killed between the certificates' swap and the bay's completion: the redelivered look completes it", async () => {
    const { bay } = await setup("rot-swap");
    const r = await drive(bay, { killAfterSwap: true });
    assert.ok(r.swapKilled, "a worker died after the swap");
    assert.equal(r.bay.status, "UPDATE_COMPLETE", r.bay.status_reason ?? "");
    assert.equal(r.certs.created_at, r.bay.ca_rotation!.certs_created_at);
    assert.equal(r.bay.ca_rotation!.outcome, "complete");
  });

  it("a node failing to trust the new CA: UPDATE_FAILED naming it, the old CA still the bay's and the one shown", async () => {
    const { bay, oldCa } = await setup("rot-fail");
    const [m, w0, w1] = rolloutNodes(bay, null).map((n) => n.name);
    const r = await drive(bay, { failing: w0, failAction: "trust-ca", kill: [2] });
    assert.equal(r.bay.status, "UPDATE_FAILED");
    assert.match(r.bay.status_reason!, new RegExp(`^CA rotation failed on node ${w0} \\(trust-ca\\): trust-ca on ${w0}: systemctl restart kubelet failed\\. Every node still trusts the old CA`));
    assert.deepEqual(r.ran, [`${m} trust-ca`, `${w0} trust-ca`, `${w1} trust-ca`]);
    assert.equal(r.certs.ca_cert_pem, oldCa);
    assert.deepEqual(pems(caBundleShown(r.certs, r.bay.ca_rotation)), [new X509Certificate(oldCa).fingerprint256]);
    assert.equal(signingCa(r.certs, r.bay.ca_rotation).ca_cert_pem, oldCa);
    for (const n of [m, w0, w1]) assert.equal(desiredState(r.bay, n, r.certs).command, null, `${n}: no command after the failure`);
    assert.equal(r.bay.ca_rotation!.outcome, "failed");
  });

  it("a node failing its reissue: UPDATE_FAILED; both CAs stay trusted and shown, old certificates keep working", async () => {
    const { bay, oldCa } = await setup("rot-reissue");
    const [m, w0] = rolloutNodes(bay, null).map((n) => n.name);
    const r = await drive(bay, { failing: m, failAction: "reissue" });
    assert.equal(r.bay.status, "UPDATE_FAILED");
    assert.match(r.bay.status_reason!, new RegExp(`^CA rotation failed on node ${m} \\(reissue\\)`));
    assert.ok(!r.ran.some((x) => x.includes("drop-ca")), "no node dropped the old CA");
    assert.ok(!r.ran.includes(`${w0} reissue`), "the workers were not reached");
    assert.equal(r.certs.ca_cert_pem, oldCa, "the old CA is still the bay's");
    const shown = pems(caBundleShown(r.certs, r.bay.ca_rotation));
    assert.equal(shown.length, 2);
    assert.equal(shown[1], new X509Certificate(oldCa).fingerprint256);
    assert.equal(trustedNodeCas(r.certs, r.bay.ca_rotation).length, 2, "nodes with either CA's certificates still reach Bayforge");
  });
});

describe("two rotations of one bay at once", () => {
  it("the one that wins the bay keeps its new certificates; the other's are put back, and no node is told to trust a bundle without the winner's CA", async () => {
    const { bay } = await setup("rot-race");
    const certs0 = (await stores.table.getCerts(bay.uuid))!;
    // A stores its set, then B (reading A's) stores its own; A then wins the bay and B loses it
    let aStored!: () => void;
    const aHasCerts = new Promise<void>((r) => (aStored = r));
    let bStored!: () => void;
    const bHasCerts = new Promise<void>((r) => (bStored = r));
    let aDone!: () => void;
    const aWrote = new Promise<void>((r) => (aDone = r));
    const hold = (onCerts: () => void, beforeBay: Promise<void>, afterBay?: () => void): BayTable =>
      new Proxy(stores.table, {
        get: (t, k) => {
          const v = t[k as keyof BayTable] as unknown;
          if (typeof v !== "function") return v;
          const f = (v as (...a: unknown[]) => Promise<unknown>).bind(t);
          if (k === "replaceCerts") return async (...a: unknown[]) => f(...a).finally(onCerts);
          if (k === "updateBay") return async (...a: unknown[]) => {
            await beforeBay;
            return f(...a).finally(() => afterBay?.());
          };
          return f;
        },
      });
    const ops = (table: BayTable) => ({ table, queue: { send: async () => {} }, vault, log, defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5 });
    const a = rotateCa(ops(hold(aStored, bHasCerts, aDone)), CALLER, bay, certs0, "req-a");
    await aHasCerts;
    const b = rotateCa(ops(hold(bStored, aWrote)), CALLER, bay, (await stores.table.getCerts(bay.uuid))!, "req-b").then(() => "accepted", (e) => e);
    const [won, lost] = [await a, await b];
    assert.equal(won.status, "UPDATE_IN_PROGRESS");
    assert.equal((lost as { status?: number }).status, 409, String(lost));
    const certs = (await stores.table.getCerts(bay.uuid))!;
    assert.equal(certs.next?.created_at, won.ca_rotation!.certs_created_at, "the winner's new set is the stored one");
    for (const n of rolloutNodes(bay, null)) {
      const want = desiredState(won, n.name, certs);
      if (want.command) assert.equal(pems(want.command.ca_pem!).length, 2, "both CAs");
    }
  });
});

describe("POST /v1/agent/bays/{bay}/nodes/{node}/certificates: a node's renewal from the new CA", () => {
  const OWNER = { "X-Project-Id": "p" }; // storedBay's project
  let api: ApiHarness;
  let work: string;
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: work, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const csrFor = (subject: string, sans?: string) => {
    openssl("req", "-new", "-key", "node.key", "-subj", subject, ...(sans ? ["-addext", `subjectAltName=${sans}`] : []), "-out", "r.csr");
    return readFileSync(join(work, "r.csr"), "utf8");
  };
  let stamp = Math.floor(Date.now() / 1000);
  /** a request signed as the agent signs it, with `cert` (the node's kubelet certificate) */
  const agentCall = async (bayId: string, node: string, cert: string, suffix: string, body?: unknown) => {
    const path = `/v1/agent/bays/${bayId}/nodes/${node}${suffix}`;
    const text = body === undefined ? "" : JSON.stringify(body);
    const ts = String(++stamp); // each signed request is new (the replay guard)
    writeFileSync(join(work, "msg"), canonicalRequest(body === undefined ? "GET" : "POST", path, ts, text));
    const sig = execFileSync("openssl", ["dgst", "-sha256", "-sign", join(work, "node.key"), join(work, "msg")]).toString("base64");
    return api.call(body === undefined ? "GET" : "POST", path, body === undefined ? undefined : text, {
      [NODE_CERT_HEADER]: Buffer.from(cert).toString("base64"), [NODE_TIME_HEADER]: ts, [NODE_SIGNATURE_HEADER]: sig,
    });
  };

  before(async () => {
    api = await startApi();
    work = mkdtempSync(join(tmpdir(), "bf-renew-"));
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "node.key");
  });
  after(async () => {
    await api.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("signs the node's own subjects during its reissue only: 409 before, 400 for another node's name, and with the new CA", async () => {
    const bay = await storedBay(api.stores.table, "renew", { status: "CREATE_COMPLETE", master_count: 1, node_count: 1, minions: { "0": "10.0.0.10" } });
    const made = await generateBayCertificates({ bayUuid: bay.uuid, bayName: bay.name, now: new Date() });
    await storeBayCerts(api.stores.table, api.vault, bay.uuid, made);
    const [m, w] = rolloutNodes(bay, null).map((n) => n.name);
    const sign = async (cn: string) => (await api.call("POST", "/v1/certificates", { bay_uuid: bay.uuid, csr: csrFor(cn) }, OWNER)).json.pem as string;
    const kubelet = { [m]: await sign(`/O=system:nodes/CN=system:node:${m}`), [w]: await sign(`/O=system:nodes/CN=system:node:${w}`) };
    const renew = (node: string, subject: string, sans?: string) => agentCall(bay.uuid, node, kubelet[node], "/certificates", { csr: csrFor(subject, sans) });

    const early = await renew(w, `/CN=${w}`);
    assert.equal(early.status, 409, JSON.stringify(early.json));
    assert.equal((await api.call("PATCH", `/v1/certificates/${bay.uuid}`, undefined, OWNER)).status, 202);
    assert.equal((await renew(w, `/CN=${w}`)).status, 409, "not during trust-ca");
    // move the rotation to its reissue, as the worker and the agents would
    const deps = stepDeps({ table: api.stores.table, queue: { send: async () => {} }, log });
    for (let i = 0; i < 8; i++) {
      await driveCaRotation({ v: 1, kind: "bay.rotate_ca", bayId: bay.uuid, projectId: "p", requestId: "r", attempt: 0 }, deps);
      const b = (await api.stores.table.getBay(bay.uuid))!;
      if (b.ca_rotation!.phase === "reissue" && b.ca_rotation!.nodes.every((n) => n.command?.action === "reissue" || n.role === "worker")) break;
      for (const node of [m, w]) {
        const want = (await agentCall(bay.uuid, node, kubelet[node], "")).json;
        if (want.command) assert.equal((await agentCall(bay.uuid, node, kubelet[node], "/report", { command_id: want.command.id, result: "succeeded" })).status, 200);
      }
    }
    const b = (await api.stores.table.getBay(bay.uuid))!;
    assert.equal(b.ca_rotation!.phase, "reissue");
    assert.equal(b.ca_rotation!.nodes.find((n) => n.name === m)!.command?.action, "reissue", "the master reissues first");
    assert.equal((await renew(w, `/CN=${w}`)).status, 409, "the worker's turn has not come");

    const newCa = (await api.stores.table.getCerts(bay.uuid))!.next!.ca_cert_pem;
    const ok = await renew(m, "/CN=kube-apiserver", "DNS:kubernetes,IP:10.0.0.5");
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    const cert = new X509Certificate(ok.json.pem);
    assert.ok(cert.verify(new X509Certificate(newCa).publicKey), "signed by the new CA");
    const theirs = await renew(m, `/O=system:nodes/CN=system:node:${w}`);
    assert.equal(theirs.status, 400, "another node's identity");
    assert.match(theirs.json.errors[0].detail, /Subject not allowed/);
    const admin = await renew(m, "/O=system:masters/CN=admin");
    assert.equal(admin.status, 400, "no node gets system:masters");
    // a certificate of the old CA still authenticates the node during the rotation; a forged one never
    const forged = await generateBayCertificates({ bayUuid: bay.uuid, bayName: bay.name, now: new Date() });
    const stranger = signCsr({ caCertPem: forged.caCertPem, caKeyPem: forged.caKeyPem, csrPem: csrFor(`/O=system:nodes/CN=system:node:${m}`) });
    assert.equal((await agentCall(bay.uuid, m, stranger, "/certificates", { csr: csrFor("/CN=kube-apiserver") })).status, 401);
  });
});
