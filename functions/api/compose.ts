// Composition root of the API function: settings + stores + key vault (+ Bayforge's
// Keystone session in keystone mode) → the Hono app.
import type { Settings } from "../../shared/config.ts";
import type { BayTable } from "../../shared/ports/bay-table.ts";
import type { WorkQueue } from "../../shared/ports/work-queue.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { DiscoveryStore } from "../../shared/ports/discovery-store.ts";
import type { QuotaStore } from "../../shared/ports/quota-store.ts";
import type { BatchStore } from "../../shared/ports/batch-store.ts";
import type { ReplayGuard } from "../../shared/ports/replay-guard.ts";
import type { ServiceRegistry } from "../../shared/ports/service-registry.ts";
import type { Logger } from "../../shared/observability/logger.ts";
import type { Session } from "../../shared/adapters/openstack/identity/session.ts";
import { TokenValidator } from "../../shared/adapters/openstack/identity/tokens.ts";
import { KeystoneIdentity } from "../../shared/adapters/openstack/identity/keystone-identity.ts";
import { KeystoneSignIn } from "../../shared/adapters/openstack/identity/sign-in.ts";
import { HeatStackHistory } from "../../shared/adapters/openstack/orchestration/stack-history.ts";
import { createApp } from "./app.ts";
import { noauth } from "./noauth.ts";
import { keystoneAuth } from "./keystone-auth.ts";
import { withBootstrapTokens } from "./bootstrap-auth.ts";

export interface ApiParts {
  table: BayTable;
  queue: WorkQueue;
  /** must be the worker's (same key): the API decrypts the CA keys the worker stored */
  vault: KeyVault;
  /** etcd discovery directories (the embedded default's SQLite store) */
  discovery?: DiscoveryStore;
  /** batch manifests (the embedded default's SQLite store); absent → /v1/batches not served */
  batches?: BatchStore;
  /** Bayforge's service user on Keystone; required in keystone mode */
  session?: Session;
  /** project quotas; absent → /v1/quotas not served and no quota enforced */
  quotas?: QuotaStore;
  /** the services' heartbeats; absent → /v1/mservices not served (the composition root beats) */
  services?: ServiceRegistry;
  /** the nodes' signed requests seen (/v1/agent); absent → this process's memory (one API process only) */
  nodeReplay?: ReplayGuard;
}

export function composeApi(settings: Settings, parts: ApiParts, log: Logger) {
  let authenticate;
  let identity;
  let signIn;
  let stackHistory;
  if (settings.auth === "noauth") {
    authenticate = noauth(settings.noauthProject);
  } else {
    if (!parts.session)
      throw new Error("keystone auth needs Bayforge's own cloud (OS_CLOUD / OS_* for its service user); set BAYFORGE_AUTH=noauth only for local use without Keystone");
    const validator = new TokenValidator(parts.session);
    authenticate = keystoneAuth(validator, { log });
    // the console's sign-out also drops the token's cached validation here
    signIn = new KeystoneSignIn(parts.session, (token) => validator.forget(token));
    stackHistory = new HeatStackHistory(parts.session.transport);
    identity = new KeystoneIdentity(parts.session, { trusteeDomain: settings.trusteeDomain });
  }
  return createApp({
    table: parts.table,
    queue: parts.queue,
    vault: parts.vault,
    identity,
    signIn,
    stackHistory,
    discovery: parts.discovery,
    batches: parts.batches,
    quotas: parts.quotas,
    services: parts.services,
    nodeReplay: parts.nodeReplay,
    maxClustersPerProject: settings.maxClustersPerProject,
    log,
    authenticate: withBootstrapTokens(parts.table, authenticate),
    defaultTimeoutMinutes: settings.defaultTimeoutMinutes,
    deadlineGraceMinutes: settings.deadlineGraceMinutes,
    publicUrl: settings.publicUrl,
    maxBodyBytes: settings.maxBodyBytes,
    maxManifestBytes: settings.maxManifestBytes,
    maxNodesPerBay: settings.maxNodesPerBay,
  });
}
