#!/bin/bash
# Recording stand-in, inside the node sandbox (scripts/devcloud/node-simulator/sandbox.ts),
# for a command that cannot run on this machine: package installs, systemd, kernel settings,
# mounts, and kubeadm, kubelet, kubectl, containerd themselves. It appends its name and
# arguments to /var/log/standins.log (fields split by \x1f, records ended by \x1e) and
# succeeds, or does what the sandbox's caller hooked to it (hooks/command-<name>: e.g. the
# node simulator's `kubeadm init` starts a stand-in Kubernetes API; hooks/<unit>: what
# `systemctl start <unit>` does, e.g. run the real etcd).
name=$(basename "$0")
lib=/usr/local/lib/standins
{
  printf '%s' "$name"
  printf '\x1f%s' "$@"
  printf '\x1e'
} >>/var/log/standins.log

# What a package "install" puts on PATH: more stand-ins.
provide() {
  local cmd
  for cmd in "$@"; do ln -sf "$lib/standin" "/usr/local/bin/$cmd"; done
}

hook="$lib/hooks/command-$name"
if [ -x "$hook" ]; then "$hook" "$@" || exit; fi

case $name in
  apt-get)
    if [ "${1:-}" = install ]; then
      for arg in "$@"; do
        case ${arg%%=*} in
          kubeadm) provide kubeadm crictl && version=${arg#*=} && echo "${version%%-*}" >"$lib/kube-version" ;;
          kubelet) provide kubelet ;;
          kubectl) provide kubectl ;;
          containerd) provide containerd ctr ;;
        esac
      done
    fi ;;
  kubeadm)
    if [ "${1:-}" = version ]; then echo "v$(cat "$lib/kube-version")"; fi ;;
  systemctl)
    # A test may give a unit a hook: what starting it does here (e.g. run etcd itself).
    start=false
    case "${1:-}" in start | restart) start=true ;; enable) [ "${2:-}" = --now ] && start=true ;; esac
    if $start; then
      for unit in "$@"; do
        hook="$lib/hooks/${unit%.service}"
        if [ -x "$hook" ]; then setsid "$hook" </dev/null >>"/var/log/hook-${unit%.service}.log" 2>&1 & fi
      done
    fi ;;
esac
exit 0
