// /v1/certificates: a bay's CA certificate (GET), a node's CSR signed by that CA (POST), and
// CA rotation (PATCH), as Magnum's CertificateController
// (magnum/api/controllers/v1/certificate.py) and its conductor handler
// (magnum/conductor/handlers/ca_conductor.py) do. The bay's nodes call GET and POST
// themselves while they boot (make-cert.sh), so those two answer whatever the bay's status;
// with a bootstrap token, POST signs only the subjects of the token's node role.
//
// Versions: all three work at every supported version. Magnum documents PATCH as new in
// container-infra 1.5, but its controller never checks the version (no api_version decorator
// on CertificateController.patch, up to master), so Bayforge, whose maximum is still 1.2,
// accepts PATCH at any version too; the lead raises the maximum later.
import { Hono } from "hono";
import type { Context } from "hono";
import { signCsr } from "../../../shared/certs/sign-csr.ts";
import { nodeNamePrefix } from "../../../shared/templates/kubernetes-definition.ts";
import { ApiError, badRequest } from "../../../shared/domain/errors.ts";
import { checkBody, type FieldRule } from "../../../shared/domain/fields.ts";
import type { Bay, BayCerts } from "../../../shared/domain/model.ts";
import { caBundleShown, signingCa } from "../../../shared/domain/ca-rotation.ts";
import { rotateCa } from "../../../shared/bays/rotate-ca.ts";
import { caKeyContext } from "../../../shared/certs/bay-ca.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";
import { getBay } from "../../../shared/bays/lookup.ts";
import { readJson } from "../request.ts";
import { bootstrapRole } from "../bootstrap-auth.ts";
import { links } from "../views.ts";

/**
 * POST body, as Magnum's API type `Certificate`: `bay_uuid` (mitaka) or `cluster_uuid`
 * (modern; python-magnumclient sends this one) names the bay by uuid or name, `csr` is
 * `StringType(min_length=1)`. `pem` and `links` are what the answer carries.
 */
const SIGN_FIELDS: Record<string, FieldRule> = {
  bay_uuid: { spec: { type: "string", min: 1, max: 255 } },
  cluster_uuid: { spec: { type: "string", min: 1, max: 255 } },
  csr: { spec: { type: "string", min: 1 }, required: true },
  pem: { spec: { type: "string" }, readonly: true },
  links: { spec: { type: "string" }, readonly: true },
};


/** Seconds a client is told to wait for a CA that the worker has not generated yet. */
const NOT_READY_RETRY_SECONDS = 5;

export function certificateRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();

  // Magnum 15 answers {bay_uuid, cluster_uuid, links, pem}: created_at is only in the API
  // reference's sample (Certificate.sample); a real answer leaves it unset, so it is omitted.
  r.get("/:ident", async (c) => {
    const bay = await getBay(deps.table, c.get("caller"), c.req.param("ident"));
    const certs = await certsOf(c, deps, bay);
    return c.json({
      bay_uuid: bay.uuid,
      cluster_uuid: bay.uuid,
      links: links(c.get("base"), "certificates", bay.uuid),
      // during a CA rotation: the new CA once every node trusts it (shared/domain/ca-rotation.ts)
      pem: caBundleShown(certs, bay.ca_rotation),
    });
  });

  r.post("/", async (c) => {
    const fields = checkBody("certificate", await readJson(c), SIGN_FIELDS);
    const ident = bayIdent(fields);
    let bay: Bay;
    try {
      bay = await getBay(deps.table, c.get("caller"), ident);
    } catch (e) {
      // Magnum (Certificate._set_cluster_uuid): "404 (NotFound) is inappropriate response
      // for a POST request", so a bay that is not found is a 400.
      if (e instanceof ApiError && e.status === 404) throw badRequest(e.detail);
      throw e;
    }
    const certs = await certsOf(c, deps, bay);
    const csr = fields.csr as string;
    // The bay's own nodes get only what their role needs (shared/certs/csr-policy.ts); the
    // bay's owner any subject, as Magnum signs `openstack coe cluster config`'s admin.
    const role = bootstrapRole(c.get("caller"));
    const ca = signingCa(certs, bay.ca_rotation);
    const pem = signCsr({
      caCertPem: ca.ca_cert_pem,
      caKeyPem: await deps.vault.decrypt(ca.ca_key_encrypted, caKeyContext(bay.uuid)),
      csrPem: csr,
      ...(role ? { policy: { role, nodeNamePrefix: nodeNamePrefix(bay), minionGroups: (bay.nodegroups ?? []).map((g) => g.name) } } : {}),
    });
    deps.log.info("certificate signed", { requestId: c.get("requestId"), bay: bay.uuid, ...(role ? { role } : {}) });
    return c.json(
      { bay_uuid: bay.uuid, cluster_uuid: bay.uuid, links: links(c.get("base"), "certificates", bay.uuid), csr, pem },
      201,
    );
  });

  // CA rotation (CertificateController.patch + ca_conductor.rotate_ca_certificate), carried to
  // the bay's nodes by their agents (shared/bays/rotate-ca.ts). The request body, if any, is
  // ignored, as Magnum's patch(cluster_ident) takes none.
  r.patch("/:ident", async (c) => {
    const bay = await getBay(deps.table, c.get("caller"), c.req.param("ident"));
    const certs = await certsOf(c, deps, bay);
    await rotateCa(deps, c.get("caller"), bay, certs, c.get("requestId"));
    return c.json({ uuid: bay.uuid }, 202);
  });

  return r;
}

/** The bay named by exactly one of bay_uuid (mitaka) and cluster_uuid (modern Magnum). */
function bayIdent(fields: Record<string, unknown>): string {
  const bayUuid = fields.bay_uuid as string | null | undefined;
  const clusterUuid = fields.cluster_uuid as string | null | undefined;
  if (bayUuid != null && clusterUuid != null) {
    throw badRequest(
      "Give the bay as bay_uuid or as cluster_uuid, not both: they are two names for the same attribute.",
    );
  }
  const ident = bayUuid ?? clusterUuid;
  if (ident == null) {
    throw new ApiError(
      400,
      "Invalid input for field/attribute bay_uuid",
      "Invalid input for field/attribute bay_uuid. Mandatory field missing: name the bay (uuid or name) " +
        "as bay_uuid or as cluster_uuid.",
    );
  }
  return ident;
}

/**
 * The bay's stored certificates. Bayforge accepts a bay before its worker has generated them
 * (Mitaka generated them before answering the create), so for a short while a bay exists
 * without a CA. Magnum has no answer of its own for that (its cert manager fails on the empty
 * `ca_cert_ref`, a 500); Bayforge answers 409 Conflict: the bay exists (so not 404, which
 * would tell a node's make-cert.sh or a client that the bay is gone), but its state does not
 * allow the request yet. Retry-After says when to try again.
 */
async function certsOf(c: Context<ApiEnv>, deps: ApiDeps, bay: Bay): Promise<BayCerts> {
  const certs = await deps.table.getCerts(bay.uuid);
  if (certs) return certs;
  const inProgress = bay.status.endsWith("_IN_PROGRESS");
  if (inProgress) c.header("Retry-After", String(NOT_READY_RETRY_SECONDS));
  throw new ApiError(
    409,
    "The bay's CA certificate is not ready yet",
    inProgress
      ? `The CA certificate of bay ${bay.uuid} is not ready yet: the bay is ${bay.status} and its certificates ` +
          `are generated when its creation starts. Try again in ${NOT_READY_RETRY_SECONDS} seconds.`
      : `Bay ${bay.uuid} has no CA certificate: it is ${bay.status} and its certificates were never generated.`,
  );
}
