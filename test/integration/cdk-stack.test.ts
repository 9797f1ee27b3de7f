// The AWS deployment (infra/aws) as CloudFormation: synthesized offline with the real Lambda
// bundles (built first when dist/ lacks them) and checked with aws-cdk-lib/assertions. Twice:
// without chat-ops (no webhook at all) and with a chat-ops secret (the webhook function, its
// routes and grants).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { BayforgeStack, BUNDLES, ENV, HEAT_STEPS_AT_ONCE, KEY_ACTIONS, REPO_ROOT, TABLE_ACTIONS, WEBHOOK_ROUTES } from "../../infra/aws/stack.ts";
import { loadSettings } from "../../shared/config.ts";
import { WEBHOOK_ENV } from "../../functions/webhook/lambda.ts";
import { tableDefinition, TTL_ATTRIBUTE } from "../../shared/adapters/dynamodb/table-definition.ts";
import { AWS_ENV } from "../../shared/adapters/aws/index.ts";

const DIST = join(REPO_ROOT, "dist");
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bayforge/clouds-AbCdEf";
const CHATOPS_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bayforge/chatops-GhIjKl";

type Resource = { Type: string; Properties: Record<string, any>; Condition?: string };
type Json = Record<string, any>;

let template: Template;
let outdir: string;
let resources: Record<string, Resource>;
/** the stack with a chat-ops secret: the webhook function is deployed */
let chatTemplate: Template;
let chatResources: Record<string, Resource>;
const ofType = (type: string, res = resources) => Object.entries(res).filter(([, r]) => r.Type === type);
const only = (type: string, res = resources): [string, Resource] => {
  const all = ofType(type, res);
  assert.equal(all.length, 1, `one ${type}`);
  return all[0];
};
const ref = (logicalId: string) => ({ Ref: logicalId });
const arnOf = (logicalId: string) => ({ "Fn::GetAtt": [logicalId, "Arn"] });
const idOf = (type: string, pred: (r: Resource) => boolean, res = resources): string => {
  const hit = ofType(type, res).filter(([, r]) => pred(r));
  assert.equal(hit.length, 1, `exactly one matching ${type}`);
  return hit[0][0];
};
const fnId = (handler: string, description: RegExp, res = resources) =>
  idOf("AWS::Lambda::Function", (r) => r.Properties.Handler === handler && description.test(r.Properties.Description), res);

