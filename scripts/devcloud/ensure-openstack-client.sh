#!/usr/bin/env bash
# ensure-openstack-client.sh: makes sure the real OpenStack command line client is installed
# as Debian ships it: python3-openstackclient with the magnum plugin (python3-magnumclient
# 4.x, `openstack coe ...`) and the heat plugin (python3-heatclient, `openstack stack ...`),
# plus the openssl CLI. For the test that drives Bayforge with the unchanged client
# (test/e2e/openstack-client.test.ts). Idempotent: returns at once when all are there.
# Prints the path of the `openstack` command.
#
# Installing needs root (the dev machines and CI run as root).
set -euo pipefail

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"
PACKAGES=(python3-openstackclient python3-magnumclient python3-heatclient openssl)

log() { echo "ensure-openstack-client: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

missing() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
  done
}

if [ -n "$(missing)" ]; then
  [ "$(id -u)" -eq 0 ] || die "not installed: $(missing | tr '\n' ' '); run once as root to install them"
  # Several test processes may call this at once: one installs, the others wait for it.
  exec 9>/var/lock/bayforge-ensure-openstack-client.lock
  flock 9
  todo=$(missing | tr '\n' ' ')
  if [ -n "$todo" ]; then
    log "installing: $todo"
    logs=$(mktemp -d)
    trap 'rm -rf "$logs"' EXIT
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be missing or stale on a fresh machine; update only then.
    # shellcheck disable=SC2086 # $todo is a list of package names
    if ! apt-get install -y -qq --no-install-recommends $todo >"$logs/install.log" 2>&1; then
      apt-get update -qq >"$logs/update.log" 2>&1 || { tail -20 "$logs/update.log" >&2; exit 1; }
      # shellcheck disable=SC2086
      apt-get install -y -qq --no-install-recommends $todo >"$logs/install.log" 2>&1 \
        || { tail -20 "$logs/install.log" >&2; exit 1; }
    fi
    [ -z "$(missing)" ] || die "installed ${PACKAGES[*]} but $(missing | tr '\n' ' ') still missing"
  fi
fi
command -v openstack >/dev/null 2>&1 || die "the packages are installed but 'openstack' is not on PATH"
# Debian's python (the packages' libraries are there), never a pyenv/venv one.
/usr/bin/python3 -c 'import magnumclient.osc.plugin, heatclient.osc.plugin' 2>/dev/null \
  || die "the magnum/heat OSC plugins do not import with /usr/bin/python3"
command -v openstack
