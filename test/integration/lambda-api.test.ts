// The API's Lambda entry (functions/api/lambda.ts) on real-shaped API Gateway HTTP API
// (payload 2.0) events, built by createLambdaHandler exactly as the entry point builds it, but
// on the embedded SQLite stores and noauth. Every request is also sent to the local server
// (the same app under @hono/node-server, test/support/api-harness.ts, its own stores) and the
// two answers must be the same: status, headers, body (uuids, times and request ids aside).
// Batch manifests are also served on the AWS stores (DynamoDB on dynalite, SQS on fauxqs),
// composed as the entry composes them (openAwsStores), and answer as the local server does.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { loadSettings } from "../../shared/config.ts";
import { openLocalStores, type LocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { createLambdaHandler, type LambdaApiHandler } from "../../functions/api/lambda.ts";
import { BAYMODEL, startApi, type ApiHarness } from "../support/api-harness.ts";
import { openAwsStores } from "../../shared/adapters/aws/index.ts";
import { startLocalAws, type LocalAws } from "../support/aws-local.ts";

const PUBLIC_URL = "https://bayforge.example.com";
const API_ID = "a1b2c3d4e5";
const HOST = `${API_ID}.execute-api.eu-west-1.amazonaws.com`;

let dir: string;
let stores: LocalStores;
let lambda: LambdaApiHandler;
let local: ApiHarness;
let aws: LocalAws;
let awsLambda: LambdaApiHandler;
let awsStores: ReturnType<typeof openAwsStores>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bf-lambda-api-"));
  const env = { BAYFORGE_DATA_DIR: dir, BAYFORGE_AUTH: "noauth", BAYFORGE_PUBLIC_URL: PUBLIC_URL };
  stores = openLocalStores(dir);
  const vault = await LocalKeyVault.forDataDir(dir, {});
  lambda = createLambdaHandler({ settings: loadSettings(env), log: createLogger({}, "error", () => {}), ...stores, vault });
  local = await startApi({ BAYFORGE_PUBLIC_URL: PUBLIC_URL });
  // the AWS stores as lambdaHandlerFromEnv opens them, on dynalite and fauxqs; the key vault
  // is the local one (no KMS can run here) and auth noauth (no Keystone needed for batches)
  aws = await startLocalAws();
  awsStores = openAwsStores({ tableName: aws.tableName, queueUrl: aws.queueUrl, kmsKeyId: "unused" }, { dynamodb: aws.dynamodb(), sqs: aws.sqs });
  awsLambda = createLambdaHandler({ settings: loadSettings(env), log: createLogger({}, "error", () => {}), ...awsStores, vault });
});
after(async () => {
  await aws?.close();
  await local?.close();
  await stores?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Req {
  method: string;
  path: string;
  query?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** send the body base64-encoded, as API Gateway does for a body it takes for binary */
  base64?: boolean;
}
interface Answer {
  status: number;
  headers: Record<string, string>;
  json: any;
}

/** An API Gateway HTTP API event (payload format 2.0), as API Gateway builds it. */
function v2Event(r: Req): LambdaEvent {
  const text = r.body === undefined ? undefined : typeof r.body === "string" ? r.body : JSON.stringify(r.body);
  const now = new Date();
  const headers: Record<string, string> = {
    accept: "application/json",
    "accept-encoding": "gzip, deflate",
    host: HOST,
    "user-agent": "python-magnumclient",
    "x-amzn-trace-id": `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, "").slice(0, 24)}`,
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
    ...(text !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) } : {}),
    ...Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  const query = r.query ?? "";
  const event = {
    version: "2.0",
    routeKey: "$default",
    rawPath: r.path,
    rawQueryString: query,
    headers,
    ...(query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(query)) } : {}),
    requestContext: {
      accountId: "123456789012",
      apiId: API_ID,
      domainName: HOST,
      domainPrefix: API_ID,
      http: { method: r.method, path: r.path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "python-magnumclient" },
      requestId: Buffer.from(randomUUID()).toString("base64").slice(0, 16),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: !!r.base64 && text !== undefined,
    // API Gateway leaves `body` out when there is none
    ...(text !== undefined ? { body: r.base64 ? Buffer.from(text).toString("base64") : text } : {}),
  };
  return event as unknown as LambdaEvent;
}

