// A bay's certificates, made the way Magnum's conductor makes them
// (magnum/conductor/handlers/common/cert_manager.py + magnum/common/x509/operations.py):
// a self-signed CA named after the bay, and the client certificate Bayforge itself uses to
// talk to the bay's Kubernetes API, signed by that CA.
import { createHash, generateKeyPair, randomUUID, sign, type KeyObject } from "node:crypto";
import { bitString, boolean, explicit, integer, namedBits, nullValue, octetString, oid, parseDer, sequence, set, time, utf8String } from "./der.ts";
import { pemEncode } from "./pem.ts";

/** Magnum's `[x509] term_of_validity` default: 5 years, in days. */
export const DEFAULT_VALIDITY_DAYS = 365 * 5;
/** Magnum's `[x509] rsa_key_size` default. */
export const DEFAULT_KEY_BITS = 2048;
const RSA_EXPONENT = 0x10001;
const ONE_DAY_MS = 24 * 60 * 60 * 1000;

const OID = {
  commonName: "2.5.4.3",
  organizationName: "2.5.4.10",
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  basicConstraints: "2.5.29.19",
  extKeyUsage: "2.5.29.37",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;
/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
const DIGITAL_SIGNATURE = 0;
const KEY_ENCIPHERMENT = 2;
const KEY_CERT_SIGN = 5;

/**
 * The client certificate's subject. Mitaka used `CN=Magnum-Conductor`; modern Magnum
 * (cert_manager._generate_client_cert) uses `CN=admin, O=system:masters` so that
 * Kubernetes RBAC maps the certificate to the cluster-admin group. Bayforge follows modern
 * Magnum: with RBAC on, a CN=Magnum-Conductor certificate would be authorised for nothing.
 */
/**
 * The key vault's contexts for a bay's CA key and client key: a ciphertext decrypts only for
 * the bay and the key it was made for (every writer and reader of the keys uses these).
 */
export const caKeyContext = (bayUuid: string) => `bay:${bayUuid}:ca`;
export const clientKeyContext = (bayUuid: string) => `bay:${bayUuid}:client`;

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
  /** where the two key pairs come from (an RsaKeyPool's take); default: made now */
  keyPair?: (bits: number) => Promise<RsaKeys>;
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
 * thread pool, so the event loop stays free); der.ts builds the certificates' ASN.1, byte
 * for byte as the forge library did before it (extension order, encodings, PEM).
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
  const keyPair = req.keyPair ?? generateRsaKeyPair;
  const [caKeys, clientKeys] = await Promise.all([keyPair(keyBits), keyPair(keyBits)]);

  // CA: operations._build_ca_extentions, then sign() adds the subject key identifier.
  const caName = distinguishedName([[OID.commonName, issuerName]]);
  const caCert = certificate(caKeys.privateKey, {
    issuer: caName,
    subject: caName,
    notBefore,
    notAfter,
    spki: caKeys.spki,
    extensions: [
      extension(OID.basicConstraints, true, sequence([boolean(true), integer(0)])), // CA:TRUE, pathlen:0
      // Magnum sets Certificate Sign only (no CRL Sign): bays have no CRLs.
      extension(OID.keyUsage, true, namedBits([KEY_CERT_SIGN])),
      extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyIdentifier(caKeys.spki))),
    ],
  });

  // Client: operations._build_client_extentions, signed by the CA.
  const clientCert = certificate(caKeys.privateKey, {
    issuer: caName,
    subject: distinguishedName([[OID.commonName, CLIENT_COMMON_NAME], [OID.organizationName, CLIENT_ORGANIZATION]]),
    notBefore,
    notAfter,
    spki: clientKeys.spki,
    extensions: [
      extension(OID.keyUsage, true, namedBits([DIGITAL_SIGNATURE, KEY_ENCIPHERMENT])),
      extension(OID.extKeyUsage, false, sequence([oid(OID.clientAuth)])),
      extension(OID.basicConstraints, true, sequence([])), // CA:FALSE
      extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyIdentifier(clientKeys.spki))),
    ],
  });

  return {
    caCertPem: pemEncode("CERTIFICATE", caCert),
    caKeyPem: caKeys.privateKeyPem,
    clientCertPem: pemEncode("CERTIFICATE", clientCert),
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

/** PEM with LF line endings, as openssl, Magnum and kubeconfig use (some writers use CRLF). */
export const lf = (pem: string): string => pem.replace(/\r\n/g, "\n");

/**
 * RSA key pairs made ahead, while the worker has nothing else to do: making two 2048-bit keys
 * takes 0.1 to 0.6 s of CPU (the primes are found by chance), on the path from a bay's accept to
 * its stack create. A bay takes two from the pool, and the pool makes two more for the next in
 * the background (libuv's thread pool); when it runs dry (a burst of bays) keys are made on
 * demand as before. Kept in memory only, like any key in the making; each is used once.
 */
export class RsaKeyPool {
  private readonly ready: Array<Promise<RsaKeys>> = [];

  constructor(
    private readonly size = 4,
    private readonly bits = DEFAULT_KEY_BITS,
  ) {
    this.fill();
  }

  /** A key pair of `bits` bits: a pooled one when there is one of that size, else a new one. */
  take = (bits: number): Promise<RsaKeys> => {
    const pooled = bits === this.bits ? this.ready.shift() : undefined;
    // refill on the next turn, not ahead of the caller's own work
    if (pooled) setImmediate(() => this.fill());
    return pooled ?? generateRsaKeyPair(bits);
  };

  /** Key pairs ready or in the making. */
  get pending(): number {
    return this.ready.length;
  }

  private fill(): void {
    while (this.ready.length < this.size) {
      const made = generateRsaKeyPair(this.bits);
      made.catch(() => {}); // a failure shows to the caller that takes it
      this.ready.push(made);
    }
  }
}

export interface RsaKeys {
  /** SubjectPublicKeyInfo, DER */
  spki: Buffer;
  privateKey: KeyObject;
  /** Unencrypted PKCS#8 PEM */
  privateKeyPem: string;
}

async function generateRsaKeyPair(bits: number): Promise<RsaKeys> {
  const { publicKey, privateKey } = await new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPair("rsa", { modulusLength: bits, publicExponent: RSA_EXPONENT }, (err, pub, priv) =>
      err ? reject(err) : resolve({ publicKey: pub, privateKey: priv }),
    ),
  );
  return {
    spki: publicKey.export({ type: "spki", format: "der" }),
    privateKey,
    privateKeyPem: lf(privateKey.export({ type: "pkcs8", format: "pem" }) as string),
  };
}

