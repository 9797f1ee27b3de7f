// Magnum's extension policy, as validator.filter_extensions applies it with the default [x509]
// options (magnum/common/x509/validator.py): allowed_extensions, allowed_key_usage, and
// allow_ca = False. Two tables say what the bay CA grants; filterExtensions applies them.
import { ApiError } from "../domain/errors.ts";
import { isUniversal as is, namedBits, sequence, Tag as T, type DerNode } from "./der.ts";
import { InvalidCsr, parseExtensionValue, type Extension } from "./csr.ts";
import { oidName } from "./oid-names.ts";

/** The request asks for an extension the bay CA must not grant (Magnum: 400). */
export class CertificateValidationError extends ApiError {
  constructor(readonly extension: string, reason: string) {
    super(400, `Extension '${extension}' not allowed`, `Extension '${extension}' not allowed: ${reason}`);
    this.name = "CertificateValidationError";
  }
}

/** What a kept extension becomes in the certificate; undefined: it is left out. */
type Rule = (ext: Extension) => Extension | undefined;

/** [x509] allowed_extensions (default), by OID: the extensions a certificate may carry. */
const ALLOWED_EXTENSIONS: Readonly<Record<string, { name: string; rule: Rule }>> = {
  "2.5.29.15": { name: "keyUsage", rule: (ext) => filterKeyUsage(ext) },
  "2.5.29.37": { name: "extendedKeyUsage", rule: (ext) => sequenceAsIs(ext, "extendedKeyUsage") },
  "2.5.29.17": { name: "subjectAltName", rule: (ext) => sequenceAsIs(ext, "subjectAltName") },
  "2.5.29.19": { name: "basicConstraints", rule: (ext) => disallowCa(ext) },
  // Magnum adds a subject key identifier computed from the key; the requested one gives way.
  "2.5.29.14": { name: "subjectKeyIdentifier", rule: () => undefined },
};

/**
 * KeyUsage bits in DER order (RFC 5280 §4.2.1.3), and whether the bay CA grants each:
 * [x509] allowed_key_usage (default), less keyCertSign and cRLSign since allow_ca = False.
 */
const KEY_USAGES: ReadonlyArray<readonly [name: string, granted: boolean]> = [
  ["digitalSignature", true],
  ["nonRepudiation", true],
  ["keyEncipherment", true],
  ["dataEncipherment", false],
  ["keyAgreement", false],
  ["keyCertSign", false],
  ["cRLSign", false],
  ["encipherOnly", false],
  ["decipherOnly", false],
];
const KEY_AGREEMENT = 4;
const granted = KEY_USAGES.filter(([, g]) => g).map(([name]) => name);

/** The extensions the certificate gets for those requested, in order; throws when one is refused. */
export function filterExtensions(requested: Extension[]): Extension[] {
  const kept: Extension[] = [];
  for (const ext of requested) {
    const allowed = ALLOWED_EXTENSIONS[ext.oid];
    if (!allowed) {
      if (ext.critical) {
        throw new CertificateValidationError(
          oidName(ext.oid),
          `it is marked critical and the bay CA only grants ${Object.values(ALLOWED_EXTENSIONS).map((a) => a.name).join(", ")}; ` +
            "remove it from the request or make it non-critical",
        );
      }
      continue; // a non-critical unknown extension is dropped silently, as in Magnum
    }
    const out = allowed.rule(ext);
    if (out) kept.push(out);
  }
  return kept;
}

/** extendedKeyUsage and subjectAltName are both SEQUENCEs; they pass through untouched. */
function sequenceAsIs(ext: Extension, name: string): Extension {
  if (!is(parseExtensionValue(ext, name), T.SEQUENCE)) throw new InvalidCsr(`its ${name} extension is malformed`);
  return ext;
}

/** validator._merge_key_usage: a usage not granted is dropped, or refused if the extension is critical. */
function filterKeyUsage(ext: Extension): Extension {
  const bits = parseExtensionValue(ext, "keyUsage");
  if (!is(bits, T.BIT_STRING) || bits.content.length < 1) throw new InvalidCsr("its keyUsage extension is malformed");
  const bytes = bits.content.subarray(1);
  const has = (i: number): boolean => i < bytes.length * 8 && ((bytes[i >> 3] >> (7 - (i & 7))) & 1) === 1;
  // cryptography reads encipherOnly/decipherOnly only when keyAgreement is set
  const requested = KEY_USAGES.map((_, i) => i).filter((i) => has(i) && (i < 7 || has(KEY_AGREEMENT)));
  const refused = requested.filter((i) => !KEY_USAGES[i][1]).map((i) => KEY_USAGES[i][0]);
  if (refused.length && ext.critical) {
    throw new CertificateValidationError(
      "keyUsage",
      `the bay CA does not grant ${refused.join(", ")} (it grants ${granted.join(", ")}); ` +
        "remove those usages or make keyUsage non-critical",
    );
  }
  // a KeyUsage BIT STRING in DER: trailing zero bits trimmed, as cryptography writes it
  return { ...ext, value: namedBits(requested.filter((i) => KEY_USAGES[i][1])) };
}

/** validator._disallow_ca_in_basic_constraints (allow_ca = False). */
function disallowCa(ext: Extension): Extension {
  const constraints: DerNode = parseExtensionValue(ext, "basicConstraints");
  if (!is(constraints, T.SEQUENCE)) throw new InvalidCsr("its basicConstraints extension is malformed");
  const [first] = constraints.children;
  const isCa = !!first && is(first, T.BOOLEAN) && first.content.some((b) => b !== 0);
  // written anew either way, so no lenient reader finds a CA in odd bytes that were passed on
  if (!isCa) return { ...ext, value: sequence([]) };
  if (ext.critical) {
    throw new CertificateValidationError(
      "basicConstraints",
      "the request asks, critically, to be a CA (CA:TRUE), and bay certificates cannot sign others; " +
        "remove basicConstraints or set CA:FALSE",
    );
  }
  return { oid: ext.oid, critical: false, value: sequence([]) }; // CA:FALSE
}
