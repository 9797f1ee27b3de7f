// The bay's CA, client certificate and CSR signing, checked the way a bay's users would meet
// them: with node:crypto's X509Certificate, the real openssl CLI, and a mutual-TLS handshake.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import tls from "node:tls";
import { generateBayCertificates, type BayCertificates } from "../../shared/certs/bay-ca.ts";
import { CertificateValidationError, InvalidCsr, signCsr } from "../../shared/certs/sign-csr.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import { parseDer } from "../../shared/certs/der.ts";
import { pemDecode, pemEncode } from "../../shared/certs/pem.ts";
import { buildCsr, makeKeys, raw } from "../fuzz/support/csr-builder.ts";

const DAY = 24 * 60 * 60 * 1000;
/** A certificate made between `start` and `end` (ms) on the default clock: it is valid from its
 *  signing time, cut to the second, less a day, for `days` days after that signing time. */
function assertValidity(cert: X509Certificate, start: number, end: number, days = 5 * 365): void {
  const from = Date.parse(cert.validFrom);
  const signedAt = from + DAY;
  assert.ok(signedAt >= Math.floor(start / 1000) * 1000 && signedAt <= end, `${cert.validFrom} is a day before the signing (${new Date(start).toISOString()} .. ${new Date(end).toISOString()})`);
  assert.equal(Date.parse(cert.validTo) - signedAt, days * DAY, `${cert.validTo} is ${days} days after the signing`);
}
const BAY_UUID = "5d12f6fd-a196-4bf0-ae4c-1f639a523a52";

let dir: string;
let counter = 0;
/** Writes `content` to a fresh file in the test directory and returns its path. */
const file = (name: string, content: string): string => {
  const path = join(dir, `${counter++}-${name}`);
  writeFileSync(path, content);
  return path;
};
const openssl = (...args: string[]): string =>
  execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const opensslText = (certPem: string): string => openssl("x509", "-noout", "-text", "-in", file("cert.pem", certPem));
/** openssl verify: "<file>: OK" on success; throws with openssl's reason otherwise. */
const opensslVerify = (caPem: string, certPem: string, ...extra: string[]): string =>
  openssl("verify", ...extra, "-CAfile", file("ca.pem", caPem), file("leaf.pem", certPem)).trim();

let nodeKeyPath: string; // one RSA-2048 node key, made once: keygen dominates openssl req's time

/**
 * A CSR made by `openssl req`, like the nodes' make-cert.sh; `-addext` lines as given.
 * RSA requests share the node key; "ec:<curve>" makes a fresh EC key.
 */
function opensslCsr(subject: string, addext: string[] = [], keyType: "rsa" | `ec:${string}` = "rsa"): { csrPem: string; keyPem: string } {
  const keyPath = keyType === "rsa" ? nodeKeyPath : join(dir, `${counter++}-node.key`);
  const csrPath = join(dir, `${counter++}-node.csr`);
  const keyArgs = keyType === "rsa"
    ? ["-key", keyPath]
    : ["-newkey", "ec", "-pkeyopt", `ec_paramgen_curve:${keyType.slice(3)}`, "-nodes", "-keyout", keyPath];
  openssl("req", "-new", ...keyArgs, "-utf8", "-subj", subject, ...addext.flatMap((e) => ["-addext", e]), "-out", csrPath);
  return { csrPem: readFileSync(csrPath, "utf8"), keyPem: readFileSync(keyPath, "utf8") };
}

/** The text block openssl prints after an extension's heading, e.g. "X509v3 Key Usage: critical". */
function extensionBlock(text: string, heading: string): { critical: boolean; value: string } | undefined {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.trim().startsWith(`${heading}:`));
  if (at < 0) return undefined;
  return { critical: lines[at].includes("critical"), value: (lines[at + 1] ?? "").trim() };
}

