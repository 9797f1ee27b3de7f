# shellcheck shell=bash
# apt-ensure.sh (sourced): the one way the project's scripts install Debian's packages.
#
#   apt_ensure LOGDIR PACKAGE...   installs the packages not installed yet; returns at once
#                                  when all are there. Needs root only when something is missing.
#
# Several scripts install at the same moment on a fresh machine: the dev cloud, and the test
# files that each ensure their own tool (chromium, etcd, the OpenStack client), 3 at a time.
# apt-get does not wait for another apt-get's lock: it fails at once ("Could not get lock").
# So every installer here takes ONE lock, /var/lock/bayforge-apt.lock, and checks again under
# it; apt-get also waits for a lock held by anything else (unattended-upgrades) instead of failing.
# policy-rc.d answers 101 while it installs, so no maintainer script starts a system-wide
# service (keystone, heat, etcd on 2379...); it is created and removed under the same lock.

apt_missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
  done
}

apt_ensure() {
  local logs=$1; shift
  [ -n "$(apt_missing "$@")" ] || return 0
  [ "$(id -u)" -eq 0 ] || { echo "not installed: $(apt_missing "$@" | tr '\n' ' '); run once as root to install them" >&2; return 1; }
  mkdir -p "$logs"
  (
    exec 9>/var/lock/bayforge-apt.lock
    flock 9
    mapfile -t todo < <(apt_missing "$@")
    [ ${#todo[@]} -gt 0 ] || exit 0
    echo "installing Debian's ${todo[*]}" >&2
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt=(apt-get -o DPkg::Lock::Timeout=600 -qq)
    # The package lists may be missing or stale on a fresh machine: update only then.
    if ! "${apt[@]}" install -y --no-install-recommends "${todo[@]}" >"$logs/apt-install.log" 2>&1; then
      "${apt[@]}" update >"$logs/apt-update.log" 2>&1 || { tail -20 "$logs/apt-update.log" >&2; exit 1; }
      "${apt[@]}" install -y --no-install-recommends "${todo[@]}" >"$logs/apt-install.log" 2>&1 \
        || { tail -20 "$logs/apt-install.log" >&2; exit 1; }
    fi
    left=$(apt_missing "${todo[@]}" | tr '\n' ' ')
    [ -z "$left" ] || { echo "installed ${todo[*]} but $left still missing" >&2; exit 1; }
  )
}
