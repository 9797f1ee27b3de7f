#!/bin/bash
# PID 1 of a node sandbox (scripts/devcloud/node-simulator/sandbox.ts), run by `unshare
# --mount --uts --pid --fork` (and --net, unless the caller made the node's network
# namespace itself): makes the namespaces look like the node, then runs the user_data parts
# the way cloud-init's scripts-user does (each its own process, in name order, the later
# ones even after one failed). With KEEP_RUNNING in WORK, the node then stays up (its
# services keep serving) until it is killed. Everything it started dies when it exits.
#   boot.sh ROOT WORK HOSTNAME ADDRESS...
set -euo pipefail
root=$1 work=$2 host=$3
shift 3

ip link set lo up
for address in "$@"; do ip addr add "$address/32" dev lo; done
hostname "$host"

# The node's filesystem: this machine's /usr read-only, its own /usr/local (the stand-ins),
# a private /proc and a minimal /dev.
mount --bind /usr "$root/usr"
mount -o remount,bind,ro "$root/usr"
mount --bind "$root/.usr-local" "$root/usr/local"
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=755 tmpfs "$root/dev"
for dev in null zero random urandom full; do
  touch "$root/dev/$dev"
  mount --bind "/dev/$dev" "$root/dev/$dev"
done
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mkdir -p "$root/dev/shm" "$root/dev/pts"
while IFS=' ' read -r link target; do
  mkdir -p "$(dirname "$root$link")"
  ln -s "$target" "$root$link"
done <"$work/dev-links"

node "$work/forward.mjs" "$work/forwards.json" "$work/forward.ready" >"$work/forward.log" 2>&1 &
for _ in $(seq 100); do
  [ -e "$work/forward.ready" ] && break
  sleep 0.05
done
[ -e "$work/forward.ready" ] || { cat "$work/forward.log" >&2; exit 1; }

# What cloud-init-output.log would show, where the caller wants it (a per-node log).
console=$work/console.log
[ -e "$work/console-path" ] && console=$(cat "$work/console-path")
for part in "$root"/var/lib/cloud/instance/scripts/part-*; do
  name=$(basename "$part")
  echo "=== $name started $(date -u +%FT%TZ)" >>"$console"
  set +e
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    "/var/lib/cloud/instance/scripts/$name" >"$work/$name.out" 2>&1
  code=$?
  set -e
  head -c 1048576 "$work/$name.out" >>"$console"
  echo "=== $name exited $code $(date -u +%FT%TZ)" >>"$console"
  echo "$name $code" >>"$work/exit-codes"
done
touch "$work/parts-done"

if [ -e "$work/KEEP_RUNNING" ]; then
  # The node is up: its services (etcd, the API stand-in, the forwarders) keep serving.
  # bash as PID 1 reaps the orphans they leave.
  trap 'exit 0' TERM
  while :; do
    sleep 3600 &
    wait $! || true
  done
fi
