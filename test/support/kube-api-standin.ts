// A stand-in for a bay's Kubernetes API (no real cluster runs here): HTTPS with a server
// certificate signed by the bay's CA, client certificates required and verified against that
// CA (as kube-apiserver's --client-ca-file does), every request recorded with the
// certificate's subject. What it answers is the test's: a handler per request.
import type { ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import type { AddressInfo } from "node:net";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signCsr } from "../../shared/certs/sign-csr.ts";

export interface KubeCall {
  method: string;
  /** path and query */
  path: string;
  contentType: string | undefined;
  body: unknown;
  /** the verified client certificate's subject, e.g. "O=system:nodes, CN=system:node:x" */
  client: string;
}

export interface KubeAnswer {
  status: number;
  body?: unknown;
  /** writes the answer itself instead (a hostile or broken API: a body too large, a stream) */
  raw?: (res: ServerResponse) => void;
}

export interface KubeApiStandin {
  calls: KubeCall[];
  /** https://127.0.0.1:<port> when listening on TCP */
  url: string | undefined;
  close(): Promise<void>;
}

export interface KubeApiStandinOptions {
  /** the bay's CA (PEM): client certificates must chain to it */
  ca: string;
  /** server certificate and key (PEM), signed by that CA */
  cert: string;
  key: string;
  /** a unix socket path, or TCP on 127.0.0.1 (port 0: any) */
  listen: { socket: string } | { port: number };
  handle(call: KubeCall): KubeAnswer | Promise<KubeAnswer>;
}

export async function startKubeApiStandin(o: KubeApiStandinOptions): Promise<KubeApiStandin> {
  const calls: KubeCall[] = [];
  const server: Server = createServer({ ca: o.ca, cert: o.cert, key: o.key, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const subject = peer?.subject ? Object.entries(peer.subject).map(([k, v]) => `${k}=${v}`).join(", ") : "";
      const call: KubeCall = { method: req.method ?? "", path: req.url ?? "", contentType: req.headers["content-type"], body: text ? JSON.parse(text) : undefined, client: subject };
      calls.push(call);
      const answer = await o.handle(call);
      if (answer.raw) return answer.raw(res);
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if ("socket" in o.listen) server.listen(o.listen.socket, resolve);
    else server.listen(o.listen.port, "127.0.0.1", resolve);
  });
  const address = server.address();
  return {
    calls,
    url: address && typeof address === "object" ? `https://127.0.0.1:${(address as AddressInfo).port}` : undefined,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A serving certificate for a stand-in at 127.0.0.1 (CN kube-apiserver), signed by the bay's
 * CA as kubeadm's would be: its key made and its CSR written by openssl.
 */
export function standinServingCertificate(ca: { caCertPem: string; caKeyPem: string }): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "bf-kube-standin-"));
  try {
    const key = execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], { encoding: "utf8" });
    const keyFile = join(dir, "server.key");
    writeFileSync(keyFile, key, { mode: 0o600 });
    const csr = execFileSync("openssl", ["req", "-new", "-key", keyFile, "-subj", "/CN=kube-apiserver", "-addext", "subjectAltName=IP:127.0.0.1"], { encoding: "utf8" });
    return { cert: signCsr({ caCertPem: ca.caCertPem, caKeyPem: ca.caKeyPem, csrPem: csr }), key };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
