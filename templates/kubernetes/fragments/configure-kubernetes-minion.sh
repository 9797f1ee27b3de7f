#!/bin/bash
# Bayforge minion boot: join the cluster. kubeadm discovers it through
# /etc/kubernetes/discovery.conf (the API endpoint, the bay's CA and this node's own
# Bayforge-signed identity, from make-certs-minion.sh), so no kubeadm token is involved.
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_begin configure-kubernetes-minion

name=$(bf_node_name)
api="https://$(bf_api_host):6443"
if bf_true "$REGISTRY_ENABLED"; then
  echo "configure-kubernetes-minion: registry_enabled is not served by these nodes (no Swift-backed registry on port $REGISTRY_PORT)" >&2
fi

# The first master publishes the kubelet configuration near the end of `kubeadm init`;
# a join before that fails, so wait for it, asking with this node's own identity.
kubelet_config_published() {
  curl -fsS -o /dev/null --max-time 10 --cacert "$BF_PKI/ca.crt" \
    --cert /var/lib/kubelet/pki/kubelet-client-current.pem \
    "$api/api/v1/namespaces/kube-system/configmaps/kubelet-config"
}
bf_wait 3600 "the Kubernetes API at $api publishing the kubelet configuration (the masters' kubeadm init)" kubelet_config_published

# A node group's labels and taints (API 1.14), registered once, when the node joins. They hold
# only Kubernetes' characters (letters, digits, "-", "_", ".", "/"): the API refuses others.
labels=""
if [ -n "${NODE_LABELS:-}" ]; then
  labels=$(printf '  - name: node-labels\n    value: "%s"' "$NODE_LABELS")
fi
taints=""
if [ -n "${NODE_TAINTS:-}" ]; then
  taints="  taints:"
  IFS=',' read -ra items <<<"$NODE_TAINTS"
  for t in "${items[@]}"; do
    effect=${t##*:}
    kv=${t%:*}
    key=${kv%%=*}
    value=""
    if [ "$kv" != "$key" ]; then value=${kv#*=}; fi
    taints+=$(printf '\n  - key: "%s"\n    value: "%s"\n    effect: %s' "$key" "$value" "$effect")
  done
fi

config=/etc/kubernetes/kubeadm.yaml
cat >"$config" <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  file:
    kubeConfigPath: /etc/kubernetes/discovery.conf
nodeRegistration:
  name: $name
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
  - name: node-ip
    value: "$KUBE_NODE_IP"
$labels
$taints
  ignorePreflightErrors:
  - FileAvailable--etc-kubernetes-kubelet.conf
  - FileAvailable--etc-kubernetes-pki-ca.crt
YAML
kubeadm join --config "$config" ||
  bf_fail "kubeadm join failed against $api (see $BF_LOG and journalctl -u kubelet)"
echo "configure-kubernetes-minion: done"
