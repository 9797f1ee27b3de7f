// The console through the api's Lambda entry (createLambdaHandler, as functions/api/lambda.ts
// builds it) on API Gateway HTTP API (payload 2.0) events, in Keystone mode against the dev
// cloud: sign-in sets the sealed cookie with Secure (the event is https), the next request
// carries it in the event's `cookies`, and the pages and the live JSON answer behind it, with
// the CSP. The stores are the embedded ones (the AWS stores are tested in lambda-api.test.ts).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { loadSettings } from "../../shared/config.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { openstackFromEnv, type OpenStack } from "../../shared/adapters/openstack/index.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { createLambdaHandler, type LambdaApiHandler } from "../../functions/api/lambda.ts";
import { devcloudEnv } from "../support/bayforge-process.ts";
import { cloudsYamlPath } from "../support/devcloud.ts";

const HOST = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
let dir: string;
let stores: LocalStores;
let cloud: OpenStack;
let lambda: LambdaApiHandler;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-console-lambda-"));
  stores = openLocalStores(dir);
  cloud = openstackFromEnv(devcloudEnv())!;
  const vault = await LocalKeyVault.forDataDir(dir, {});
  lambda = createLambdaHandler({ settings: loadSettings({ BAYFORGE_DATA_DIR: dir }), log: createLogger({}, "error", () => {}), ...stores, vault, session: cloud.session });
});
after(async () => {
  await cloud?.close();
  await stores?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function event(method: string, path: string, cookies: string[] = [], form?: Record<string, string>): LambdaEvent {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    ...(cookies.length ? { cookies } : {}),
    headers: { host: HOST, "x-forwarded-proto": "https", accept: "text/html", ...(body ? { "content-type": "application/x-www-form-urlencoded", "content-length": String(body.length) } : {}) },
    requestContext: {
      accountId: "123456789012",
      apiId: "a1b2c3d4e5",
      domainName: HOST,
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "Mozilla/5.0" },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
    ...(body ? { body } : {}),
  } as unknown as LambdaEvent;
}

const context = { awsRequestId: randomUUID(), functionName: "bayforge-api", getRemainingTimeInMillis: () => 29_000 } as unknown as LambdaContext;

async function call(method: string, path: string, cookies: string[] = [], form?: Record<string, string>) {
  const out = (await lambda(event(method, path, cookies, form), context)) as { statusCode: number; headers?: Record<string, string>; cookies?: string[]; multiValueHeaders?: Record<string, string[]>; body: string; isBase64Encoded?: boolean };
  const body = out.isBase64Encoded ? Buffer.from(out.body, "base64").toString("utf8") : out.body;
  const headers = Object.fromEntries(Object.entries(out.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const setCookies = out.cookies ?? out.multiValueHeaders?.["set-cookie"] ?? (headers["set-cookie"] ? [headers["set-cookie"]] : []);
  return { status: out.statusCode, headers, cookies: setCookies, body };
}

const pair = (setCookie: string) => setCookie.split(";")[0];

it("signs in and serves the pages through API Gateway events, with Secure cookies and the CSP", async () => {
  const form = await call("GET", "/console/sign-in");
  assert.equal(form.status, 200);
  assert.match(form.headers["content-security-policy"], /script-src 'self'/);
  const pre = form.cookies.find((c) => c.startsWith("bf_console_pre="))!;
  assert.match(pre, /Secure/);
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)![1];

  const signed = await call("POST", "/console/sign-in", [pair(pre)], { csrf, username: "demo", password: "devcloud-demo", project: "demo", domain: "Default" });
  assert.equal(signed.status, 303, signed.body);
  assert.equal(signed.headers.location, "/console/bays");
  const session = signed.cookies.find((c) => c.startsWith("bf_console="))!;
  for (const flag of [/HttpOnly/, /SameSite=Strict/, /Secure/, /Path=\/console/]) assert.match(session, flag);

  const bays = await call("GET", "/console/bays", [pair(session)]);
  assert.equal(bays.status, 200);
  assert.match(bays.body, /<h1>Bays<\/h1>/);
  assert.match(bays.body, /demo · demo/);
  const json = await call("GET", "/console/bays.json", [pair(session)]);
  assert.equal(json.status, 200);
  assert.deepEqual(JSON.parse(json.body), { bays: [] });
  const script = await call("GET", "/console/static/console.js");
  assert.equal(script.status, 200);
  assert.match(script.headers["content-type"], /javascript/);

  // sign-out revokes the token: the same cookie is then sent to sign-in
  const token = /name="csrf-token" content="([^"]+)"/.exec(bays.body)![1];
  const out = await call("POST", "/console/sign-out", [pair(session)], { csrf: token });
  assert.equal(out.status, 303);
  const again = await call("GET", "/console/bays", [pair(session)]);
  assert.equal(again.status, 303);
  assert.equal(again.headers.location, "/console/sign-in");
});

it("signs in with an application credential (id and secret), which carries its own project", async () => {
  const demo = openstackFromEnv({ OS_CLIENT_CONFIG_FILE: cloudsYamlPath(), OS_CLOUD: "devcloud-demo" })!;
  const info = await demo.session.tokenInfo();
  const url = `${demo.cloud.auth.authUrl.replace(/\/+$/, "")}/users/${info.userId}/application_credentials`;
  const made = await demo.session.request({ method: "POST", url, json: { application_credential: { name: `console-${randomUUID().slice(0, 8)}` } } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const cred = (made.body as { application_credential: { id: string; secret: string } }).application_credential;
  try {
    const form = await call("GET", "/console/sign-in");
    const pre = pair(form.cookies.find((c) => c.startsWith("bf_console_pre="))!);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)![1];
    const wrong = await call("POST", "/console/sign-in", [pre], { csrf, app_cred_id: cred.id, app_cred_secret: "not-the-secret" });
    assert.equal(wrong.status, 401);
    assert.ok(!wrong.cookies.some((c) => c.startsWith("bf_console=")));
    const signed = await call("POST", "/console/sign-in", [pre], { csrf, app_cred_id: cred.id, app_cred_secret: cred.secret });
    assert.equal(signed.status, 303, signed.body);
    const session = pair(signed.cookies.find((c) => c.startsWith("bf_console="))!);
    const bays = await call("GET", "/console/bays", [session]);
    assert.equal(bays.status, 200);
    assert.match(bays.body, /demo · demo/);
  } finally {
    await demo.session.request({ method: "DELETE", url: `${url}/${cred.id}` });
    await demo.close();
  }
});
