// Signs a node's certificate signing request with its bay's CA, as Magnum's
// `x509.sign` + `validator.filter_extensions` do (magnum/common/x509/{operations,validator}.py,
// default `[x509]` options): the subject and public key come from the request, the issuer is
// the CA, and only a fixed set of extensions survives, never one that makes a CA.
//
// Built on DER rather than on a certificate object so that any key type Magnum accepts
// (RSA, EC, Ed25519) and any subject encoding passes through byte for byte; der.ts parses and
// writes the ASN.1, node:crypto checks the request's signature and signs with the CA key.
import { createHash, createPrivateKey, createPublicKey, sign, verify, X509Certificate, type KeyObject } from "node:crypto";
import { ApiError } from "../domain/errors.ts";
import { DEFAULT_VALIDITY_DAYS, newSerialHex, validityWindow } from "./bay-ca.ts";
import {
  bitString, boolean, decodeOid, DerError, explicit, integer, isUniversal as is, namedBits, nullValue, octetString, oid,
  OID_NAMES, parseDer, pemBlocks, pemEncode, sequence, Tag as T, TagClass, time, type DerNode, type PemBlock,
} from "./der.ts";

/** The request is not a readable, correctly self-signed PKCS#10 CSR (Magnum: 400 InvalidCsr). */
export class InvalidCsr extends ApiError {
  constructor(readonly reason: string) {
    super(
      400,
      "Received invalid csr",
      `Received invalid csr: ${reason}. Send one PEM-encoded PKCS#10 request ` +
        `("-----BEGIN CERTIFICATE REQUEST-----"), as made by \`openssl req -new\`.`,
    );
    this.name = "InvalidCsr";
  }
}

/** The request asks for an extension the bay CA must not grant (Magnum: 400). */
export class CertificateValidationError extends ApiError {
  constructor(readonly extension: string, reason: string) {
    super(400, `Extension '${extension}' not allowed`, `Extension '${extension}' not allowed: ${reason}`);
    this.name = "CertificateValidationError";
  }
}

export interface SignCsrRequest {
  caCertPem: string;
  /** The CA's private key, decrypted (PKCS#8 or PKCS#1 PEM). */
  caKeyPem: string;
  csrPem: string;
  /** Magnum signs node certificates for `[x509] term_of_validity` days (5 years). */
  validityDays?: number;
  /** The clock, for tests; defaults to now. */
  now?: Date;
}

/** Magnum's `[x509] allowed_extensions` default, by OID. */
const ALLOWED_EXTENSIONS: Record<string, string> = {
  "2.5.29.15": "keyUsage",
  "2.5.29.37": "extendedKeyUsage",
  "2.5.29.17": "subjectAltName",
  "2.5.29.19": "basicConstraints",
  "2.5.29.14": "subjectKeyIdentifier",
};
const OID_KEY_USAGE = "2.5.29.15";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_SUBJECT_KEY_IDENTIFIER = "2.5.29.14";
const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const OID_SHA256_WITH_RSA = "1.2.840.113549.1.1.11";

/** KeyUsage bits in DER order (RFC 5280 §4.2.1.3). */
const KEY_USAGES = [
  "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
  "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly",
] as const;
type KeyUsageName = (typeof KEY_USAGES)[number];
/** Magnum's `[x509] allowed_key_usage` default, less keyCertSign/cRLSign since allow_ca=False. */
const ALLOWED_KEY_USAGES: ReadonlySet<KeyUsageName> = new Set(["digitalSignature", "keyEncipherment", "nonRepudiation"]);

/** Signature algorithms a request may be signed with: OID → [digest for node:crypto, key type]. */
const CSR_SIGNATURE_ALGORITHMS: Record<string, [string | null, string]> = {
  "1.2.840.113549.1.1.5": ["sha1", "rsa"],
  "1.2.840.113549.1.1.14": ["sha224", "rsa"],
  "1.2.840.113549.1.1.11": ["sha256", "rsa"],
  "1.2.840.113549.1.1.12": ["sha384", "rsa"],
  "1.2.840.113549.1.1.13": ["sha512", "rsa"],
  "1.2.840.10045.4.1": ["sha1", "ec"],
  "1.2.840.10045.4.3.1": ["sha224", "ec"],
  "1.2.840.10045.4.3.2": ["sha256", "ec"],
  "1.2.840.10045.4.3.3": ["sha384", "ec"],
  "1.2.840.10045.4.3.4": ["sha512", "ec"],
  "1.3.101.112": [null, "ed25519"],
  "1.3.101.113": [null, "ed448"],
};

/** Far above any real CSR (a 16384-bit RSA request with a hundred SANs is under 10 KB). */
const MAX_CSR_CHARS = 64 * 1024;

