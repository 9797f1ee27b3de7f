// The AWS key vault (KMS envelope encryption) and Bayforge's OpenStack credentials from
// Secrets Manager, each against a stub of the AWS service: no KMS or Secrets Manager can run
// here. The stubs are small HTTP servers on 127.0.0.1 speaking the services' JSON protocol to
// the real SDK clients; the stub KMS really wraps data keys (AES-256-GCM under its own master
// key, bound to the key id and the encryption context), so a wrong context or an altered data
// key is refused as KMS would refuse it.
import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { KMSClient } from "@aws-sdk/client-kms";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { KeyVaultError, KmsKeyVault, KMS_FORMAT } from "../../shared/adapters/aws/kms-key-vault.ts";
import { OpenStackSecret, cloudEnvFromSecret } from "../../shared/adapters/aws/openstack-secret.ts";
import { CloudConfigError } from "../../shared/adapters/openstack/config/index.ts";

const KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "test" };

interface StubService {
  url: string;
  calls: Array<{ op: string; input: any }>;
  /** the next answers, instead of the normal one: [status, body] */
  failNext: Array<[number, object]>;
  close(): Promise<void>;
}

async function stubService(prefix: string, handle: (op: string, input: any) => [number, object]): Promise<StubService> {
  const svc: StubService = { url: "", calls: [], failNext: [], close: async () => {} };
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const target = String(req.headers["x-amz-target"] ?? "");
    const op = target.startsWith(prefix) ? target.slice(prefix.length) : target;
    const input = raw ? JSON.parse(raw) : {};
    svc.calls.push({ op, input });
    const [status, body] = svc.failNext.shift() ?? handle(op, input);
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "stub" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  svc.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  svc.close = () => new Promise((r) => server.close(() => r()));
  return svc;
}

/** A stub KMS: GenerateDataKey and Decrypt, data keys wrapped under its own master key. */
function stubKms(): Promise<StubService> {
  const master = randomBytes(32);
  const aad = (keyId: string, ctx: Record<string, string> = {}) =>
    Buffer.from(JSON.stringify([keyId, Object.entries(ctx).sort(([a], [b]) => (a < b ? -1 : 1))]));
  const invalid: [number, object] = [400, { __type: "InvalidCiphertextException", message: "" }];
  return stubService("TrentService.", (op, input) => {
    if (op === "GenerateDataKey") {
      if (input.KeySpec !== "AES_256" || input.KeyId !== KEY_ARN) return [400, { __type: "ValidationException", message: "bad request" }];
      const plain = randomBytes(32);
      const iv = randomBytes(12);
      const c = createCipheriv("aes-256-gcm", master, iv);
      c.setAAD(aad(KEY_ARN, input.EncryptionContext));
      const blob = Buffer.concat([iv, c.update(plain), c.final(), c.getAuthTag()]);
      return [200, { KeyId: KEY_ARN, Plaintext: plain.toString("base64"), CiphertextBlob: blob.toString("base64") }];
    }
    if (op === "Decrypt") {
      const blob = Buffer.from(input.CiphertextBlob, "base64");
      if (blob.length !== 12 + 32 + 16) return invalid;
      try {
        const d = createDecipheriv("aes-256-gcm", master, blob.subarray(0, 12));
        d.setAAD(aad(KEY_ARN, input.EncryptionContext));
        d.setAuthTag(blob.subarray(44));
        const plain = Buffer.concat([d.update(blob.subarray(12, 44)), d.final()]);
        return [200, { KeyId: KEY_ARN, Plaintext: plain.toString("base64"), EncryptionAlgorithm: "SYMMETRIC_DEFAULT" }];
      } catch {
        return invalid;
      }
    }
    return [400, { __type: "UnknownOperationException", message: op }];
  });
}

const ops = (svc: StubService, op: string) => svc.calls.filter((c) => c.op === op).length;

let kms: StubService;
let kmsClient: KMSClient;
before(async () => {
  kms = await stubKms();
  kmsClient = new KMSClient({ endpoint: kms.url, region: "eu-west-1", credentials: CREDENTIALS, maxAttempts: 1 });
});
after(async () => {
  kmsClient?.destroy();
  await kms?.close();
});
beforeEach(() => {
  kms.calls.length = 0;
  kms.failNext.length = 0;
});

