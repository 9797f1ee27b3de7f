// Signs a node's certificate signing request with its bay's CA, as Magnum's `x509.sign` does
// (magnum/common/x509/operations.py, default [x509] options): the subject and public key come
// from the request, the issuer is the CA, and only the extensions csr-extensions.ts grants
// survive, never one that makes a CA. Three steps, one module each: read the request (csr.ts),
// check it against the caller's subject policy (csr-policy.ts, the bay's own nodes only) and
// Magnum's extension policy (csr-extensions.ts), then issue (here).
//
// Built on DER rather than on a certificate object so that any key type Magnum accepts
// (RSA, EC, Ed25519) and any subject encoding passes through byte for byte; node:crypto
// checks the request's signature and signs with the CA key.
import { createHash, createPrivateKey, sign, X509Certificate, type KeyObject } from "node:crypto";
import { DEFAULT_VALIDITY_DAYS, newSerialHex, validityWindow } from "./bay-ca.ts";
import { bitString, boolean, explicit, integer, isUniversal as is, nullValue, octetString, oid, parseDer, sequence, Tag as T, TagClass, time, type DerNode } from "./der.ts";
import { pemEncode } from "./pem.ts";
import { InvalidCsr, parseCsr, type Extension } from "./csr.ts";
import { filterExtensions } from "./csr-extensions.ts";
import { checkSubject, type SubjectPolicy } from "./csr-policy.ts";

export { InvalidCsr } from "./csr.ts";
export { CertificateValidationError } from "./csr-extensions.ts";
export { SubjectNotAllowed, type SubjectPolicy } from "./csr-policy.ts";

export interface SignCsrRequest {
  caCertPem: string;
  /** The CA's private key, decrypted (PKCS#8 or PKCS#1 PEM). */
  caKeyPem: string;
  csrPem: string;
  /** The caller's subject policy (a bootstrap token's node role); none for the bay's owner. */
  policy?: SubjectPolicy;
  /** Magnum signs node certificates for `[x509] term_of_validity` days (5 years). */
  validityDays?: number;
  /** The clock, for tests; defaults to now. */
  now?: Date;
}

const OID_SUBJECT_KEY_IDENTIFIER = "2.5.29.14";
const OID_SHA256_WITH_RSA = "1.2.840.113549.1.1.11";

/**
 * Issues a certificate for `csrPem` signed by the bay CA; returns it as PEM. Throws InvalidCsr
 * when the request cannot be read or its signature is wrong, SubjectNotAllowed when the
 * caller's policy refuses its subject, and CertificateValidationError when it asks,
 * critically, for something the CA must not grant: all 400s.
 */
export function signCsr(req: SignCsrRequest): string {
  const csr = parseCsr(req.csrPem);
  if (req.policy) checkSubject(req.policy, csr);
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

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. */
function subjectKeyIdentifier(spki: DerNode): Buffer {
  const [, key] = spki.children;
  if (!key || !is(key, T.BIT_STRING)) throw new InvalidCsr("its public key is malformed");
  return createHash("sha1").update(key.content.subarray(1)).digest();
}

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

function extensionDer(ext: Extension): Buffer {
  return sequence([oid(ext.oid), ...(ext.critical ? [boolean(true)] : []), octetString(ext.value)]);
}
