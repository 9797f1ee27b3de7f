// A minimal, strict DER reader and writer, and PEM armour: just what the bay CA and CSR
// signing need, in place of the forge library (which added ~292 KB to every Lambda bundle).
//
// Reading: one TLV tree, definite lengths only, minimal length octets, no trailing bytes,
// single-byte tags, bounded depth. Every node keeps its raw bytes, so a CSR's subject and
// public key pass into the certificate byte for byte. Writing: helpers that return the DER of
// one element as a Buffer; compose them by nesting.

/** Input that is not valid DER (or PEM), or a value that cannot be encoded. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

export const TagClass = { UNIVERSAL: 0, APPLICATION: 1, CONTEXT: 2, PRIVATE: 3 } as const;

/** Universal tag numbers. */
export const Tag = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  PRINTABLE_STRING: 19,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
} as const;

export interface DerNode {
  tagClass: number;
  constructed: boolean;
  /** tag number (0–30) */
  tag: number;
  /** the whole element (tag, length and contents), a view into the parsed bytes */
  raw: Buffer;
  /** the contents octets, a view into the parsed bytes */
  content: Buffer;
  /** the elements inside a constructed node, in order; empty for a primitive one */
  children: DerNode[];
}

/** Far deeper than any certificate or CSR (about 7 levels); stops hostile nesting early. */
export const MAX_DEPTH = 32;

// --- reading --------------------------------------------------------------------------------

/** Parses exactly one DER element from `bytes`; throws DerError for anything else. */
export function parseDer(bytes: Uint8Array, maxDepth = MAX_DEPTH): DerNode {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) throw new DerError("no bytes to parse");
  const node = parseAt(buf, 0, buf.length, 1, maxDepth);
  const trailing = buf.length - node.raw.length;
  if (trailing) throw new DerError(`${trailing} trailing byte(s) after the element`);
  return node;
}

