// (One file of ~400 lines on purpose: the whole stack, resource by resource, reads as one picture.)
// Bayforge on AWS: the same api and worker as the embedded default, on managed services.
//
//   HTTP API (API Gateway v2, every route) ──▶ api function ──▶ DynamoDB table
//                                                   └──────────▶ SQS work queue ──batch──▶ worker function
//                                                                   │ 5 receives            (ReportBatchItemFailures)
//                                                                   ▼
//                                                                 DLQ ──▶ worker-dlq function (fails the bay)
//   EventBridge rule (every minute) ──▶ sweeper function (worker bundle, export sweepHandler)
//   HTTP API POST /webhook/slack, /webhook/mattermost ──▶ webhook function (optional: chat-ops)
//
// Private keys are encrypted with data keys from a KMS key (rotation on). Bayforge's own
// OpenStack credentials (a clouds.yaml) are a Secrets Manager secret the user creates; the
// stack only references it (parameter OpenStackSecretArn). The chat-ops webhook is deployed
// only when its secret is named (context chatopsSecretArn → parameter ChatOpsSecretArn): a
// stack without chat-ops has no such function, route or grant. Each function gets only the
// grants it needs, on these resources' ARNs; cdk-nag's AwsSolutions rules find nothing
// unsuppressed (test/integration/cdk-nag.test.ts), and what they flag that does not apply is
// acknowledged where it is made, with the reason. Code: dist/<fn> from `npm run build`.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Aws, CfnCondition, CfnOutput, CfnParameter, Duration, Fn, RemovalPolicy, Stack, Validations, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { tableDefinition, TTL_ATTRIBUTE } from "../../shared/adapters/dynamodb/table-definition.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

/** Lambda bundles built by scripts/build.mjs (dist/<name>/index.mjs). */
export const BUNDLES = ["api", "worker", "worker-dlq", "webhook"] as const;
export type BundleName = (typeof BUNDLES)[number];

/**
 * Environment variables of the Lambda functions: shared/adapters/aws's AWS_ENV (spelled out
 * here so that synth does not load the AWS SDK; test/integration/cdk-stack.test.ts checks
 * they are the same) and loadSettings' BAYFORGE_MAX_RECEIVES (the queue's maxReceiveCount,
 * which dead-lettered bays' reasons name).
 */
export const ENV = {
  tableName: "BAYFORGE_TABLE_NAME",
  queueUrl: "BAYFORGE_QUEUE_URL",
  kmsKeyId: "BAYFORGE_KMS_KEY_ID",
  openstackSecret: "BAYFORGE_OPENSTACK_SECRET_ARN",
  publicUrl: "BAYFORGE_PUBLIC_URL",
  maxReceives: "BAYFORGE_MAX_RECEIVES",
  chatopsSecret: "BAYFORGE_CHATOPS_SECRET_ARN",
  workerConcurrency: "BAYFORGE_WORKER_CONCURRENCY",
} as const;

/** The chat-ops routes of the HTTP API (the webhook function's; every other route is the api's). */
export const WEBHOOK_ROUTES = ["/webhook/slack", "/webhook/mattermost"] as const;

/**
 * What the adapters call (shared/adapters/dynamodb: Get, Put, Update, Delete, Query; aws/:
 * GenerateDataKey, Decrypt; GetSecretValue), granted on these resources only: no Scan, no
 * batch or transaction calls, no streams, no Encrypt/ReEncrypt. test/integration/cdk-stack.test.ts
 * checks that every SDK command the adapters send is covered.
 */
export const TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"] as const;
export const KEY_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"] as const;

/** A Secrets Manager secret's complete ARN (with the 6-character suffix that grants need). */
const SECRET_ARN_PATTERN = "^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+-[A-Za-z0-9]{6}$";

