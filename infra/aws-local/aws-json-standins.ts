// Stand-ins for the two AWS services that have no local server here, KMS and Secrets Manager:
// one node:http server speaking their JSON protocol (awsJson1_1: POST /, X-Amz-Target names
// the operation, base64 for blobs, errors as {"__type", "message"}) to the real SDK clients
// the functions' adapters use (shared/adapters/aws). Only the operations those adapters call:
// KMS GenerateDataKey and Decrypt, Secrets Manager GetSecretValue. Request signatures are not
// checked (there is no IAM here).
//
// KMS stand-in: data keys are wrapped with AES-256-GCM under a per-key master key kept in
// the data dir (0600, so a restarted aws-local decrypts what it wrapped before), the
// encryption context bound as additional data, as KMS binds it: a different context or key
// gets InvalidCiphertextException / IncorrectKeyException, as from KMS.
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface StandinSecret {
  arn: string;
  name: string;
  /** the SecretString; a function is asked on every read (a file edited is a secret updated) */
  value: string | (() => string);
}

export interface StandinOptions {
  dataDir: string;
  /** KMS key ARNs the stand-in holds */
  keyArns: string[];
  secrets: StandinSecret[];
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Op = (input: Record<string, any>) => Record<string, unknown>;

export async function startAwsJsonStandins(o: StandinOptions): Promise<{ url: string; server: Server }> {
  const ops: Record<string, Op> = { ...kmsStandin(o), ...secretsManagerStandin(o) };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const target = String(req.headers["x-amz-target"] ?? "");
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
      res.end(JSON.stringify(body));
    };
    try {
      const op = ops[target];
      if (req.method !== "POST" || !op) throw new AwsError("UnknownOperationException", `the aws-local stand-in does not serve ${target || "this request"}`);
      reply(200, op(chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {}));
    } catch (e) {
      const err = e instanceof AwsError ? e : new AwsError("InternalFailure", (e as Error).message, 500);
      reply(err.status, { __type: err.type, message: err.message });
    }
  });
  await new Promise<void>((ok, no) => {
    server.once("error", no);
    server.listen(0, "127.0.0.1", () => ok());
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const MAGIC = Buffer.from("bfkms1");

function kmsStandin(o: StandinOptions): Record<string, Op> {
  const file = join(o.dataDir, "kms-standin-keys.json");
  const stored: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  for (const arn of o.keyArns) stored[arn] ??= randomBytes(32).toString("base64");
  writeFileSync(file, JSON.stringify(stored), { mode: 0o600 });
  const arnOf = (keyId: unknown): string => {
    const id = String(keyId ?? "");
    const arn = o.keyArns.find((a) => a === id || a.endsWith(`/${id}`));
    if (!arn) throw new AwsError("NotFoundException", `Key '${id}' does not exist`);
    return arn;
  };
  const aad = (ctx: unknown) => Buffer.from(JSON.stringify(Object.entries((ctx ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1))));
  const master = (arn: string) => Buffer.from(stored[arn], "base64");
  return {
    "TrentService.GenerateDataKey": (input) => {
      const arn = arnOf(input.KeyId);
      const bytes = input.KeySpec === "AES_128" ? 16 : input.KeySpec === "AES_256" || input.KeySpec === undefined ? (input.NumberOfBytes ?? 32) : -1;
      if (bytes < 1 || bytes > 1024) throw new AwsError("ValidationException", "KeySpec must be AES_128 or AES_256, or NumberOfBytes 1..1024");
      const plain = randomBytes(bytes);
      const iv = randomBytes(12);
      const c = createCipheriv("aes-256-gcm", master(arn), iv);
      c.setAAD(aad(input.EncryptionContext));
      const data = Buffer.concat([c.update(plain), c.final()]);
      const blob = Buffer.concat([MAGIC, Buffer.from(arn.padEnd(128)), iv, c.getAuthTag(), data]);
      return { KeyId: arn, Plaintext: plain.toString("base64"), CiphertextBlob: blob.toString("base64") };
    },
    "TrentService.Decrypt": (input) => {
      const blob = Buffer.from(String(input.CiphertextBlob ?? ""), "base64");
      if (blob.length < MAGIC.length + 128 + 28 || !blob.subarray(0, MAGIC.length).equals(MAGIC)) throw new AwsError("InvalidCiphertextException", "");
      const arn = blob.subarray(MAGIC.length, MAGIC.length + 128).toString().trimEnd();
      if (!stored[arn]) throw new AwsError("InvalidCiphertextException", "");
      if (input.KeyId !== undefined && arnOf(input.KeyId) !== arn) throw new AwsError("IncorrectKeyException", "The key ID in the request does not identify the key that encrypted the ciphertext");
      const at = MAGIC.length + 128;
      const d = createDecipheriv("aes-256-gcm", master(arn), blob.subarray(at, at + 12));
      d.setAAD(aad(input.EncryptionContext));
      d.setAuthTag(blob.subarray(at + 12, at + 28));
      try {
        const plain = Buffer.concat([d.update(blob.subarray(at + 28)), d.final()]);
        return { KeyId: arn, Plaintext: plain.toString("base64"), EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
      } catch {
        throw new AwsError("InvalidCiphertextException", "");
      }
    },
  };
}

function secretsManagerStandin(o: StandinOptions): Record<string, Op> {
  const created = Math.floor(Date.now() / 1000);
  return {
    "secretsmanager.GetSecretValue": (input) => {
      const id = String(input.SecretId ?? "");
      const s = o.secrets.find((x) => x.arn === id || x.name === id || x.arn.replace(/-[A-Za-z0-9]{6}$/, "") === id);
      if (!s) throw new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
      return { ARN: s.arn, Name: s.name, VersionId: "00000000-0000-0000-0000-000000000001", SecretString: typeof s.value === "function" ? s.value() : s.value, VersionStages: ["AWSCURRENT"], CreatedDate: created };
    },
  };
}
