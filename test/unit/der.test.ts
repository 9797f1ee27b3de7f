// shared/certs/der.ts and pem.ts: the strict DER reader and writer and the PEM armour behind the bay CA
// and CSR signing, checked against hand-written encodings, openssl and node:crypto.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bitString, boolean, decodeOid, DER_LIMITS, DerError, explicit, integer, namedBits, nullValue, octetString, oid,
  parseDer, sequence, set, Tag, TagClass, time, utf8String,
} from "../../shared/certs/der.ts";
import { pemBlocks, pemDecode, pemEncode } from "../../shared/certs/pem.ts";
import { generateBayCertificates, type BayCertificates } from "../../shared/certs/bay-ca.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ""), "hex");
/** Asserts that parsing `input` throws a DerError whose message matches `reason`. */
const refuses = (input: string | Uint8Array, reason: RegExp, maxDepth?: number): void => {
  assert.throws(() => parseDer(typeof input === "string" ? bytes(input) : input, maxDepth), (e: unknown) => {
    assert.ok(e instanceof DerError, String(e));
    assert.match(e.message, reason);
    return true;
  });
};

describe("DER writer", () => {
  it("encodes the primitive types as X.690 writes them", () => {
    assert.equal(hex(boolean(true)), "0101ff");
    assert.equal(hex(boolean(false)), "010100");
    assert.equal(hex(nullValue()), "0500");
    assert.equal(hex(octetString(bytes("0102"))), "04020102");
    assert.equal(hex(utf8String("ñ")), "0c02c3b1");
    assert.equal(hex(bitString(bytes("a0"), 5)), "030205a0");
    assert.equal(hex(sequence([])), "3000");
    assert.equal(hex(set([nullValue()])), "31020500");
    assert.equal(hex(explicit(0, integer(2))), "a003020102");
  });

  it("writes INTEGERs in minimal two's complement, with a leading 00 when the top bit is set", () => {
    const cases: [bigint | number | string, string][] = [
      [0, "020100"],
      [127, "02017f"],
      [128, "02020080"],
      [255, "020200ff"],
      [256, "02020100"],
      [-1, "0201ff"],
      [-128, "020180"],
      [-129, "0202ff7f"],
      [0x10001n, "0203010001"],
      ["ff", "020200ff"], // hex: an unsigned magnitude
      ["00ff", "020200ff"], // a serial's DER content comes back as itself
      ["000001", "020101"],
      ["7f" + "ee".repeat(15), "0210" + "7f" + "ee".repeat(15)],
      ["00" + "80".repeat(16), "0211" + "00" + "80".repeat(16)],
    ];
    for (const [value, der] of cases) {
      assert.equal(hex(integer(value)), der, String(value));
      assert.equal(hex(parseDer(bytes(der)).raw), der);
    }
    assert.throws(() => integer("xyz"), DerError);
  });

  it("encodes and decodes OIDs with multi-byte arcs", () => {
    const cases: [string, string][] = [
      ["1.2.840.113549.1.1.11", "2a864886f70d01010b"],
      ["2.5.29.37", "551d25"],
      ["1.3.6.1.5.5.7.3.2", "2b06010505070302"],
      ["2.5.4.3", "550403"],
      ["1.3.101.112", "2b6570"],
      ["2.999.3", "8837 03"], // a first arc of 2 takes any second arc
      ["2.25.329800735698586629295641978511506172918", "6983f09da7ebcfdee0c7a1a7b2c0948cc8f9d776"],
    ];
    for (const [dotted, content] of cases) {
      assert.equal(hex(parseDer(oid(dotted)).content), content.replace(/ /g, ""), dotted);
      assert.equal(decodeOid(bytes(content)), dotted);
      assert.equal(decodeOid(parseDer(oid(dotted)).content), dotted);
    }
    for (const bad of ["1", "1.40", "3.1", "1..2", "a.b"]) assert.throws(() => oid(bad), DerError, bad);
    assert.throws(() => decodeOid(bytes("2a86")), /mid-arc/);
    assert.throws(() => decodeOid(bytes("2a8001")), /minimally/);
    assert.throws(() => decodeOid(Buffer.alloc(0)), /empty/);
    // no certificate needs a longer one; the 400 that names a CSR's algorithm OID stays short
    assert.equal(decodeOid(Buffer.concat([bytes("2a"), Buffer.alloc(63, 1)])).split(".").length, 65);
    assert.throws(() => decodeOid(Buffer.concat([bytes("2a"), Buffer.alloc(64, 1)])), /longer than 64 bytes/);
  });

  it("writes named bits with trailing zero bits trimmed (KeyUsage)", () => {
    assert.equal(hex(namedBits([5])), "03020204"); // keyCertSign
    assert.equal(hex(namedBits([0, 2])), "030205a0"); // digitalSignature, keyEncipherment
    assert.equal(hex(namedBits([8])), "0303070080"); // decipherOnly
    assert.equal(hex(namedBits([])), "030100");
  });

  it("writes times as forge did: UTCTime for 1950-2049, GeneralizedTime otherwise", () => {
    const d = (iso: string) => new Date(iso);
    assert.equal(time(d("2030-05-31T12:00:00.900Z")).toString("latin1").slice(2), "300531120000Z");
    assert.equal(time(d("2050-01-01T00:00:00Z")).toString("latin1").slice(2), "20500101000000Z");
    assert.equal(time(d("2049-12-31T23:59:59Z"))[0], Tag.UTC_TIME);
    assert.equal(time(d("1950-01-01T00:00:00Z"))[0], Tag.UTC_TIME);
    assert.equal(time(d("2050-01-01T00:00:00Z"))[0], Tag.GENERALIZED_TIME);
    assert.equal(time(d("1949-12-31T23:59:59Z"))[0], Tag.GENERALIZED_TIME);
  });

  it("uses the long length form only from 128 bytes, minimally", () => {
    assert.equal(hex(octetString(Buffer.alloc(127))).slice(0, 4), "047f");
    assert.equal(hex(octetString(Buffer.alloc(128))).slice(0, 6), "048180");
    assert.equal(hex(octetString(Buffer.alloc(256))).slice(0, 8), "04820100");
    assert.equal(hex(octetString(Buffer.alloc(70000))).slice(0, 10), "0483011170");
  });
});

