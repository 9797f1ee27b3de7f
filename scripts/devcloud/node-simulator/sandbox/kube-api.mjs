// A stand-in for a master's Kubernetes API, run inside the node by the node simulator's
// `kubeadm init` / `kubeadm join` hook (no kube-apiserver runs here: kubeadm is a stand-in).
// It serves what the other nodes' boot fragments wait for, on the port kube-apiserver would
// use, with the certificates the master's fragments made (signed by the bay's CA through
// Bayforge): /healthz, /readyz, /livez, /version, and the kubelet-config ConfigMap kubeadm
// publishes. Client certificates are verified against the bay's CA, as kube-apiserver's
// --client-ca-file does; only the health endpoints answer without one. Every request is
// logged with the client's subject. With --plain it serves HTTP (a tls_disabled bay's
// kubectl proxy on kubernetes_port).
//   node kube-api.mjs --port 6443 --cert F --key F --ca F --version v1.35.8 [--plain]
import { readFileSync } from "node:fs";
import { createServer as createHttp } from "node:http";
import { createServer as createHttps } from "node:https";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({
  options: { port: { type: "string" }, cert: { type: "string" }, key: { type: "string" }, ca: { type: "string" }, version: { type: "string" }, plain: { type: "boolean" } },
});
const version = o.version ?? "v0.0.0";
const [major, minor] = version.replace(/^v/, "").split(".");
const open = new Set(["/healthz", "/readyz", "/livez", "/version"]);

function answer(req, res) {
  const tls = typeof req.socket.getPeerCertificate === "function";
  const peer = tls ? req.socket.getPeerCertificate() : undefined;
  const authorized = !tls || (req.socket.authorized && peer && peer.subject);
  const subject = peer?.subject ? Object.entries(peer.subject).map(([k, v]) => `${k}=${v}`).join(", ") : "anonymous";
  const path = (req.url ?? "/").split("?")[0];
  let status = 200;
  let body;
  if (!authorized && !open.has(path)) {
    status = 401;
    body = { kind: "Status", apiVersion: "v1", status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 };
  } else if (["/healthz", "/readyz", "/livez"].includes(path)) {
    body = "ok";
  } else if (path === "/version") {
    body = { major, minor, gitVersion: version, platform: "linux/amd64" };
  } else if (req.method === "GET" && path === "/api/v1/namespaces/kube-system/configmaps/kubelet-config") {
    body = { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "kubelet-config", namespace: "kube-system" }, data: { kubelet: "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n" } };
  } else {
    status = 404;
    body = { kind: "Status", apiVersion: "v1", status: "Failure", message: `${path} is not served by the node simulator's API stand-in`, reason: "NotFound", code: 404 };
  }
  console.log(`${new Date().toISOString()} ${req.method} ${req.url} ${status} ${subject}`);
  req.resume();
  res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json" });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

const server = o.plain
  ? createHttp(answer)
  : createHttps({ cert: readFileSync(o.cert), key: readFileSync(o.key), ca: readFileSync(o.ca), requestCert: true, rejectUnauthorized: false }, answer);
server.listen(Number(o.port), "0.0.0.0", () => console.log(`serving on :${o.port}${o.plain ? " (plain HTTP)" : ""}, Kubernetes ${version}`));
