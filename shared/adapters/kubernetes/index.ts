// The Kubernetes port over the one HTTP transport: a bay's API, as Bayforge's client
// certificate for the bay (CN=admin, O=system:masters) verified against the bay's CA. The API
// is the tenant's, so every answer is capped at a few MB and each call is made once (the
// drain has its own deadline and is best effort).
import { formatBytes, HttpTransport, TransportError, type HttpResponse } from "../http/index.ts";
import { KubernetesError, type KubeEndpoint, type KubeNode, type KubeNodeReady, type KubePod, type Kubernetes, type KubernetesApi } from "../../ports/kubernetes.ts";

/** The largest answer read from a bay's API (a node or pod list of a few thousand items). */
export const KUBE_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
/** What is kept of a text answer (/readyz): enough for its verbose list of checks. */
const MAX_TEXT = 4096;
/** A list's `continue` token longer than this is not sent back (an API could make each URL huge). */
const MAX_CONTINUE = 4096;

export interface KubernetesClientsOptions {
  maxResponseBytes?: number;
}

export class KubernetesClients implements Kubernetes {
  constructor(private readonly opts: KubernetesClientsOptions = {}) {}

  connect(endpoint: KubeEndpoint, o: { connectTimeoutMs?: number } = {}): KubernetesApi {
    const connectTimeoutMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const transport = new HttpTransport({
      connectTimeoutMs,
      timeoutMs: connectTimeoutMs * 3,
      retry: { attempts: 1 },
      maxResponseBytes: this.opts.maxResponseBytes ?? KUBE_MAX_RESPONSE_BYTES,
      ...(endpoint.tls ? { tls: endpoint.tls } : {}),
    });
    return new KubeClient(endpoint.apiAddress.replace(/\/+$/, ""), transport);
  }
}

interface NodeList {
  items?: Array<{ metadata?: { name?: string }; status?: { addresses?: Array<{ type?: string; address?: string }> } }>;
}

interface NodeConditionList {
  metadata?: { continue?: unknown };
  items?: unknown;
}

interface PodList {
  items?: Array<{ metadata?: { name?: string; namespace?: string; annotations?: Record<string, string>; ownerReferences?: Array<{ kind?: string }> } }>;
}

class KubeClient implements KubernetesApi {
  private closed = false;

  constructor(
    private readonly base: string,
    private readonly transport: HttpTransport,
  ) {}

  async listNodes(): Promise<KubeNode[]> {
    const list = await this.get<NodeList>("/api/v1/nodes");
    return (list.items ?? []).map((n) => ({
      name: String(n.metadata?.name ?? ""),
      internalIPs: (n.status?.addresses ?? []).filter((a) => a.type === "InternalIP" && typeof a.address === "string").map((a) => a.address!),
    }));
  }

  async cordon(node: string): Promise<void> {
    await this.send("PATCH", `/api/v1/nodes/${encodeURIComponent(node)}`, { spec: { unschedulable: true } }, "application/merge-patch+json");
  }

  async podsOn(node: string): Promise<KubePod[]> {
    const list = await this.get<PodList>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
    return (list.items ?? []).map(({ metadata: m = {} }) => ({
      name: String(m.name ?? ""),
      namespace: String(m.namespace ?? ""),
      ownerKinds: (m.ownerReferences ?? []).map((r) => String(r.kind ?? "")),
      mirror: !!m.annotations?.["kubernetes.io/config.mirror"],
    }));
  }

