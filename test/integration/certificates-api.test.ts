// /v1/certificates on the API harness (real embedded SQLite stores and key file): the bay's
// CA, nodes' CSRs signed by it (checked with the openssl CLI, as a node or kubectl would), and
// CA rotation. Certificates are generated the way the worker does, with its own step.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BAYMODEL, startApi, type ApiHarness } from "../support/api-harness.ts";
import { ensureCertificates } from "../../functions/worker/steps/certificates.ts";
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import type { BayStatus } from "../../shared/domain/status.ts";
import { minionToken, newBootstrapToken } from "../../shared/domain/bootstrap-token.ts";
import type { NodeGroupRecord } from "../../shared/domain/model.ts";
import { nodeNamePrefix } from "../../shared/templates/kubernetes-definition.ts";

const BASE = "http://bayforge.test:9511";
const OTHER_PROJECT = { "x-project-id": "someone-else" };

let api: ApiHarness;
let work: string;
let modelUuid: string;
let n = 0;

before(async () => {
  // one project makes a bay per case here (quotas: test/integration/quotas-api.test.ts)
  api = await startApi({ BAYFORGE_PUBLIC_URL: BASE, BAYFORGE_MAX_CLUSTERS_PER_PROJECT: "-1" });
  work = mkdtempSync(join(tmpdir(), "bf-certs-"));
  const r = await api.call("POST", "/v1/baymodels", BAYMODEL);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  modelUuid = r.json.uuid;
});
after(async () => {
  await api.close();
  rmSync(work, { recursive: true, force: true });
});

// --- helpers -------------------------------------------------------------------------------

/** A bay accepted by the API (CREATE_IN_PROGRESS), without certificates yet. */
async function acceptedBay(name = `certs-${++n}`, baymodel = modelUuid): Promise<{ uuid: string; name: string }> {
  const r = await api.call("POST", "/v1/bays", { name, baymodel_id: baymodel });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return { uuid: r.json.uuid, name };
}

/** Runs the worker's certificate step for the bay, on the API's own table and key vault. */
async function generateCerts(uuid: string) {
  const bay = await api.stores.table.getBay(uuid);
  assert.ok(bay);
  const deps = { table: api.stores.table, vault: api.vault, now: () => new Date() } as unknown as WorkerDeps;
  return ensureCertificates(bay, deps);
}

/** A bay whose worker has generated its certificates, optionally moved on to `status`. */
async function bayWithCerts(status: BayStatus = "CREATE_IN_PROGRESS", name?: string, baymodel?: string) {
  const bay = await acceptedBay(name, baymodel);
  await generateCerts(bay.uuid);
  if (status !== "CREATE_IN_PROGRESS") {
    const stored = (await api.stores.table.getBay(bay.uuid))!;
    await api.stores.table.updateBay({ ...stored, status }, stored.version);
  }
  return bay;
}

