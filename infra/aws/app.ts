// The CDK app (cdk.json: `node --import tsx infra/aws/app.ts`). Build the bundles first:
//   npm run build && npx cdk deploy --parameters OpenStackSecretArn=arn:aws:secretsmanager:…
// Context (-c key=value): stackName (default Bayforge), openstackSecretArn and publicUrl
// (defaults of the stack's parameters), chatopsSecretArn (deploys the chat-ops webhook with
// that secret), alarmEmail, sourceMaps (true: NODE_OPTIONS=--enable-source-maps),
// workerInstances and workerConcurrency (the worker's Heat load, stack.ts HEAT_STEPS_AT_ONCE).
import { App } from "aws-cdk-lib";
import { BayforgeStack } from "./stack.ts";

const app = new App();
const ctx = (key: string): string | undefined => {
  const v = app.node.tryGetContext(key);
  return typeof v === "string" && v !== "" ? v : undefined;
};
const num = (key: string): number | undefined => {
  const v = app.node.tryGetContext(key);
  return v === undefined || v === "" ? undefined : Number(v);
};
new BayforgeStack(app, ctx("stackName") ?? "Bayforge", {
  description: "Bayforge: OpenStack Magnum's bay provisioning as serverless functions",
  openstackSecretArn: ctx("openstackSecretArn"),
  publicUrl: ctx("publicUrl"),
  chatopsSecretArn: ctx("chatopsSecretArn"),
  alarmEmail: ctx("alarmEmail"),
  enableSourceMaps: ctx("sourceMaps") === "true",
  workerInstances: num("workerInstances"),
  workerConcurrency: num("workerConcurrency"),
  // account/region: the CLI's (AWS_PROFILE, AWS_REGION) at deploy time
});
app.synth();
