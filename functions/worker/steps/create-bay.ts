// bay.create: certificates (while Keystone makes the credentials), then the Heat stack, then
// the first poll. Safe to run any number of times: one delivery at a time holds the create's
// claim; a delivery after the first asks Heat whether the stack exists already, and sends no
// create while an earlier one that got no answer may still act.
import { OrchestratorError, type Stack } from "../../../shared/ports/orchestrator.ts";
import type { WorkMessage } from "../../../shared/ports/work-queue.ts";
import type { Bay, BayModel } from "../../../shared/domain/model.ts";
import { heatParameters } from "../../../shared/templates/kubernetes-definition.ts";
import type { WorkerDeps } from "../deps.ts";
import { pollDelay } from "../deps.ts";
import { ensureCertificates } from "./certificates.ts";
import { ensureCredentials } from "./make-credentials.ts";
import { claimCreate, settlesAt } from "./create-claim.ts";
import { whileClaimed } from "../claims.ts";
import { failBay } from "./fail-bay.ts";
import { updateBay } from "../bay-store.ts";
import { newBootstrapToken } from "../../../shared/domain/bootstrap-token.ts";
import { isInProgress } from "../../../shared/domain/status.ts";

export async function createBay(msg: WorkMessage, deps: WorkerDeps): Promise<void> {
  let bay = await deps.table.getBay(msg.bayId);
  if (!bay || bay.status !== "CREATE_IN_PROGRESS") return; // gone or already past create
  if (!bay.stack_id) {
    if (bay.deadline_at && deps.now() > new Date(bay.deadline_at)) {
      await failBay(deps, bay, `Bay creation timed out after ${bay.bay_create_timeout} minutes before the stack could be created.`);
      return;
    }
    const baymodel = await deps.table.getBayModel(bay.baymodel_id);
    if (!baymodel) {
      await failBay(deps, bay, `BayModel ${bay.baymodel_id} no longer exists.`);
      return;
    }
    // the certificates (CPU) while Keystone makes the credentials (keystone mode)
    const [, credited] = await Promise.all([ensureCertificates(bay, deps), ensureCredentials(msg, deps, bay)]);
    if (!credited) return; // failed, or another delivery is making them
    // One create at a time: concurrent creates for one stack name (a queue's duplicates) can
    // both pass Heat's name check and make two stacks, so Heat's 409 alone is not relied on.
    const claim = await claimCreate(deps, credited);
    if (!claim) return; // another delivery is creating it, or the bay moved on
    bay = claim.bay;
    let stackId: string | undefined;
    let settling: string | undefined;
    try {
      const claimed = bay;
      stackId = await whileClaimed(deps, claim.renew, async () => {
        // Only a later claimant asks: an earlier delivery may have sent a create, even one that
        // crashed or got no answer. The first one skips a Heat call on the way to its stack.
        const existing = claim.first ? undefined : await deps.heatFor(claimed).findStack(claimed.stack_name);
        if (!existing || existing.stack_status === "DELETE_COMPLETE") settling = settlesAt(deps, claimed);
        return settling ? undefined : ensureStack(claimed, baymodel, deps, existing);
      });
    } catch (e) {
      // A create that got no answer may still make its stack, and Heat checks a stack's name
      // before it stores the stack: a second create meanwhile makes a second stack of that
      // name. So none is sent until it has settled, and the transport never repeats one.
      await claim.release({ maybeActed: e instanceof OrchestratorError && e.maybeActed });
      throw e;
    }
    if (settling) {
      await claim.release();
      const delaySeconds = Math.max(1, Math.ceil((Date.parse(settling) - deps.now().getTime()) / 1000));
      deps.log.info("an earlier create got no answer and may still act; looking again once it has settled", { bay: bay.uuid, delaySeconds });
      await deps.queue.send({ ...msg }, { delaySeconds });
      return;
    }
    if (!stackId) return; // failed permanently; the bay says why
    const at = deps.now();
    let recorded = false;
    const stackName = bay.stack_name;
    const heat = deps.heatFor(bay);
    bay = await updateBay(deps.table, bay, (b) => ((recorded = !b.stack_id) ? { stack_id: stackId, create_claim: null } : undefined), at);
    if (!bay) {
      // Deleted while we were creating its stack: nobody else knows this stack, so remove it.
      deps.log.warn("bay deleted during create; deleting the stack it got", { bay: msg.bayId, stack: stackName });
      await heat.deleteStack(stackName, stackId);
      return;
    }
    if (bay.status !== "CREATE_IN_PROGRESS") return; // a delete took over; it now knows the stack
    if (recorded)
      await deps.table.appendEvent({ bay_uuid: bay.uuid, at: at.toISOString(), kind: "stack_requested", detail: `stack ${bay.stack_name} (${stackId}) requested from Heat`, request_id: msg.requestId });
  }
  // Every delivery sends the first poll (one may have crashed before it did); pollBay lets
  // only one message per seq go on, so duplicates end there.
  const seq = bay.poll_seq;
  await deps.queue.send(
    { v: 1, kind: "bay.poll", bayId: bay.uuid, projectId: bay.project_id, requestId: msg.requestId, attempt: 0, seq },
    { delaySeconds: pollDelay(deps, seq, bay) },
  );
}