before(() => {
  if (BUNDLES.some((b) => !existsSync(join(DIST, b, "index.mjs")))) {
    const r = spawnSync(process.execPath, ["scripts/build.mjs", "--quiet"], { cwd: REPO_ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, `npm run build failed:\n${r.stderr}`);
  }
  outdir = mkdtempSync(join(tmpdir(), "bayforge-cdk-"));
  const app = new App({ outdir });
  const stack = new BayforgeStack(app, "BayforgeTest", { openstackSecretArn: SECRET_ARN });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
  const chat = new BayforgeStack(new App({ outdir }), "BayforgeChatOpsTest", { openstackSecretArn: SECRET_ARN, chatopsSecretArn: CHATOPS_SECRET_ARN });
  chatTemplate = Template.fromStack(chat);
  chatResources = chatTemplate.toJSON().Resources;
});

after(() => rmSync(outdir, { recursive: true, force: true }));

describe("AWS stack (infra/aws, CDK)", () => {
  it("work queue: dead-letter queue with redrive after 5 receives, visibility timeout ≥ 6× the worker's timeout", () => {
    const worker = resources[fnId("index.handler", /worker: certificates/)];
    const dlqId = idOf("AWS::SQS::Queue", (r) => !r.Properties.RedrivePolicy);
    const [queueId, queue] = ofType("AWS::SQS::Queue").find(([, r]) => r.Properties.RedrivePolicy)!;
    assert.deepEqual(queue.Properties.RedrivePolicy, { deadLetterTargetArn: arnOf(dlqId), maxReceiveCount: 5 });
    assert.ok(queue.Properties.VisibilityTimeout >= 6 * worker.Properties.Timeout, `${queue.Properties.VisibilityTimeout} ≥ 6 × ${worker.Properties.Timeout}`);
    assert.equal(resources[dlqId].Properties.MessageRetentionPeriod, 14 * 24 * 3600);
    assert.ok(queueId);
  });

  it("the worker consumes the queue in batches with ReportBatchItemFailures and a batching window; the DLQ has its own consumer", () => {
    const queueId = idOf("AWS::SQS::Queue", (r) => !!r.Properties.RedrivePolicy);
    const dlqId = idOf("AWS::SQS::Queue", (r) => !r.Properties.RedrivePolicy);
    const workerId = fnId("index.handler", /worker: certificates/);
    const dlqFnId = fnId("index.handler", /dead letters/);
    const mappings = ofType("AWS::Lambda::EventSourceMapping").map(([, r]) => r.Properties);
    assert.equal(mappings.length, 2);
    const forQueue = mappings.find((m) => JSON.stringify(m.EventSourceArn) === JSON.stringify(arnOf(queueId)))!;
    assert.deepEqual(forQueue.FunctionName, ref(workerId));
    assert.deepEqual(forQueue.FunctionResponseTypes, ["ReportBatchItemFailures"]);
    assert.ok(forQueue.MaximumBatchingWindowInSeconds > 0);
    assert.ok(forQueue.BatchSize > 1);
    const forDlq = mappings.find((m) => JSON.stringify(m.EventSourceArn) === JSON.stringify(arnOf(dlqId)))!;
    assert.deepEqual(forDlq.FunctionName, ref(dlqFnId));
    assert.deepEqual(forDlq.FunctionResponseTypes, ["ReportBatchItemFailures"]);
  });

  it("the worker's Heat load: 2 instances × batches of 4 run at once = 8 steps, the embedded default's; no reserved concurrency", () => {
    const workerId = fnId("index.handler", /worker: certificates/);
    const queueId = idOf("AWS::SQS::Queue", (r) => !!r.Properties.RedrivePolicy);
    const forQueue = ofType("AWS::Lambda::EventSourceMapping").map(([, r]) => r.Properties).find((m) => JSON.stringify(m.EventSourceArn) === JSON.stringify(arnOf(queueId)))!;
    const worker = resources[workerId].Properties;
    const perInstance = Number(worker.Environment.Variables[ENV.workerConcurrency]);
    assert.deepEqual(forQueue.ScalingConfig, { MaximumConcurrency: 2 });
    assert.equal(perInstance, 4);
    assert.equal(forQueue.BatchSize, perInstance, "a batch is what one instance runs at once: no message waits behind the others' Heat calls");
    assert.equal(forQueue.ScalingConfig.MaximumConcurrency * perInstance, loadSettings({}).workerConcurrency, "as many steps at once as the embedded default runs");
    assert.equal(HEAT_STEPS_AT_ONCE.instances * HEAT_STEPS_AT_ONCE.perInstance, 8);
    // a reservation would fail to deploy on an account with the least concurrency (10 unreserved)
    assert.equal(worker.ReservedConcurrentExecutions, undefined);
  });

  it("the worker's Heat load can be raised (workerInstances, workerConcurrency), within what SQS event sources and a batch allow", () => {
    const t = Template.fromStack(new BayforgeStack(new App({ outdir }), "BayforgeLoadTest", { openstackSecretArn: SECRET_ARN, workerInstances: 5, workerConcurrency: 6 }));
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", { BatchSize: 6, ScalingConfig: { MaximumConcurrency: 5 } });
    t.hasResourceProperties("AWS::Lambda::Function", { Description: Match.stringLikeRegexp("^Bayforge worker:"), Environment: { Variables: Match.objectLike({ [ENV.workerConcurrency]: "6" }) } });
    for (const bad of [{ workerInstances: 1 }, { workerInstances: 2.5 }, { workerConcurrency: 0 }, { workerConcurrency: 11 }])
      assert.throws(() => new BayforgeStack(new App({ outdir }), `BayforgeBad${Object.values(bad)[0]}`.replace(".", ""), { openstackSecretArn: SECRET_ARN, ...bad }), /must be a whole number/);
  });

  it("DynamoDB table: on-demand, point-in-time recovery, TTL on expires_at, keys and GSIs as the adapter's table definition", () => {
    const [, table] = only("AWS::DynamoDB::Table");
    const def = tableDefinition("unused");
    const p = table.Properties;
    assert.equal(p.BillingMode, "PAY_PER_REQUEST");
    assert.deepEqual(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.deepEqual(p.TimeToLiveSpecification, { AttributeName: TTL_ATTRIBUTE, Enabled: true });
    assert.equal(TTL_ATTRIBUTE, "expires_at");
    assert.deepEqual(p.KeySchema, def.KeySchema);
    const sortByName = <T extends { AttributeName?: string }>(xs: T[]) => [...xs].sort((a, b) => a.AttributeName!.localeCompare(b.AttributeName!));
    assert.deepEqual(sortByName(p.AttributeDefinitions), sortByName(def.AttributeDefinitions!));
    const gsis = (xs: Json[]) => xs.map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection })).sort((a, b) => a.IndexName.localeCompare(b.IndexName));
    assert.deepEqual(gsis(p.GlobalSecondaryIndexes), gsis(def.GlobalSecondaryIndexes!));
    assert.equal((resources[only("AWS::DynamoDB::Table")[0]] as Json).DeletionPolicy, "Retain");
  });

  it("KMS key for the key vault with rotation on", () => {
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  });

  it("four functions on nodejs22.x from the bundles, each with the deployment's environment and its own log group with retention", () => {
    const fns = ofType("AWS::Lambda::Function");
    assert.equal(fns.length, 4);
    for (const [k, name] of Object.entries(AWS_ENV)) assert.equal(ENV[k as keyof typeof ENV], name, `the stack's ${k} is the adapters' ${name}`);
    const handlers = fns.map(([, r]) => r.Properties.Handler).sort();
    assert.deepEqual(handlers, ["index.handler", "index.handler", "index.handler", "index.sweepHandler"]);
    const logGroups = new Map(ofType("AWS::Logs::LogGroup"));
    for (const [id, f] of fns) {
      const p = f.Properties;
      assert.equal(p.Runtime, "nodejs22.x", id);
      assert.deepEqual(p.Architectures, ["arm64"], id);
      for (const name of [ENV.tableName, ENV.queueUrl, ENV.kmsKeyId, ENV.openstackSecret, ENV.publicUrl, ENV.maxReceives])
        assert.ok(p.Environment.Variables[name] !== undefined, `${id} has ${name}`);
      assert.deepEqual(p.Environment.Variables[ENV.openstackSecret], ref("OpenStackSecretArn"));
      assert.equal(p.Environment.Variables[ENV.maxReceives], "5");
      const lg = p.LoggingConfig?.LogGroup?.Ref as string;
      assert.ok(logGroups.has(lg), `${id} logs to its own log group`);
      assert.ok(logGroups.get(lg)!.Properties.RetentionInDays > 0);
    }
    // one per function, and the HTTP API's access log
    assert.equal(logGroups.size, 5);
    const [stageId, stage] = only("AWS::ApiGatewayV2::Stage");
    assert.ok(logGroups.has(stage.Properties.AccessLogSettings.DestinationArn["Fn::GetAtt"][0]), `${stageId} logs access to its own log group`);
    assert.doesNotMatch(stage.Properties.AccessLogSettings.Format, /\$context\.path|querystring/i, "no paths or query strings (discovery URLs) in the access log");
    // the handlers the functions name are what the bundles export
    template.hasResourceProperties("AWS::Lambda::Function", { Handler: "index.sweepHandler", Description: Match.stringLikeRegexp("sweeper") });
  });

  it("the HTTP API sends every route to the api function (Lambda proxy, payload 2.0)", () => {
    const apiFnId = fnId("index.handler", /Bayforge API/);
    const [apiId] = only("AWS::ApiGatewayV2::Api");
    const [integrationId, integration] = only("AWS::ApiGatewayV2::Integration");
    assert.equal(integration.Properties.IntegrationType, "AWS_PROXY");
    assert.equal(integration.Properties.PayloadFormatVersion, "2.0");
    assert.deepEqual(integration.Properties.IntegrationUri, arnOf(apiFnId));
    const [, route] = only("AWS::ApiGatewayV2::Route");
    assert.equal(route.Properties.RouteKey, "$default");
    assert.deepEqual(route.Properties.ApiId, ref(apiId));
    assert.deepEqual(route.Properties.Target, { "Fn::Join": ["", ["integrations/", ref(integrationId)]] });
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", { StageName: "$default", AutoDeploy: true });
  });

  it("the sweeper runs on an EventBridge schedule", () => {
    const sweeperId = fnId("index.sweepHandler", /sweeper/);
    const [, rule] = only("AWS::Events::Rule");
    assert.equal(rule.Properties.ScheduleExpression, "rate(1 minute)");
    assert.deepEqual(rule.Properties.Targets.map((t: Json) => t.Arn), [arnOf(sweeperId)]);
  });

  it("alarms: dead-letter queue depth > 0, worker errors > 0 (to an SNS topic)", () => {
    const dlqId = idOf("AWS::SQS::Queue", (r) => !r.Properties.RedrivePolicy);
    const workerId = fnId("index.handler", /worker: certificates/);
    const [topicId] = only("AWS::SNS::Topic");
    const alarms = ofType("AWS::CloudWatch::Alarm").map(([, r]) => r.Properties);
    const dlqAlarm = alarms.find((a) => a.Namespace === "AWS/SQS" && a.MetricName === "ApproximateNumberOfMessagesVisible")!;
    assert.ok(dlqAlarm, "a DLQ depth alarm");
    assert.deepEqual(dlqAlarm.Dimensions, [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }]);
    assert.equal(dlqAlarm.Threshold, 0);
    assert.equal(dlqAlarm.ComparisonOperator, "GreaterThanThreshold");
    assert.deepEqual(dlqAlarm.AlarmActions, [ref(topicId)]);
    const errors = alarms.find((a) => a.Namespace === "AWS/Lambda" && a.MetricName === "Errors" && JSON.stringify(a.Dimensions).includes(workerId))!;
    assert.ok(errors, "a worker errors alarm");
    assert.equal(errors.Threshold, 0);
    assert.equal(errors.ComparisonOperator, "GreaterThanThreshold");
  });

  it("the OpenStack secret is referenced by a parameter (complete ARN), not created", () => {
    assert.equal(ofType("AWS::SecretsManager::Secret").length, 0);
    const params = template.toJSON().Parameters;
    assert.equal(params.OpenStackSecretArn.Default, SECRET_ARN);
    assert.match(SECRET_ARN, new RegExp(params.OpenStackSecretArn.AllowedPattern));
    assert.doesNotMatch("arn:aws:secretsmanager:eu-west-1:123456789012:secret:bayforge/clouds", new RegExp(params.OpenStackSecretArn.AllowedPattern));
    assert.equal(params.PublicUrl.Default, "");
  });
});

