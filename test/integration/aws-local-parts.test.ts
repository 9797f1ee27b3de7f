// The parts of aws-local (infra/aws-local) that make it behave as AWS does, each against the
// real thing it stands between: the HTTP API's payload 2.0 events and answers (a real HTTP
// client), function instances (real child processes: warm reuse, the timeout, reserved
// concurrency, the context), the SQS event source's reading of a batch response, and the KMS /
// Secrets Manager stand-ins through the real SDK clients and Bayforge's own KMS key vault.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { startHttpApi } from "../../infra/aws-local/http-api.ts";
import { FunctionPool, type InvokeResult } from "../../infra/aws-local/function-pool.ts";
import { succeeded } from "../../infra/aws-local/sqs-event-source.ts";
import { startAwsJsonStandins } from "../../infra/aws-local/aws-json-standins.ts";
import { chatopsSecretFile } from "../../infra/aws-local/chatops-secret-file.ts";
import { resolve as resolveIntrinsics } from "../../infra/aws-local/intrinsics.ts";
import { rateSeconds } from "../../infra/aws-local/template.ts";
import { KmsKeyVault, KeyVaultError } from "../../shared/adapters/aws/kms-key-vault.ts";

const tmp = mkdtempSync(join(tmpdir(), "bf-awslocal-parts-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const CREDENTIALS = { accessKeyId: "AKIDTEST", secretAccessKey: "test" };

describe("aws-local's HTTP API", () => {
  it("builds payload 2.0 events as API Gateway does, and turns answers into HTTP as it does", async () => {
    const events: any[] = [];
    let answer: InvokeResult = { ok: true, requestId: "r", value: { statusCode: 201, headers: { "x-one": "1" }, cookies: ["a=1; Path=/", "b=2"], body: Buffer.from([0, 1, 2, 255]).toString("base64"), isBase64Encoded: true } };
    const { server, url } = await startHttpApi("127.0.0.1", 0, {
      routes: new Map([["$default", "Api"], ["POST /webhook/slack", "Hook"]]),
      invoke: async (fn, event) => (events.push({ fn, event }), answer),
      apiId: "awslocal",
      region: "us-east-1",
      accountId: "000000000000",
    });
    try {
      // repeated headers (two header lines) and query keys, cookies, a binary body
      const r = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((ok, no) => {
        const req = request(`${url}/v1/bays/x%20y?limit=2&tag=a&tag=b`, {
          method: "PUT",
          headers: { "X-Multi": ["1", "2"], Cookie: "c1=v1; c2=v2", "Content-Type": "application/octet-stream", "User-Agent": "test-agent" },
        });
        req.on("response", (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on("error", no);
        req.end(Buffer.from([1, 2, 3]));
      });
      assert.equal(r.status, 201);
      assert.equal(r.headers["x-one"], "1");
      assert.deepEqual(r.headers["set-cookie"], ["a=1; Path=/", "b=2"]);
      assert.deepEqual([...r.body], [0, 1, 2, 255]);
      const { fn, event: e } = events[0];
      assert.equal(fn, "Api");
      assert.equal(e.version, "2.0");
      assert.equal(e.routeKey, "$default");
      assert.equal(e.rawPath, "/v1/bays/x%20y");
      assert.equal(e.rawQueryString, "limit=2&tag=a&tag=b");
      assert.deepEqual(e.queryStringParameters, { limit: "2", tag: "a,b" });
      assert.equal(e.headers["x-multi"], "1,2");
      assert.equal(e.headers.cookie, undefined);
      assert.deepEqual(e.cookies, ["c1=v1", "c2=v2"]);
      assert.equal(e.isBase64Encoded, true);
      assert.deepEqual([...Buffer.from(e.body, "base64")], [1, 2, 3]);
      assert.equal(e.requestContext.http.method, "PUT");
      assert.equal(e.requestContext.http.path, "/v1/bays/x%20y");
      assert.equal(e.requestContext.http.protocol, "HTTP/1.1");
      assert.equal(e.requestContext.http.sourceIp, "127.0.0.1");
      assert.equal(e.requestContext.http.userAgent, "test-agent");
      assert.equal(e.requestContext.stage, "$default");
      assert.ok(Math.abs(e.requestContext.timeEpoch - Date.now()) < 60_000);
      assert.match(e.requestContext.time, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);

      // a route of its own; JSON stays text; a plain object answer is JSON with 200
      answer = { ok: true, requestId: "r", value: { hello: "world" } };
      const j = await fetch(`${url}/webhook/slack`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' });
      assert.equal(j.status, 200);
      assert.equal(j.headers.get("content-type"), "application/json");
      assert.deepEqual(await j.json(), { hello: "world" });
      assert.equal(events[1].fn, "Hook");
      assert.equal(events[1].event.routeKey, "POST /webhook/slack");
      assert.equal(events[1].event.isBase64Encoded, false);
      assert.equal(events[1].event.body, '{"a":1}');
      assert.equal(events[1].event.queryStringParameters, undefined);

      // a failed invocation is API Gateway's 500; a throttled one its 429
      answer = { ok: false, requestId: "r", error: { errorType: "Error", errorMessage: "boom" } };
      const f = await fetch(`${url}/x`);
      assert.equal(f.status, 500);
      assert.deepEqual(await f.json(), { message: "Internal Server Error" });
      answer = { ok: false, requestId: "r", error: { errorType: "TooManyRequestsException", errorMessage: "Rate Exceeded." } };
      assert.equal((await fetch(`${url}/x`)).status, 429);
    } finally {
      server.close();
    }
  });
});

describe("aws-local's function instances", () => {
  const dir = join(tmp, "fn");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "index.mjs"),
    `export const handler = async (event, context) => {
       if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
       if (event.fail) throw new TypeError("asked to fail");
       return { pid: process.pid, name: context.functionName, requestId: context.awsRequestId, remaining: context.getRemainingTimeInMillis(), memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, own: process.env.OWN };
     };\n`,
  );
  const spec = (o: Partial<ConstructorParameters<typeof FunctionPool>[0]> = {}) => ({ logicalId: "Fn", name: "Stack-Fn", codeDir: dir, exportName: "handler", environment: { OWN: "yes" }, timeoutSeconds: 2, memoryMB: 256, ...o });

  it("reuses a warm instance, gives the handler a Lambda-shaped context, and reports a thrown error", async () => {
    const pool = new FunctionPool(spec(), { runtimeEnv: {}, arn: "arn:aws:lambda:us-east-1:000000000000:function:Stack-Fn" });
    try {
      const a = await pool.invoke({});
      const b = await pool.invoke({});
      assert.ok(a.ok && b.ok);
      const [va, vb] = [a.value as any, b.value as any];
      assert.equal(va.pid, vb.pid, "the same warm instance");
      assert.equal(va.name, "Stack-Fn");
      assert.equal(va.requestId, a.requestId);
      assert.ok(va.remaining > 0 && va.remaining <= 2000);
      assert.equal(va.memory, "256");
      assert.equal(va.own, "yes");
      assert.ok(a.report?.initMs !== undefined && b.report?.initMs === undefined, "only the first paid the init");
      const f = await pool.invoke({ fail: true });
      assert.equal(f.ok, false);
      assert.deepEqual(!f.ok && [f.error.errorType, f.error.errorMessage], ["TypeError", "asked to fail"]);
    } finally {
      await pool.close();
    }
  });

  it("kills an instance that outlives the timeout, fails that invocation as Lambda does, and starts a new one next", async () => {
    const pool = new FunctionPool(spec({ timeoutSeconds: 1 }), { runtimeEnv: {}, arn: "arn" });
    try {
      const first = (await pool.invoke({})) as any;
      const slow = await pool.invoke({ sleepMs: 5000 });
      assert.equal(slow.ok, false);
      assert.ok(!slow.ok && slow.error.errorType === "Sandbox.Timedout" && /Task timed out after 1\.00 seconds/.test(slow.error.errorMessage));
      const next = (await pool.invoke({})) as any;
      assert.notEqual(next.value.pid, first.value.pid, "a new instance");
      assert.equal(pool.stats.started, 2);
    } finally {
      await pool.close();
    }
  });

  it("never runs more instances at once than the reserved concurrency: a synchronous caller is throttled, an event source waits", async () => {
    const pool = new FunctionPool(spec({ reservedConcurrency: 2 }), { runtimeEnv: {}, arn: "arn" });
    try {
      const calls = Array.from({ length: 5 }, () => pool.invoke({ sleepMs: 200 }, { wait: true }));
      const throttled = await pool.invoke({}, { wait: false });
      assert.ok(!throttled.ok && throttled.error.errorType === "TooManyRequestsException");
      assert.ok((await Promise.all(calls)).every((r) => r.ok));
      assert.equal(pool.stats.peak, 2);
    } finally {
      await pool.close();
    }
  });
});

describe("aws-local's SQS event source", () => {
  const records = [{ messageId: "m1" }, { messageId: "m2" }, { messageId: "m3" }];
  const ok = (value: unknown): InvokeResult => ({ ok: true, requestId: "r", value });
  it("deletes what the function did not report failed, and nothing of a failed or malformed answer, as Lambda does", () => {
    assert.deepEqual([...succeeded(ok({ batchItemFailures: [{ itemIdentifier: "m2" }] }), records, true)], ["m1", "m3"]);
    assert.deepEqual([...succeeded(ok({ batchItemFailures: [] }), records, true)], ["m1", "m2", "m3"]);
    assert.deepEqual([...succeeded(ok(null), records, true)], ["m1", "m2", "m3"]);
    assert.deepEqual([...succeeded(ok({ batchItemFailures: [{ itemIdentifier: "nope" }] }), records, true)], []);
    assert.deepEqual([...succeeded(ok({ batchItemFailures: [{}] }), records, true)], []);
    assert.deepEqual([...succeeded({ ok: false, requestId: "r", error: { errorType: "Sandbox.Timedout", errorMessage: "" } }, records, true)], []);
    assert.deepEqual([...succeeded(ok({ batchItemFailures: [{ itemIdentifier: "m2" }] }), records, false)], ["m1", "m2", "m3"], "without ReportBatchItemFailures the answer is not read");
  });
});

describe("aws-local's template reading", () => {
  it("resolves the intrinsics the template uses, and refuses one it does not know", () => {
    const r = { ref: (n: string) => (n === "PublicUrl" ? "" : `ref:${n}`), getAtt: (id: string, a: string) => `${id}.${a}`, conditions: { UseApiUrl: { "Fn::Equals": [{ Ref: "PublicUrl" }, ""] } } };
    assert.equal(resolveIntrinsics({ "Fn::If": ["UseApiUrl", { "Fn::GetAtt": ["Api", "ApiEndpoint"] }, { Ref: "PublicUrl" }] }, r), "Api.ApiEndpoint");
    assert.equal(resolveIntrinsics({ "Fn::Join": ["", ["integrations/", { Ref: "Int" }]] }, r), "integrations/ref:Int");
    assert.equal(resolveIntrinsics({ "Fn::Sub": "arn:${AWS::Partition}:x/${Q.Arn}" }, r), "arn:ref:AWS::Partition:x/Q.Arn");
    assert.throws(() => resolveIntrinsics({ "Fn::ImportValue": "x" }, r), /does not resolve Fn::ImportValue/);
    assert.equal(rateSeconds("rate(1 minute)"), 60);
    assert.equal(rateSeconds("rate(2 hours)"), 7200);
    assert.throws(() => rateSeconds("cron(0 12 * * ? *)"), /rate\(\.\.\.\) schedules only/);
  });
});

describe("aws-local's KMS and Secrets Manager stand-ins", () => {
  it("serve the real SDK clients: the KMS key vault round-trips, refuses another context, and decrypts after a restart", async () => {
    const dataDir = join(tmp, "standins");
    mkdirSync(dataDir, { recursive: true });
    const keyArn = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555";
    const opts = { dataDir, keyArns: [keyArn], secrets: [{ arn: "arn:aws:secretsmanager:us-east-1:000000000000:secret:bf/os-AbCdEf", name: "bf/os", value: '{"OS_AUTH_URL": "http://k"}' }] };
    let s = await startAwsJsonStandins(opts);
    const kms = (url: string) => new KMSClient({ endpoint: url, region: "us-east-1", credentials: CREDENTIALS });
    let client = kms(s.url);
    const sealed = await new KmsKeyVault({ client, keyId: keyArn }).encrypt("the CA key", "bay/1");
    assert.equal(await new KmsKeyVault({ client, keyId: keyArn }).decrypt(sealed, "bay/1"), "the CA key");
    await assert.rejects(new KmsKeyVault({ client, keyId: keyArn }).decrypt(sealed, "bay/2"), KeyVaultError);
    await assert.rejects(new KmsKeyVault({ client, keyId: keyArn, encryptionContext: { other: "ctx" } }).decrypt(sealed, "bay/1"), /KMS refused its data key \(InvalidCiphertextException\)/);
    const sm = new SecretsManagerClient({ endpoint: s.url, region: "us-east-1", credentials: CREDENTIALS });
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: "bf/os" }))).SecretString, '{"OS_AUTH_URL": "http://k"}');
    await assert.rejects(sm.send(new GetSecretValueCommand({ SecretId: "nope" })), (e: Error) => e.name === "ResourceNotFoundException");
    client.destroy();
    sm.destroy();
    s.server.close();
    // a restarted aws-local still decrypts what it wrapped before
    s = await startAwsJsonStandins(opts);
    client = kms(s.url);
    assert.equal(await new KmsKeyVault({ client, keyId: keyArn }).decrypt(sealed, "bay/1"), "the CA key");
    client.destroy();
    s.server.close();
  });

  it("serve the chat-ops secret from its file, read again on every read (editing the file updates the secret); a bad file stops the start without showing its content", async () => {
    const file = join(tmp, "chatops.json");
    writeFileSync(file, JSON.stringify({ slackSigningSecret: "first" }), { mode: 0o600 });
    const chatops = chatopsSecretFile({ BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE: file })!;
    const arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:bayforge/chatops-AwsLcl";
    const s = await startAwsJsonStandins({ dataDir: tmp, keyArns: [], secrets: [{ arn, name: "bayforge/chatops", value: chatops.read }] });
    const sm = new SecretsManagerClient({ endpoint: s.url, region: "us-east-1", credentials: CREDENTIALS });
    const read = async () => JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString!).slackSigningSecret;
    assert.equal(await read(), "first");
    writeFileSync(file, JSON.stringify({ slackSigningSecret: "rotated" }));
    assert.equal(await read(), "rotated");
    sm.destroy();
    s.server.close();

    assert.equal(chatopsSecretFile({}), undefined, "no file named: no chat-ops, no webhook");
    writeFileSync(file, "slackSigningSecret=hunter2");
    assert.throws(() => chatopsSecretFile({ BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE: file }), (e: Error) => /cannot be read as the chat-ops secret's JSON/.test(e.message) && !e.message.includes("hunter2"));
    writeFileSync(file, '["hunter2"]');
    assert.throws(() => chatopsSecretFile({ BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE: file }), (e: Error) => /must hold a JSON object/.test(e.message) && !e.message.includes("hunter2"));
    assert.throws(() => chatopsSecretFile({ BAYFORGE_AWS_LOCAL_CHATOPS_SECRET_FILE: join(tmp, "missing.json") }), /ENOENT/);
  });
});
