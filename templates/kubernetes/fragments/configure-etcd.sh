#!/bin/bash
# Bayforge master boot: this master's etcd member. The members find each other through the
# bay's discovery_url (Bayforge's own /v1/discovery endpoint unless the bay named one),
# speak TLS with certificates signed by the bay's CA, and run as a system container
# (etcd_tag, from container_infra_prefix or quay.io/coreos) that systemd keeps up.
# kube-apiserver on each master uses its local member (kubeadm's "external etcd").
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_begin configure-etcd

name=$(bf_node_name)
image="${CONTAINER_INFRA_PREFIX:-quay.io/coreos/}etcd:$ETCD_TAG"
mkdir -p /etc/etcd /var/lib/etcd
chmod 0700 /var/lib/etcd
cat >/etc/etcd/etcd.conf.yml <<YAML
# Written by Bayforge's boot fragments (configure-etcd.sh).
name: $name
data-dir: /var/lib/etcd
discovery: $ETCD_DISCOVERY_URL
initial-cluster-state: new
listen-peer-urls: https://$KUBE_NODE_IP:2380
initial-advertise-peer-urls: https://$KUBE_NODE_IP:2380
listen-client-urls: https://$KUBE_NODE_IP:2379,https://127.0.0.1:2379
advertise-client-urls: https://$KUBE_NODE_IP:2379
client-transport-security:
  cert-file: $BF_PKI/etcd/server.crt
  key-file: $BF_PKI/etcd/server.key
  trusted-ca-file: $BF_PKI/etcd/ca.crt
  client-cert-auth: true
peer-transport-security:
  cert-file: $BF_PKI/etcd/peer.crt
  key-file: $BF_PKI/etcd/peer.key
  trusted-ca-file: $BF_PKI/etcd/ca.crt
  client-cert-auth: true
# the JSON gateway (off by default in a config file): the first master writes kubeadm's
# cluster-admins binding through it (configure-kubernetes-master.sh)
enable-grpc-gateway: true
YAML

# etcd reaches the discovery URL itself: it gets the bay's proxies.
env_args=""
while IFS= read -r line; do
  env_args+=" --env $line"
done </etc/bayforge/proxy.env
cat >/etc/systemd/system/etcd.service <<UNIT
[Unit]
Description=etcd member of the bay's Kubernetes control plane (Bayforge)
After=containerd.service network-online.target
Requires=containerd.service
Wants=network-online.target

[Service]
ExecStartPre=/usr/bin/crictl --runtime-endpoint unix:///run/containerd/containerd.sock pull $image
ExecStartPre=-/usr/bin/ctr -n k8s.io task kill -s KILL bayforge-etcd
ExecStartPre=-/usr/bin/ctr -n k8s.io container rm bayforge-etcd
ExecStart=/usr/bin/ctr -n k8s.io run --rm --net-host$env_args \\
  --mount type=bind,src=/var/lib/etcd,dst=/var/lib/etcd,options=rbind:rw \\
  --mount type=bind,src=/etc/etcd,dst=/etc/etcd,options=rbind:ro \\
  --mount type=bind,src=$BF_PKI/etcd,dst=$BF_PKI/etcd,options=rbind:ro \\
  $image bayforge-etcd /usr/local/bin/etcd --config-file=/etc/etcd/etcd.conf.yml
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable etcd
systemctl start etcd

# With master_count > 1, etcd starts serving once every master has registered.
etcd_healthy() {
  curl -fsS --max-time 5 --cacert "$BF_PKI/etcd/ca.crt" --cert "$BF_PKI/apiserver-etcd-client.crt" \
    --key "$BF_PKI/apiserver-etcd-client.key" https://127.0.0.1:2379/health | grep -q '"health":"true"'
}
bf_wait 1800 "etcd becoming healthy (every master registering at $ETCD_DISCOVERY_URL, see journalctl -u etcd)" etcd_healthy
echo "configure-etcd: done"
