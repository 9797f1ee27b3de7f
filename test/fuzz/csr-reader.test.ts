// Fuzzing the DER reader (shared/certs/der.ts) and the CSR reader on top of it
// (shared/certs/csr.ts), which parse what anyone holding a bay's bootstrap token sends: random
// bytes, mutated DER of real requests and certificates, and hostile shapes at the size cap
// (a 48 KB OID, thousands of elements, deep nesting, huge declared lengths). For every input:
// only the codec's own DerError comes out of the reader, only a 400 out of the CSR reader and
// the signer; whatever parses stays within DER_LIMITS; and each input costs little: CPU time
// (not wall-clock time, which a loaded machine stretches) is measured per input and bounded
// some 25 times above the worst seen (about 10 ms, a 50 KB input with a GC). FUZZ_SEED / FUZZ_SCALE: see support/runs.ts.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fuzzParams } from "./support/runs.ts";
import { buildCsr, makeKeys, name, type Keys } from "./support/csr-builder.ts";
import { decodeOid, DER_LIMITS, DerError, nullValue, octetString, oid, parseDer, sequence, Tag, TagClass, type DerNode } from "../../shared/certs/der.ts";
import { pemEncode } from "../../shared/certs/pem.ts";
import { parseCsr } from "../../shared/certs/csr.ts";
import { signCsr } from "../../shared/certs/sign-csr.ts";
import { generateBayCertificates, type BayCertificates } from "../../shared/certs/bay-ca.ts";
import { ApiError } from "../../shared/domain/errors.ts";

/** CPU milliseconds one input may take; the largest inputs here take 2 to 10 ms. */
const CPU_MS_PER_INPUT = 250;
const worst = { ms: 0, bytes: 0 };

let keys: Keys[];
let bay: BayCertificates;
/** DER a mutation starts from: requests of each key type, and the bay's certificates. */
let seeds: Buffer[];

before(async () => {
  keys = makeKeys();
  bay = await generateBayCertificates({ bayUuid: "5d12f6fd-a196-4bf0-ae4c-1f639a523a52", bayName: "fuzz" });
  const subject = name([[{ type: "O", value: "system:nodes" }], [{ type: "CN", value: "system:node:fuzz-minion-0" }]]);
  const extensions = [
    { oid: "2.5.29.15", critical: true, value: Buffer.from("03020780", "hex") },
    { oid: "2.5.29.17", value: sequence([Buffer.from("820466757a7a", "hex")]) },
    { oid: "2.5.29.19", value: sequence([]) },
  ];
  seeds = [
    ...keys.map((k) => buildCsr(k, subject, extensions).der),
    Buffer.from(bay.caCertPem.split("\n").slice(1, -2).join(""), "base64"),
    Buffer.from(bay.clientCertPem.split("\n").slice(1, -2).join(""), "base64"),
  ];
});

/** Runs `f` on one input, keeping the CPU time it took; fails if it took more than the bound. */
function timed<T>(input: Uint8Array, f: () => T): T {
  const start = process.cpuUsage();
  try {
    return f();
  } finally {
    const used = process.cpuUsage(start);
    const ms = (used.user + used.system) / 1000;
    if (ms > worst.ms) Object.assign(worst, { ms, bytes: input.length });
    assert.ok(ms < CPU_MS_PER_INPUT, `${ms} ms of CPU for a ${input.length}-byte input`);
  }
}

/** The reader's verdict: a tree within DER_LIMITS whose OIDs decode, or a DerError; nothing else. */
function readOnlyDerErrors(bytes: Uint8Array): void {
  let tree: DerNode;
  try {
    tree = timed(bytes, () => parseDer(bytes));
  } catch (e) {
    assert.ok(e instanceof DerError, `${(e as Error)?.stack ?? e}`);
    assert.ok((e as Error).message.length < 200, (e as Error).message);
    return;
  }
  let count = 0;
  const walk = (n: DerNode, depth: number): void => {
    count++;
    assert.ok(depth <= DER_LIMITS.depth);
    if (n.tagClass === TagClass.UNIVERSAL && n.tag === Tag.OID && !n.constructed) {
      assert.ok(n.content.length <= DER_LIMITS.oidBytes);
      try {
        decodeOid(n.content);
      } catch (e) {
        assert.ok(e instanceof DerError, String(e));
      }
    }
    for (const c of n.children) walk(c, depth + 1);
  };
  walk(tree, 1);
  assert.ok(count <= DER_LIMITS.elements);
}