function openssl(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync("openssl", args, { input, encoding: "utf8" });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A node's CSR as make-cert.sh makes one: RSA 2048, CN=kubernetes.invalid, SAN IPs, EKU clientAuth/serverAuth. */
function makeCsr(extra: string[] = []): string {
  const csr = join(work, `csr-${++n}.pem`);
  const r = openssl([
    "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", join(work, `key-${n}.pem`), "-out", csr,
    "-subj", "/CN=kubernetes.invalid",
    "-addext", "subjectAltName=IP:10.0.0.5,IP:172.24.4.3,IP:127.0.0.1",
    "-addext", "extendedKeyUsage=clientAuth,serverAuth",
    ...extra.flatMap((e) => ["-addext", e]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(csr, "utf8");
}

/** A CSR for `subject` (openssl -subj form) with a fresh P-256 key, as the boot fragments make them. */
function csrFor(subject: string, san?: string): string {
  const csr = join(work, `csr-${++n}.pem`);
  const r = openssl([
    "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(work, `key-${n}.pem`), "-out", csr,
    "-subj", subject, "-addext", "keyUsage=critical,digitalSignature", ...(san ? ["-addext", `subjectAltName=${san}`] : []),
  ]);
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(csr, "utf8");
}

/** `openssl verify -CAfile ca leaf`: true when the leaf chains to the CA. */
function verifies(caPem: string, leafPem: string): boolean {
  const ca = join(work, `ca-${++n}.pem`);
  const leaf = join(work, `leaf-${n}.pem`);
  writeFileSync(ca, caPem);
  writeFileSync(leaf, leafPem);
  const r = openssl(["verify", "-CAfile", ca, leaf]);
  if (r.status === 0) assert.match(r.stdout, /: OK/);
  return r.status === 0;
}

const text = (pem: string) => openssl(["x509", "-noout", "-text"], pem).stdout;

/** What a refused request must leave untouched: the bay's certs, events, and the table/queue counts. */
async function snapshot(uuid: string) {
  return {
    certs: await api.stores.table.getCerts(uuid),
    events: await api.stores.table.listEvents(uuid),
    counts: await api.counts(),
  };
}

function assertError(r: { status: number; json: any }, status: number, detail: RegExp) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  const [e] = r.json.errors;
  assert.equal(e.status, status);
  assert.equal(e.code, "client");
  assert.match(e.detail, detail);
}

// --- GET -----------------------------------------------------------------------------------

describe("GET /v1/certificates/{bay}", () => {
  it("answers 200 with the bay's CA certificate, by uuid and by name, in Magnum's shape", async () => {
    const bay = await bayWithCerts("CREATE_COMPLETE");
    const r = await api.call("GET", `/v1/certificates/${bay.uuid}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(Object.keys(r.json).sort(), ["bay_uuid", "cluster_uuid", "links", "pem"]);
    assert.equal(r.json.bay_uuid, bay.uuid);
    assert.equal(r.json.cluster_uuid, bay.uuid);
    assert.deepEqual(r.json.links, [
      { href: `${BASE}/v1/certificates/${bay.uuid}`, rel: "self" },
      { href: `${BASE}/certificates/${bay.uuid}`, rel: "bookmark" },
    ]);
    const ca = new X509Certificate(r.json.pem);
    assert.equal(ca.ca, true);
    assert.equal(ca.subject, `CN=${bay.name}`);
    assert.equal(ca.issuer, `CN=${bay.name}`);

    const byName = await api.call("GET", `/v1/certificates/${bay.name}`);
    assert.equal(byName.status, 200);
    assert.equal(byName.json.pem, r.json.pem);
    assert.ok(!JSON.stringify(r.json).includes("PRIVATE KEY"));
  });

  it("serves the CA while the bay is still being created, once the worker has made it (the nodes fetch it then)", async () => {
    const bay = await bayWithCerts("CREATE_IN_PROGRESS");
    const r = await api.call("GET", `/v1/certificates/${bay.uuid}`, undefined, { "OpenStack-API-Version": "container-infra 1.2" });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("openstack-api-version"), "container-infra 1.2");
    assert.equal(new X509Certificate(r.json.pem).ca, true);
  });

  it("answers 409 with Retry-After while the worker has not generated the bay's CA yet", async () => {
    const bay = await acceptedBay();
    const r = await api.call("GET", `/v1/certificates/${bay.uuid}`);
    assertError(r, 409, /CA certificate of bay .* is not ready yet: the bay is CREATE_IN_PROGRESS/);
    assert.equal(r.headers.get("retry-after"), "5");
    await generateCerts(bay.uuid);
    assert.equal((await api.call("GET", `/v1/certificates/${bay.uuid}`)).status, 200);
  });

  it("answers 404 for an unknown bay and for another project's bay", async () => {
    assertError(await api.call("GET", "/v1/certificates/6b1d7e51-7f35-4c1d-9d55-3a0b8f7c0a11"), 404,
      /Bay 6b1d7e51-7f35-4c1d-9d55-3a0b8f7c0a11 could not be found/);
    assertError(await api.call("GET", "/v1/certificates/no-such-bay"), 404, /Bay no-such-bay could not be found/);
    const bay = await bayWithCerts("CREATE_COMPLETE");
    assertError(await api.call("GET", `/v1/certificates/${bay.uuid}`, undefined, OTHER_PROJECT), 404, /could not be found/);
    assertError(await api.call("GET", `/v1/certificates/${bay.name}`, undefined, OTHER_PROJECT), 404, /could not be found/);
  });
});

// --- POST ----------------------------------------------------------------------------------

describe("POST /v1/certificates", () => {
  let bay: { uuid: string; name: string };
  let caPem: string;
  before(async () => {
    bay = await bayWithCerts("CREATE_IN_PROGRESS");
    caPem = (await api.call("GET", `/v1/certificates/${bay.uuid}`)).json.pem;
  });

  it("answers 201 with the node's CSR signed by the bay CA: openssl verifies it, subject and SANs kept", async () => {
    const csr = makeCsr();
    const r = await api.call("POST", "/v1/certificates", { bay_uuid: bay.uuid, csr });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.deepEqual(Object.keys(r.json).sort(), ["bay_uuid", "cluster_uuid", "csr", "links", "pem"]);
    assert.equal(r.json.bay_uuid, bay.uuid);
    assert.equal(r.json.cluster_uuid, bay.uuid);
    assert.equal(r.json.csr, csr);
    assert.equal(r.json.links[0].href, `${BASE}/v1/certificates/${bay.uuid}`);

    assert.ok(verifies(caPem, r.json.pem), "the signed certificate chains to the bay's CA");
    const cert = new X509Certificate(r.json.pem);
    assert.equal(cert.subject, "CN=kubernetes.invalid");
    assert.equal(cert.issuer, `CN=${bay.name}`);
    assert.equal(cert.subjectAltName, "IP Address:10.0.0.5, IP Address:172.24.4.3, IP Address:127.0.0.1");
    assert.equal(cert.ca, false);
    assert.match(text(r.json.pem), /TLS Web Client Authentication, TLS Web Server Authentication/);
  });

  it("accepts the bay as cluster_uuid (modern Magnum and python-magnumclient) and by name", async () => {
    for (const body of [{ cluster_uuid: bay.uuid }, { bay_uuid: bay.name }, { cluster_uuid: bay.name }]) {
      const r = await api.call("POST", "/v1/certificates", { ...body, csr: makeCsr() });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(r.json.bay_uuid, bay.uuid);
      assert.ok(verifies(caPem, r.json.pem));
    }
  });

  it("gives a CSR asking to be a CA a certificate that is not one", async () => {
    const r = await api.call("POST", "/v1/certificates", {
      bay_uuid: bay.uuid,
      csr: makeCsr(["basicConstraints=CA:TRUE", "keyUsage=digitalSignature,keyEncipherment,keyCertSign,cRLSign"]),
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const cert = new X509Certificate(r.json.pem);
    assert.equal(cert.ca, false);
    const t = text(r.json.pem);
    assert.match(t, /CA:FALSE/);
    assert.doesNotMatch(t, /Certificate Sign|CRL Sign/);
    assert.match(t, /Digital Signature, Key Encipherment/);
    assert.ok(verifies(caPem, r.json.pem));
  });

  it("answers 400 naming basicConstraints when a CSR asks, critically, to be a CA", async () => {
    const r = await api.call("POST", "/v1/certificates", { bay_uuid: bay.uuid, csr: makeCsr(["basicConstraints=critical,CA:TRUE"]) });
    assertError(r, 400, /basicConstraints.*CA:TRUE/);
  });

  it("answers 400 Received invalid csr for a CSR that is not one", async () => {
    assertError(await api.call("POST", "/v1/certificates", { bay_uuid: bay.uuid, csr: "not a certificate request" }), 400,
      /Received invalid csr: no PEM block was found/);
    const garbled = "-----BEGIN CERTIFICATE REQUEST-----\nTm90IGEgQ1NSIGF0IGFsbA==\n-----END CERTIFICATE REQUEST-----\n";
    assertError(await api.call("POST", "/v1/certificates", { bay_uuid: bay.uuid, csr: garbled }), 400, /Received invalid csr/);
    // a certificate is not a request
    assertError(await api.call("POST", "/v1/certificates", { bay_uuid: bay.uuid, csr: caPem }), 400, /Received invalid csr/);
  });

  it("answers 400 (not 404, as Magnum) for an unknown bay and for another project's bay", async () => {
    const csr = makeCsr();
    assertError(await api.call("POST", "/v1/certificates", { bay_uuid: "6b1d7e51-7f35-4c1d-9d55-3a0b8f7c0a11", csr }), 400,
      /Bay 6b1d7e51-7f35-4c1d-9d55-3a0b8f7c0a11 could not be found/);
    assertError(await api.call("POST", "/v1/certificates", { cluster_uuid: "no-such-bay", csr }), 400, /Bay no-such-bay could not be found/);
    assertError(await api.call("POST", "/v1/certificates", { bay_uuid: bay.uuid, csr }, OTHER_PROJECT), 400, /could not be found/);
    assertError(await api.call("POST", "/v1/certificates", { bay_uuid: bay.name, csr }, OTHER_PROJECT), 400, /could not be found/);
  });

  it("answers 400 in Magnum's envelope for missing, unknown, read-only and mistyped attributes", async () => {
    const csr = makeCsr();
    const cases: Array<[unknown, RegExp]> = [
      [{ bay_uuid: bay.uuid }, /Invalid input for field\/attribute csr\. Mandatory field missing/],
      [{ csr }, /Invalid input for field\/attribute bay_uuid\. Mandatory field missing.*cluster_uuid/],
      [{ bay_uuid: bay.uuid, cluster_uuid: bay.uuid, csr }, /bay_uuid or as cluster_uuid, not both/],
      [{ bay_uuid: bay.uuid, csr, ca_cert_type: "etcd" }, /Unknown attribute for argument certificate: ca_cert_type/],
      [{ bay_uuid: bay.uuid, csr, pem: "x" }, /Attribute pem of certificate is read-only/],
      [{ bay_uuid: bay.uuid, csr: 42 }, /Invalid input for field\/attribute csr\. Value: '42'\. Value should be a string/],
      [{ bay_uuid: bay.uuid, csr: "" }, /Invalid input for field\/attribute csr\. .*minimum character requirement of 1/],
      [{ bay_uuid: 7, csr }, /Invalid input for field\/attribute bay_uuid\. Value: '7'\. Value should be a string/],
      [[{ bay_uuid: bay.uuid, csr }], /must be a JSON object/],
      ["{not json", /not valid JSON/],
    ];
    for (const [body, detail] of cases) {
      const r = await api.call("POST", "/v1/certificates", body);
      assertError(r, 400, detail);
      assert.deepEqual(Object.keys(r.json.errors[0]).sort(), ["code", "detail", "links", "request_id", "status", "title"]);
    }
  });

  it("answers 409 with Retry-After when the bay's CA is not generated yet", async () => {
    const early = await acceptedBay();
    const r = await api.call("POST", "/v1/certificates", { bay_uuid: early.uuid, csr: makeCsr() });
    assertError(r, 409, /not ready yet/);
    assert.equal(r.headers.get("retry-after"), "5");
  });

  it("never writes the CA's private key to its logs", async () => {
    assert.ok(api.logs.some((l) => l.includes("certificate signed")), "the API logged its signatures");
    const certs = await api.stores.table.getCerts(bay.uuid);
    const caKey = await api.vault.decrypt(certs!.ca_key_encrypted, `bay:${bay.uuid}:ca`);
    const keyLine = caKey.split("\n")[1];
    assert.ok(keyLine.length > 40);
    assert.ok(!api.logs.some((l) => l.includes("PRIVATE KEY") || l.includes(keyLine)), "no key material in the logs");
  });
});

// --- PATCH (CA rotation) ---------------------------------------------------------------------

describe("PATCH /v1/certificates/{bay} (CA rotation)", () => {
  const V19 = { "OpenStack-API-Version": "container-infra 1.9" };

  /** The rotation's nodes as the bay's stack names them: masters first. */
  async function expectedNodes(uuid: string) {
    const bay = (await api.stores.table.getBay(uuid))!;
    const prefix = nodeNamePrefix(bay);
    return [
      ...Array.from({ length: bay.master_count }, (_, i) => ({ name: `${prefix}-master-${i}`, role: "master", group: "default-master" })),
      ...Array.from({ length: bay.node_count }, (_, i) => ({ name: `${prefix}-minion-${i}`, role: "worker", group: "default-worker" })),
    ];
  }

  it("answers 202 {uuid} and starts a rotation: the new CA and client certificate stored as the next set, the current CA still served and signing, a ca_rotation_accepted event", async () => {
    const bay = await bayWithCerts("CREATE_COMPLETE");
    const before = await api.stores.table.getCerts(bay.uuid);
    assert.ok(before);
    const oldCa = (await api.call("GET", `/v1/certificates/${bay.uuid}`)).json.pem;
    const oldNode = (await api.call("POST", "/v1/certificates", { bay_uuid: bay.uuid, csr: makeCsr() })).json.pem;
    assert.ok(verifies(oldCa, before.client_cert_pem) && verifies(oldCa, oldNode));
    assert.equal(before.next ?? null, null);
    const nodes = await expectedNodes(bay.uuid);
    const counts = await api.counts();

    const r = await api.call("PATCH", `/v1/certificates/${bay.uuid}`);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.deepEqual(r.json, { uuid: bay.uuid });
    const requestId = r.headers.get("x-openstack-request-id");
    assert.match(requestId ?? "", /^req-/);

    // the bay: in progress, with the rotation's plan, its first phase (every node to trust both CAs)
    const stored = (await api.stores.table.getBay(bay.uuid))!;
    assert.equal(stored.status, "UPDATE_IN_PROGRESS");
    const rotation = stored.ca_rotation;
    assert.ok(rotation);
    assert.equal(rotation.phase, "trust");
    assert.equal(rotation.request_id, requestId);
    assert.equal(rotation.finished_at ?? null, null);
    assert.deepEqual(rotation.nodes.map((x) => [x.name, x.role === "master" ? "master" : "worker", x.group, x.step]), nodes.map((x) => [x.name, x.role, x.group, "pending"]));
    // the worker's bay.rotate_ca step is queued (nothing consumes the harness's queue)
    assert.equal((await api.counts()).messages, counts.messages + 1);

    // the certificates: the current set unchanged, the new one stored next to it
    const after = await api.stores.table.getCerts(bay.uuid);
    assert.ok(after?.next);
    for (const k of ["ca_cert_pem", "ca_key_encrypted", "client_cert_pem", "client_key_encrypted"] as const) assert.equal(after[k], before[k], `the current ${k} is kept`);
    assert.equal(after.next.created_at, rotation.certs_created_at, "the rotation installs this next set");
    const newCa = after.next.ca_cert_pem;
    const ca = new X509Certificate(newCa);
    assert.equal(ca.ca, true);
    assert.equal(ca.subject, `CN=${bay.name}`);
    assert.equal(ca.issuer, `CN=${bay.name}`);
    assert.notEqual(ca.fingerprint256, new X509Certificate(oldCa).fingerprint256);
    assert.notEqual(after.next.client_cert_pem, before.client_cert_pem);
    assert.ok(verifies(newCa, after.next.client_cert_pem), "the new client certificate chains to the new CA");
    assert.ok(!verifies(oldCa, after.next.client_cert_pem), "and not to the old one");
    assert.ok(!verifies(newCa, before.client_cert_pem) && !verifies(newCa, oldNode), "the old certificates do not chain to the new CA");
    // the new keys are stored encrypted for this bay, and belong to the new certificates
    for (const k of [after.next.ca_key_encrypted, after.next.client_key_encrypted]) assert.ok(!k.includes("PRIVATE KEY"));
    const caKey = createPrivateKey(await api.vault.decrypt(after.next.ca_key_encrypted, `bay:${bay.uuid}:ca`));
    assert.ok(ca.checkPrivateKey(caKey));
    const clientKey = createPrivateKey(await api.vault.decrypt(after.next.client_key_encrypted, `bay:${bay.uuid}:client`));
    assert.ok(new X509Certificate(after.next.client_cert_pem).checkPrivateKey(clientKey));
    await assert.rejects(api.vault.decrypt(after.next.ca_key_encrypted, `bay:${bay.uuid}:client`), "the CA key is bound to its own context");

    // until every node trusts the new CA: `ca show` gives the old one, and CSRs are signed by it
    assert.equal((await api.call("GET", `/v1/certificates/${bay.uuid}`)).json.pem, oldCa);
    const signed = await api.call("POST", "/v1/certificates", { bay_uuid: bay.uuid, csr: makeCsr() });
    assert.equal(signed.status, 201, JSON.stringify(signed.json));
    assert.ok(verifies(oldCa, signed.json.pem) && !verifies(newCa, signed.json.pem));

    // the nodegroup views list the rotation's nodes, each pending
    for (const group of ["default-master", "default-worker"]) {
      const v = await api.call("GET", `/v1/clusters/${bay.uuid}/nodegroups/${group}`, undefined, V19);
      assert.equal(v.status, 200, JSON.stringify(v.json));
      assert.deepEqual(v.json.nodes, nodes.filter((x) => x.group === group).map((x) => ({ node: x.name, version: null, last_report: null, step: "pending", reason: null })));
    }

    const events = await api.stores.table.listEvents(bay.uuid);
    const accepted = events.filter((e) => e.kind === "ca_rotation_accepted");
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0].request_id, requestId);
    assert.match(accepted[0].detail, new RegExp(`CA rotation of ${bay.name} accepted: .* for ${nodes.length} node\\(s\\)`));
    assert.ok(!events.some((e) => e.kind === "ca_rotated"), "nothing is rotated until the nodes have run it");
  });

  it("refuses a second rotation while the first runs (400 naming UPDATE_IN_PROGRESS), and changes nothing", async () => {
    const bay = await bayWithCerts("CREATE_COMPLETE");
    assert.equal((await api.call("PATCH", `/v1/certificates/${bay.uuid}`)).status, 202);
    const before = await snapshot(bay.uuid);
    const stored = await api.stores.table.getBay(bay.uuid);
    assertError(await api.call("PATCH", `/v1/certificates/${bay.uuid}`), 400, /Updating a bay when status is "UPDATE_IN_PROGRESS" is not supported/);
    assert.deepEqual(await snapshot(bay.uuid), before);
    assert.deepEqual(await api.stores.table.getBay(bay.uuid), stored);
  });

  it("starts a rotation by name, at any API version, and from UPDATE_COMPLETE", async () => {
    const versions: Record<string, string>[] = [{}, { "OpenStack-API-Version": "container-infra 1.2" }, { "X-OpenStack-Magnum-API-Version": "1.1" }];
    const seen = new Set<string>();
    for (const headers of versions) {
      const bay = await bayWithCerts("UPDATE_COMPLETE");
      const current = (await api.call("GET", `/v1/certificates/${bay.uuid}`)).json.pem;
      const r = await api.call("PATCH", `/v1/certificates/${bay.name}`, undefined, headers);
      assert.equal(r.status, 202, `${JSON.stringify(headers)}: ${JSON.stringify(r.json)}`);
      assert.deepEqual(r.json, { uuid: bay.uuid });
      const stored = (await api.stores.table.getBay(bay.uuid))!;
      assert.equal(stored.status, "UPDATE_IN_PROGRESS");
      assert.equal(stored.ca_rotation?.phase, "trust");
      const certs = (await api.stores.table.getCerts(bay.uuid))!;
      assert.equal(certs.ca_cert_pem, current);
      assert.ok(certs.next && certs.next.ca_cert_pem !== current);
      assert.equal(certs.next.created_at, stored.ca_rotation?.certs_created_at);
      seen.add(current).add(certs.next.ca_cert_pem);
      assert.equal((await api.stores.table.listEvents(bay.uuid)).filter((e) => e.kind === "ca_rotation_accepted").length, 1);
    }
    assert.equal(seen.size, 2 * versions.length, "every rotation made a new CA");
  });

  for (const status of ["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "CREATE_FAILED", "DELETE_IN_PROGRESS"] as const) {
    it(`refuses a ${status} bay with 400 naming the status, and changes nothing`, async () => {
      const bay = await bayWithCerts(status);
      const before = await snapshot(bay.uuid);
      const r = await api.call("PATCH", `/v1/certificates/${bay.uuid}`);
      assertError(r, 400, new RegExp(`Updating a bay when status is "${status}" is not supported`));
      assert.deepEqual(await snapshot(bay.uuid), before);
    });
  }

  it("refuses a bay whose baymodel has tls_disabled with 400, and changes nothing", async () => {
    const m = await api.call("POST", "/v1/baymodels", { ...BAYMODEL, name: `no-tls-${++n}`, tls_disabled: true });
    assert.equal(m.status, 201, JSON.stringify(m.json));
    const bay = await bayWithCerts("CREATE_COMPLETE", undefined, m.json.uuid);
    const before = await snapshot(bay.uuid);
    assertError(await api.call("PATCH", `/v1/certificates/${bay.uuid}`), 400,
      /Rotating the CA certificate on a non-TLS bay is not supported/);
    assert.deepEqual(await snapshot(bay.uuid), before);
  });

  it("answers 404 for an unknown bay and for another project's bay, and changes nothing", async () => {
    assertError(await api.call("PATCH", "/v1/certificates/no-such-bay"), 404, /Bay no-such-bay could not be found/);
    const bay = await bayWithCerts("CREATE_COMPLETE");
    const before = await snapshot(bay.uuid);
    assertError(await api.call("PATCH", `/v1/certificates/${bay.uuid}`, undefined, OTHER_PROJECT), 404, /could not be found/);
    assertError(await api.call("PATCH", `/v1/certificates/${bay.name}`, undefined, OTHER_PROJECT), 404, /could not be found/);
    assert.deepEqual(await snapshot(bay.uuid), before);
  });

  it("starts one rotation of two at once: the other answers 409 (certificates replaced meanwhile) or 400 (the bay already UPDATE_IN_PROGRESS)", async () => {
    const bay = await bayWithCerts("CREATE_COMPLETE");
    const before = (await api.stores.table.getCerts(bay.uuid))!;
    const results = await Promise.all([
      api.call("PATCH", `/v1/certificates/${bay.uuid}`),
      api.call("PATCH", `/v1/certificates/${bay.uuid}`),
    ]);
    const statuses = results.map((r) => r.status).sort();
    assert.ok(
      JSON.stringify(statuses) === "[202,400]" || JSON.stringify(statuses) === "[202,409]",
      `statuses ${statuses}: ${JSON.stringify(results.map((r) => r.json))}`,
    );
    const accepted = results.find((r) => r.status === 202)!;
    const refused = results.find((r) => r.status !== 202)!;
    if (refused.status === 409) assert.match(refused.json.errors[0].detail, /replaced by another request/);
    else assert.match(refused.json.errors[0].detail, /Updating a bay when status is "UPDATE_IN_PROGRESS" is not supported/);
    const events = (await api.stores.table.listEvents(bay.uuid)).filter((e) => e.kind === "ca_rotation_accepted");
    assert.equal(events.length, 1);
    assert.equal(events[0].request_id, accepted.headers.get("x-openstack-request-id"));
    // the accepted rotation's new certificates are the ones stored next; the current ones kept
    const stored = (await api.stores.table.getBay(bay.uuid))!;
    assert.equal(stored.ca_rotation?.request_id, accepted.headers.get("x-openstack-request-id"));
    const certs = (await api.stores.table.getCerts(bay.uuid))!;
    assert.equal(certs.ca_cert_pem, before.ca_cert_pem);
    assert.ok(certs.next && verifies(certs.next.ca_cert_pem, certs.next.client_cert_pem));
    assert.equal(certs.next.created_at, stored.ca_rotation?.certs_created_at, "the refused request left the accepted rotation's certificates alone");
  });
});

describe("the nodes' bootstrap tokens (the template's user_token and minion_token)", () => {
  /** What the worker does before it creates the stack: the masters' token, both roles' hashes stored. */
  async function bootstrap(uuid: string) {
    const bay = (await api.stores.table.getBay(uuid))!;
    const deps = { table: api.stores.table, vault: api.vault, now: () => new Date() } as unknown as WorkerDeps;
    const { bootstrapTokenFor } = await import("../../functions/worker/steps/create-bay.ts");
    const token = await bootstrapTokenFor(deps, bay);
    assert.ok(token);
    return token;
  }
  /** A token stored in place of the bay's (as when the old one has expired). */
  async function replaceToken(uuid: string, ttlMinutes: number) {
    const bay = (await api.stores.table.getBay(uuid))!;
    const { token, record } = newBootstrapToken(uuid, new Date(), ttlMinutes);
    await api.stores.table.updateBay({ ...bay, bootstrap: record, version: bay.version + 1 }, bay.version);
    return token;
  }

  /** The bay's node name prefix, as its stack names its servers. */
  const prefixOf = async (uuid: string) => nodeNamePrefix((await api.stores.table.getBay(uuid))!);

  it("reads its own bay's CA and gets a CSR signed, nothing else", async () => {
    const mine = await bayWithCerts();
    const other = await bayWithCerts();
    const token = await bootstrap(mine.uuid);
    const auth = { "x-auth-token": token };
    const ca = await api.call("GET", `/v1/certificates/${mine.uuid}`, undefined, auth);
    assert.equal(ca.status, 200, JSON.stringify(ca.json));
    const csr = csrFor(`/O=system:nodes/CN=system:node:${await prefixOf(mine.uuid)}-master-0`);
    const signed = await api.call("POST", "/v1/certificates", { bay_uuid: mine.uuid, csr }, auth);
    assert.equal(signed.status, 201, JSON.stringify(signed.json));
    assert.equal((await api.call("GET", `/v1/certificates/${other.uuid}`, undefined, auth)).status, 404, "another bay's CA");
    assert.equal((await api.call("POST", "/v1/certificates", { bay_uuid: other.uuid, csr }, auth)).status, 400, "another bay's signature");
    for (const [method, path] of [["GET", "/v1/bays"], ["GET", `/v1/bays/${mine.uuid}`], ["PATCH", `/v1/certificates/${mine.uuid}`], ["DELETE", `/v1/bays/${mine.uuid}`]] as const) {
      const r = await api.call(method, path, undefined, auth);
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.match(r.json.errors[0].detail, /bootstrap token/);
    }
    assert.equal((await api.stores.table.getBay(mine.uuid))?.status, "CREATE_IN_PROGRESS", "the refused delete changed nothing");
  });

  it("is refused with 401 when wrong, replaced by a newer one, or expired, and is never echoed", async () => {
    const bay = await bayWithCerts();
    const first = await bootstrap(bay.uuid);
    assert.equal(await bootstrap(bay.uuid), first, "every delivery of the create step gets the same token");
    const second = await replaceToken(bay.uuid, 60);
    assert.equal((await api.call("GET", `/v1/certificates/${bay.uuid}`, undefined, { "x-auth-token": second })).status, 200);
    const replaced = await api.call("GET", `/v1/certificates/${bay.uuid}`, undefined, { "x-auth-token": first });
    assert.equal(replaced.status, 401);
    assert.ok(!JSON.stringify(replaced.json).includes(first));
    for (const forged of [`bfb_${bay.uuid}_${"A".repeat(43)}`, `bfb_${bay.uuid}_master_${"A".repeat(43)}`, `bfb_${bay.uuid}_minion_${"A".repeat(43)}`]) {
      assert.equal((await api.call("GET", `/v1/certificates/${bay.uuid}`, undefined, { "x-auth-token": forged })).status, 401, forged);
    }
    // a minions' token is not a masters' token with another role in it
    assert.equal((await api.call("GET", `/v1/certificates/${bay.uuid}`, undefined, { "x-auth-token": second.replace("_master_", "_minion_") })).status, 401);
    assert.equal((await api.call("GET", `/v1/certificates/${bay.uuid}`, undefined, { "x-auth-token": minionToken(bay.uuid, second) })).status, 200);
    const expired = await replaceToken(bay.uuid, -1);
    assert.equal((await api.call("GET", `/v1/certificates/${bay.uuid}`, undefined, { "x-auth-token": expired })).status, 401);
    assert.ok(!api.logs.some((l) => l.includes(second) || l.includes(first)), "tokens never logged");
    const stored = JSON.stringify(await api.stores.table.getBay(bay.uuid));
    assert.ok(!stored.includes(second) && !stored.includes(first), "the token is stored only hashed (and encrypted)");
  });

  /** POST /v1/certificates for `subject` with `token`; the answer. */
  const sign = async (uuid: string, token: string | undefined, subject: string, san?: string) =>
    api.call("POST", "/v1/certificates", { bay_uuid: uuid, csr: csrFor(subject, san) }, token ? { "x-auth-token": token } : {});

  it("a minions' token gets its kubelet's subjects signed, and nothing a master or another bay's node has", async () => {
    const bay = await bayWithCerts();
    const other = await bayWithCerts();
    const minion = minionToken(bay.uuid, await bootstrap(bay.uuid));
    const prefix = await prefixOf(bay.uuid);
    const otherPrefix = await prefixOf(other.uuid);
    for (const [subject, san] of [[`/O=system:nodes/CN=system:node:${prefix}-minion-0`], [`/CN=${prefix}-minion-12`, `DNS:${prefix}-minion-12,IP:10.0.0.7`]]) {
      const r = await sign(bay.uuid, minion, subject, san);
      assert.equal(r.status, 201, `${subject}: ${JSON.stringify(r.json)}`);
      assert.ok(!new X509Certificate(r.json.pem).ca);
    }
    const refused: Array<[string, string?]> = [
      ["/O=system:masters/CN=admin"],
      ["/O=system:masters/O=system:nodes/CN=system:node:" + `${prefix}-minion-0`],
      [`/O=system:nodes/CN=system:node:${prefix}-master-0`], // a master's name
      [`/O=system:nodes/CN=system:node:${otherPrefix}-minion-0`], // another bay's node
      [`/O=system:nodes/CN=system:node:${prefix}-minion-x`],
      ["/CN=kube-apiserver"],
      ["/O=kubeadm:cluster-admins/CN=kubernetes-admin"],
      ["/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client"],
      ["/CN=system:kube-controller-manager"],
      [`/CN=${prefix}-minion-0/CN=kube-apiserver`],
      [`/CN=${prefix}-minion-0/OU=system:masters`],
      [`/CN=${prefix}-minion-0`, "DNS:kubernetes.default.svc"], // the API's name
      [`/CN=${prefix}-minion-0`, `DNS:${prefix}-minion-1`], // another minion's
      [`/CN=${prefix}-minion-0`, "URI:spiffe://x"],
    ];
    for (const [subject, san] of refused) assertError(await sign(bay.uuid, minion, subject, san), 400, /^Subject not allowed: /);
    const r = await sign(bay.uuid, minion, "/O=system:masters/CN=admin");
    assert.match(r.json.errors[0].detail, /minion nodes may not have "CN=admin, O=system:masters" signed/);
  });

  it("the nodes of the bay's extra node groups get their kubelet's subjects signed with the minions' token; a group's name on another bay is refused", async () => {
    const bay = await bayWithCerts();
    const other = await bayWithCerts();
    const stored = (await api.stores.table.getBay(bay.uuid))!;
    const g = { uuid: "0a0a0a0a-0000-4000-8000-000000000001", name: "gpu", key: "ng_0a0a0a0a0000" } as NodeGroupRecord;
    await api.stores.table.updateBay({ ...stored, nodegroups: [g], version: stored.version + 1 }, stored.version);
    const minion = minionToken(bay.uuid, await bootstrap(bay.uuid));
    const prefix = await prefixOf(bay.uuid);
    for (const [subject, san] of [[`/O=system:nodes/CN=system:node:${prefix}-gpu-0`], [`/CN=${prefix}-gpu-3`, `DNS:${prefix}-gpu-3,IP:10.0.1.7`]]) {
      const r = await sign(bay.uuid, minion, subject, san);
      assert.equal(r.status, 201, `${subject}: ${JSON.stringify(r.json)}`);
    }
    assertError(await sign(bay.uuid, minion, `/O=system:nodes/CN=system:node:${prefix}-cpu-0`), 400, /^Subject not allowed: /);
    const otherMinion = minionToken(other.uuid, await bootstrap(other.uuid));
    assertError(await sign(other.uuid, otherMinion, `/O=system:nodes/CN=system:node:${await prefixOf(other.uuid)}-gpu-0`), 400, /^Subject not allowed: /);
  });

  it("a masters' token gets the control plane's subjects signed, never system:masters", async () => {
    const bay = await bayWithCerts();
    const master = await bootstrap(bay.uuid);
    const prefix = await prefixOf(bay.uuid);
    // every subject make-certs-master.sh and boot-lib.sh request
    const subjects = [
      "/CN=kube-apiserver", "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client", "/CN=front-proxy-client",
      "/CN=kube-apiserver-etcd-client", `/CN=${prefix}-master-2`, "/O=kubeadm:cluster-admins/CN=kubernetes-admin",
      "/CN=system:kube-controller-manager", "/CN=system:kube-scheduler", `/O=system:nodes/CN=system:node:${prefix}-master-0`,
    ];
    for (const subject of subjects) {
      const r = await sign(bay.uuid, master, subject, subject === "/CN=kube-apiserver" ? "DNS:kubernetes.default.svc,IP:10.254.0.1" : undefined);
      assert.equal(r.status, 201, `${subject}: ${JSON.stringify(r.json)}`);
    }
    for (const subject of ["/O=system:masters/CN=kubernetes-super-admin", "/O=system:masters/CN=admin", "/O=system:masters/CN=kube-apiserver-kubelet-client", `/CN=${prefix}-minion-0`, "/CN=anything"]) {
      assertError(await sign(bay.uuid, master, subject), 400, /^Subject not allowed: /);
    }
  });

  it("the bay's owner still gets any subject, system:masters included (python-magnumclient's `coe cluster config`)", async () => {
    const bay = await bayWithCerts();
    await bootstrap(bay.uuid); // the nodes' tokens change nothing for the owner
    const r = await sign(bay.uuid, undefined, "/CN=admin/O=system:masters");
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(new X509Certificate(r.json.pem).subject, "CN=admin\nO=system:masters");
    assert.ok(verifies((await api.call("GET", `/v1/certificates/${bay.uuid}`)).json.pem, r.json.pem));
  });

  it("a token made before tokens had roles acts as a minion's (a bay made then still grows)", async () => {
    const bay = await bayWithCerts();
    const stored = (await api.stores.table.getBay(bay.uuid))!;
    const legacy = `bfb_${bay.uuid}_${"b".repeat(43)}`;
    const { createHash } = await import("node:crypto");
    const record = { hash: createHash("sha256").update(legacy).digest("hex"), expires_at: new Date(Date.now() + 60_000).toISOString() };
    await api.stores.table.updateBay({ ...stored, bootstrap: record, version: stored.version + 1 }, stored.version);
    const prefix = await prefixOf(bay.uuid);
    assert.equal((await sign(bay.uuid, legacy, `/O=system:nodes/CN=system:node:${prefix}-minion-3`)).status, 201);
    assertError(await sign(bay.uuid, legacy, "/CN=kube-apiserver"), 400, /minion nodes may not/);
  });
});
