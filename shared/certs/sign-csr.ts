// Signs a node's certificate signing request with its bay's CA, as Magnum's
// `x509.sign` + `validator.filter_extensions` do (magnum/common/x509/{operations,validator}.py,
// default `[x509]` options): the subject and public key come from the request, the issuer is
// the CA, and only a fixed set of extensions survives, never one that makes a CA.
//
// Built on DER rather than on forge's Certificate object so that any key type Magnum accepts
// (RSA, EC, Ed25519) and any subject encoding passes through byte for byte; forge parses and
// writes the ASN.1, node:crypto checks the request's signature and signs with the CA key.
import { createHash, createPrivateKey, createPublicKey, sign, verify, X509Certificate, type KeyObject } from "node:crypto";
import forge from "node-forge";
import { ApiError } from "../domain/errors.ts";
import { DEFAULT_VALIDITY_DAYS, lf, newSerialHex, validityWindow } from "./bay-ca.ts";

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;
const { UNIVERSAL, CONTEXT_SPECIFIC } = asn1.Class;
const T = asn1.Type;

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
  /** extnValue's content: the extension's own DER, as a forge binary string */
  value: string;
}

interface CertificationRequest {
  subject: Asn1;
  subjectPublicKeyInfo: Asn1;
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
  const signatureAlgorithm = seq([oid(OID_SHA256_WITH_RSA), node(T.NULL, "")]);
  const tbs = seq([
    asn1.create(CONTEXT_SPECIFIC, 0, true, [node(T.INTEGER, "\x02")]), // v3
    node(T.INTEGER, forge.util.hexToBytes(newSerialHex())),
    signatureAlgorithm,
    issuer,
    seq([time(notBefore), time(notAfter)]),
    csr.subject,
    csr.subjectPublicKeyInfo,
    asn1.create(CONTEXT_SPECIFIC, 3, true, [seq(extensions.map(extensionToAsn1))]),
  ]);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), "binary");
  const signature = sign("sha256", tbsDer, caKey);
  const certificate = seq([tbs, signatureAlgorithm, node(T.BITSTRING, `\x00${signature.toString("binary")}`)]);
  return toPem("CERTIFICATE", asn1.toDer(certificate).getBytes());
}

// --- the request --------------------------------------------------------------------------

function parseCertificationRequest(csrPem: string): CertificationRequest {
  const der = decodePem(csrPem);
  let request: Asn1;
  try {
    request = fromDer(der);
  } catch (e) {
    throw new InvalidCsr(`its DER encoding is malformed (${errorText(e)})`);
  }
  // CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature }
  const [info, algorithm, signature] = children(request, 3, "CertificationRequest");
  // CertificationRequestInfo ::= SEQUENCE { version, subject, subjectPKInfo, [0] attributes }
  const parts = children(info, undefined, "CertificationRequestInfo");
  const [version, subject, spki, attributes] = parts;
  if (parts.length < 3 || parts.length > 4 || !is(version, T.INTEGER) || version.value !== "\x00") {
    throw new InvalidCsr("it is not a version 1 PKCS#10 request");
  }
  if (!is(subject, T.SEQUENCE) || !is(spki, T.SEQUENCE)) {
    throw new InvalidCsr("its subject or public key is missing");
  }
  if (attributes && !(attributes.tagClass === CONTEXT_SPECIFIC && attributes.type === 0 && attributes.constructed)) {
    throw new InvalidCsr("its attributes are malformed");
  }

  const publicKey = readPublicKey(spki);
  checkSignature(der, algorithm, signature, publicKey);
  return { subject, subjectPublicKeyInfo: spki, extensions: attributes ? requestedExtensions(attributes) : [] };
}

function decodePem(csrPem: unknown): string {
  if (typeof csrPem !== "string" || csrPem.trim() === "") throw new InvalidCsr("it is empty");
  if (csrPem.length > MAX_CSR_CHARS) {
    throw new InvalidCsr(`it is ${csrPem.length} characters long, more than the ${MAX_CSR_CHARS} accepted`);
  }
  if (!/-----BEGIN [^-]+-----/.test(csrPem)) throw new InvalidCsr("no PEM block was found in it");
  let blocks: forge.pem.ObjectPEM[];
  try {
    blocks = forge.pem.decode(csrPem);
  } catch (e) {
    throw new InvalidCsr(`its PEM armour cannot be read (${errorText(e)})`);
  }
  const block = blocks.find((b) => b.type === "CERTIFICATE REQUEST" || b.type === "NEW CERTIFICATE REQUEST");
  if (!block) {
    throw new InvalidCsr(
      blocks.length ? `it holds a PEM "${blocks[0].type}" block, not a CERTIFICATE REQUEST` : "no PEM block was found in it",
    );
  }
  if (block.procType?.type === "ENCRYPTED") throw new InvalidCsr("it is encrypted");
  return block.body;
}