export interface BayforgeStackProps extends StackProps {
  /** where the bundles are (default <repo>/dist) */
  distDir?: string;
  /**
   * Complete ARN of the Secrets Manager secret holding Bayforge's clouds.yaml. Default of the
   * OpenStackSecretArn parameter (context `openstackSecretArn`); without it the parameter
   * must be given at deploy time.
   */
  openstackSecretArn?: string;
  /** Default of the PublicUrl parameter (context `publicUrl`); empty: the HTTP API's own URL. */
  publicUrl?: string;
  /**
   * Complete ARN of the Secrets Manager secret holding the chat-ops webhook's Slack signing
   * secret, Mattermost token and team → project map (JSON, see shared/adapters/aws/chatops-secret.ts).
   * Given (context `chatopsSecretArn`): the webhook function and its routes are deployed, and
   * this is the default of the ChatOpsSecretArn parameter. Not given: no webhook at all.
   */
  chatopsSecretArn?: string;
  /** e-mail address subscribed to the alarms' SNS topic (context `alarmEmail`) */
  alarmEmail?: string;
  /** the worker function's timeout (default 2 minutes); the queue's visibility timeout is 6× it */
  workerTimeout?: Duration;
  /**
   * The worker's Heat load: at most `workerInstances` instances at once (the SQS event
   * source's maximum concurrency, 2 to 1000; default 2), each taking batches of
   * `workerConcurrency` messages and running them together (default 4): 8 steps against Heat
   * at once, as the embedded default runs (see HEAT_STEPS_AT_ONCE). Context `workerInstances`,
   * `workerConcurrency`.
   */
  workerInstances?: number;
  workerConcurrency?: number;
  /** SQS receives before a message is dead-lettered (default 5) */
  maxReceiveCount?: number;
  /** CloudWatch Logs retention of every function's log group (default one month) */
  logRetention?: logs.RetentionDays;
  /** NODE_OPTIONS=--enable-source-maps: readable stack traces, ~10 ms more per cold start (context `sourceMaps`; default off) */
  enableSourceMaps?: boolean;
}

/**
 * How many worker steps run against Heat at once by default: 2 instances × 4 messages = 8, the
 * embedded default's BAYFORGE_WORKER_CONCURRENCY, which is what one heat-engine deployment (the
 * dev cloud's: one engine worker on 2 cores) is tested with. The earlier 10 × 8 = 80 made that
 * engine fall behind on a 200-bay batch: heat-api answered 500 "No reply on topic engine" (its
 * 60 s RPC wait ran out) and steps timed out. 2 is the least maximum concurrency SQS event
 * sources take. A batch is no larger than what one instance runs at once, so no message waits
 * behind the others' Heat calls and the function's timeout is each step's own.
 */
export const HEAT_STEPS_AT_ONCE = { instances: 2, perInstance: 4 } as const;

export class BayforgeStack extends Stack {
  readonly table: dynamodb.Table;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly key: kms.Key;
  readonly api: lambda.Function;
  readonly worker: lambda.Function;
  readonly deadLetterWorker: lambda.Function;
  readonly sweeper: lambda.Function;
  /** the chat-ops webhook, when a chat-ops secret was given */
  readonly webhook?: lambda.Function;
  readonly httpApi: apigw.HttpApi;