const context: LambdaContext = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "bayforge-api",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:bayforge-api",
  memoryLimitInMB: "512",
  awsRequestId: randomUUID(),
  logGroupName: "/aws/lambda/bayforge-api",
  logStreamName: "2026/11/25/[$LATEST]0123456789abcdef",
  getRemainingTimeInMillis: () => 29_000,
};

async function viaLambda(r: Req, handler: LambdaApiHandler = lambda): Promise<Answer> {
  const out = await handler(v2Event(r), context);
  const body = out.isBase64Encoded ? Buffer.from(out.body, "base64").toString("utf8") : out.body;
  const headers = Object.fromEntries(Object.entries((out as { headers?: Record<string, string> }).headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { status: out.statusCode, headers, json: body ? JSON.parse(body) : undefined };
}

async function viaLocal(r: Req): Promise<Answer> {
  const res = await fetch(local.url + r.path + (r.query ? `?${r.query}` : ""), {
    method: r.method,
    headers: { accept: "application/json", ...(r.body !== undefined ? { "content-type": "application/json" } : {}), ...r.headers },
    body: r.body === undefined ? undefined : typeof r.body === "string" ? r.body : JSON.stringify(r.body),
  });
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), json: text ? JSON.parse(text) : undefined };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIME = /^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?$/;
/** What may differ between two deployments answering the same request. */
function normalize(a: Answer) {
  const norm = (v: unknown): unknown => {
    if (typeof v === "string") return TIME.test(v) ? "<time>" : v.replace(UUID, "<uuid>").replace(/^req-<uuid>$/, "<request>").replace(/^bay-[0-9a-f]{8}$/, "bay-<id>").replace(/\/discovery\/[0-9a-f]{32}$/, "/discovery/<token>");
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
    return v;
  };
  // transport headers are the server's (node's http or API Gateway's), not the app's
  const skip = new Set(["date", "connection", "keep-alive", "transfer-encoding", "content-length"]);
  const headers = Object.fromEntries(Object.entries(a.headers).filter(([k]) => !skip.has(k)).map(([k, v]) => [k, norm(v)]).sort());
  return { status: a.status, headers, json: norm(a.json) };
}

/** Sends `r` both ways; asserts the two answers are the same; returns the Lambda's. */
async function same(r: Req, handler: LambdaApiHandler = lambda): Promise<Answer> {
  const [l, s] = [await viaLambda(r, handler), await viaLocal({ ...r, base64: false })];
  assert.deepEqual(normalize(l), normalize(s), `${r.method} ${r.path}: Lambda and local server differ`);
  return l;
}

describe("the API on Lambda (API Gateway HTTP API v2 events; embedded SQLite stores, noauth) answers as the local server does", () => {
  it("POST /v1/baymodels: 201 + Location and the baymodel", async () => {
    const r = await same({ method: "POST", path: "/v1/baymodels", body: BAYMODEL });
    assert.equal(r.status, 201);
    assert.match(r.headers["content-type"], /^application\/json/);
    assert.equal(r.headers.location, `${PUBLIC_URL}/v1/baymodels/${r.json.uuid}`);
    assert.equal(r.json.name, "k8s-model");
    assert.equal((await stores.table.getBayModel(r.json.uuid))?.name, "k8s-model");
  });

  it("POST /v1/bays: 201 + Location with the full bay in CREATE_IN_PROGRESS (1.1), its create queued", async () => {
    const r = await same({ method: "POST", path: "/v1/bays", body: { name: "k8s-one", baymodel_id: "k8s-model", node_count: 2 } });
    assert.equal(r.status, 201);
    assert.equal(r.headers.location, `${PUBLIC_URL}/v1/bays/${r.json.uuid}`);
    assert.equal(r.json.status, "CREATE_IN_PROGRESS");
    assert.equal(r.json.node_count, 2);
    const [m] = await stores.queue.receive(1, 1);
    assert.deepEqual([m.body.kind, m.body.bayId], ["bay.create", r.json.uuid]);
    await stores.queue.changeVisibility(m.receipt, 0);
  });

  it("GET /v1/bays/{name} and GET /v1/bays?limit=1 (query string) answer 200", async () => {
    const one = await same({ method: "GET", path: "/v1/bays/k8s-one" });
    assert.equal(one.status, 200);
    assert.equal(one.json.name, "k8s-one");
    assert.deepEqual(one.json.links.map((l: { href: string }) => l.href.startsWith(PUBLIC_URL)), [true, true]);
    const list = await same({ method: "GET", path: "/v1/bays", query: "limit=1" });
    assert.equal(list.status, 200);
    assert.equal(list.json.bays.length, 1);
  });

  it("a bad request: 400 in Magnum's error envelope, nothing written", async () => {
    const before = (await stores.table.listBays({})).length;
    const r = await same({ method: "POST", path: "/v1/bays", body: { name: "zero", baymodel_id: "k8s-model", node_count: 0 } });
    assert.equal(r.status, 400);
    const [e, ...more] = r.json.errors;
    assert.deepEqual(more, []);
    assert.deepEqual(Object.keys(e).sort(), ["code", "detail", "links", "request_id", "status", "title"]);
    assert.equal(e.status, 400);
    assert.match(e.detail, /node_count/);
    assert.equal(e.request_id, r.headers["x-openstack-request-id"]);
    assert.equal((await stores.table.listBays({})).length, before);
    const junk = await same({ method: "POST", path: "/v1/bays", body: "{not json" });
    assert.equal(junk.status, 400);
    assert.ok(junk.json.errors[0].detail);
  });

  it("a body over the limit is 413 in the envelope, nothing written, whether or not the event says its length", async () => {
    const before = (await stores.table.listBays({})).length;
    const big = { name: "big", baymodel_id: "k8s-model", labels: { pad: "x".repeat(64 * 1024) } };
    const withLength = await same({ method: "POST", path: "/v1/bays", body: big });
    assert.equal(withLength.status, 413);
    assert.match(withLength.json.errors[0].detail, /exceeds the limit of \d+ bytes/);
    // an event whose headers name no length (the app counts the body itself)
    const event = v2Event({ method: "POST", path: "/v1/bays", body: big }) as unknown as { headers: Record<string, string> };
    delete event.headers["content-length"];
    const out = await lambda(event as unknown as LambdaEvent, context);
    assert.equal(out.statusCode, 413);
    assert.match(JSON.parse(out.body).errors[0].detail, /exceeds the limit/);
    assert.equal((await stores.table.listBays({})).length, before);
  });

  it("a base64-encoded body (isBase64Encoded) is decoded: POST /v1/bays at 1.2 answers 202 {uuid}", async () => {
    const r = await same({
      method: "POST",
      path: "/v1/bays",
      body: { name: "k8s-b64", baymodel_id: "k8s-model" },
      headers: { "OpenStack-API-Version": "container-infra 1.2" },
      base64: true,
    });
    assert.equal(r.status, 202);
    assert.deepEqual(Object.keys(r.json), ["uuid"]);
    assert.equal((await stores.table.getBay(r.json.uuid))?.name, "k8s-b64");
  });

  it("microversion headers: both ranges on every answer, latest, the mitaka header, 406 for an unsupported one", async () => {
    const dflt = await same({ method: "GET", path: "/v1/bays" });
    for (const [k, v] of Object.entries({
      "openstack-api-version": "container-infra 1.1",
      "openstack-api-minimum-version": "container-infra 1.1",
      "openstack-api-maximum-version": "container-infra 1.14",
      "x-openstack-magnum-api-minimum-version": "1.1",
      "x-openstack-magnum-api-maximum-version": "1.14",
    }))
      assert.equal(dflt.headers[k], v, k);
    const latest = await same({ method: "GET", path: "/v1/clusters", headers: { "OpenStack-API-Version": "container-infra latest" } });
    assert.equal(latest.headers["openstack-api-version"], "container-infra 1.14");
    const mitaka = await same({ method: "GET", path: "/v1/bays/k8s-one", headers: { "X-OpenStack-Magnum-API-Version": "1.1" } });
    assert.equal(mitaka.status, 200);
    const tooNew = await same({ method: "GET", path: "/v1/bays", headers: { "OpenStack-API-Version": "container-infra 1.99" } });
    assert.equal(tooNew.status, 406);
    assert.equal(tooNew.json.errors[0].status, 406);
    assert.equal(tooNew.headers["openstack-api-maximum-version"], "container-infra 1.14");
  });

  it("version discovery at / and an unknown route (404 envelope) answer the same", async () => {
    const root = await same({ method: "GET", path: "/" });
    assert.equal(root.status, 200);
    const missing = await same({ method: "GET", path: "/v1/nothing-here" });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.errors[0].status, 404);
  });
});

