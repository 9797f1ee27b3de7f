// A bay's certificates, made the way Magnum's conductor makes them
// (magnum/conductor/handlers/common/cert_manager.py + magnum/common/x509/operations.py):
// a self-signed CA named after the bay, and the client certificate Bayforge itself uses to
// talk to the bay's Kubernetes API, signed by that CA.
import { createPrivateKey, generateKeyPair, randomUUID, sign, type KeyObject } from "node:crypto";
import forge from "node-forge";

const { pki } = forge;

/** Magnum's `[x509] term_of_validity` default: 5 years, in days. */
export const DEFAULT_VALIDITY_DAYS = 365 * 5;
/** Magnum's `[x509] rsa_key_size` default. */
export const DEFAULT_KEY_BITS = 2048;
const RSA_EXPONENT = 0x10001;
const ONE_DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The client certificate's subject. Mitaka used `CN=Magnum-Conductor`; modern Magnum
 * (cert_manager._generate_client_cert) uses `CN=admin, O=system:masters` so that
 * Kubernetes RBAC maps the certificate to the cluster-admin group. Bayforge follows modern
 * Magnum: with RBAC on, a CN=Magnum-Conductor certificate would be authorised for nothing.
 */
export const CLIENT_COMMON_NAME = "admin";
export const CLIENT_ORGANIZATION = "system:masters";

export interface BayCertificateRequest {
  bayUuid: string;
  /** The CA is named after the bay; Magnum falls back to the uuid when a bay has no name. */
  bayName?: string | null;
  validityDays?: number;
  keyBits?: number;
  /** The clock, for tests; defaults to now. */
  now?: Date;
}

export interface BayCertificates {
  caCertPem: string;
  /** Unencrypted PKCS#8 PEM: encrypt it with the KeyVault before it is stored. */
  caKeyPem: string;
  clientCertPem: string;
  /** Unencrypted PKCS#8 PEM: encrypt it with the KeyVault before it is stored. */
  clientKeyPem: string;
  /** When both certificates expire, ISO 8601 (second precision, as in the certificates). */
  notAfter: string;
}

/**
 * Generates the bay's CA and client certificate as Magnum does: RSA keys (e = 65537),
 * SHA-256 signatures, validity from a day ago to `validityDays` ahead, serials from uuid4.
 * Keys are made and certificates signed by Node's native crypto (key generation in the libuv
 * thread pool, so the event loop stays free); forge only builds the certificates' ASN.1, as
 * its pure-JS RSA signing cost ~18 ms per signature.
 */
export async function generateBayCertificates(req: BayCertificateRequest): Promise<BayCertificates> {
  const validityDays = req.validityDays ?? DEFAULT_VALIDITY_DAYS;
  const keyBits = req.keyBits ?? DEFAULT_KEY_BITS;
  if (!Number.isInteger(keyBits) || keyBits < 2048 || keyBits > 16384) {
    throw new RangeError(`keyBits must be a whole number from 2048 to 16384, got ${keyBits}`);
  }
  // Magnum: issuer_name = cluster.name, or cluster.uuid when the name is None.
  const issuerName = req.bayName ? req.bayName : req.bayUuid;
  if (!issuerName) throw new RangeError("a bay uuid (or name) is needed to name the bay's CA");

  const { notBefore, notAfter } = validityWindow(validityDays, req.now ?? new Date());
  const [caKeys, clientKeys] = await Promise.all([generateRsaKeyPair(keyBits), generateRsaKeyPair(keyBits)]);

  // CA: operations._build_ca_extentions, then sign() adds the subject key identifier.
  const caName = [utf8Attribute("commonName", issuerName)];
  const ca = newCertificate(caKeys.publicKey, caName, caName, notBefore, notAfter);
  ca.setExtensions([
    { name: "basicConstraints", critical: true, cA: true, pathLenConstraint: 0 },
    // Magnum sets Certificate Sign only (no CRL Sign): bays have no CRLs.
    { name: "keyUsage", critical: true, keyCertSign: true },
    { name: "subjectKeyIdentifier" },
  ]);
  signSha256(ca, caKeys.privateKey);

  // Client: operations._build_client_extentions, signed by the CA.
  const client = newCertificate(
    clientKeys.publicKey,
    [utf8Attribute("commonName", CLIENT_COMMON_NAME), utf8Attribute("organizationName", CLIENT_ORGANIZATION)],
    caName,
    notBefore,
    notAfter,
  );
  client.setExtensions([
    { name: "keyUsage", critical: true, digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", critical: false, clientAuth: true },
    { name: "basicConstraints", critical: true, cA: false },
    { name: "subjectKeyIdentifier" },
  ]);
  signSha256(client, caKeys.privateKey);

  return {
    caCertPem: lf(pki.certificateToPem(ca)),
    caKeyPem: caKeys.privateKeyPem,
    clientCertPem: lf(pki.certificateToPem(client)),
    clientKeyPem: clientKeys.privateKeyPem,
    notAfter: notAfter.toISOString(),
  };
}

/**
 * Magnum's validity window: `today - 1 day` to `today + term_of_validity days`, cut to whole
 * seconds because that is all a certificate's UTCTime/GeneralizedTime keeps.
 */
export function validityWindow(validityDays: number, now: Date): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 36500) {
    throw new RangeError(`validityDays must be a whole number of days from 1 to 36500, got ${validityDays}`);
  }
  const t = Math.floor(now.getTime() / 1000) * 1000;
  return { notBefore: new Date(t - ONE_DAY_MS), notAfter: new Date(t + validityDays * ONE_DAY_MS) };
}

