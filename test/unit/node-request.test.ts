// Issue 15: a node's signed request to the agent API. The node side is what the agent does on
// a node: an EC key, a kubelet certificate the bay's CA signed, `openssl dgst -sha256 -sign`
// over the canonical request. Bayforge accepts it once, and refuses every variation.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateBayCertificates, type BayCertificates } from "../../shared/certs/bay-ca.ts";
import { signCsr } from "../../shared/certs/sign-csr.ts";
import { canonicalRequest, NODE_CERT_HEADER, NODE_SIGNATURE_HEADER, NODE_TIME_HEADER, verifyNodeRequest, type NodeRequest } from "../../shared/certs/node-request.ts";
import type { ReplayGuard } from "../../shared/ports/replay-guard.ts";

const NODE = "k8s-abc123def456-minion-0";
const PATH = `/v1/agent/bays/b/nodes/${NODE}/report`;
let dir: string;
let bay: BayCertificates;
let other: BayCertificates;
let certPem: string;
let keyFile: string;
const now = new Date();

const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
function csr(subject: string, key = "node.key"): string {
  openssl("req", "-new", "-key", key, "-subj", subject, "-out", "r.csr");
  return readFileSync(join(dir, "r.csr"), "utf8");
}
function sign(method: string, path: string, stamp: string, body: string, key = keyFile): string {
  writeFileSync(join(dir, "msg"), canonicalRequest(method, path, stamp, body));
  return execFileSync("openssl", ["dgst", "-sha256", "-sign", key, join(dir, "msg")]).toString("base64");
}
class Guard implements ReplayGuard {
  seen = new Set<string>();
  async firstUse(key: string) {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
}
function request(o: { body?: string; stamp?: number; cert?: string; path?: string; sig?: string; key?: string } = {}): NodeRequest {
  const body = o.body ?? JSON.stringify({ result: "idle", version: "v1.35.8" });
  const stamp = String(o.stamp ?? Math.floor(now.getTime() / 1000));
  const headers = new Headers({
    [NODE_CERT_HEADER]: Buffer.from(o.cert ?? certPem).toString("base64"),
    [NODE_TIME_HEADER]: stamp,
    [NODE_SIGNATURE_HEADER]: o.sig ?? sign("POST", PATH, stamp, body, o.key),
  });
  return { method: "POST", path: o.path ?? PATH, headers, body: Buffer.from(body) };
}
const verify = (r: NodeRequest, o: { ca?: string; node?: string; guard?: ReplayGuard; at?: Date } = {}) =>
  verifyNodeRequest(r, { caPems: [o.ca ?? bay.caCertPem], node: o.node ?? NODE, now: o.at ?? now, replay: o.guard ?? new Guard() });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-nodereq-"));
  [bay, other] = await Promise.all([generateBayCertificates({ bayUuid: "b", keyBits: 2048 }), generateBayCertificates({ bayUuid: "o", keyBits: 2048 })]);
  openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "node.key");
  keyFile = join(dir, "node.key");
  certPem = signCsr({ caCertPem: bay.caCertPem, caKeyPem: bay.caKeyPem, csrPem: csr(`/O=system:nodes/CN=system:node:${NODE}`) });
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("a node's signed request", () => {
  it("during a CA rotation, is accepted with a certificate of either CA the bay trusts, and refused with neither", async () => {
    const both = (r: NodeRequest, cas: string[]) => verifyNodeRequest(r, { caPems: cas, node: NODE, now, replay: new Guard() });
    assert.equal((await both(request(), [other.caCertPem, bay.caCertPem])).ok, true);
    assert.equal((await both(request(), [bay.caCertPem, other.caCertPem])).ok, true);
    const v = await both(request(), [other.caCertPem]);
    assert.equal(v.ok, false);
    assert.match((v as { reason: string }).reason, /not issued by this bay's CA/);
  });

  it("is accepted once, as the node its certificate names", async () => {
    const guard = new Guard();
    const r = request();
    assert.deepEqual(await verify(r, { guard }), { ok: true, node: NODE });
    const again = await verify(r, { guard });
    assert.equal(again.ok, false);
    assert.match((again as { reason: string }).reason, /replay/);
  });

  const refused = async (r: NodeRequest | Promise<NodeRequest>, status: number, reason: RegExp, o: Parameters<typeof verify>[1] = {}) => {
    const v = await verify(await r, o);
    assert.equal(v.ok, false, "refused");
    assert.equal((v as { status: number }).status, status);
    assert.match((v as { reason: string }).reason, reason);
  };

  it("is refused with a certificate of another bay's CA, or checked against another bay", async () => {
    const foreign = signCsr({ caCertPem: other.caCertPem, caKeyPem: other.caKeyPem, csrPem: csr(`/O=system:nodes/CN=system:node:${NODE}`) });
    await refused(request({ cert: foreign }), 401, /not issued by this bay's CA/);
    await refused(request(), 401, /not issued by this bay's CA/, { ca: other.caCertPem });
  });

  it("is refused for another node's path, or with a subject that is not a kubelet's", async () => {
    await refused(request(), 403, /not the kubelet identity of the node this path names/, { node: "k8s-abc123def456-minion-1" });
    const admin = signCsr({ caCertPem: bay.caCertPem, caKeyPem: bay.caKeyPem, csrPem: csr("/O=system:masters/CN=admin") });
    await refused(request({ cert: admin }), 403, /kubelet identity/);
    // the bay's CA itself is no node
    await refused(request({ cert: bay.caCertPem }), 403, /CA certificate|kubelet identity/);
  });

  it("is refused with an expired certificate", async () => {
    const old = signCsr({ caCertPem: bay.caCertPem, caKeyPem: bay.caKeyPem, csrPem: csr(`/O=system:nodes/CN=system:node:${NODE}`), validityDays: 1, now: new Date(Date.now() - 10 * 86400_000) });
    await refused(request({ cert: old }), 401, /not valid now/);
  });

  it("is refused when the clock is off by more than the window, either way", async () => {
    await refused(request({ stamp: Math.floor(now.getTime() / 1000) - 301 }), 401, /more than 300 s from Bayforge's clock/);
    await refused(request({ stamp: Math.floor(now.getTime() / 1000) + 301 }), 401, /more than 300 s/);
  });

  it("is refused when anything signed changed: body, path, or a key that is not the certificate's", async () => {
    const r = request();
    await refused({ ...r, body: Buffer.from(JSON.stringify({ result: "succeeded" })) }, 401, /signature does not match/);
    await refused({ ...r, path: `/v1/agent/bays/b/nodes/${NODE}` }, 401, /signature does not match/);
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "thief.key");
    await refused(request({ key: join(dir, "thief.key") }), 401, /signature does not match/);
  });

  it("is refused when oversized or malformed, before anything is parsed", async () => {
    await refused(request({ body: "x".repeat(8193) }), 413, /exceeds the limit of 8192 bytes/);
    const r = request();
    const h = (name: string, value: string) => {
      const headers = new Headers(r.headers as Headers);
      headers.set(name, value);
      return { ...r, headers };
    };
    await refused(h(NODE_CERT_HEADER, "A".repeat(7000)), 401, /malformed or too long/);
    await refused(h(NODE_SIGNATURE_HEADER, "A".repeat(300)), 401, /malformed or too long/);
    await refused(h(NODE_TIME_HEADER, "soon"), 401, /malformed/);
    await refused(h(NODE_CERT_HEADER, "not*base64"), 401, /base64/);
    await refused(h(NODE_CERT_HEADER, Buffer.from("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").toString("base64")), 401, /not an X\.509 certificate/);
    const none = new Headers();
    await refused({ ...r, headers: none }, 401, /needs the x-bayforge-node-certificate/);
  });
});
