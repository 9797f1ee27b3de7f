// What aws-local runs, read from the synthesized CloudFormation template (cdk.out/<stack>.template.json),
// so the local run and the deployed stack cannot drift: each function's code (its CDK asset,
// the copy of dist/<fn> that would be uploaded), handler, environment, timeout, memory and
// reserved concurrency; each SQS event source mapping; each queue's visibility timeout and
// redrive policy; each EventBridge schedule; the HTTP API's routes. Refs and GetAtts are
// resolved to the local stand-ins' names and URLs (intrinsics.ts).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { resolve as resolveValue, resolveString, type Json, type Resolver } from "./intrinsics.ts";

export const ACCOUNT = "000000000000";

type Resource = { Type: string; Properties?: Record<string, Json>; Metadata?: Record<string, Json> };
export interface Template {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Default?: string }>;
  Conditions?: Record<string, Json>;
}

export interface FunctionSpec {
  logicalId: string;
  /** the function's name (AWS_LAMBDA_FUNCTION_NAME): <stack>-<logical id> */
  name: string;
  /** the directory holding index.mjs */
  codeDir: string;
  /** the module's export to call (Handler index.<export>) */
  exportName: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMB: number;
  reservedConcurrency?: number;
}

export interface QueueSpec {
  logicalId: string;
  name: string;
  url: string;
  arn: string;
  /** SQS attributes as CreateQueue takes them (VisibilityTimeout, RedrivePolicy with the local DLQ ARN, ...) */
  attributes: Record<string, string>;
}

export interface MappingSpec {
  functionId: string;
  queueId: string;
  batchSize: number;
  windowSeconds: number;
  reportBatchItemFailures: boolean;
  /** ScalingConfig.MaximumConcurrency: concurrent invocations this mapping may have */
  maxConcurrency?: number;
}

export interface ScheduleSpec {
  functionId: string;
  expression: string;
  everySeconds: number;
}

export interface Topology {
  stackName: string;
  tableNames: string[];
  functions: Map<string, FunctionSpec>;
  queues: Map<string, QueueSpec>;
  mappings: MappingSpec[];
  schedules: ScheduleSpec[];
  /** route key ("$default", "POST /webhook/slack") → function logical id */
  routes: Map<string, string>;
}

export interface LocalContext {
  region: string;
  /** base of the local SQS server's queue URLs (<base>/<account>/<name>) */
  queueUrlBase: string;
  /** the local HTTP API's URL (the ApiEndpoint attribute) */
  apiUrl: string;
  /** values of the template's parameters (defaults apply to the rest) */
  parameters: Record<string, string>;
}

/** The template of `stackName` in cdk.out (default: the only one there). */
export function templatePath(cdkOut: string, stackName?: string): string {
  if (stackName) return join(cdkOut, `${stackName}.template.json`);
  const found = existsSync(cdkOut) ? readdirSync(cdkOut).filter((f) => f.endsWith(".template.json")) : [];
  if (found.length !== 1) throw new Error(`expected one *.template.json in ${cdkOut}, found ${found.length}: run \`npm run synth\` (or name the stack: BAYFORGE_AWS_LOCAL_STACK)`);
  return join(cdkOut, found[0]);
}

