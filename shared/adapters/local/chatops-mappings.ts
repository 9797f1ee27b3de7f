// Chat-ops mappings on the embedded SQLite file, written by `bayforge chatops map` (an operator,
// on the machine holding the data dir) and read by the webhook and the worker of `npm start`.
// The application credential's secret is stored only encrypted with the key vault, bound to
// its mapping's key (a ciphertext copied to another mapping's row does not decrypt).
import type { ChatOpsMapping, ChatOpsMappings, MappingCredential } from "../../ports/chatops-mappings.ts";
import type { KeyVault } from "../../ports/key-vault.ts";
import { durable, type SqliteDatabase } from "./sqlite.ts";

interface Doc extends ChatOpsMapping {
  app_credential_secret_encrypted: string | null;
}

/** The vault context of a mapping's application credential secret. */
export const mappingContext = (key: string) => `chatops:${key}:app-credential`;

export class SqliteChatOpsMappings implements ChatOpsMappings {
  private readonly sql;

  constructor(private readonly db: SqliteDatabase, private readonly vault: KeyVault) {
    this.sql = {
      get: db.prepare<[string], { doc: string }>(`SELECT doc FROM chatops_mappings WHERE key = ?`),
      list: db.prepare<[], { doc: string }>(`SELECT doc FROM chatops_mappings ORDER BY key`),
      put: db.prepare<[string, string, string]>(
        `INSERT INTO chatops_mappings (key, doc, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET doc = excluded.doc`,
      ),
      remove: db.prepare<[string]>(`DELETE FROM chatops_mappings WHERE key = ?`),
    };
  }

  async get(key: string): Promise<ChatOpsMapping | undefined> {
    const d = this.doc(key);
    return d && view(d);
  }

  async list(): Promise<ChatOpsMapping[]> {
    return this.sql.list.all().map((r) => view(JSON.parse(r.doc) as Doc));
  }

  async credential(key: string): Promise<MappingCredential | undefined> {
    const d = this.doc(key);
    if (d?.trust_id) return { kind: "trust", trust_id: d.trust_id, project_id: d.project_id };
    if (!d?.app_credential_id || !d.app_credential_secret_encrypted) return undefined;
    return { kind: "application_credential", id: d.app_credential_id, secret: await this.vault.decrypt(d.app_credential_secret_encrypted, mappingContext(key)), project_id: d.project_id };
  }

  /** Adds or replaces a mapping (checked by the caller with Keystone first). */
  async put(m: ChatOpsMapping, secret: string | null, now = new Date()): Promise<void> {
    const doc: Doc = { ...m, app_credential_secret_encrypted: secret ? await this.vault.encrypt(secret, mappingContext(m.key)) : null };
    await durable(this.db, () => this.sql.put.run(m.key, JSON.stringify(doc), now.toISOString()));
  }

  async remove(key: string): Promise<boolean> {
    return (await durable(this.db, () => this.sql.remove.run(key))).changes === 1;
  }

  private doc(key: string): Doc | undefined {
    const r = this.sql.get.get(key);
    return r ? (JSON.parse(r.doc) as Doc) : undefined;
  }
}

const view = (d: Doc): ChatOpsMapping => ({ key: d.key, project_id: d.project_id, app_credential_id: d.app_credential_id, trust_id: d.trust_id ?? null, allow: d.allow });