  async evict(pod: { namespace: string; name: string }): Promise<boolean> {
    const status = await this.send("POST", `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/eviction`, {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: pod.name, namespace: pod.namespace },
    });
    // 429: a PodDisruptionBudget says not now; 404: already gone
    return status === 200 || status === 201;
  }

  async readyz(): Promise<{ status: number; text: string }> {
    const res = await this.call("GET", "/readyz");
    const text = typeof res.body === "string" ? res.body : res.body === undefined ? "" : JSON.stringify(res.body);
    return { status: res.status, text: text.slice(0, MAX_TEXT) };
  }

  async nodesReady(o: { pageSize?: number; maxPages?: number } = {}): Promise<{ items: KubeNodeReady[]; complete: boolean }> {
    const pageSize = o.pageSize ?? 200;
    const maxPages = o.maxPages ?? 25;
    const items: KubeNodeReady[] = [];
    let next: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const query = `limit=${pageSize}${next ? `&continue=${encodeURIComponent(next)}` : ""}`;
      const list = await this.get<NodeConditionList>(`/api/v1/nodes?${query}`);
      if (!Array.isArray(list.items)) throw new KubernetesError("answered GET /api/v1/nodes with something other than a node list", 200);
      for (const n of list.items) items.push(nodeReady(n));
      const token = list.metadata?.continue;
      if (typeof token !== "string" || !token) return { items, complete: true };
      if (token.length > MAX_CONTINUE) break;
      next = token;
    }
    return { items, complete: false };
  }

  async version(): Promise<string | undefined> {
    const v = await this.get<{ gitVersion?: unknown }>("/version");
    return typeof v.gitVersion === "string" ? v.gitVersion.slice(0, 256) : undefined;
  }

  close(): Promise<void> {
    this.closed = true;
    return this.transport.close();
  }

  private async get<T>(path: string): Promise<T> {
    const res = await this.call("GET", path);
    if (res.status !== 200) throw new KubernetesError(`answered ${res.status} to GET ${path.split("?")[0]}`, res.status);
    if (!res.body || typeof res.body !== "object") throw new KubernetesError(`answered GET ${path.split("?")[0]} with something other than JSON`, res.status);
    return res.body as T;
  }

  /** Sends JSON; returns the status (the body is dropped). Throws on what no retry next round fixes. */
  private async send(method: "PATCH" | "POST", path: string, body: unknown, contentType = "application/json"): Promise<number> {
    const res = await this.call(method, path, body, contentType);
    if (res.status >= 500 || res.status === 401 || res.status === 403) throw new KubernetesError(`answered ${res.status} to ${method} ${path}`, res.status);
    return res.status;
  }

  private async call(method: "GET" | "PATCH" | "POST", path: string, json?: unknown, contentType?: string): Promise<HttpResponse> {
    // a caller out of time closes the client: what it had still to ask is not asked
    if (this.closed) throw new KubernetesError("was not asked: the client was closed");
    try {
      return await this.transport.send({ method, url: `${this.base}${path}`, json, headers: contentType ? { "content-type": contentType } : {} });
    } catch (e) {
      if (e instanceof TransportError && e.kind === "too_large") throw new KubernetesError(`answered ${method} ${path.split("?")[0]} with more than the ${formatBytes(this.transport.maxResponseBytes)} an answer may have (aborted, not kept)`);
      const err = e as Error & { code?: string };
      throw new KubernetesError(`could not be reached (${err.code ?? err.message})`);
    }
  }
}

/** One item of a node list, however it is shaped: its name and whether its Ready condition says true. */
function nodeReady(n: unknown): KubeNodeReady {
  const node = (n && typeof n === "object" ? n : {}) as { metadata?: { name?: unknown }; status?: { conditions?: unknown } };
  const name = typeof node.metadata?.name === "string" ? node.metadata.name : "";
  const conditions = Array.isArray(node.status?.conditions) ? (node.status.conditions as Array<{ type?: unknown; status?: unknown } | null>) : [];
  const condition = conditions.find((c) => c && typeof c === "object" && c.type === "Ready");
  // Magnum reads the status with oslo's bool_from_string; Kubernetes says "True", "False" or "Unknown"
  return { name, ready: typeof condition?.status === "string" && /^(1|t|true|on|y|yes)$/i.test(condition.status) };
}