describe("DER reader", () => {
  it("round-trips what the writer makes, byte for byte, keeping each node's raw bytes", () => {
    const der = sequence([
      integer(5),
      explicit(3, sequence([oid("2.5.29.19"), boolean(true), octetString(sequence([]))])),
      set([sequence([oid("2.5.4.3"), utf8String("k8s_bay-1")])]),
      bitString(bytes("00ff")),
      octetString(Buffer.alloc(300, 7)),
      nullValue(),
      time(new Date("2060-01-01T00:00:00Z")),
    ]);
    const root = parseDer(der);
    assert.ok(root.raw.equals(der));
    assert.equal(root.tagClass, TagClass.UNIVERSAL);
    assert.equal(root.tag, Tag.SEQUENCE);
    assert.ok(root.constructed);
    assert.equal(root.children.length, 7);
    assert.ok(sequence(root.children.map((c) => c.raw)).equals(der), "children's raw bytes rebuild the whole");
    const [int, ext, name] = root.children;
    assert.equal(hex(int.content), "05");
    assert.equal(ext.tagClass, TagClass.CONTEXT);
    assert.equal(ext.tag, 3);
    assert.equal(decodeOid(ext.children[0].children[0].content), "2.5.29.19");
    assert.equal(name.children[0].children[1].content.toString("utf8"), "k8s_bay-1");
    assert.equal(root.children[4].content.length, 300);
    assert.equal(root.children[6].tag, Tag.GENERALIZED_TIME);
    // a Uint8Array is read as well as a Buffer
    assert.ok(parseDer(new Uint8Array(der)).raw.equals(der));
  });

  it("refuses indefinite lengths", () => refuses("3080 0500 0000", /indefinite/));

  it("refuses lengths that are not minimally encoded", () => {
    refuses("04 8101 00", /not minimally/);
    refuses("04 820005 0102030405", /not minimally/);
    refuses("04 85 0000000001 00", /too large/);
  });

  it("refuses trailing bytes, after the element or inside a constructed one", () => {
    refuses("0500 00", /1 trailing byte/);
    refuses("3003 0500 00", /truncated/);
  });

  it("refuses truncated input", () => {
    refuses("", /no bytes/);
    refuses("30", /truncated/);
    refuses("3005 0500", /truncated.*needs 5/);
    refuses("04 82 01", /truncated/);
    const whole = sequence([integer(1), octetString(Buffer.alloc(200))]);
    for (let n = 1; n < whole.length; n += 13) refuses(whole.subarray(0, n), /truncated/);
  });

  it("refuses nesting deeper than the limit, and multi-byte tags", () => {
    let nested: Buffer = nullValue();
    for (let i = 1; i < DER_LIMITS.depth; i++) nested = sequence([nested]);
    assert.equal(parseDer(nested).tag, Tag.SEQUENCE, `${DER_LIMITS.depth} levels are read`);
    refuses(sequence([nested]), /nested more than 16/);
    refuses(sequence([sequence([nullValue()])]), /nested more than 2/, 2);
    refuses("1f8101 00", /multi-byte tag/);
  });

  it("bounds what no certificate needs: OIDs of more than 64 bytes, more than 4096 elements", () => {
    // the OID of the issue: 48 KB of arc bytes, now refused by its length before any decoding
    refuses(Buffer.concat([bytes("0682 bb80"), Buffer.alloc(0xbb80 - 1, 0x81), bytes("01")]), /OBJECT IDENTIFIER at byte 0 is 48000 bytes long, more than 64/);
    assert.equal(parseDer(sequence([oid(`1.2.${"1.".repeat(61)}1`)])).children.length, 1, "64 bytes are read");
    const many = (n: number) => sequence(Array.from({ length: n }, () => nullValue()));
    assert.equal(parseDer(many(DER_LIMITS.elements - 1)).children.length, DER_LIMITS.elements - 1);
    refuses(many(DER_LIMITS.elements), /more than 4096 elements/);
  });
});

