// A stand-in, named, for a bay's node agents (templates' install-agent fragment), for bays on
// the light dev cloud profile, whose servers are placeholders and run no agent: it carries a
// CA rotation (shared/domain/ca-rotation.ts) to its end as the nodes' agents would, each
// command reported done at once. Each node gets its kubelet identity (CN=system:node:<name>,
// O=system:nodes, an EC P-256 key made with openssl) signed through POST /v1/certificates as
// the bay's owner, then signs its requests to /v1/agent with it (shared/certs/node-request.ts),
// as the real agent does. During the reissue phase it renews that identity from the new CA
// (POST …/certificates), as a node renews what it has, so it is still a node of the bay once
// the old CA is dropped. It runs nothing on any node: it only answers for them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { canonicalRequest, NODE_CERT_HEADER, NODE_SIGNATURE_HEADER, NODE_TIME_HEADER } from "../../shared/certs/node-request.ts";

/** An owner-authenticated call to Bayforge's API (bayforge-process.ts' `api` bound to its url, or the API harness's `call`). */
export type OwnerCall = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; json: any }>;

export interface StandinNode {
  name: string;
  role: string;
  group: string;
}

/** A command the stand-in was given and reported, in the order it was given. */
export interface StandinStep {
  node: string;
  command_id: string;
  action: string;
  /** what `ca show` would have been told to trust: the command's ca_pem (trust-ca and drop-ca) */
  ca_pem?: string;
}

export interface StandinResult {
  /** the bay as it left UPDATE_IN_PROGRESS */
  bay: any;
  nodes: StandinNode[];
  steps: StandinStep[];
}

export interface StandinOptions {
  /** Bayforge's base URL (the agent API is served before the Keystone check) */
  url: string;
  bay: string;
  call: OwnerCall;
  /** how long the rotation may take before the stand-in gives up (default 5 min) */
  timeoutMs?: number;
  /** renew each node's kubelet identity from the new CA when told to reissue (default true) */
  renewOnReissue?: boolean;
}

const V19 = { "OpenStack-API-Version": "container-infra 1.9" };
const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The rotation's nodes, as the nodegroup views list them (every group, masters first). */
export async function rotationNodes(call: OwnerCall, bay: string): Promise<StandinNode[]> {
  const r = await call("GET", `/v1/clusters/${bay}/nodegroups`, undefined, V19);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const nodes = (r.json.nodegroups as Array<{ name: string; role: string; nodes?: Array<{ node: string }> }>).flatMap((g) => (g.nodes ?? []).map((n) => ({ name: n.node, role: g.role, group: g.name })));
  assert.ok(nodes.length, `the nodegroup views of bay ${bay} list no nodes of a rotation: ${JSON.stringify(r.json)}`);
  return [...nodes.filter((n) => n.role === "master"), ...nodes.filter((n) => n.role !== "master")];
}

/** One node's identity: its key and kubelet certificate, and the requests it signed. */
class NodeIdentity {
  private key!: KeyObject;
  private certB64 = "";
  /** canonical requests this node signed (the replay guard refuses a second use) */
  private used = new Set<string>();
  constructor(readonly node: StandinNode, private dir: string) {}

  /** A fresh key and the CSR of the kubelet's identity for it (the key is used once the certificate is in). */
  newCsr(tag: string): { csr: string; keyPem: string } {
    const keyFile = join(this.dir, `${this.node.name}-${tag}.key`);
    const csrFile = join(this.dir, `${this.node.name}-${tag}.csr`);
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile);
    openssl("req", "-new", "-key", keyFile, "-subj", `/O=system:nodes/CN=system:node:${this.node.name}`, "-out", csrFile);
    return { csr: readFileSync(csrFile, "utf8"), keyPem: readFileSync(keyFile, "utf8") };
  }

  use(keyPem: string, certPem: string) {
    this.key = createPrivateKey(keyPem);
    this.certB64 = Buffer.from(certPem).toString("base64");
  }

  /** The request signed with a timestamp not used before for the same request by this node. */
  async signed(method: string, path: string, body: string): Promise<Record<string, string>> {
    for (;;) {
      const stamp = String(Math.floor(Date.now() / 1000));
      const canonical = canonicalRequest(method, path, stamp, body);
      if (!this.used.has(canonical)) {
        this.used.add(canonical);
        const signature = sign("sha256", Buffer.from(canonical), this.key).toString("base64");
        return { [NODE_CERT_HEADER]: this.certB64, [NODE_TIME_HEADER]: stamp, [NODE_SIGNATURE_HEADER]: signature };
      }
      await sleep(1000 - (Date.now() % 1000) + 5); // the next second
    }
  }
}

