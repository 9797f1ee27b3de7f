// /v1/agent: Bayforge's own API for the agent on each bay node (issue 15; not Magnum's). Served
// before the Keystone check: a node carries no token; it signs each request with its kubelet
// key and sends the certificate Bayforge signed for it at boot (shared/certs/node-request.ts).
// The bay whose CA issued the certificate is the one the path names, and the node the path
// names is the certificate's CN: a node reads and reports its own state only.
//   GET  /v1/agent/bays/{bay}/nodes/{node}         → its desired state (target version, step, command)
//   POST /v1/agent/bays/{bay}/nodes/{node}/report  → {command_id?, result, version?, step?, reason?}; → the desired state
//   POST /v1/agent/bays/{bay}/nodes/{node}/certificates → {csr}; → 201 {pem}: during a CA
//        rotation's reissue, the node's own certificates signed by the new CA
import { Hono, type Context } from "hono";
import { ApiError, badRequest } from "../../../shared/domain/errors.ts";
import { nextCertsOf, trustedNodeCas } from "../../../shared/domain/ca-rotation.ts";
import { signCsr } from "../../../shared/certs/sign-csr.ts";
import { nodeNamePrefix } from "../../../shared/templates/kubernetes-definition.ts";
import { caKeyContext } from "../../../shared/certs/bay-ca.ts";
import { looksLikeUuid } from "../../../shared/domain/bay.ts";
import { NODE_MAX_BODY_BYTES, NODE_NAME, verifyNodeRequest } from "../../../shared/certs/node-request.ts";
import { desiredState, parseReport, reportNode } from "../../../shared/bays/node-agent.ts";
import type { ReplayGuard } from "../../../shared/ports/replay-guard.ts";
import type { ApiDeps, ApiEnv } from "../env.ts";

export const AGENT_PATH = "/v1/agent";

/**
 * Signatures seen in this process until their window closes. On AWS several containers serve
 * the API: there the composition root gives the table's guard (as the webhook's).
 */
export class MemoryNodeReplayGuard implements ReplayGuard {
  private seen = new Map<string, number>();
  async firstUse(key: string, expiresAt: number, now: number): Promise<boolean> {
    if (this.seen.size > 50_000) for (const [k, t] of this.seen) if (t < now) this.seen.delete(k);
    const t = this.seen.get(key);
    if (t !== undefined && t >= now) return false;
    this.seen.set(key, expiresAt);
    return true;
  }
}

export function agentRoutes(deps: ApiDeps & { nodeReplay?: ReplayGuard }): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  const replay = deps.nodeReplay ?? new MemoryNodeReplayGuard();
  const now = () => deps.now?.() ?? new Date();

  /** The bay, once the request is proven to come from the node the path names. */
  const authenticate = async (c: Context<ApiEnv>, path: string) => {
    const { bay: bayId, node } = c.req.param() as { bay: string; node: string };
    const refuse = (status: number, detail: string) => new ApiError(status, status === 401 ? "Unauthorized" : status === 413 ? "Request entity too large" : "Forbidden", detail);
    if (!looksLikeUuid(bayId) || !NODE_NAME.test(node)) throw refuse(401, "The node's certificate was not issued by this bay's CA.");
    const length = Number(c.req.header("content-length") ?? 0);
    if (length > NODE_MAX_BODY_BYTES) throw refuse(413, `The request body exceeds the limit of ${NODE_MAX_BODY_BYTES} bytes for a node.`);
    const body = Buffer.from(await c.req.arrayBuffer());
    const [bay, certs] = await Promise.all([deps.table.getBay(bayId.toLowerCase()), deps.table.getCerts(bayId.toLowerCase())]);
    // an unknown bay answers as a foreign certificate does: no way to probe for bays
    if (!bay || !certs) throw refuse(401, "The node's certificate was not issued by this bay's CA.");
    const verdict = await verifyNodeRequest(
      { method: c.req.method, path: `${AGENT_PATH}/bays/${bayId}/nodes/${node}${path}`, headers: { get: (n) => c.req.header(n) }, body },
      { caPems: trustedNodeCas(certs, bay.ca_rotation), node, now: now(), replay },
    );
    if (!verdict.ok) {
      deps.log.warn("node request refused", { bay: bay.uuid, node, reason: verdict.reason });
      throw refuse(verdict.status, verdict.reason);
    }
    return { bay, node, body, certs };
  };

  r.get("/bays/:bay/nodes/:node", async (c) => {
    const { bay, node, certs } = await authenticate(c, "");
    return c.json(desiredState(bay, node, certs));
  });

  r.post("/bays/:bay/nodes/:node/report", async (c) => {
    const { bay, node, body, certs } = await authenticate(c, "/report");
    return c.json(await reportNode({ table: deps.table, queue: deps.queue, log: deps.log, now: deps.now }, bay, node, parseReport(jsonOf(body, "A node report")), certs));
  });

  // Only while this node's command is a CA rotation's reissue, and only the subjects its role
  // has at boot, with its own name: the node renews what it has, from the new CA.
  r.post("/bays/:bay/nodes/:node/certificates", async (c) => {
    const { bay, node, body, certs } = await authenticate(c, "/certificates");
    const { csr, ...extra } = jsonOf(body, "A certificate request") as Record<string, unknown>;
    if (typeof csr !== "string" || !csr || Object.keys(extra).length) throw badRequest("A certificate request is {\"csr\": \"<PEM>\"} and nothing else.");
    const row = bay.status === "UPDATE_IN_PROGRESS" && !bay.ca_rotation?.finished_at ? bay.ca_rotation?.nodes.find((n) => n.name === node) : undefined;
    const next = nextCertsOf(certs, bay.ca_rotation);
    if (!next || row?.command?.action !== "reissue")
      throw new ApiError(409, "Conflict", `Node ${node} has no certificates to renew now: its agent asks for them only during a CA rotation's reissue step.`);
    const pem = signCsr({
      caCertPem: next.ca_cert_pem,
      caKeyPem: await deps.vault.decrypt(next.ca_key_encrypted, caKeyContext(bay.uuid)),
      csrPem: csr,
      // the role the rotation planned the node with (rolloutNodes), its boot token's subjects
      policy: { role: row.role === "master" ? "master" : "minion", nodeNamePrefix: nodeNamePrefix(bay), minionGroups: (bay.nodegroups ?? []).map((g) => g.name), ownNode: node },
    });
    deps.log.info("node certificate renewed from the new CA", { bay: bay.uuid, node });
    return c.json({ pem }, 201);
  });
  return r;
}

function jsonOf(body: Buffer, what: string): unknown {
  try {
    const v: unknown = JSON.parse(body.toString("utf8"));
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {
    /* refused below */
  }
  throw badRequest(`${what} is a JSON object.`);
}