/** A new vault: what a new Lambda container has. */
const vault = (o: Partial<ConstructorParameters<typeof KmsKeyVault>[0]> = {}) => new KmsKeyVault({ client: kmsClient, keyId: KEY_ARN, ...o });

const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA…\n-----END RSA PRIVATE KEY-----\n";

describe("KmsKeyVault (stub KMS)", () => {
  it("round-trips secrets, bound to their context; the ciphertext carries the KMS-wrapped data key and no plaintext (stub KMS)", async () => {
    const v = vault();
    for (const secret of [PEM, "", "pässwörd ✓ 🔑", "x".repeat(100_000)]) {
      const c = await v.encrypt(secret, "bay:1234");
      const parts = c.split(":");
      assert.equal(parts.length, 5);
      assert.equal(parts[0], KMS_FORMAT);
      assert.ok(!c.includes("PRIVATE KEY"));
      assert.equal(await v.decrypt(c, "bay:1234"), secret);
      // and in another container (a new vault): through KMS Decrypt
      assert.equal(await vault().decrypt(c, "bay:1234"), secret);
    }
    const a = await v.encrypt(PEM, "bay:1234");
    const b = await v.encrypt(PEM, "bay:1234");
    assert.notEqual(a, b, "a fresh IV every time");
    assert.deepEqual(kms.calls.find((c) => c.op === "GenerateDataKey")?.input, {
      KeyId: KEY_ARN,
      KeySpec: "AES_256",
      EncryptionContext: { service: "bayforge", purpose: "key-vault" },
    });
  });

  it("refuses a secret decrypted for another context (stub KMS)", async () => {
    const v = vault();
    const c = await v.encrypt(PEM, "bay:aaaa");
    await assert.rejects(v.decrypt(c, "bay:bbbb"), (e: unknown) => e instanceof KeyVaultError && /another context/.test((e as Error).message) && !(e as Error).message.includes("PRIVATE"));
    await assert.rejects(vault().decrypt(c, "bay:aaaa:trustee"), KeyVaultError);
  });

  it("refuses a tampered ciphertext: data, tag, iv, or the wrapped data key (stub KMS)", async () => {
    const v = vault();
    const c = await v.encrypt(PEM, "bay:1");
    const flip = (i: number) => {
      const parts = c.split(":");
      const buf = Buffer.from(parts[i], "base64");
      buf[buf.length >> 1] ^= 0x01;
      parts[i] = buf.toString("base64");
      return parts.join(":");
    };
    for (const i of [4, 3, 2]) await assert.rejects(v.decrypt(flip(i), "bay:1"), KeyVaultError, `part ${i}`);
    // an altered data key is refused by KMS (InvalidCiphertextException), reported as the vault's error
    await assert.rejects(v.decrypt(flip(1), "bay:1"), (e: unknown) => e instanceof KeyVaultError && /KMS refused/.test((e as Error).message));
    for (const junk of ["", "kms1:a:b:c", "v1:AAAA:AAAA:AAAA", `${c}:extra`, "kms1:!!:AAAA:AAAA:AAAA"]) await assert.rejects(v.decrypt(junk, "bay:1"), KeyVaultError, junk);
    await assert.rejects(v.decrypt("v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==:AAAA", "bay:1"), /local key-file ciphertext/);
  });

  it("makes one KMS call per container for N encryptions, and one Decrypt per data key in another container (stub KMS)", async () => {
    const writer = vault();
    const secrets = Array.from({ length: 50 }, (_, i) => ({ plain: `secret-${i}`, ctx: `bay:${i}` }));
    const sealed = await Promise.all(secrets.map((s) => writer.encrypt(s.plain, s.ctx)));
    assert.deepEqual([ops(kms, "GenerateDataKey"), ops(kms, "Decrypt")], [1, 0]);
    assert.equal(new Set(sealed.map((c) => c.split(":")[1])).size, 1, "one data key");
    // the writer decrypts its own secrets without KMS
    for (const [i, c] of sealed.entries()) assert.equal(await writer.decrypt(c, secrets[i].ctx), secrets[i].plain);
    assert.equal(ops(kms, "Decrypt"), 0);
    // another container: one Decrypt for all 50, even asked concurrently
    const reader = vault();
    const opened = await Promise.all(sealed.map((c, i) => reader.decrypt(c, secrets[i].ctx)));
    assert.deepEqual(opened, secrets.map((s) => s.plain));
    assert.deepEqual([ops(kms, "GenerateDataKey"), ops(kms, "Decrypt")], [1, 1]);
  });

  it("keeps at most cacheSize decrypted data keys (least recently used goes first) (stub KMS)", async () => {
    const [a, b, c] = await Promise.all([vault(), vault(), vault()].map((w, i) => w.encrypt(`s${i}`, "ctx")));
    assert.equal(ops(kms, "GenerateDataKey"), 3);
    const reader = vault({ cacheSize: 2 });
    for (const x of [a, b, a, c, a]) await reader.decrypt(x, "ctx"); // a, b miss; a hit; c miss (b out); a hit
    assert.equal(ops(kms, "Decrypt"), 3);
    await reader.decrypt(b, "ctx"); // b was evicted
    assert.equal(ops(kms, "Decrypt"), 4);
  });

  it("generates a new data key after maxUsesPerDataKey encryptions (stub KMS)", async () => {
    const v = vault({ maxUsesPerDataKey: 3 });
    const out = [];
    for (let i = 0; i < 7; i++) out.push(await v.encrypt(`s${i}`, "ctx"));
    assert.equal(ops(kms, "GenerateDataKey"), 3);
    for (const [i, c] of out.entries()) assert.equal(await v.decrypt(c, "ctx"), `s${i}`);
  });

  it("does not remember a failed KMS call: the next encrypt or decrypt asks again (stub KMS)", async () => {
    const v = vault();
    kms.failNext.push([400, { __type: "ThrottlingException", message: "Rate exceeded" }]);
    await assert.rejects(v.encrypt("s", "ctx"), (e: unknown) => (e as Error).name === "ThrottlingException" && !(e instanceof KeyVaultError));
    const c = await v.encrypt("s", "ctx");
    const reader = vault();
    kms.failNext.push([400, { __type: "AccessDeniedException", message: "not allowed" }]);
    await assert.rejects(reader.decrypt(c, "ctx"), (e: unknown) => (e as Error).name === "AccessDeniedException");
    assert.equal(await reader.decrypt(c, "ctx"), "s");
  });

  it("binds data keys to the KMS encryption context: a vault configured with another one cannot open them (stub KMS)", async () => {
    const c = await vault().encrypt("s", "ctx");
    await assert.rejects(vault({ encryptionContext: { service: "other" } }).decrypt(c, "ctx"), KeyVaultError);
    assert.deepEqual(kms.calls.at(-1)?.input.EncryptionContext, { service: "other" });
  });
});

