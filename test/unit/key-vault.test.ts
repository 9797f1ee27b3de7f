// The local key vault: secrets round-trip under their context, fail loudly (and without key
// material) under anything else, and the master key file is private and shared by instances.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { KeyVaultError, LocalKeyVault, MASTER_KEY_FILE_ENV } from "../../shared/adapters/local/key-vault.ts";

const BAY = "5d12f6fd-a196-4bf0-ae4c-1f639a523a52";
const OTHER_BAY = "0b6f2c1e-3d4a-4e5f-8a9b-0c1d2e3f4a5b";
const SECRET = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";

let dir: string;
let n = 0;
const freshDir = (): string => join(dir, `data-${n++}`);

/** Every form the master key could leak in: raw bytes as text, hex, base64. */
function keyForms(keyFile: string): string[] {
  const key = readFileSync(keyFile);
  return [key.toString("hex"), key.toString("base64"), key.toString("base64url"), key.toString("latin1")];
}
function assertNoKeyMaterial(text: string, keyFile: string): void {
  for (const form of keyForms(keyFile)) assert.ok(!text.includes(form), "the key must not appear in errors or output");
}
/** Replaces one base64 character of part `index` (1 = iv, 2 = tag, 3 = data) of a v1 ciphertext. */
function tamper(ciphertext: string, index: number): string {
  const parts = ciphertext.split(":");
  const p = parts[index];
  parts[index] = (p[0] === "A" ? "B" : "A") + p.slice(1);
  return parts.join(":");
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "bayforge-vault-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("LocalKeyVault", () => {
  let vault: LocalKeyVault;
  before(async () => {
    vault = await LocalKeyVault.forDataDir(freshDir(), {});
  });

  it("decrypts what it encrypted, for the same context", async () => {
    for (const plaintext of [SECRET, "", "pässwörd ✓ 🔑", "x".repeat(100_000)]) {
      assert.equal(await vault.decrypt(await vault.encrypt(plaintext, BAY), BAY), plaintext);
    }
  });

  it("writes v1:<iv>:<tag>:<data> with a fresh iv each time, and no plaintext in it", async () => {
    const a = await vault.encrypt(SECRET, BAY);
    const b = await vault.encrypt(SECRET, BAY);
    assert.notEqual(a, b);
    for (const c of [a, b]) {
      assert.match(c, /^v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{22}==:[A-Za-z0-9+/]+=*$/);
      assert.ok(!c.includes("PRIVATE KEY") && !c.includes(Buffer.from(SECRET).toString("base64").slice(0, 20)));
    }
    assert.notEqual(a.split(":")[1], b.split(":")[1], "ivs differ");
  });

  it("refuses to decrypt under another context, naming the cause but no key material", async () => {
    const c = await vault.encrypt(SECRET, BAY);
    await assert.rejects(vault.decrypt(c, OTHER_BAY), (e: unknown) => {
      assert.ok(e instanceof KeyVaultError);
      assert.match(e.message, /cannot decrypt the secret for "0b6f2c1e-.*": it was altered, or encrypted for another context/);
      assertNoKeyMaterial(`${e.message}\n${e.stack}\n${inspect(e)}`, vault.keyFile);
      assert.ok(!e.message.includes(SECRET));
      return true;
    });
  });

  it("refuses tampered data, tag or iv, and strings that are not v1 ciphertexts", async () => {
    const c = await vault.encrypt(SECRET, BAY);
    for (const bad of [tamper(c, 1), tamper(c, 2), tamper(c, 3)]) {
      await assert.rejects(vault.decrypt(bad, BAY), /it was altered/);
    }
    for (const bad of ["", "v1:abc", "v2" + c.slice(2), c.replace(/:[^:]+$/, ":@@@"), `${c}:extra`, c.replace(/^v1:[^:]+/, "v1:AAAA")]) {
      await assert.rejects(vault.decrypt(bad, BAY), (e: unknown) => {
        assert.ok(e instanceof KeyVaultError, String(e));
        assert.match(e.message, /not a v1:<iv>:<tag>:<data> ciphertext|wrong length/);
        return true;
      });
    }
  });

  it("refuses data encrypted under another key file", async () => {
    const other = await LocalKeyVault.fromFile(join(freshDir(), "master.key"));
    const c = await other.encrypt(SECRET, BAY);
    await assert.rejects(vault.decrypt(c, BAY), (e: unknown) => {
      assert.ok(e instanceof KeyVaultError);
      assert.match(e.message, /or with another master key than .*master\.key/);
      assertNoKeyMaterial(e.message, vault.keyFile);
      assertNoKeyMaterial(e.message, other.keyFile);
      return true;
    });
  });

  it("keeps the key out of inspect() and JSON", () => {
    const shown = `${inspect(vault, { showHidden: true, depth: 10 })}\n${JSON.stringify(vault)}`;
    assertNoKeyMaterial(shown, vault.keyFile);
  });
});

describe("LocalKeyVault key file", () => {
  it("creates <dataDir>/master.key: 32 bytes, mode 0600, no temporary left behind", async () => {
    const data = freshDir();
    const vault = await LocalKeyVault.forDataDir(data, {});
    assert.equal(vault.keyFile, join(data, "master.key"));
    const st = statSync(vault.keyFile);
    assert.equal(st.size, 32);
    assert.equal(st.mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(data), ["master.key"]);
  });

  it("reuses an existing key file across instances", async () => {
    const data = freshDir();
    const first = await LocalKeyVault.forDataDir(data, {});
    const key = readFileSync(first.keyFile);
    const c = await first.encrypt(SECRET, BAY);
    const second = await LocalKeyVault.forDataDir(data, {});
    assert.deepEqual(readFileSync(second.keyFile), key, "the key file was not replaced");
    assert.equal(await second.decrypt(c, BAY), SECRET);
  });

  it("lets concurrent first starts agree on one key", async () => {
    const path = join(freshDir(), "master.key");
    const vaults = await Promise.all(Array.from({ length: 8 }, () => LocalKeyVault.fromFile(path)));
    const c = await vaults[3].encrypt(SECRET, BAY);
    for (const v of vaults) assert.equal(await v.decrypt(c, BAY), SECRET);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it(`uses the file named by ${MASTER_KEY_FILE_ENV}, which must exist`, async () => {
    const named = join(dir, "named.key");
    const data = freshDir();
    await assert.rejects(LocalKeyVault.forDataDir(data, { [MASTER_KEY_FILE_ENV]: named }), (e: unknown) => {
      assert.ok(e instanceof KeyVaultError);
      assert.match(e.message, /named\.key does not exist; create one with `head -c 32 \/dev\/urandom/);
      return true;
    });
    writeFileSync(named, Buffer.alloc(32, 7), { mode: 0o600 });
    const vault = await LocalKeyVault.forDataDir(data, { [MASTER_KEY_FILE_ENV]: named });
    assert.equal(vault.keyFile, named);
    const same = await LocalKeyVault.fromFile(named);
    assert.equal(await same.decrypt(await vault.encrypt("s", BAY), BAY), "s");
  });

  it("refuses a key file that is not exactly 32 bytes, without echoing its content", async () => {
    const path = join(dir, "short.key");
    writeFileSync(path, "0123456789abcdef0123456789abcdef\n");
    await assert.rejects(LocalKeyVault.fromFile(path), (e: unknown) => {
      assert.ok(e instanceof KeyVaultError);
      assert.match(e.message, /holds 33 bytes; a master key is exactly 32 random bytes/);
      assert.ok(!e.message.includes("0123456789abcdef"));
      return true;
    });
  });
});