describe("AWS stack: least privilege", () => {
  // every statement of every function's role policy, with the function it belongs to
  const statements = (res = resources) => {
    const fnOfRole = new Map(ofType("AWS::Lambda::Function", res).map(([id, r]) => [r.Properties.Role["Fn::GetAtt"][0] as string, id]));
    return ofType("AWS::IAM::Policy", res).flatMap(([, p]) =>
      (p.Properties.Roles as Json[]).flatMap((role) =>
        (p.Properties.PolicyDocument.Statement as Json[]).map((s) => ({
          fn: fnOfRole.get(role.Ref) ?? role.Ref,
          actions: ([] as string[]).concat(s.Action),
          resources: ([] as unknown[]).concat(s.Resource),
          effect: s.Effect,
        })),
      ),
    );
  };
  const grantsOf = (fn: string, res = resources) => {
    const out = new Map<string, Set<string>>(); // resource (JSON) → actions
    for (const s of statements(res).filter((x) => x.fn === fn))
      for (const r of s.resources) {
        const k = JSON.stringify(r);
        const set = out.get(k) ?? new Set<string>();
        s.actions.forEach((a) => set.add(a));
        out.set(k, set);
      }
    return out;
  };
  const servicesOf = (fn: string, res = resources) => new Set([...grantsOf(fn, res).values()].flatMap((acts) => [...acts].map((a) => a.split(":")[0])));
  const stacks = () => [["without chat-ops", resources] as const, ["with chat-ops", chatResources] as const];

  it("no data action on a * resource (with and without chat-ops)", () => {
    const data = /^(dynamodb|sqs|kms|secretsmanager):/;
    for (const [, res] of stacks()) {
      for (const s of statements(res))
        if (s.actions.some((a) => data.test(a))) assert.ok(!s.resources.includes("*"), `${s.fn}: ${s.actions.join(",")} on *`);
      for (const s of statements(res)) assert.ok(!s.actions.includes("*") && !s.actions.some((a) => /^[a-z0-9]+:\*$/.test(a)), `${s.fn}: wildcard action ${s.actions}`);
    }
  });

  it("table actions only on the table and its indexes; queue, key and secret actions only on those (with and without chat-ops)", () => {
    for (const [name, res] of stacks()) {
      const [tableId] = only("AWS::DynamoDB::Table", res);
      const [keyId] = only("AWS::KMS::Key", res);
      const queueId = idOf("AWS::SQS::Queue", (r) => !!r.Properties.RedrivePolicy, res);
      const dlqId = idOf("AWS::SQS::Queue", (r) => !r.Properties.RedrivePolicy, res);
      const allowed: Record<string, unknown[]> = {
        // the table and each index by name (no /index/*)
        dynamodb: [arnOf(tableId), ...tableDefinition("unused").GlobalSecondaryIndexes!.map((g) => ({ "Fn::Join": ["", [arnOf(tableId), `/index/${g.IndexName}`]] }))],
        sqs: [arnOf(queueId), arnOf(dlqId)],
        kms: [arnOf(keyId)],
        secretsmanager: [ref("OpenStackSecretArn"), ...(res === chatResources ? [ref("ChatOpsSecretArn")] : [])],
      };
      for (const s of statements(res))
        for (const a of s.actions) {
          const service = a.split(":")[0];
          if (!allowed[service]) continue;
          for (const r of s.resources) assert.ok(allowed[service].some((x) => JSON.stringify(x) === JSON.stringify(r)), `${name}: ${s.fn}: ${a} on ${JSON.stringify(r)}`);
        }
    }
  });

  it("each function gets only what it uses", () => {
    const api = fnId("index.handler", /Bayforge API/);
    const worker = fnId("index.handler", /worker: certificates/);
    const dlq = fnId("index.handler", /dead letters/);
    const sweeper = fnId("index.sweepHandler", /sweeper/);
    const [keyId] = only("AWS::KMS::Key");
    const queueId = idOf("AWS::SQS::Queue", (r) => !!r.Properties.RedrivePolicy);
    const dlqQueueId = idOf("AWS::SQS::Queue", (r) => !r.Properties.RedrivePolicy);
    assert.deepEqual([...servicesOf(api)].sort(), ["dynamodb", "kms", "secretsmanager", "sqs"]);
    assert.deepEqual([...servicesOf(worker)].sort(), ["dynamodb", "kms", "secretsmanager", "sqs"]);
    assert.deepEqual([...servicesOf(dlq)].sort(), ["dynamodb", "secretsmanager", "sqs"]);
    assert.deepEqual([...servicesOf(sweeper)].sort(), ["dynamodb", "secretsmanager", "sqs"]);
    // the api and the sweeper only send; the worker sends and consumes; the DLQ consumer only consumes the DLQ
    assert.ok(!grantsOf(api).get(JSON.stringify(arnOf(queueId)))!.has("sqs:ReceiveMessage"));
    assert.ok(grantsOf(worker).get(JSON.stringify(arnOf(queueId)))!.has("sqs:ReceiveMessage"));
    assert.ok(!grantsOf(dlq).has(JSON.stringify(arnOf(queueId))));
    assert.ok(grantsOf(dlq).get(JSON.stringify(arnOf(dlqQueueId)))!.has("sqs:DeleteMessage"));
    assert.ok(!grantsOf(sweeper).get(JSON.stringify(arnOf(queueId)))!.has("sqs:ReceiveMessage"));
    for (const fn of [api, worker]) assert.deepEqual([...grantsOf(fn).get(JSON.stringify(arnOf(keyId)))!].sort(), [...KEY_ACTIONS].sort());
    for (const fn of [api, worker, dlq, sweeper]) {
      const table = [...grantsOf(fn).entries()].find(([k]) => k.includes("Table") && !k.includes("/index/"))!;
      assert.deepEqual([...table[1]].sort(), [...TABLE_ACTIONS].sort(), `${fn} table actions`);
    }
  });

  // lib-dynamodb's document commands are named without "Item"
  const DOC: Record<string, string> = { Get: "GetItem", Put: "PutItem", Update: "UpdateItem", Delete: "DeleteItem", BatchGet: "BatchGetItem", BatchWrite: "BatchWriteItem", TransactGet: "TransactGetItems", TransactWrite: "TransactWriteItems" };
  /** The IAM actions of the SDK commands the given adapter sources send (`new XCommand(`). */
  const commandsSent = (files: Array<[kind: "dynamodb" | "sqs" | "aws", path: string]>) => {
    const sent = new Set<string>();
    for (const [kind, path] of files) {
      const src = readFileSync(join(REPO_ROOT, path), "utf8");
      for (const [, cmd] of src.matchAll(/new (\w+)Command\(/g)) {
        if (kind === "dynamodb") sent.add(`dynamodb:${DOC[cmd] ?? cmd}`);
        else if (kind === "sqs") sent.add(`sqs:${cmd}`);
        else if (/DataKey|Decrypt|Encrypt/.test(cmd)) sent.add(`kms:${cmd}`);
        else if (/Secret/.test(cmd)) sent.add(`secretsmanager:${cmd}`);
        else sent.add(`unknown:${cmd}`);
      }
    }
    return sent;
  };
  const adapterFiles = (kind: "dynamodb" | "sqs" | "aws") =>
    readdirSync(join(REPO_ROOT, "shared/adapters", kind)).filter((f) => f.endsWith(".ts")).map((f) => [kind, `shared/adapters/${kind}/${f}`] as [typeof kind, string]);

  it("every AWS call the adapters make is granted (the SDK commands they send), with and without chat-ops", () => {
    const sent = commandsSent([...adapterFiles("dynamodb"), ...adapterFiles("sqs"), ...adapterFiles("aws")]);
    assert.ok(sent.size >= 5, `found the adapters' commands: ${[...sent]}`);
    for (const [name, res] of stacks()) {
      const granted = new Set(statements(res).flatMap((s) => s.actions));
      for (const a of sent) assert.ok(granted.has(a), `${name}: ${a} is sent by an adapter but granted to no function`);
    }
  });

  it("the webhook is granted every call its adapters make (all the table's, SendMessage, its secret's GetSecretValue) and nothing else: no KMS, no OpenStack secret, no receiving", () => {
    const webhook = fnId("index.handler", /chat-ops webhook/, chatResources);
    // what functions/webhook/lambda.ts uses: the DynamoDB stores, the SQS queue's send, the chat-ops secret
    const sent = commandsSent([...adapterFiles("dynamodb"), ["aws", "shared/adapters/aws/chatops-secret.ts"]]);
    sent.add("sqs:SendMessage");
    const granted = new Set(statements(chatResources).filter((x) => x.fn === webhook).flatMap((x) => x.actions));
    for (const a of sent) assert.ok(granted.has(a), `the webhook sends ${a} but is not granted it`);
    assert.deepEqual([...servicesOf(webhook, chatResources)].sort(), ["dynamodb", "secretsmanager", "sqs"]);
    const grants = grantsOf(webhook, chatResources);
    const [tableId] = only("AWS::DynamoDB::Table", chatResources);
    assert.deepEqual([...grants.get(JSON.stringify(arnOf(tableId)))!].sort(), [...TABLE_ACTIONS].sort());
    const queueId = idOf("AWS::SQS::Queue", (r) => !!r.Properties.RedrivePolicy, chatResources);
    const queueActions = [...grants.get(JSON.stringify(arnOf(queueId)))!];
    assert.ok(queueActions.includes("sqs:SendMessage") && !queueActions.includes("sqs:ReceiveMessage") && !queueActions.includes("sqs:DeleteMessage"), queueActions.join(","));
    assert.ok(grants.has(JSON.stringify(ref("ChatOpsSecretArn"))));
    assert.ok(!grants.has(JSON.stringify(ref("OpenStackSecretArn"))), "the webhook does not read the OpenStack secret");
    // and besides it only the worker reads the chat-ops secret (its mappings' credentials make
    // the chat-ops bays' stacks), named in its environment
    const worker = fnId("index.handler", /worker: certificates/, chatResources);
    for (const s of statements(chatResources))
      if (s.fn !== webhook && s.fn !== worker) assert.ok(!s.resources.some((r) => JSON.stringify(r) === JSON.stringify(ref("ChatOpsSecretArn"))), `${s.fn} reads the chat-ops secret`);
    assert.deepEqual([...grantsOf(worker, chatResources).get(JSON.stringify(ref("ChatOpsSecretArn")))!].sort(), ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]);
    assert.deepEqual(chatResources[worker].Properties.Environment.Variables[ENV.chatopsSecret], ref("ChatOpsSecretArn"));
    assert.equal(resources[fnId("index.handler", /worker: certificates/)].Properties.Environment.Variables[ENV.chatopsSecret], undefined, "without chat-ops, no such variable");
  });
});