describe("batch manifests on the AWS stores (DynamoDB on dynalite, SQS on fauxqs) answer as the local server does", () => {
  const MANIFEST = {
    baymodels: [{ ...BAYMODEL, name: "fleet-model" }],
    bays: [
      { name: "fleet-a", baymodel: "fleet-model", node_count: 2 },
      { name: "fleet-b", baymodel: "fleet-model" },
    ],
  };
  let id: string;

  it("POST /v1/batches: 202 + Location {uuid, links}; the batch is in the table and ONE batch.apply is on the SQS queue", async () => {
    const r = await same({ method: "POST", path: "/v1/batches", body: MANIFEST }, awsLambda);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    id = r.json.uuid;
    assert.equal(r.headers.location, `${PUBLIC_URL}/v1/batches/${id}`);
    const stored = await awsStores.batches.getBatch(id);
    assert.deepEqual(stored?.manifest.bays.map((b) => b.name), ["fleet-a", "fleet-b"]);
    assert.deepEqual(stored?.items.map((i) => i.action), ["pending", "pending"]);
    const records = await aws.receiveRecords();
    assert.deepEqual(records.map((m) => JSON.parse(m.body)).map((b) => [b.kind, b.batchId]), [["batch.apply", id]]);
  });

  it("GET /v1/batches/{id}: 200 with every bay pending, nothing done yet; another project's caller gets 404", async () => {
    const r = await viaLambda({ method: "GET", path: `/v1/batches/${id}` }, awsLambda);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.summary, { total: 2, create: 0, scale: 0, unchanged: 0, pending: 2, complete: 0, in_progress: 2, failed: 0 });
    assert.deepEqual(r.json.bays.map((b: { name: string; action: string }) => [b.name, b.action]), [["fleet-a", "pending"], ["fleet-b", "pending"]]);
    assert.equal(r.json.done, false);
    // the local server's own batch answers the same
    const mine = await viaLocal({ method: "POST", path: "/v1/batches", body: MANIFEST });
    const theirs = await viaLocal({ method: "GET", path: `/v1/batches/${mine.json.uuid}` });
    assert.deepEqual(normalize(r), normalize(theirs));
    const other = await viaLambda({ method: "GET", path: `/v1/batches/${id}`, headers: { "X-Project-Id": "someone-else" } }, awsLambda);
    assert.equal(other.status, 404);
  });

  it("a bad manifest: 400 listing every problem, nothing stored or queued (as locally)", async () => {
    const r = await same({ method: "POST", path: "/v1/batches", body: { bays: [{ name: "9bad", baymodel: "nowhere", node_count: 0 }] } }, awsLambda);
    assert.equal(r.status, 400);
    assert.match(r.json.errors[0].detail, /has 2 problems; nothing was applied:\nbays\[0\]\.name: .*\nbays\[0\]\.node_count: /);
    assert.deepEqual(await aws.receiveRecords(), []);
  });
});

