#!/bin/bash
# Bayforge boot: containerd as the kubelet needs it (systemd cgroups), pulling through the
# bay's proxies, from the container_infra_prefix registry, and trusting the baymodel's
# insecure_registry.
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_begin configure-containerd

prefix=${CONTAINER_INFRA_PREFIX:-registry.k8s.io/}
mkdir -p /etc/containerd/certs.d
cat >/etc/containerd/config.toml <<TOML
# Written by Bayforge's boot fragments (configure-containerd.sh).
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${prefix%/}/pause:3.10.1"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
TOML

if [ -n "$INSECURE_REGISTRY_URL" ]; then
  host=${INSECURE_REGISTRY_URL#*://}
  host=${host%%/*}
  mkdir -p "/etc/containerd/certs.d/$host"
  cat >"/etc/containerd/certs.d/$host/hosts.toml" <<TOML
server = "http://$host"

[host."http://$host"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
TOML
fi

mkdir -p /etc/systemd/system/containerd.service.d
cat >/etc/systemd/system/containerd.service.d/bayforge-proxy.conf <<'UNIT'
[Service]
EnvironmentFile=/etc/bayforge/proxy.env
UNIT
systemctl daemon-reload
systemctl enable containerd
systemctl restart containerd
bf_wait 120 "containerd answering on /run/containerd/containerd.sock" ctr --address /run/containerd/containerd.sock version
echo "configure-containerd: done"
