#!/bin/bash
# Bayforge master boot: the control plane. The first master (index 0 of kube_masters)
# runs `kubeadm init`, the others `kubeadm join --control-plane`, all in external-CA mode
# (the certificates of make-certs-master.sh) with this master's etcd member, behind the
# API load balancer. tls_disabled bays also get Magnum's plain-HTTP API on kubernetes_port.
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_begin configure-kubernetes-master

name=$(bf_node_name)
api_host=$(bf_api_host)
if bf_true "$TLS_DISABLED" && [ "$MASTER_INDEX" != 0 ]; then
  bf_fail "tls_disabled bays have one master: without TLS the API load balancer only serves kubernetes_port, so masters cannot join each other. Use master_count 1 or a baymodel with TLS."
fi
image_repository=""
if [ -n "$CONTAINER_INFRA_PREFIX" ]; then image_repository="imageRepository: ${CONTAINER_INFRA_PREFIX%/}"; fi
allow_priv=false
sans=""
for ip in "$KUBE_API_PRIVATE_ADDRESS" "$KUBE_API_PUBLIC_ADDRESS"; do
  if [ -n "$ip" ]; then sans+="${sans:+, }\"$ip\""; fi
done
if bf_true "$KUBE_ALLOW_PRIV"; then allow_priv=true; fi

node_registration="nodeRegistration:
  name: $name
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
  - name: node-ip
    value: \"$KUBE_NODE_IP\""

# It holds the kubeadm token and the upload-certs key: root only.
config=/etc/kubernetes/kubeadm.yaml
install -m 0600 /dev/null "$config"
(
  if [ "$MASTER_INDEX" = 0 ]; then
    cat <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: "$(bf_kubeadm_token)"
  description: "Bayforge: lets the bay's other masters join"
  ttl: 2h0m0s
  usages: [signing, authentication]
  groups: ["system:bootstrappers:kubeadm:default-node-token"]
certificateKey: "$(bf_certificate_key)"
localAPIEndpoint:
  advertiseAddress: "$KUBE_NODE_IP"
  bindPort: 6443
$node_registration
timeouts:
  controlPlaneComponentHealthCheck: 10m0s
YAML
  else
    cat <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: "$api_host:6443"
    token: "$(bf_kubeadm_token)"
    caCertHashes: ["$(bf_ca_cert_hash)"]
controlPlane:
  localAPIEndpoint:
    advertiseAddress: "$KUBE_NODE_IP"
    bindPort: 6443
  certificateKey: "$(bf_certificate_key)"
$node_registration
timeouts:
  discovery: 1h0m0s
  controlPlaneComponentHealthCheck: 10m0s
YAML
  fi
  cat <<YAML
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: kubernetes
kubernetesVersion: "$KUBE_TAG"
controlPlaneEndpoint: "$api_host:6443"
certificatesDir: $BF_PKI
$image_repository
networking:
  serviceSubnet: "$PORTAL_NETWORK_CIDR"
  podSubnet: "$FLANNEL_NETWORK_CIDR"
  dnsDomain: cluster.local
etcd:
  external:
    endpoints: ["https://127.0.0.1:2379"]
    caFile: $BF_PKI/etcd/ca.crt
    certFile: $BF_PKI/apiserver-etcd-client.crt
    keyFile: $BF_PKI/apiserver-etcd-client.key
apiServer:
  certSANs: [$sans]
  extraArgs:
  - name: allow-privileged
    value: "$allow_priv"
controllerManager:
  extraArgs:
  - name: node-cidr-mask-size
    value: "$FLANNEL_NETWORK_SUBNETLEN"
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
rotateCertificates: false
serverTLSBootstrap: false
tlsCertFile: /var/lib/kubelet/pki/kubelet.crt
tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key
YAML
) >"$config"

# kubeadm binds admin.conf's group, kubeadm:cluster-admins, to cluster-admin with
# super-admin.conf (system:masters), a certificate no node gets from Bayforge. So the first
# master writes that ClusterRoleBinding into etcd itself before `kubeadm init` (through
# etcd's JSON gateway, with the API server's etcd client certificate; kube-apiserver reads
# JSON objects from etcd as well as protobuf), only where the key is still absent; kubeadm
# then finds it and goes on with admin.conf.
bind_cluster_admins() {
  local key=/registry/clusterrolebindings/kubeadm:cluster-admins request=$BF_STATE/cluster-admins.json answer
  python3 - "$key" >"$request" <<'PY'
import base64, json, sys, uuid, datetime
b64 = lambda s: base64.b64encode(s.encode()).decode()
binding = {
    "kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
    "metadata": {"name": "kubeadm:cluster-admins", "uid": str(uuid.uuid4()),
                 "creationTimestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
    "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "kubeadm:cluster-admins"}],
}
key = b64(sys.argv[1])
print(json.dumps({
    "compare": [{"key": key, "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
    "success": [{"request_put": {"key": key, "value": b64(json.dumps(binding))}}],
}))
PY
  answer=$(curl -sS --fail --max-time 30 --cacert "$BF_PKI/etcd/ca.crt" --cert "$BF_PKI/apiserver-etcd-client.crt" \
    --key "$BF_PKI/apiserver-etcd-client.key" --data-binary "@$request" https://127.0.0.1:2379/v3/kv/txn) ||
    bf_fail "could not write the kubeadm:cluster-admins ClusterRoleBinding into etcd"
  echo "kubeadm:cluster-admins bound to cluster-admin in etcd: $answer"
}

if [ "$MASTER_INDEX" = 0 ]; then
  bind_cluster_admins
  kubeadm init --config "$config" --upload-certs ||
    bf_fail "kubeadm init failed (see $BF_LOG and journalctl -u kubelet)"
else
  kubeadm join --config "$config" ||
    bf_fail "kubeadm join --control-plane failed: the first master must be up behind the API load balancer at $api_host:6443 (see $BF_LOG)"
fi

if bf_true "$TLS_DISABLED"; then
  # Magnum's tls_disabled: the API over plain HTTP without authentication on kubernetes_port
  # (kube-apiserver has no insecure port any more; kubectl proxy serves it with admin rights).
  cat >/etc/systemd/system/kube-api-insecure.service <<UNIT
[Unit]
Description=Kubernetes API over plain HTTP without authentication (tls_disabled bay, Bayforge)
After=kubelet.service

[Service]
ExecStart=/usr/bin/kubectl --kubeconfig=/etc/kubernetes/admin.conf proxy --address=0.0.0.0 --port=$KUBE_API_PORT --accept-hosts=.* --disable-filter=true
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --now kube-api-insecure.service
fi
echo "configure-kubernetes-master: done"
