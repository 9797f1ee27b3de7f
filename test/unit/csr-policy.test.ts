// shared/certs/csr-policy.ts: what a bay's node may have signed with its role's bootstrap token,
// on requests built field by field (the fuzz suite's builder), for the cases openssl's -subj
// cannot write: string types, multi-valued RDNs, repeated CNs. The API's own tests are in
// test/integration/certificates-api.test.ts, the fuzzing in test/fuzz/csr-api.test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkSubject, NODE_SUBJECTS, SubjectNotAllowed, type SubjectPolicy } from "../../shared/certs/csr-policy.ts";
import { parseCsr } from "../../shared/certs/csr.ts";
import { sequence } from "../../shared/certs/der.ts";
import { buildCsr, makeKeys, name, raw, type Attribute } from "../fuzz/support/csr-builder.ts";

const [, ec] = makeKeys();
const minion: SubjectPolicy = { role: "minion", nodeNamePrefix: "k8s-abcdefghijkl" };
const master: SubjectPolicy = { role: "master", nodeNamePrefix: "k8s-abcdefghijkl" };
const csr = (rdns: Attribute[][], san?: Buffer[]) =>
  parseCsr(buildCsr(ec, name(rdns), san ? [{ oid: "2.5.29.17", value: sequence(san) }] : []).pem);
const check = (policy: SubjectPolicy, rdns: Attribute[][], san?: Buffer[]) => () => checkSubject(policy, csr(rdns, san));
const refused = (f: () => void, reason: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof SubjectNotAllowed && e.status === 400 && reason.test(e.detail));

describe("the subject policy of a bay's nodes", () => {
  it("lets a minion have its kubelet's identity and serving name, with its own DNS name and any IP", () => {
    check(minion, [[{ type: "O", value: "system:nodes" }], [{ type: "CN", value: "system:node:k8s-abcdefghijkl-minion-3" }]])();
    check(minion, [[{ type: "CN", value: "k8s-abcdefghijkl-minion-3", tag: "printable" }]], [raw(0x82, Buffer.from("k8s-abcdefghijkl-minion-3")), raw(0x87, Buffer.from([10, 0, 0, 9]))])();
  });

  it("refuses what Go's x509 (Kubernetes) could read otherwise: two CNs, multi-valued RDNs, other string types and attributes", () => {
    const cn = (value: string, tag?: Attribute["tag"]): Attribute => ({ type: "CN", value, tag });
    refused(check(minion, [[cn("k8s-abcdefghijkl-minion-0")], [cn("kube-apiserver")]]), /more than one CN/);
    refused(check(minion, [[cn("k8s-abcdefghijkl-minion-0"), { type: "O", value: "system:masters" }]]), /one attribute per RDN/);
    refused(check(minion, [[cn("k8s-abcdefghijkl-minion-0", "bmp")]]), /UTF8String or PrintableString/);
    refused(check(minion, [[cn("k8s-abcdefghijkl-minion-0")], [{ type: "OU", value: "system:masters" }]]), /CN and O only, not 2\.5\.4\.11/);
    refused(check(minion, [[{ type: "O", value: "system:nodes" }]]), /no CN/);
    refused(check(minion, []), /no CN/);
  });

  it("refuses a minion another node's name, a master's, a name with a leading zero, and the API's DNS names", () => {
    for (const name of ["k8s-abcdefghijkl-master-0", "k8s-abcdefghijkl-minion-01", "other-abcdefghijkl-minion-0", "k8s-abcdefghijkl-minion-"]) {
      refused(check(minion, [[{ type: "CN", value: name }]]), /minion nodes may not/);
    }
    refused(check(minion, [[{ type: "CN", value: "k8s-abcdefghijkl-minion-0" }]], [raw(0x82, Buffer.from("kubernetes.default.svc"))]), /its own name \(DNS:k8s-abcdefghijkl-minion-0\)/);
    refused(check(minion, [[{ type: "CN", value: "k8s-abcdefghijkl-minion-0" }]], [raw(0x86, Buffer.from("spiffe://x"))]), /IP addresses only/);
  });

  it("lets the nodes of the bay's extra node groups (minions) have their own names, and nobody a group's name outside the bay's groups", () => {
    const withGroups: SubjectPolicy = { ...minion, minionGroups: ["gpu", "big.pool", "master"] };
    check(withGroups, [[{ type: "O", value: "system:nodes" }], [{ type: "CN", value: "system:node:k8s-abcdefghijkl-gpu-1" }]])();
    check(withGroups, [[{ type: "CN", value: "k8s-abcdefghijkl-big.pool-0" }]], [raw(0x82, Buffer.from("k8s-abcdefghijkl-big.pool-0"))])();
    check(withGroups, [[{ type: "CN", value: "k8s-abcdefghijkl-minion-2" }]])();
    // a group's name is a name, not a pattern; a group named master never gives the masters' names
    for (const name of ["k8s-abcdefghijkl-bigxpool-0", "k8s-abcdefghijkl-other-0", "k8s-abcdefghijkl-master-0", "k8s-abcdefghijkl-gpu-01"])
      refused(check(withGroups, [[{ type: "CN", value: name }]]), /minion nodes may not .* They may have: CN=system:node:k8s-abcdefghijkl-\{minion\|gpu\|big\.pool\}-<n>/);
    refused(check(minion, [[{ type: "CN", value: "k8s-abcdefghijkl-gpu-0" }]]), /may not/);
    refused(check({ ...master, minionGroups: ["gpu"] }, [[{ type: "CN", value: "k8s-abcdefghijkl-gpu-0" }]]), /master nodes may not/);
  });

  it("gives a master each of its components' subjects, and no node system:masters", () => {
    for (const a of NODE_SUBJECTS.master) {
      const cn = a.cn.replace("{node}", "k8s-abcdefghijkl-master-2");
      check(master, [...a.o.map((value) => [{ type: "O" as const, value }]), [{ type: "CN", value: cn }]], [raw(0x82, Buffer.from("kubernetes"))])();
    }
    for (const policy of [master, minion]) {
      refused(check(policy, [[{ type: "O", value: "system:masters" }], [{ type: "CN", value: "kubernetes-super-admin" }]]), /may not have "CN=kubernetes-super-admin, O=system:masters" signed/);
      refused(check(policy, [[{ type: "O", value: "system:masters" }], [{ type: "O", value: "system:nodes" }], [{ type: "CN", value: `system:node:k8s-abcdefghijkl-${policy.role}-0` }]]), /may not/);
    }
  });

  it("echoes at most 64 characters of what the request holds", () => {
    assert.throws(check(minion, [[{ type: "CN", value: "x".repeat(5000) }]]), (e: unknown) => e instanceof SubjectNotAllowed && e.detail.length < 600 && !e.detail.includes("x".repeat(65)));
  });
});