function parseAt(buf: Buffer, start: number, limit: number, depth: number, maxDepth: number): DerNode {
  if (depth > maxDepth) throw new DerError(`nested more than ${maxDepth} levels deep`);
  if (limit - start < 2) throw new DerError(`truncated at byte ${start}: no room for a tag and length`);
  const tagByte = buf[start];
  if ((tagByte & 0x1f) === 0x1f) throw new DerError(`multi-byte tag numbers are not supported (byte ${start})`);
  let at = start + 1;
  const first = buf[at++];
  let length = first;
  if (first === 0x80) throw new DerError(`indefinite length at byte ${start} (not DER)`);
  if (first > 0x80) {
    const n = first & 0x7f;
    if (n > 4) throw new DerError(`length of ${n} bytes at byte ${start} is too large`);
    if (limit - at < n) throw new DerError(`truncated at byte ${start}: the length needs ${n} more byte(s)`);
    if (buf[at] === 0) throw new DerError(`length at byte ${start} is not minimally encoded`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[at + i];
    at += n;
    if (length < 0x80) throw new DerError(`length at byte ${start} is not minimally encoded`);
  }
  if (length > limit - at) {
    throw new DerError(`truncated at byte ${start}: the element needs ${length} byte(s), ${limit - at} remain`);
  }
  const end = at + length;
  const constructed = (tagByte & 0x20) !== 0;
  const children: DerNode[] = [];
  if (constructed) {
    for (let p = at; p < end; ) {
      const child = parseAt(buf, p, end, depth + 1, maxDepth);
      children.push(child);
      p += child.raw.length;
    }
  }
  return {
    tagClass: tagByte >> 6,
    constructed,
    tag: tagByte & 0x1f,
    raw: buf.subarray(start, end),
    content: buf.subarray(at, end),
    children,
  };
}

/** Whether `n` is the universal type `tag`, constructed exactly when that type is (SEQUENCE, SET). */
export function isUniversal(n: DerNode | undefined, tag: number): n is DerNode {
  return !!n && n.tagClass === TagClass.UNIVERSAL && n.tag === tag && n.constructed === (tag === Tag.SEQUENCE || tag === Tag.SET);
}

/** An OBJECT IDENTIFIER's contents as a dotted string. */
export function decodeOid(content: Uint8Array): string {
  if (content.length === 0) throw new DerError("empty OBJECT IDENTIFIER");
  if (content[content.length - 1] & 0x80) throw new DerError("OBJECT IDENTIFIER ends mid-arc");
  const arcs: bigint[] = [];
  let value = 0n;
  let fresh = true;
  for (const byte of content) {
    if (fresh && byte === 0x80) throw new DerError("OBJECT IDENTIFIER arc is not minimally encoded");
    value = (value << 7n) | BigInt(byte & 0x7f);
    fresh = (byte & 0x80) === 0;
    if (fresh) {
      arcs.push(value);
      value = 0n;
    }
  }
  const [first, ...rest] = arcs;
  const top = first < 40n ? 0n : first < 80n ? 1n : 2n;
  return [top, first - top * 40n, ...rest].join(".");
}

/** An INTEGER's contents as a bigint (two's complement), refusing non-minimal encodings. */
export function decodeInteger(content: Uint8Array): bigint {
  if (content.length === 0) throw new DerError("empty INTEGER");
  if (content.length > 1 && ((content[0] === 0 && content[1] < 0x80) || (content[0] === 0xff && content[1] >= 0x80))) {
    throw new DerError("INTEGER is not minimally encoded");
  }
  const unsigned = BigInt(`0x${Buffer.from(content).toString("hex")}`);
  return content[0] & 0x80 ? unsigned - (1n << BigInt(content.length * 8)) : unsigned;
}

// --- writing --------------------------------------------------------------------------------

/** One element: tag, minimal length, contents. */
export function tlv(tagClass: number, constructed: boolean, tag: number, content: Uint8Array): Buffer {
  if (!Number.isInteger(tag) || tag < 0 || tag > 30) throw new DerError(`tag number ${tag} needs more than one byte`);
  return Buffer.concat([Buffer.from([(tagClass << 6) | (constructed ? 0x20 : 0) | tag]), encodeLength(content.length), content]);
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const universal = (tag: number, content: Uint8Array): Buffer => tlv(TagClass.UNIVERSAL, false, tag, content);

export const sequence = (items: Uint8Array[]): Buffer => tlv(TagClass.UNIVERSAL, true, Tag.SEQUENCE, Buffer.concat(items));
/** A SET of the items in the order given (a DER SET OF must be sorted; single-item sets are). */
export const set = (items: Uint8Array[]): Buffer => tlv(TagClass.UNIVERSAL, true, Tag.SET, Buffer.concat(items));
export const boolean = (value: boolean): Buffer => universal(Tag.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
export const nullValue = (): Buffer => universal(Tag.NULL, Buffer.alloc(0));
export const octetString = (bytes: Uint8Array): Buffer => universal(Tag.OCTET_STRING, bytes);
export const utf8String = (text: string): Buffer => universal(Tag.UTF8_STRING, Buffer.from(text, "utf8"));
export const oid = (dotted: string): Buffer => universal(Tag.OID, encodeOid(dotted));

/** [n] EXPLICIT: a constructed context-specific element wrapping `inner`. */
export const explicit = (tag: number, inner: Uint8Array): Buffer => tlv(TagClass.CONTEXT, true, tag, inner);
/** [n] IMPLICIT: `content` under a context-specific tag in place of its own. */
export const implicit = (tag: number, content: Uint8Array, constructed = false): Buffer =>
  tlv(TagClass.CONTEXT, constructed, tag, content);

/**
 * An INTEGER in minimal two's complement. A hex string is read as an unsigned magnitude, so
 * a serial's DER contents in hex (with or without its leading 00) encode back to themselves.
 */
export function integer(value: bigint | number | string): Buffer {
  return universal(Tag.INTEGER, integerContent(toBigInt(value)));
}

function toBigInt(value: bigint | number | string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new DerError(`${value} is not a safe integer`);
    return BigInt(value);
  }
  if (!/^[0-9a-fA-F]+$/.test(value)) throw new DerError(`"${value}" is not a hex number`);
  return BigInt(`0x${value}`);
}

function integerContent(v: bigint): Buffer {
  let bytes = 1;
  // the fewest bytes whose signed range holds v
  while (v < -(1n << BigInt(bytes * 8 - 1)) || v >= 1n << BigInt(bytes * 8 - 1)) bytes++;
  const unsigned = v < 0n ? (1n << BigInt(bytes * 8)) + v : v;
  return Buffer.from(unsigned.toString(16).padStart(bytes * 2, "0"), "hex");
}

/** A BIT STRING of whole bytes, or with `unusedBits` (0–7) zero bits at the end. */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (unusedBits && bytes.length === 0)) {
    throw new DerError(`${unusedBits} unused bits is not valid here`);
  }
  return universal(Tag.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/**
 * A named-bit BIT STRING (e.g. KeyUsage) with bits `indexes` set, bit 0 first; trailing zero
 * bits are trimmed as DER requires (X.690 §11.2.2).
 */
export function namedBits(indexes: number[]): Buffer {
  const bytes: number[] = [];
  for (const i of indexes) {
    while (bytes.length <= i >> 3) bytes.push(0);
    bytes[i >> 3] |= 0x80 >> (i & 7);
  }
  const last = indexes.length ? Math.max(...indexes) : -1;
  return bitString(Buffer.from(bytes), last < 0 ? 0 : 7 - (last & 7));
}

export function printableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new DerError(`"${text}" is not a PrintableString`);
  return universal(Tag.PRINTABLE_STRING, Buffer.from(text, "latin1"));
}

/** YYMMDDhhmmssZ (fractions of a second dropped). */
export const utcTime = (date: Date): Buffer => universal(Tag.UTC_TIME, Buffer.from(timeText(date).slice(2), "latin1"));
/** YYYYMMDDhhmmssZ (fractions of a second dropped). */
export const generalizedTime = (date: Date): Buffer => universal(Tag.GENERALIZED_TIME, Buffer.from(timeText(date), "latin1"));

/** A certificate's Time (RFC 5280 §4.1.2.5, as forge wrote it): UTCTime for 1950–2049, else GeneralizedTime. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? utcTime(date) : generalizedTime(date);
}

function timeText(date: Date): string {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(year) || year < 0 || year > 9999) throw new DerError(`${date} cannot be written as a DER time`);
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${String(year).padStart(4, "0")}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}` +
    `${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
}

/** A dotted OID as OBJECT IDENTIFIER contents (base-128 arcs, the first two combined). */
export function encodeOid(dotted: string): Buffer {
  if (!/^\d+(\.\d+)+$/.test(dotted)) throw new DerError(`"${dotted}" is not a dotted OID`);
  const [top, second, ...rest] = dotted.split(".").map(BigInt);
  if (top > 2n || (top < 2n && second >= 40n)) throw new DerError(`"${dotted}" is not a valid OID`);
  const bytes: number[] = [];
  for (const arc of [top * 40n + second, ...rest]) {
    const groups = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...groups);
  }
  return Buffer.from(bytes);
}

