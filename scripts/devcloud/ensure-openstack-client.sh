#!/usr/bin/env bash
# ensure-openstack-client.sh: makes sure the real OpenStack command line client is installed
# as Debian ships it: python3-openstackclient with the magnum plugin (python3-magnumclient
# 4.x, `openstack coe ...`) and the heat plugin (python3-heatclient, `openstack stack ...`),
# plus the openssl CLI. For the tests that drive Bayforge with the unchanged client.
# Idempotent: returns at once when all are there. Prints the path of the `openstack` command.
# Installing needs root (the dev machines and CI run as root).
set -euo pipefail
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/apt-ensure.sh"

die() { echo "ensure-openstack-client: ERROR: $*" >&2; exit 1; }
logs=$(mktemp -d); trap 'rm -rf "$logs"' EXIT
apt_ensure "$logs" python3-openstackclient python3-magnumclient python3-heatclient openssl || die "could not install the client"
command -v openstack >/dev/null 2>&1 || die "the packages are installed but 'openstack' is not on PATH"
# Debian's python (the packages' libraries are there), never a pyenv/venv one.
/usr/bin/python3 -c 'import magnumclient.osc.plugin, heatclient.osc.plugin' 2>/dev/null \
  || die "the magnum/heat OSC plugins do not import with /usr/bin/python3"
command -v openstack
