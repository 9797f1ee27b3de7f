// A bay's own Kubernetes API, as the worker's scale-down drain needs it: the calls
// `kubectl drain` makes (list nodes, cordon one, list the pods on it, evict them); and as the
// periodic health check needs it (/readyz, the nodes' Ready condition, /version). The API is
// the tenant's: the adapter caps what it reads from it (shared/adapters/kubernetes).

/** How to reach one bay's API. */
export interface KubeEndpoint {
  /** https://host:port (http:// for a tls_disabled bay, which serves it without authentication) */
  apiAddress: string;
  /** the bay's CA and Bayforge's client certificate for the bay, with its key (PEM) */
  tls?: { ca: string; cert: string; key: string };
}

export interface KubeNode {
  name: string;
  /** the node's InternalIP addresses */
  internalIPs: string[];
}

export interface KubePod {
  name: string;
  namespace: string;
  /** kinds of its owners ("ReplicaSet", "DaemonSet", ...) */
  ownerKinds: string[];
  /** a static pod's mirror (the kubelet owns it; it cannot be evicted) */
  mirror: boolean;
}

/** A node's Ready condition: true only when its status says so ("True"; Magnum reads it with bool_from_string). */
export interface KubeNodeReady {
  name: string;
  ready: boolean;
}

/** One bay's API. Each call throws KubernetesError when the API cannot be reached or refuses. */
export interface KubernetesApi {
  listNodes(): Promise<KubeNode[]>;
  /** marks the node unschedulable (a node that is not there is left alone) */
  cordon(node: string): Promise<void>;
  podsOn(node: string): Promise<KubePod[]>;
  /**
   * Asks for the pod's eviction: true when it was accepted; false when it was not, for now (a
   * PodDisruptionBudget's 429) or at all (the pod is gone).
   */
  evict(pod: { namespace: string; name: string }): Promise<boolean>;
  /** GET /readyz: its status and body text (cut to a few KB); throws only when no answer came */
  readyz(): Promise<{ status: number; text: string }>;
  /**
   * The nodes' Ready conditions, read in pages of `pageSize` up to `maxPages` pages: `complete`
   * false when there were more. Throws when the API refuses or answers something other than a node list.
   */
  nodesReady(o?: { pageSize?: number; maxPages?: number }): Promise<{ items: KubeNodeReady[]; complete: boolean }>;
  /** GET /version's gitVersion (as the API says it; undefined when it has none) */
  version(): Promise<string | undefined>;
  /** closes its connections (a call in flight then fails) */
  close(): Promise<void>;
}

export interface Kubernetes {
  /** A client for one bay's API; `connectTimeoutMs` bounds connecting (an unreachable API costs this much). */
  connect(endpoint: KubeEndpoint, o?: { connectTimeoutMs?: number }): KubernetesApi;
}

/** The API could not be reached, refused, or answered beyond the limit. The message completes "the Kubernetes API at <address> …". */
export class KubernetesError extends Error {
  constructor(
    message: string,
    /** the HTTP status of a refusal; undefined when no usable answer came */
    readonly status?: number,
  ) {
    super(message);
    this.name = "KubernetesError";
  }
}
