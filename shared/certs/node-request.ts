// A bay node's signed request to Bayforge's agent API (issue 15). The node proves who it is
// with the kubelet client certificate Bayforge signed for it at boot (CN system:node:<name>,
// O system:nodes, issued by the bay's CA) and its own key: it signs the method, the path, a
// timestamp and the body's digest, and sends the certificate along. No mTLS: behind API
// Gateway no client certificate reaches the function. Everything in it is hostile: sizes are
// bounded before anything is parsed, and every refusal says what was wrong without echoing it.
import { createHash, verify as verifySignature, X509Certificate } from "node:crypto";
import type { ReplayGuard } from "../ports/replay-guard.ts";

export const NODE_CERT_HEADER = "x-bayforge-node-certificate";
export const NODE_TIME_HEADER = "x-bayforge-node-timestamp";
export const NODE_SIGNATURE_HEADER = "x-bayforge-node-signature";
/** How far a node's clock may be from Bayforge's, seconds, either way. */
export const NODE_CLOCK_WINDOW_SECONDS = 300;
/** The largest body a node may send (a report is some hundred bytes). */
export const NODE_MAX_BODY_BYTES = 8192;
const MAX_CERT_HEADER = 6144;
const MAX_SIGNATURE_HEADER = 256;
const EKU_CLIENT = "1.3.6.1.5.5.7.3.2";
/** A Kubernetes node name: a DNS subdomain, at most 64 characters here (the CN limit). */
export const NODE_NAME = /^[a-z0-9]([a-z0-9.-]{0,62}[a-z0-9])?$/;

/** What the node signs: one line per field, so no field can run into the next. */
export function canonicalRequest(method: string, path: string, timestamp: string, body: Buffer | string): string {
  return ["bayforge-node-v1", method.toUpperCase(), path, timestamp, createHash("sha256").update(body).digest("hex")].join("\n");
}

export interface NodeRequest {
  method: string;
  /** the logical path (/v1/agent/…), the same behind any stage prefix */
  path: string;
  headers: { get(name: string): string | null | undefined };
  body: Buffer;
}

export interface VerifyOptions {
  /** the bay's CA (PEM); during a CA rotation its new CA too: a certificate of either is the node's */
  caPems: readonly string[];
  /** the node the path names: the certificate must be its */
  node: string;
  now: Date;
  replay: ReplayGuard;
  windowSeconds?: number;
  maxBodyBytes?: number;
}

export type NodeVerdict = { ok: true; node: string } | { ok: false; status: 401 | 403 | 413; reason: string };

/**
 * Verifies a node's request: sizes, certificate (issued by the bay's CA, valid now, a client
 * certificate of system:nodes for the node the path names, no CA), timestamp within the
 * window, signature over the canonical request, and first use of the signature.
 */
export async function verifyNodeRequest(req: NodeRequest, o: VerifyOptions): Promise<NodeVerdict> {
  const deny = (status: 401 | 403 | 413, reason: string): NodeVerdict => ({ ok: false, status, reason });
  const maxBody = o.maxBodyBytes ?? NODE_MAX_BODY_BYTES;
  if (req.body.length > maxBody) return deny(413, `The request body exceeds the limit of ${maxBody} bytes for a node.`);
  const certB64 = req.headers.get(NODE_CERT_HEADER) ?? "";
  const stamp = req.headers.get(NODE_TIME_HEADER) ?? "";
  const sigB64 = req.headers.get(NODE_SIGNATURE_HEADER) ?? "";
  if (!certB64 || !stamp || !sigB64) return deny(401, `A node request needs the ${NODE_CERT_HEADER}, ${NODE_TIME_HEADER} and ${NODE_SIGNATURE_HEADER} headers.`);
  if (certB64.length > MAX_CERT_HEADER || sigB64.length > MAX_SIGNATURE_HEADER || !/^\d{1,12}$/.test(stamp))
    return deny(401, "The node's certificate, timestamp or signature header is malformed or too long.");
  if (!/^[A-Za-z0-9+/=]+$/.test(certB64) || !/^[A-Za-z0-9+/=]+$/.test(sigB64)) return deny(401, "The node's certificate and signature must be base64.");
  let cert: X509Certificate;
  let cas: X509Certificate[];
  try {
    cert = new X509Certificate(Buffer.from(certB64, "base64"));
    cas = o.caPems.map((p) => new X509Certificate(p));
  } catch {
    return deny(401, "The node's certificate is not an X.509 certificate.");
  }
  if (!cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return deny(401, "The node's certificate was not issued by this bay's CA.");
  const now = o.now.getTime();
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) return deny(401, "The node's certificate is not valid now (expired or not yet valid).");
  if (cert.ca) return deny(403, "A CA certificate is not a node's.");
  if (cert.keyUsage && !cert.keyUsage.includes(EKU_CLIENT)) return deny(403, "The node's certificate is not a client certificate.");
  // exactly the kubelet's identity: O=system:nodes, CN=system:node:<the node the path names>
  if (cert.subject !== `O=system:nodes\nCN=system:node:${o.node}`) return deny(403, "The certificate is not the kubelet identity of the node this path names.");
  const window = o.windowSeconds ?? NODE_CLOCK_WINDOW_SECONDS;
  const ts = Number(stamp);
  if (Math.abs(now / 1000 - ts) > window) return deny(401, `The node's timestamp is more than ${window} s from Bayforge's clock; check the node's time (NTP).`);
  const signed = Buffer.from(canonicalRequest(req.method, req.path, stamp, req.body));
  let good = false;
  try {
    good = verifySignature("sha256", signed, cert.publicKey, Buffer.from(sigB64, "base64"));
  } catch {
    good = false;
  }
  if (!good) return deny(401, "The node's signature does not match the request.");
  // keyed by what was signed, not by the signature (ECDSA signatures are malleable)
  const key = `node:${createHash("sha256").update(cert.fingerprint256).update("\n").update(signed).digest("hex")}`;
  if (!(await o.replay.firstUse(key, (ts + window + 1) * 1000, now))) return deny(401, "This signed request was already used (a replay).");
  return { ok: true, node: o.node };
}