/**
 * Drives the bay's CA rotation to its end as its nodes' agents: every node asks for its desired
 * state, and reports each command it is given as succeeded, until the bay leaves
 * UPDATE_IN_PROGRESS. Returns the bay then (UPDATE_COMPLETE or not: the caller asserts), the
 * nodes and every command given, in order.
 */
export async function driveCaRotationAsAgents(o: StandinOptions): Promise<StandinResult> {
  const timeoutMs = o.timeoutMs ?? 5 * 60_000;
  const renew = o.renewOnReissue ?? true;
  const nodes = await rotationNodes(o.call, o.bay);
  const dir = mkdtempSync(join(tmpdir(), "bf-standin-agent-"));
  const steps: StandinStep[] = [];
  const seen = new Set<string>();
  try {
    const ids: NodeIdentity[] = [];
    for (const n of nodes) {
      const id = new NodeIdentity(n, dir);
      const { csr, keyPem } = id.newCsr("boot");
      const r = await o.call("POST", "/v1/certificates", { bay_uuid: o.bay, csr });
      assert.equal(r.status, 201, `the kubelet identity of ${n.name}: ${JSON.stringify(r.json)}`);
      id.use(keyPem, r.json.pem);
      ids.push(id);
    }

    /** One signed request of a node to the agent API; undefined when refused because the bay's rotation ended meanwhile. */
    const agent = async (id: NodeIdentity, method: "GET" | "POST", suffix: string, body?: unknown): Promise<any> => {
      const path = `/v1/agent/bays/${o.bay}/nodes/${id.node.name}${suffix}`;
      const text = body === undefined ? "" : JSON.stringify(body);
      for (let tries = 0; ; tries++) {
        const res = await fetch(o.url + path, { method, headers: { ...(await id.signed(method, path, text)), ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : text });
        const answer = await res.text();
        const json = answer ? JSON.parse(answer) : undefined;
        if (res.ok) return json;
        const detail = json?.errors?.[0]?.detail ?? answer;
        // another request of the same node in the same second (this process signs each once: a retry after a lost answer)
        if (res.status === 401 && /replay/.test(detail) && tries < 5) continue;
        // the rotation ended between the bay's look and this request (a certificate of the old CA is no longer the bay's)
        if (res.status === 401 && (await o.call("GET", `/v1/bays/${o.bay}`)).json?.status !== "UPDATE_IN_PROGRESS") return undefined;
        assert.fail(`${method} ${path} as node ${id.node.name}: ${res.status} ${detail}`);
      }
    };

    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const b = await o.call("GET", `/v1/bays/${o.bay}`);
      assert.equal(b.status, 200, JSON.stringify(b.json));
      if (b.json.status !== "UPDATE_IN_PROGRESS") return { bay: b.json, nodes, steps };
      if (Date.now() > deadline) assert.fail(`the CA rotation of bay ${o.bay} did not end within ${timeoutMs} ms (its nodes answered by the stand-in agent): ${b.json.status_reason ?? ""}; commands done: ${steps.map((s) => `${s.node} ${s.action}`).join(", ")}`);
      for (const id of ids) {
        const state = await agent(id, "GET", "");
        const command = state?.command as { id: string; action: string; ca_pem?: string } | null;
        if (!command) continue;
        if (!seen.has(command.id)) {
          seen.add(command.id);
          steps.push({ node: id.node.name, command_id: command.id, action: command.action, ...(command.ca_pem ? { ca_pem: command.ca_pem } : {}) });
        }
        if (command.action === "reissue" && renew) {
          // the node's own certificates from the new CA, its kubelet identity among them
          const { csr, keyPem } = id.newCsr(command.id);
          const pem = (await agent(id, "POST", "/certificates", { csr })).pem as string;
          id.use(keyPem, pem);
        }
        await agent(id, "POST", "/report", { command_id: command.id, result: "succeeded", step: command.action });
      }
      await sleep(1000); // as an agent with work asks again soon; the worker moves on at each report
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
