// How the worker reaches a bay's own Kubernetes API (the scale-down drain, the health check):
// as Bayforge's client certificate for the bay (CN=admin, O=system:masters), trusting the
// bay's CA only (and, after a CA rotation that failed once its nodes trusted the new CA, the
// new one too: a master may already serve a certificate of it).
import type { Bay } from "../../shared/domain/model.ts";
import { caBundleShown } from "../../shared/domain/ca-rotation.ts";
import { clientKeyContext } from "../../shared/certs/bay-ca.ts";
import type { KubeEndpoint } from "../../shared/ports/kubernetes.ts";
import type { WorkerDeps } from "./deps.ts";

/** The bay's API endpoint; throws when the bay has no certificates. */
export async function endpointOf(bay: Bay, deps: Pick<WorkerDeps, "table" | "vault">): Promise<KubeEndpoint> {
  const apiAddress = bay.api_address!;
  // tls_disabled bays serve the API over plain HTTP without authentication (Magnum's)
  if (apiAddress.startsWith("http://")) return { apiAddress };
  const certs = await deps.table.getCerts(bay.uuid);
  if (!certs) throw new Error("cannot be called: the bay has no certificates");
  const key = await deps.vault.decrypt(certs.client_key_encrypted, clientKeyContext(bay.uuid));
  return { apiAddress, tls: { ca: caBundleShown(certs, bay.ca_rotation), cert: certs.client_cert_pem, key } };
}
