// Reads a PKCS#10 certificate signing request, the hostile input of POST /v1/certificates:
// PEM armour, the DER tree (der.ts, bounded), and the self-signature, checked before anything
// in the request is trusted. What comes out is the subject and public key as raw DER (they pass
// into the certificate byte for byte) and the extensions the request asks for.
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { ApiError } from "../domain/errors.ts";
import { decodeOid, DerError, isUniversal as is, parseDer, Tag as T, TagClass, type DerNode } from "./der.ts";
import { pemBlocks, type PemBlock } from "./pem.ts";
import { oidName } from "./oid-names.ts";

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

export interface Extension {
  oid: string;
  critical: boolean;
  /** extnValue's content: the extension's own DER */
  value: Buffer;
}

export interface CertificationRequest {
  subject: DerNode;
  subjectPublicKeyInfo: DerNode;
  extensions: Extension[];
}

/** Far above any real CSR (a 16384-bit RSA request with a hundred SANs is under 10 KB). */
export const MAX_CSR_CHARS = 64 * 1024;

const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";

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

const V1 = Buffer.from([0]);

/** The request in `csrPem`, its signature checked; throws InvalidCsr for anything else. */
export function parseCsr(csrPem: string): CertificationRequest {
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

  checkNameStrings(subject);
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
  } catch {
    // (OpenSSL's reason names its own decoder internals, and nothing the sender can act on)
    throw new InvalidCsr("its public key cannot be read (use an RSA, EC or Ed25519 key)");
  }
}

/** The request must be signed by the key it carries (proof that the sender holds that key). */
function checkSignature(info: DerNode, algorithm: DerNode, signature: DerNode, publicKey: KeyObject): void {
  const [algorithmOid] = children(algorithm, undefined, "signatureAlgorithm");
  if (!is(algorithmOid, T.OID)) throw new InvalidCsr("its signature algorithm is malformed");
  const algorithmId = oidOf(algorithmOid, "its signature algorithm is malformed");
  const known = CSR_SIGNATURE_ALGORITHMS[algorithmId];
  if (!known) {
    // the OID is at most 64 bytes (der.ts), so it can be named
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
      if (found.some((e) => e.oid === extOid)) throw new InvalidCsr(`it requests extension ${oidName(extOid)} twice`);
      found.push({ oid: extOid, critical: hasCritical && second.content[0] !== 0, value: value.content });
    }
  }
  return found;
}

/** An extension's value parsed as DER; a malformed one is the request's fault. */
export function parseExtensionValue(ext: Extension, name: string): DerNode {
  try {
    return parseDer(ext.value);
  } catch {
    throw new InvalidCsr(`its ${name} extension is malformed`);
  }
}

function children(n: DerNode | undefined, count: number | undefined, what: string): DerNode[] {
  if (!n || !is(n, T.SEQUENCE) || (count !== undefined && n.children.length !== count)) {
    throw new InvalidCsr(`its ${what} is malformed`);
  }
  return n.children;
}

/** An OID node's dotted value; an invalid encoding is the request's fault. */
export function oidOf(n: DerNode, malformed: string): string {
  try {
    return decodeOid(n.content);
  } catch (e) {
    if (e instanceof DerError) throw new InvalidCsr(malformed);
    throw e;
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const UTF8_STRING = 12;
const UNIVERSAL_STRING = 28;
const BMP_STRING = 30;

/**
 * The subject's Unicode strings hold what their type allows: UTF8String valid UTF-8,
 * BMPString UCS-2 (no surrogate halves), UniversalString UCS-4 up to U+10FFFF. Anything else
 * would be copied into a certificate that OpenSSL (kubectl's Go aside) cannot read back
 * ("illegal characters"): refused here, for every caller.
 */
function checkNameStrings(subject: DerNode): void {
  for (const rdn of subject.children) {
    for (const atv of rdn.children) {
      const value = atv.children[1];
      if (!value || value.tagClass !== TagClass.UNIVERSAL || value.constructed) continue;
      const c = value.content;
      let ok = true;
      if (value.tag === UTF8_STRING) {
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(c);
        } catch {
          ok = false;
        }
      } else if (value.tag === BMP_STRING) {
        ok = c.length % 2 === 0;
        for (let i = 0; ok && i < c.length; i += 2) ok = c.readUInt16BE(i) < 0xd800 || c.readUInt16BE(i) > 0xdfff;
      } else if (value.tag === UNIVERSAL_STRING) {
        ok = c.length % 4 === 0;
        for (let i = 0; ok && i < c.length; i += 4) {
          const u = c.readUInt32BE(i);
          ok = u <= 0x10ffff && (u < 0xd800 || u > 0xdfff);
        }
      }
      if (!ok) throw new InvalidCsr("its subject holds a string that is not valid for its type (UTF8String, BMPString or UniversalString)");
    }
  }
}
