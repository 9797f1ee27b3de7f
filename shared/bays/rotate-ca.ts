// Starting a CA rotation (PATCH /v1/certificates/{bay}, `openstack coe ca rotate`), as Magnum's
// CertificateController.patch and ca_conductor.rotate_ca_certificate check it, carried to the
// nodes (shared/domain/ca-rotation.ts): a new CA and client certificate are stored as the
// bay's `next` set (one conditional write), then the bay moves to UPDATE_IN_PROGRESS with the
// rotation's plan and the worker's bay.rotate_ca step is queued (operate.ts' startOperation).
// The current CA stays the bay's until every node runs on the new one.
import { caKeyContext, clientKeyContext, generateBayCertificates } from "../certs/bay-ca.ts";
import type { Bay, BayCerts } from "../domain/model.ts";
import type { BayStatus } from "../domain/status.ts";
import { ApiError } from "../domain/errors.ts";
import { planCaRotation } from "../domain/ca-rotation.ts";
import { CertsChanged } from "../ports/bay-table.ts";
import { rolloutNodes } from "./upgrade.ts";
import { nodeOperationPatch, startOperation } from "./operate.ts";
import type { BayOpsDeps, Caller } from "./deps.ts";

/**
 * ca_conductor.rotate_ca_certificate's `allow_update_status`: every *_COMPLETE status but
 * DELETE_COMPLETE. Anything else (in progress, failed) is refused with NotSupported (400).
 */
const ROTATABLE: ReadonlySet<BayStatus> = new Set<BayStatus>([
  "CREATE_COMPLETE", "UPDATE_COMPLETE", "RESUME_COMPLETE", "RESTORE_COMPLETE",
  "ROLLBACK_COMPLETE", "SNAPSHOT_COMPLETE", "CHECK_COMPLETE", "ADOPT_COMPLETE",
]);


export async function rotateCa(deps: BayOpsDeps, caller: Caller, bay: Bay, certs: BayCerts, requestId: string): Promise<Bay> {
  const now = deps.now?.() ?? new Date();
  const baymodel = await deps.table.getBayModel(bay.baymodel_id);
  if (!baymodel) throw new Error(`baymodel ${bay.baymodel_id} of bay ${bay.uuid} is missing`);
  // Magnum checks TLS in the API, then the status in the conductor; both are NotSupported (400).
  if (baymodel.tls_disabled) {
    throw new ApiError(
      400,
      "Rotating the CA certificate on a non-TLS bay is not supported",
      `Rotating the CA certificate on a non-TLS bay is not supported: bay ${bay.uuid} uses baymodel ` +
        `${baymodel.name ?? baymodel.uuid}, which has tls_disabled set.`,
    );
  }
  if (!ROTATABLE.has(bay.status)) {
    throw new ApiError(
      400,
      `Updating a bay when status is "${bay.status}" is not supported`,
      `Updating a bay when status is "${bay.status}" is not supported. The CA of bay ${bay.uuid} can be rotated ` +
        "once the bay is CREATE_COMPLETE or UPDATE_COMPLETE.",
    );
  }
  const made = await generateBayCertificates({ bayUuid: bay.uuid, bayName: bay.name, now });
  // created_at is the certs' version (replaceCerts' condition, an equality): a new one per write
  const stamp = (t: number) => new Date(Math.max(now.getTime(), t + 1)).toISOString();
  const nextCreatedAt = stamp(Math.max(Date.parse(certs.created_at) || 0, Date.parse(certs.next?.created_at ?? "") || 0));
  const withNext: BayCerts = {
    ...certs,
    // a failed rotation's new set is replaced: its nodes keep trusting the current CA
    next: {
      ca_cert_pem: made.caCertPem,
      ca_key_encrypted: await deps.vault.encrypt(made.caKeyPem, caKeyContext(bay.uuid)),
      client_cert_pem: made.clientCertPem,
      client_key_encrypted: await deps.vault.encrypt(made.clientKeyPem, clientKeyContext(bay.uuid)),
      created_at: nextCreatedAt,
    },
    created_at: stamp(Date.parse(nextCreatedAt)),
  };
  try {
    await deps.table.replaceCerts(withNext, certs.created_at);
  } catch (e) {
    if (!(e instanceof CertsChanged)) throw e;
    throw new ApiError(
      409,
      "The bay's certificates changed during the rotation",
      `The certificates of bay ${bay.uuid} were replaced by another request while this one generated new ones; ` +
        `nothing was changed by this request. GET /v1/certificates/${bay.uuid} shows the current CA.`,
    );
  }
  const rotation = planCaRotation(rolloutNodes(bay, null), { now, requestId, certsCreatedAt: nextCreatedAt });
  const { kept, ...moved } = nodeOperationPatch(deps, bay, now);
  const patch: Partial<Bay> = {
    ...moved,
    ca_rotation: { ...rotation, kept_update: kept },
    // one per-node record on the bay at a time (a DynamoDB item holds 400 KB; 1,000 nodes are
    // ~250 KB each): the last upgrade keeps its outcome, not its nodes
    ...(bay.upgrade ? { upgrade: { ...bay.upgrade, nodes: [] } } : {}),
  };
  try {
    return await startOperation(deps, caller, bay, patch, "bay.rotate_ca", requestId, "given a new CA", {
      kind: "ca_rotation_accepted",
      detail: `CA rotation of ${bay.name} accepted: a new CA (valid until ${made.notAfter}) for ${rotation.nodes.length} node(s): each trusts both CAs, gets certificates from the new one, then drops the old one`,
    });
  } catch (e) {
    // Not started (another request's operation won the bay, or the queue failed): put back the
    // certificates as read, unless another request replaced ours meanwhile. Two PATCHes at once
    // may both store a set before one wins the bay: the loser's set must not stay as the
    // winner's `next` (the winner's nodes get no command until its own set is back).
    await deps.table.replaceCerts(certs, withNext.created_at).catch((err) => {
      if (!(err instanceof CertsChanged)) deps.log.warn("certificates of a rotation not started were not put back", { requestId, bay: bay.uuid, err });
    });
    throw e;
  }
}
