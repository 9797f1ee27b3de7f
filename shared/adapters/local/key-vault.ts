// The local KeyVault: AES-256-GCM under a 32-byte master key kept in a file, so that CA and
// client private keys reach the table only encrypted. Each secret is bound to its context
// (the bay uuid) as additional authenticated data: a ciphertext moved to another bay's row
// does not decrypt.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import { link, mkdir, open, readFile, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { KeyVaultError, type KeyVault } from "../../ports/key-vault.ts";

/** Names a key file to use instead of `<dataDir>/master.key`; it must exist. */
export const MASTER_KEY_FILE_ENV = "BAYFORGE_MASTER_KEY_FILE";
export const MASTER_KEY_FILE_NAME = "master.key";

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = "v1";
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export { KeyVaultError };

export class LocalKeyVault implements KeyVault {
  readonly #key: KeyObject;

  private constructor(key: Buffer, readonly keyFile: string) {
    this.#key = createSecretKey(key);
    key.fill(0);
  }

  /**
   * The vault for a data directory: the key file named by BAYFORGE_MASTER_KEY_FILE if that is
   * set (it must exist: a missing file named on purpose is an error, not a new key that could
   * decrypt nothing already stored), else `<dataDir>/master.key`, created on first use.
   */
  static forDataDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<LocalKeyVault> {
    const named = env[MASTER_KEY_FILE_ENV];
    return named
      ? LocalKeyVault.fromFile(named, { create: false })
      : LocalKeyVault.fromFile(join(dataDir, MASTER_KEY_FILE_NAME));
  }

  /**
   * The vault keyed by `path`, which holds exactly 32 random bytes. When the file is absent
   * and `create` is true (the default), a new key is written with mode 0600, atomically: a
   * concurrent process either creates the same file first, and then both use its key, or
   * waits for nothing and reads a complete file.
   */
  static async fromFile(path: string, { create = true }: { create?: boolean } = {}): Promise<LocalKeyVault> {
    let key = await readKeyFile(path);
    if (!key) {
      if (!create) {
        throw new KeyVaultError(
          `master key file ${path} does not exist; create one with ` +
            `\`head -c 32 /dev/urandom > ${path} && chmod 600 ${path}\`, or unset ${MASTER_KEY_FILE_ENV}`,
        );
      }
      key = await createKeyFile(path);
    }
    return new LocalKeyVault(key, path);
  }

  async encrypt(plaintext: string, context: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [FORMAT, iv.toString("base64"), tag.toString("base64"), ciphertext.toString("base64")].join(":");
  }

  async decrypt(ciphertext: string, context: string): Promise<string> {
    const parts = typeof ciphertext === "string" ? ciphertext.split(":") : [];
    const [format, iv, tag, data] = parts.map((p, i) => (i > 0 && BASE64.test(p) ? Buffer.from(p, "base64") : p));
    if (parts.length !== 4 || format !== FORMAT || !isBuffer(iv) || !isBuffer(tag) || !isBuffer(data)) {
      throw new KeyVaultError(`cannot decrypt the secret for "${context}": it is not a ${FORMAT}:<iv>:<tag>:<data> ciphertext`);
    }
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new KeyVaultError(`cannot decrypt the secret for "${context}": its iv or tag has the wrong length`);
    }
    const decipher = createDecipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8");
    } catch {
      throw new KeyVaultError(
        `cannot decrypt the secret for "${context}": it was altered, or encrypted for another context, ` +
          `or with another master key than ${this.keyFile}`,
      );
    }
  }
}

const isBuffer = (v: unknown): v is Buffer => Buffer.isBuffer(v);

/** The key in `path`, or undefined if there is no such file. */
async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let key: Buffer;
  try {
    key = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new KeyVaultError(`cannot read master key file ${path}: ${(e as Error).message}`);
  }
  if (key.length !== KEY_BYTES) {
    const size = key.length;
    key.fill(0);
    throw new KeyVaultError(
      `master key file ${path} holds ${size} bytes; a master key is exactly ${KEY_BYTES} random bytes ` +
        `(\`head -c 32 /dev/urandom > ${path}\`)`,
    );
  }
  return key;
}

/**
 * Writes a fresh key to a private temporary file, flushes it, then hard-links it into place:
 * link() never replaces an existing file, so if another process won the race its key is kept
 * and read back instead, and no reader ever sees a half-written key.
 */
async function createKeyFile(path: string): Promise<Buffer> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const key = randomBytes(KEY_BYTES);
  const file = await open(temporary, "wx", 0o600);
  try {
    await file.writeFile(key);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(temporary, path);
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new KeyVaultError(`cannot create master key file ${path}: ${(e as Error).message}`);
    }
    key.fill(0);
    const existing = await readKeyFile(path);
    if (!existing) throw new KeyVaultError(`master key file ${path} vanished while it was being created`);
    return existing;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}
