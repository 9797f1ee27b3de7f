// Heat's stack answers read into the port's Stack: a 200 that holds no stack (a proxy's or a
// balancer's page) is a failure to retry, never a stack without an id that a step would
// take for "none" (and stop, leaving its bay to the sweeper).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { extractStack } from "../../shared/adapters/openstack/orchestration/stacks/results.ts";
import { OrchestratorError } from "../../shared/ports/orchestrator.ts";

describe("a stack read's answer", () => {
  it("with Heat's stack: its id, name, status and parameters", () => {
    const s = extractStack({ stack: { id: "5f0e3c1a", stack_name: "k8s-abc", stack_status: "CREATE_COMPLETE", parameters: { number_of_minions: 2 } } });
    assert.deepEqual([s.id, s.stack_name, s.stack_status, s.parameters.number_of_minions], ["5f0e3c1a", "k8s-abc", "CREATE_COMPLETE", "2"]);
  });
  it("without one: a retryable OrchestratorError", () => {
    for (const body of [undefined, "<html>gateway</html>", {}, { stack: {} }, { stack: { id: "" } }, { stacks: [] }])
      assert.throws(() => extractStack(body), (e: unknown) => e instanceof OrchestratorError && e.retryable && /held no stack/.test(e.message), JSON.stringify(body));
  });
});