function readPublicKey(spki: Asn1): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(asn1.toDer(spki).getBytes(), "binary"), format: "der", type: "spki" });
  } catch (e) {
    throw new InvalidCsr(`its public key cannot be read (${errorText(e)})`);
  }
}

/** The request must be signed by the key it carries (proof that the sender holds that key). */
function checkSignature(der: string, algorithm: Asn1, signature: Asn1, publicKey: KeyObject): void {
  const [algorithmOid] = children(algorithm, undefined, "signatureAlgorithm");
  if (!is(algorithmOid, T.OID)) throw new InvalidCsr("its signature algorithm is malformed");
  const algorithmId = asn1.derToOid(algorithmOid.value as string);
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
  if (!is(signature, T.BITSTRING) || (signature.value as string).charCodeAt(0) !== 0) {
    throw new InvalidCsr("its signature is malformed");
  }
  const signed = Buffer.from(firstElementDer(der), "binary");
  const signatureBytes = Buffer.from((signature.value as string).slice(1), "binary");
  let valid: boolean;
  try {
    valid = verify(digest, signed, publicKey, signatureBytes);
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new InvalidCsr("its signature does not match its public key (it was altered, or signed with another key)");
  }
}

/** The extensions in the request's extensionRequest attribute (PKCS#9), in order. */
function requestedExtensions(attributes: Asn1): Extension[] {
  const found: Extension[] = [];
  let seen = false;
  for (const attribute of attributes.value as Asn1[]) {
    const [type, values] = children(attribute, 2, "attribute");
    if (!is(type, T.OID) || !is(values, T.SET)) throw new InvalidCsr("its attributes are malformed");
    if (asn1.derToOid(type.value as string) !== OID_EXTENSION_REQUEST) continue;
    const [list, ...more] = values.value as Asn1[];
    if (seen || more.length) throw new InvalidCsr("it holds more than one extensionRequest attribute");
    seen = true;
    if (!list || !is(list, T.SEQUENCE)) throw new InvalidCsr("its extensionRequest attribute is malformed");
    for (const ext of list.value as Asn1[]) {
      const fields = children(ext, undefined, "extension");
      const [id, second, third] = fields;
      const hasCritical = fields.length === 3;
      const value = hasCritical ? third : second;
      if (!is(id, T.OID) || (hasCritical && !is(second, T.BOOLEAN)) || fields.length > 3 || !value || !is(value, T.OCTETSTRING)) {
        throw new InvalidCsr("one of its extensions is malformed");
      }
      const extOid = asn1.derToOid(id.value as string);
      if (found.some((e) => e.oid === extOid)) throw new InvalidCsr(`it requests extension ${extensionName(extOid)} twice`);
      found.push({
        oid: extOid,
        critical: hasCritical && (second.value as string).charCodeAt(0) !== 0,
        value: value.value as string,
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
  if (!is(bits, T.BITSTRING) || (bits.value as string).length < 1) throw new InvalidCsr("its keyUsage extension is malformed");
  const bytes = (bits.value as string).slice(1);
  const has = (i: number): boolean => i < bytes.length * 8 && ((bytes.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1) === 1;
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
  return { ...ext, value: keyUsageDer(requested.filter((u) => ALLOWED_KEY_USAGES.has(u))) };
}

/** validator._disallow_ca_in_basic_constraints (allow_ca = False). */
function disallowCa(ext: Extension): Extension {
  const constraints = parseExtensionValue(ext, "basicConstraints");
  if (!is(constraints, T.SEQUENCE)) throw new InvalidCsr("its basicConstraints extension is malformed");
  const [first] = constraints.value as Asn1[];
  const isCa = !!first && is(first, T.BOOLEAN) && (first.value as string).charCodeAt(0) !== 0;
  if (!isCa) return ext;
  if (ext.critical) {
    throw new CertificateValidationError(
      "basicConstraints",
      "the request asks, critically, to be a CA (CA:TRUE), and bay certificates cannot sign others; " +
        "remove basicConstraints or set CA:FALSE",
    );
  }
  return { oid: ext.oid, critical: false, value: asn1.toDer(seq([])).getBytes() }; // CA:FALSE
}

function parseExtensionValue(ext: Extension, name: string): Asn1 {
  try {
    return fromDer(ext.value);
  } catch {
    throw new InvalidCsr(`its ${name} extension is malformed`);
  }
}

/** A KeyUsage BIT STRING in DER: trailing zero bits trimmed, as cryptography writes it. */
function keyUsageDer(usages: KeyUsageName[]): string {
  const indexes = usages.map((u) => KEY_USAGES.indexOf(u));
  const bytes: number[] = [];
  for (const i of indexes) {
    while (bytes.length <= i >> 3) bytes.push(0);
    bytes[i >> 3] |= 0x80 >> (i & 7);
  }
  const last = indexes.length ? Math.max(...indexes) : -1;
  const unused = last < 0 ? 0 : 7 - (last & 7);
  return asn1.toDer(node(T.BITSTRING, String.fromCharCode(unused, ...bytes))).getBytes();
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. */
function subjectKeyIdentifier(spki: Asn1): string {
  const [, key] = spki.value as Asn1[];
  if (!key || !is(key, T.BITSTRING)) throw new InvalidCsr("its public key is malformed");
  return createHash("sha1").update(Buffer.from((key.value as string).slice(1), "binary")).digest("binary");
}

// --- the CA -----------------------------------------------------------------------------------

function loadCa(caCertPem: string, caKeyPem: string): { issuer: Asn1; caKey: KeyObject } {
  // These come from Bayforge's own store: a failure here is an internal error, not a 400.
  const caCert = new X509Certificate(caCertPem);
  const caKey = createPrivateKey(caKeyPem);
  if (caKey.asymmetricKeyType !== "rsa") throw new Error(`the bay CA key is ${caKey.asymmetricKeyType}, not RSA`);
  if (!caCert.ca) throw new Error("the bay CA certificate is not a CA certificate");
  if (!caCert.checkPrivateKey(caKey)) throw new Error("the bay CA key does not belong to the bay CA certificate");
  // The issuer is the CA's subject, byte for byte, so that chains always match.
  const [tbs] = fromDer(caCert.raw.toString("binary")).value as Asn1[];
  const fields = tbs.value as Asn1[];
  const offset = fields[0].tagClass === CONTEXT_SPECIFIC ? 1 : 0; // [0] version is optional
  return { issuer: fields[offset + 4], caKey };
}

// --- DER helpers ------------------------------------------------------------------------------

/** forge's fromDer, strict, without its guess that a BIT STRING holds nested DER. */
function fromDer(bytes: string): Asn1 {
  const parse = asn1.fromDer as unknown as (b: forge.util.ByteBuffer, o: object) => Asn1;
  return parse(forge.util.createBuffer(bytes), { strict: true, parseAllBytes: true, decodeBitStrings: false });
}

/** The exact bytes of the first element inside the outer SEQUENCE: what the CSR signature covers. */
function firstElementDer(der: string): string {
  const header = (at: number): { start: number; end: number } => {
    const first = der.charCodeAt(at + 1);
    if (first < 0x80) return { start: at + 2, end: at + 2 + first };
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new InvalidCsr("it is not DER-encoded (indefinite or oversized length)");
    let length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der.charCodeAt(at + 2 + i);
    return { start: at + 2 + n, end: at + 2 + n + length };
  };
  const inner = header(0).start;
  return der.slice(inner, header(inner).end);
}

function children(n: Asn1 | undefined, count: number | undefined, what: string): Asn1[] {
  if (!n || !is(n, T.SEQUENCE) || (count !== undefined && (n.value as Asn1[]).length !== count)) {
    throw new InvalidCsr(`its ${what} is malformed`);
  }
  return n.value as Asn1[];
}

function is(n: Asn1 | undefined, type: forge.asn1.Type): n is Asn1 {
  return !!n && n.tagClass === UNIVERSAL && n.type === type && n.constructed === (type === T.SEQUENCE || type === T.SET);
}

const node = (type: forge.asn1.Type, value: string): Asn1 => asn1.create(UNIVERSAL, type, false, value);
const seq = (items: Asn1[]): Asn1 => asn1.create(UNIVERSAL, T.SEQUENCE, true, items);
const oid = (id: string): Asn1 => node(T.OID, asn1.oidToDer(id).getBytes());
const octetString = (bytes: string): string => asn1.toDer(node(T.OCTETSTRING, bytes)).getBytes();

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): Asn1 {
  return date.getUTCFullYear() < 2050
    ? node(T.UTCTIME, asn1.dateToUtcTime(date))
    : node(T.GENERALIZEDTIME, asn1.dateToGeneralizedTime(date));
}

function extensionToAsn1(ext: Extension): Asn1 {
  return seq([
    oid(ext.oid),
    ...(ext.critical ? [node(T.BOOLEAN, "\xff")] : []),
    node(T.OCTETSTRING, ext.value),
  ]);
}

function toPem(type: string, der: string): string {
  return lf(forge.pem.encode({ type, body: der }));
}

function extensionName(id: string): string {
  const name = (forge.pki.oids as Record<string, string>)[id];
  return name ? `${name} (${id})` : id;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