interface Extension {
  oid: string;
  critical: boolean;
  /** extnValue's content: the extension's own DER */
  value: Buffer;
}

interface CertificationRequest {
  subject: DerNode;
  subjectPublicKeyInfo: DerNode;
  extensions: Extension[];
}

/**
 * Issues a certificate for `csrPem` signed by the bay CA; returns it as PEM.
 * Throws InvalidCsr when the request cannot be read or its signature is wrong, and
 * CertificateValidationError when it asks, critically, for something the CA must not grant.
 */
export function signCsr(req: SignCsrRequest): string {
  const csr = parseCertificationRequest(req.csrPem);
  const extensions = filterExtensions(csr.extensions);
  extensions.push({
    oid: OID_SUBJECT_KEY_IDENTIFIER,
    critical: false,
    value: octetString(subjectKeyIdentifier(csr.subjectPublicKeyInfo)),
  });

  const { issuer, caKey } = loadCa(req.caCertPem, req.caKeyPem);
  const { notBefore, notAfter } = validityWindow(req.validityDays ?? DEFAULT_VALIDITY_DAYS, req.now ?? new Date());
  const signatureAlgorithm = sequence([oid(OID_SHA256_WITH_RSA), nullValue()]);
  const tbs = sequence([
    explicit(0, integer(2)), // v3
    integer(newSerialHex()),
    signatureAlgorithm,
    issuer.raw,
    sequence([time(notBefore), time(notAfter)]),
    csr.subject.raw,
    csr.subjectPublicKeyInfo.raw,
    explicit(3, sequence(extensions.map(extensionDer))),
  ]);
  const signature = sign("sha256", tbs, caKey);
  return pemEncode("CERTIFICATE", sequence([tbs, signatureAlgorithm, bitString(signature)]));
}

// --- the request --------------------------------------------------------------------------

function parseCertificationRequest(csrPem: string): CertificationRequest {
  const der = decodePem(csrPem);
  let request: DerNode;
  try {
    request = parseDer(der);
  } catch (e) {
    throw new InvalidCsr(`its DER encoding is malformed (${errorText(e)})`);
  }
  // CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature }
  const [info, algorithm, signature] = children(request, 3, "CertificationRequest");
  // CertificationRequestInfo ::= SEQUENCE { version, subject, subjectPKInfo, [0] attributes }
  const parts = children(info, undefined, "CertificationRequestInfo");
  const [version, subject, spki, attributes] = parts;
  if (parts.length < 3 || parts.length > 4 || !is(version, T.INTEGER) || !version.content.equals(V1)) {
    throw new InvalidCsr("it is not a version 1 PKCS#10 request");
  }
  if (!is(subject, T.SEQUENCE) || !is(spki, T.SEQUENCE)) {
    throw new InvalidCsr("its subject or public key is missing");
  }
  if (attributes && !(attributes.tagClass === TagClass.CONTEXT && attributes.tag === 0 && attributes.constructed)) {
    throw new InvalidCsr("its attributes are malformed");
  }

  const publicKey = readPublicKey(spki);
  checkSignature(info, algorithm, signature, publicKey);
  return { subject, subjectPublicKeyInfo: spki, extensions: attributes ? requestedExtensions(attributes) : [] };
}

function decodePem(csrPem: unknown): Buffer {
  if (typeof csrPem !== "string" || csrPem.trim() === "") throw new InvalidCsr("it is empty");
  if (csrPem.length > MAX_CSR_CHARS) {
    throw new InvalidCsr(`it is ${csrPem.length} characters long, more than the ${MAX_CSR_CHARS} accepted`);
  }
  if (!/-----BEGIN [^-]+-----/.test(csrPem)) throw new InvalidCsr("no PEM block was found in it");
  let blocks: PemBlock[];
  try {
    blocks = pemBlocks(csrPem);
  } catch (e) {
    throw new InvalidCsr(`its PEM armour cannot be read (${errorText(e)})`);
  }
  const block = blocks.find((b) => b.type === "CERTIFICATE REQUEST" || b.type === "NEW CERTIFICATE REQUEST");
  if (!block) {
    throw new InvalidCsr(
      blocks.length ? `it holds a PEM "${blocks[0].type}" block, not a CERTIFICATE REQUEST` : "no PEM block was found in it",
    );
  }
  if (block.headers["Proc-Type"]?.split(",")[1]?.trim() === "ENCRYPTED") throw new InvalidCsr("it is encrypted");
  return block.der;
}

