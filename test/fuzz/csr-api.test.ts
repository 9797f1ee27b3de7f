// Structure-aware fuzzing of POST /v1/certificates (the real route on the API harness: embedded
// SQLite stores, key file, HTTP): freshly made, correctly self-signed CSRs (RSA, EC P-256/P-384
// and Ed25519 keys from node:crypto; DER from support/csr-builder.ts) with generated subjects
// (string types, multi-valued RDNs, repeated CNs, the bay's and other bays' node names, every
// subject the fragments use, system:masters) and generated extension lists (CA:TRUE, every key
// usage bit, critical or not, SANs, unknown and malformed extensions), sent by the bay's owner,
// its masters' token and its minions' token. For every case: a certificate or a 400; a
// certificate is never a CA, never has keyCertSign or cRLSign, chains to the bay's CA, and for
// a node's token holds only a subject of its role (an oracle written here, apart from
// shared/certs/csr-policy.ts). FUZZ_SEED / FUZZ_SCALE: see support/runs.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import fc from "fast-check";
import { fuzzParams } from "./support/runs.ts";
import { buildCsr, makeKeys, name, raw, type Attribute, type Keys, type RequestedExtension } from "./support/csr-builder.ts";
import { BAYMODEL, startApi, type ApiHarness } from "../support/api-harness.ts";
import { boolean, integer, octetString, oid, parseDer, sequence, type DerNode } from "../../shared/certs/der.ts";
import { minionToken } from "../../shared/domain/bootstrap-token.ts";
import { nodeNamePrefix } from "../../shared/templates/kubernetes-definition.ts";
import { ensureCertificates } from "../../functions/worker/steps/certificates.ts";
import { bootstrapTokenFor } from "../../functions/worker/steps/create-bay.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";

type Who = "owner" | "master" | "minion";

let api: ApiHarness;
let keys: Keys[];
let bayUuid: string;
let prefix: string;
let otherPrefix: string;
let caPem: string;
const tokens: Partial<Record<Who, string>> = {};
const stats = { cases: 0, signed: { owner: 0, master: 0, minion: 0 }, refused: 0 };

before(async () => {
  keys = makeKeys();
  api = await startApi();
  const model = await api.call("POST", "/v1/baymodels", BAYMODEL);
  assert.equal(model.status, 201, JSON.stringify(model.json));
  const bays: string[] = [];
  for (const n of ["csr-fuzz", "csr-fuzz-other"]) {
    const r = await api.call("POST", "/v1/bays", { name: n, baymodel_id: model.json.uuid });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    bays.push(r.json.uuid);
  }
  [bayUuid] = bays;
  const deps = { table: api.stores.table, vault: api.vault, now: () => new Date() } as unknown as WorkerDeps;
  const bay = (await api.stores.table.getBay(bayUuid))!;
  await ensureCertificates(bay, deps);
  tokens.master = (await bootstrapTokenFor(deps, bay))!;
  tokens.minion = minionToken(bayUuid, tokens.master);
  prefix = nodeNamePrefix(bay);
  otherPrefix = nodeNamePrefix((await api.stores.table.getBay(bays[1]))!);
  caPem = (await api.call("GET", `/v1/certificates/${bayUuid}`)).json.pem;
});
after(async () => {
  await api?.close();
});

// ------------------------------------------------------------------ the oracle

const COMPONENTS = ["kube-apiserver", "front-proxy-client", "kube-apiserver-etcd-client", "system:kube-controller-manager", "system:kube-scheduler"];
const CLUSTER_ADMINS = ["kube-apiserver-kubelet-client", "kubernetes-admin"];

/** Whether a node of `role` may hold a certificate with this CN and these O's. */
function allowed(role: "master" | "minion", cn: string, o: string[]): boolean {
  const own = new RegExp(`^${prefix}-${role}-(0|[1-9][0-9]*)$`);
  const nodeName = cn.startsWith("system:node:") ? cn.slice("system:node:".length) : undefined;
  if (nodeName !== undefined && own.test(nodeName) && o.length === 1 && o[0] === "system:nodes") return true;
  if (own.test(cn) && o.length === 0) return true;
  if (role === "minion") return false;
  return (COMPONENTS.includes(cn) && o.length === 0) || (CLUSTER_ADMINS.includes(cn) && o.length === 1 && o[0] === "kubeadm:cluster-admins");
}

/** The certificate's subject as (type OID, value) pairs, and its extensions by OID. */
function readCertificate(pem: string): { subject: Array<[string, string]>; extensions: Map<string, DerNode> } {
  const [tbs] = parseDer(new X509Certificate(pem).raw).children;
  const f = tbs.children;
  const subject = f[5].children.flatMap((rdn) => rdn.children.map((atv): [string, string] => {
    const [type, value] = atv.children;
    return [oidText(type), value.content.toString(value.tag === 0x0c ? "utf8" : "latin1")];
  }));
  const extensions = new Map<string, DerNode>();
  const ext = f.find((n) => n.tagClass === 2 && n.tag === 3);
  for (const e of ext?.children[0].children ?? []) extensions.set(oidText(e.children[0]), parseDer(e.children.at(-1)!.content));
  return { subject, extensions };
}
const oidText = (n: DerNode) => decode(n.content);
function decode(b: Buffer): string {
  const arcs: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) (arcs.push(v), (v = 0));
  }
  const first = Math.min(2, Math.floor(arcs[0] / 40));
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join(".");
}

