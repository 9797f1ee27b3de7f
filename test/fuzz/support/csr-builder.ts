// CSRs built field by field for the CSR fuzz suite: node:crypto makes and signs with the keys,
// the DER writer of shared/certs/der.ts (plus a raw TLV helper for what it does not write)
// builds the request, so a generated subject or extension list arrives correctly self-signed
// and reaches the checks after the signature.
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { bitString, boolean, explicit, integer, nullValue, octetString, oid, sequence, set } from "../../../shared/certs/der.ts";
import { pemEncode } from "../../../shared/certs/pem.ts";

export type KeyKind = "rsa" | "ec-p256" | "ec-p384" | "ed25519";

export interface Keys {
  kind: KeyKind;
  privateKey: KeyObject;
  spki: Buffer;
}

/** One key pair of each kind, made once (RSA key generation dominates otherwise). */
export function makeKeys(): Keys[] {
  const made: Array<[KeyKind, ReturnType<typeof generateKeyPairSync>]> = [
    ["rsa", generateKeyPairSync("rsa", { modulusLength: 2048 })],
    ["ec-p256", generateKeyPairSync("ec", { namedCurve: "P-256" })],
    ["ec-p384", generateKeyPairSync("ec", { namedCurve: "P-384" })],
    ["ed25519", generateKeyPairSync("ed25519")],
  ];
  return made.map(([kind, k]) => ({ kind, privateKey: k.privateKey, spki: k.publicKey.export({ type: "spki", format: "der" }) }));
}

/** A primitive or constructed element of any tag (for string types the writer has no helper for). */
export function raw(tagByte: number, content: Uint8Array): Buffer {
  const n = content.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tagByte, ...len]), content]);
}

export const STRING_TAGS = { utf8: 0x0c, printable: 0x13, ia5: 0x16, bmp: 0x1e, t61: 0x14 } as const;

export interface Attribute {
  type: "CN" | "O" | "OU" | "C" | "1.2.3.4";
  value: string;
  tag?: keyof typeof STRING_TAGS;
}

const ATTRIBUTE_OIDS: Record<Attribute["type"], string> = { CN: "2.5.4.3", O: "2.5.4.10", OU: "2.5.4.11", C: "2.5.4.6", "1.2.3.4": "1.2.3.4" };

/** A Name: each RDN a SET of the attributes given for it (usually one). */
export function name(rdns: Attribute[][]): Buffer {
  return sequence(
    rdns.map((rdn) =>
      set(rdn.map((a) => {
        const tag = a.tag ?? "utf8";
        const bytes = tag === "bmp" ? Buffer.from(a.value, "utf16le").swap16() : Buffer.from(a.value, tag === "utf8" ? "utf8" : "latin1");
        return sequence([oid(ATTRIBUTE_OIDS[a.type]), raw(STRING_TAGS[tag], bytes)]);
      })),
    ),
  );
}

/** An extension as a request carries it: its value already DER. */
export interface RequestedExtension {
  oid: string;
  critical?: boolean;
  value: Buffer;
}

const SIGNATURE: Record<KeyKind, { algorithm: Buffer; digest: string | null }> = {
  rsa: { algorithm: sequence([oid("1.2.840.113549.1.1.11"), nullValue()]), digest: "sha256" },
  "ec-p256": { algorithm: sequence([oid("1.2.840.10045.4.3.2")]), digest: "sha256" },
  "ec-p384": { algorithm: sequence([oid("1.2.840.10045.4.3.3")]), digest: "sha384" },
  ed25519: { algorithm: sequence([oid("1.3.101.112")]), digest: null },
};

/** A PKCS#10 request for `subject` with `extensions`, correctly signed by `keys`. */
export function buildCsr(keys: Keys, subject: Buffer, extensions: RequestedExtension[]): { der: Buffer; pem: string } {
  const extensionRequest = sequence([
    oid("1.2.840.113549.1.9.14"),
    set([sequence(extensions.map((e) => sequence([oid(e.oid), ...(e.critical ? [boolean(true)] : []), octetString(e.value)])))]),
  ]);
  const info = sequence([integer(0), subject, keys.spki, explicit(0, extensions.length ? extensionRequest : Buffer.alloc(0))]);
  const { algorithm, digest } = SIGNATURE[keys.kind];
  const der = sequence([info, algorithm, bitString(sign(digest, info, keys.privateKey))]);
  return { der, pem: pemEncode("CERTIFICATE REQUEST", der) };
}
