// cdk-nag's AwsSolutions rules on the AWS stack (infra/aws), with and without chat-ops: nothing
// unsuppressed, and the only suppressions are the few that do not apply, each with its reason
// (written to the template's cdk_nag metadata, as an auditor reads them).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { BayforgeStack, BUNDLES, REPO_ROOT } from "../../infra/aws/stack.ts";

const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bayforge/clouds-AbCdEf";
const CHATOPS_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bayforge/chatops-GhIjKl";

let outdir: string;
before(() => {
  if (BUNDLES.some((b) => !existsSync(join(REPO_ROOT, "dist", b, "index.mjs")))) {
    const r = spawnSync(process.execPath, ["scripts/build.mjs", "--quiet"], { cwd: REPO_ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, `npm run build failed:\n${r.stderr}`);
  }
  outdir = mkdtempSync(join(tmpdir(), "bayforge-cdk-nag-"));
});
after(() => rmSync(outdir, { recursive: true, force: true }));

const variants = [
  ["without chat-ops", {}],
  ["with chat-ops", { chatopsSecretArn: CHATOPS_SECRET_ARN }],
] as const;

function check(props: object) {
  const app = new App({ outdir });
  const stack = new BayforgeStack(app, "BayforgeNag", { openstackSecretArn: SECRET_ARN, ...props });
  const checks = new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true });
  Validations.of(app).addPlugins(checks);
  const report = checks.validateScope(app);
  return { report, template: Template.fromStack(stack) };
}

describe("cdk-nag AwsSolutions on the AWS stack", () => {
  for (const [name, props] of variants)
    it(`${name}: no unsuppressed finding (error or warning)`, () => {
      const { report } = check(props);
      const found = report.violations.map((v) => `${v.ruleName} (${v.severity}) at ${v.violatingResources.map((r) => r.constructPath).join(", ")}: ${v.description}`);
      assert.deepEqual(found, []);
      assert.equal(report.success, true);
    });

  for (const [name, props] of variants)
    it(`${name}: suppressed only where a rule does not apply (API Gateway authorization, the runtime), each with its reason`, () => {
      const { template } = check(props);
      const suppressed = new Map<string, Set<string>>(); // AwsSolutions rule → types of the resources it is suppressed on
      for (const r of Object.values(template.toJSON().Resources) as Array<{ Type: string; Metadata?: any }>)
        for (const s of r.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
          if (!String(s.id).startsWith("AwsSolutions-")) continue;
          assert.ok(typeof s.reason === "string" && s.reason.length >= 40, `${s.id} on ${r.Type} says why it does not apply`);
          suppressed.set(s.id, (suppressed.get(s.id) ?? new Set()).add(r.Type));
        }
      assert.deepEqual([...suppressed.keys()].sort(), ["AwsSolutions-APIG4", "AwsSolutions-L1"]);
      // (an acknowledgment covers the construct's children too: a function's event source, a route's integration)
      for (const type of suppressed.get("AwsSolutions-L1")!) assert.match(type, /^AWS::Lambda::/);
      const routes = suppressed.get("AwsSolutions-APIG4")!;
      assert.ok(routes.has("AWS::ApiGatewayV2::Route") && !routes.has("AWS::ApiGatewayV2::Api") && !routes.has("AWS::ApiGatewayV2::Stage"), [...routes].join());
    });
});