// ------------------------------------------------------------------ generators

const nodeNames = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.tuple(fc.constantFrom("master", "minion"), fc.constantFrom("0", "1", "12", "99999", "01", "x", "")).map(([r, n]) => `${prefix}-${r}-${n}`),
    // (read when a case is made: the bays' prefixes are known by then)
    fc.integer({ min: 0, max: 5 }).map((i) => [`${otherPrefix}-minion-0`, `${otherPrefix}-master-0`, `${prefix}-minion`, `${prefix.toUpperCase()}-minion-0`, `${prefix}-minion-0 `, `x${prefix}-minion-0`][i]),
  );
const cnValues = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: nodeNames() },
    { weight: 4, arbitrary: nodeNames().map((n) => `system:node:${n}`) },
    { weight: 3, arbitrary: fc.constantFrom(...COMPONENTS, ...CLUSTER_ADMINS, "admin", "kubernetes-super-admin", "system:node:", "system:masters") },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  );
const oValues = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom("system:nodes", "system:masters", "kubeadm:cluster-admins") },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);
const tag = fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("printable", "ia5", "bmp", "t61") as fc.Arbitrary<Attribute["tag"]> });
const attribute: fc.Arbitrary<Attribute> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant("CN" as const), value: cnValues(), tag }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant("O" as const), value: oValues, tag }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom("OU" as const, "C" as const, "1.2.3.4" as const), value: fc.constantFrom("system:masters", "US", "x"), tag }) },
);
/** Every subject the fragments request, for either role, with one of the bay's node names. */
const fragmentSubject: fc.Arbitrary<Attribute[][]> = fc.tuple(fc.constantFrom("master", "minion"), fc.nat(30), fc.nat(10)).map(([role, n, which]) => {
  const node = `${prefix}-${role}-${n}`;
  const all: Array<[string[], string]> = [[["system:nodes"], `system:node:${node}`], [[], node], ...COMPONENTS.map((c): [string[], string] => [[], c]), ...CLUSTER_ADMINS.map((c): [string[], string] => [["kubeadm:cluster-admins"], c])];
  const [o, cn] = all[which % all.length];
  return [...o.map((value) => [{ type: "O" as const, value }]), [{ type: "CN" as const, value: cn }]];
});
/** The shapes the fragments send, near misses of them (O's then one CN), and anything. */
const subject: fc.Arbitrary<Attribute[][]> = fc.oneof(
  { weight: 4, arbitrary: fragmentSubject },
  { weight: 3, arbitrary: fc.tuple(fc.array(fc.record({ type: fc.constant("O" as const), value: oValues }), { maxLength: 2 }), fc.record({ type: fc.constant("CN" as const), value: cnValues() })).map(([o, cn]) => [...o.map((a) => [a]), [cn]]) },
  { weight: 1, arbitrary: fc.array(fc.array(attribute, { minLength: 1, maxLength: 2 }), { maxLength: 5 }) },
);

