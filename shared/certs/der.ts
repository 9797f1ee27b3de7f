// A minimal, strict DER reader and writer, and PEM armour: just what the bay CA and CSR
// signing need, in place of the forge library (which added ~292 KB to every Lambda bundle).
//
// Reading: one TLV tree, definite lengths only, minimal length octets, no trailing bytes,
// single-byte tags, and every length a certificate never needs bounded (DER_LIMITS), since a
// CSR is hostile input; only DerError comes out of it. Every node keeps its raw bytes, so a
// CSR's subject and public key pass into the certificate byte for byte. Writing: helpers that
// return the DER of one element as a Buffer; compose them by nesting. PEM armour is in pem.ts,
// OID display names in oid-names.ts.

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

/**
 * What the reader accepts, each far above what a certificate or CSR needs: nesting (a CSR's
 * extensions sit 8 levels deep), elements per parse (a CSR with a hundred SANs has a few
 * hundred), OID contents (the longest standard OIDs, 2.25.<uuid>, take 20 bytes).
 */
export const DER_LIMITS = { depth: 16, elements: 4096, oidBytes: 64 } as const;

// --- reading --------------------------------------------------------------------------------

interface ParseState {
  maxDepth: number;
  /** elements still allowed in this parse */
  budget: number;
}

/** Parses exactly one DER element from `bytes`; throws DerError for anything else. */
export function parseDer(bytes: Uint8Array, maxDepth: number = DER_LIMITS.depth): DerNode {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) throw new DerError("no bytes to parse");
  const node = parseAt(buf, 0, buf.length, 1, { maxDepth, budget: DER_LIMITS.elements });
  const trailing = buf.length - node.raw.length;
  if (trailing) throw new DerError(`${trailing} trailing byte(s) after the element`);
  return node;
}

function parseAt(buf: Buffer, start: number, limit: number, depth: number, state: ParseState): DerNode {
  if (depth > state.maxDepth) throw new DerError(`nested more than ${state.maxDepth} levels deep`);
  if (--state.budget < 0) throw new DerError(`more than ${DER_LIMITS.elements} elements`);
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
  if (tagByte === Tag.OID && length > DER_LIMITS.oidBytes) {
    throw new DerError(`OBJECT IDENTIFIER at byte ${start} is ${length} bytes long, more than ${DER_LIMITS.oidBytes}`);
  }
  const children: DerNode[] = [];
  if (constructed) {
    for (let p = at; p < end; ) {
      const child = parseAt(buf, p, end, depth + 1, state);
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

/** An OBJECT IDENTIFIER's contents (at most DER_LIMITS.oidBytes) as a dotted string. */
export function decodeOid(content: Uint8Array): string {
  if (content.length === 0) throw new DerError("empty OBJECT IDENTIFIER");
  if (content.length > DER_LIMITS.oidBytes) throw new DerError(`OBJECT IDENTIFIER longer than ${DER_LIMITS.oidBytes} bytes`);
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

// --- writing --------------------------------------------------------------------------------

/** One element: tag, minimal length, contents. */
function tlv(tagClass: number, constructed: boolean, tag: number, content: Uint8Array): Buffer {
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

/** YYMMDDhhmmssZ (fractions of a second dropped). */
const utcTime = (date: Date): Buffer => universal(Tag.UTC_TIME, Buffer.from(timeText(date).slice(2), "latin1"));
/** YYYYMMDDhhmmssZ (fractions of a second dropped). */
const generalizedTime = (date: Date): Buffer => universal(Tag.GENERALIZED_TIME, Buffer.from(timeText(date), "latin1"));

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
function encodeOid(dotted: string): Buffer {
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