describe("PEM", () => {
  const der = sequence([octetString(Buffer.alloc(100, 0xab))]);

  it("writes 64-column base64 lines with LF endings, and reads them back", () => {
    const pem = pemEncode("CERTIFICATE REQUEST", der);
    const lines = pem.split("\n");
    assert.equal(lines[0], "-----BEGIN CERTIFICATE REQUEST-----");
    assert.equal(lines[1].length, 64);
    assert.equal(lines.at(-2), "-----END CERTIFICATE REQUEST-----");
    assert.equal(lines.at(-1), "", "ends with a newline");
    assert.doesNotMatch(pem, /\r/);
    assert.ok(pemDecode(pem, "CERTIFICATE REQUEST").equals(der));
    assert.ok(pemDecode(pem.replace(/\n/g, "\r\n"), "CERTIFICATE REQUEST").equals(der), "CRLF is read too");
  });

  it("finds the block of the type asked for among others, with its headers", () => {
    const encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    const text = `junk\n${encrypted}${pemEncode("CERTIFICATE", der)}trailing`;
    const blocks = pemBlocks(text);
    assert.deepEqual(blocks.map((b) => b.type), ["RSA PRIVATE KEY", "CERTIFICATE"]);
    assert.equal(blocks[0].headers["Proc-Type"], "4,ENCRYPTED");
    assert.ok(pemDecode(text, "CERTIFICATE").equals(der));
    assert.throws(() => pemDecode(text, "CERTIFICATE REQUEST"), /no "CERTIFICATE REQUEST" PEM block/);
  });

  it("refuses invalid base64 and a block without its END line", () => {
    const pem = pemEncode("CERTIFICATE", der);
    assert.throws(() => pemBlocks(pem.replace("-----END CERTIFICATE-----", "")), /no END line/);
    assert.throws(() => pemBlocks(pem.replace(/\n(.)/, "\né")), /not valid base64/);
    assert.throws(() => pemBlocks(pem.replace(/\n(.)(.)/, "\n$1=")), /not valid base64/);
    assert.throws(() => pemBlocks(pem.replace(/\n(.)/, "\n")), /not valid base64/, "a character short");
    assert.throws(() => pemBlocks(pem.replaceAll("CERTIFICATE", "X".repeat(65))), (e: unknown) => e instanceof DerError && !e.message.includes("XXX"));
  });
});

describe("certificates from generateBayCertificates", () => {
  let dir: string;
  let certs: BayCertificates;
  const write = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const openssl = (...args: string[]): string => execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "bayforge-der-"));
    certs = await generateBayCertificates({ bayUuid: "5d12f6fd-a196-4bf0-ae4c-1f639a523a52", bayName: "der-bay" });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("are read by openssl x509 and verify against the CA with openssl verify", () => {
    const ca = write("ca.pem", certs.caCertPem);
    const client = write("client.pem", certs.clientCertPem);
    for (const path of [ca, client]) assert.match(openssl("x509", "-noout", "-text", "-in", path), /Version: 3 \(0x2\)/);
    assert.equal(openssl("verify", "-CAfile", ca, client).trim(), `${client}: OK`);
    assert.equal(openssl("verify", "-CAfile", ca, ca).trim(), `${ca}: OK`);
  });

  it("are DER that node:crypto re-exports unchanged, and that parses back to the same bytes", () => {
    for (const pem of [certs.caCertPem, certs.clientCertPem]) {
      const der = pemDecode(pem, "CERTIFICATE");
      assert.ok(new X509Certificate(pem).raw.equals(der));
      assert.ok(parseDer(der).raw.equals(der));
      assert.equal(pemEncode("CERTIFICATE", der), pem);
    }
  });

  it("carry the subject key identifier as SHA-1 of the public key's bits (RFC 5280 method 1)", () => {
    const text = openssl("x509", "-noout", "-text", "-in", write("ski.pem", certs.caCertPem));
    const ski = text.split("\n")[text.split("\n").findIndex((l) => l.includes("Subject Key Identifier")) + 1].trim();
    // openssl's own computation of the same identifier, from the public key alone
    const pubkeyDer = execFileSync("openssl", ["x509", "-noout", "-pubkey", "-in", join(dir, "ski.pem")], { cwd: dir });
    const spki = parseDer(pemDecode(pubkeyDer.toString("utf8"), "PUBLIC KEY"));
    const sha1 = execFileSync("openssl", ["dgst", "-sha1", "-binary"], { input: spki.children[1].content.subarray(1) });
    assert.equal(ski.replace(/:/g, "").toLowerCase(), sha1.toString("hex"));
  });
});