export function readTopology(file: string, cdkOut: string, local: LocalContext): Topology {
  const t = JSON.parse(readFileSync(file, "utf8")) as Template;
  const stackName = file.replace(/^.*\//, "").replace(/\.template\.json$/, "");
  const of = (type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
  const physical = (id: string) => `${stackName}-${id}`;
  const queueArn = (id: string) => `arn:aws:sqs:${local.region}:${ACCOUNT}:${physical(id)}`;
  const fnArn = (id: string) => `arn:aws:lambda:${local.region}:${ACCOUNT}:function:${physical(id)}`;
  const typeOf = (id: string) => t.Resources[id]?.Type;

  const resolver: Resolver = {
    conditions: t.Conditions,
    ref(name) {
      const pseudo: Record<string, string> = {
        "AWS::Region": local.region,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stackName,
      };
      if (name in pseudo) return pseudo[name];
      if (t.Parameters?.[name]) {
        const v = local.parameters[name] ?? t.Parameters[name].Default;
        if (v === undefined) throw new Error(`the template's parameter ${name} has no default and aws-local gave it no value`);
        return v;
      }
      switch (typeOf(name)) {
        case "AWS::SQS::Queue":
          return `${local.queueUrlBase}/${ACCOUNT}/${physical(name)}`;
        case "AWS::DynamoDB::Table":
        case "AWS::Lambda::Function":
        case "AWS::Logs::LogGroup":
          return physical(name);
        case "AWS::KMS::Key":
          return keyId(name);
        case "AWS::ApiGatewayV2::Integration":
        case "AWS::ApiGatewayV2::Api":
          return name;
      }
      throw new Error(`aws-local cannot Ref ${name} (${typeOf(name) ?? "not in the template"})`);
    },
    getAtt(id, attr) {
      const type = typeOf(id);
      if (type === "AWS::SQS::Queue" && attr === "Arn") return queueArn(id);
      if (type === "AWS::SQS::Queue" && attr === "QueueName") return physical(id);
      if (type === "AWS::SQS::Queue" && attr === "QueueUrl") return resolver.ref(id);
      if (type === "AWS::DynamoDB::Table" && attr === "Arn") return `arn:aws:dynamodb:${local.region}:${ACCOUNT}:table/${physical(id)}`;
      if (type === "AWS::KMS::Key" && attr === "Arn") return `arn:aws:kms:${local.region}:${ACCOUNT}:key/${keyId(id)}`;
      if (type === "AWS::KMS::Key" && attr === "KeyId") return keyId(id);
      if (type === "AWS::Lambda::Function" && attr === "Arn") return fnArn(id);
      if (type === "AWS::ApiGatewayV2::Api" && attr === "ApiEndpoint") return local.apiUrl;
      throw new Error(`aws-local cannot resolve Fn::GetAtt ${id}.${attr} (${type ?? "not in the template"})`);
    },
  };
  const str = (v: Json | undefined) => resolveString(v ?? "", resolver);
  const num = (v: Json | undefined, dflt: number) => (v === undefined ? dflt : Number(resolveValue(v, resolver)));
  /** the logical id a resolved function name or ARN stands for */
  const functionIdOf = (v: Json | undefined) => {
    const name = str(v);
    const id = of("AWS::Lambda::Function").find(([fid]) => name === physical(fid) || name === fnArn(fid))?.[0];
    if (!id) throw new Error(`no function in the template is ${name}`);
    return id;
  };

  const functions = new Map<string, FunctionSpec>();
  for (const [id, r] of of("AWS::Lambda::Function")) {
    const p = r.Properties ?? {};
    const asset = r.Metadata?.["aws:asset:path"];
    if (typeof asset !== "string") throw new Error(`function ${id} has no local code asset (aws:asset:path) in the template`);
    const handler = str(p.Handler);
    const [file, exportName] = handler.split(/\.(?=[^.]+$)/);
    if (file !== "index") throw new Error(`function ${id}: handler ${handler}: aws-local runs index.mjs bundles only`);
    const vars = ((p.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {}) as Record<string, Json>;
    functions.set(id, {
      logicalId: id,
      name: physical(id),
      codeDir: join(cdkOut, asset),
      exportName,
      environment: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, str(v)])),
      timeoutSeconds: num(p.Timeout, 3),
      memoryMB: num(p.MemorySize, 128),
      ...(p.ReservedConcurrentExecutions !== undefined ? { reservedConcurrency: num(p.ReservedConcurrentExecutions, 0) } : {}),
    });
  }

  const queues = new Map<string, QueueSpec>();
  for (const [id, r] of of("AWS::SQS::Queue")) {
    const p = r.Properties ?? {};
    const attributes: Record<string, string> = {};
    for (const k of ["VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize", "ReceiveMessageWaitTimeSeconds"])
      if (p[k] !== undefined) attributes[k] = str(p[k]);
    if (p.RedrivePolicy) {
      const rp = resolveValue(p.RedrivePolicy, resolver) as { deadLetterTargetArn: string; maxReceiveCount: number };
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: rp.deadLetterTargetArn, maxReceiveCount: Number(rp.maxReceiveCount) });
    }
    queues.set(id, { logicalId: id, name: physical(id), url: resolver.ref(id), arn: queueArn(id), attributes });
  }
  const queueIdOf = (arn: string) => [...queues.values()].find((q) => q.arn === arn)?.logicalId;

  const mappings: MappingSpec[] = [];
  for (const [id, r] of of("AWS::Lambda::EventSourceMapping")) {
    const p = r.Properties ?? {};
    if (p.Enabled === false) continue;
    const queueId = queueIdOf(str(p.EventSourceArn));
    if (!queueId) throw new Error(`event source mapping ${id}: aws-local emulates SQS sources only`);
    const scaling = p.ScalingConfig as { MaximumConcurrency?: Json } | undefined;
    mappings.push({
      functionId: functionIdOf(p.FunctionName),
      queueId,
      batchSize: num(p.BatchSize, 10),
      windowSeconds: num(p.MaximumBatchingWindowInSeconds, 0),
      reportBatchItemFailures: ((p.FunctionResponseTypes as Json[] | undefined) ?? []).includes("ReportBatchItemFailures"),
      ...(scaling?.MaximumConcurrency !== undefined ? { maxConcurrency: num(scaling.MaximumConcurrency, 1000) } : {}),
    });
  }

  const schedules: ScheduleSpec[] = [];
  for (const [id, r] of of("AWS::Events::Rule")) {
    const p = r.Properties ?? {};
    if (!p.ScheduleExpression || (p.State !== undefined && str(p.State) !== "ENABLED")) continue;
    const expression = str(p.ScheduleExpression);
    for (const target of (p.Targets as Json[] | undefined) ?? [])
      schedules.push({ functionId: functionIdOf((target as { Arn: Json }).Arn), expression, everySeconds: rateSeconds(expression, id) });
  }

  const integrations = new Map(of("AWS::ApiGatewayV2::Integration").map(([id, r]) => [id, functionIdOf(r.Properties?.IntegrationUri)]));
  const routes = new Map<string, string>();
  for (const [id, r] of of("AWS::ApiGatewayV2::Route")) {
    const target = str(r.Properties?.Target).replace(/^integrations\//, "");
    const fn = integrations.get(target);
    if (!fn) throw new Error(`route ${id}: its target ${target} is not a Lambda integration`);
    routes.set(str(r.Properties?.RouteKey), fn);
  }

  return { stackName, tableNames: of("AWS::DynamoDB::Table").map(([id]) => physical(id)), functions, queues, mappings, schedules, routes };
}

/** EventBridge's rate(N unit) in seconds; cron() is not emulated. */
export function rateSeconds(expression: string, ruleId = "rule"): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!m) throw new Error(`${ruleId}: aws-local runs rate(...) schedules only, not ${expression}`);
  const unit = m[2].startsWith("minute") ? 60 : m[2].startsWith("hour") ? 3600 : 86400;
  return Number(m[1]) * unit;
}

/** A stable key id per key resource (uuid-shaped, as KMS's). */
function keyId(logicalId: string): string {
  const hex = Buffer.from(logicalId.padEnd(16, "0")).toString("hex").slice(0, 32).padEnd(32, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