const generalName = fc.oneof(
  nodeNames().map((n) => raw(0x82, Buffer.from(n))),
  fc.constantFrom("kubernetes", "kubernetes.default.svc", "localhost").map((n) => raw(0x82, Buffer.from(n))),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((ip) => raw(0x87, ip)),
  fc.constantFrom(raw(0x86, Buffer.from("spiffe://x")), raw(0x81, Buffer.from("a@b")), raw(0xa4, sequence([]))),
);
const ekus = ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.3", "2.5.29.37.0", "1.2.3.4"];
const extension: fc.Arbitrary<RequestedExtension> = fc.oneof(
  fc.record({ ca: fc.boolean(), pathlen: fc.option(fc.nat(9)), critical: fc.boolean() }).map(({ ca, pathlen, critical }) => ({
    oid: "2.5.29.19", critical, value: sequence([...(ca ? [boolean(true)] : []), ...(pathlen === null ? [] : [integer(pathlen)])]),
  })),
  fc.record({ bits: fc.uint8Array({ minLength: 1, maxLength: 2 }), unused: fc.integer({ min: 0, max: 7 }), critical: fc.boolean() }).map(({ bits, unused, critical }) => ({
    oid: "2.5.29.15", critical, value: raw(0x03, Buffer.concat([Buffer.from([unused]), bits])),
  })),
  fc.record({ usages: fc.subarray(ekus), critical: fc.boolean() }).map(({ usages, critical }) => ({ oid: "2.5.29.37", critical, value: sequence(usages.map(oid)) })),
  fc.record({ names: fc.array(generalName, { maxLength: 4 }), critical: fc.boolean() }).map(({ names, critical }) => ({ oid: "2.5.29.17", critical, value: sequence(names) })),
  fc.constant({ oid: "2.5.29.14", value: octetString(Buffer.alloc(20, 7)) }),
  fc.record({ id: fc.constantFrom("1.2.3.4", "2.5.29.30", "2.16.840.1.113730.1.1", "2.5.29.32"), critical: fc.boolean() }).map(({ id, critical }) => ({ oid: id, critical, value: sequence([]) })),
  // an allowed extension whose value is not what it should be
  fc.record({ id: fc.constantFrom("2.5.29.19", "2.5.29.15", "2.5.29.17", "2.5.29.37"), junk: fc.uint8Array({ maxLength: 12 }), critical: fc.boolean() }).map(({ id, junk, critical }) => ({ oid: id, critical, value: Buffer.from(junk) })),
);
/** What the fragments ask for, and what a node is granted less of (CA:TRUE, keyCertSign: not critical). */
const benign: fc.Arbitrary<RequestedExtension> = fc.oneof(
  fc.constant({ oid: "2.5.29.15", critical: true, value: raw(0x03, Buffer.from([7, 0x80])) }),
  fc.constant({ oid: "2.5.29.15", value: raw(0x03, Buffer.from([1, 0xa6])) }), // with keyCertSign, not critical
  fc.constant({ oid: "2.5.29.19", value: sequence([boolean(true), integer(3)]) }), // CA:TRUE, not critical
  fc.subarray(ekus.slice(0, 2), { minLength: 1 }).map((u) => ({ oid: "2.5.29.37", value: sequence(u.map(oid)) })),
  fc.tuple(fc.constantFrom("master", "minion"), fc.nat(30), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([r, n, ip]) => ({ oid: "2.5.29.17", value: sequence([raw(0x82, Buffer.from(`${prefix}-${r}-${n}`)), raw(0x87, ip)]) })),
);
/** Distinct OIDs mostly (a repeated one is a 400 of its own). */
const extensions = fc
  .oneof(fc.array(benign, { maxLength: 4 }), fc.array(extension, { maxLength: 6 }))
  .map((list) => (list.length && list.length % 5 === 0 ? list : list.filter((e, i) => list.findIndex((x) => x.oid === e.oid) === i)));

// ------------------------------------------------------------------ the property

describe("POST /v1/certificates with generated, correctly signed CSRs", () => {
  it("answers a certificate or a 400; a certificate is never a CA, never signs certificates, and fits the caller's subject policy", async () => {
    const caPublicKey = new X509Certificate(caPem).publicKey;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<Who>("owner", "master", "minion"), fc.nat(), subject, extensions, async (who, k, rdns, exts) => {
        stats.cases++;
        const csr = buildCsr(keys[k % keys.length], name(rdns), exts).pem;
        const r = await api.call("POST", "/v1/certificates", { bay_uuid: bayUuid, csr }, who === "owner" ? {} : { "x-auth-token": tokens[who]! });
        assert.ok(r.status === 201 || r.status === 400, `${r.status}: ${JSON.stringify(r.json)}`);
        if (r.status === 400) {
          stats.refused++;
          assert.ok(r.json.errors[0].detail.length < 1000);
          return;
        }
        stats.signed[who]++;
        const cert = new X509Certificate(r.json.pem);
        assert.equal(cert.ca, false, "never a CA");
        assert.ok(cert.verify(caPublicKey), "signed by the bay's CA");
        const { subject: got, extensions: ext } = readCertificate(r.json.pem);
        const keyUsage = ext.get("2.5.29.15");
        if (keyUsage) {
          const bits = keyUsage.content.subarray(1);
          assert.equal((bits[0] ?? 0) & 0b0000_0110, 0, "neither keyCertSign nor cRLSign");
          assert.ok(bits.subarray(1).every((b) => b === 0), "no encipherOnly/decipherOnly without keyAgreement");
        }
        const bc = ext.get("2.5.29.19");
        if (bc) assert.equal(bc.children.length, 0, "basicConstraints is CA:FALSE, written as such");
        if (who === "owner") return;
        const cns = got.filter(([t]) => t === "2.5.4.3").map(([, v]) => v);
        const os = got.filter(([t]) => t === "2.5.4.10").map(([, v]) => v);
        assert.equal(cns.length, 1, `one CN: ${JSON.stringify(got)}`);
        assert.equal(got.length, cns.length + os.length, `CN and O only: ${JSON.stringify(got)}`);
        assert.ok(!os.includes("system:masters"), "no node gets system:masters");
        assert.ok(allowed(who, cns[0], os), `${who} got ${JSON.stringify(got)}`);
        const san = ext.get("2.5.29.17");
        if (who === "minion" && san) {
          const own = cns[0].replace(/^system:node:/, "");
          for (const g of san.children) assert.ok(g.tag === 7 || (g.tag === 2 && g.content.toString() === own), `minion SAN ${g.raw.toString("hex")}`);
        }
      }),
      fuzzParams(400),
    );
  });

  it("signed something for every caller (the generators reach past the refusals)", (t) => {
    t.diagnostic(`${stats.cases} cases: ${stats.refused} refused (400); signed for owner ${stats.signed.owner}, masters' token ${stats.signed.master}, minions' token ${stats.signed.minion}`);
    for (const who of ["owner", "master", "minion"] as const) assert.ok(stats.signed[who] > 0, who);
  });
});
