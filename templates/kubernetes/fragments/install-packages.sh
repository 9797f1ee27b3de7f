#!/bin/bash
# Bayforge boot: the container runtime (containerd from Ubuntu's archive) and kubeadm,
# kubelet, kubectl at the bay's kube_tag from pkgs.k8s.io, or from the mirror the
# kube_apt_mirror label names. An image that already carries that kubeadm is used as it is.
# shellcheck source=/dev/null
. /usr/local/lib/bayforge/boot-lib.sh
bf_begin install-packages

version=${KUBE_TAG#v}
minor=$(echo "$version" | cut -d. -f1,2)
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  bf_fail "kube_tag \"$KUBE_TAG\" is not a Kubernetes release such as v1.35.8"

if command -v kubeadm >/dev/null && [ "$(kubeadm version -o short 2>/dev/null)" = "v$version" ] &&
  command -v kubelet >/dev/null && command -v containerd >/dev/null; then
  echo "install-packages: kubeadm v$version and containerd come with the image"
else
  export DEBIAN_FRONTEND=noninteractive GNUPGHOME="$BF_STATE/gnupg"
  install -d -m 0700 "$GNUPGHOME"
  repo="${KUBE_APT_MIRROR%/}/core:/stable:/v$minor/deb"
  mkdir -p /etc/apt/keyrings /etc/apt/sources.list.d
  curl -fsSL --retry 5 --retry-delay 5 "$repo/Release.key" -o "$BF_STATE/kubernetes-release.key" ||
    bf_fail "could not download the Kubernetes package key from $repo/Release.key (check kube_apt_mirror and the proxies)"
  gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg "$BF_STATE/kubernetes-release.key"
  echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] $repo/ /" >/etc/apt/sources.list.d/kubernetes.list
  apt-get update -q || bf_fail "apt-get update failed: check the image's archive, $repo and the proxies"
  apt-get install -y -q --no-install-recommends containerd \
    "kubelet=$version-*" "kubeadm=$version-*" "kubectl=$version-*" ||
    bf_fail "could not install containerd and Kubernetes $version from $repo (is kube_tag $KUBE_TAG published there?)"
  apt-mark hold kubelet kubeadm kubectl
fi
systemctl enable kubelet
echo "install-packages: done"