describe("AWS stack: the chat-ops webhook (deployed only when its secret is named)", () => {
  it("without a chat-ops secret there is no webhook: no function, route, parameter or secret grant", () => {
    assert.equal(ofType("AWS::Lambda::Function").filter(([, r]) => /chat-ops/.test(r.Properties.Description)).length, 0);
    assert.deepEqual(ofType("AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties.RouteKey), ["$default"]);
    assert.equal(template.toJSON().Parameters.ChatOpsSecretArn, undefined);
    assert.ok(!JSON.stringify(resources).includes("ChatOps"));
  });

  it("with one: a fifth function on nodejs22.x from the webhook bundle, its own log group with retention, an environment naming the table, queue, public URL and its secret only", () => {
    const fns = ofType("AWS::Lambda::Function", chatResources);
    assert.equal(fns.length, 5);
    const id = fnId("index.handler", /chat-ops webhook/, chatResources);
    const p = chatResources[id].Properties;
    assert.equal(p.Runtime, "nodejs22.x");
    assert.deepEqual(p.Architectures, ["arm64"]);
    assert.ok(p.Timeout <= 29, "within API Gateway's 30 s");
    for (const [k, name] of Object.entries(WEBHOOK_ENV)) assert.equal(ENV[k as keyof typeof ENV], name, `the stack's ${k} is the webhook's ${name}`);
    const vars = p.Environment.Variables;
    assert.deepEqual(Object.keys(vars).sort(), [ENV.chatopsSecret, ENV.publicUrl, ENV.queueUrl, ENV.tableName].sort());
    assert.deepEqual(vars[ENV.chatopsSecret], ref("ChatOpsSecretArn"));
    const [tableId] = only("AWS::DynamoDB::Table", chatResources);
    assert.deepEqual(vars[ENV.tableName], ref(tableId));
    const lg = chatResources[p.LoggingConfig.LogGroup.Ref];
    assert.equal(lg.Type, "AWS::Logs::LogGroup");
    assert.equal(lg.Properties.RetentionInDays, 30);
    assert.equal(ofType("AWS::Logs::LogGroup", chatResources).length, 6); // five functions' and the access log
    // its code is the webhook bundle (the asset CDK staged for it)
    const staged = join(outdir, `asset.${String(p.Code.S3Key).replace(/\.zip$/, "")}`, "index.mjs");
    assert.ok(readFileSync(staged).equals(readFileSync(join(DIST, "webhook", "index.mjs"))), `${staged} is dist/webhook/index.mjs`);
  });

  it("is a parameter (the secret's complete ARN, defaulting to the one given), not a secret the stack creates", () => {
    const params = chatTemplate.toJSON().Parameters;
    assert.equal(params.ChatOpsSecretArn.Default, CHATOPS_SECRET_ARN);
    assert.match(CHATOPS_SECRET_ARN, new RegExp(params.ChatOpsSecretArn.AllowedPattern));
    assert.doesNotMatch("bayforge/chatops", new RegExp(params.ChatOpsSecretArn.AllowedPattern));
    assert.equal(ofType("AWS::SecretsManager::Secret", chatResources).length, 0);
  });

  it("the HTTP API sends POST /webhook/slack and /webhook/mattermost to the webhook, everything else still to the api", () => {
    const webhook = fnId("index.handler", /chat-ops webhook/, chatResources);
    const api = fnId("index.handler", /Bayforge API/, chatResources);
    const integrations = new Map(ofType("AWS::ApiGatewayV2::Integration", chatResources).map(([id, r]) => [id, r.Properties]));
    const target = (route: Resource) => integrations.get(route.Properties.Target["Fn::Join"][1][1].Ref)!;
    const routes = new Map(ofType("AWS::ApiGatewayV2::Route", chatResources).map(([, r]) => [r.Properties.RouteKey as string, r]));
    assert.deepEqual([...routes.keys()].sort(), ["$default", ...WEBHOOK_ROUTES.map((p) => `POST ${p}`)].sort());
    for (const path of WEBHOOK_ROUTES) {
      const i = target(routes.get(`POST ${path}`)!);
      assert.deepEqual(i.IntegrationUri, arnOf(webhook), path);
      assert.equal(i.PayloadFormatVersion, "2.0");
    }
    assert.deepEqual(target(routes.get("$default")!).IntegrationUri, arnOf(api));
    // API Gateway may invoke the webhook
    const perms = ofType("AWS::Lambda::Permission", chatResources).filter(([, r]) => JSON.stringify(r.Properties.FunctionName) === JSON.stringify(arnOf(webhook)));
    assert.ok(perms.length >= 1 && perms.every(([, r]) => r.Properties.Principal === "apigateway.amazonaws.com"));
  });

  it("an alarm on the webhook's errors, and its request URLs in the outputs", () => {
    const webhook = fnId("index.handler", /chat-ops webhook/, chatResources);
    const alarm = ofType("AWS::CloudWatch::Alarm", chatResources).map(([, r]) => r.Properties).find((a) => a.MetricName === "Errors" && JSON.stringify(a.Dimensions).includes(webhook));
    assert.ok(alarm, "a webhook errors alarm");
    assert.match(JSON.stringify(chatTemplate.toJSON().Outputs.ChatOpsUrls.Value), /\/webhook\/slack .*\/webhook\/mattermost/);
  });
});

describe("Lambda bundles (dist/, from scripts/build.mjs)", () => {
  it("export the handlers the stack names, without the embedded default's SQLite", async () => {
    const expected: Record<string, string[]> = { api: ["handler"], worker: ["handler", "sweepHandler"], "worker-dlq": ["handler"], webhook: ["handler"] };
    for (const b of BUNDLES) {
      const file = join(DIST, b, "index.mjs");
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const name of expected[b]) assert.equal(typeof mod[name], "function", `${b} exports ${name}`);
      const text = readFileSync(file, "utf8");
      assert.ok(!/better[-_]sqlite3/.test(text), `${b} bundle mentions better-sqlite3`);
    }
  });

  it("the worker bundles carry the HOT templates beside them and load them from there", () => {
    for (const b of ["worker", "worker-dlq"]) {
      for (const f of ["kubecluster.yaml", "kubemaster.yaml", "kubeminion.yaml"]) assert.ok(existsSync(join(DIST, b, "templates", "kubernetes", f)), `${b}: templates/kubernetes/${f}`);
      assert.match(readFileSync(join(DIST, b, "index.mjs"), "utf8"), /new URL\("\.\/templates\/kubernetes\/kubecluster\.yaml",import\.meta\.url\)/);
    }
  });
});