/** The serial as the hex of its DER INTEGER content (with the 00 byte a high top bit needs). */
const serialBytes = (pem: string): string => {
  const [tbs] = parseDer(new X509Certificate(pem).raw).children;
  const hex = tbs.children[1].content.toString("hex"); // after the [0] version
  // node:crypto prints the same number without the sign byte, in upper case
  assert.equal(new X509Certificate(pem).serialNumber, hex.replace(/^00/, "").toUpperCase());
  return hex;
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), "bayforge-certs-"));
  nodeKeyPath = join(dir, "node-rsa.key");
  openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", nodeKeyPath);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("generateBayCertificates", () => {
  let certs: BayCertificates;
  let ca: X509Certificate;
  let client: X509Certificate;
  let madeFrom: number;
  let madeBy: number;

  before(async () => {
    madeFrom = Date.now();
    certs = await generateBayCertificates({ bayUuid: BAY_UUID, bayName: "k8s_bay-1" });
    madeBy = Date.now();
    ca = new X509Certificate(certs.caCertPem);
    client = new X509Certificate(certs.clientCertPem);
  });

  it("makes a self-signed CA named after the bay: CA:TRUE, pathlen 0, Certificate Sign only, both critical", () => {
    assert.equal(ca.subject, "CN=k8s_bay-1");
    assert.equal(ca.issuer, "CN=k8s_bay-1");
    assert.equal(ca.ca, true);
    assert.ok(ca.verify(ca.publicKey), "the CA signs itself");
    assert.match(opensslVerify(certs.caCertPem, certs.caCertPem), /: OK$/);

    const text = opensslText(certs.caCertPem);
    assert.deepEqual(extensionBlock(text, "X509v3 Basic Constraints"), { critical: true, value: "CA:TRUE, pathlen:0" });
    // Magnum sets Certificate Sign alone: no CRL Sign.
    assert.deepEqual(extensionBlock(text, "X509v3 Key Usage"), { critical: true, value: "Certificate Sign" });
    assert.ok(extensionBlock(text, "X509v3 Subject Key Identifier"), text);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Exponent: 65537 \(0x10001\)/);
  });

  it("names the CA after the bay's uuid when the bay has no name", async () => {
    const unnamed = await generateBayCertificates({ bayUuid: BAY_UUID, bayName: null });
    assert.equal(new X509Certificate(unnamed.caCertPem).subject, `CN=${BAY_UUID}`);
    assert.equal(new X509Certificate(unnamed.clientCertPem).issuer, `CN=${BAY_UUID}`);
  });

  it("makes a CN=admin, O=system:masters client certificate for clientAuth that chains to the CA", () => {
    assert.equal(client.subject, "CN=admin\nO=system:masters");
    assert.equal(client.issuer, "CN=k8s_bay-1");
    assert.equal(client.ca, false);
    assert.ok(client.checkIssued(ca));
    assert.ok(client.verify(ca.publicKey));
    assert.deepEqual(client.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
    assert.match(opensslVerify(certs.caCertPem, certs.clientCertPem), /: OK$/);
    assert.match(opensslVerify(certs.caCertPem, certs.clientCertPem, "-purpose", "sslclient"), /: OK$/);
    assert.throws(() => opensslVerify(certs.caCertPem, certs.clientCertPem, "-purpose", "sslserver"));

    const text = opensslText(certs.clientCertPem);
    assert.deepEqual(extensionBlock(text, "X509v3 Key Usage"), { critical: true, value: "Digital Signature, Key Encipherment" });
    assert.deepEqual(extensionBlock(text, "X509v3 Extended Key Usage"), { critical: false, value: "TLS Web Client Authentication" });
    assert.deepEqual(extensionBlock(text, "X509v3 Basic Constraints"), { critical: true, value: "CA:FALSE" });
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  });

  it("returns unencrypted PKCS#8 2048-bit RSA keys that match their certificates", () => {
    for (const [keyPem, cert] of [[certs.caKeyPem, ca], [certs.clientKeyPem, client]] as const) {
      assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
      assert.doesNotMatch(keyPem, /\r/);
      const key = createPrivateKey(keyPem);
      assert.equal(key.asymmetricKeyType, "rsa");
      assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
      assert.equal(key.asymmetricKeyDetails?.publicExponent, 65537n);
      assert.ok(cert.checkPrivateKey(key));
    }
    // and openssl agrees: the CA key's public half is the CA certificate's public key
    const fromKey = openssl("pkey", "-pubout", "-in", file("ca.key", certs.caKeyPem));
    const fromCert = openssl("x509", "-noout", "-pubkey", "-in", file("ca.pem", certs.caCertPem));
    assert.equal(fromKey, fromCert);
    assert.notEqual(certs.caKeyPem, certs.clientKeyPem);
  });

  it("is valid from a day back for five years, and reports when it expires", () => {
    for (const cert of [ca, client]) {
      assertValidity(cert, madeFrom, madeBy);
      assert.equal(Date.parse(cert.validTo), Date.parse(certs.notAfter));
    }
    assert.match(certs.notAfter, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  });

  it("gives each certificate a positive random 128-bit serial", () => {
    const serials = [serialBytes(certs.caCertPem), serialBytes(certs.clientCertPem)];
    assert.notEqual(serials[0], serials[1]);
    for (const hex of serials) {
      assert.ok(parseInt(hex.slice(0, 2), 16) < 0x80, `${hex} is positive`);
      assert.ok(hex.length <= 34 && hex.length % 2 === 0, hex);
      assert.ok(!hex.startsWith("00") || parseInt(hex.slice(2, 4), 16) >= 0x80, `${hex} is minimal`);
    }
    assert.doesNotMatch(opensslText(certs.caCertPem), /Negative/);
  });

  it("honours validityDays and refuses weak key sizes", async () => {
    const now = new Date("2030-06-01T12:00:00.500Z");
    const short = await generateBayCertificates({ bayUuid: BAY_UUID, validityDays: 30, now });
    assert.equal(short.notAfter, "2030-07-01T12:00:00.000Z");
    assert.equal(new X509Certificate(short.caCertPem).validFrom, "May 31 12:00:00 2030 GMT");
    await assert.rejects(generateBayCertificates({ bayUuid: BAY_UUID, keyBits: 1024 }), RangeError);
    await assert.rejects(generateBayCertificates({ bayUuid: BAY_UUID, validityDays: 0 }), RangeError);
  });
});