function readPublicKey(spki: DerNode): KeyObject {
  try {
    return createPublicKey({ key: spki.raw, format: "der", type: "spki" });
  } catch (e) {
    throw new InvalidCsr(`its public key cannot be read (${errorText(e)})`);
  }
}

/** The request must be signed by the key it carries (proof that the sender holds that key). */
function checkSignature(info: DerNode, algorithm: DerNode, signature: DerNode, publicKey: KeyObject): void {
  const [algorithmOid] = children(algorithm, undefined, "signatureAlgorithm");
  if (!is(algorithmOid, T.OID)) throw new InvalidCsr("its signature algorithm is malformed");
  const algorithmId = oidOf(algorithmOid, "its signature algorithm is malformed");
  const known = CSR_SIGNATURE_ALGORITHMS[algorithmId];
  if (!known) {
    throw new InvalidCsr(
      `it is signed with algorithm ${algorithmId}, which is not supported (use RSA PKCS#1 v1.5, ECDSA or Ed25519 with SHA-2)`,
    );
  }
  const [digest, keyType] = known;
  if (publicKey.asymmetricKeyType !== keyType) {
    throw new InvalidCsr(`its ${keyType} signature algorithm does not fit its ${publicKey.asymmetricKeyType} key`);
  }
  if (!is(signature, T.BIT_STRING) || signature.content[0] !== 0) {
    throw new InvalidCsr("its signature is malformed");
  }
  let valid: boolean;
  try {
    // the signature covers certificationRequestInfo exactly as received
    valid = verify(digest, info.raw, publicKey, signature.content.subarray(1));
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new InvalidCsr("its signature does not match its public key (it was altered, or signed with another key)");
  }
}

/** The extensions in the request's extensionRequest attribute (PKCS#9), in order. */
function requestedExtensions(attributes: DerNode): Extension[] {
  const found: Extension[] = [];
  let seen = false;
  for (const attribute of attributes.children) {
    const [type, values] = children(attribute, 2, "attribute");
    if (!is(type, T.OID) || !is(values, T.SET)) throw new InvalidCsr("its attributes are malformed");
    if (oidOf(type, "its attributes are malformed") !== OID_EXTENSION_REQUEST) continue;
    const [list, ...more] = values.children;
    if (seen || more.length) throw new InvalidCsr("it holds more than one extensionRequest attribute");
    seen = true;
    if (!list || !is(list, T.SEQUENCE)) throw new InvalidCsr("its extensionRequest attribute is malformed");
    for (const ext of list.children) {
      const fields = children(ext, undefined, "extension");
      const [id, second, third] = fields;
      const hasCritical = fields.length === 3;
      const value = hasCritical ? third : second;
      if (!is(id, T.OID) || (hasCritical && !is(second, T.BOOLEAN)) || fields.length > 3 || !value || !is(value, T.OCTET_STRING)) {
        throw new InvalidCsr("one of its extensions is malformed");
      }
      const extOid = oidOf(id, "one of its extensions is malformed");
      if (found.some((e) => e.oid === extOid)) throw new InvalidCsr(`it requests extension ${extensionName(extOid)} twice`);
      found.push({
        oid: extOid,
        critical: hasCritical && second.content[0] !== 0,
        value: value.content,
      });
    }
  }
  return found;
}

// --- validator.filter_extensions -----------------------------------------------------------

function filterExtensions(requested: Extension[]): Extension[] {
  const kept: Extension[] = [];
  for (const ext of requested) {
    const name = ALLOWED_EXTENSIONS[ext.oid];
    if (!name) {
      if (ext.critical) {
        throw new CertificateValidationError(
          extensionName(ext.oid),
          `it is marked critical and the bay CA only grants ${Object.values(ALLOWED_EXTENSIONS).join(", ")}; ` +
            "remove it from the request or make it non-critical",
        );
      }
      continue; // a non-critical unknown extension is dropped silently, as in Magnum
    }
    if (ext.oid === OID_KEY_USAGE) kept.push(filterKeyUsage(ext));
    else if (ext.oid === OID_BASIC_CONSTRAINTS) kept.push(disallowCa(ext));
    // Magnum adds a subject key identifier computed from the key; the requested one gives way.
    else if (ext.oid === OID_SUBJECT_KEY_IDENTIFIER) continue;
    else {
      // extendedKeyUsage and subjectAltName are both SEQUENCEs; they pass through untouched.
      if (!is(parseExtensionValue(ext, name), T.SEQUENCE)) throw new InvalidCsr(`its ${name} extension is malformed`);
      kept.push(ext);
    }
  }
  return kept;
}

