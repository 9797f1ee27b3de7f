#!/bin/bash
# Bayforge master boot: the certificates of the control plane, the Magnum way. The bay's CA
# key never leaves Bayforge: this node fetches the CA certificate, makes every key itself
# and has Bayforge sign a CSR for each (GET and POST /v1/certificates with the bay's
# bootstrap token). Without ca.key kubeadm runs in external-CA mode, which needs every
# certificate and kubeconfig below; the service-account keys are kubeadm's own (not
# certificates), shared between masters by kubeadm's upload-certs.
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_begin make-certs-master

name=$(bf_node_name)
api_host=$(bf_api_host)
# The first address of the service network is the in-cluster "kubernetes" service.
service_ip=$(python3 -c 'import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1], strict=False)[1])' "$PORTAL_NETWORK_CIDR")

bf_fetch_ca
cp "$BF_PKI/ca.crt" "$BF_PKI/front-proxy-ca.crt"
mkdir -p "$BF_PKI/etcd"
cp "$BF_PKI/ca.crt" "$BF_PKI/etcd/ca.crt"

apiserver_sans="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
apiserver_sans+=",DNS:$name,IP:$service_ip,IP:$KUBE_NODE_IP,IP:127.0.0.1"
for ip in "$KUBE_API_PRIVATE_ADDRESS" "$KUBE_API_PUBLIC_ADDRESS"; do
  if [ -n "$ip" ]; then apiserver_sans+=",IP:$ip"; fi
done
bf_sign_cert "$BF_PKI/apiserver" "/CN=kube-apiserver" serverAuth "$apiserver_sans"
# kubeadm >= 1.29's group for the API server's calls to kubelets, bound to cluster-admin
bf_sign_cert "$BF_PKI/apiserver-kubelet-client" "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" clientAuth
bf_sign_cert "$BF_PKI/front-proxy-client" "/CN=front-proxy-client" clientAuth
bf_sign_cert "$BF_PKI/apiserver-etcd-client" "/CN=kube-apiserver-etcd-client" clientAuth
etcd_sans="DNS:$name,DNS:localhost,IP:$KUBE_NODE_IP,IP:127.0.0.1"
if [ -n "$ETCD_LB_ADDRESS" ]; then etcd_sans+=",IP:$ETCD_LB_ADDRESS"; fi
bf_sign_cert "$BF_PKI/etcd/server" "/CN=$name" serverAuth,clientAuth "$etcd_sans"
bf_sign_cert "$BF_PKI/etcd/peer" "/CN=$name" serverAuth,clientAuth "$etcd_sans"

# kubeconfigs: admin and kubelet talk to the control-plane endpoint, controller-manager
# and scheduler to their own master (what kubeadm checks in external-CA mode).
kc=$BF_STATE/kubeconfig
mkdir -p "$kc"
endpoint="https://$api_host:6443"
local_endpoint="https://$KUBE_NODE_IP:6443"
bf_sign_cert "$kc/admin" "/O=kubeadm:cluster-admins/CN=kubernetes-admin" clientAuth
bf_kubeconfig /etc/kubernetes/admin.conf "$endpoint" kubernetes-admin "$kc/admin.crt" "$kc/admin.key"
# No node gets system:masters from Bayforge (only the bay's owner does, through
# `openstack coe cluster config`). kubeadm's external-CA mode still wants super-admin.conf to
# exist: it carries the admin's identity, and is never needed, since the first master binds
# kubeadm:cluster-admins before `kubeadm init` (configure-kubernetes-master.sh).
bf_kubeconfig /etc/kubernetes/super-admin.conf "$endpoint" kubernetes-admin "$kc/admin.crt" "$kc/admin.key"
bf_sign_cert "$kc/controller-manager" "/CN=system:kube-controller-manager" clientAuth
bf_kubeconfig /etc/kubernetes/controller-manager.conf "$local_endpoint" system:kube-controller-manager "$kc/controller-manager.crt" "$kc/controller-manager.key"
bf_sign_cert "$kc/scheduler" "/CN=system:kube-scheduler" clientAuth
bf_kubeconfig /etc/kubernetes/scheduler.conf "$local_endpoint" system:kube-scheduler "$kc/scheduler.crt" "$kc/scheduler.key"
bf_kubelet_certs
bf_kubelet_kubeconfig /etc/kubernetes/kubelet.conf "$endpoint"
rm -f "$kc"/*.key "$BF_STATE"/kubelet-client.key
echo "make-certs-master: done"
