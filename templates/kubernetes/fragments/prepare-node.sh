#!/bin/bash
# Bayforge boot: what kubeadm expects of any node before the packages go in: the bay's
# proxies for apt, the kernel modules and sysctls of the pod network, no swap, and the
# Cinder volume (docker_volume_size) as the container runtime's storage.
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_begin prepare-node

# Proxies: apt reads its own configuration; the services read /etc/bayforge/proxy.env.
mkdir -p /etc/apt/apt.conf.d /etc/bayforge
rm -f /etc/apt/apt.conf.d/90bayforge-proxy
if [ -n "$HTTP_PROXY" ]; then echo "Acquire::http::Proxy \"$HTTP_PROXY\";" >>/etc/apt/apt.conf.d/90bayforge-proxy; fi
if [ -n "$HTTPS_PROXY" ]; then echo "Acquire::https::Proxy \"$HTTPS_PROXY\";" >>/etc/apt/apt.conf.d/90bayforge-proxy; fi
{
  if [ -n "$HTTP_PROXY" ]; then echo "HTTP_PROXY=$HTTP_PROXY"; fi
  if [ -n "$HTTPS_PROXY" ]; then echo "HTTPS_PROXY=$HTTPS_PROXY"; fi
  echo "NO_PROXY=$BF_NO_PROXY"
} >/etc/bayforge/proxy.env

mkdir -p /etc/modules-load.d /etc/sysctl.d
cat >/etc/modules-load.d/bayforge-kubernetes.conf <<'MODULES'
overlay
br_netfilter
MODULES
modprobe overlay
modprobe br_netfilter
cat >/etc/sysctl.d/90-bayforge-kubernetes.conf <<'SYSCTL'
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1
SYSCTL
sysctl --system >/dev/null

# The kubelet refuses to start with swap on (Ubuntu cloud images have none, some do).
swapoff -a
if [ -f /etc/fstab ]; then sed -i '/\sswap\s/ s/^[^#]/#&/' /etc/fstab; fi

# Container storage on the bay's Cinder volume: Nova names a virtio disk after the first 20
# characters of the volume's id.
if [ -n "$DOCKER_VOLUME" ]; then
  device="/dev/disk/by-id/virtio-${DOCKER_VOLUME:0:20}"
  bf_wait 300 "the container storage volume $DOCKER_VOLUME appearing as $device" test -e "$device"
  if [ -z "$(blkid -o value -s TYPE "$device" || true)" ]; then
    mkfs.ext4 -q -L containerd "$device"
  fi
  uuid=$(blkid -o value -s UUID "$device")
  mkdir -p /var/lib/containerd
  if ! grep -q " /var/lib/containerd " /etc/fstab 2>/dev/null; then
    echo "UUID=$uuid /var/lib/containerd ext4 defaults,nofail 0 2" >>/etc/fstab
  fi
  mount /var/lib/containerd
fi
echo "prepare-node: done"