  constructor(scope: Construct, id: string, props: BayforgeStackProps = {}) {
    super(scope, id, props);
    const distDir = props.distDir ?? join(REPO_ROOT, "dist");
    const workerTimeout = props.workerTimeout ?? Duration.minutes(2);
    const dlqTimeout = Duration.minutes(1);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const workerInstances = props.workerInstances ?? HEAT_STEPS_AT_ONCE.instances;
    const workerConcurrency = props.workerConcurrency ?? HEAT_STEPS_AT_ONCE.perInstance;
    if (!Number.isInteger(workerInstances) || workerInstances < 2 || workerInstances > 1000)
      throw new Error(`workerInstances must be a whole number from 2 to 1000 (an SQS event source's maximum concurrency), not ${workerInstances}`);
    if (!Number.isInteger(workerConcurrency) || workerConcurrency < 1 || workerConcurrency > 10)
      throw new Error(`workerConcurrency must be a whole number from 1 to 10 (it is also the batch size), not ${workerConcurrency}`);

    // Parameters ------------------------------------------------------------------------------
    const secretArn = new CfnParameter(this, "OpenStackSecretArn", {
      type: "String",
      description:
        "Complete ARN (with its 6-character suffix) of the Secrets Manager secret whose value is the clouds.yaml of Bayforge's service user (one cloud), or a JSON object of its OS_* variables",
      allowedPattern: SECRET_ARN_PATTERN,
      constraintDescription: "the secret's complete ARN, e.g. arn:aws:secretsmanager:eu-west-1:123456789012:secret:bayforge/clouds-AbCdEf",
      ...(props.openstackSecretArn ? { default: props.openstackSecretArn } : {}),
    });
    // (CloudFormation Validate takes a parameter named *Secret* for a password; this one is an ARN)
    Validations.of(this).acknowledge({ id: "CloudFormation-Validate::W2509", reason: "OpenStackSecretArn is the secret's ARN, not the secret: no NoEcho needed" });
    const publicUrlParam = new CfnParameter(this, "PublicUrl", {
      type: "String",
      default: props.publicUrl ?? "",
      description: "Base URL clients and the bays' nodes reach Bayforge at (a custom domain); empty: the HTTP API's execute-api URL",
      allowedPattern: "^$|^https?://[^\\s]+[^/\\s]$",
      constraintDescription: "empty, or an http(s) URL without a trailing slash",
    });
    const openstackSecret = secretsmanager.Secret.fromSecretCompleteArn(this, "OpenStackSecret", secretArn.valueAsString);
    const chatopsSecret = props.chatopsSecretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(
          this,
          "ChatOpsSecret",
          new CfnParameter(this, "ChatOpsSecretArn", {
            type: "String",
            description:
              'Complete ARN of the Secrets Manager secret of chat-ops: JSON {"slackSigningSecret": "...", "mattermostToken": "...", "projects": {"slack:T123": {"project": "<id>", "applicationCredentialId": "...", "applicationCredentialSecret": "...", "allow": ["U0123"]}}}; each mapping\'s application credential (or "trustId") is created by a member of the project, and the worker makes that mapping\'s stacks with it, in the project',
            allowedPattern: SECRET_ARN_PATTERN,
            constraintDescription: "the secret's complete ARN, e.g. arn:aws:secretsmanager:eu-west-1:123456789012:secret:bayforge/chatops-AbCdEf",
            default: props.chatopsSecretArn,
          }).valueAsString,
        )
      : undefined;

    // State: table, queues, key -------------------------------------------------------------
    // Keys and indexes exactly as the DynamoDB adapter's CreateTable input (the tests' dynalite table).
    const schema = tableSchema(tableDefinition("unused"));
    this.table = new dynamodb.Table(this, "Table", {
      partitionKey: schema.partitionKey,
      sortKey: schema.sortKey,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const gsi of schema.indexes) this.table.addGlobalSecondaryIndex(gsi);

    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(dlqTimeout.toSeconds() * 6),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, "WorkQueue", {
      // AWS: at least 6× the consumer's timeout, so a batch still being worked on (or retried
      // by the poller) is not delivered again meanwhile.
      visibilityTimeout: Duration.seconds(workerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.key = new kms.Key(this, "KeyVaultKey", {
      description: "Bayforge key vault: data keys encrypting the bays' CA and client private keys and trustee passwords",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.httpApi = new apigw.HttpApi(this, "HttpApi", {
      description: "Bayforge: OpenStack Magnum's bay API",
      createDefaultStage: true,
    });
    // Access log, one JSON line per request. No path or query string: a discovery directory's
    // URL is its only secret, and the nodes' tokens are headers (none are logged).
    const accessLogs = new logs.LogGroup(this, "HttpApiAccessLogs", { retention, removalPolicy: RemovalPolicy.DESTROY });
    (this.httpApi.defaultStage!.node.defaultChild as apigw.CfnStage).accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: "$context.requestId",
        time: "$context.requestTime",
        sourceIp: "$context.identity.sourceIp",
        method: "$context.httpMethod",
        routeKey: "$context.routeKey",
        status: "$context.status",
        protocol: "$context.protocol",
        responseLength: "$context.responseLength",
        latencyMs: "$context.responseLatency",
        integrationError: "$context.integrationErrorMessage",
      }),
    };
    const publicUrl = Fn.conditionIf(
      new CfnCondition(this, "UseApiUrl", { expression: Fn.conditionEquals(publicUrlParam.valueAsString, "") }).logicalId,
      this.httpApi.apiEndpoint,
      publicUrlParam.valueAsString,
    ).toString();

    // Functions ---------------------------------------------------------------------------------
    const environment = {
      [ENV.tableName]: this.table.tableName,
      [ENV.queueUrl]: this.queue.queueUrl,
      [ENV.kmsKeyId]: this.key.keyArn,
      [ENV.openstackSecret]: openstackSecret.secretArn,
      [ENV.publicUrl]: publicUrl,
      [ENV.maxReceives]: String(maxReceiveCount),
      // The bundles' .map files are deployed beside them; Node applies them to stack traces
      // only with this flag, which costs ~10 ms of every cold start (test/bench, cold-import).
      ...(props.enableSourceMaps ? { NODE_OPTIONS: "--enable-source-maps" } : {}),
    };
    const fn = (id: string, bundle: BundleName, o: { handler?: string; memoryMB: number; timeout: Duration; description: string; environment?: Record<string, string> }) => {
      const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention, removalPolicy: RemovalPolicy.DESTROY });
      // Its own role, writing only to its own log group (AWSLambdaBasicExecutionRole, CDK's
      // default, lets a function create and write any log group: cdk-nag AwsSolutions-IAM4).
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
        inlinePolicies: {
          logs: new iam.PolicyDocument({
            statements: [new iam.PolicyStatement({ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [logGroup.logGroupArn] })],
          }),
        },
      });
      const f = new lambda.Function(this, id, {
        description: o.description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        code: lambda.Code.fromAsset(bundleDir(distDir, bundle)),
        handler: `index.${o.handler ?? "handler"}`,
        memorySize: o.memoryMB,
        timeout: o.timeout,
        environment: o.environment ?? environment,
        logGroup,
        role,
      });
      Validations.of(f).acknowledge({
        id: "AwsSolutions-L1",
        reason:
          "nodejs22.x on purpose: the bundles are built and tested for Node 22's language level and below (esbuild target node20, the tests run on Node 20), and Lambda supports nodejs22.x until 2027; the rule wants whatever runtime CDK lists last, and a runtime change is made deliberately, with its cold starts measured again",
      });
      return f;
    };

    this.api = fn("ApiFunction", "api", {
      description: "Bayforge API (Magnum-compatible REST): validates, stores the bay, queues its work",
      memoryMB: 512,
      timeout: Duration.seconds(29), // API Gateway gives up after 30 s
    });
    this.worker = fn("WorkerFunction", "worker", {
      description: "Bayforge worker: certificates, Heat stack create/poll/update/delete",
      memoryMB: 1024, // CPU for the RSA keys of a bay's CA and client certificate
      timeout: workerTimeout,
      environment: { ...environment, [ENV.workerConcurrency]: String(workerConcurrency), ...(chatopsSecret ? { [ENV.chatopsSecret]: chatopsSecret.secretArn } : {}) },
    });
    this.deadLetterWorker = fn("DeadLetterFunction", "worker-dlq", {
      description: "Bayforge dead letters: fails the bay of a message that kept failing",
      memoryMB: 512,
      timeout: dlqTimeout,
    });
    this.sweeper = fn("SweeperFunction", "worker", {
      handler: "sweepHandler",
      description: "Bayforge sweeper: re-sends the step of in-progress bays whose messages went missing; queues the due health checks",
      memoryMB: 512,
      timeout: Duration.minutes(1),
    });

    // chat-ops: signed slash commands → the same bay operations as the API. It reads no
    // OpenStack secret and holds no key (functions/webhook/lambda.ts), so neither is in its
    // environment or its grants.
    if (chatopsSecret)
      this.webhook = fn("WebhookFunction", "webhook", {
        description: "Bayforge chat-ops webhook: verified Slack/Mattermost slash commands, the bay is stored and its work queued",
        memoryMB: 512, // CPU for a cold start well within Slack's 3 s
        timeout: Duration.seconds(29), // API Gateway gives up after 30 s
        environment: {
          [ENV.tableName]: this.table.tableName,
          [ENV.queueUrl]: this.queue.queueUrl,
          [ENV.publicUrl]: publicUrl,
          [ENV.chatopsSecret]: chatopsSecret.secretArn,
          ...(props.enableSourceMaps ? { NODE_OPTIONS: "--enable-source-maps" } : {}),
        },
      });

    // Least privilege: only the calls each function makes, on these resources' ARNs.
    // The table and each of its indexes by name (Table.grant would give <table>/index/*: cdk-nag AwsSolutions-IAM5).
    const tableArns = [this.table.tableArn, ...schema.indexes.map((gsi) => `${this.table.tableArn}/index/${gsi.indexName}`)];
    const grantTable = (f: lambda.Function) => iam.Grant.addToPrincipal({ grantee: f, actions: [...TABLE_ACTIONS], resourceArns: tableArns });
    for (const f of [this.api, this.worker, this.deadLetterWorker, this.sweeper]) grantTable(f);
    // api: accepts bays and queues their work; signs CSRs with the bay's CA key (decrypt),
    // stores a rotated CA's keys and trustee passwords (data key); validates tokens and makes
    // trusts as Bayforge's service user (secret).
    this.queue.grantSendMessages(this.api);
    this.key.grant(this.api, ...KEY_ACTIONS);
    openstackSecret.grantRead(this.api);
    // worker: the steps (certificates, Heat through the users' trusts); polls and retries
    // re-queue themselves. Consuming the queue is granted by its event source.
    this.queue.grantSendMessages(this.worker);
    this.key.grant(this.worker, ...KEY_ACTIONS);
    openstackSecret.grantRead(this.worker);
    // dead letters: fail the bay and release its trusts in Keystone (secret); decrypts nothing.
    openstackSecret.grantRead(this.deadLetterWorker);
    // sweeper: finds idle in-progress bays (Query) and re-sends their step, and queues the
    // finished bays' due health checks (bay.health). It starts from the
    // worker's dependencies (functions/worker/lambda.ts), which read the secret on first use.
    this.queue.grantSendMessages(this.sweeper);
    openstackSecret.grantRead(this.sweeper);
    // worker: the chat-ops mappings' credentials (its chat-ops bays' stacks are made with them)
    if (chatopsSecret) chatopsSecret.grantRead(this.worker);
    // webhook: stores bays (and its replay records) in the table, queues their work, reads its
    // own secret. A secret encrypted with a customer managed key also needs kms:Decrypt on
    // that key for this function (the default aws/secretsmanager key needs nothing).
    if (this.webhook && chatopsSecret) {
      grantTable(this.webhook);
      this.queue.grantSendMessages(this.webhook);
      chatopsSecret.grantRead(this.webhook);
    }

    // Triggers ----------------------------------------------------------------------------------
    // Every route ($default) to the api function, which routes as Magnum does (payload format 2.0).
    const defaultRoute = new apigw.HttpRoute(this, "DefaultRoute", {
      httpApi: this.httpApi,
      routeKey: apigw.HttpRouteKey.DEFAULT,
      integration: new HttpLambdaIntegration("ApiIntegration", this.api),
    });
    Validations.of(defaultRoute).acknowledge({
      id: "AwsSolutions-APIG4",
      reason:
        "Magnum's API authenticates every request itself, as Magnum does: a Keystone token (validated with Keystone), a bay's bootstrap token, or no token for version discovery and the etcd discovery directory; an API Gateway authorizer cannot validate Keystone tokens and would refuse the unauthenticated routes Magnum clients and nodes need",
    });
    // The chat-ops routes (more specific than $default, so API Gateway sends them here).
    if (this.webhook) {
      const integration = new HttpLambdaIntegration("WebhookIntegration", this.webhook);
      for (const path of WEBHOOK_ROUTES)
        Validations.of(
          new apigw.HttpRoute(this, `WebhookRoute${path.split("/").pop()!.replace(/^./, (c) => c.toUpperCase())}`, {
            httpApi: this.httpApi,
            routeKey: apigw.HttpRouteKey.with(path, apigw.HttpMethod.POST),
            integration,
          }),
        ).acknowledge({
          id: "AwsSolutions-APIG4",
          reason:
            "Slack and Mattermost send no AWS or OAuth credentials: the webhook function verifies each request itself (Slack's HMAC signature with a 5-minute replay window, Mattermost's token) before anything is read or written",
        });
    }

    this.worker.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: workerConcurrency, // run at once by the instance (HEAT_STEPS_AT_ONCE)
        maxBatchingWindow: Duration.seconds(2),
        reportBatchItemFailures: true,
        maxConcurrency: workerInstances,
      }),
    );
    this.deadLetterWorker.addEventSource(
      new SqsEventSource(this.deadLetterQueue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(5),
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
    );
    new events.Rule(this, "SweepSchedule", {
      description: "Bayforge sweeper, every minute",
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.sweeper, { retryAttempts: 0 })],
    });

    // Alarms ------------------------------------------------------------------------------------
    const topic = new sns.Topic(this, "AlarmTopic", { displayName: "Bayforge alarms", enforceSSL: true });
    if (props.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const alarm = (id: string, description: string, metric: cloudwatch.IMetric) =>
      new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new cwActions.SnsAction(topic));
    alarm(
      "DeadLetterQueueAlarm",
      "Messages in Bayforge's dead-letter queue: a step failed 5 times (its bay is being failed), or the dead-letter function cannot keep up",
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: "Maximum" }),
    );
    alarm("WorkerErrorsAlarm", "Bayforge worker invocations failed: could not start (configuration, secret, KMS) or timed out; a failing step alone is a batch item failure, not an error", this.worker.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }));
    alarm("DeadLetterErrorsAlarm", "Bayforge dead-letter function failed: the bays of dead letters are not being failed", this.deadLetterWorker.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }));
    alarm("SweeperErrorsAlarm", "Bayforge sweeper failed", this.sweeper.metricErrors({ period: Duration.minutes(15), statistic: "Sum" }));
    if (this.webhook)
      alarm("WebhookErrorsAlarm", "Bayforge chat-ops webhook failed: could not start (configuration, its secret) or timed out", this.webhook.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }));

    // Outputs -----------------------------------------------------------------------------------
    new CfnOutput(this, "ApiUrl", { value: this.httpApi.apiEndpoint, description: "the HTTP API's URL (register it in Keystone's catalog as container-infra, with /v1)" });
    new CfnOutput(this, "PublicUrlInUse", { value: publicUrl });
    if (this.webhook)
      new CfnOutput(this, "ChatOpsUrls", {
        value: WEBHOOK_ROUTES.map((path) => `${publicUrl}${path}`).join(" "),
        description: "the slash commands' request URLs (Slack, then Mattermost)",
      });
    new CfnOutput(this, "TableName", { value: this.table.tableName });
    new CfnOutput(this, "QueueUrl", { value: this.queue.queueUrl });
    new CfnOutput(this, "DeadLetterQueueUrl", { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, "KeyArn", { value: this.key.keyArn });
    new CfnOutput(this, "AlarmTopicArn", { value: topic.topicArn });
    new CfnOutput(this, "Region", { value: Aws.REGION });
  }
}