describe("signCsr", () => {
  let bay: BayCertificates;
  let ca: X509Certificate;
  const signWith = (csrPem: string) => signCsr({ caCertPem: bay.caCertPem, caKeyPem: bay.caKeyPem, csrPem });

  before(async () => {
    bay = await generateBayCertificates({ bayUuid: BAY_UUID, bayName: "k8s_bay-1" });
    ca = new X509Certificate(bay.caCertPem);
  });

  it("signs a node's CSR (make-cert.sh style): subject and SANs kept, issuer the CA, verifies with openssl", () => {
    const { csrPem } = opensslCsr("/CN=kubernetes.invalid", [
      "subjectAltName=DNS:kube.local,IP:10.0.0.1,IP:127.0.0.1",
      "extendedKeyUsage=clientAuth,serverAuth",
    ]);
    const madeFrom = Date.now();
    const pem = signWith(csrPem);
    const madeBy = Date.now();
    const cert = new X509Certificate(pem);

    assert.equal(cert.subject, "CN=kubernetes.invalid");
    assert.equal(cert.issuer, ca.subject);
    assert.ok(cert.checkIssued(ca));
    assert.ok(cert.verify(ca.publicKey));
    assert.equal(cert.ca, false);
    assert.equal(cert.subjectAltName, "DNS:kube.local, IP Address:10.0.0.1, IP Address:127.0.0.1");
    assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1"]);
    assertValidity(cert, madeFrom, madeBy);
    assert.notEqual(cert.serialNumber, ca.serialNumber);

    assert.match(opensslVerify(bay.caCertPem, pem), /: OK$/);
    assert.match(opensslVerify(bay.caCertPem, pem, "-purpose", "sslserver"), /: OK$/);
    assert.match(opensslVerify(bay.caCertPem, pem, "-purpose", "sslclient"), /: OK$/);
    const text = opensslText(pem);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.ok(extensionBlock(text, "X509v3 Subject Key Identifier"));
    assert.equal(extensionBlock(text, "X509v3 Basic Constraints"), undefined, "nothing the CSR did not ask for");
    // the CSR's public key is the certificate's
    assert.equal(
      openssl("req", "-noout", "-pubkey", "-in", file("node.csr", csrPem)),
      openssl("x509", "-noout", "-pubkey", "-in", file("node.pem", pem)),
    );
  });

  it("gives a CSR asking for CA:TRUE (non-critical) a certificate that is not a CA", () => {
    const { csrPem, keyPem } = opensslCsr("/CN=sneaky", ["basicConstraints=CA:TRUE", "keyUsage=keyCertSign,cRLSign,digitalSignature"]);
    const pem = signWith(csrPem);
    const cert = new X509Certificate(pem);
    assert.equal(cert.ca, false);
    const text = opensslText(pem);
    assert.deepEqual(extensionBlock(text, "X509v3 Basic Constraints"), { critical: false, value: "CA:FALSE" });
    assert.deepEqual(extensionBlock(text, "X509v3 Key Usage"), { critical: false, value: "Digital Signature" });

    // and what it signs (here with openssl) does not chain to the bay CA
    const grandchild = opensslCsr("/CN=grandchild", [], "ec:P-256").csrPem;
    const grandchildPath = join(dir, `${counter++}-grandchild.pem`);
    openssl("x509", "-req", "-in", file("grandchild.csr", grandchild), "-CA", file("sneaky.pem", pem),
      "-CAkey", file("sneaky.key", keyPem), "-days", "1", "-out", grandchildPath);
    assert.throws(
      () => openssl("verify", "-CAfile", file("ca.pem", bay.caCertPem), "-untrusted", file("sneaky.pem", pem), grandchildPath),
      /invalid CA certificate/,
    );
    assert.throws(() => signCsr({ caCertPem: pem, caKeyPem: keyPem, csrPem }), /not a CA certificate/);
  });

  it("refuses a CSR asking critically for CA:TRUE (CertificateValidationError, 400)", () => {
    const { csrPem } = opensslCsr("/CN=sneaky", ["basicConstraints=critical,CA:TRUE"]);
    assert.throws(() => signWith(csrPem), (e: unknown) => {
      assert.ok(e instanceof CertificateValidationError);
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 400);
      assert.match(e.message, /Extension 'basicConstraints' not allowed.*CA:FALSE/);
      return true;
    });
  });

  it("refuses a CSR with a critical extension outside the allowed set, naming it", () => {
    const { csrPem } = opensslCsr("/CN=node", ["1.2.3.4=critical,ASN1:UTF8String:x"]);
    assert.throws(() => signWith(csrPem), (e: unknown) => {
      assert.ok(e instanceof CertificateValidationError);
      assert.equal(e.status, 400);
      assert.match(e.message, /Extension '1\.2\.3\.4' not allowed/);
      assert.match(e.message, /non-critical/);
      return true;
    });
    const nameConstraints = opensslCsr("/CN=node", ["nameConstraints=critical,permitted;DNS:example.com"]).csrPem;
    assert.throws(() => signWith(nameConstraints), /Extension 'nameConstraints \(2\.5\.29\.30\)' not allowed/);
  });

  it("drops a non-critical extension outside the allowed set", () => {
    const { csrPem } = opensslCsr("/CN=node", ["1.2.3.4=ASN1:UTF8String:x", "subjectAltName=DNS:node-0"]);
    const text = opensslText(signWith(csrPem));
    assert.doesNotMatch(text, /1\.2\.3\.4/);
    assert.match(text, /DNS:node-0/);
  });

  it("refuses a critical keyUsage with a usage the CA does not grant, and trims a non-critical one", () => {
    const critical = opensslCsr("/CN=node", ["keyUsage=critical,digitalSignature,keyCertSign"]).csrPem;
    assert.throws(() => signWith(critical), (e: unknown) => {
      assert.ok(e instanceof CertificateValidationError);
      assert.match(e.message, /Extension 'keyUsage' not allowed: the bay CA does not grant keyCertSign/);
      return true;
    });
    const allowed = opensslCsr("/CN=node", ["keyUsage=critical,digitalSignature,keyEncipherment,nonRepudiation"]).csrPem;
    assert.deepEqual(extensionBlock(opensslText(signWith(allowed)), "X509v3 Key Usage"), {
      critical: true,
      value: "Digital Signature, Non Repudiation, Key Encipherment",
    });
    const trimmed = opensslCsr("/CN=node", ["keyUsage=keyEncipherment,dataEncipherment,keyAgreement"]).csrPem;
    assert.deepEqual(extensionBlock(opensslText(signWith(trimmed)), "X509v3 Key Usage"), {
      critical: false,
      value: "Key Encipherment",
    });
  });

  it("replaces a requested subject key identifier with the one computed from the key", () => {
    const { csrPem } = opensslCsr("/CN=node", ["subjectKeyIdentifier=0102030405"]);
    const text = opensslText(signWith(csrPem));
    assert.equal(text.match(/X509v3 Subject Key Identifier/g)?.length, 1);
    assert.doesNotMatch(text, /01:02:03:04:05/);
  });

  it("signs EC requests too, and copies a UTF-8 subject byte for byte", () => {
    const { csrPem } = opensslCsr("/CN=kübelet-ñode/O=system:nodes", ["subjectAltName=DNS:node-1"], "ec:P-256");
    const pem = signWith(csrPem);
    assert.match(opensslVerify(bay.caCertPem, pem), /: OK$/);
    const subjectOf = (args: string[]) => openssl(...args, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb");
    assert.equal(
      subjectOf(["req", "-in", file("ec.csr", csrPem)]),
      subjectOf(["x509", "-in", file("ec.pem", pem)]),
    );
    assert.equal(new X509Certificate(pem).subject, "CN=kübelet-ñode\nO=system:nodes");
  });

  it("answers InvalidCsr (400) for garbage, a certificate instead of a request, and an empty body", () => {
    for (const [input, reason] of [
      ["garbage", /no PEM block was found/],
      ["", /it is empty/],
      [bay.caCertPem, /holds a PEM "CERTIFICATE" block/],
      ["-----BEGIN CERTIFICATE REQUEST-----\nbm90IGRlcg==\n-----END CERTIFICATE REQUEST-----\n", /DER encoding is malformed/],
    ] as const) {
      assert.throws(() => signWith(input), (e: unknown) => {
        assert.ok(e instanceof InvalidCsr, `${String(e)} for ${JSON.stringify(input.slice(0, 30))}`);
        assert.equal(e.status, 400);
        assert.match(e.message, /^Received invalid csr: /);
        assert.match(e.message, reason);
        assert.match(e.message, /openssl req -new/);
        return true;
      });
    }
  });

  it("refuses a subject string its type cannot hold (a BMPString with surrogates, a UniversalString past U+10FFFF), whose certificate OpenSSL could not read; signs a valid BMPString", () => {
    const [keys] = makeKeys();
    // Name ::= SEQUENCE { SET { SEQUENCE { id-at-commonName, <tag> content } } }, the value written as given
    const cn = (tag: number, content: Buffer) => buildCsr(keys, raw(0x30, raw(0x31, raw(0x30, Buffer.concat([Buffer.from("0603550403", "hex"), raw(tag, content)])))), []).pem;
    const bmp = (text: string) => Buffer.from(text, "utf16le").swap16();
    for (const [csr, what] of [
      [cn(0x1e, bmp("\u{10000}")), "an astral character as a surrogate pair"],
      [cn(0x1e, Buffer.from([0x00, 0x41, 0x00])), "an odd length"],
      [cn(0x1c, Buffer.from([0x00, 0x11, 0x00, 0x00])), "a UniversalString past U+10FFFF"],
      [cn(0x0c, Buffer.from([0xc3, 0x28])), "a UTF8String that is not UTF-8"],
    ] as const)
      assert.throws(() => signWith(csr), (e: unknown) => e instanceof InvalidCsr && /not valid for its type/.test(e.message), what);
    const pem = signWith(cn(0x1e, bmp("ops-ñ")));
    assert.equal(new X509Certificate(pem).subject, "CN=ops-ñ");
  });

  it("answers InvalidCsr when the request's signature does not match (altered request)", () => {
    const { csrPem } = opensslCsr("/CN=node-a", ["subjectAltName=DNS:node-a"]);
    const der = pemDecode(csrPem, "CERTIFICATE REQUEST");
    // rewrite the CN in place ("node-a" → "node-b") without fixing the signature
    const altered = Buffer.from(der);
    altered.write("node-b", der.indexOf("node-a"), "latin1");
    assert.notDeepEqual(altered, der);
    const alteredPem = pemEncode("CERTIFICATE REQUEST", altered);
    assert.throws(() => signWith(alteredPem), (e: unknown) => {
      assert.ok(e instanceof InvalidCsr);
      assert.match(e.message, /signature does not match its public key/);
      return true;
    });
  });

  it("refuses to sign with a CA key that does not belong to the CA certificate", async () => {
    const other = await generateBayCertificates({ bayUuid: BAY_UUID, bayName: "other" });
    const { csrPem } = opensslCsr("/CN=node");
    assert.throws(() => signCsr({ caCertPem: bay.caCertPem, caKeyPem: other.caKeyPem, csrPem }), /does not belong/);
  });

  it("makes certificates that complete a mutual-TLS handshake with the bay's client certificate", async () => {
    const server = opensslCsr("/CN=kubernetes.invalid", ["subjectAltName=IP:127.0.0.1", "extendedKeyUsage=serverAuth"]);
    const serverCert = signWith(server.csrPem);
    const srv = tls.createServer(
      { key: server.keyPem, cert: serverCert, ca: bay.caCertPem, requestCert: true, rejectUnauthorized: true },
      (socket) => socket.end(`hello ${socket.getPeerCertificate().subject.CN} of ${socket.getPeerCertificate().subject.O}`),
    );
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    try {
      const { port } = srv.address() as { port: number };
      const socket = tls.connect({ host: "127.0.0.1", port, ca: bay.caCertPem, cert: bay.clientCertPem, key: bay.clientKeyPem });
      let reply = "";
      socket.setEncoding("utf8").on("data", (d: string) => (reply += d));
      await once(socket, "end");
      assert.equal(socket.authorized, true, String(socket.authorizationError));
      assert.equal(reply, "hello admin of system:masters");
      socket.destroy();
    } finally {
      srv.close();
    }
  });
});