// --- PEM ------------------------------------------------------------------------------------

export interface PemBlock {
  /** the label, e.g. "CERTIFICATE REQUEST" */
  type: string;
  /** RFC 1421 headers (e.g. Proc-Type: 4,ENCRYPTED), by name */
  headers: Record<string, string>;
  der: Buffer;
}

/** Every PEM block in `text`, in order; throws DerError for a block it cannot read. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const begin = /-----BEGIN ([^\r\n-]+(?:-[^\r\n-]+)*)-----/g;
  for (let m = begin.exec(text); m; m = begin.exec(text)) {
    const type = m[1];
    const endLine = `-----END ${type}-----`;
    const end = text.indexOf(endLine, begin.lastIndex);
    if (end < 0) throw new DerError(`the "${type}" block has no END line`);
    blocks.push({ type, ...pemBody(text.slice(begin.lastIndex, end), type) });
    begin.lastIndex = end + endLine.length;
  }
  return blocks;
}

/** The DER of the first block labelled `type` in `text`; throws DerError when there is none. */
export function pemDecode(text: string, type: string): Buffer {
  const block = pemBlocks(text).find((b) => b.type === type);
  if (!block) throw new DerError(`no "${type}" PEM block was found`);
  return block.der;
}

function pemBody(inside: string, type: string): { headers: Record<string, string>; der: Buffer } {
  const lines = inside.split(/\r?\n/);
  const headers: Record<string, string> = {};
  let i = lines[0].trim() === "" ? 1 : 0;
  if (lines[i]?.includes(":")) {
    // headers run to a blank line; a line starting with white space continues the one before
    let last = "";
    for (; i < lines.length && lines[i].trim() !== ""; i++) {
      const line = lines[i];
      if (/^\s/.test(line) && last) headers[last] += ` ${line.trim()}`;
      else {
        const at = line.indexOf(":");
        if (at < 1) throw new DerError(`the "${type}" block has a malformed header line`);
        last = line.slice(0, at).trim();
        headers[last] = line.slice(at + 1).trim();
      }
    }
  }
  const base64 = lines.slice(i).join("").replace(/[ \t\r]/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw new DerError(`the "${type}" block is not valid base64`);
  }
  return { headers, der: Buffer.from(base64, "base64") };
}

/** PEM armour: 64-column base64 lines, LF line endings (as openssl writes it). */
export function pemEncode(type: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.map((l) => `${l}\n`).join("")}-----END ${type}-----\n`;
}

// --- names ----------------------------------------------------------------------------------

/** Names of the OIDs a CSR may carry as extensions or signature algorithms (forge's names), for messages. */
export const OID_NAMES: Readonly<Record<string, string>> = {
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
