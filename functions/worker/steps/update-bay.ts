// bay.update: sends the scale to Heat as a PATCH update (existing parameters kept, new
// number_of_minions, minions_to_remove naming the minions to drop first), once, then polls.
// A credential rotation is the same PATCH with the new trustee's rows instead; a node group's
// create, resize or delete sends the template with the bay's groups as they will be. Whatever
// adds nodes makes the bay's bootstrap token valid again first; whatever removes nodes drains
// them first.
// A redelivery finds the update already sent (recorded on the bay, or visible on the stack)
// and only makes sure a poll follows.
import type { WorkMessage } from "../../../shared/ports/work-queue.ts";
import { OrchestratorError, type Stack } from "../../../shared/ports/orchestrator.ts";
import type { Bay, NodeGroupRecord } from "../../../shared/domain/model.ts";
import type { WorkerDeps } from "../deps.ts";
import { pollDelay } from "../deps.ts";
import { failBay } from "./fail-bay.ts";
import { ensureCredentials } from "./make-credentials.ts";
import { updateBay } from "../bay-store.ts";
import { bootstrapMinutes } from "./create-bay.ts";
import { isInProgress } from "../../../shared/domain/status.ts";
import { defaultMinions, drainLeavingMinions } from "./drain-nodes.ts";
import { trusteeParameters } from "../../../shared/templates/kubernetes-definition.ts";
import { nodeGroupOutputs, nodeGroupParameters, withNodeGroups } from "../../../shared/templates/nodegroups.ts";
import type { LoadedTemplate } from "../../../shared/templates/load-template.ts";

export async function updateBayStack(msg: WorkMessage, deps: WorkerDeps): Promise<void> {
  let bay = await deps.table.getBay(msg.bayId);
  if (!bay || bay.status !== "UPDATE_IN_PROGRESS" || !bay.update) return;
  bay = await ensureCredentials(msg, deps, bay); // a bay whose create failed has no trust left
  if (!bay?.update) return;
  const u = bay.update;
  if (u.rotate_credentials && !u.trustee) {
    await failBay(deps, bay, "The credential rotation has no new trustee to give the stack (Keystone mode is needed).");
    return;
  }
  if (!u.stack_update_sent_at) {
    if (!bay.stack_id) {
      await failBay(deps, bay, "The bay has no Heat stack to update.");
      return;
    }
    const stack = await deps.heatFor(bay).getStack(bay.stack_name, bay.stack_id);
    if (!stack) {
      await failBay(deps, bay, `Stack ${bay.stack_id} not found in Heat.`);
      return;
    }
    if (!alreadySent(stack, bay)) {
      let parameters: Record<string, unknown>;
      let template: LoadedTemplate | undefined;
      let cleared: string[] = [];
      if (u.nodegroup) {
        const groups = groupsAfter(bay);
        if (!groups) {
          await failBay(deps, bay, `Node group ${u.nodegroup.uuid} is no longer recorded on the bay.`);
          return;
        }
        const g = (bay.nodegroups ?? []).find((n) => n.uuid === u.nodegroup!.uuid)!;
        const members = nodeGroupOutputs(stack.outputs, g)?.minions ?? g.minions ?? {};
        if (u.nodegroup.action !== "delete" && g.node_count > Object.keys(members).length) {
          // the group's new nodes fetch their certificates with the bay's token, as new minions do
          const fresh = await reopenBootstrapToken(deps, bay);
          if (!fresh) return;
          bay = fresh;
        }
        // a group's leaving nodes are drained like the default workers'; a deleted group's all leave
        await drainLeavingMinions(bay, members, u.nodegroup.action === "delete" ? 0 : g.node_count, u.nodes_to_remove, deps);
        template = withNodeGroups(deps.template(), groups);
        parameters = nodeGroupParameters(groups, u.nodegroup.action === "resize" ? { key: g.key, names: u.nodes_to_remove } : undefined);
        // a group's parameters go with it: Heat refuses values for parameters its template lacks
        if (u.nodegroup.action === "delete") cleared = Object.keys(nodeGroupParameters([g]));
      } else if (u.trustee) {
        const t = u.trustee;
        const password = await deps.vault.decrypt(t.password_encrypted, `bay:${bay.uuid}:trustee`);
        parameters = trusteeParameters({ domainId: t.domain_id, userId: t.user_id, username: t.username, password, trustId: t.trust_id });
      } else {
        // New minions fetch their certificates with the token the stack already holds: a new
        // one would change every minion's properties and make Heat replace them all. It is
        // made valid again for the time of this update.
        const fresh = await reopenBootstrapToken(deps, bay);
        if (!fresh) return;
        bay = fresh;
        // Minions about to go are drained first, while the cluster can still move their pods.
        await drainLeavingMinions(bay, defaultMinions(bay, stack), u.node_count, u.nodes_to_remove, deps);
        parameters = { number_of_minions: u.node_count, minions_to_remove: u.nodes_to_remove };
      }
      // nodes added from now on install the release the bay runs now (after an upgrade, not the
      // create's); the running ones keep their boot script (user_data_update_policy IGNORE)
      if (!u.trustee) Object.assign(parameters, releaseParameter(bay, stack));
      try {
        await deps.heatFor(bay).updateStack(bay.stack_name, bay.stack_id!, {
          parameters,
          ...(template ? { template: template.template, files: template.files } : {}),
          ...(cleared.length ? { clear_parameters: cleared } : {}),
          ...(u.rollback ? { disable_rollback: false } : {}),
        });
      } catch (e) {
        if (e instanceof OrchestratorError && !e.retryable) {
          await failBay(deps, bay, `Heat refused the update: ${e.message}`);
          return;
        }
        throw e;
      }
      deps.log.info("stack update sent", { bay: bay.uuid, stack: bay.stack_name, node_count: u.node_count, remove: u.nodes_to_remove });
    }
    const at = deps.now();
    let recorded = false;
    bay = await updateBay(
      deps.table,
      bay,
      (b) => ((recorded = b.status === "UPDATE_IN_PROGRESS" && !!b.update && !b.update.stack_update_sent_at) ? { update: { ...b.update!, stack_update_sent_at: at.toISOString() } } : undefined),
      at,
    );
    if (!bay) return;
    if (recorded)
      await deps.table.appendEvent({
        bay_uuid: bay.uuid,
        at: at.toISOString(),
        kind: "stack_update_requested",
        detail: u.nodegroup
          ? `stack ${bay.stack_name}: node group ${bay.nodegroups?.find((g) => g.uuid === u.nodegroup!.uuid)?.name} ${u.nodegroup.action}`
          : u.trustee
          ? `stack ${bay.stack_name}: trustee_username=${u.trustee.username} (credential rotation)`
          : `stack ${bay.stack_name}: number_of_minions=${u.node_count}${u.nodes_to_remove.length ? `, minions_to_remove=${u.nodes_to_remove.join(",")}` : ""}`,
        request_id: msg.requestId,
      });
  }
  await deps.queue.send(
    { v: 1, kind: "bay.poll", bayId: bay.uuid, projectId: bay.project_id, requestId: msg.requestId, attempt: 0, seq: bay.poll_seq },
    { delaySeconds: pollDelay(deps, 0) },
  );
}