function bundleDir(distDir: string, bundle: BundleName): string {
  const dir = join(distDir, bundle);
  if (!existsSync(join(dir, "index.mjs"))) throw new Error(`${join(dir, "index.mjs")} is missing: run \`npm run build\` first`);
  return dir;
}

type TableDefinition = ReturnType<typeof tableDefinition>;
const ATTRIBUTE_TYPES: Record<string, dynamodb.AttributeType> = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER, B: dynamodb.AttributeType.BINARY };

/** The table's keys and GSIs from the adapter's CreateTable input, so the deployed table matches the code. */
export function tableSchema(def: TableDefinition): {
  partitionKey: dynamodb.Attribute;
  sortKey?: dynamodb.Attribute;
  indexes: dynamodb.GlobalSecondaryIndexProps[];
} {
  const types = new Map((def.AttributeDefinitions ?? []).map((a) => [a.AttributeName, ATTRIBUTE_TYPES[a.AttributeType ?? ""]]));
  const attribute = (name: string | undefined): dynamodb.Attribute => {
    const type = name && types.get(name);
    if (!name || !type) throw new Error(`table definition: key attribute ${name} has no (S, N or B) AttributeDefinition`);
    return { name, type };
  };
  const keysOf = (schema: TableDefinition["KeySchema"]) => {
    const pk = schema?.find((k) => k.KeyType === "HASH");
    const sk = schema?.find((k) => k.KeyType === "RANGE");
    return { partitionKey: attribute(pk?.AttributeName), ...(sk ? { sortKey: attribute(sk.AttributeName) } : {}) };
  };
  return {
    ...keysOf(def.KeySchema),
    indexes: (def.GlobalSecondaryIndexes ?? []).map((gsi) => {
      if (gsi.Projection?.ProjectionType !== "ALL") throw new Error(`table definition: GSI ${gsi.IndexName}: only projection ALL is mapped`);
      return { indexName: gsi.IndexName!, ...keysOf(gsi.KeySchema), projectionType: dynamodb.ProjectionType.ALL };
    }),
  };
}