/** validator._merge_key_usage: a disallowed usage is dropped, or refused if the extension is critical. */
function filterKeyUsage(ext: Extension): Extension {
  const bits = parseExtensionValue(ext, "keyUsage");
  if (!is(bits, T.BIT_STRING) || bits.content.length < 1) throw new InvalidCsr("its keyUsage extension is malformed");
  const bytes = bits.content.subarray(1);
  const has = (i: number): boolean => i < bytes.length * 8 && ((bytes[i >> 3] >> (7 - (i & 7))) & 1) === 1;
  const requested = KEY_USAGES.filter((_, i) => has(i))
    // cryptography reads encipherOnly/decipherOnly only when keyAgreement is set
    .filter((u) => (u === "encipherOnly" || u === "decipherOnly" ? has(KEY_USAGES.indexOf("keyAgreement")) : true));
  const refused = requested.filter((u) => !ALLOWED_KEY_USAGES.has(u));
  if (refused.length && ext.critical) {
    throw new CertificateValidationError(
      "keyUsage",
      `the bay CA does not grant ${refused.join(", ")} (it grants ${[...ALLOWED_KEY_USAGES].join(", ")}); ` +
        "remove those usages or make keyUsage non-critical",
    );
  }
  // a KeyUsage BIT STRING in DER: trailing zero bits trimmed, as cryptography writes it
  return { ...ext, value: namedBits(requested.filter((u) => ALLOWED_KEY_USAGES.has(u)).map((u) => KEY_USAGES.indexOf(u))) };
}

/** validator._disallow_ca_in_basic_constraints (allow_ca = False). */
function disallowCa(ext: Extension): Extension {
  const constraints = parseExtensionValue(ext, "basicConstraints");
  if (!is(constraints, T.SEQUENCE)) throw new InvalidCsr("its basicConstraints extension is malformed");
  const [first] = constraints.children;
  const isCa = !!first && is(first, T.BOOLEAN) && first.content[0] !== 0;
  if (!isCa) return ext;
  if (ext.critical) {
    throw new CertificateValidationError(
      "basicConstraints",
      "the request asks, critically, to be a CA (CA:TRUE), and bay certificates cannot sign others; " +
        "remove basicConstraints or set CA:FALSE",
    );
  }
  return { oid: ext.oid, critical: false, value: sequence([]) }; // CA:FALSE
}

function parseExtensionValue(ext: Extension, name: string): DerNode {
  try {
    return parseDer(ext.value);
  } catch {
    throw new InvalidCsr(`its ${name} extension is malformed`);
  }
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. */
function subjectKeyIdentifier(spki: DerNode): Buffer {
  const [, key] = spki.children;
  if (!key || !is(key, T.BIT_STRING)) throw new InvalidCsr("its public key is malformed");
  return createHash("sha1").update(key.content.subarray(1)).digest();
}

// --- the CA -----------------------------------------------------------------------------------

function loadCa(caCertPem: string, caKeyPem: string): { issuer: DerNode; caKey: KeyObject } {
  // These come from Bayforge's own store: a failure here is an internal error, not a 400.
  const caCert = new X509Certificate(caCertPem);
  const caKey = createPrivateKey(caKeyPem);
  if (caKey.asymmetricKeyType !== "rsa") throw new Error(`the bay CA key is ${caKey.asymmetricKeyType}, not RSA`);
  if (!caCert.ca) throw new Error("the bay CA certificate is not a CA certificate");
  if (!caCert.checkPrivateKey(caKey)) throw new Error("the bay CA key does not belong to the bay CA certificate");
  // The issuer is the CA's subject, byte for byte, so that chains always match.
  const [tbs] = parseDer(caCert.raw).children;
  const fields = tbs.children;
  const offset = fields[0].tagClass === TagClass.CONTEXT ? 1 : 0; // [0] version is optional
  return { issuer: fields[offset + 4], caKey };
}

// --- DER helpers ------------------------------------------------------------------------------

const V1 = Buffer.from([0]);

function children(n: DerNode | undefined, count: number | undefined, what: string): DerNode[] {
  if (!n || !is(n, T.SEQUENCE) || (count !== undefined && n.children.length !== count)) {
    throw new InvalidCsr(`its ${what} is malformed`);
  }
  return n.children;
}

/** An OID node's dotted value; an invalid encoding is the request's fault. */
function oidOf(n: DerNode, malformed: string): string {
  try {
    return decodeOid(n.content);
  } catch (e) {
    if (e instanceof DerError) throw new InvalidCsr(malformed);
    throw e;
  }
}

function extensionDer(ext: Extension): Buffer {
  return sequence([oid(ext.oid), ...(ext.critical ? [boolean(true)] : []), octetString(ext.value)]);
}

function extensionName(id: string): string {
  const name = OID_NAMES[id];
  return name ? `${name} (${id})` : id;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
