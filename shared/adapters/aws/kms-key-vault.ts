// The KeyVault port on AWS KMS, by envelope encryption: a container asks KMS for one data
// key (GenerateDataKey, AES_256) the first time it encrypts, encrypts every secret locally
// with it (AES-256-GCM, random 96-bit IV, the secret's context as additional authenticated
// data, as the local vault does), and stores the KMS-encrypted data key with each ciphertext:
//
//   kms1:<encrypted data key>:<iv>:<tag>:<ciphertext>     (each part base64)
//
// Decrypting asks KMS to decrypt the data key once per container and data key: decrypted
// keys are kept in a small LRU cache (and the container's own key is in it from the start),
// so N secrets of one writer cost one KMS call. Plain data keys live only in memory.
//
// KMS binds every data key to an encryption context (default {service: "bayforge",
// purpose: "key-vault"}), which CloudTrail records and key policies can require.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { KeyVaultError, type KeyVault } from "../../ports/key-vault.ts";

export { KeyVaultError };

export const KMS_FORMAT = "kms1";
export const DEFAULT_KMS_CONTEXT: Readonly<Record<string, string>> = Object.freeze({ service: "bayforge", purpose: "key-vault" });

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** AES-GCM with random IVs stays far from its limits well below 2^32 messages per key. */
const DEFAULT_MAX_USES = 1_000_000;

export interface KmsKeyVaultOptions {
  client: KMSClient;
  /** key id, ARN, alias name or alias ARN of the KMS key that wraps the data keys */
  keyId: string;
  /** KMS encryption context of every data key (must be the same for decrypt) */
  encryptionContext?: Record<string, string>;
  /** decrypted data keys kept per container (default 64) */
  cacheSize?: number;
  /** encryptions with one data key before a new one is generated (default 1,000,000) */
  maxUsesPerDataKey?: number;
}

interface DataKey {
  key: KeyObject;
  /** base64 of KMS's CiphertextBlob */
  wrapped: string;
  uses: number;
}

export class KmsKeyVault implements KeyVault {
  readonly #client: KMSClient;
  readonly #keyId: string;
  readonly #context: Record<string, string>;
  readonly #cacheSize: number;
  readonly #maxUses: number;
  #current: Promise<DataKey> | undefined;
  /** wrapped data key (base64) → its plain key; Map order is recency (LRU) */
  readonly #cache = new Map<string, Promise<KeyObject>>();

  constructor(o: KmsKeyVaultOptions) {
    if (!o.keyId) throw new TypeError("KmsKeyVault needs a KMS key id");
    this.#client = o.client;
    this.#keyId = o.keyId;
    this.#context = { ...(o.encryptionContext ?? DEFAULT_KMS_CONTEXT) };
    this.#cacheSize = Math.max(1, o.cacheSize ?? 64);
    this.#maxUses = Math.max(1, o.maxUsesPerDataKey ?? DEFAULT_MAX_USES);
  }

  async encrypt(plaintext: string, context: string): Promise<string> {
    const dk = await this.#dataKey();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", dk.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, "utf8"));
    const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [KMS_FORMAT, dk.wrapped, iv.toString("base64"), cipher.getAuthTag().toString("base64"), data.toString("base64")].join(":");
  }

  async decrypt(ciphertext: string, context: string): Promise<string> {
    const parts = typeof ciphertext === "string" ? ciphertext.split(":") : [];
    if (parts.length !== 5 || parts[0] !== KMS_FORMAT || !parts.slice(1).every((p, i) => BASE64.test(p) || (i === 3 && p === ""))) {
      const hint = parts[0] === "v1" ? " (it is a local key-file ciphertext, not a KMS one)" : "";
      throw new KeyVaultError(`cannot decrypt the secret for "${context}": it is not a ${KMS_FORMAT}:<data key>:<iv>:<tag>:<data> ciphertext${hint}`);
    }
    const [, wrapped, ivB64, tagB64, dataB64] = parts;
    const iv = Buffer.from(ivB64, "base64");
    const tag = Buffer.from(tagB64, "base64");
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
      throw new KeyVaultError(`cannot decrypt the secret for "${context}": its iv or tag has the wrong length`);
    const key = await this.#unwrap(wrapped, context);
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(Buffer.from(dataB64, "base64")), decipher.final()]).toString("utf8");
    } catch {
      throw new KeyVaultError(`cannot decrypt the secret for "${context}": it was altered, or encrypted for another context`);
    }
  }

  /** The container's data key: generated on first use, replaced after maxUsesPerDataKey. */
  async #dataKey(): Promise<DataKey> {
    for (;;) {
      const current = (this.#current ??= this.#generate());
      let dk: DataKey;
      try {
        dk = await current;
      } catch (e) {
        // a failed KMS call is not remembered: the next encrypt asks again
        if (this.#current === current) this.#current = undefined;
        throw e;
      }
      if (dk.uses < this.#maxUses) {
        dk.uses++;
        return dk;
      }
      if (this.#current === current) this.#current = undefined;
    }
  }

  async #generate(): Promise<DataKey> {
    const out = await this.#client.send(new GenerateDataKeyCommand({ KeyId: this.#keyId, KeySpec: "AES_256", EncryptionContext: this.#context }));
    if (!out.Plaintext || !out.CiphertextBlob || out.Plaintext.length !== KEY_BYTES)
      throw new KeyVaultError(`KMS GenerateDataKey for ${this.#keyId} returned no usable AES-256 data key`);
    const plain = Buffer.from(out.Plaintext);
    const key = createSecretKey(plain);
    plain.fill(0);
    out.Plaintext.fill(0);
    const wrapped = Buffer.from(out.CiphertextBlob).toString("base64");
    this.#remember(wrapped, Promise.resolve(key));
    return { key, wrapped, uses: 0 };
  }

  /** The plain data key of a stored ciphertext: from the cache, else one KMS Decrypt. */
  #unwrap(wrapped: string, context: string): Promise<KeyObject> {
    const hit = this.#cache.get(wrapped);
    if (hit) {
      this.#cache.delete(wrapped);
      this.#cache.set(wrapped, hit);
      return hit;
    }
    const p = (async () => {
      let out;
      try {
        out = await this.#client.send(new DecryptCommand({ CiphertextBlob: Buffer.from(wrapped, "base64"), KeyId: this.#keyId, EncryptionContext: this.#context }));
      } catch (e) {
        const name = (e as Error)?.name ?? "Error";
        if (name === "InvalidCiphertextException" || name === "IncorrectKeyException")
          throw new KeyVaultError(`cannot decrypt the secret for "${context}": KMS refused its data key (${name}): it was altered, or wrapped by another KMS key or encryption context`);
        throw e; // KMS unreachable, throttled, access denied: not the ciphertext's fault
      }
      if (!out.Plaintext || out.Plaintext.length !== KEY_BYTES)
        throw new KeyVaultError(`cannot decrypt the secret for "${context}": KMS returned no AES-256 data key`);
      const plain = Buffer.from(out.Plaintext);
      const key = createSecretKey(plain);
      plain.fill(0);
      out.Plaintext.fill(0);
      return key;
    })();
    this.#remember(wrapped, p);
    // a failed unwrap is not cached: a transient KMS error must not stick
    p.catch(() => {
      if (this.#cache.get(wrapped) === p) this.#cache.delete(wrapped);
    });
    return p;
  }

  #remember(wrapped: string, key: Promise<KeyObject>): void {
    this.#cache.set(wrapped, key);
    while (this.#cache.size > this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
  }
}
