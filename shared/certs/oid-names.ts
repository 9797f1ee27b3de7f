// Display names of the OIDs a CSR may carry as extensions or signature algorithms (the names
// the forge library used), for error messages only: the DER codec itself knows no names.

/** OID → name, for messages. */
const OID_NAMES: Readonly<Record<string, string>> = {
  "2.5.29.1": "authorityKeyIdentifier",
  "2.5.29.2": "keyAttributes",
  "2.5.29.3": "certificatePolicies",
  "2.5.29.4": "keyUsageRestriction",
  "2.5.29.5": "policyMapping",
  "2.5.29.6": "subtreesConstraint",
  "2.5.29.7": "subjectAltName",
  "2.5.29.8": "issuerAltName",
  "2.5.29.9": "subjectDirectoryAttributes",
  "2.5.29.10": "basicConstraints",
  "2.5.29.11": "nameConstraints",
  "2.5.29.12": "policyConstraints",
  "2.5.29.13": "basicConstraints",
  "2.5.29.14": "subjectKeyIdentifier",
  "2.5.29.15": "keyUsage",
  "2.5.29.16": "privateKeyUsagePeriod",
  "2.5.29.17": "subjectAltName",
  "2.5.29.18": "issuerAltName",
  "2.5.29.19": "basicConstraints",
  "2.5.29.20": "cRLNumber",
  "2.5.29.21": "cRLReason",
  "2.5.29.22": "expirationDate",
  "2.5.29.23": "instructionCode",
  "2.5.29.24": "invalidityDate",
  "2.5.29.25": "cRLDistributionPoints",
  "2.5.29.26": "issuingDistributionPoint",
  "2.5.29.27": "deltaCRLIndicator",
  "2.5.29.28": "issuingDistributionPoint",
  "2.5.29.29": "certificateIssuer",
  "2.5.29.30": "nameConstraints",
  "2.5.29.31": "cRLDistributionPoints",
  "2.5.29.32": "certificatePolicies",
  "2.5.29.33": "policyMappings",
  "2.5.29.34": "policyConstraints",
  "2.5.29.35": "authorityKeyIdentifier",
  "2.5.29.36": "policyConstraints",
  "2.5.29.37": "extKeyUsage",
  "2.5.29.46": "freshestCRL",
  "2.5.29.54": "inhibitAnyPolicy",
  "1.3.6.1.5.5.7.1.1": "authorityInfoAccess",
  "1.3.6.1.4.1.11129.2.4.2": "timestampList",
  "2.16.840.1.113730.1.1": "nsCertType",
  "2.16.840.1.113730.1.13": "nsComment",
  "1.2.840.113549.1.1.1": "rsaEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.2.840.113549.1.1.10": "RSASSA-PSS",
  "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
  "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
  "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
  "1.3.101.112": "EdDSA25519",
};

/** `name (oid)` for an OID with a display name, else the dotted OID itself. */
export function oidName(id: string): string {
  const name = OID_NAMES[id];
  return name ? `${name} (${id})` : id;
}
