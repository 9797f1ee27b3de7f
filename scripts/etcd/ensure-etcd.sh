#!/usr/bin/env bash
# ensure-etcd.sh: makes sure Debian's etcd 3.4 server and client are installed, for the tests
# that bootstrap a real etcd cluster through Bayforge's discovery endpoint
# (test/integration/etcd-discovery.test.ts) or boot sandboxed nodes that register with one.
# Idempotent: returns at once when both are there. Prints the paths of etcd and etcdctl, one
# per line. Installing needs root (the dev machines and CI run as root); the package's own
# system-wide etcd on 127.0.0.1:2379 is never started (scripts/lib/apt-ensure.sh).
set -euo pipefail
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/apt-ensure.sh"

logs=$(mktemp -d); trap 'rm -rf "$logs"' EXIT
apt_ensure "$logs" etcd-server etcd-client || { echo "ensure-etcd: could not install etcd" >&2; exit 1; }
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then echo "ensure-etcd: etcd/etcdctl are installed but not on PATH" >&2; exit 1; fi
command -v etcd
command -v etcdctl
