// What the API's handlers get from the composition root and from middleware.
import type { BayOpsDeps, Caller } from "../../shared/bays/deps.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";
import type { BatchStore } from "../../shared/ports/batch-store.ts";
import type { ServiceRegistry } from "../../shared/ports/service-registry.ts";
import type { Version } from "./microversion.ts";
import type { SignIn } from "../../shared/ports/sign-in.ts";
import type { StackHistory } from "../../shared/ports/stack-history.ts";
import type { ReplayGuard } from "../../shared/ports/replay-guard.ts";

/** The bay operations' dependencies, plus what only the HTTP API needs. */
export interface ApiDeps extends BayOpsDeps {
  /** decrypts a bay's CA key to sign CSRs, encrypts the keys of a rotated CA (the worker's vault) */
  vault: KeyVault;
  /** batch manifests (POST /v1/batches); absent → /v1/batches is not served */
  batches?: BatchStore;
  /** Bayforge's services and their heartbeats; absent → /v1/mservices is not served */
  services?: ServiceRegistry;
  /** Keystone sign-in for the web console at /console; absent (noauth) → the console is off */
  signIn?: SignIn;
  /** Heat's events for the console's timeline, read with the person's token */
  stackHistory?: StackHistory;
  /** node agents' signed requests seen (issue 15); absent → this process's memory (one API process) */
  nodeReplay?: ReplayGuard;
  /** Resolves the caller of a request, or throws ApiError 401/403. */
  authenticate(headers: Headers): Promise<Caller>;
  /** largest request body accepted, bytes */
  maxBodyBytes: number;
  /** largest batch manifest (POST /v1/batches) accepted, bytes; default DEFAULT_MAX_MANIFEST_BYTES */
  maxManifestBytes?: number;
}

export type ApiEnv = {
  Variables: { version: Version; requestId: string; caller: Caller; base: string };
};

export type { Caller };
