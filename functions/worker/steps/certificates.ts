// The bay's CA and client certificate, made once: a second delivery finds them stored (or
// loses the insert race and uses the winner's), so a bay never gets two CAs.
import { caKeyContext, clientKeyContext, generateBayCertificates } from "../../../shared/certs/bay-ca.ts";
import type { Bay, BayCerts } from "../../../shared/domain/model.ts";
import type { WorkerDeps } from "../deps.ts";

export async function ensureCertificates(bay: Bay, deps: WorkerDeps): Promise<BayCerts> {
  const existing = await deps.table.getCerts(bay.uuid);
  if (existing) return existing;
  const made = await generateBayCertificates({ bayUuid: bay.uuid, bayName: bay.name, keyPair: deps.rsaKeys });
  const stored = await deps.table.putCertsIfAbsent({
    bay_uuid: bay.uuid,
    ca_cert_pem: made.caCertPem,
    ca_key_encrypted: await deps.vault.encrypt(made.caKeyPem, caKeyContext(bay.uuid)),
    client_cert_pem: made.clientCertPem,
    client_key_encrypted: await deps.vault.encrypt(made.clientKeyPem, clientKeyContext(bay.uuid)),
    created_at: deps.now().toISOString(),
  });
  if (stored.ca_cert_pem === made.caCertPem) {
    await deps.table.appendEvent({ bay_uuid: bay.uuid, at: deps.now().toISOString(), kind: "certificates", detail: "CA and client certificate generated" });
  }
  return stored;
}
