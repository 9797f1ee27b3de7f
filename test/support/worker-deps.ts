// What tests of single worker steps share: WorkerDeps with inert parts (overridden as each test
// needs), and a bay stored on the embedded table as the API would accept it.
import type { WorkerDeps } from "../../functions/worker/deps.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { Bay } from "../../shared/domain/model.ts";
import type { WorkMessage } from "../../shared/ports/work-queue.ts";
import { createLogger } from "../../shared/observability/logger.ts";
import { acceptBay, parseBayRequest } from "../../shared/domain/bay.ts";
import { newBayModel } from "../../shared/domain/baymodel.ts";
import { kubeclusterTemplate } from "../../shared/templates/kubernetes-definition.ts";
import { KubernetesClients } from "../../shared/adapters/kubernetes/index.ts";

const unused = (what: string) => () => {
  throw new Error(`${what} is not used by this test`);
};

/** WorkerDeps for one step: the given parts, and inert ones (calling them fails the test). */
export function stepDeps(parts: Pick<WorkerDeps, "table" | "queue"> & Partial<WorkerDeps>): WorkerDeps {
  return {
    heatFor: unused("Heat"),
    vault: { encrypt: unused("the key vault"), decrypt: unused("the key vault") } as unknown as KeyVault,
    log: createLogger({}, "error"),
    // the real adapter: a scale-down drains (or records why not) as in the worker
    kubernetes: new KubernetesClients(),
    template: () => kubeclusterTemplate(),
    definitionContext: async () => unused("definitionContext")(),
    pollDelays: [1],
    retryDelays: [2, 4, 8],
    now: () => new Date(),
    ...parts,
  };
}

/** A bay accepted for project p (with its baymodel), then `patch`ed; returns it as stored. */
export async function storedBay(table: BayTable, name: string, patch: Partial<Bay> = {}, now = new Date()): Promise<Bay> {
  const owner = { projectId: "p", userId: "u" };
  const model = newBayModel({ name: `m-${name}`, coe: "kubernetes", image_id: "img", keypair_id: "k", external_network_id: "public" }, owner, now.toISOString());
  await table.putBayModel(model);
  const bay = acceptBay(parseBayRequest({ name, baymodel_id: model.uuid }), model.uuid, owner, { defaultTimeoutMinutes: 60, deadlineGraceMinutes: 5, requestId: `r-${name}`, now });
  await table.createBay(bay);
  if (!Object.keys(patch).length) return bay;
  return table.updateBay({ ...bay, ...patch, version: bay.version + 1 }, bay.version);
}

/** What following a poll chain saw: how many messages were handled, and the delay each re-sent one asked for. */
export interface PollChain {
  handled: number;
  /** delaySeconds of each message the steps sent, in order (0 when none was given) */
  delays: number[];
}

/**
 * Hands the bay's poll to `step`, then each message the step sends next, one at a time as the
 * queue would deliver them (at once: the delays are recorded, not waited), until none is sent
 * (or `max`).
 */
export async function followPolls(bayId: string, step: (m: WorkMessage, d: WorkerDeps) => Promise<void>, parts: Omit<Parameters<typeof stepDeps>[0], "queue">, max = 50): Promise<PollChain> {
  const sent: WorkMessage[] = [];
  const delays: number[] = [];
  const deps = stepDeps({
    ...parts,
    queue: {
      send: async (m, o) => {
        sent.push(m);
        delays.push(o?.delaySeconds ?? 0);
      },
    },
  });
  let msg: WorkMessage | undefined = { v: 1, kind: "bay.poll", bayId, projectId: "p", requestId: "r", attempt: 0, seq: 0 };
  let handled = 0;
  for (; msg && handled < max; handled++) {
    const before = sent.length;
    await step(msg, deps);
    msg = sent.length > before ? sent[sent.length - 1] : undefined;
  }
  return { handled, delays };
}

/** Stores `certs` as the bay's, encrypted with `vault` as the worker stores them. */
export async function storeBayCerts(table: BayTable, vault: KeyVault, bayUuid: string, certs: { caCertPem: string; caKeyPem: string; clientCertPem: string; clientKeyPem: string }, at = new Date()): Promise<void> {
  await table.putCertsIfAbsent({
    bay_uuid: bayUuid,
    ca_cert_pem: certs.caCertPem,
    ca_key_encrypted: await vault.encrypt(certs.caKeyPem, `bay:${bayUuid}:ca`),
    client_cert_pem: certs.clientCertPem,
    client_key_encrypted: await vault.encrypt(certs.clientKeyPem, `bay:${bayUuid}:client`),
    created_at: at.toISOString(),
  });
}