/** The CSR reader and the signer on `der` as a PEM request: a certificate or a 400, never anything else. */
function signOrRefuse(der: Uint8Array): void {
  const pem = pemEncode("CERTIFICATE REQUEST", der);
  try {
    timed(der, () => signCsr({ caCertPem: bay.caCertPem, caKeyPem: bay.caKeyPem, csrPem: pem }));
  } catch (e) {
    assert.ok(e instanceof ApiError && e.status === 400, `${(e as Error)?.stack ?? e}`);
    assert.ok(e.detail.length < 600, e.detail);
  }
}

/** A mutation of DER: flip, overwrite, insert, delete, or repeat bytes, or rewrite a length octet. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0x30, 0x31, 0x06, 0x80, 0x81, 0x82, 0x84, 0x85, 0xff, 0x1f, 0xa0) }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant("repeat" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 128 }), times: fc.integer({ min: 1, max: 20 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(der: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(der);
  for (const m of ms) {
    const at = m.at % (b.length + 1);
    if (m.op === "flip" && b.length) b[at % b.length] ^= 1 << m.bit;
    else if (m.op === "set" && b.length) b[at % b.length] = m.byte;
    else if (m.op === "insert") b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else if (m.op === "delete") b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
    else if (m.op === "repeat") b = Buffer.concat([b.subarray(0, at), ...Array(m.times).fill(b.subarray(at, at + m.length)), b.subarray(at)]);
  }
  return b.subarray(0, 48 * 1024); // the size a 64 KiB PEM holds
}

/** Hostile shapes at the size cap: what a plain decoder spends its time on. */
const hostile: fc.Arbitrary<Buffer> = fc.oneof(
  // one long OID (the issue's: ~250 ms for 48 KB in a naive decoder), alone or as an algorithm
  fc.integer({ min: 65, max: 48_000 }).map((n) => Buffer.concat([Buffer.from([0x06, 0x82, n >> 8, n & 0xff]), Buffer.alloc(n - 1, 0xff), Buffer.from([0x01])])),
  fc.integer({ min: 65, max: 40_000 }).map((n) => sequence([sequence([sequence([Buffer.concat([Buffer.from([0x06, 0x82, n >> 8, n & 0xff]), Buffer.alloc(n, 0x81)])])])])),
  // thousands of elements, flat or nested
  fc.integer({ min: 1, max: 12_000 }).map((n) => sequence(Array.from({ length: n }, () => nullValue()))),
  fc.integer({ min: 1, max: 3_000 }).map((n) => Array.from({ length: n }).reduce<Buffer>((inner) => sequence([inner]), nullValue())),
  fc.integer({ min: 1, max: 4_000 }).map((n) => sequence(Array.from({ length: n }, (_, i) => oid(`1.2.${i}.${"9".repeat(i % 30 + 1)}`)))),
  // lengths that claim more than there is, or are not minimal
  fc.constantFrom("30 84 ffffffff 00", "30 83 00ffff", "04 80 0000", "30 81 05 0500", "06 00", "06 02 8080", "06 01 80").map((h) => Buffer.from(h.replace(/ /g, ""), "hex")),
  fc.integer({ min: 1, max: 40_000 }).map((n) => octetString(Buffer.alloc(n, 0x30))),
);

describe("the DER reader on hostile input", () => {
  it("random bytes: a tree within DER_LIMITS or a DerError, nothing else", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), readOnlyDerErrors), fuzzParams(3000));
  });

  it("DER of real requests and certificates, mutated: a tree within DER_LIMITS or a DerError", () => {
    fc.assert(fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 6 }), (pick, ms) => readOnlyDerErrors(mutate(seeds[pick % seeds.length], ms))), fuzzParams(3000));
  });

  it("hostile shapes at the size cap (long OIDs, many elements, deep nesting, huge lengths): a DerError or a bounded tree, cheaply", () => {
    fc.assert(fc.property(hostile, readOnlyDerErrors), fuzzParams(300));
  });
});

describe("the CSR reader and the signer on hostile input", () => {
  it("mutated requests and random bytes as a PEM request: a certificate or a 400, never another error", () => {
    const input = fc.oneof(
      fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([pick, ms]) => mutate(seeds[pick % keys.length], ms)),
      fc.uint8Array({ maxLength: 2048 }),
      hostile,
    );
    fc.assert(fc.property(input, signOrRefuse), fuzzParams(1500));
  });

  it("the unmutated seeds are read (the mutations start from valid requests)", () => {
    for (const der of seeds.slice(0, keys.length)) assert.ok(parseCsr(pemEncode("CERTIFICATE REQUEST", der)).subject);
  });

  it(`took at most ${CPU_MS_PER_INPUT} ms of CPU on any input`, (t) => {
    t.diagnostic(`worst input: ${worst.ms.toFixed(2)} ms of CPU for ${worst.bytes} bytes`);
    assert.ok(worst.ms < CPU_MS_PER_INPUT);
  });
});
