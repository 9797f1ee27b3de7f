// Reads Heat directly as the dev cloud's demo user, to check what Bayforge asked of it.
import assert from "node:assert/strict";
import { openstackFromEnv, type OpenStack } from "../../shared/adapters/openstack/index.ts";
import type { Orchestrator, Stack } from "../../shared/ports/orchestrator.ts";
import { devcloudEnv } from "./bayforge-process.ts";

export function demoCloud(): OpenStack {
  const os = openstackFromEnv({ ...devcloudEnv(), OS_CLOUD: "devcloud-demo" });
  if (!os) throw new Error("dev cloud not configured");
  return os;
}

/** Heat's stacks whose name starts with `prefix` (Heat's own list, not Bayforge's view). */
export async function stacksNamed(os: OpenStack, prefix: string): Promise<Array<{ id: string; stack_name: string; stack_status: string }>> {
  const endpoint = await os.heat.endpoint();
  const res = await fetch(`${endpoint}/stacks?limit=1000`, { headers: { "x-auth-token": await os.session.token(), accept: "application/json" } });
  if (!res.ok) throw new Error(`stack list: ${res.status}`);
  const body = (await res.json()) as { stacks: Array<{ id: string; stack_name: string; stack_status: string }> };
  return body.stacks.filter((s) => s.stack_name.startsWith(prefix));
}

/**
 * The one stack named `prefix…` (id `stackId`, CREATE_COMPLETE) is in `owner`'s own stack list
 * and nobody else's: not `other`'s, and not the service user's project (an admin, whose list
 * Heat fills with every project's stacks, each naming its project).
 */
export async function assertStackOnlyIn(o: { owner: OpenStack; other: OpenStack; service: OpenStack; prefix: string; stackId: string | null | undefined }): Promise<void> {
  const mine = await stacksNamed(o.owner, o.prefix);
  assert.deepEqual(mine.map((s) => [s.id, s.stack_status]), [[o.stackId, "CREATE_COMPLETE"]], "one stack, in the owner's own stack list");
  assert.deepEqual(await stacksNamed(o.other, o.prefix), [], "not in the other project's");
  const serviceProject = (await o.service.session.tokenInfo()).projectId;
  const theirs = (await stacksNamed(o.service, o.prefix)) as Array<{ project?: string }>;
  assert.deepEqual(theirs.filter((s) => s.project === serviceProject), [], "not in Bayforge's service project's");
}

/** Deletes the stacks (best effort) so the dev cloud stays clean between runs. */
export async function deleteStacks(os: OpenStack, prefix: string): Promise<void> {
  for (const s of await stacksNamed(os, prefix)) await os.heat.deleteStack(s.stack_name, s.id).catch(() => {});
}

/** Polls the stack until it leaves *_IN_PROGRESS; returns it (undefined once Heat has none). */
export async function settle(heat: Orchestrator, name: string, id: string, timeoutMs = 90_000): Promise<Stack | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await heat.getStack(name, id);
    if (!s || !s.stack_status.endsWith("_IN_PROGRESS")) return s;
    if (Date.now() > deadline) throw new Error(`stack ${name} still ${s.stack_status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
