// A bay's coe_version: the Kubernetes release it runs. Magnum's Heat driver read it from the
// stack's kube_version parameter (the kube_tag label, else the template's default) each time
// it synced a finished stack; Bayforge's nodes install the kube_tag label's release, else
// kubecluster.yaml's default (templates/kubernetes/fragments/install-packages.sh). Set here
// only, so whatever changes the release (a create, the health check, an upgrade) agrees.
import type { Bay, BayModel } from "./model.ts";
import { effectiveModel } from "./cluster.ts";

/** What a release looks like (v1.35.8, v1.35.8-rc.1+abc): anything else an API reports is not taken. */
const RELEASE = /^v\d{1,3}\.\d{1,3}\.\d{1,5}([-+][0-9A-Za-z.+-]{1,60})?$/;

/** The release the bay's nodes install: its kube_tag label (cluster over template), else the template's default. */
export function intendedCoeVersion(bay: Pick<Bay, "overrides">, model: BayModel | undefined, templateDefault: string): string {
  const tag = model ? effectiveModel(bay, model).labels?.kube_tag : undefined;
  return typeof tag === "string" && tag ? tag : templateDefault;
}

/**
 * The bay's coe_version field: the release its API reports (GET /version's gitVersion) when
 * that looks like one, else the one it was set up with.
 */
export function coeVersionField(intended: string | null, reported?: string | null): Pick<Bay, "coe_version"> {
  return { coe_version: typeof reported === "string" && RELEASE.test(reported) ? reported : intended || null };
}