/**
 * Magnum's `serial_number(int(uuid.uuid4()))` as the DER INTEGER content in hex: minimal,
 * with a leading 00 byte when the top bit is set so the serial stays positive.
 */
export function newSerialHex(): string {
  let hex = BigInt(`0x${randomUUID().replace(/-/g, "")}`).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return parseInt(hex.slice(0, 2), 16) >= 0x80 ? `00${hex}` : hex;
}

/** forge writes PEM with CRLF; everything else (openssl, Magnum, kubeconfig) uses LF. */
export const lf = (pem: string): string => pem.replace(/\r\n/g, "\n");

interface RsaKeys {
  publicKey: forge.pki.PublicKey;
  privateKey: KeyObject;
  /** Unencrypted PKCS#8 PEM */
  privateKeyPem: string;
}

async function generateRsaKeyPair(bits: number): Promise<RsaKeys> {
  const { publicKey, privateKey } = await new Promise<{ publicKey: string; privateKey: string }>((resolve, reject) =>
    generateKeyPair(
      "rsa",
      { modulusLength: bits, publicExponent: RSA_EXPONENT, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } },
      (err, pub, priv) => (err ? reject(err) : resolve({ publicKey: pub, privateKey: priv })),
    ),
  );
  return { publicKey: pki.publicKeyFromPem(publicKey), privateKey: createPrivateKey(privateKey), privateKeyPem: lf(privateKey) };
}

/** What forge's cert.sign(key, sha256) does, with the RSA signature made natively. */
function signSha256(cert: forge.pki.Certificate, key: KeyObject): void {
  const c = cert as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1; siginfo: { algorithmOid: string } };
  c.signatureOid = c.siginfo.algorithmOid = pki.oids.sha256WithRSAEncryption;
  c.tbsCertificate = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const tbsDer = Buffer.from(forge.asn1.toDer(c.tbsCertificate).getBytes(), "binary");
  c.signature = sign("sha256", tbsDer, key).toString("binary");
}

function newCertificate(
  publicKey: forge.pki.PublicKey,
  subject: forge.pki.CertificateField[],
  issuer: forge.pki.CertificateField[],
  notBefore: Date,
  notAfter: Date,
): forge.pki.Certificate {
  const cert = pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = newSerialHex();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  return cert;
}

/**
 * A name attribute encoded as UTF8String, as Python's cryptography does for CN and O.
 * (forge's default, PrintableString, cannot hold `_` or `:`: `my_bay`, `system:masters`.)
 */
function utf8Attribute(name: "commonName" | "organizationName", value: string): forge.pki.CertificateField {
  return { name, value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class };
}