/** The bay's stack id: the existing stack of that name, or a new one. undefined = failed. */
async function ensureStack(bay: Bay, baymodel: BayModel, deps: WorkerDeps, existing: Stack | undefined): Promise<string | undefined> {
  if (existing && existing.stack_status !== "DELETE_COMPLETE") return existing.id;
  const token = await bootstrapTokenFor(deps, bay);
  if (!token) return undefined;
  let parameters: Record<string, unknown>;
  try {
    parameters = heatParameters(bay, baymodel, await deps.definitionContext(bay, token));
  } catch (e) {
    await failBay(deps, bay, (e as Error).message);
    return undefined;
  }
  const { template, files } = deps.template();
  try {
    const { id } = await deps.heatFor(bay).createStack({
      stack_name: bay.stack_name,
      template,
      files,
      parameters,
      ...(bay.bay_create_timeout > 0 ? { timeout_mins: bay.bay_create_timeout } : {}),
    });
    deps.log.info("stack created", { bay: bay.uuid, stack: bay.stack_name, stackId: id });
    return id;
  } catch (e) {
    if (e instanceof OrchestratorError && e.status === 409) {
      // Another delivery created it between our lookup and our create.
      const raced = await deps.heatFor(bay).findStack(bay.stack_name);
      if (raced) return raced.id;
    }
    // Heat could not derive its own trust from ours (Keystone answered "not found" for the
    // roles): seen only under load, concurrent deliveries racing in Keystone. Retried with
    // backoff like a 5xx; a user who really lacks the roles sees the reason when retries end.
    if (e instanceof OrchestratorError && e.heatType === "MissingCredentialError")
      throw new OrchestratorError(e.message, e.status, true, e.heatType);
    if (e instanceof OrchestratorError && !e.retryable) {
      await failBay(deps, bay, `Heat refused the stack: ${e.message}`);
      return undefined;
    }
    throw e;
  }
}

/**
 * The bootstrap token for the bay's stack (the masters'; the minions' is derived from it): the
 * one already issued for this operation, else a new one, stored (hashes, and the token
 * encrypted) only if no other delivery stored one first.
 * So every delivery, concurrent duplicates included, gives Heat the token whose hash the bay
 * holds: a duplicate that replaced it while another's create was in flight left the nodes
 * with a token the certificates API refuses. undefined: the bay is no longer in progress.
 */
export async function bootstrapTokenFor(deps: WorkerDeps, bay: Bay): Promise<string | undefined> {
  const context = `bay:${bay.uuid}:bootstrap`;
  for (let tries = 0; tries < 3; tries++) {
    const held = bay.bootstrap;
    // (a record made before tokens had roles has no minions' hash: replaced)
    if (held?.token_encrypted && held.minion_hash && deps.now() < new Date(held.expires_at)) return deps.vault.decrypt(held.token_encrypted, context);
    const { token, record } = newBootstrapToken(bay.uuid, deps.now(), bootstrapMinutes(bay));
    const fresh = { ...record, token_encrypted: await deps.vault.encrypt(token, context) };
    const saved = await updateBay(deps.table, bay, (b) => (isInProgress(b.status) && b.bootstrap?.hash === held?.hash ? { bootstrap: fresh } : undefined), deps.now());
    if (!saved || !isInProgress(saved.status)) return undefined;
    if (saved.bootstrap?.hash === fresh.hash) return token;
    bay = saved; // another delivery stored its token first: use that one
  }
  throw new Error(`bay ${bay.uuid}: the bootstrap token kept changing; the step will be retried`);
}

/** A bootstrap token is good for the operation's timeout (or an hour) and half an hour more. */
export const bootstrapMinutes = (bay: Bay): number => (bay.bay_create_timeout > 0 ? bay.bay_create_timeout : 60) + 30;
