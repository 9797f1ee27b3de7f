#!/bin/bash
# Bayforge minion boot: the kubelet's certificates, the Magnum way. The node fetches the
# bay's CA certificate, makes its own keys and has Bayforge sign its CSRs (GET and POST
# /v1/certificates with the bay's bootstrap token); the CA key never leaves Bayforge.
# The kubelet's client certificate is its identity in the cluster (system:node:<name>):
# with the CA key outside the cluster, kubeadm's TLS bootstrap could not sign it.
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_begin make-certs-minion

name=$(bf_node_name)
endpoint="https://$(bf_api_host):6443"
bf_fetch_ca
bf_kubelet_certs
bf_kubelet_kubeconfig /etc/kubernetes/kubelet.conf "$endpoint"
# kubeadm join discovers the cluster through this file; as it carries credentials (the
# same identity), kubeadm needs no bootstrap token.
bf_kubeconfig /etc/kubernetes/discovery.conf "$endpoint" "system:node:$name" "$BF_STATE/kubelet-client.crt" "$BF_STATE/kubelet-client.key"
rm -f "$BF_STATE/kubelet-client.key"
echo "make-certs-minion: done"
