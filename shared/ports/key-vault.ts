// Encrypts secrets (CA private keys, trust passwords) before they reach the table.
// Local: AES-256-GCM with a key file; AWS: a KMS data key (envelope encryption).

export interface KeyVault {
  /** `context` (e.g. the bay uuid) is bound as additional authenticated data. */
  encrypt(plaintext: string, context: string): Promise<string>;
  decrypt(ciphertext: string, context: string): Promise<string>;
}

/** A secret could not be decrypted, or the key cannot be used. Never carries key material. */
export class KeyVaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyVaultError";
  }
}
