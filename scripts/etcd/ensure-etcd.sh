#!/usr/bin/env bash
# ensure-etcd.sh: makes sure Debian's etcd 3.4 server and client are installed, for the test
# that bootstraps a real etcd cluster through Bayforge's discovery endpoint
# (test/integration/etcd-discovery.test.ts). Idempotent: returns at once when both binaries
# are there. Prints the paths of etcd and etcdctl, one per line.
#
# Installing needs root (the dev machines and CI run as root). The package's maintainer
# scripts would start a system-wide etcd on 127.0.0.1:2379; policy-rc.d keeps them from it,
# and the test runs its own members on other ports.
set -euo pipefail

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"
PACKAGES=(etcd-server etcd-client)

log() { echo "ensure-etcd: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

installed() { command -v etcd >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1; }

if ! installed; then
  [ "$(id -u)" -eq 0 ] || die "etcd is not installed (${PACKAGES[*]}); run once as root to install it"
  # Several test processes may call this at once: one installs, the others wait for it.
  exec 9>/var/lock/bayforge-ensure-etcd.lock
  flock 9
  if ! installed; then
    log "installing: ${PACKAGES[*]}"
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
      own_policy=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    logs=$(mktemp -d)
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be missing or stale on a fresh machine; update only then.
    if ! apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >"$logs/install.log" 2>&1; then
      apt-get update -qq >"$logs/update.log" 2>&1 || { tail -20 "$logs/update.log" >&2; exit 1; }
      apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >"$logs/install.log" 2>&1 \
        || { tail -20 "$logs/install.log" >&2; exit 1; }
    fi
    rm -rf "$logs"
    if [ $own_policy -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
    installed || die "installed ${PACKAGES[*]} but etcd/etcdctl are still not on PATH"
  fi
fi
command -v etcd
command -v etcdctl
