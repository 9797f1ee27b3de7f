// The worker's RSA key pool: a bay's two key pairs are taken ready-made, each pair is used once,
// the pool makes more for the next bay, and a size it does not hold is made on demand.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, X509Certificate } from "node:crypto";
import { generateBayCertificates, RsaKeyPool } from "../../shared/certs/bay-ca.ts";

const modulusBits = (spki: Buffer) => createPublicKey({ key: spki, format: "der", type: "spki" }).asymmetricKeyDetails?.modulusLength;

describe("RSA key pool", () => {
  it("hands out distinct ready-made pairs and refills to its size", async () => {
    const pool = new RsaKeyPool(2, 2048);
    assert.equal(pool.pending, 2);
    const [a, b] = await Promise.all([pool.take(2048), pool.take(2048)]);
    assert.notEqual(a.privateKeyPem, b.privateKeyPem, "each pair is used once");
    assert.equal(modulusBits(a.spki), 2048);
    await new Promise((r) => setImmediate(r));
    assert.equal(pool.pending, 2, "refilled for the next bay");
    const c = await pool.take(2048);
    assert.ok(![a.privateKeyPem, b.privateKeyPem].includes(c.privateKeyPem));
  });

  it("makes a size it does not pool on demand, leaving the pool as it was", async () => {
    const pool = new RsaKeyPool(1, 2048);
    const big = await pool.take(3072);
    assert.equal(modulusBits(big.spki), 3072);
    assert.equal(pool.pending, 1);
  });

  it("a bay's certificates from pooled keys: the CA's key signs the client certificate", async () => {
    const pool = new RsaKeyPool(2, 2048);
    const made = await generateBayCertificates({ bayUuid: "0b6c2a4e-1d1e-4d7a-9c1e-000000000001", bayName: "pooled", keyPair: pool.take });
    const ca = new X509Certificate(made.caCertPem);
    const client = new X509Certificate(made.clientCertPem);
    assert.ok(client.verify(ca.publicKey), "signed by the CA");
    assert.notEqual(made.caKeyPem, made.clientKeyPem);
  });
});