// ---------------------------------------------------------------- Secrets Manager

const CLOUDS_YAML = `clouds:
  bayforge:
    auth:
      auth_url: https://keystone.example.com:5000
      username: bayforge
      password: "0123-secret"
      project_name: service
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
`;

describe("OpenStackSecret (stub Secrets Manager)", () => {
  let sm: StubService;
  let smClient: SecretsManagerClient;
  let secretString = "";
  const dirs: string[] = [];
  before(async () => {
    sm = await stubService("secretsmanager.", (op, input) =>
      op === "GetSecretValue" && input.SecretId === "bayforge/openstack"
        ? [200, { ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bayforge/openstack-AbCdEf", Name: "bayforge/openstack", SecretString: secretString, VersionId: "v1" }]
        : [400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." }],
    );
    smClient = new SecretsManagerClient({ endpoint: sm.url, region: "eu-west-1", credentials: CREDENTIALS, maxAttempts: 1 });
  });
  after(async () => {
    smClient?.destroy();
    await sm?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  beforeEach(() => {
    sm.calls.length = 0;
  });
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), "bf-secret-"));
    dirs.push(d);
    return d;
  };

  it("reads a JSON of OS_* variables as the environment would be read, once per container (stub Secrets Manager)", async () => {
    secretString = JSON.stringify({
      OS_AUTH_URL: "https://keystone.example.com:5000/v3",
      OS_USERNAME: "bayforge",
      OS_PASSWORD: "s3cret",
      OS_PROJECT_NAME: "service",
      OS_USER_DOMAIN_NAME: "Default",
      OS_PROJECT_DOMAIN_NAME: "Default",
      OS_REGION_NAME: "RegionOne",
      OS_API_TIMEOUT: 20,
    });
    const secret = new OpenStackSecret({ client: smClient, secretId: "bayforge/openstack" });
    const configs = await Promise.all([secret.cloudConfig(), secret.cloudConfig(), secret.env()]);
    assert.equal(ops(sm, "GetSecretValue"), 1);
    const cfg = configs[0];
    assert.equal(cfg, configs[1]);
    assert.equal(cfg.cloud, "envvars");
    assert.equal(cfg.regionName, "RegionOne");
    assert.equal(cfg.apiTimeoutMs, 20_000);
    assert.deepEqual(cfg.auth, {
      type: "password",
      authUrl: "https://keystone.example.com:5000/v3",
      username: "bayforge",
      userDomainName: "Default",
      password: "s3cret",
      projectName: "service",
      projectDomainName: "Default",
    });
  });

  it("reads a clouds.yaml secret through the clouds.yaml loader (a private file under the temp dir) (stub Secrets Manager)", async () => {
    secretString = CLOUDS_YAML;
    const d = dir();
    const cfg = await new OpenStackSecret({ client: smClient, secretId: "bayforge/openstack", dir: d }).cloudConfig();
    assert.equal(cfg.cloud, "bayforge");
    assert.equal(cfg.source, join(d, "clouds.yaml"));
    assert.equal(cfg.interface, "internal");
    assert.equal(cfg.auth.type, "password");
    assert.equal((cfg.auth as { password: string }).password, "0123-secret", "scalars kept as written");
    assert.equal(cfg.auth.authUrl, "https://keystone.example.com:5000/v3");
    assert.equal(statSync(cfg.source).mode & 0o777, 0o600);
    assert.equal(readFileSync(cfg.source, "utf8"), CLOUDS_YAML);
    // with no dir given: a new private directory
    const env = cloudEnvFromSecret(CLOUDS_YAML);
    dirs.push(join(env.OS_CLIENT_CONFIG_FILE, ".."));
    assert.equal(statSync(join(env.OS_CLIENT_CONFIG_FILE, "..")).mode & 0o777, 0o700);
    assert.equal(env.OS_CLOUD, "bayforge");
  });

  it("picks the named cloud of a secret holding several, refuses to guess, and reads the JSON form of clouds.yaml", () => {
    const two = JSON.stringify({
      clouds: {
        a: { auth: { auth_url: "http://a:5000", application_credential_id: "id-a", application_credential_secret: "x" } },
        b: { auth: { auth_url: "http://b:5000", application_credential_id: "id-b", application_credential_secret: "y" } },
      },
    });
    assert.throws(() => cloudEnvFromSecret(two, { dir: dir() }), (e: unknown) => e instanceof CloudConfigError && /several clouds \(a, b\).*OS_CLOUD/.test((e as Error).message));
    const env = cloudEnvFromSecret(two, { cloud: "b", dir: dir() });
    assert.equal(env.OS_CLOUD, "b");
  });

  it("explains a secret it cannot use, and does not remember a failed read (stub Secrets Manager)", async () => {
    for (const bad of ["[1,2]", "{\"user\": \"x\"}", "just: text", "clouds: [1"]) assert.throws(() => cloudEnvFromSecret(bad, { dir: dir() }), CloudConfigError, bad);
    const missing = new OpenStackSecret({ client: smClient, secretId: "nope" });
    await assert.rejects(missing.cloudConfig(), (e: unknown) => (e as Error).name === "ResourceNotFoundException");
    secretString = JSON.stringify({ OS_AUTH_URL: "http://k:5000" }); // no credentials
    const incomplete = new OpenStackSecret({ client: smClient, secretId: "bayforge/openstack" });
    await assert.rejects(incomplete.cloudConfig(), (e: unknown) => e instanceof CloudConfigError && /OS_PASSWORD is missing/.test((e as Error).message));
    secretString = CLOUDS_YAML;
    const fixed = new OpenStackSecret({ client: smClient, secretId: "bayforge/openstack", dir: dir() });
    sm.failNext.push([400, { __type: "InternalServiceError", message: "try again" }]);
    await assert.rejects(fixed.cloudConfig());
    assert.equal((await fixed.cloudConfig()).cloud, "bayforge");
  });
});