describe("the API's Lambda entry reads its configuration from the environment", () => {
  it("names every missing variable, and refuses noauth (local use only) before touching AWS", async () => {
    const { lambdaHandlerFromEnv } = await import("../../functions/api/lambda.ts");
    const quiet = createLogger({}, "error", () => {});
    await assert.rejects(lambdaHandlerFromEnv({ BAYFORGE_AUTH: "noauth", BAYFORGE_PUBLIC_URL: PUBLIC_URL }, quiet), /BAYFORGE_AUTH=noauth is for local use only/);
    await assert.rejects(lambdaHandlerFromEnv({}, quiet), /BAYFORGE_PUBLIC_URL must name the API's public URL/);
    await assert.rejects(
      lambdaHandlerFromEnv({ BAYFORGE_PUBLIC_URL: PUBLIC_URL, BAYFORGE_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/work" }, quiet),
      /needs BAYFORGE_TABLE_NAME, BAYFORGE_KMS_KEY_ID/,
    );
  });
});

describe("the API on Lambda beats its /v1/mservices row as its function, inside the invocation", () => {
  const ADMIN = { "x-roles": "admin" };
  it("on the AWS stores: the first invocation beats (host: the function's name), the next ones within 10 s do not", async () => {
    const vault = await LocalKeyVault.forDataDir(dir, {});
    const settings = loadSettings({ BAYFORGE_DATA_DIR: dir, BAYFORGE_AUTH: "noauth", BAYFORGE_PUBLIC_URL: PUBLIC_URL });
    const host = `bayforge-api-${randomUUID().slice(0, 8)}`;
    // as lambdaHandlerFromEnv composes it (heartbeatHost: AWS_LAMBDA_FUNCTION_NAME)
    const h = createLambdaHandler({ settings, log: createLogger({}, "error", () => {}), ...awsStores, vault, heartbeatHost: host });
    assert.equal((await viaLambda({ method: "GET", path: "/v1" }, h)).status, 200);
    const first = await viaLambda({ method: "GET", path: "/v1/mservices", headers: ADMIN }, h);
    assert.equal(first.status, 200, JSON.stringify(first.json));
    const row = first.json.mservices.find((m: { host: string }) => m.host === host);
    assert.deepEqual({ ...row, id: 0, created_at: "", last_seen_up: "" }, { id: 0, host, binary: "bayforge-api", state: "up", report_count: 1, disabled: false, disabled_reason: null, created_at: "", updated_at: null, last_seen_up: "" });
    const again = await viaLambda({ method: "GET", path: "/v1/mservices", headers: ADMIN }, h);
    assert.equal(again.json.mservices.find((m: { host: string }) => m.host === host).report_count, 1, "one beat per 10 s per container");
    const refused = await viaLambda({ method: "GET", path: "/v1/mservices", headers: { "x-project-id": "demo" } }, h);
    assert.equal(refused.status, 403);
  });

  it("a beat that fails only logs a warning: the request is answered as without it", async () => {
    const vault = await LocalKeyVault.forDataDir(dir, {});
    const settings = loadSettings({ BAYFORGE_DATA_DIR: dir, BAYFORGE_AUTH: "noauth", BAYFORGE_PUBLIC_URL: PUBLIC_URL });
    const lines: string[] = [];
    const services = { beat: () => Promise.reject(new Error("ProvisionedThroughputExceededException")), list: async () => [] };
    const h = createLambdaHandler({ settings, log: createLogger({}, "debug", (l) => lines.push(l)), ...stores, services, vault, heartbeatHost: "bayforge-api-failing" });
    const r = await viaLambda({ method: "GET", path: "/v1/baymodels" }, h);
    assert.equal(r.status, 200);
    assert.ok(lines.some((l) => JSON.parse(l).level === "warn" && /heartbeat failed/.test(JSON.parse(l).msg)), lines.join("\n"));
  });
});