interface CertificateFields {
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  /** Extension DER, in the order they are to appear */
  extensions: Buffer[];
}

/** An X.509 v3 certificate, DER, signed sha256WithRSAEncryption with `key`. */
function certificate(key: KeyObject, f: CertificateFields): Buffer {
  const algorithm = sequence([oid(OID.sha256WithRSAEncryption), nullValue()]);
  const tbs = sequence([
    explicit(0, integer(2)), // v3
    integer(newSerialHex()),
    algorithm,
    f.issuer,
    sequence([time(f.notBefore), time(f.notAfter)]),
    f.subject,
    f.spki,
    explicit(3, sequence(f.extensions)),
  ]);
  return sequence([tbs, algorithm, bitString(sign("sha256", tbs, key))]);
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence([oid(id), ...(critical ? [boolean(true)] : []), octetString(value)]);
}

/**
 * A Name, one attribute per RDN, values as UTF8String as Python's cryptography writes CN and O
 * (PrintableString cannot hold `_` or `:`: `my_bay`, `system:masters`).
 */
function distinguishedName(attributes: [string, string][]): Buffer {
  return sequence(attributes.map(([type, value]) => set([sequence([oid(type), utf8String(value)])])));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. */
function subjectKeyIdentifier(spki: Buffer): Buffer {
  const [, key] = parseDer(spki).children;
  return createHash("sha1").update(key.content.subarray(1)).digest();
}