/** An earlier delivery's PATCH reached Heat (its answer or our record of it was lost). */
function alreadySent(stack: Stack, bay: Bay): boolean {
  const u = bay.update!;
  if (stack.stack_status === "UPDATE_IN_PROGRESS") return true;
  const since = stack.updated_time ? Date.parse(stack.updated_time) >= Date.parse(u.requested_at) - 1000 : false;
  if (u.trustee) return since && stack.parameters.trustee_user_id === u.trustee.user_id;
  if (u.nodegroup) {
    const g = bay.nodegroups?.find((n) => n.uuid === u.nodegroup!.uuid);
    if (!g) return false;
    const count = stack.parameters[`${g.key}_count`];
    return since && (u.nodegroup.action === "delete" ? count === undefined : count === String(g.node_count));
  }
  return since && stack.parameters.number_of_minions === String(u.node_count);
}

async function reopenBootstrapToken(deps: WorkerDeps, bay: Bay): Promise<Bay | undefined> {
  const expires_at = new Date(deps.now().getTime() + bootstrapMinutes(bay) * 60_000).toISOString();
  const saved = await updateBay(deps.table, bay, (b) => (isInProgress(b.status) && b.bootstrap ? { bootstrap: { ...b.bootstrap, expires_at } } : isInProgress(b.status) ? {} : undefined), deps.now());
  return saved?.status === "UPDATE_IN_PROGRESS" ? saved : undefined;
}

/**
 * kube_tag for the stack when the release the bay runs (coe_version: set at its create's end and
 * by an upgrade) is not the stack's; nothing for a bay whose release is not known.
 */
function releaseParameter(bay: Bay, stack: Stack): Record<string, string> {
  const current = stack.parameters.kube_tag; // Heat shows every parameter, defaults included
  const release = bay.coe_version;
  return current !== undefined && release && /^v\d+\.\d+\.\d+$/.test(release) && release !== current ? { kube_tag: release } : {};
}

/** The extra groups the stack is to have after this operation; undefined when its group is gone. */
function groupsAfter(bay: Bay): NodeGroupRecord[] | undefined {
  const op = bay.update!.nodegroup!;
  const groups = bay.nodegroups ?? [];
  if (!groups.some((g) => g.uuid === op.uuid)) return undefined;
  return op.action === "delete" ? groups.filter((g) => g.uuid !== op.uuid) : groups;
}
